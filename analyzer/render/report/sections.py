"""HTML sections a human reads beside the annotated Dockerfile: findings with their fix, waste pairs
(the line that stored the bytes → the line that hid them), and each line's largest files.

Shared by ``--format html`` and ``--format lesson``. Every element that names a line carries
``data-line="L<n>"``, so clicking it highlights that line (``assets/report.js``).
"""

from __future__ import annotations

import re
from html import escape

from analyzer.model import Finding, Report, Step, WastePair
from analyzer.render.report.fixes import fix_for
from analyzer.units import human_size

_CODE = re.compile(r"`([^`]+)`")


def rich(text: str) -> str:
    """Escape ``text`` and show its ```code``` spans as code, not as literal backticks."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escape(text, quote=False))


def line_link(line: int | None, layer: int | None = None) -> str:
    """``line 12`` linked to its line; ``layer 3`` (not linked) for a layer no line made."""
    if line is not None:
        return f'<a data-line="L{line}" href="#L{line}">line {line}</a>'
    return f"layer {layer}" if layer is not None else ""


def findings_section(report: Report) -> str:
    """Every finding: severity, rule, the line it blames (linked), the message and how to fix it."""
    if not report.findings:
        return ""
    items = "".join(_finding_item(index, f) for index, f in enumerate(report.findings))
    return (
        '<section id="findings"><h2>Findings</h2>'
        '<p class="legend">What the review rules found, worst first as the gate reads them. '
        "Click a finding to see its line.</p>"
        f'<ul class="findings">{items}</ul></section>'
    )


def _finding_item(index: int, finding: Finding) -> str:
    attrs = f' data-line="L{finding.line}"' if finding.line is not None else ""
    where = f"line {finding.line}" if finding.line is not None else "the image"
    fix = fix_for(finding.rule)
    fix_html = f'<p class="fix"><b>Fix:</b> {rich(fix)}</p>' if fix else ""
    return (
        f'<li id="finding-{index}" class="finding {escape(finding.severity)}"{attrs} tabindex="0">'
        f'<span class="sev">{escape(finding.severity)}</span> <code>{escape(finding.rule)}</code> '
        f'<span class="where">{escape(where)}</span><p>{rich(finding.message)}</p>{fix_html}</li>'
    )


def waste_section(report: Report) -> str:
    """``--contents``: bytes the image ships but never shows, as (stored by → hidden by) pairs."""
    waste = report.waste
    if waste is None:
        return ""
    dive = waste.dive_compatible
    summary = (
        f"<p>{human_size(waste.wasted_bytes)} are stored in the image but hidden by a later layer "
        f"(efficiency {waste.efficiency:.2%}; dive would report {human_size(dive.wasted_bytes)}, "
        f"{dive.efficiency:.2%}). Deleting or replacing a file in a later line does not take its bytes "
        "out of the layer that stored them.</p>"
    )
    if not waste.pairs:
        return f'<section id="waste"><h2>Wasted space</h2>{summary}</section>'
    head = "<tr><th>Stored by</th><th>Hidden by</th><th>Bytes</th><th>How</th><th>Largest paths</th></tr>"
    rows = "".join(_waste_row(pair) for pair in waste.pairs)
    return f'<section id="waste"><h2>Wasted space</h2>{summary}<table>{head}{rows}</table></section>'


def _waste_row(pair: WastePair) -> str:
    paths = ", ".join(f"<code>{escape(p)}</code>" for p in pair.paths[:3])
    more = pair.path_count - min(len(pair.paths), 3)
    if more > 0:
        paths += f" and {more} more"
    return (
        f"<tr><td>{line_link(pair.added_line, pair.added_layer)}</td>"
        f"<td>{line_link(pair.removed_line, pair.removed_layer)}</td>"
        f"<td>{human_size(pair.bytes)}</td><td>{escape(pair.kind)}</td><td>{paths}</td></tr>"
    )


def largest_files_section(report: Report) -> str:
    """``--contents``: per line that made a layer, the largest files it added, changed or deleted."""
    steps = [s for s in report.steps if s.files is not None and s.layer is not None]
    if not steps:
        return ""
    blocks = "".join(_files_block(step) for step in steps)
    return f'<section id="files"><h2>Largest files per line</h2>{blocks}</section>'


def _files_block(step: Step) -> str:
    files = step.files
    assert files is not None and step.layer is not None
    counts = (
        f"{files.added} added, {files.modified} modified, {files.deleted} deleted; "
        f"{human_size(files.bytes_added)} added to the image"
    )
    rows = "".join(
        f'<tr data-line="L{step.line}"><td><code>{escape(t.path)}</code></td>'
        f"<td>{escape(t.change)}</td><td>{human_size(t.size)}</td></tr>"
        for t in files.top
    )
    table = f"<table><tr><th>Path</th><th>Change</th><th>Bytes</th></tr>{rows}</table>" if rows else ""
    return (
        f'<div class="files-of"><h3>{line_link(step.line)} <code>{escape(step.text[:70])}</code> '
        f'— layer #{step.layer.index}</h3><p class="legend">{escape(counts)}</p>{table}</div>'
    )
