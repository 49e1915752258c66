"""``layermap diff`` as a pull-request comment: the verdict and totals first, then the lines that changed
(unchanged lines folded into a count, so the comment stays short), layers and new findings."""

from __future__ import annotations

from tabulate import tabulate

from analyzer.i18n import _, ngettext
from analyzer.render.common import severity_word
from analyzer.render.diff.table import cells, headers, signed_size
from analyzer.review.diff import DiffResult
from analyzer.units import exact_size, human_size


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("`", "'")


def _linked(cell: str, url: str | None) -> str:
    return f"[{cell}]({url}#L{cell})" if url and cell.isdigit() else cell


def render(result: DiffResult) -> str:
    base, head = result.base, result.head
    verdict = result.verdict
    status = "" if verdict is None else (_(" — gate passed") if verdict.passed else _(" — gate **failed**"))
    image = _("Image: {base} → {head} ({exact}); inherited base {inherited}").format(
        base=human_size(base.size),
        head=human_size(head.size),
        exact=exact_size(result.total_delta, signed=True),
        inherited=signed_size(result.base_delta),
    )
    layers = _("Layers: {base} → {head} ({new} new, {gone} gone)").format(
        base=len(base.diff_ids),
        head=len(head.diff_ids),
        new=len(result.layers_added),
        gone=len(result.layers_removed),
    )
    out = [f"### layermap diff: {signed_size(result.total_delta)}{status}", "", f"- {image}", f"- {layers}"]
    if verdict is not None and not verdict.passed:
        gate = _("Gate: {reason}")
        out.extend("- " + gate.format(reason=_escape(reason)) for reason in verdict.reasons)
    changed = [d for d in result.lines if d.change != "same"]
    rows = []
    for d in changed:
        row = [_escape(c) for c in cells(d)]
        row[1] = _linked(row[1], result.dockerfile_url)
        row[2] = f"`{row[2]}`" if row[2] else row[2]
        rows.append(row)
    if rows:
        out.extend(["", tabulate(rows, headers=headers(), tablefmt="github", disable_numparse=True)])
    unchanged = len(result.lines) - len(changed)
    not_shown = ngettext("{n} unchanged line not shown.", "{n} unchanged lines not shown.", unchanged)
    out.extend(["", not_shown.format(n=unchanged)])
    if result.new_findings:
        out.extend(["", "#### " + _("New findings"), ""])
        for f in result.new_findings:
            line = ""
            if f.get("line") is not None:
                line = " " + _("line {line}").format(line=_linked(str(f["line"]), result.dockerfile_url))
            severity = severity_word(str(f.get("severity")))
            out.append(f"- **{severity}** `{f.get('rule')}`{line}: {_escape(str(f.get('message')))}")
    if result.warnings:
        out.extend(["", "#### " + _("Warnings"), ""])
        out.extend(f"- {_escape(w)}" for w in result.warnings)
    return "\n".join(out).rstrip() + "\n"
