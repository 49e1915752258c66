"""Text for the teaching features: the ``predict`` table, the ``--explain`` section (prediction vs
measurement, surprises, a paragraph per step), the layer database view; and :func:`compose`, which
puts a report in a ``--format`` together with whichever of those sections the report carries.

Pure functions of the :class:`Report`, like every renderer.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from tabulate import tabulate

from analyzer.model import Explanation, LayerDb, Report, Step
from analyzer.render.common import count_of, human_size, instruction_cell, lines_cell
from analyzer.render.report import json as json_render

WRAP = 100


def is_prediction(report: Report) -> bool:
    """A ``layermap predict`` report: nothing measured, a reason on every step."""
    return (
        report.image is None
        and report.engine is None
        and bool(report.steps)
        and all(s.reason is not None for s in report.steps)
    )


def compose(report: Report, fmt: str, colour: bool = False) -> str:
    """``report`` in ``fmt``, with the prediction, explain and layer database sections it carries."""
    if fmt == "json":
        data = json_render.to_dict(report)
        if report.explanations:
            data["explain"] = [explain_dict(report, e) for e in report.explanations]
        if report.layerdb is not None:
            data["layerdb"] = layerdb_dict(report.layerdb)
        return json.dumps(data, indent=2) + "\n"
    if fmt == "annotated":
        from analyzer.render.report import annotated

        return annotated.render(report, colour=colour)
    from analyzer.render import RENDERERS  # here: the registry imports the renderers that import this

    if fmt in ("table", "markdown") and is_prediction(report):
        head = prediction_markdown(report) if fmt == "markdown" else prediction_table(report)
    else:
        head = RENDERERS[fmt](report)
    if fmt not in ("table", "markdown"):
        return head
    md = fmt == "markdown"
    parts = [head.rstrip("\n")]
    if report.explanations:
        parts.append(explain_markdown(report) if md else explain_text(report))
    if report.layerdb is not None:
        parts.append(layerdb_markdown(report.layerdb) if md else layerdb_text(report.layerdb))
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- predict


def layer_word(creates: bool | None) -> str:
    return "depends" if creates is None else ("layer" if creates else "no layer")


def prediction_rows(report: Report) -> list[list[str]]:
    return [
        [lines_cell(s), instruction_cell(s, 40), layer_word(s.creates_layer), s.reason or ""]
        for s in report.steps
    ]


def prediction_table(report: Report) -> str:
    """The ``predict`` table: one row per step with the reason wrapped beside it."""
    rows = [[*r[:3], textwrap.fill(r[3], 60)] for r in prediction_rows(report)]
    body = tabulate(rows, headers=["Line", "Instruction", "Predicted", "Why"], tablefmt="simple")
    return (
        f"Prediction for the {report.builder} builder (no engine)\n{body}\n\n{_prediction_counts(report)}\n"
    )


def prediction_markdown(report: Report) -> str:
    rows = [[c.replace("|", "\\|") for c in r] for r in prediction_rows(report)]
    body = tabulate(rows, headers=["Line", "Instruction", "Predicted", "Why"], tablefmt="github")
    title = f"### layermap predict: `{report.dockerfile_path}` ({report.builder} builder)"
    return f"{title}\n\n{body}\n\n{_prediction_counts(report)}\n"


def _prediction_counts(report: Report) -> str:
    values = [s.creates_layer for s in report.steps if s.in_final_image and s.stage is not None]
    certain = count_of(values.count(True), "layer", "layers")
    depend = count_of(values.count(None), "step depends", "steps depend")
    without = count_of(values.count(False), "step", "steps")
    return f"Final image: {certain} certain, {depend} on the filesystem, {without} without a layer."


# --------------------------------------------------------------------------- explain


def measured_word(step: Step) -> str:
    if step.instruction == "FROM" and not step.trigger and step.stage is not None:
        return "base" if step.inherited_layers is None else f"base ({step.inherited_layers} layers)"
    if step.error is not None:
        return "failed"
    if step.creates_layer is None:
        return "not run"
    if step.layer is not None:
        return f"layer {human_size(step.layer.size)}"
    return "layer" if step.creates_layer else "no layer"


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
                e.verdict,
                e.surprise or e.note or "",
            ]
        )
    return rows


_HEADERS = ["", "Line", "Instruction", "Predicted", "Measured", "Verdict", "Note"]


def explain_text(report: Report) -> str:
    body = tabulate(explain_rows(report), headers=_HEADERS, tablefmt="simple")
    out = ["Prediction vs measurement (! marks a surprise)", body, "", "What each line did"]
    for e in report.explanations:
        step = report.steps[e.step]
        out.append(f"  line {lines_cell(step)}:")
        out.append(textwrap.fill(e.text, WRAP, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(out)


def explain_markdown(report: Report) -> str:
    rows = [[c.replace("|", "\\|") for c in r] for r in explain_rows(report)]
    out = ["#### Prediction vs measurement", "", tabulate(rows, headers=_HEADERS, tablefmt="github")]
    surprises = [e for e in report.explanations if e.surprise]
    if surprises:
        out += ["", "**Surprises**", ""]
        out += [f"- line {report.steps[e.step].line}: {e.surprise}" for e in surprises]
    out += ["", "#### What each line did", ""]
    out += [f"- {e.text}" for e in report.explanations]
    return "\n".join(out)


def explain_dict(report: Report, e: Explanation) -> dict[str, Any]:
    step = report.steps[e.step]
    return {
        "step": e.step,
        "line": step.line,
        "predicted": e.predicted,
        "measured": step.creates_layer,
        "reason": e.reason,
        "verdict": e.verdict,
        "surprise": e.surprise,
        "note": e.note,
        "text": e.text,
    }


# --------------------------------------------------------------------------- layer database


def layerdb_rows(db: LayerDb) -> list[list[str]]:
    rows = []
    for entry in db.entries:
        if entry.folder is None:
            found = "-" if not entry.problems else "missing"
        else:
            found = "ok" if not entry.problems else "; ".join(entry.problems)
        rows.append(
            [
                str(entry.index),
                entry.diff_id,
                entry.chain_id,
                human_size(entry.size),
                (entry.cache_id or "")[:12],
                found,
            ]
        )
    return rows


_DB_HEADERS = ["#", "diff_id", "chain ID (computed)", "Size", "cache-id", "layerdb"]


def layerdb_text(db: LayerDb) -> str:
    body = tabulate(layerdb_rows(db), headers=_DB_HEADERS, tablefmt="simple", disable_numparse=True)
    return f"Layer database ({db.state})\n{body}\n\n" + textwrap.fill(db.note, WRAP)


def layerdb_markdown(db: LayerDb) -> str:
    body = tabulate(layerdb_rows(db), headers=_DB_HEADERS, tablefmt="github", disable_numparse=True)
    return f"#### Layer database ({db.state})\n\n{body}\n\n{db.note}"


def layerdb_dict(db: LayerDb) -> dict[str, Any]:
    return {
        "state": db.state,
        "note": db.note,
        "storage": db.storage,
        "data_root": db.data_root,
        "layers": [
            {
                "index": e.index,
                "diff_id": e.diff_id,
                "chain_id": e.chain_id,
                "size": e.size,
                "folder": e.folder,
                "cache_id": e.cache_id,
                "parent": e.parent,
                "db_size": e.db_size,
                "db_diff": e.db_diff,
                "problems": list(e.problems),
            }
            for e in db.entries
        ],
    }
