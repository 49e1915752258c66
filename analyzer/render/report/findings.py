"""The findings as plain text: the block under the table (``--format table``), the marks and the list
of ``--format annotated``, and the gate's lines on stderr (one per failing finding).

Pure functions of :class:`~analyzer.model.Finding` values, shared so every human format says the same
thing about a finding: severity, rule, line, message, the measured bytes and the paths involved.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import replace

from analyzer.i18n import _
from analyzer.mapping.align.match import describe
from analyzer.model import Finding, Mismatch, Report
from analyzer.render.common import severity_word
from analyzer.units import human_size

MISMATCH_RULE = "dockerfile-mismatch"
"""The rule id a :class:`~analyzer.model.Mismatch` takes in the human formats (table, Markdown, annotated,
HTML, SARIF, GitHub annotations); the JSON report keeps them apart, in ``mismatches``."""
MISMATCH_SUMMARY = "A history entry of the image does not come from the Dockerfile line its position gives it"

MARKS = {"error": "E", "warning": "W", "info": "i"}
"""The annotated gutter's mark per severity (the most severe finding of a line wins)."""
_RANK = {"error": 0, "warning": 1, "info": 2}
MESSAGE_WIDTH = 72
MAX_PATHS = 3


def mismatch_finding(m: Mismatch) -> Finding:
    """A mismatch as a finding: ``error`` when another instruction wrote the entry or there is none."""
    scope = "" if m.in_final_image else " " + _("(a stage image outside the final image)")
    message = describe(m).split(": ", 1)[1].lstrip() + scope
    extra = {"code": m.code, "history_index": m.history_index, "expected": m.expected, "found": m.found}
    return Finding(MISMATCH_RULE, m.severity, m.line, message, extra)


def with_mismatches(report: Report) -> Report:
    """``report`` with its mismatches first among the findings, so every human format shows them."""
    if not report.mismatches:
        return report
    return replace(report, findings=(*map(mismatch_finding, report.mismatches), *report.findings))


def where(finding: Finding) -> str:
    """``5``, ``5-7`` or ``image`` (a finding about the whole image)."""
    if finding.line is None:
        return _("image")
    end = finding.extra.get("end_line") or finding.line
    return str(finding.line) if end <= finding.line else f"{finding.line}-{end}"


def where_label(finding: Finding) -> str:
    """``line 5``, ``lines 5-7`` or ``image``."""
    at = where(finding)
    if finding.line is None:
        return at
    return (_("line {line}") if "-" not in at else _("lines {lines}")).format(line=at, lines=at)


def paths_text(finding: Finding, limit: int = MAX_PATHS) -> str:
    """``a, b, c and 4 more`` (empty when the finding names no path)."""
    paths = [str(p) for p in finding.extra.get("paths") or ()]
    if not paths:
        return ""
    shown = ", ".join(paths[:limit])
    more = _(" and {n} more").format(n=len(paths) - limit)
    return shown + (more if len(paths) > limit else "")


def bytes_text(finding: Finding) -> str:
    value = finding.extra.get("bytes")
    return human_size(value) if isinstance(value, int) else ""


def verdict_text(findings: Sequence[Finding]) -> str:
    """`` — gate FAILED (2 at the fail-on level)`` / `` — gate passed`` / nothing (no gate ran)."""
    if not any("fails_gate" in f.extra for f in findings):
        return ""
    failing = sum(1 for f in findings if f.extra.get("fails_gate"))
    if failing:
        return " — " + _("gate FAILED ({n} at the fail-on level)").format(n=failing)
    return " — " + _("gate passed")


def block(report: Report) -> str:
    """The findings block under the table: one entry per finding, the message wrapped under it."""
    if not report.findings:
        return ""
    head = _("Findings ({n})").format(n=len(report.findings)) + verdict_text(report.findings)
    out = [head]
    # The severity column as wide as its longest word (« avertissement » is 13 characters).
    width = max(7, *(len(severity_word(f.severity)) for f in report.findings))
    for f in report.findings:
        size = bytes_text(f)
        fails = " " + _("(fails the gate)") if f.extra.get("fails_gate") else ""
        severity = severity_word(f.severity)
        out.append(f"  {severity:<{width}} {f.rule}  {where_label(f)}{'  ' + size if size else ''}{fails}")
        out.append(
            textwrap.fill(f.message, MESSAGE_WIDTH, initial_indent=" " * 10, subsequent_indent=" " * 10)
        )
        paths = paths_text(f)
        if paths:
            out.append(
                textwrap.fill(
                    _("paths: {paths}").format(paths=paths),
                    MESSAGE_WIDTH,
                    initial_indent=" " * 10,
                    subsequent_indent=" " * 12,
                )
            )
    return "\n".join(out)


def marks_by_line(findings: Iterable[Finding]) -> dict[int, str]:
    """Dockerfile line → the mark of its most severe finding."""
    best: dict[int, Finding] = {}
    for f in findings:
        if f.line is None:
            continue
        held = best.get(f.line)
        if held is None or _RANK.get(f.severity, 3) < _RANK.get(held.severity, 3):
            best[f.line] = f
    return {line: MARKS.get(f.severity, "?") for line, f in best.items()}


def annotated_list(report: Report) -> list[str]:
    """The comment lines under an annotated Dockerfile: the marks' legend, then one line per finding."""
    if not report.findings:
        return []
    out = ["# " + _("findings (gutter marks: E error, W warning, i info)") + verdict_text(report.findings)]
    for f in report.findings:
        size = bytes_text(f)
        mark = MARKS.get(f.severity, "?")
        line = f"# {mark} {where_label(f)} {f.rule}: {' '.join(f.message.split())}"
        line += f" [{size}]" if size else ""
        paths = paths_text(f)
        out.append(line + (" (" + _("paths: {paths}").format(paths=paths) + ")" if paths else ""))
    return out


def gate_lines(failing: Sequence[Finding], dockerfile: str | None) -> list[str]:
    """One stderr line per failing finding, in the compilers' ``FILE:LINE: severity rule: message`` shape
    editors and CI logs link to; ``image`` instead of a line for a finding about the whole image."""
    name = dockerfile or "image"
    out = []
    for f in failing:
        at = f"{name}:{f.line}" if f.line is not None else name
        paths = paths_text(f)
        extra = f" (paths: {paths})" if paths else ""
        out.append(f"layermap: {at}: {f.severity} {f.rule}: {' '.join(f.message.split())}{extra}")
    return out
