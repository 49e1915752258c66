"""One layer's file listing: the normalised entries of its tar and the secret-looking files in it.

A listing depends only on the layer's own tar, so it is what gets cached per diff_id and what every
source (export, archive, the layer store's tar-split data) produces; all cross-layer analysis starts
from listings. Whiteouts are resolved to the path they delete here, once.
"""

from __future__ import annotations

import posixpath
import sys
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, overload

from analyzer.contents import secrets
from analyzer.contents.tarstream import Header
from analyzer.i18n import N_
from analyzer.limits import MAX_MEMBER_SIZE

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

# Entry kinds.
FILE, HARDLINK, SYMLINK, DIR, WHITEOUT_KIND, OPAQUE_KIND, OTHER = "f", "h", "l", "d", "w", "o", "c"
_KINDS = {"0": FILE, "7": FILE, "1": HARDLINK, "2": SYMLINK, "5": DIR, "3": OTHER, "4": OTHER, "6": OTHER}


class Entry(NamedTuple):
    """One tar entry of a layer."""

    path: str
    """Absolute and normalised (``/usr/bin/x``). Whiteout: the path it deletes; opaque: the directory."""
    kind: str
    """``f`` file, ``h`` hard link, ``l`` symlink, ``d`` directory, ``w`` whiteout, ``o`` opaque
    directory marker, ``c`` device or FIFO."""
    size: int
    """The header's size field: the payload of a regular file, 0 for (nearly) everything else."""
    mtime: float
    link: str
    """Symlink target as written; hard link: the absolute path of the file it links to; else ``""``."""


class SecretHit(NamedTuple):
    """A secret-looking file (or ``.git`` directory) in a layer."""

    path: str
    label: str


class LayerListing:
    """Everything layermap keeps about one layer's tar: its entries, packed in columns.

        A layer can hold a million files, so an entry is not kept as an object: each column is an
        ``array`` (or one byte string for every name, one for every link target), about 50 bytes per entry
        against some 200 for an :class:`Entry` tuple and its strings (link targets are kept for the entries
    that have one only). A path is its parent directory (an
        index into :attr:`dirs`, the layer's distinct parents) and its last name. :attr:`entries` gives the
        :class:`Entry` view, made on demand; the analyses read the columns.
    """

    __slots__ = (
        "_dir",
        "_kind",
        "_link_at",
        "_link_end",
        "_links",
        "_mtime",
        "_name_end",
        "_names",
        "_size",
        "diff_id",
        "dirs",
        "secrets",
    )
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self, diff_id: str, entries: Iterable[Entry] = (), secrets: Iterable[SecretHit] = ()
    ) -> None:
        self.diff_id = diff_id
        self.secrets: tuple[SecretHit, ...] = tuple(secrets)
        self.dirs: list[str] = []
        """The distinct parent directories (``""`` is the root), in order of first use."""
        self._dir = array("I")
        self._name_end = array("Q")
        self._names = bytearray()
        self._kind = bytearray()
        self._size = array("q")
        self._mtime = array("d")
        self._link_at = array("Q")  # the entries that have a link target (most have none), in order
        self._link_end = array("Q")
        self._links = bytearray()
        dir_index: dict[str, int] = {}
        for entry in entries:
            self._append(entry, dir_index)

    def _append(self, entry: Entry, dir_index: dict[str, int]) -> None:
        parent, _, name = entry.path.rpartition("/")
        index = dir_index.get(parent)
        if index is None:
            index = dir_index[parent] = len(self.dirs)
            self.dirs.append(parent)
        self._dir.append(index)
        self._names += name.encode("utf-8", "surrogatepass")  # every str round-trips, escapes too
        self._name_end.append(len(self._names))
        self._kind.append(ord(entry.kind))  # one character, else TypeError
        self._size.append(entry.size)
        self._mtime.append(entry.mtime)
        if entry.link:
            self._link_at.append(len(self._kind) - 1)
            self._links += entry.link.encode("utf-8", "surrogatepass")
            self._link_end.append(len(self._links))

    def renamed(self, diff_id: str) -> LayerListing:
        """The same listing under another diff_id (columns shared, not copied)."""
        other = LayerListing.__new__(LayerListing)
        for slot in _SLOTS:
            setattr(other, slot, getattr(self, slot))
        other.diff_id = diff_id
        return other

    # ------------------------------------------------------------------ columns

    def __len__(self) -> int:
        return len(self._kind)

    @property
    def kinds(self) -> bytes | bytearray:
        """One ASCII kind letter per entry (``ord("f")``…)."""
        return self._kind

    @property
    def sizes(self) -> array[int]:
        return self._size

    @property
    def mtimes(self) -> array[float]:
        return self._mtime

    @property
    def parents(self) -> array[int]:
        """Per entry, the index of its parent directory in :attr:`dirs`."""
        return self._dir

    def name_bytes(self, index: int) -> bytes:
        """The last name of entry ``index``, UTF-8 encoded (``surrogatepass``: lone surrogates too)."""
        start = self._name_end[index - 1] if index else 0
        return bytes(self._names[start : self._name_end[index]])

    def path(self, index: int) -> str:
        start = self._name_end[index - 1] if index else 0
        name = self._names[start : self._name_end[index]].decode("utf-8", "surrogatepass")
        return f"{self.dirs[self._dir[index]]}/{name}"

    def link(self, index: int) -> str:
        at = bisect_left(self._link_at, index)
        if at == len(self._link_at) or self._link_at[at] != index:
            return ""
        start = self._link_end[at - 1] if at else 0
        return self._links[start : self._link_end[at]].decode("utf-8", "surrogatepass")

    def entry(self, index: int) -> Entry:
        return Entry(
            self.path(index), chr(self._kind[index]), self._size[index], self._mtime[index], self.link(index)
        )

    def docker_size(self, index: int) -> int:
        """:func:`docker_size` of entry ``index``."""
        kind = self._kind[index]
        if kind == _FILE:
            return self._size[index]
        if kind == _SYMLINK:
            return len(self.link(index).encode("utf-8", "surrogateescape"))
        return 0

    @property
    def entries(self) -> Entries:
        """The entries as :class:`Entry` tuples, in tar order (made as they are read)."""
        return Entries(self)

    # ------------------------------------------------------------------ serialised form

    def columns(self) -> dict[str, bytes]:
        """The packed columns as little-endian bytes (the cache's format)."""
        out = {}
        for name, column in self._arrays().items():
            if isinstance(column, array) and sys.byteorder != "little":
                column = array(column.typecode, column)
                column.byteswap()
            out[name] = bytes(column)
        return out

    @classmethod
    def from_columns(
        cls, diff_id: str, dirs: list[str], columns: Mapping[str, bytes], secrets: Iterable[SecretHit] = ()
    ) -> LayerListing:
        """The listing :meth:`columns` packed; ValueError when the columns do not fit together."""
        listing = cls(diff_id, (), secrets)
        listing.dirs = list(dirs)
        for name, column in listing._arrays().items():
            data = columns[name]
            if isinstance(column, array):
                if len(data) % column.itemsize:
                    raise ValueError(f"column {name} is cut off")
                column.frombytes(data)
                if sys.byteorder != "little":
                    column.byteswap()
            else:
                column += data
        listing._check()
        return listing

    def _arrays(self) -> dict[str, array[Any] | bytearray]:
        return {
            "dir": self._dir,
            "name_end": self._name_end,
            "names": self._names,
            "kind": self._kind,
            "size": self._size,
            "mtime": self._mtime,
            "link_at": self._link_at,
            "link_end": self._link_end,
            "links": self._links,
        }

    def _check(self) -> None:
        count = len(self._kind)
        if any(len(c) != count for c in (self._dir, self._name_end, self._size, self._mtime)) or len(
            self._link_at
        ) != len(self._link_end):
            raise ValueError("columns of different lengths")
        at = self._link_at
        if at and (at[-1] >= count or any(a >= b for a, b in zip(at, at[1:], strict=False))):
            raise ValueError("link targets out of order")
        if count and (max(self._dir) >= len(self.dirs) or not set(self._kind) <= _KIND_CODES):
            raise ValueError("an entry out of range")
        if count and (min(self._size) < 0 or max(self._size) > MAX_MEMBER_SIZE):
            raise ValueError("a size out of range")
        for ends, blob in ((self._name_end, self._names), (self._link_end, self._links)):
            if (ends[-1] if ends else 0) != len(blob) or any(
                a > b for a, b in zip(ends, ends[1:], strict=False)
            ):
                raise ValueError("name offsets out of order")
        self._names.decode("utf-8", "surrogatepass")  # ValueError (UnicodeDecodeError) when broken
        self._links.decode("utf-8", "surrogatepass")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LayerListing):
            return NotImplemented
        return (
            self.diff_id == other.diff_id
            and self.secrets == other.secrets
            and len(self) == len(other)
            and self.entries == other.entries
        )

    def __repr__(self) -> str:
        return f"LayerListing({self.diff_id!r}, <{len(self)} entries>, {self.secrets!r})"


_SLOTS = tuple(slot for slot in LayerListing.__slots__ if slot != "diff_id")
_FILE, _SYMLINK = ord(FILE), ord(SYMLINK)
_KIND_CODES = frozenset(map(ord, "fhldwoc"))


class Entries(Sequence[Entry]):
    """A listing's entries as :class:`Entry` tuples, made when read; equal to another listing's entries
    or to a tuple of the same entries."""

    __slots__ = ("_listing",)

    def __init__(self, listing: LayerListing) -> None:
        self._listing = listing

    def __len__(self) -> int:
        return len(self._listing)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Entry, ...]: ...

    def __getitem__(self, index: int | slice) -> Entry | tuple[Entry, ...]:
        if isinstance(index, slice):
            return tuple(self._listing.entry(i) for i in range(len(self))[index])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._listing.entry(index)

    def __iter__(self) -> Iterator[Entry]:
        entry = self._listing.entry
        return (entry(i) for i in range(len(self._listing)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (Entries, tuple)):  # as the tuple it replaces: never equal to a list
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Entries({tuple(self)!r})"


def docker_size(entry: Entry) -> int:
    """What the entry adds to the layer size ``docker history`` shows (engine-facts: apparent size of
    non-directories, symlinks by their target's length, hard links and whiteouts nothing)."""
    if entry.kind == FILE:
        return entry.size
    if entry.kind == SYMLINK:
        return len(entry.link.encode("utf-8", "surrogateescape"))
    return 0


def _normal(name: str) -> str:
    """``./usr/bin/`` → ``/usr/bin``; ``..`` cannot climb above ``/``."""
    path = "/" + name.strip("/").removeprefix("./")
    if "//" in path or "/./" in path or "/../" in path or path.endswith(("/.", "/..")):
        path = posixpath.normpath(path).replace("//", "/")
        if path.startswith("/.."):
            path = "/" + path.lstrip("/.")
    return path


def entry_of(header: Header) -> Entry | None:
    """The normalised entry for a tar header (None for the root directory and AUFS metadata)."""
    path = _normal(header.name)
    if path == "/":
        return None
    parent, _, base = path.rpartition("/")
    if base.startswith(WHITEOUT):
        if base == OPAQUE:
            return Entry(parent or "/", OPAQUE_KIND, 0, header.mtime, "")
        if base.startswith(WHITEOUT + WHITEOUT):
            return None  # AUFS hard-link bookkeeping (.wh..wh.plnk), never part of the image's files
        return Entry(f"{parent}/{base[len(WHITEOUT) :]}", WHITEOUT_KIND, 0, header.mtime, "")
    kind = _KINDS.get(header.type, FILE)
    link = header.linkname
    if kind == HARDLINK:
        link = _normal(link)
    elif kind != SYMLINK:
        link = ""
    return Entry(path, kind, header.size, header.mtime, link)


HeadReader = Callable[[Entry, int], bytes]
"""``head(entry, n)``: up to ``n`` first bytes of a regular file's content, read when it is needed."""


def build_listing(diff_id: str, headers: Iterable[Header], head: HeadReader) -> LayerListing:
    """Normalise a layer's headers and find its secret-looking files.

    ``head`` is called only for secret candidates whose name alone does not decide, and only while
    ``headers`` is positioned on that entry (a streaming reader can still read its body).
    """
    listing = LayerListing(diff_id)
    dirs: dict[str, int] = {}
    hits: dict[str, str] = {}
    for header in headers:
        entry = entry_of(header)
        if entry is None:
            continue
        listing._append(entry, dirs)  # the Entry itself is dropped: only its columns stay
        if ".git" in entry.path:  # checked inline: this loop runs for every entry of every layer
            git = secrets.git_dir(entry.path)
            if git is not None and entry.kind not in (WHITEOUT_KIND, OPAQUE_KIND):
                hits.setdefault(git, N_("git repository directory"))
        if entry.kind != FILE:
            continue
        found = secrets.candidate(entry.path)
        if found is None:
            continue
        content = head(entry, found.head_bytes) if found.head_bytes else b""
        if secrets.confirm(entry.path, found, content):
            hits[entry.path] = found.label
    listing.secrets = tuple(SecretHit(p, label) for p, label in hits.items())
    return listing
