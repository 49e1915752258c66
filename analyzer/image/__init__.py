"""Images that already exist, wherever they are: how they are read into :class:`~analyzer.model.Image`.

Modules:

- ``config`` — pure: the engine's history merged with the image configuration, chain IDs, the cheap
  exact ``empty_layer`` rule, the configuration fished out of a ``docker save`` stream.
- ``archive/`` — ``docker save`` tarballs (Docker and OCI formats, maybe compressed) and OCI layout
  directories, streamed, never extracted.
- ``layerstore`` — the engine's own layer database on disk (``layerdb/sha256/<chainID>/``), checked
  against the computed chain IDs (reads files only).
- ``source`` — :class:`ImageSource`, the one interface every origin of an image implements.
"""
