"""``layermap diff`` for a terminal: the per-line table, then totals, layers and new findings."""

from __future__ import annotations

from tabulate import tabulate

from analyzer.review.diff import DiffResult, LineDelta
from analyzer.units import exact_size, human_size, shorten

HEADERS = ["Base", "Head", "Instruction", "Base size", "Head size", "Delta", "Change"]


def signed_size(delta: int) -> str:
    """``+1.2 MB`` / ``-21 MB`` / ``0 B`` (Docker's decimal units, like the other reports)."""
    if delta == 0:
        return "0 B"
    return ("+" if delta > 0 else "-") + human_size(abs(delta))


def where(line: int | None, entry: int | None) -> str:
    """A line number, or ``#N`` (history entry) for a side without a Dockerfile, or blank."""
    if line is not None:
        return str(line)
    return f"#{entry}" if entry is not None else ""


def cells(d: LineDelta, width: int = 48) -> list[str]:
    text = ("onbuild> " if d.shown.trigger else "") + d.shown.text
    return [
        where(d.base.line, d.base.entry) if d.base else "",
        where(d.head.line, d.head.entry) if d.head else "",
        shorten(text, width),
        human_size(d.base.size) if d.base else "",
        human_size(d.head.size) if d.head else "",
        signed_size(d.delta),
        d.change,
    ]


def summary_lines(result: DiffResult) -> list[str]:
    """Totals, the inherited base, layers, new findings and the gate, as plain sentences."""
    base, head = result.base, result.head
    out = [
        f"Total: {human_size(base.size)} -> {human_size(head.size)} ({signed_size(result.total_delta)}, "
        f"{exact_size(result.total_delta, signed=True)})",
        f"Inherited base: {signed_size(result.base_delta)}; lines: "
        f"{signed_size(sum(d.delta for d in result.lines))}",
        f"Layers: {len(base.diff_ids)} -> {len(head.diff_ids)} ({len(result.layers_added)} new, "
        f"{len(result.layers_removed)} gone)",
    ]
    out.extend(
        f"New finding: {f.get('severity')} {f.get('rule')}"
        + (f" at line {f['line']}" if f.get("line") is not None else "")
        + f": {f.get('message')}"
        for f in result.new_findings
    )
    if result.verdict is not None:
        v = result.verdict
        out.append("Gate: passed" if v.passed else "Gate: FAILED: " + "; ".join(v.reasons))
    return out


def render(result: DiffResult) -> str:
    title = f"layermap diff: {result.base.dockerfile or result.base.image_id[:19]} -> "
    title += result.head.dockerfile or result.head.image_id[:19]
    table = tabulate([cells(d) for d in result.lines], headers=HEADERS, disable_numparse=True)
    return "\n".join([title, "", table, "", *summary_lines(result)]) + "\n"
