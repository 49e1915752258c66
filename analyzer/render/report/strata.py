"""Layout of the HTML strata chart: which block stands for which layer, how tall, linked to which line.

The final image is drawn as stacked blocks, oldest at the bottom, one per layer, heights proportional
to size with a minimum so a 0-byte layer stays visible and clickable. Layers inherited from the base
image (not made by any line of this Dockerfile) are kept apart and link to the FROM line. For
multi-stage builds each stage gets a column: what its FROM inherited as one block, then its own layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analyzer.i18n import _
from analyzer.model import Report, StageInfo, Step
from analyzer.units import human_size, shorten

CHART_PX = 420
MIN_PX = 16
"""Tall enough for a one-line label inside every block."""
GOLDEN_ANGLE = 137.508
"""Degrees: successive lines get hues this far apart, so no two lines of a Dockerfile share a colour
(``WORKDIR`` and ``rm`` no longer come out the same orange) and a line keeps its colour in every view."""


@dataclass(frozen=True)
class Block:
    """One block of a chart."""

    layer: int | None
    """Layer index in the final image (None: a per-stage block)."""
    size: int
    height: int
    """Pixels."""
    anchor: str | None
    """Id of the line element it links to (``L12``, or ``H3`` for a history entry), if any."""
    label: str
    base: bool
    diff_id: str | None = None
    colour: str = "base"
    """``base`` (grey), or ``h<degrees>``: the hue of the line that made the layer (:func:`hue_of`)."""
    short: str = ""
    """The label written inside the block (``L12 RUN … 8.39 MB``)."""


def heights(sizes: Sequence[int], total_px: int = CHART_PX, min_px: int = MIN_PX) -> list[int]:
    """Pixel heights proportional to ``sizes``, none below ``min_px``."""
    total = sum(sizes)
    return [max(min_px, round(size / total * total_px)) if total else min_px for size in sizes]


def hue_of(line: int) -> int:
    """The hue (degrees) of a Dockerfile line: a golden-angle step per line number."""
    return round(line * GOLDEN_ANGLE) % 360


def colour_of(line: int) -> str:
    """The same colour for a line's gutter and its blocks: ``h<hue>``, drawn with ``--h`` in CSS."""
    return f"h{hue_of(line)}"


def short_label(line: int | None, text: str, size: int) -> str:
    """``L12 RUN mkdir -p … · 8.39 MB`` (``base · 1.99 MB`` without a line)."""
    where = f"L{line} {shorten(text, 28)}" if line is not None else _("base")
    return f"{where} · {human_size(size)}"


def layer_steps(report: Report) -> dict[int, Step]:
    """Final-image layer index → the step that made it."""
    return {
        s.layer.index: s
        for s in report.steps
        if s.in_final_image and s.layer is not None and s.stage is not None
    }


def _root_from(report: Report) -> Step | None:
    return next(
        (s for s in report.steps if s.instruction == "FROM" and not s.trigger and s.in_final_image),
        None,
    )


def final_blocks(report: Report) -> list[Block]:
    """One block per layer of the final image, oldest first."""
    image = report.image
    if image is None:
        return []
    made = layer_steps(report)
    root = _root_from(report)
    sizes = [layer.size or 0 for layer in image.layers]
    out = []
    for layer, height in zip(image.layers, heights(sizes), strict=True):
        step = made.get(layer.index)
        size = layer.size or 0
        if step is not None:
            label = _("layer #{index}: line {line} {text} — {size}").format(
                index=layer.index, line=step.line, text=shorten(step.text, 60), size=human_size(size)
            )
            out.append(
                Block(
                    layer.index,
                    size,
                    height,
                    f"L{step.line}",
                    label,
                    False,
                    layer.diff_id,
                    colour_of(step.line),
                    short_label(step.line, step.text, size),
                )
            )
            continue
        # Not made by a line: inherited from the base image (or, without a Dockerfile, a history entry).
        anchor = f"L{root.line}" if root is not None else _history_anchor(report, layer.index)
        origin = report.base.ref if report.base is not None else _("the base image")
        label = _("layer #{index} inherited from {origin} — {size}").format(
            index=layer.index, origin=origin, size=human_size(size)
        )
        if report.dockerfile_text is None:
            label = _("layer #{index} — {size}").format(index=layer.index, size=human_size(size))
        inherited = report.dockerfile_text is not None
        short = short_label(None, "", size) if inherited else f"#{layer.index} · {human_size(size)}"
        out.append(Block(layer.index, size, height, anchor, label, inherited, layer.diff_id, short=short))
    return out


def _history_anchor(report: Report, layer_index: int) -> str | None:
    """Without a Dockerfile, a layer links to the history entry that made it."""
    if report.image is None:
        return None
    count = 0
    for entry in report.image.history:
        if entry.empty_layer is False:
            if count == layer_index:
                return f"H{entry.index}"
            count += 1
    return None


def stage_columns(report: Report) -> list[tuple[StageInfo, list[Block]]]:
    """Per stage: the inherited block, then the stage's own layers (heights on one common scale)."""
    columns: list[tuple[StageInfo, list[tuple[int, str | None, str, str, str | None]]]] = []
    for info in report.stages:
        items: list[tuple[int, str | None, str, str, str | None]] = []
        for step in report.steps:
            if step.stage != info.index:
                continue
            if step.instruction == "FROM" and not step.trigger:
                size = step.inherited_size or 0
                items.append((size, f"L{step.line}", _inherited(info.from_, size), "base", None))
            elif step.layer is not None:
                text = _("line {line} {text} — {size}").format(
                    line=step.line, text=shorten(step.text, 50), size=human_size(step.layer.size)
                )
                items.append(
                    (step.layer.size, f"L{step.line}", text, colour_of(step.line), step.layer.diff_id)
                )
        columns.append((info, items))
    total = max((sum(i[0] for i in items) for _info, items in columns), default=0)
    out = []
    for info, items in columns:
        scaled = [max(MIN_PX, round(i[0] / total * CHART_PX)) if total else MIN_PX for i in items]
        blocks = [
            Block(None, size, h, anchor, label, colour == "base", diff, colour, _stage_short(anchor, size))
            for (size, anchor, label, colour, diff), h in zip(items, scaled, strict=True)
        ]
        out.append((info, blocks))
    return out


def _inherited(base: str, size: int) -> str:
    return _("FROM {base}: inherited {size}").format(base=base, size=human_size(size))


def _stage_short(anchor: str | None, size: int) -> str:
    return f"{anchor or ''} · {human_size(size)}".lstrip(" ·")
