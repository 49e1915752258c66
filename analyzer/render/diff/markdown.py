"""``layermap diff`` as a pull-request comment: the verdict and totals first, then the lines that changed
(unchanged lines folded into a count, so the comment stays short), layers and new findings."""

from __future__ import annotations

from tabulate import tabulate

from analyzer.render.diff.table import HEADERS, cells, signed_size
from analyzer.review.diff import DiffResult
from analyzer.units import exact_size, human_size


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("`", "'")


def _linked(cell: str, url: str | None) -> str:
    return f"[{cell}]({url}#L{cell})" if url and cell.isdigit() else cell


def render(result: DiffResult) -> str:
    base, head = result.base, result.head
    verdict = result.verdict
    status = "" if verdict is None else (" — gate passed" if verdict.passed else " — gate **failed**")
    out = [
        f"### layermap diff: {signed_size(result.total_delta)}{status}",
        "",
        f"- Image: {human_size(base.size)} → {human_size(head.size)} "
        f"({exact_size(result.total_delta, signed=True)}); "
        f"inherited base {signed_size(result.base_delta)}",
        f"- Layers: {len(base.diff_ids)} → {len(head.diff_ids)} ({len(result.layers_added)} new, "
        f"{len(result.layers_removed)} gone)",
    ]
    if verdict is not None and not verdict.passed:
        out.extend(f"- Gate: {_escape(reason)}" for reason in verdict.reasons)
    changed = [d for d in result.lines if d.change != "same"]
    rows = []
    for d in changed:
        row = [_escape(c) for c in cells(d)]
        row[1] = _linked(row[1], result.dockerfile_url)
        row[2] = f"`{row[2]}`" if row[2] else row[2]
        rows.append(row)
    if rows:
        out.extend(["", tabulate(rows, headers=HEADERS, tablefmt="github", disable_numparse=True)])
    unchanged = len(result.lines) - len(changed)
    out.extend(["", f"{unchanged} unchanged line{'' if unchanged == 1 else 's'} not shown."])
    if result.new_findings:
        out.extend(["", "#### New findings", ""])
        out.extend(
            f"- **{f.get('severity')}** `{f.get('rule')}`"
            + (f" line {_linked(str(f['line']), result.dockerfile_url)}" if f.get("line") is not None else "")
            + f": {_escape(str(f.get('message')))}"
            for f in result.new_findings
        )
    return "\n".join(out).rstrip() + "\n"
