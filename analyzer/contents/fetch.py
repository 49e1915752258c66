"""Layer listings from wherever the layers are: the cache, the engine's layer store, an export, an
archive. Whatever the source, the listings are the same (tested), so they are cached by diff_id.

An export (``docker save``) and a saved archive are read the same way, as one stream: every member that
may be a layer (``*/layer.tar``, ``blobs/sha256/*``) is parsed as it passes — decompressed when it is
gzip or zstd — and identified by the sha256 of its uncompressed tar, which *is* its diff_id. So the
members may come in any order and ``manifest.json`` (last in a Docker 20.10 save) is never needed.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Protocol, cast

import zstandard

from analyzer.contents import localstore
from analyzer.contents.cache import ListingCache
from analyzer.contents.listing import LayerListing, build_listing
from analyzer.contents.tarstream import (
    ChunkFeed,
    Feed,
    FeedFile,
    FileFeed,
    HashFeed,
    Sink,
    TarFormatError,
    TarReader,
)
from analyzer.errors import ArchiveError, EngineError, UsageError
from analyzer.model import EngineInfo, Image

SOURCE_ENV = "LAYERMAP_CONTENTS_SOURCE"
"""``auto`` (default: the layer store when readable, else an export), ``layerdb`` (only the layer
store: an error if it cannot be read) or ``export``."""
_GZIP, _ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
_DECOMPRESS_ERRORS = (OSError, EOFError, zstandard.ZstdError)


class Exporter(Protocol):
    """What sources need from :class:`~analyzer.engine.client.Engine`."""

    address: str

    def info(self) -> EngineInfo: ...

    def export(self, image_id: str) -> Iterator[bytes]: ...


def engine_listings(
    engine: Exporter, image: Image, cache: ListingCache, via: str | None = None
) -> list[LayerListing]:
    """The listing of every layer of ``image`` (index order), from the cache, the layer store or an
    export, in that order of preference; new listings are cached."""
    via = (via or os.environ.get(SOURCE_ENV) or "auto").strip().lower()
    if via not in ("auto", "layerdb", "export"):
        raise UsageError(f"{SOURCE_ENV}={via}: expected auto, layerdb or export")
    found = _cached(image.diff_ids, cache)
    missing = _missing(image.diff_ids, found)
    if missing and via != "export":
        local = localstore.read_layers(engine.info(), image, missing)
        if via == "layerdb" and set(local) != set(missing):
            raise EngineError(f"the engine's layer store at {engine.info().data_root} is not readable here")
        _store(local, found, cache)
        missing = _missing(image.diff_ids, found)
    if missing:
        _store(_exported(engine, image.id, missing), found, cache)
        _require(found, image.diff_ids, f"the export of {image.id} from {engine.address}", EngineError)
    return [found[diff_id] for diff_id in image.diff_ids]


def _exported(engine: Exporter, image_id: str, wanted: Sequence[str]) -> dict[str, LayerListing]:
    chunks = engine.export(image_id)
    try:
        return scan_save(ChunkFeed(chunks), wanted)
    except ArchiveError as exc:
        raise EngineError(f"the export of {image_id} from {engine.address}: {exc.message}") from None
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()  # stop the download when the wanted layers came before the end


def archive_listings(path: str | Path, image: Image, cache: ListingCache) -> list[LayerListing]:
    """The listing of every layer of ``image`` read from a saved archive or an OCI layout directory."""
    found = _cached(image.diff_ids, cache)
    missing = _missing(image.diff_ids, found)
    path = Path(path)
    if missing and path.is_dir():
        root = path.resolve()
        for blob in sorted((path / "blobs").rglob("*")):
            # A symlinked blob may point anywhere on disk: as for the image itself, only files inside
            # the layout are read (and a FIFO or device is never opened: is_file() is False for them).
            if blob.is_symlink() and not blob.resolve().is_relative_to(root):
                raise ArchiveError(
                    f"{path}: {blob.relative_to(path).as_posix()!r} points outside the directory"
                )
            if blob.is_file() and missing:
                with blob.open("rb") as stream:
                    listing = _scan_blob(FileFeed(stream), set(missing), str(blob))
                if listing is not None:
                    _store({listing.diff_id: listing}, found, cache)
                    missing = _missing(image.diff_ids, found)
    elif missing:
        with path.open("rb") as raw, _decompressed(raw) as (stream, seekable):
            _store(scan_save(FileFeed(stream, seekable=seekable), missing), found, cache)
    _require(found, image.diff_ids, str(path))
    return [found[diff_id] for diff_id in image.diff_ids]


def scan_save(feed: Feed, wanted: Sequence[str]) -> dict[str, LayerListing]:
    """Listings of the ``wanted`` layers found in a ``docker save`` stream (Docker or OCI layout);
    stops reading once all are found."""
    left = set(wanted)
    found: dict[str, LayerListing] = {}
    outer = TarReader(feed)
    try:
        for member in outer:
            if member.type not in "07" or not _may_be_layer(member.name):
                continue
            body = outer.body()
            listing = _scan_blob(body, left, member.name)
            body.skip(body.remaining)
            if listing is not None:
                found[listing.diff_id] = listing
                left.discard(listing.diff_id)
                if not left:
                    break
    except TarFormatError as exc:
        raise ArchiveError(f"the image stream is not a readable tar ({exc})") from None
    return found


def _may_be_layer(name: str) -> bool:
    return name.endswith("/layer.tar") or name == "layer.tar" or name.startswith(("blobs/", "./blobs/"))


def _scan_blob(body: Feed, wanted: set[str], label: str) -> LayerListing | None:
    """The listing of a layer blob (tar, gzip or zstd) if its diff_id is wanted; None otherwise.

    Another kind of blob (a config, a manifest) is recognised by its first bytes and passed over.
    """
    first = body.read(512)
    if not first or first[:1] in (b"{", b"["):
        return None
    sha = hashlib.sha256()
    source = _Prefixed(first, body)
    try:
        if first.startswith((_GZIP, _ZSTD)):
            with _opened(first, source) as stream:
                return _scan_tar(HashFeed(FileFeed(stream), sha.update), sha, wanted)
        return _scan_tar(HashFeed(source, sha.update), sha, wanted)
    except (TarFormatError, *_DECOMPRESS_ERRORS) as exc:
        if label.endswith("layer.tar"):
            raise ArchiveError(f"layer {label} is not a readable tar ({exc})") from None
        return None  # some other blob that happens not to start with JSON


def _scan_tar(feed: HashFeed, sha: hashlib._Hash, wanted: set[str]) -> LayerListing | None:
    reader = TarReader(feed)
    listing = build_listing("", reader, lambda _entry, n: reader.head(n))
    feed.drain()  # the end-of-archive blocks belong to the tar the diff_id hashes
    digest = "sha256:" + sha.hexdigest()
    return LayerListing(digest, listing.entries, listing.secrets) if digest in wanted else None


@contextlib.contextmanager
def _opened(first: bytes, source: Feed) -> Iterator[IO[bytes]]:
    raw = cast(IO[bytes], FeedFile(source))
    if first.startswith(_GZIP):
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            yield cast(IO[bytes], stream)
    else:
        # Frames may be concatenated (parallel compressors write several): read across them.
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        with reader:
            yield cast(IO[bytes], reader)


@contextlib.contextmanager
def _decompressed(raw: IO[bytes]) -> Iterator[tuple[IO[bytes], bool]]:
    """A whole archive file, decompressed when it is gzip or zstd (then it cannot seek)."""
    magic = raw.read(4)
    raw.seek(0)
    if magic.startswith(_GZIP):
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            yield cast(IO[bytes], stream), False
    elif magic.startswith(_ZSTD):
        with zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True) as reader:
            yield cast(IO[bytes], reader), False
    else:
        yield raw, True


class _Prefixed:
    """A feed that first serves bytes already read from another feed."""

    def __init__(self, head: bytes, feed: Feed) -> None:
        self._head = head
        self._feed = feed

    def read(self, n: int) -> bytes:
        if not self._head:
            return self._feed.read(n)
        data, self._head = self._head[:n], self._head[n:]
        return data + self._feed.read(n - len(data)) if len(data) < n else data

    def skip(self, n: int, sink: Sink | None = None) -> int:
        take = min(n, len(self._head))
        if take:
            if sink is not None:
                sink(memoryview(self._head)[:take])
            self._head = self._head[take:]
        return take + (self._feed.skip(n - take, sink) if n > take else 0)


def _cached(diff_ids: Sequence[str], cache: ListingCache) -> dict[str, LayerListing]:
    found = {}
    for diff_id in dict.fromkeys(diff_ids):
        listing = cache.get(diff_id)
        if listing is not None:
            found[diff_id] = listing
    return found


def _missing(diff_ids: Sequence[str], found: dict[str, LayerListing]) -> list[str]:
    return [d for d in dict.fromkeys(diff_ids) if d not in found]


def _store(new: dict[str, LayerListing], found: dict[str, LayerListing], cache: ListingCache) -> None:
    for diff_id, listing in new.items():
        found[diff_id] = listing
        cache.put(listing)


def _require(
    found: dict[str, LayerListing],
    diff_ids: Sequence[str],
    where: str,
    error: type[ArchiveError | EngineError] = ArchiveError,
) -> None:
    lost = [d for d in diff_ids if d not in found]
    if lost:
        raise error(f"{where} has no layer with diff_id {lost[0]}")


__all__ = ["SOURCE_ENV", "Exporter", "archive_listings", "engine_listings", "scan_save"]
