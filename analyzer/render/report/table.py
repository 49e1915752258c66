"""The default human-readable report: one table per stage (tabulate) and a summary; for a prediction,
the prediction table; then the ``--explain`` and ``--layers`` sections the report carries."""

from __future__ import annotations

from tabulate import tabulate

from analyzer.i18n import N_, _
from analyzer.model import Report
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.common import (
    Row,
    cached_cell,
    instruction_cell,
    layer_cell,
    layer_indexes,
    lines_cell,
    rows,
    summary_lines,
    time_cell,
)
from analyzer.render.report import findings
from analyzer.render.report.teaching import text_report
from analyzer.units import human_size, percent, shorten

HEADERS = [
    N_("Line"),
    N_("Instruction"),
    N_("Layer"),
    N_("Size"),
    N_("Cumulative"),
    N_("% image"),
    N_("Cache"),
    N_("Time"),
]


def has_timing(report: Report) -> bool:
    """Whether any step has a cache or time figure (an existing image has none: no columns then)."""
    return any(s.cached is not None or s.duration_s is not None for s in report.steps)


def cells(row: Row, timing: bool = True) -> list[str]:
    step = row.step
    out = [
        lines_cell(step),
        instruction_cell(step),
        layer_cell(step),
        human_size(row.size) if row.size is not None else "",
        human_size(row.cumulative) if row.cumulative is not None else "",
        percent(row.share) if row.share is not None else "",
    ]
    return [*out, cached_cell(step), time_cell(step)] if timing else out


def stage_title(report: Report, stage: int | None) -> str:
    if stage is None:
        return _("Global build arguments")
    info = report.stages[stage]
    name = f" {info.name}" if info.name else ""
    where = "" if info.in_final_image else _("  (not in the final image)")
    return _("Stage {index}{name}: FROM {base}{where}").format(
        index=info.index, name=name, base=info.from_, where=where
    )


HISTORY_HEADERS = ["#", N_("Created by"), N_("Layer"), "diff_id", N_("Size")]


def history_rows(report: Report) -> list[list[str]]:
    """One row per history entry, oldest first: what ``docker history`` shows plus the layer truth."""
    image = report.image
    if image is None:
        return []
    rows_out = []
    for entry, layer in zip(image.history, layer_indexes(image), strict=True):
        made = (
            "?"
            if entry.empty_layer is None
            else (_("no") if entry.empty_layer else _("yes (#{layer})").format(layer=layer))
        )
        diff = image.layers[layer].diff_id[7:19] if layer is not None and layer < len(image.layers) else ""
        size = human_size(entry.size) if entry.empty_layer is False else ""
        rows_out.append([str(entry.index), shorten(entry.created_by, 60), made, diff, size])
    return rows_out


CONTENTS_HEADERS = [N_("Added files"), N_("Wasted by this line")]


def headers(report: Report) -> list[str]:
    """The per-line columns; ``--contents`` adds the file and waste ones."""
    base = HEADERS if has_timing(report) else HEADERS[:-2]
    return [_(h) for h in (base + CONTENTS_HEADERS if report.waste is not None else base)]


def contents_cells(row: Row, report: Report) -> list[str]:
    """``--contents``: files the line's layer added (modified, deleted), and the bytes it stored that
    later lines deleted or replaced (the image still ships them: the line the findings blame)."""
    if report.waste is None:
        return []
    step, files = row.step, row.step.files
    if files is None or step.layer is None:
        return ["", ""]
    more = [f"{n} {_(what)}" for n, what in ((files.modified, N_("mod")), (files.deleted, N_("del"))) if n]
    added = f"{files.added} ({', '.join(more)})" if more else str(files.added)
    hidden = sum(p.bytes for p in report.waste.pairs if p.added_layer == step.layer.index)
    return [added, human_size(hidden) if hidden else ""]


def _who(line: int | None, layer: int) -> str:
    return _("line {n}").format(n=line) if line is not None else _("layer {n}").format(n=layer)


# WastePair.kind is a JSON value (never translated); the text shows it in words.
WASTE_KINDS = {"deleted": N_("deleted"), "overwritten": N_("overwritten"), "copy-up": N_("copy-up")}


def waste_lines(report: Report, limit: int = 5) -> list[str]:
    """``--contents``: wasted space (ours and dive's figure) and its largest causes."""
    waste = report.waste
    if waste is None:
        return []
    dive = waste.dive_compatible
    out = [
        _(
            "Wasted: {size} stored but hidden by later lines "
            "(efficiency {efficiency}; dive would report {dive_size}, {dive_efficiency})"
        ).format(
            size=human_size(waste.wasted_bytes),
            efficiency=percent(waste.efficiency, 2),
            dive_size=human_size(dive.wasted_bytes),
            dive_efficiency=percent(dive.efficiency, 2),
        )
    ]
    for pair in waste.pairs[:limit]:
        first = pair.paths[0] if pair.paths else ""
        others = _(" and {n} more").format(n=pair.path_count - 1) if pair.path_count > 1 else ""
        out.append(
            f"  {_who(pair.added_line, pair.added_layer)} -> {_who(pair.removed_line, pair.removed_layer)}: "
            f"{human_size(pair.bytes)} {_(WASTE_KINDS.get(pair.kind, pair.kind))} ({first}{others})"
        )
    if len(waste.pairs) > limit:
        out.append("  … " + _("{n} more (see --format json)").format(n=len(waste.pairs) - limit))
    return out


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    """The report as text: per-stage tables (or the prediction table), then its teaching sections."""
    report = findings.with_mismatches(report)
    return text_report(report, measured, markdown=False, findings=findings.block)


def measured(report: Report) -> str:
    """The measured tables and summary (a history table for an image mapped without a Dockerfile)."""
    if report.dockerfile_path is None:
        body = tabulate(
            history_rows(report),
            headers=[_(h) for h in HISTORY_HEADERS],
            tablefmt="simple",
            disable_numparse=True,
        )
        return f"{body}\n\n" + "\n".join([*summary_lines(report), *waste_lines(report)]) + "\n"
    blocks: list[str] = []
    all_rows = rows(report)
    groups: list[tuple[int | None, list[Row]]] = []
    for row in all_rows:
        if not groups or groups[-1][0] != row.step.stage:
            groups.append((row.step.stage, []))
        groups[-1][1].append(row)
    for stage, group in groups:
        body = tabulate(
            [cells(r, has_timing(report)) + contents_cells(r, report) for r in group],
            headers=headers(report),
            tablefmt="simple",
            disable_numparse=True,
        )
        blocks.append(f"{stage_title(report, stage)}\n{body}")
    blocks.append("\n".join([*summary_lines(report), *waste_lines(report)]))
    return "\n\n".join(blocks) + "\n"
