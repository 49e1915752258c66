"""What applying layers in order yields (``changes.walk``): per-layer changes, hidden versions.

Plain records, kept apart from the walk so the waste and report modules depend on the shapes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

ADDED, MODIFIED, DELETED = "added", "modified", "deleted"
OVERWRITTEN, COPY_UP = "overwritten", "copy-up"


class Removal(NamedTuple):
    """A stored file version that the final image no longer shows."""

    path: str
    size: int
    added_layer: int
    removed_layer: int
    kind: str
    """``deleted`` (whiteout or opaque directory), ``overwritten`` or ``copy-up``."""


class TopEntry(NamedTuple):
    size: int
    path: str
    change: str


@dataclass
class LayerChanges:
    """What one layer did to the filesystem below it."""

    added: int = 0
    """New paths (directories included; a directory the layer merely lists again is not counted)."""
    modified: int = 0
    """Existing paths the layer replaced (content, metadata or type)."""
    deleted: int = 0
    """Paths a whiteout removed, and lower entries an opaque directory hid."""
    bytes_added: int = 0
    """Sum of the layer's entries as ``docker history`` counts them (equals the layer's size)."""
    payload: int = 0
    """Regular-file bytes stored in the layer (what waste is measured in)."""
    top: list[tuple[int, int, str, str]] = field(default_factory=list)
    """Heap of (size, -order, path, change): the largest kept, the earlier first among equals."""

    def largest(self) -> list[TopEntry]:
        ordered = sorted(self.top, key=lambda item: (-item[0], -item[1]))
        return [TopEntry(size, path, change) for size, _, path, change in ordered]


@dataclass
class WalkResult:
    layers: list[LayerChanges]
    removals: list[Removal]
    stored_bytes: int
    """Regular-file payload summed over every layer (every version of every file)."""
    visible_bytes: int
    """Payload of the files the final image shows (hard-linked content once)."""
    removed_at: dict[tuple[int, str], int]
    """For watched (layer, path) pairs: the layer that removed or replaced the path."""
