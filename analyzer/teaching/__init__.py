"""Views for learning how instructions become layers.

Modules:

- ``predict`` — pure, no engine: per line, layer / metadata entry / nothing for a builder, with the
  reason; "depends" where the filesystem decides.
- ``explain`` — pure: prediction against measurement per line, surprises spelled out, and a paragraph
  per step built only from measured data.

The layer database view reads the engine's files and so lives with the other image origins
(``image/layerstore.py``); its rendering is in ``render/layers/`` (``layermap layers`` and the reports'
``--layers`` section).
"""
