"""From a build or an existing image to a :class:`~analyzer.model.Report`: which line made which layer.

Modules:

- ``align/`` — pure: which history entry and layer belongs to which instruction (classic chains of step
  images, or position in the final image's history).
- ``build`` — a build request → a report: parse, build through ``engine/``, read the stage images back,
  align. The only module that sequences engine calls for a build.
- ``existing`` — an image from any :class:`~analyzer.image.source.ImageSource` (+ an optional Dockerfile)
  → a report, aligned by history position.
"""
