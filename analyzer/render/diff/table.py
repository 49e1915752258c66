"""``layermap diff`` for a terminal: the per-line table, then totals, layers and new findings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tabulate import tabulate

from analyzer.i18n import N_, _
from analyzer.render.common import severity_word
from analyzer.review.diff import DiffResult, LineDelta
from analyzer.units import byte_unit, exact_size, human_size, shorten

HEADERS = [
    N_("Base"),
    N_("Head"),
    N_("Instruction"),
    N_("Base size"),
    N_("Head size"),
    N_("Delta"),
    N_("Change"),
]
# LineDelta.change is a JSON value (never translated); the tables show it in words.
CHANGES = {"same": N_("same"), "changed": N_("changed"), "added": N_("added"), "removed": N_("removed")}


def headers() -> list[str]:
    return [_(h) for h in HEADERS]


def signed_size(delta: int) -> str:
    """``+1.2 MB`` / ``-21 MB`` / ``0 B`` (Docker's decimal units, like the other reports)."""
    if delta == 0:
        return f"0 {byte_unit()}"
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
        _(CHANGES.get(d.change, d.change)),
    ]


def summary_lines(result: DiffResult) -> list[str]:
    """Totals, the inherited base, layers, new findings, warnings (e.g. a side whose Dockerfile does not
    match its image) and the gate, as plain sentences."""
    base, head = result.base, result.head
    out = [
        _("Total: {base} -> {head} ({delta}, {exact})").format(
            base=human_size(base.size),
            head=human_size(head.size),
            delta=signed_size(result.total_delta),
            exact=exact_size(result.total_delta, signed=True),
        ),
        _("Inherited base: {base}; lines: {lines}").format(
            base=signed_size(result.base_delta), lines=signed_size(sum(d.delta for d in result.lines))
        ),
        _("Layers: {base} -> {head} ({new} new, {gone} gone)").format(
            base=len(base.diff_ids),
            head=len(head.diff_ids),
            new=len(result.layers_added),
            gone=len(result.layers_removed),
        ),
    ]
    out.extend(_new_finding(f) for f in result.new_findings)
    out.extend(_("Warning: {warning}").format(warning=w) for w in result.warnings)
    if result.verdict is not None:
        v = result.verdict
        out.append(
            _("Gate: passed")
            if v.passed
            else _("Gate: FAILED: {reasons}").format(reasons="; ".join(v.reasons))
        )
    return out


def _new_finding(f: Mapping[str, Any]) -> str:
    severity = severity_word(str(f.get("severity")))
    if f.get("line") is not None:
        text = _("New finding: {severity} {rule} at line {line}: {message}")
    else:
        text = _("New finding: {severity} {rule}: {message}")
    return text.format(severity=severity, rule=f.get("rule"), line=f.get("line"), message=f.get("message"))


def render(result: DiffResult) -> str:
    title = f"layermap diff: {result.base.dockerfile or result.base.image_id[:19]} -> "
    title += result.head.dockerfile or result.head.image_id[:19]
    table = tabulate([cells(d) for d in result.lines], headers=headers(), disable_numparse=True)
    return "\n".join([title, "", table, "", *summary_lines(result)]) + "\n"
