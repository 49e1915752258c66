"""HTML sections a human reads beside the annotated Dockerfile: findings with their fix, waste pairs
(the line that stored the bytes → the line that hid them), and each line's largest files.

Shared by ``--format html`` and ``--format lesson``. Every element that names a line carries
``data-line="L<n>"``, so clicking it highlights that line (``assets/report.js``).
"""

from __future__ import annotations

import re
from html import escape

from analyzer.i18n import N_, _
from analyzer.model import Finding, Report, Step, WastePair
from analyzer.render.common import severity_word
from analyzer.render.report.fixes import fix_for
from analyzer.units import human_size, integer, percent

_CODE = re.compile(r"`([^`]+)`")
# WastePair.kind and a file's change are JSON values (never translated); the page shows them in words.
WASTE_KINDS = {"deleted": N_("deleted"), "overwritten": N_("overwritten"), "copy-up": N_("copy-up")}
CHANGES = {"added": N_("added"), "modified": N_("modified"), "deleted": N_("deleted")}


def rich(text: str) -> str:
    """Escape ``text`` and show its ```code``` spans as code, not as literal backticks."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escape(text, quote=False))


def line_link(line: int | None, layer: int | None = None) -> str:
    """``line 12`` linked to its line; ``layer 3`` (not linked) for a layer no line made."""
    if line is not None:
        return f'<a data-line="L{line}" href="#L{line}">{escape(_("line {line}").format(line=line))}</a>'
    return escape(_("layer {index}").format(index=layer)) if layer is not None else ""


def findings_section(report: Report) -> str:
    """Every finding: severity, rule, the line it blames (linked), the message and how to fix it."""
    if not report.findings:
        return ""
    items = "".join(_finding_item(index, f) for index, f in enumerate(report.findings))
    legend = _(
        "What the review rules found, worst first as the gate reads them. Click a finding to see its line."
    )
    return (
        f'<section id="findings"><h2>{escape(_("Findings"))}</h2><p class="legend">{escape(legend)}</p>'
        f'<ul class="findings">{items}</ul></section>'
    )


def _finding_item(index: int, finding: Finding) -> str:
    attrs = f' data-line="L{finding.line}"' if finding.line is not None else ""
    where = _("line {line}").format(line=finding.line) if finding.line is not None else _("the image")
    fix = fix_for(finding.rule)
    fix_word = escape(_("Fix:"))
    fix_html = f'<p class="fix"><b>{fix_word}</b> {rich(fix)}</p>' if fix else ""
    return (
        f'<li id="finding-{index}" class="finding {escape(finding.severity)}"{attrs} tabindex="0">'
        f'<span class="sev">{escape(severity_word(finding.severity))}</span> '
        f"<code>{escape(finding.rule)}</code> "
        f'<span class="where">{escape(where)}</span><p>{rich(finding.message)}</p>{fix_html}</li>'
    )


def waste_section(report: Report) -> str:
    """``--contents``: bytes the image ships but never shows, as (stored by → hidden by) pairs."""
    waste = report.waste
    if waste is None:
        return ""
    dive = waste.dive_compatible
    text = _(
        "{wasted} are stored in the image but hidden by a later layer "
        "(efficiency {efficiency}; dive would report {dive_wasted}, "
        "{dive_efficiency}). Deleting or replacing a file in a later line does not take its bytes "
        "out of the layer that stored them."
    ).format(
        wasted=human_size(waste.wasted_bytes),
        efficiency=percent(waste.efficiency, 2),
        dive_wasted=human_size(dive.wasted_bytes),
        dive_efficiency=percent(dive.efficiency, 2),
    )
    summary = f"<p>{escape(text)}</p>"
    title = escape(_("Wasted space"))
    if not waste.pairs:
        return f'<section id="waste"><h2>{title}</h2>{summary}</section>'
    names = (_("Stored by"), _("Hidden by"), _("Bytes"), _("How"), _("Largest paths"))
    head = "<tr>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    rows = "".join(_waste_row(pair) for pair in waste.pairs)
    return f'<section id="waste"><h2>{title}</h2>{summary}<table>{head}{rows}</table></section>'


def _waste_row(pair: WastePair) -> str:
    paths = ", ".join(f"<code>{escape(p)}</code>" for p in pair.paths[:3])
    more = pair.path_count - min(len(pair.paths), 3)
    if more > 0:
        paths += escape(_(" and {n} more").format(n=more))
    return (
        f"<tr><td>{line_link(pair.added_line, pair.added_layer)}</td>"
        f"<td>{line_link(pair.removed_line, pair.removed_layer)}</td>"
        f"<td>{human_size(pair.bytes)}</td><td>{escape(_(WASTE_KINDS.get(pair.kind, pair.kind)))}</td>"
        f"<td>{paths}</td></tr>"
    )


def largest_files_section(report: Report) -> str:
    """``--contents``: per line that made a layer, the largest files it added, changed or deleted."""
    steps = [s for s in report.steps if s.files is not None and s.layer is not None]
    if not steps:
        return ""
    blocks = "".join(_files_block(step) for step in steps)
    title = escape(_("Largest files per line"))
    return f'<section id="files"><h2>{title}</h2>{blocks}</section>'


def _files_block(step: Step) -> str:
    files = step.files
    assert files is not None and step.layer is not None
    counts = _("{added} added, {modified} modified, {deleted} deleted; {size} added to the image").format(
        added=integer(files.added),
        modified=integer(files.modified),
        deleted=integer(files.deleted),
        size=human_size(files.bytes_added),
    )
    rows = "".join(
        f'<tr data-line="L{step.line}"><td><code>{escape(t.path)}</code></td>'
        f"<td>{escape(_(CHANGES.get(t.change, t.change)))}</td><td>{human_size(t.size)}</td></tr>"
        for t in files.top
    )
    head = "".join(f"<th>{escape(n)}</th>" for n in (_("Path"), _("Change"), _("Bytes")))
    table = f"<table><tr>{head}</tr>{rows}</table>" if rows else ""
    return (
        f'<div class="files-of"><h3>{line_link(step.line)} <code>{escape(step.text[:70])}</code> '
        f"— {escape(_('layer #{index}').format(index=step.layer.index))}</h3>"
        f'<p class="legend">{escape(counts)}</p>{table}</div>'
    )
