"""One layer's file listing: the normalised entries of its tar and the secret-looking files in it.

A listing depends only on the layer's own tar, so it is what gets cached per diff_id and what every
source (export, archive, the layer store's tar-split data) produces; all cross-layer analysis starts
from listings. Whiteouts are resolved to the path they delete here, once.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from analyzer.contents import secrets
from analyzer.contents.tarstream import Header
from analyzer.i18n import N_

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


@dataclass(frozen=True)
class LayerListing:
    """Everything layermap keeps about one layer's tar."""

    diff_id: str
    entries: tuple[Entry, ...]
    secrets: tuple[SecretHit, ...] = ()


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
    entries: list[Entry] = []
    hits: dict[str, str] = {}
    for header in headers:
        entry = entry_of(header)
        if entry is None:
            continue
        entries.append(entry)
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
    return LayerListing(diff_id, tuple(entries), tuple(SecretHit(p, label) for p, label in hits.items()))
