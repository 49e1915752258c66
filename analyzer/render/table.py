"""The default human-readable report: one table per stage (tabulate) and a summary."""

from __future__ import annotations

from tabulate import tabulate

from analyzer.model import Report
from analyzer.render.common import (
    Row,
    cached_cell,
    human_size,
    instruction_cell,
    layer_cell,
    lines_cell,
    rows,
    summary_lines,
    time_cell,
)

HEADERS = ["Line", "Instruction", "Layer", "Size", "Cumulative", "% image", "Cache", "Time"]


def cells(row: Row) -> list[str]:
    step = row.step
    return [
        lines_cell(step),
        instruction_cell(step),
        layer_cell(step),
        human_size(row.size) if row.size is not None else "",
        human_size(row.cumulative) if row.cumulative is not None else "",
        f"{row.share * 100:.1f}%" if row.share is not None else "",
        cached_cell(step),
        time_cell(step),
    ]


def stage_title(report: Report, stage: int | None) -> str:
    if stage is None:
        return "Global build arguments"
    info = report.stages[stage]
    name = f" {info.name}" if info.name else ""
    where = "" if info.in_final_image else "  (not in the final image)"
    return f"Stage {info.index}{name}: FROM {info.from_}{where}"


def render(report: Report) -> str:
    blocks: list[str] = []
    all_rows = rows(report)
    groups: list[tuple[int | None, list[Row]]] = []
    for row in all_rows:
        if not groups or groups[-1][0] != row.step.stage:
            groups.append((row.step.stage, []))
        groups[-1][1].append(row)
    for stage, group in groups:
        body = tabulate([cells(r) for r in group], headers=HEADERS, tablefmt="simple", disable_numparse=True)
        blocks.append(f"{stage_title(report, stage)}\n{body}")
    blocks.append("\n".join(summary_lines(report)))
    return "\n\n".join(blocks) + "\n"
