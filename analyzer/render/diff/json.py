"""The ``layermap diff`` JSON (schema_version 1, ``kind: "diff"``; ``analyzer/schema/diff-v1.json``), a
pure function."""

from __future__ import annotations

import json
from typing import Any

from analyzer import __version__
from analyzer.review.diff import DiffResult, LineDelta, Side

SCHEMA_VERSION = 1


def _side(side: Side) -> dict[str, Any]:
    return {
        "dockerfile": side.dockerfile,
        "image_id": side.image_id,
        "size": side.size,
        "inherited_size": side.inherited,
        "layer_count": len(side.diff_ids),
    }


def _line(d: LineDelta) -> dict[str, Any]:
    shown = d.shown
    out: dict[str, Any] = {
        "base_line": d.base.line if d.base else None,
        "head_line": d.head.line if d.head else None,
        "instruction": shown.instruction,
        "base_size": d.base.size if d.base else 0,
        "head_size": d.head.size if d.head else 0,
        "delta": d.delta,
        "change": d.change,
        "text": shown.text,
        "base_entry": d.base.entry if d.base else None,
        "head_entry": d.head.entry if d.head else None,
    }
    if d.base and d.head and d.base.key != d.head.key:
        out["base_text"] = d.base.text
    return out


def to_dict(result: DiffResult) -> dict[str, Any]:
    """The diff as plain JSON-ready data, contract keys first."""
    verdict = result.verdict
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "diff",
        "tool": {"name": "layermap", "version": __version__},
        "base": _side(result.base),
        "head": _side(result.head),
        "total_delta": result.total_delta,
        "base_delta": result.base_delta,
        "lines": [_line(d) for d in result.lines],
        "layers_added": [{"diff_id": i, "size": s, "head_line": n} for i, s, n in result.layers_added],
        "layers_removed": [{"diff_id": i, "size": s, "base_line": n} for i, s, n in result.layers_removed],
        "new_findings": [dict(f) for f in result.new_findings],
        "gate": (
            {
                "passed": verdict.passed,
                "reasons": list(verdict.reasons),
                "max_growth": verdict.max_growth,
                "fail_on": verdict.fail_on,
            }
            if verdict
            else None
        ),
        "warnings": list(result.warnings),
    }


def render(result: DiffResult) -> str:
    return json.dumps(to_dict(result), indent=2) + "\n"
