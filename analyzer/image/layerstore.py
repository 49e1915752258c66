"""The layer database view (``--layers``, ``layermap layers``): for each layer of an image its diff_id,
its chain ID computed here, its size, and — when the engine is local and its data root readable — the
engine's own ``image/<driver>/layerdb/sha256/<chainID>/`` folder, whose files are checked against the
computation.

chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)). The engine names
each layerdb folder by chain ID (not diff_id) because the same layer content on top of different
parents is a different filesystem. Files in a folder: ``diff`` (the diff_id), ``parent`` (the chain ID
below; absent for the bottom layer), ``size`` (bytes, what ``docker history`` shows), ``cache-id`` (the
storage driver's folder with the unpacked files, ``<data_root>/<driver>/<cache-id>``).

Reads files only (no engine call); every problem is data in the result, never an exception.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from analyzer.image.config import chain_ids
from analyzer.model import EngineInfo, Image, LayerDb, LayerDbEntry

VERIFIED = "verified"
MISMATCH = "mismatch"
UNREADABLE = "unreadable"
REMOTE = "remote"
CONTAINERD = "containerd"
NO_ENGINE = "no-engine"

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

CONTAINERD_NOTE = (
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
