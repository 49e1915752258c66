"""Text for the teaching features: the ``predict`` table and the ``--explain`` section (prediction vs
measurement, surprises, a paragraph per step); and :func:`text_report`, which the table and Markdown
renderers use to write a whole report: the prediction table or their measured table, then the explain
and layer database (``render/layers/layerdb.py``) sections the report carries.

Pure functions of the :class:`Report`, like every renderer.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from tabulate import tabulate

from analyzer.i18n import N_, _, ngettext
from analyzer.model import Report, Step
from analyzer.render.common import instruction_cell, lines_cell
from analyzer.render.layers.layerdb import layerdb_markdown, layerdb_text
from analyzer.units import count_of, human_size

WRAP = 100


def text_report(
    report: Report, measured: Callable[[Report], str], markdown: bool, findings: Callable[[Report], str]
) -> str:
    """A text format's whole output (table or Markdown): the prediction table for a prediction, else
    ``measured(report)``; the ``findings`` section; then the ``--explain`` and ``--layers`` sections the
    report carries."""
    if report.kind == "prediction":
        head = prediction_markdown(report) if markdown else prediction_table(report)
    else:
        head = measured(report)
    parts = [head.rstrip("\n")]
    block = findings(report).strip("\n") if report.findings else ""
    if block:
        parts.append(block)
    if report.explanations:
        parts.append(explain_markdown(report) if markdown else explain_text(report))
    if report.layerdb is not None:
        parts.append(layerdb_markdown(report.layerdb) if markdown else layerdb_text(report.layerdb))
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- predict


def layer_word(creates: bool | None) -> str:
    return _("depends") if creates is None else (_("layer") if creates else _("no layer"))


def prediction_rows(report: Report) -> list[list[str]]:
    return [
        [lines_cell(s), instruction_cell(s, 40), layer_word(s.creates_layer), s.reason or ""]
        for s in report.steps
    ]


def prediction_table(report: Report) -> str:
    """The ``predict`` table: one row per step with the reason wrapped beside it."""
    wrapped: dict[str, str] = {}  # most reasons repeat: wrap each text once (10,000 lines: 0.3 s saved)
    rows = [
        [*r[:3], wrapped.get(r[3]) or wrapped.setdefault(r[3], textwrap.fill(r[3], 60))]
        for r in prediction_rows(report)
    ]
    body = simple_table(_prediction_headers(), rows, _line_aligned(rows))
    title = _("Prediction for the {builder} builder (no engine)").format(builder=report.builder)
    return f"{title}\n{body}\n\n{_prediction_counts(report)}\n"


def _prediction_headers() -> list[str]:
    return [_("Line"), _("Instruction"), _("Predicted"), _("Why")]


def prediction_markdown(report: Report) -> str:
    rows = [[c.replace("|", "\\|") for c in r] for r in prediction_rows(report)]
    body = tabulate(
        rows,
        headers=_prediction_headers(),
        tablefmt="github",
        disable_numparse=True,
        colalign=_line_aligned(rows),
    )
    title = "### layermap predict: " + _("`{path}` ({builder} builder)").format(
        path=report.dockerfile_path, builder=report.builder
    )
    return f"{title}\n\n{body}\n\n{_prediction_counts(report)}\n"


def simple_table(headers: list[str], rows: list[list[str]], align: tuple[str, ...]) -> str:
    """What ``tabulate(rows, headers, tablefmt="simple", disable_numparse=True, colalign=align)`` writes,
    in linear time: a 10,000-line prediction took tabulate 0.9 s (its per-cell width and type checks),
    this 0.05 s. Columns are as wide as their widest line or their header plus 2, two spaces apart; a
    cell may span several lines; no line ends in spaces."""
    cells = [[cell.strip().split("\n") for cell in row] for row in rows]  # tabulate strips cells
    widths = [
        max([len(header) + 2] + [len(line) for row in cells for line in row[i]])
        for i, header in enumerate(headers)
    ]

    def line(texts: list[str]) -> str:
        columns = zip(texts, widths, align, strict=True)
        padded = (t.rjust(w) if a == "right" else t.ljust(w) for t, w, a in columns)
        return "  ".join(padded).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(
        line([cell[k] if k < len(cell) else "" for cell in row])
        for row in cells
        for k in range(max(len(cell) for cell in row))
    )
    return "\n".join(out)


def _line_aligned(rows: list[list[str]]) -> tuple[str, ...]:
    """Cells kept as strings (tabulate's number detection per cell is the costliest part of a long
    table), aligned as it would align them: the Line column right when every cell is a number."""
    numeric = all(row[0].strip().isdigit() for row in rows)
    return ("right" if numeric else "left", "left", "left", "left")


def _prediction_counts(report: Report) -> str:
    values = [s.creates_layer for s in report.steps if s.in_final_image and s.stage is not None]
    certain, depend, without = values.count(True), values.count(None), values.count(False)
    return _("Final image: {certain}, {depend}, {without}.").format(
        certain=ngettext("{n} layer certain", "{n} layers certain", certain).format(n=certain),
        depend=ngettext(
            "{n} step depends on the filesystem", "{n} steps depend on the filesystem", depend
        ).format(n=depend),
        without=ngettext("{n} step without a layer", "{n} steps without a layer", without).format(n=without),
    )


# --------------------------------------------------------------------------- explain


def measured_word(step: Step) -> str:
    if step.instruction == "FROM" and not step.trigger and step.stage is not None:
        base = _("base")
        return (
            base
            if step.inherited_layers is None
            else f"{base} ({count_of(step.inherited_layers, 'layer', 'layers')})"
        )
    if step.error is not None:
        return _("failed")
    if step.creates_layer is None:
        return _("not run")
    if step.layer is not None:
        return _("layer {size}").format(size=human_size(step.layer.size))
    return _("layer") if step.creates_layer else _("no layer")


def explain_rows(report: Report) -> list[list[str]]:
    rows = []
    for e in report.explanations:
        step = report.steps[e.step]
        mark = "!" if e.surprise else ""
        rows.append(
            [
                mark,
                lines_cell(step),
                instruction_cell(step, 36),
                layer_word(e.predicted),
                measured_word(step),
                _(VERDICTS.get(e.verdict, e.verdict)),
                e.surprise or e.note or "",
            ]
        )
    return rows


_HEADERS = ["", N_("Line"), N_("Instruction"), N_("Predicted"), N_("Measured"), N_("Verdict"), N_("Note")]
# Explanation.verdict is a JSON value (never translated); the tables show it in words.
VERDICTS = {
    "as predicted": N_("as predicted"),
    "wrong": N_("wrong"),
    "resolved": N_("resolved"),
    "not run": N_("not run"),
}


def _headers() -> list[str]:
    return [_(h) if h else h for h in _HEADERS]


def explain_text(report: Report) -> str:
    body = tabulate(explain_rows(report), headers=_headers(), tablefmt="simple")
    out = [_("Prediction vs measurement (! marks a surprise)"), body, "", _("What each line did")]
    for e in report.explanations:
        step = report.steps[e.step]
        out.append("  " + _("line {n}:").format(n=lines_cell(step)))
        out.append(textwrap.fill(e.text, WRAP, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(out)


def explain_markdown(report: Report) -> str:
    rows = [[c.replace("|", "\\|") for c in r] for r in explain_rows(report)]
    out = [
        "#### " + _("Prediction vs measurement"),
        "",
        tabulate(rows, headers=_headers(), tablefmt="github"),
    ]
    surprises = [e for e in report.explanations if e.surprise]
    if surprises:
        out += ["", "**" + _("Surprises") + "**", ""]
        out += [
            "- " + _("line {n}:").format(n=report.steps[e.step].line) + f" {e.surprise}" for e in surprises
        ]
    out += ["", "#### " + _("What each line did"), ""]
    out += [f"- {e.text}" for e in report.explanations]
    return "\n".join(out)
