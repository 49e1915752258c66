"""What ``docker pull`` fetches, layer by layer, and why a layer has three different ids (pure).

A pull reads the image's manifest, which lists the layers as *blobs*: compressed tars named by the
sha256 of their compressed bytes. ``docker pull`` prints the first 12 hex digits of that **blob
digest** on each progress line and downloads the blob (its compressed size). The engine then unpacks
it; the sha256 of the *uncompressed* tar is the layer's **diff_id**, which the image config lists in
``rootfs.diff_ids``. The same files compressed differently (another gzip level, zstd) give another
blob digest but the same diff_id. Finally, a layer only means something on top of the ones below it:
the **chain ID** hashes the stack (``chainID(L0) = diffID(L0)``, ``chainID(Ln) = sha256(chainID(Ln-1)
+ " " + diffID(Ln))``), and the engine names its unpacked layers by it. "Already exists" is printed for
a layer whose chain ID the engine already has: that blob is not downloaded again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from analyzer.i18n import N_
from analyzer.model import Image

THREE_IDS = N_(
    "Three ids per layer. blob digest: sha256 of the compressed tar the registry serves — docker pull "
    "prints its first 12 hex digits and downloads that many (compressed) bytes. diff_id: sha256 of the "
    "same tar uncompressed — what the image config lists in rootfs.diff_ids; recompressing a layer "
    "changes its blob digest, never its diff_id. chain ID: sha256 of the chain ID below, a space and the "
    "diff_id — the whole stack up to this layer; the engine stores unpacked layers by chain ID, so the "
    "same diff_id on another base is another layer. A layer whose chain ID the engine already holds is "
    '"Already exists": not downloaded again.'
)


@dataclass(frozen=True)
class PullLayer:
    """One layer as a pull sees it."""

    index: int
    blob_digest: str | None
    compressed_size: int | None
    """Bytes downloaded for this layer (the blob), when known."""
    size: int | None
    """Unpacked bytes as ``docker history`` shows them, when known."""
    diff_id: str
    chain_id: str
    history_index: int | None
    created_by: str
    line: int | None
    """The Dockerfile line that made the layer (``--dockerfile``)."""
    present: bool | None
    """The engine already has this layer (``Already exists``); None without an engine to ask."""
    problems: tuple[str, ...] = ()
    """Where the engine's own records disagree with this layer."""

    @property
    def short_id(self) -> str | None:
        """What ``docker pull`` prints: the first 12 hex digits of the blob digest."""
        return self.blob_digest.split(":", 1)[-1][:12] if self.blob_digest else None

    @property
    def status(self) -> str:
        if self.present is None:
            return "?"
        return "Already exists" if self.present else "Pull complete"


@dataclass(frozen=True)
class PullPlan:
    """Everything ``layermap pull`` reports."""

    ref: str
    image_id: str
    manifest_digest: str | None
    platform: str | None
    origin: str
    """``registry``, ``engine`` or ``archive``."""
    layers: tuple[PullLayer, ...]
    engine: str | None = None
    """The engine compared with (address), None when none was."""
    storage: str | None = None
    records: str = "none"
    """The engine's own records of the blobs: ``verified``, ``mismatch``, ``unreadable`` or ``none``."""
    notes: tuple[str, ...] = ()

    @property
    def compressed_total(self) -> int | None:
        return _total(layer.compressed_size for layer in _distinct(self.layers))

    @property
    def download(self) -> int | None:
        """What a pull would download now: the compressed blobs of the layers the engine lacks."""
        return _total(layer.compressed_size for layer in _distinct(self.layers) if layer.present is not True)

    @property
    def unpacked_total(self) -> int | None:
        return _total(layer.size for layer in self.layers)


def _distinct(layers: Sequence[PullLayer]) -> list[PullLayer]:
    """Each blob once: a blob listed twice (the same layer twice) is downloaded once."""
    seen: set[str] = set()
    out = []
    for layer in layers:
        key = layer.blob_digest or layer.chain_id
        if key not in seen:
            seen.add(key)
            out.append(layer)
    return out


def _total(values: Iterable[int | None]) -> int | None:
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def pull_layers(
    image: Image,
    present: frozenset[str] | None,
    lines: Mapping[int, int] | None = None,
    problems: Mapping[int, tuple[str, ...]] | None = None,
) -> tuple[PullLayer, ...]:
    """The image's layers as a pull sees them. ``present``: the chain IDs the engine has (None: no
    engine); ``lines``: history index → Dockerfile line; ``problems``: layer index → record problems."""
    made_by = [entry for entry in image.history if entry.empty_layer is False]
    out = []
    for layer in image.layers:
        entry = made_by[layer.index] if layer.index < len(made_by) else None
        history_index = entry.index if entry else None
        out.append(
            PullLayer(
                index=layer.index,
                blob_digest=layer.blob_digest,
                compressed_size=layer.compressed_size,
                size=layer.size,
                diff_id=layer.diff_id,
                chain_id=layer.chain_id,
                history_index=history_index,
                created_by=entry.created_by if entry else "",
                line=(lines or {}).get(history_index) if history_index is not None else None,
                present=None if present is None else layer.chain_id in present,
                problems=(problems or {}).get(layer.index, ()),
            )
        )
    return tuple(out)
