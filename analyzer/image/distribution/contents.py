"""``--contents`` for an image in a registry: each layer blob streamed once through the contents reader.

A blob is decompressed as it arrives (gzip or zstd, told by its first bytes, whatever the media type
claims) and its tar parsed by the same streaming reader as an export; nothing is written to disk and
memory does not grow with the layer. Two digests are checked on the way: the compressed bytes against
the manifest's blob digest (and size), the tar against the config's diff_id. Listings are cached by
diff_id like any other source's, so a second run downloads nothing.

The report built from metadata alone had unknown sizes: they are filled in here from the files
(``docker history`` counting), and the summary recomputed.
"""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import IO, TYPE_CHECKING, cast

import zstandard

from analyzer.contents import DEFAULT_TOP, add_contents
from analyzer.contents.cache import ListingCache
from analyzer.contents.feeds import ChunkFeed
from analyzer.contents.listing import LayerListing, build_listing
from analyzer.contents.tarstream import HashFeed, TarFormatError, TarReader
from analyzer.image.distribution.client import RegistryClient, RegistryError, VerifiedStream
from analyzer.mapping.align.common import summarize
from analyzer.model import Report, Step, StepLayer

if TYPE_CHECKING:
    from analyzer.image.registry import Blob, RegistryImage

_GZIP, _ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip wrapper: zlib reads each header and checks CRC and length
_PIECE = 1 << 20


def registry_contents(source: RegistryImage, report: Report, top_n: int = DEFAULT_TOP) -> Report:
    """``report`` with contents (and now known sizes) read from the registry."""
    if report.image is None:
        return report
    listings = registry_listings(source, ListingCache.from_env())
    sizes = [sum(map(listing.docker_size, range(len(listing)))) for listing in listings]
    return add_contents(with_sizes(report, source, sizes), listings, top_n)


def registry_listings(source: RegistryImage, cache: ListingCache) -> list[LayerListing]:
    """The listing of every layer (index order): from the cache, else its blob, each blob once."""
    remote = source.remote
    diff_ids = [layer.diff_id for layer in source.image.layers]
    found: dict[str, LayerListing] = {}
    for diff_id in diff_ids:
        cached = cache.get(diff_id)
        if cached is not None:
            found[diff_id] = cached
    missing = [(d, b) for d, b in zip(diff_ids, remote.layers, strict=True) if d not in found]
    if missing:
        # The client that read the manifest: it knows the scheme and holds the token already.
        client = source.client or RegistryClient(remote.ref, source.options)
        try:
            for diff_id, blob in missing:
                if diff_id not in found:
                    found[diff_id] = blob_listing(client, blob, diff_id)
                    cache.put(found[diff_id])
        finally:
            client.close()
    return [found[d] for d in diff_ids]


def blob_listing(client: RegistryClient, blob: Blob, diff_id: str) -> LayerListing:
    """Stream one layer blob and list its tar; both digests checked."""
    label = f"{client.ref}: layer blob {blob.digest}"
    with client.open_blob(blob.digest, blob.size, "layer blob") as raw:
        sha = hashlib.sha256()
        try:
            feed = HashFeed(ChunkFeed(_decompressed(raw)), sha.update)
            reader = TarReader(feed)
            listing = build_listing(diff_id, reader, lambda _entry, n: reader.head(n))
            feed.drain()
        except (TarFormatError, OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
            raise RegistryError(f"{label} is not a readable layer ({exc})") from None
        raw.drain()  # the digest is checked once every byte went through
    found = "sha256:" + sha.hexdigest()
    if found != diff_id:
        raise RegistryError(f"{label} unpacks to a tar with digest {found}, the config says {diff_id}")
    return listing


def _decompressed(raw: VerifiedStream) -> Iterator[bytes]:
    """The blob's uncompressed bytes in pieces of at most 1 MiB: gzip or zstd, told by the first bytes
    whatever the media type claims, else the blob itself (an uncompressed tar, allowed by the OCI spec)."""
    first = raw.read(_PIECE)
    if first.startswith(_GZIP):
        with contextlib.closing(raw.chunks(_PIECE)) as rest:
            yield from _gunzip(first, rest)
    elif first.startswith(_ZSTD):
        # Frames may be concatenated (parallel compressors write several): read across them.
        source = cast(IO[bytes], _Prefixed(first, raw))
        with zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True) as reader:
            while piece := reader.read(_PIECE):
                yield piece
    else:
        if first:
            yield first
        with contextlib.closing(raw.chunks(_PIECE)) as rest:
            yield from rest


def _gunzip(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """gzip members one after another; zlib reads each member's header and checks its CRC and length.

    Compressed pieces of 1 MiB in, uncompressed pieces of at most 1 MiB out: none of ``gzip.GzipFile``'s
    per-call overhead (8 KiB reads through three Python layers, a separate CRC pass), and memory bounded
    whatever the compression ratio.
    """
    inflater = zlib.decompressobj(_GZIP_WBITS)
    in_member = False  # input of the current member went in and its end was not reached yet
    data = first
    while True:
        if not data:
            data = next(rest, b"")
            if not data:
                break
        in_member = True
        piece = inflater.decompress(data, _PIECE)
        if piece:
            yield piece
        if inflater.eof:  # the member ended: what follows must be another one (zlib checks its header)
            data, in_member = inflater.unused_data, False
            inflater = zlib.decompressobj(_GZIP_WBITS)
        else:
            data = inflater.unconsumed_tail
    if in_member:
        last = inflater.flush()
        if last:
            yield last
        if not inflater.eof:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")


class _Prefixed:
    """A binary stream that first gives back the bytes already read to sniff the compression."""

    def __init__(self, head: bytes, rest: VerifiedStream) -> None:
        self._head = head
        self._rest = rest

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                data, self._head = self._head + self._rest.read(-1), b""
                return data
            data, self._head = self._head[:n], self._head[n:]
            return data
        return bytes(self._rest.read(n))

    def readable(self) -> bool:
        return True


def with_sizes(report: Report, source: RegistryImage, sizes: Sequence[int]) -> Report:
    """``report`` with the unpacked layer sizes now known: image, history, steps and summary."""
    from analyzer.image.registry import SIZES_UNKNOWN, image_of

    image = image_of(source.remote, sizes)
    by_history = {entry.index: entry.size for entry in image.history}
    steps = tuple(_sized(step, by_history, sizes) if step.in_final_image else step for step in report.steps)
    base = report.base
    if base is not None and base.id is None and base.layer_count:
        base = replace(base, size=sum(sizes[: base.layer_count]))
    warnings = tuple(w for w in report.warnings if w != SIZES_UNKNOWN)
    summary = summarize(image, base, steps)
    return replace(report, image=image, steps=steps, base=base, summary=summary, warnings=warnings)


def _sized(step: Step, by_history: Mapping[int, int], sizes: Sequence[int]) -> Step:
    if step.layer is not None and step.history is not None:
        layer = StepLayer(step.layer.index, step.layer.diff_id, by_history[step.history.index])
        return replace(step, layer=layer)
    if step.inherited_layers is not None:  # a FROM line: the base's layers, now with their sizes
        return replace(step, inherited_size=sum(sizes[: step.inherited_layers]))
    return step
