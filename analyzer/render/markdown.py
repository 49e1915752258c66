"""A Markdown report that fits a pull-request comment: summary first, then the per-line table."""

from __future__ import annotations

from tabulate import tabulate

from analyzer.model import Report
from analyzer.render.common import rows, summary_lines
from analyzer.render.table import HEADERS, cells, stage_title


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("`", "'")


def render(report: Report) -> str:
    path = report.dockerfile_path or "image"
    out = [f"### layermap: `{path}` ({report.builder} builder)", ""]
    out.extend(f"- {line}" for line in summary_lines(report))
    current: object = object()
    table: list[list[str]] = []

    def flush() -> None:
        if table:
            out.extend(["", tabulate(table, headers=HEADERS, tablefmt="github", disable_numparse=True), ""])
            table.clear()

    for row in rows(report):
        if row.step.stage != current:
            flush()
            current = row.step.stage
            out.extend(["", f"#### {stage_title(report, row.step.stage)}"])
        table.append([_escape(c) for c in cells(row)])
    flush()
    if report.findings:
        out.extend(["", "#### Findings", ""])
        out.extend(
            f"- **{f.severity}** `{f.rule}` line {f.line}: {_escape(f.message)}" for f in report.findings
        )
    return "\n".join(out).rstrip() + "\n"
