"""The layer database view (``--layers``, ``layermap layers``): for each layer of an image its diff_id,
its chain ID computed here, its size, and — when the engine is local and its data root readable — the
engine's own ``image/<driver>/layerdb/sha256/<chainID>/`` folder, whose files are checked against the
computation.

chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)). The engine names
each layerdb folder by chain ID (not diff_id) because the same layer content on top of different
parents is a different filesystem. Files in a folder: ``diff`` (the diff_id), ``parent`` (the chain ID
below; absent for the bottom layer), ``size`` (bytes, what ``docker history`` shows), ``cache-id`` (the
storage driver's folder with the unpacked files, ``<data_root>/<driver>/<cache-id>``).

Also what a pull leaves behind (``layermap pull``): the engine's records of the blobs it downloaded
(overlay2 ``distribution/``, the containerd content store) checked against an image's layers, and the
chain IDs the layer store holds.

Reads files only (no engine call); every problem is data in the result, never an exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from analyzer.i18n import N_
from analyzer.image.config import chain_ids
from analyzer.model import EngineInfo, Image, LayerDb, LayerDbEntry

VERIFIED = "verified"
MISMATCH = "mismatch"
UNREADABLE = "unreadable"
REMOTE = "remote"
CONTAINERD = "containerd"
NO_ENGINE = "no-engine"

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

CONTAINERD_NOTE = N_(
    "This engine uses the containerd image store: there is no image/<driver>/layerdb. Layers are kept "
    "as compressed blobs in containerd's content store (io.containerd.content.v1.content/blobs/sha256/, "
    "named by the blob digest, not the diff_id) and unpacked into snapshots of the overlayfs snapshotter "
    "(io.containerd.snapshotter.v1.overlayfs/snapshots/), which containerd's metadata database names by "
    "chain ID: the chain IDs below. Both live under containerd's root (<data_root>/containerd/daemon "
    "when dockerd runs containerd itself)."
)


def layer_db(image: Image, engine: EngineInfo | None) -> LayerDb:
    """The view of ``image``'s layers, verified against the engine's layerdb when it can be read."""
    computed = _computed(image)
    if engine is None:
        note = "No engine (an archive or OCI layout): chain IDs are computed from the diff_ids only."
        return LayerDb(NO_ENGINE, note, computed)
    if engine.storage == CONTAINERD:
        return LayerDb(CONTAINERD, CONTAINERD_NOTE, computed, engine.storage, engine.data_root)
    if not is_local(engine.address) or not engine.data_root:
        note = (
            f"The engine at {engine.address} is not on this machine: its layer database "
            f"({engine.data_root or '<data_root>'}/image/{engine.storage}/layerdb) cannot be read from here."
        )
        return LayerDb(REMOTE, note, computed, engine.storage, engine.data_root)
    return verify(computed, Path(engine.data_root), engine.storage)


def _computed(image: Image) -> tuple[LayerDbEntry, ...]:
    diff_ids = [layer.diff_id for layer in image.layers]
    return tuple(
        LayerDbEntry(index=i, diff_id=d, chain_id=c, size=layer.size)
        for i, (d, c, layer) in enumerate(zip(diff_ids, chain_ids(diff_ids), image.layers, strict=True))
    )


def is_local(address: str) -> bool:
    """A unix socket (or Windows pipe) is this machine; tcp only when it names the loopback."""
    url = urlparse(address)
    if url.scheme in ("unix", "npipe", ""):
        return True
    return url.scheme in ("tcp", "http", "https") and (url.hostname or "") in _LOCAL_HOSTS


def verify(entries: tuple[LayerDbEntry, ...], data_root: Path, driver: str) -> LayerDb:
    """Read each ``layerdb/sha256/<chainID>/`` folder under ``data_root`` and check its files."""
    db = data_root / "image" / driver / "layerdb" / "sha256"
    try:
        if not db.is_dir():
            raise FileNotFoundError(str(db))
        next(db.iterdir(), None)  # a listing proves we may read it (root-owned on most machines)
    except OSError as err:
        why = "permission denied" if isinstance(err, PermissionError) else "no such folder"
        note = f"Could not read the layer database {db} ({why}): chain IDs are computed only."
        return LayerDb(UNREADABLE, note, entries, driver, str(data_root))
    checked = tuple(_check(entry, entries, db, data_root / driver) for entry in entries)
    bad = [e for e in checked if e.problems]
    if bad:
        note = f"{len(bad)} of {len(checked)} layers disagree with the layer database {db}."
        return LayerDb(MISMATCH, note, checked, driver, str(data_root))
    note = (
        f"Every computed chain ID names a folder of {db}: its diff is the layer's diff_id, its parent the "
        f"chain ID below, its size the history size, and its cache-id a folder of {data_root / driver} "
        "holding the layer's unpacked files."
    )
    return LayerDb(VERIFIED, note, checked, driver, str(data_root))


def _check(
    entry: LayerDbEntry, entries: tuple[LayerDbEntry, ...], db: Path, driver_root: Path
) -> LayerDbEntry:
    folder = db / entry.chain_id.split(":", 1)[-1]
    if not folder.is_dir():
        return _with(entry, problems=(f"no folder {folder}",))
    diff, parent = _read(folder / "diff"), _read(folder / "parent")
    size_text, cache_id = _read(folder / "size"), _read(folder / "cache-id")
    db_size = int(size_text) if size_text and size_text.isdigit() else None
    problems = []
    if diff != entry.diff_id:
        problems.append(f"diff is {diff}, expected the diff_id {entry.diff_id}")
    expected_parent = entries[entry.index - 1].chain_id if entry.index else None
    if parent != expected_parent:
        problems.append(f"parent is {parent or 'absent'}, expected {expected_parent or 'absent'}")
    if entry.size is not None and db_size != entry.size:
        problems.append(f"size is {size_text}, expected the history size {entry.size}")
    if not cache_id or not (driver_root / cache_id).is_dir():
        problems.append(f"cache-id {cache_id or '(missing)'} names no folder of {driver_root}")
    return _with(entry, str(folder), cache_id, parent, db_size, diff, tuple(problems))


def _with(
    entry: LayerDbEntry,
    folder: str | None = None,
    cache_id: str | None = None,
    parent: str | None = None,
    db_size: int | None = None,
    db_diff: str | None = None,
    problems: tuple[str, ...] = (),
) -> LayerDbEntry:
    return LayerDbEntry(
        entry.index,
        entry.diff_id,
        entry.chain_id,
        entry.size,
        folder,
        cache_id,
        parent,
        db_size,
        db_diff,
        problems,
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


# ---------------------------------------------------------------------- what a pull left behind

CONTENT_STORE = "containerd/daemon/io.containerd.content.v1.content/blobs/sha256"


@dataclass(frozen=True)
class BlobRecords:
    """The engine's own records of the blobs it pulled, checked against an image's layers."""

    state: str
    """``verified``, ``mismatch``, ``unreadable`` (or not local) or ``none`` (no record of any layer)."""
    note: str
    blob_digests: dict[int, str] = field(default_factory=dict)
    """Layer index → the blob digest the engine recorded for it."""
    blob_sizes: dict[str, int] = field(default_factory=dict)
    """Blob digest → its size in the content store (containerd store only)."""
    problems: dict[int, tuple[str, ...]] = field(default_factory=dict)


def blob_records(image: Image, engine: EngineInfo) -> BlobRecords:
    """overlay2: ``distribution/v2metadata-by-diffid`` (diff_id → the blob digests it was pulled as)
    and ``diffid-by-digest`` (blob digest → diff_id); containerd store: the content store's blobs."""
    if not is_local(engine.address) or not engine.data_root:
        return BlobRecords(UNREADABLE, f"the engine at {engine.address} is not on this machine")
    root = Path(engine.data_root)
    if engine.storage == CONTAINERD:
        return _content_store(image, root / CONTENT_STORE)
    return _distribution(image, root / "image" / engine.storage / "distribution")


def _distribution(image: Image, folder: Path) -> BlobRecords:
    by_diffid, by_digest = folder / "v2metadata-by-diffid" / "sha256", folder / "diffid-by-digest" / "sha256"
    if not _listable(by_diffid):
        return BlobRecords(UNREADABLE, f"cannot read {by_diffid}")
    digests: dict[int, str] = {}
    problems: dict[int, tuple[str, ...]] = {}
    for layer in image.layers:
        recorded = _v2metadata(by_diffid / _hex(layer.diff_id))
        wanted = layer.blob_digest or (recorded[0] if recorded else None)
        found: list[str] = []
        if not recorded:
            found.append(f"no {by_diffid / _hex(layer.diff_id)} (the engine did not pull this layer)")
        elif layer.blob_digest and layer.blob_digest not in recorded:
            found.append(f"{by_diffid / _hex(layer.diff_id)} does not list the blob {layer.blob_digest}")
        if wanted:
            digests[layer.index] = wanted
            back = _read(by_digest / _hex(wanted))
            if recorded and back != layer.diff_id:
                found.append(f"{by_digest / _hex(wanted)} says {back or 'nothing'}, not {layer.diff_id}")
        if found:
            problems[layer.index] = tuple(found)
    return _records(image, digests, {}, problems, str(folder))


def _content_store(image: Image, blobs: Path) -> BlobRecords:
    if not _listable(blobs):
        return BlobRecords(UNREADABLE, f"cannot read containerd's content store {blobs}")
    if all(layer.blob_digest is None for layer in image.layers):
        return BlobRecords("none", f"no blob digests known to look up in {blobs}")
    sizes: dict[str, int] = {}
    problems: dict[int, tuple[str, ...]] = {}
    for layer in image.layers:
        if layer.blob_digest is None:
            continue
        path = blobs / _hex(layer.blob_digest)
        try:
            sizes[layer.blob_digest] = path.stat().st_size
        except OSError:
            problems[layer.index] = (f"no blob {path} in the content store",)
            continue
        if layer.compressed_size is not None and sizes[layer.blob_digest] != layer.compressed_size:
            problems[layer.index] = (
                f"{path} has {sizes[layer.blob_digest]} bytes, the manifest says {layer.compressed_size}",
            )
    digests = {la.index: la.blob_digest for la in image.layers if la.blob_digest in sizes}
    return _records(image, digests, sizes, problems, str(blobs))


def _records(
    image: Image,
    digests: dict[int, str],
    sizes: dict[str, int],
    problems: dict[int, tuple[str, ...]],
    where: str,
) -> BlobRecords:
    if len(problems) == len(image.layers) and image.layers:
        return BlobRecords("none", f"{where} has no record of this image's layers", digests, sizes, problems)
    if problems:
        note = f"{len(problems)} of {len(image.layers)} layers disagree with {where}"
        return BlobRecords(MISMATCH, note, digests, sizes, problems)
    return BlobRecords(VERIFIED, f"every layer's blob is recorded in {where}", digests, sizes, problems)


def _v2metadata(path: Path) -> list[str]:
    text = _read(path)
    try:
        entries = json.loads(text) if text else []
        return [str(e["Digest"]) for e in entries if isinstance(e, dict) and "Digest" in e]
    except ValueError:
        return []


def _listable(folder: Path) -> bool:
    try:
        next(folder.iterdir(), None)
    except OSError:
        return False
    return True


def _hex(digest: str) -> str:
    return digest.split(":", 1)[-1]


def present_chain_ids(engine: EngineInfo) -> frozenset[str] | None:
    """The chain IDs of every layer in the overlay2 layer store (its folder names); None if unreadable."""
    if engine.storage == CONTAINERD or not engine.data_root or not is_local(engine.address):
        return None
    db = Path(engine.data_root) / "image" / engine.storage / "layerdb" / "sha256"
    try:
        return frozenset(f"sha256:{p.name}" for p in db.iterdir() if p.is_dir())
    except OSError:
        return None


# ---------------------------------------------------------------------- the whole store (layermap store)


@dataclass(frozen=True)
class DbLayer:
    """One folder of ``layerdb/sha256/``."""

    chain_id: str
    diff_id: str | None
    parent: str | None
    size: int | None


@dataclass(frozen=True)
class StoreCheck:
    """The layer database read whole and set against the tree computed from the images."""

    state: str
    """``verified``, ``mismatch``, ``unreadable``, ``remote`` or ``containerd``."""
    note: str
    problems: tuple[str, ...] = ()
    unreferenced: tuple[DbLayer, ...] = ()
    """Folders no image uses (build cache, containers' image layers of deleted images)."""


def read_layerdb(engine: EngineInfo) -> dict[str, DbLayer] | str:
    """Every ``layerdb/sha256/<chainID>/`` folder (``diff``, ``parent``, ``size``); a reason if unreadable."""
    if engine.storage == CONTAINERD:
        return "the containerd image store has no layerdb: the tree comes from the images' diff_ids"
    if not is_local(engine.address) or not engine.data_root:
        return f"the engine at {engine.address} is not on this machine: its layer database cannot be read"
    db = Path(engine.data_root) / "image" / engine.storage / "layerdb" / "sha256"
    try:
        folders = [p for p in db.iterdir() if p.is_dir()]
    except OSError as err:
        why = "permission denied" if isinstance(err, PermissionError) else "no such folder"
        return f"could not read the layer database {db} ({why})"
    out = {}
    for folder in folders:
        size = _read(folder / "size")
        out["sha256:" + folder.name] = DbLayer(
            "sha256:" + folder.name,
            _read(folder / "diff"),
            _read(folder / "parent"),
            int(size) if size and size.isdigit() else None,
        )
    return out


def check_store(
    computed: dict[str, tuple[str, str | None, int]], db: dict[str, DbLayer] | str, storage: str
) -> StoreCheck:
    """``computed``: chain ID → (diff_id, parent, size) from the images. Each must be a folder whose
    files agree; folders outside the computation are listed as unreferenced."""
    if isinstance(db, str):
        return StoreCheck(CONTAINERD if storage == CONTAINERD else UNREADABLE, db)
    problems = []
    for chain_id, (diff_id, parent, size) in computed.items():
        found = db.get(chain_id)
        if found is None:
            problems.append(f"no folder for {chain_id}")
            continue
        if found.diff_id != diff_id:
            problems.append(f"{chain_id}: diff is {found.diff_id}, expected {diff_id}")
        if found.parent != parent:
            problems.append(
                f"{chain_id}: parent is {found.parent or 'absent'}, expected {parent or 'absent'}"
            )
        if found.size != size:
            problems.append(f"{chain_id}: size is {found.size}, the image history says {size}")
    extra = tuple(layer for chain_id, layer in sorted(db.items()) if chain_id not in computed)
    if problems:
        return StoreCheck(
            MISMATCH, f"{len(problems)} disagreements with the layer database", tuple(problems), extra
        )
    note = (
        f"every node is a layerdb folder whose diff, parent and size agree; {len(extra)} more folders "
        "belong to no image (build cache or layers of deleted images)"
    )
    return StoreCheck(VERIFIED, note, (), extra)
