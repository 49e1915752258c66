"""The fast local path: layer listings from the overlay2 layer database, without an export.

For each layer the engine keeps ``image/overlay2/layerdb/sha256/<chainID>/tar-split.json.gz``: the
layer tar's exact header bytes ("segments", base64) interleaved with one record per file body, whose
bytes are not stored. Concatenating the segments gives a tar stream without bodies, which the same
header parser reads (``bodies=False``): listings are identical to an export's. The few secret
candidates whose first bytes matter are read from the layer's own directory
(``overlay2/<cache-id>/diff``), exactly the bytes an export would carry.

It is used only when the engine runs overlay2 and its data root is readable on this machine, and each
layer folder proves itself: its ``diff`` file must hold the diff_id it is looked up for.
"""

from __future__ import annotations

import json
import os
import zlib
from binascii import a2b_base64
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from analyzer.contents.listing import Entry, LayerListing, build_listing
from analyzer.contents.tarstream import ChunkFeed, TarFormatError, TarReader
from analyzer.model import EngineInfo, Image

_SEGMENT = b'{"type":2,"payload":"'
_FILE_RECORD = b'{"type":1,'
_BATCH = 1 << 18


class LocalStoreError(Exception):
    """A layer folder that cannot be read (the caller exports instead)."""


def read_layers(info: EngineInfo, image: Image, wanted: Sequence[str]) -> dict[str, LayerListing]:
    """Listings of the ``wanted`` diff_ids that this machine can read from the layer store."""
    if info.storage != "overlay2" or not info.data_root:
        return {}
    root = Path(info.data_root)
    left = set(wanted)
    found: dict[str, LayerListing] = {}
    for layer in image.layers:
        if layer.diff_id not in left:
            continue
        try:
            found[layer.diff_id] = read_layer(root, layer.chain_id, layer.diff_id)
        except LocalStoreError:
            continue
        left.discard(layer.diff_id)
    return found


def layer_folder(root: Path, chain_id: str) -> Path:
    return root / "image" / "overlay2" / "layerdb" / "sha256" / chain_id.split(":", 1)[-1]


def read_layer(root: Path, chain_id: str, diff_id: str) -> LayerListing:
    """One layer's listing from its layerdb folder; LocalStoreError when it cannot be trusted or read."""
    folder = layer_folder(root, chain_id)
    try:
        if (folder / "diff").read_text().strip() != diff_id:
            raise LocalStoreError(f"{folder} does not hold {diff_id}")
        cache_id = (folder / "cache-id").read_text().strip()
        diff_dir = root / "overlay2" / cache_id / "diff"
        reader = TarReader(ChunkFeed(segments(gzip_lines(folder / "tar-split.json.gz"))), bodies=False)
        return build_listing(diff_id, reader, lambda entry, n: read_head(diff_dir, entry, n))
    except (OSError, EOFError, ValueError, zlib.error, TarFormatError) as exc:
        raise LocalStoreError(f"{folder}: {exc}") from None


def segments(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The raw tar bytes (headers and padding) recorded in tar-split lines, in order, in batches."""
    batch: list[bytes] = []
    size = 0
    for line in lines:
        if line.startswith(_FILE_RECORD):  # a body's checksum record: the body is not stored anyway
            continue
        if line.startswith(_SEGMENT):  # the common shape, sliced without a JSON parse
            data = a2b_base64(line[len(_SEGMENT) : line.index(b'"', len(_SEGMENT))])
        elif line.strip():
            record = json.loads(line)
            if record.get("type") != 2 or not record.get("payload"):
                continue
            data = a2b_base64(record["payload"])
        else:
            continue
        batch.append(data)
        size += len(data)
        if size >= _BATCH:  # a few large chunks keep the header reader on its fast path
            yield b"".join(batch)
            batch, size = [], 0
    if batch:
        yield b"".join(batch)


def gzip_lines(path: Path) -> Iterator[bytes]:
    """The lines of a gzip file, decompressed in large blocks (several times faster than GzipFile)."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    rest = b""
    with path.open("rb") as raw:
        while block := raw.read(_BATCH):
            *lines, rest = (rest + inflate.decompress(block)).split(b"\n")
            yield from lines
    tail = rest + inflate.flush()
    if not inflate.eof:
        raise EOFError(f"{path}: truncated gzip data")
    yield from tail.split(b"\n")


def read_head(diff_dir: Path, entry: Entry, size: int) -> bytes:
    """The first ``size`` bytes of a regular file of the layer, from the layer's directory."""
    path = diff_dir / entry.path.lstrip("/")
    try:
        # O_NOFOLLOW: the entry is a regular file; anything else there is not the file the tar meant.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise LocalStoreError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as stream:
        return stream.read(size)
