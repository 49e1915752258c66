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
from analyzer.contents.tarstream import (
    BLOCK,
    ChunkFeed,
    Header,
    TarFormatError,
    TarReader,
    padding_after,
    plain_header,
)
from analyzer.model import EngineInfo, Image

_SEGMENT = b'{"type":2,"payload":"'
_START = len(_SEGMENT)
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
        headers = tar_split_headers(line_blocks(folder / "tar-split.json.gz"))
        return build_listing(diff_id, headers, lambda entry, n: read_head(diff_dir, entry, n))
    except (OSError, EOFError, ValueError, zlib.error, TarFormatError) as exc:
        raise LocalStoreError(f"{folder}: {exc}") from None


def tar_split_headers(blocks: Iterable[bytes]) -> Iterator[Header]:
    """The members recorded in tar-split data (blocks of whole lines), in tar order.

    Each file record closes the raw bytes gathered since the previous one: that member's padding, then
    its header block (and extended headers before it, when it has some). A lone header block is
    decoded directly; anything longer goes through the general reader, so both give what an export
    gives.
    """
    region = b""
    skip = 0  # the previous member's padding, which starts the next segment
    for block in blocks:
        for line in block.split(b"\n"):
            if line.startswith(_SEGMENT):  # the engine's own layout, sliced without a JSON parse
                payload = line[_START : line.index(b'"', _START)]
            elif line.startswith(_FILE_RECORD):
                header = _header_in(region)
                skip, region = padding_after(header), b""
                yield header
                continue
            elif line.strip():
                record = json.loads(line)  # another writer's key order or escapes
                if record.get("type") == 1:
                    header = _header_in(region)
                    skip, region = padding_after(header), b""
                    yield header
                if record.get("type") != 2:
                    continue
                payload = (record.get("payload") or "").encode()
            else:
                continue
            data, skip = _decoded(payload, skip)
            region += data


def _decoded(payload: bytes, skip: int) -> tuple[bytes, int]:
    """The base64 ``payload`` decoded without its first ``skip`` bytes (padding nobody reads: half of
    each segment); returns what is left to skip."""
    if not skip:
        return a2b_base64(payload), 0
    size = len(payload) // 4 * 3 - payload[-2:].count(b"=")
    if skip >= size:
        return b"", skip - size
    start = skip // 3  # whole 4-character groups of base64 decode to whole 3-byte groups
    return a2b_base64(payload[start * 4 :])[skip - start * 3 :], 0


def _header_in(data: bytes) -> Header:
    if len(data) == BLOCK:
        return plain_header(data)
    # Extended headers first: the general reader, stopped at the member (its body is not there).
    header = next(iter(TarReader(ChunkFeed([data]), bodies=False)), None)
    if header is None:
        raise TarFormatError("a tar-split file record without a header")
    return header


def line_blocks(path: Path) -> Iterator[bytes]:
    """A gzip file's content in blocks of whole lines of about ``_BATCH`` bytes (memory stays bounded
    however well it compressed: tar-split data shrinks 50-fold)."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    rest = b""
    with path.open("rb") as raw:
        while True:
            data = inflate.unconsumed_tail or raw.read(_BATCH // 8)
            if not data:
                break
            rest += inflate.decompress(data, _BATCH)
            cut = rest.rfind(b"\n") + 1
            if cut:
                yield rest[:cut]
                rest = rest[cut:]
    if not inflate.eof:
        raise EOFError(f"{path}: truncated gzip data")
    rest += inflate.flush()
    if rest:
        yield rest if rest.endswith(b"\n") else rest + b"\n"


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
