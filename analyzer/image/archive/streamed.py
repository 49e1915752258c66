"""A compressed image archive (``docker save | gzip``), read front to back in passes.

A compressed tar has no index and cannot seek, so the first pass records every member's type and link
target and keeps the JSON-looking members (manifests, indexes and configs may come after the layers, and
in the OCI format a blob's name does not say what it is); later passes stream the layers. Memory stays
bounded by the metadata, whatever the size of the layers.
"""

from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

from analyzer.errors import ArchiveError
from analyzer.image.archive.blobs import (
    MAX_JSON_TOTAL,
    Guard,
    MemberTable,
    Source,
    open_tar_stream,
    stream_members,
)
from analyzer.image.archive.compression import decompressed
from analyzer.limits import MAX_JSON_BYTES


class TarStreamSource(Source):
    """A compressed tar (``docker save | gzip``): no index, so it is read front to back, in passes.

    The first pass records every member's type and link target and keeps the JSON-looking members up to
    MAX_JSON_BYTES each (manifests, indexes and configs may come after the layers, and in the OCI format
    a blob's name does not say what it is). Layers are streamed by later passes.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._table = MemberTable(self.label)
        self._small: dict[str, bytes] = {}
        self._broken = f"{self.label}: truncated or corrupt archive"
        self._scan()

    def _members(self) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
        with self.path.open("rb") as raw:
            stream, _ = decompressed(raw)
            with stream:
                with Guard(self._broken):
                    # Only the open is guarded: errors raised by the consumer pass through unchanged.
                    tar = open_tar_stream(stream)
                with tar:
                    for info in stream_members(tar, self._broken):
                        yield tar, info

    def _scan(self) -> None:
        kept = 0
        for tar, info in self._members():
            name = self._table.add(info)
            if not info.isreg() or info.size > MAX_JSON_BYTES:
                continue
            with Guard(self._broken):
                body = tar.extractfile(info)
                assert body is not None
                head = body.read(1)
                if head not in (b"{", b"["):  # JSON metadata, never a layer (tar, gzip or zstd)
                    continue
                kept += info.size
                if kept > MAX_JSON_TOTAL:
                    raise ArchiveError(f"{self.label}: more than {MAX_JSON_TOTAL} bytes of JSON members")
                self._small[name] = head + body.read()

    def resolve(self, name: str) -> str | None:
        return self._table.resolve(name)

    def read_small(self, name: str) -> bytes:
        try:
            return self._small[name]
        except KeyError:
            raise ArchiveError(
                f"{self.label}: {name!r} is not image metadata (not JSON, or too large)"
            ) from None

    def open_each(self, names: Sequence[str]) -> Iterator[tuple[str, BinaryIO]]:
        wanted = set(names)
        if not wanted:
            return
        for tar, info in self._members():
            name = posixpath.normpath(info.name)
            if name in wanted and info.isreg():
                wanted.discard(name)
                body = tar.extractfile(info)
                assert body is not None
                yield name, cast(BinaryIO, body)
                if not wanted:
                    return
        raise ArchiveError(f"{self.label}: the archive changed while it was read ({sorted(wanted)[0]!r})")

    def open_in_order(self, names: Sequence[str]) -> Iterator[tuple[int, BinaryIO]]:
        # Without random access, each pass serves the positions it meets in order; a blob that comes
        # before the previous one in the tar (Docker 20.10 orders layer dirs by id) needs another pass.
        position = 0
        while position < len(names):
            start = position
            for tar, info in self._members():
                name = posixpath.normpath(info.name)
                if name == names[position] and info.isreg():
                    body = tar.extractfile(info)
                    assert body is not None
                    yield position, cast(BinaryIO, body)
                    position += 1
                    if position == len(names):
                        return
            if position == start:
                raise ArchiveError(f"{self.label}: the archive changed while it was read ({names[start]!r})")
