"""Transparent decompression of a byte stream, chosen by its magic bytes.

Media types lie in practice (a Docker 25 save of the classic store labels uncompressed blobs with OCI
types, other tools mislabel gzip), so the first bytes decide, never the declared type.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from typing import BinaryIO, cast

import zstandard

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
_MAGIC_LEN = 6

DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # gzip.BadGzipFile, truncated files
    EOFError,  # a gzip/bz2/xz stream that ends before its end marker
    zstandard.ZstdError,
    lzma.LZMAError,
)


class _Prefixed(io.RawIOBase):
    """Replays bytes already read from a non-seekable stream, then continues with the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def compression_of(head: bytes) -> str:
    """``gzip``, ``zstd``, ``bzip2``, ``xz`` or ``none`` for a stream starting with ``head``."""
    for name, magic in (("gzip", GZIP_MAGIC), ("zstd", ZSTD_MAGIC), ("bzip2", BZIP2_MAGIC), ("xz", XZ_MAGIC)):
        if head.startswith(magic):
            return name
    return "none"


def _read_head(stream: BinaryIO) -> bytes:
    head = b""
    while len(head) < _MAGIC_LEN:
        chunk = stream.read(_MAGIC_LEN - len(head))
        if not chunk:
            break
        head += chunk
    return head


def decompressed(stream: BinaryIO) -> tuple[BinaryIO, str]:
    """A reader of ``stream``'s uncompressed bytes, and the compression's name.

    The caller keeps owning ``stream`` (closing the reader does not close it).
    """
    head = _read_head(stream)
    kind = compression_of(head)
    raw = cast(BinaryIO, io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 16))
    if kind == "gzip":
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb")), kind
    if kind == "zstd":
        # Frames may be concatenated (parallel compressors write several): read across them.
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        return cast(BinaryIO, reader), kind
    if kind == "bzip2":
        return cast(BinaryIO, bz2.BZ2File(raw, mode="rb")), kind
    if kind == "xz":
        return cast(BinaryIO, lzma.LZMAFile(raw, mode="rb")), kind
    return raw, kind
