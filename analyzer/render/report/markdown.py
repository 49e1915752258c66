"""A Markdown report that fits a pull-request comment: summary, findings (with the gate's verdict and
links to the Dockerfile lines when the CI environment gives a web address), then the per-line table."""

from __future__ import annotations

from tabulate import tabulate

from analyzer.i18n import _
from analyzer.model import Finding, Report
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.common import builder_label, rows, severity_word, summary_lines
from analyzer.render.report import findings
from analyzer.render.report.table import cells, contents_cells, has_timing, stage_title, waste_lines
from analyzer.render.report.table import headers as table_headers
from analyzer.render.report.teaching import text_report
from analyzer.units import human_size


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("`", "'")


_MARKUP = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|"})


def _text(text: str) -> str:
    """Free text in a table cell: Markdown markup characters escaped (``lists/*`` stays literal)."""
    return " ".join(text.split()).translate(_MARKUP)


def _link(label: str, url: str | None, first: int, last: int) -> str:
    anchor = f"#L{first}" if last <= first else f"#L{first}-L{last}"
    return f"[{label}]({url}{anchor})" if url else label


def _where(finding: Finding, url: str | None) -> str:
    """``line 4`` / ``lines 4-5`` / ``image``, linked when possible, with the related lines after."""
    cell = _("image")
    if finding.line is not None:
        end = max(finding.extra.get("end_line") or finding.line, finding.line)
        label = (
            _("line {n}").format(n=finding.line)
            if end == finding.line
            else _("lines {first}-{last}").format(first=finding.line, last=end)
        )
        cell = _link(label, url, finding.line, end)
    related = [_link(str(n), url, n, n) for n in finding.extra.get("related_lines") or []]
    return cell + (_(" (see {lines})").format(lines=", ".join(related)) if related else "")


def _verdict(findings: tuple[Finding, ...]) -> str:
    if not any("fails_gate" in f.extra for f in findings):
        return ""
    failing = sum(1 for f in findings if f.extra.get("fails_gate"))
    if failing:
        return _(" — gate **failed** ({n} at the fail-on level)").format(n=failing)
    return _(" — gate passed")


def findings_section(report: Report) -> list[str]:
    """The findings as a table, most useful first (they come sorted by line from the gate)."""
    if not report.findings:
        return []
    body = [
        [
            severity_word(f.severity),
            f"`{f.rule}`",
            _where(f, report.dockerfile_url),
            human_size(f.extra.get("bytes")),
            _text(f.message),
        ]
        for f in report.findings
    ]
    headers = [_("Severity"), _("Rule"), _("Where"), _("Bytes"), _("Finding")]
    table = tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)
    return ["", "#### " + _("Findings") + _verdict(report.findings), "", table, ""]


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    """The report as Markdown (or the prediction table), then its teaching sections."""
    report = findings.with_mismatches(report)
    return text_report(report, measured, markdown=True, findings=_prediction_findings)


def _prediction_findings(report: Report) -> str:
    """A measured report has its findings under the summary (``measured``); a prediction after its table."""
    return "\n".join(findings_section(report)) if report.kind == "prediction" else ""


def measured(report: Report) -> str:
    path = report.dockerfile_path or _("image")
    out = [f"### layermap: `{path}` ({builder_label(report)})", ""]
    out.extend(f"- {line}" for line in summary_lines(report))
    # The waste lines' indented details become nested items.
    out.extend(("  - " if ln.startswith(" ") else "- ") + _escape(ln.strip()) for ln in waste_lines(report))
    out.extend(findings_section(report))
    current: object = object()
    table: list[list[str]] = []

    def flush() -> None:
        if table:
            body = tabulate(table, headers=table_headers(report), tablefmt="github", disable_numparse=True)
            out.extend(["", body, ""])
            table.clear()

    for row in rows(report):
        if row.step.stage != current:
            flush()
            current = row.step.stage
            out.extend(["", f"#### {stage_title(report, row.step.stage)}"])
        table.append([_escape(c) for c in cells(row, has_timing(report)) + contents_cells(row, report)])
    flush()
    return "\n".join(out).rstrip() + "\n"
