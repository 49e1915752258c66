"""Image archives: ``docker save`` tarballs (Docker and OCI formats, maybe gzip/zstd-compressed) and OCI
layout directories, read into :class:`~analyzer.model.Image` without an engine and without extracting.

Public API:

- :func:`read_image` — history (with ``empty_layer``), layers (diff_id, chain_id, ``docker history``
  size), tags, ONBUILD triggers and the raw config of one image in the archive;
- :func:`iter_layer_members` — every tar entry of every layer, in layer order, streamed;
- :func:`is_archive_path` — does a command-line argument name an archive rather than an image?

Modules: ``blobs``/``streamed`` (blobs by path in a plain tar, a directory or a compressed tar),
``compression`` (by magic bytes), ``manifest`` (which images, where their blobs are), ``layers`` (one
layer blob: entries, size, digest), ``reader`` (the above, assembled).
"""

from __future__ import annotations

from pathlib import Path

from analyzer.image.archive.layers import entry_size
from analyzer.image.archive.reader import iter_layer_members, read_image
from analyzer.image.config import chain_ids

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst")


def is_archive_path(arg: str) -> bool:
    """True when ``arg`` names an image archive (``*.tar``, ``*.tar.gz``, ``*.tgz``, ``*.tar.zst``, even
    one that does not exist, so the user hears "no such file" rather than "no such image") or an
    existing OCI layout directory."""
    if arg.lower().endswith(ARCHIVE_SUFFIXES):
        return True
    path = Path(arg)
    return path.is_dir() and (path / "oci-layout").is_file()


__all__ = [
    "ARCHIVE_SUFFIXES",
    "chain_ids",
    "entry_size",
    "is_archive_path",
    "iter_layer_members",
    "read_image",
]
