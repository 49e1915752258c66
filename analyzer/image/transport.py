"""Where an image argument points, written as skopeo and podman users write it.

Transports (``TRANSPORT:DETAILS``, as in ``containers-transports(5)``):

- ``docker-daemon:REF`` — an image in the Docker engine;
- ``docker://REF`` — an image in a registry;
- ``docker-archive:PATH[:REF]`` — a ``docker save`` tarball (maybe compressed);
- ``oci-archive:PATH[:REF]`` — a tarred OCI layout (``docker save`` of Docker 25+ is one too);
- ``oci:DIR[:REF]`` — an OCI layout directory.

``REF`` picks one image of an archive holding several (a tag, name, platform or id prefix). A bare
argument is looked at: a directory with an ``oci-layout`` file is an OCI layout; a name ending in an
archive suffix (``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.zst``, ``.tar.xz``, ``.tar.bz2``) is an archive,
existing or not, so a broken or missing save is reported as such rather than as "no such image"; any
other existing file whose first bytes are a tar header or gzip/zstd/bzip2/xz magic is an archive (a save
written without a suffix); anything else is an engine image. ``-`` is an archive read from stdin.

Pure parsing plus a look at the argument's first bytes; nothing here imports the docker SDK.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from analyzer.errors import UsageError
from analyzer.image.archive.compression import BZIP2_MAGIC, GZIP_MAGIC, XZ_MAGIC, ZSTD_MAGIC

Kind = Literal["engine", "registry", "archive", "layout"]
STDIN = "-"
REGISTRY = "docker://"
PREFIXES: dict[str, Kind] = {
    "docker-daemon:": "engine",
    "docker-archive:": "archive",
    "oci-archive:": "archive",
    "oci:": "layout",
}
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz", ".tar.bz2")
_COMPRESSED = (GZIP_MAGIC, ZSTD_MAGIC, BZIP2_MAGIC, XZ_MAGIC)


@dataclass(frozen=True)
class Location:
    """One parsed image argument."""

    kind: Kind
    target: str
    """The engine or registry reference (``docker://…`` kept), or the archive / layout path."""
    ref: str | None = None
    """Which image of an archive or layout (``:REF`` or ``--image``); None: the only one."""
    stdin: bool = False
    """The archive came from stdin (``target`` is the spooled copy)."""

    @property
    def is_file(self) -> bool:
        """An archive or layout: read without an engine."""
        return self.kind in ("archive", "layout")

    @property
    def label(self) -> str:
        """How to name the source in messages (stdin is ``-``, not the temporary file)."""
        return STDIN if self.stdin else self.target


def parse(arg: str, image: str | None = None) -> Location:
    """The location ``arg`` names; ``image`` (``--image REF``) picks an image of an archive."""
    if arg == STDIN:
        return _with_ref(Location("archive", spool_stdin(), stdin=True), image)
    if arg.startswith(REGISTRY):
        return _no_ref(Location("registry", arg), image)
    for prefix, kind in PREFIXES.items():
        if arg.startswith(prefix):
            return _prefixed(kind, arg[len(prefix) :], arg, image)
    kind = sniff(arg)
    return _no_ref(Location(kind, arg), image) if kind == "engine" else _with_ref(Location(kind, arg), image)


def _prefixed(kind: Kind, rest: str, arg: str, image: str | None) -> Location:
    if not rest:
        raise UsageError(f"{arg}: nothing after the transport")
    if kind == "engine":
        return _no_ref(Location("engine", rest), image)
    path, ref = split_path(rest)
    if path == STDIN:
        return _with_ref(Location("archive", spool_stdin(), ref, stdin=True), image)
    if kind == "layout" and Path(path).exists() and not Path(path).is_dir():
        raise UsageError(f"{arg}: oci: names a directory (an OCI layout); use oci-archive: for a tar file")
    return _with_ref(Location(kind, path, ref), image)


def split_path(rest: str) -> tuple[str, str | None]:
    """``PATH[:REF]``: the whole text when it names an existing path, else the longest existing path
    before a ``:``, else split at the first ``:`` (as skopeo does: a reference may hold ``:`` itself,
    ``busybox:1.36``)."""
    if ":" not in rest or Path(rest).exists():
        return rest, None
    cuts = [i for i, char in enumerate(rest) if char == ":"]
    cut = next((i for i in reversed(cuts) if Path(rest[:i]).exists()), cuts[0])
    return rest[:cut], rest[cut + 1 :] or None


def _with_ref(location: Location, image: str | None) -> Location:
    if image is not None and location.ref is not None and image != location.ref:
        raise UsageError(f"--image {image} and :{location.ref} name different images; give one")
    return location if image is None else Location(location.kind, location.target, image, location.stdin)


def _no_ref(location: Location, image: str | None) -> Location:
    if image is not None:
        raise UsageError("--image picks an image of an archive or OCI layout, not of an engine or registry")
    return location


def sniff(arg: str) -> Kind:
    """A bare argument: an archive or layout by content, else an engine reference."""
    path = Path(arg)
    if path.is_dir():
        return "layout" if (path / "oci-layout").is_file() else "engine"
    if arg.lower().endswith(ARCHIVE_SUFFIXES):  # a broken or missing save must say so, not "no such image"
        return "archive"
    return "archive" if path.is_file() and looks_like_archive(path) else "engine"


def looks_like_archive(path: Path) -> bool:
    """A tar header (``ustar`` at offset 257) or a compression magic at the start of the file."""
    try:
        with path.open("rb") as stream:
            head = stream.read(512)
    except OSError:
        return False
    return head.startswith(_COMPRESSED) or head[257:262] == b"ustar"


def spool_stdin(stream: BinaryIO | None = None) -> str:
    """Copy stdin to a temporary file and return its path (removed when the process exits).

    The archive reader needs a file it can seek in: a ``docker save`` stream writes ``manifest.json``
    last, so which blobs are layers is known only at the end, and ``--contents`` reads the layers a
    second time. A pipe can be read once, front to back, so it is spooled to disk first (the size of
    the archive, in ``TMPDIR``)."""
    source = stream if stream is not None else sys.stdin.buffer
    if source.isatty():
        raise UsageError("-: stdin is a terminal; pipe an archive in (docker save IMAGE | layermap image -)")
    fd, name = tempfile.mkstemp(prefix="layermap-stdin-", suffix=".tar")
    atexit.register(_remove, name)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    except OSError as err:
        raise UsageError(f"-: cannot spool stdin to {name}: {err.strerror}") from None
    if os.path.getsize(name) == 0:
        raise UsageError("-: stdin is empty, not an image archive")
    return name


def _remove(name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name)
