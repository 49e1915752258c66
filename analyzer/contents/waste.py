"""Wasted bytes grouped by cause: (line that stored them → line that deleted or replaced them).

Pure: the removals found by ``changes.walk`` plus which line made each layer, in; the report's
:class:`~analyzer.model.Waste` out. Our figures count each stored version once and only while it is
hidden; the dive-compatible ones (``dive.py``) ride along for comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from analyzer.contents.dive import DiveFigures
from analyzer.contents.records import Removal, WalkResult
from analyzer.model import DiveCompatible, Waste, WastePair

MAX_PATHS = 20
"""Paths listed per pair (the largest); ``path_count`` says how many there are."""


def pairs(
    removals: Sequence[Removal], line_of: Mapping[int, int], max_paths: int = MAX_PATHS
) -> tuple[WastePair, ...]:
    """Removals grouped by (adding layer, removing layer, kind), largest group first."""
    groups: dict[tuple[int, int, str], list[Removal]] = {}
    for removal in removals:
        key = (removal.added_layer, removal.removed_layer, removal.kind)
        groups.setdefault(key, []).append(removal)
    out = []
    for (added, removed, kind), items in groups.items():
        items.sort(key=lambda r: (-r.size, r.path))
        out.append(
            WastePair(
                added_line=line_of.get(added),
                removed_line=line_of.get(removed),
                bytes=sum(r.size for r in items),
                kind=kind,
                paths=tuple(r.path for r in items[:max_paths]),
                path_count=len(items),
                added_layer=added,
                removed_layer=removed,
            )
        )
    out.sort(key=lambda p: (-p.bytes, p.added_layer, p.removed_layer, p.kind))
    return tuple(out)


def summarize(
    walked: WalkResult,
    dive: DiveFigures,
    line_of: Mapping[int, int],
    base_layers: int | None,
    max_paths: int = MAX_PATHS,
) -> Waste:
    """The report's waste section.

    ``base_layers``: how many bottom layers are the base image (None when unknown); our
    ``user_wasted_percent`` divides by the payload of the layers above them, where dive divides by
    everything above layer 0.
    """
    wasted = walked.stored_bytes - walked.visible_bytes
    user_percent = None
    if base_layers is not None:
        user = sum(layer.payload for layer in walked.layers[base_layers:])
        user_percent = wasted / user if user else None
    return Waste(
        wasted_bytes=wasted,
        efficiency=walked.visible_bytes / walked.stored_bytes if walked.stored_bytes else 1.0,
        pairs=pairs(walked.removals, line_of, max_paths),
        user_wasted_percent=user_percent,
        dive_compatible=DiveCompatible(
            wasted_bytes=dive.wasted_bytes,
            efficiency=dive.efficiency,
            user_wasted_percent=dive.user_wasted_percent,
        ),
    )
