"""Read an image archive into the shared :class:`~analyzer.model.Image`, streaming.

The config gives the truth about history (``empty_layer``) and layers (``rootfs.diff_ids``); the layer
blobs give what the config cannot: the size ``docker history`` shows for each layer. A blob shared by
several layers (a duplicate layer) is read once.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from analyzer import limits
from analyzer.errors import ArchiveError
from analyzer.image.archive.blobs import DirectorySource, Source, TarIndexSource
from analyzer.image.archive.compression import compression_of
from analyzer.image.archive.layers import LayerScan, layer_entries, scan_layer
from analyzer.image.archive.manifest import Candidate, choose, find_candidates, load_json
from analyzer.image.archive.streamed import TarStreamSource
from analyzer.image.config import chain_ids
from analyzer.model import HistoryEntry, Image, Layer

_BLOB_NAME = re.compile(r"(?:^|/)blobs/sha256/(?P<hex>[0-9a-f]{64})$")

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each distinct layer blob is read."""


def open_source(path: str | Path) -> Source:
    """The right reader for ``path``: a directory, a plain tar, or a compressed tar."""
    path = Path(path)
    if path.is_dir():
        return DirectorySource(path)
    try:
        with path.open("rb") as probe:
            head = probe.read(512)
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read the archive ({exc.strerror})") from None
    if not head:
        raise ArchiveError(f"{path}: empty file, not a tar archive")
    if compression_of(head) != "none":
        return TarStreamSource(path)
    return TarIndexSource(path)


def read_image(
    path: str | Path,
    ref: str | None = None,
    *,
    platform: str | None = None,
    verify: bool = True,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
    label: str | None = None,
) -> Image:
    """The image in a ``docker save`` archive (Docker or OCI format, maybe compressed) or OCI layout dir.

    ``ref`` picks one image when the archive holds several (a tag, name, platform like ``linux/arm64``,
    or an id/digest prefix), ``platform`` one of a multi-platform index; ``label`` names the archive in
    messages (``-`` for stdin). Every digest read is checked: manifests and configs by the sha256 of their
    bytes, each layer's uncompressed sha256 against ``rootfs.diff_ids`` and, for a blob named by its
    digest (``blobs/sha256/<hex>``), the blob's own sha256 (``verify`` is kept for callers; it is always
    on). ``warn`` hears of layers that decompress past BOMB_RATIO. Every layer blob is read (sizes need
    it), each once, streamed. Bad input raises ArchiveError naming the blob.
    """
    with open_source(path) as source:
        chosen = choose(find_candidates(source), ref, label or source.label, platform)
        config_name = source.must_resolve(chosen.config, "config")
        image_id = _config_id(source, config_name, chosen)
        config = _parse_config(source, config_name)
        diff_ids = config["rootfs"]["diff_ids"]
        blobs = [source.must_resolve(name, "layer") for name in chosen.layers]
        if len(blobs) != len(diff_ids):
            raise ArchiveError(
                f"{source.label}: the manifest lists {len(blobs)} layers but the config "
                f"{config_name!r} has {len(diff_ids)} rootfs.diff_ids"
            )
        scans = _scan_layers(source, blobs, progress)
        _check_digests(source.label, blobs, diff_ids, scans)
        if warn is not None:
            for note in _bombs(blobs, scans):
                warn(note)
    sizes = [scans[blob].size for blob in blobs]
    return Image(
        id=image_id,
        tags=chosen.tags,
        size=sum(sizes),
        history=_history(config.get("history") or [], sizes),
        layers=tuple(
            Layer(index=i, diff_id=d, chain_id=c, size=s)
            for i, (d, c, s) in enumerate(zip(diff_ids, chain_ids(diff_ids), sizes, strict=True))
        ),
        onbuild=tuple((config.get("config") or {}).get("OnBuild") or ()),
        config=config,
        config_digest=image_id,
        manifest_digest=chosen.manifest_digest,
        index_digest=chosen.index_digest,
    )


def iter_layer_members(path: str | Path, ref: str | None = None) -> Iterator[tuple[int, tarfile.TarInfo]]:
    """``(layer_index, member)`` for every entry of every layer, bottom layer first, streamed.

    File bodies are skipped, not read. A duplicate layer is listed again at its own index. For a
    compressed archive whose layers are not stored in order, later layers cost another read of the file.
    """
    with open_source(path) as source:
        chosen = choose(find_candidates(source), ref, source.label)
        blobs = [source.must_resolve(name, "layer") for name in chosen.layers]
        for index, blob in source.open_in_order(blobs):
            broken = f"{source.label}: layer {index} ({blobs[index]!r}) is truncated or not a tar"
            for info in layer_entries(blob, broken):
                yield index, info


def _config_id(source: Source, name: str, chosen: Candidate) -> str:
    """The image id: the sha256 of the config bytes, which must be the digest the archive names it by."""
    image_id = "sha256:" + hashlib.sha256(source.read_small(name)).hexdigest()
    if chosen.id is not None and chosen.id.startswith("sha256:") and chosen.id != image_id:
        raise ArchiveError(f"{source.label}: config {name!r} does not match its digest {chosen.id}")
    return image_id


def _parse_config(source: Source, name: str) -> dict[str, Any]:
    config = load_json(source, name, "image config")
    rootfs = config.get("rootfs") if isinstance(config, dict) else None
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise ArchiveError(f"{source.label}: image config {name!r} has no rootfs.diff_ids list")
    history = config.get("history")
    if history is not None and not (isinstance(history, list) and all(isinstance(h, dict) for h in history)):
        raise ArchiveError(f"{source.label}: image config {name!r} has a malformed history")
    runtime = config.get("config")
    onbuild = runtime.get("OnBuild") if isinstance(runtime, dict) else None
    if onbuild is not None and not (isinstance(onbuild, list) and all(isinstance(t, str) for t in onbuild)):
        raise ArchiveError(f"{source.label}: image config {name!r} has a malformed config.OnBuild")
    return cast(dict[str, Any], config)


def _scan_layers(source: Source, blobs: Sequence[str], progress: Progress | None) -> dict[str, LayerScan]:
    scans: dict[str, LayerScan] = {}
    total = len(set(blobs))
    for blob, stream in source.open_each(blobs):
        broken = f"{source.label}: layer {blobs.index(blob)} ({blob!r}) is truncated or not a tar"
        scans[blob] = scan_layer(stream, broken)
        if progress is not None:
            progress(len(scans), total)
    return scans


def _check_digests(
    label: str, blobs: Sequence[str], diff_ids: Sequence[str], scans: Mapping[str, LayerScan]
) -> None:
    for index, (blob, expected) in enumerate(zip(blobs, diff_ids, strict=True)):
        scan = scans[blob]
        named = _BLOB_NAME.search(blob)
        if named is not None and scan.blob_digest != f"sha256:{named['hex']}":
            raise ArchiveError(
                f"{label}: layer {index} ({blob!r}) does not match its digest "
                f"(its sha256 is {scan.blob_digest})"
            )
        if scan.digest != expected:
            raise ArchiveError(
                f"{label}: layer {index} ({blob!r}) has digest {scan.digest}, the config says {expected}"
            )


def _bombs(blobs: Sequence[str], scans: Mapping[str, LayerScan]) -> Iterator[str]:
    """A note for each compressed layer that expands more than BOMB_RATIO times past BOMB_MIN_BYTES."""
    for index, blob in enumerate(blobs):
        scan = scans[blob]
        big = scan.tar_bytes > limits.BOMB_MIN_BYTES
        if (
            big
            and scan.compression != "none"
            and scan.tar_bytes > limits.BOMB_RATIO * max(scan.blob_bytes, 1)
        ):
            ratio = scan.tar_bytes // max(scan.blob_bytes, 1)
            yield (
                f"layer {index} ({blob!r}) expands {ratio}x ({scan.blob_bytes} B compressed, "
                f"{scan.tar_bytes} B as a tar), past the {limits.BOMB_RATIO}x a real layer never reaches: "
                "a decompression bomb?"
            )


def _history(entries: Sequence[Mapping[str, Any]], sizes: Sequence[int]) -> tuple[HistoryEntry, ...]:
    """History entries with their sizes: the layer sizes go, in order, to the entries that made a layer."""
    remaining = iter(sizes)
    out = []
    for index, entry in enumerate(entries):
        empty = bool(entry.get("empty_layer", False))
        out.append(
            HistoryEntry(
                index=index,
                created_by=str(entry.get("created_by", "")),
                empty_layer=empty,
                # More non-empty entries than layers happens with hand-made configs: those show 0.
                size=0 if empty else next(remaining, 0),
                created=entry.get("created"),
                comment=str(entry.get("comment", "")),
            )
        )
    return tuple(out)
