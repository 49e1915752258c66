"""Pure conversions of what the engine returns for an image: chain ids, the history API merged with the
image configuration, and the configuration fished out of a ``docker save`` stream.

No I/O of its own (the save stream is handed in), so it is tested with recorded engine responses.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any

from analyzer.model import HistoryEntry, Image, Layer

if TYPE_CHECKING:
    import tarfile

_SMALL_BLOB = 4 << 20
"""Largest OCI blob kept in memory while looking for the config named by a later manifest.json."""


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """Layer chain ids: chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln))."""
    out: list[str] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {diff_id}".encode()).hexdigest())
    return out


def image_from_engine(
    inspect: Mapping[str, Any], api_history: Sequence[Mapping[str, Any]], config: Mapping[str, Any] | None
) -> Image:
    """Merge inspect, the history API (newest first) and the optional image config into an :class:`Image`."""
    history = _merge_history(api_history, config)
    diff_ids = list((inspect.get("RootFS") or {}).get("Layers") or ())
    if config is None:
        history = infer_empty_layers(history, len(diff_ids)) or history
    sizes: list[int | None] = [None] * len(diff_ids)
    if all(entry.empty_layer is not None for entry in history):
        made = [entry.size for entry in history if not entry.empty_layer]
        if len(made) == len(diff_ids):  # each non-empty entry made the next layer, in order
            sizes = list(made)
    layers = tuple(
        Layer(index=i, diff_id=d, chain_id=c, size=s)
        for i, (d, c, s) in enumerate(zip(diff_ids, chain_ids(diff_ids), sizes, strict=True))
    )
    return Image(
        id=str(inspect["Id"]),
        tags=tuple(t for t in inspect.get("RepoTags") or () if t != "<none>:<none>"),
        size=int(inspect.get("Size") or 0),
        history=history,
        layers=layers,
        parent=inspect.get("Parent") or None,
        onbuild=tuple((inspect.get("Config") or {}).get("OnBuild") or ()),
        config=config,
    )


# Instructions that only ever change the image config (WORKDIR is not one: a new dir is a layer).
_METADATA = frozenset(
    {
        *("ENV", "LABEL", "CMD", "ENTRYPOINT", "EXPOSE", "VOLUME", "USER", "ARG", "ONBUILD"),
        *("HEALTHCHECK", "SHELL", "STOPSIGNAL", "MAINTAINER"),
    }
)


def _certainly_metadata(created_by: str) -> bool:
    text = created_by.strip()
    if "#(nop)" in text:  # classic builder: `/bin/sh -c #(nop)  ENV …`
        text = text.split("#(nop)", 1)[1].strip()
    word = text.split(None, 1)[0].upper() if text else ""
    return word in _METADATA


def infer_empty_layers(history: Sequence[HistoryEntry], layer_count: int) -> tuple[HistoryEntry, ...] | None:
    """``empty_layer`` for every entry without the image config, when the cheap rule is exact.

    Size > 0 means a layer and metadata instructions mean none; the rest are undecided. When the
    layers left over for them are 0, or as many as there are undecided entries, the answer is exact;
    otherwise None (read the config instead). A size of 0 alone never decides.
    """
    decided: list[bool | None] = []
    for entry in history:
        if entry.size > 0:
            decided.append(False)
        elif _certainly_metadata(entry.created_by):
            decided.append(True)
        else:
            decided.append(None)
    left = layer_count - decided.count(False)
    undecided = decided.count(None)
    if left not in (0, undecided) or left < 0:
        return None
    fill = left != 0  # empty when no layer is left, a layer each when all are
    return tuple(
        replace(entry, empty_layer=(not fill) if d is None else d)
        for entry, d in zip(history, decided, strict=True)
    )


def _merge_history(
    api_history: Sequence[Mapping[str, Any]], config: Mapping[str, Any] | None
) -> tuple[HistoryEntry, ...]:
    api = list(reversed(api_history))  # the API lists newest first
    conf = list((config or {}).get("history") or [])
    if len(conf) != len(api):
        conf = []  # cannot pair them up: empty_layer stays unknown
    entries = []
    for i, item in enumerate(api):
        c = conf[i] if conf else None
        image_id = item.get("Id")
        entries.append(
            HistoryEntry(
                index=i,
                created_by=str(item.get("CreatedBy") or ""),
                empty_layer=bool(c.get("empty_layer", False)) if c is not None else None,
                size=int(item.get("Size") or 0),
                created=(c or {}).get("created") or _iso(item.get("Created")),
                comment=str(item.get("Comment") or ""),
                image_id=image_id if image_id and image_id != "<missing>" else None,
            )
        )
    return tuple(entries)


def config_from_save(reader: IO[bytes], image_id: str) -> dict[str, Any] | None:
    """Read a ``docker save`` stream only until the config: ``<hex>.json`` (Docker) or its blob (OCI)."""
    wanted = {f"{id_hex(image_id)}.json", f"blobs/sha256/{id_hex(image_id)}"}
    small: dict[str, bytes] = {}
    config_name: str | None = None
    import tarfile  # here: reading a registry needs chain_ids, not tar

    with tarfile.open(fileobj=reader, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name.removeprefix("./")
            if name in wanted or name == config_name or (name == "manifest.json" and config_name is None):
                data = _read_member(tar, member)
                if name == "manifest.json":
                    config_name = _manifest_config(data)
                    if config_name in small:
                        return json_object(small[config_name])
                    continue
                return json_object(data)
            if name.startswith("blobs/") and member.size <= _SMALL_BLOB:
                # The containerd store's id is not the config digest: keep small blobs for manifest.json.
                small[name] = _read_member(tar, member)
    return None


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    return handle.read() if handle is not None else b""


def _manifest_config(data: bytes) -> str | None:
    try:
        manifest = json.loads(data)
        return str(manifest[0]["Config"]).removeprefix("./")
    except (ValueError, LookupError, TypeError):
        return None


def json_object(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (the export stream), for ``tarfile`` "r|"."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def id_hex(image_id: str) -> str:
    return image_id.split(":", 1)[-1]


def _iso(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float) or epoch <= 0:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
