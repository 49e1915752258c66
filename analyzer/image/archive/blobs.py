"""Named blobs inside an image archive: the common interface, plain tars and directories.

Every source answers the same questions: which regular file does a name designate (links followed), what
small metadata blob is at a name, and give me these (large) blobs as streams. A plain tar is indexed once
(``tarfile`` seeks over the bodies) and then read at random; a directory is read file by file; a
compressed tar (``streamed.py``) is read in passes. Nothing is ever extracted to disk.

Paths are checked before anything is read at them: an absolute path, or ``..`` in a member name or a path
a manifest refers to, is an ArchiveError (link targets may use ``..`` while they stay inside).
"""

from __future__ import annotations

import posixpath
import tarfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

from analyzer.errors import ArchiveError
from analyzer.image.archive.compression import DECOMPRESSION_ERRORS
from analyzer.limits import (
    MAX_JSON_BYTES,
    InputLimitError,
    check_extended_size,
    check_member_size,
    pax_number,
)

MAX_JSON_TOTAL = 256 << 20
"""Cap on the JSON-looking members a compressed tar's first pass keeps: bounds memory on hostile input."""
LINK_HOPS = 16


class ArchivePathError(ArchiveError):
    """A member or referenced path that is absolute or climbs out with ``..``."""


def check_member_path(label: str, name: str) -> str:
    """The normalised archive path ``name``; ArchiveError if it is absolute or contains ``..``."""
    if name.startswith("/") or ".." in name.split("/"):
        raise ArchivePathError(f"{label}: unsafe path {name!r} in the archive (absolute or '..')")
    return posixpath.normpath(name)


# Not in typeshed: the "header" tarfile reads where the end-of-archive marker (a zero block) is.
_END_OF_ARCHIVE: type[Exception] = tarfile.EOFHeaderError  # type: ignore[attr-defined]


class StrictTarInfo(tarfile.TarInfo):
    """TarInfo for reading: a tar must end with its end-of-archive marker, and its headers must obey
    the limits both tar readers share (:mod:`analyzer.limits`).

    ``tarfile`` takes a file that stops at a header boundary, inside a header or at a garbage block for
    a complete archive, so a cut copy of a save or of a layer would read as a smaller, valid one. Every
    tar writer (Go's archive/tar, GNU tar, tarfile) writes the marker: its absence means truncation.
    ``tarfile`` also believes any size: a negative one loops over the same headers forever, a huge one
    skips for ever in stream mode, and a 2 GiB PAX header is read whole; ``size=abc`` reads as 0.
    """

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> StrictTarInfo:
        try:
            info = super().fromtarfile(archive)
        except _END_OF_ARCHIVE:
            raise
        except tarfile.HeaderError as exc:
            if archive.offset == 0:
                raise  # no tar at all: tarfile says why ("invalid header", "empty file")
            raise tarfile.ReadError(f"no end-of-archive marker: {exc}") from None
        _limited(check_member_size, info.size)
        return info

    def _proc_pax(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:
        _limited(check_extended_size, self.size)  # before tarfile reads the whole header into memory
        return super()._proc_pax(tarfile)  # type: ignore[misc, no-any-return]

    def _proc_gnulong(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:
        _limited(check_extended_size, self.size)
        return super()._proc_gnulong(tarfile)  # type: ignore[misc, no-any-return]

    def _apply_pax_info(self, pax_headers: dict[str, str], encoding: str, errors: str) -> None:
        for key in ("size", "mtime"):
            if key in pax_headers:
                _limited(pax_number, key, pax_headers[key])
        super()._apply_pax_info(pax_headers, encoding, errors)  # type: ignore[misc]


def _limited(check: object, *args: object) -> None:
    """Run a check of :mod:`analyzer.limits`; its complaint becomes the ReadError ``tarfile`` raises."""
    try:
        check(*args)  # type: ignore[operator]
    except InputLimitError as exc:
        raise tarfile.ReadError(str(exc)) from None


class _StrictEnd:
    """The file object ``tarfile`` streams from, refusing to be read on and on at its end.

    ``tarfile`` skips a body in stream mode by reading block after block; past the end each read gives
    nothing and the loop runs for as many blocks as the size field claims. A few reads at the end are
    normal (the end-of-archive marker); more mean a member runs past the data.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._empty = 0

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        if not data and n != 0:
            self._empty += 1
            if self._empty > 2:
                raise tarfile.ReadError("unexpected end of data: a member runs past the end of the tar")
        return data


def open_tar_stream(stream: BinaryIO) -> tarfile.TarFile:
    """A tar read front to back from ``stream`` (no seeking), strict about its end."""
    strict = cast(BinaryIO, _StrictEnd(stream))
    return tarfile.open(fileobj=strict, mode="r|", tarinfo=StrictTarInfo)


_OTHER = "other"


class MemberTable:
    """A tar's member names with their types and link targets: resolves names the way tar links them.

    Compact, because a hostile (or just huge) archive may have a million members: a regular member is
    stored as one int (where its header starts, for random access; 0 when unknown), a link as a
    (kind, target) tuple, anything else as one shared string. About 150 bytes per member.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._entries: dict[str, int | str | tuple[str, str]] = {}

    def add(self, info: tarfile.TarInfo, offset: int = 0) -> str:
        """Record ``info`` (its path checked first); return its normalised name."""
        name = check_member_path(self.label, info.name)
        if info.isreg():
            self._entries[name] = offset
        elif info.issym() or info.islnk():
            self._entries[name] = ("sym" if info.issym() else "lnk", info.linkname)
        else:
            self._entries[name] = _OTHER
        return name

    def offset(self, name: str) -> int:
        """Where the header of the regular member ``name`` starts (as given to :meth:`add`)."""
        found = self._entries[name]
        assert isinstance(found, int)
        return found

    def resolve(self, name: str) -> str | None:
        """The regular member ``name`` designates, or None."""
        for _ in range(LINK_HOPS):
            found = self._entries.get(name)
            if isinstance(found, int):
                return name
            if not isinstance(found, tuple):
                return None
            kind, target = found
            if kind == "sym":
                name = self._follow_symlink(name, target)
            else:
                name = check_member_path(self.label, target)
        raise ArchiveError(f"{self.label}: too many links from {name!r}")

    def _follow_symlink(self, member: str, target: str) -> str:
        # Docker 20.10 writes a duplicate layer as `<id>/layer.tar -> ../<first id>/layer.tar`: `..` is
        # fine in a link target as long as the result stays inside the archive.
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(member), target))
        if target.startswith("/") or joined == ".." or joined.startswith("../"):
            raise ArchivePathError(f"{self.label}: link {member!r} points outside the archive ({target!r})")
        return joined


class Source(ABC):
    """Blobs by archive path. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027 - most sources hold nothing open
        """Release open files."""

    @abstractmethod
    def resolve(self, name: str) -> str | None:
        """The path of the regular file ``name`` designates (links followed), or None if absent."""

    @abstractmethod
    def read_small(self, name: str) -> bytes:
        """The bytes of a metadata blob (at most MAX_JSON_BYTES)."""

    @abstractmethod
    def open_each(self, names: Sequence[str]) -> Iterator[tuple[str, BinaryIO]]:
        """Each distinct resolved name once, with a stream of its bytes, in the cheapest order."""

    @abstractmethod
    def open_in_order(self, names: Sequence[str]) -> Iterator[tuple[int, BinaryIO]]:
        """``(position, stream)`` for every position of ``names`` (repeats included), in that order."""

    def must_resolve(self, name: str, what: str) -> str:
        found = self.resolve(check_member_path(self.label, name))
        if found is None:
            raise ArchiveError(f"{self.label}: {what} {name!r} is missing from the archive")
        return found


class _RandomAccess(Source):
    """A source that can open any blob directly."""

    @abstractmethod
    def _open(self, name: str) -> BinaryIO: ...

    def read_small(self, name: str) -> bytes:
        with self._open(name) as stream:
            data = stream.read(MAX_JSON_BYTES + 1)
        if len(data) > MAX_JSON_BYTES:
            raise ArchiveError(f"{self.label}: {name!r} is too large for image metadata")
        return data

    def open_each(self, names: Sequence[str]) -> Iterator[tuple[str, BinaryIO]]:
        for name in dict.fromkeys(names):
            with self._open(name) as stream:
                yield name, stream

    def open_in_order(self, names: Sequence[str]) -> Iterator[tuple[int, BinaryIO]]:
        for position, name in enumerate(names):
            with self._open(name) as stream:
                yield position, stream


class TarIndexSource(_RandomAccess):
    """An uncompressed tar: indexed once (``tarfile`` seeks over the bodies), then read at random.

    Only each member's name, kind and header offset are kept, never its TarInfo: ``getmembers()``
    would hold a million TarInfo objects (some 700 MB) for an archive with a million members.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            self._tar = tarfile.open(path, mode="r:", tarinfo=StrictTarInfo)  # noqa: SIM115 - until close()
        except (tarfile.TarError, EOFError) as exc:
            raise ArchiveError(f"{self.label}: not a tar archive ({exc})") from None
        # Every path is checked here, before any body is read.
        self._table = MemberTable(self.label)
        try:
            while (info := self._tar.next()) is not None:
                self._table.add(info, info.offset)
                self._tar.members.clear()  # type: ignore[attr-defined]  # public since Python 2
        except (tarfile.TarError, EOFError) as exc:
            self._tar.close()
            raise ArchiveError(f"{self.label}: truncated or corrupt tar archive ({exc})") from None
        except ArchiveError:
            self._tar.close()
            raise

    def close(self) -> None:
        self._tar.close()

    def resolve(self, name: str) -> str | None:
        return self._table.resolve(name)

    def _open(self, name: str) -> BinaryIO:
        # Read the member's header again where it was: one seek, for the few members ever opened.
        tar = self._tar
        tar.fileobj.seek(self._table.offset(name))
        tar.offset = self._table.offset(name)
        with Guard(f"{self.label}: {name!r} is unreadable"):
            info = tar.next()
        tar.members.clear()  # type: ignore[attr-defined]
        if info is None or not info.isreg():
            raise ArchiveError(f"{self.label}: the archive changed while it was read ({name!r})")
        stream = tar.extractfile(info)
        assert stream is not None
        return cast(BinaryIO, stream)


class DirectorySource(_RandomAccess):
    """An OCI layout directory (or any directory holding an image's files)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._root = path.resolve()

    def resolve(self, name: str) -> str | None:
        full = (self._root / name).resolve()
        # A symlinked blob may point anywhere on disk; only files inside the layout count.
        if not full.is_relative_to(self._root):
            raise ArchivePathError(f"{self.label}: {name!r} points outside the directory")
        return full.relative_to(self._root).as_posix() if full.is_file() else None

    def _open(self, name: str) -> BinaryIO:
        try:
            return (self._root / name).open("rb")
        except OSError as exc:
            raise ArchiveError(f"{self.label}: cannot read {name!r}: {exc.strerror}") from None


def stream_members(tar: tarfile.TarFile, broken: str) -> Iterator[tarfile.TarInfo]:
    """The members of a tar opened in stream mode, holding on to none of them.

    ``for info in tar`` would keep every header in ``tar.members``: memory growing with the file count.
    A broken tar raises ``ArchiveError(f"{broken} ({reason})")``.
    """
    while True:
        with Guard(broken):
            info = tar.next()
        if info is None:
            return
        tar.members.clear()  # type: ignore[attr-defined]  # not in typeshed, but public since Python 2
        yield info


class Guard:
    """Turns the errors of a broken tar or compressed stream into ``ArchiveError(f"{broken} ({reason})")``."""

    def __init__(self, broken: str) -> None:
        self.broken = broken

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, ArchiveError):
            return
        if isinstance(exc, (tarfile.TarError, *DECOMPRESSION_ERRORS)):
            raise ArchiveError(f"{self.broken} ({exc})") from None
