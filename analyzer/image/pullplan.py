"""Gather what ``layermap pull`` reports: the image's layers with their blobs (registry manifest, or
the engine's own records), what the local engine already has, and the engine's records checked.

Sources: ``docker://…`` (the manifest gives every blob digest and compressed size), an image in the
engine (its ``RepoDigests`` lead back to the registry it came from when that answers; otherwise the
engine's records: overlay2 keeps the blob digests, the containerd store the blobs themselves), or an
archive (diff_ids only: a ``docker save`` keeps no compressed blobs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from analyzer.errors import LayermapError
from analyzer.image.layerstore import BlobRecords, blob_records, present_chain_ids
from analyzer.image.source import ImageSource
from analyzer.model import EngineInfo, Image, Step
from analyzer.teaching.pull import PullPlan, pull_layers

if TYPE_CHECKING:
    from analyzer.engine.client import Engine
    from analyzer.image.distribution.client import Options


@dataclass(frozen=True)
class Gathered:
    image: Image
    manifest_digest: str | None
    platform: str | None
    origin: str
    notes: tuple[str, ...]


def plan(
    source: ImageSource,
    ref: str,
    engine: Engine | None,
    options: Options,
    lines: Mapping[int, int] | None,
    engine_note: str | None = None,
) -> PullPlan:
    """The pull plan of ``source`` compared with ``engine`` (None: no engine to compare with)."""
    gathered = _gather(source, ref, options)
    image, notes = gathered.image, list(gathered.notes)
    info = engine.info() if engine is not None else None
    records = blob_records(image, info) if info is not None else None
    if records is not None:
        image = _with_records(image, records)
        notes.append(f"engine records: {records.note}")
    if engine_note:
        notes.append(engine_note)
    present = _present(engine, info, image, records) if engine is not None and info is not None else None
    problems = records.problems if records is not None and records.state != "none" else {}
    layers = pull_layers(image, present, lines, problems)
    return PullPlan(
        ref=ref,
        image_id=image.id,
        manifest_digest=gathered.manifest_digest,
        platform=gathered.platform,
        origin=gathered.origin,
        layers=layers,
        engine=info.address if info else None,
        storage=info.storage if info else None,
        records=records.state if records is not None else "none",
        notes=tuple(notes),
    )


def _gather(source: ImageSource, ref: str, options: Options) -> Gathered:
    from analyzer.image.registry import RegistryImage

    if isinstance(source, RegistryImage):
        remote = source.remote
        return Gathered(source.image, remote.manifest_digest, remote.platform, "registry", ())
    if source.engine is None:
        note = "an archive keeps the uncompressed layers only: blob digests and compressed sizes unknown"
        return Gathered(source.image, None, None, "archive", (note,))
    return _from_repo_digests(source.image, source.engine, options)


def _from_repo_digests(image: Image, engine: Engine, options: Options) -> Gathered:
    """The registry manifest the engine pulled the image by, when the registry still answers."""
    from analyzer.image.registry import open_registry

    notes = []
    for repo_digest in engine.repo_digests(image.id):
        try:
            remote = open_registry("docker://" + repo_digest, options)
        except LayermapError as err:
            notes.append(f"{repo_digest}: {err.message}")
            continue
        # overlay2 names an image by its config digest, the containerd store by its manifest or index's.
        names = {remote.image.id, remote.remote.manifest_digest, remote.remote.index_digest}
        if image.id not in names:
            notes.append(f"{repo_digest} is now another image ({remote.image.id[:19]}) for this platform")
            continue
        merged = tuple(
            replace(mine, compressed_size=theirs.compressed_size, blob_digest=theirs.blob_digest)
            for mine, theirs in zip(image.layers, remote.image.layers, strict=True)
        )
        platform = remote.remote.platform
        return Gathered(replace(image, layers=merged), remote.remote.manifest_digest, platform, "engine", ())
    if not notes:
        notes.append("the image has no RepoDigests (built or loaded here, never pulled or pushed)")
    return Gathered(image, None, None, "engine", tuple(notes))


def _with_records(image: Image, records: BlobRecords) -> Image:
    """Blob digests and sizes from the engine's records where the registry did not give them."""
    layers = []
    for layer in image.layers:
        digest = layer.blob_digest or records.blob_digests.get(layer.index)
        size = layer.compressed_size
        if size is None and digest is not None:
            size = records.blob_sizes.get(digest)
        layers.append(replace(layer, blob_digest=digest, compressed_size=size))
    return replace(image, layers=tuple(layers))


def _present(engine: Engine, info: EngineInfo, image: Image, records: BlobRecords | None) -> frozenset[str]:
    """Chain IDs of the layers a pull would not download: on overlay2 the layer store's folders (when
    readable); on the containerd store the layers whose blob is in the content store (containerd
    fetches by blob digest); else every local image's stack."""
    if info.storage == "containerd" and records is not None and records.state != "unreadable":
        return frozenset(la.chain_id for la in image.layers if la.blob_digest in records.blob_sizes)
    stored = present_chain_ids(info)
    if stored is not None:
        return stored
    found: set[str] = set()
    for summary in engine.list_images():
        found.update(layer.chain_id for layer in engine.image(str(summary["Id"])).layers)
    return frozenset(found)


def history_lines(steps: Sequence[Step]) -> dict[int, int]:
    """History index → Dockerfile line, for the final image's steps of a mapped report."""
    return {s.history.index: s.line for s in steps if s.in_final_image and s.history is not None}
