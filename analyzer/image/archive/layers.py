"""One layer blob, streamed: its entries, its ``docker history`` size, and the digest of its tar.

A layer blob may be a plain tar, gzip or zstd (whatever its media type says). It is read once, front to
back, through ``tarfile``'s stream mode: file bodies are skipped, never kept, so memory does not depend
on the layer's size or file count.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast

from analyzer.image.archive.blobs import Guard, open_tar_stream, stream_members
from analyzer.image.archive.compression import decompressed

WHITEOUT_PREFIX = ".wh."


@dataclass(frozen=True)
class LayerScan:
    """What reading a layer blob once gives."""

    size: int
    """The size ``docker history`` shows for the layer (see :func:`entry_size`)."""
    digest: str
    """``sha256:`` digest of the uncompressed tar (what its diff_id must be)."""
    compression: str
    """``none``, ``gzip`` or ``zstd`` (from the blob's first bytes)."""
    blob_digest: str = ""
    """``sha256:`` digest of the blob as stored (compressed or not): what an OCI descriptor names."""
    blob_bytes: int = 0
    """Bytes of the blob as stored."""
    tar_bytes: int = 0
    """Bytes of the uncompressed tar: far more than ``blob_bytes`` means a decompression bomb."""


def entry_size(info: tarfile.TarInfo) -> int:
    """What one tar entry adds to the layer size ``docker history`` reports.

    The engine's size (overlay2 layerdb ``size``) is the apparent size of every non-directory in the
    applied layer, each inode once: a regular file counts its bytes, a symlink the length of its target,
    a hard link nothing more (its inode was counted with the file), and a whiteout (``.wh.<name>``, or
    ``.wh..wh..opq`` for an opaque directory) nothing: on disk it is a 0/0 device or an xattr.
    """
    if info.isdir() or info.islnk():
        return 0
    if posixpath.basename(info.name).startswith(WHITEOUT_PREFIX):
        return 0
    if info.issym():
        # tarfile decodes names with surrogateescape: this gives back the bytes the engine counts.
        return len(info.linkname.encode("utf-8", "surrogateescape"))
    if info.isreg():
        return info.size
    return 0  # devices, FIFOs: size 0 on disk


class _Hashing(io.RawIOBase):
    """Hashes and counts every byte read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        self.sha256.update(data)
        self.count += len(data)
        return len(data)

    def drain(self) -> str:
        """Read what tarfile left (the end-of-archive padding) and return the ``sha256:`` digest."""
        while self.readinto(bytearray(1 << 16)):
            pass
        return "sha256:" + self.sha256.hexdigest()


def layer_entries(blob: BinaryIO, broken: str) -> Iterator[tarfile.TarInfo]:
    """Each entry of the layer tar in ``blob`` (any compression); bodies are skipped, not read.

    A blob that is not a readable tar raises ``ArchiveError(f"{broken} (reason)")``.
    """
    with Guard(broken):
        stream, _ = decompressed(blob)
        tar = open_tar_stream(stream)  # closed by the with-block below
    with stream, tar:
        yield from stream_members(tar, broken)


def scan_layer(blob: BinaryIO, broken: str) -> LayerScan:
    """Size, diff_id and blob digest of the layer in ``blob``, in one streamed read.

    Both digests are always computed: a layer read from a stranger's archive is checked against what
    the config and the manifest say it is, never believed.
    """
    outer = _Hashing(blob)
    with Guard(broken):
        stream, compression = decompressed(cast(BinaryIO, outer))
        hashing = _Hashing(stream)
        tar = open_tar_stream(cast(BinaryIO, hashing))  # closed by the with-block below
        with stream, tar:
            size = sum(entry_size(info) for info in stream_members(tar, broken))
            found = hashing.drain()
        outer.drain()  # bytes after the compressed stream still belong to the blob
    return LayerScan(
        size=size,
        digest=found,
        compression=compression,
        blob_digest="sha256:" + outer.sha256.hexdigest(),
        blob_bytes=outer.count,
        tar_bytes=hashing.count,
    )
