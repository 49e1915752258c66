"""The JSON report, schema_version 1 (``analyzer/schema/report-v1.json``, README "JSON report"), as a
pure function of the Report, with the ``explain`` and ``layerdb`` sections it carries."""

from __future__ import annotations

import json
from typing import Any

from analyzer import __version__
from analyzer.mapping.align.match import describe
from analyzer.model import Explanation, Finding, Image, Layer, Mismatch, Report, Step
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.common import layer_indexes
from analyzer.render.layers.json import layerdb_dict

SCHEMA_VERSION = 1


def to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data, keys in contract order."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "layermap", "version": __version__},
        "dockerfile": (
            {"path": report.dockerfile_path, "sha256": report.dockerfile_sha256}
            if report.dockerfile_path is not None
            else None
        ),
        "builder": report.builder,
        "engine": (
            {
                "version": report.engine.version,
                "api_version": report.engine.api_version,
                "storage": report.engine.storage,
                **({"data_root": report.engine.data_root} if report.engine.data_root else {}),
            }
            if report.engine
            else None
        ),
        "image": _image(report.image),
        "base": (
            {
                "ref": report.base.ref,
                "id": report.base.id,
                "history_count": report.base.history_count,
                "layer_count": report.base.layer_count,
                "size": report.base.size,
            }
            if report.base
            else None
        ),
        "stages": [
            {
                "index": s.index,
                "name": s.name,
                "from": s.from_,
                "line": s.line,
                "in_final_image": s.in_final_image,
            }
            for s in report.stages
        ],
        "steps": [_with_files(_step(s), s, report) for s in report.steps],
        "summary": {
            "final_size": report.summary.final_size,
            "base_size": report.summary.base_size,
            "added_size": report.summary.added_size,
            "layers_added": report.summary.layers_added,
            "largest_step_line": report.summary.largest_step_line,
        },
        "findings": [_finding(f) for f in report.findings],
        "mismatches": [mismatch_dict(m) for m in report.mismatches],
        "warnings": warning_dicts(report),
        **_waste(report),
        **_teaching(report),
    }


def mismatch_dict(m: Mismatch) -> dict[str, Any]:
    return {
        "code": m.code,
        "severity": m.severity,
        "line": m.line,
        "history_index": m.history_index,
        "expected": m.expected,
        "found": m.found,
        "in_final_image": m.in_final_image,
        "message": describe(m),
    }


def warning_dicts(report: Report) -> list[dict[str, Any]]:
    """Every warning of the run as ``{code, line, history_index, message}``: each mismatch
    (``mismatch-instruction``, ``mismatch-arguments``, ``mismatch-missing``) with its line and entry, then
    the notes the run printed on stderr (``note``: sizes' meaning, engine messages, parser warnings), whose
    line and entry are not known as data."""
    out: list[dict[str, Any]] = [
        {
            "code": f"mismatch-{m.code}",
            "line": m.line,
            "history_index": m.history_index,
            "message": describe(m),
        }
        for m in report.mismatches
    ]
    out.extend({"code": "note", "line": None, "history_index": None, "message": w} for w in report.warnings)
    return out


def _teaching(report: Report) -> dict[str, Any]:
    """``--explain`` and ``--layers`` (optional keys, after the others)."""
    out: dict[str, Any] = {}
    if report.explanations:
        out["explain"] = [explain_dict(report, e) for e in report.explanations]
    if report.layerdb is not None:
        out["layerdb"] = layerdb_dict(report.layerdb)
    return out


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


def _image(image: Image | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        "id": image.id,
        "config_digest": image.config_digest,
        "manifest_digest": image.manifest_digest,
        "index_digest": image.index_digest,
        "tags": list(image.tags),
        "size": image.size,
        "layer_count": len(image.layers),
        "diff_ids": list(image.diff_ids),
        "history_count": len(image.history),
        "layers": [_layer(la) for la in image.layers],
        "history": [
            {
                "index": entry.index,
                "created_by": entry.created_by,
                "empty_layer": entry.empty_layer,
                "size": entry.size,
                "layer_index": layer,
                **({"image_id": entry.image_id} if entry.image_id is not None else {}),
            }
            for entry, layer in zip(image.history, layer_indexes(image), strict=True)
        ],
    }


def _step(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stage": step.stage,
        "line": step.line,
        "end_line": step.end_line,
        "instruction": step.instruction,
        "text": step.text,
        "trigger": step.trigger,
        "in_final_image": step.in_final_image,
        "creates_layer": step.creates_layer,
        "history": (
            {
                "index": step.history.index,
                "created_by": step.history.created_by,
                "empty_layer": step.history.empty_layer,
            }
            if step.history
            else None
        ),
        "layer": (
            {"index": step.layer.index, "diff_id": step.layer.diff_id, "size": step.layer.size}
            if step.layer
            else None
        ),
        "cached": step.cached,
        "duration_s": None if step.duration_s is None else round(step.duration_s, 3),
        "image_id": step.image_id,
        "error": ({"message": step.error.message, "exit_code": step.error.exit_code} if step.error else None),
    }
    if step.reason is not None:
        out["reason"] = step.reason
    if step.inherited_size is not None:  # optional: a FROM line's inherited base (size, layer count)
        out["inherited_size"] = step.inherited_size
    if step.inherited_layers is not None:
        out["inherited_layers"] = step.inherited_layers
    return out


def _with_files(out: dict[str, Any], step: Step, report: Report) -> dict[str, Any]:
    """``--contents``: every step gets ``files`` (null when it has no layer in the final image)."""
    if report.waste is None:
        return out
    files = step.files
    out["files"] = (
        None
        if files is None
        else {
            "added": files.added,
            "modified": files.modified,
            "deleted": files.deleted,
            "bytes_added": files.bytes_added,
            "top": [{"path": t.path, "size": t.size, "change": t.change} for t in files.top],
        }
    )
    return out


def _waste(report: Report) -> dict[str, Any]:
    """``--contents``: the top-level ``waste`` (absent without it)."""
    waste = report.waste
    if waste is None:
        return {}
    dive = waste.dive_compatible
    return {
        "waste": {
            "wasted_bytes": waste.wasted_bytes,
            "efficiency": waste.efficiency,
            "user_wasted_percent": waste.user_wasted_percent,
            "pairs": [
                {
                    "added_line": p.added_line,
                    "removed_line": p.removed_line,
                    "bytes": p.bytes,
                    "kind": p.kind,
                    "paths": list(p.paths),
                    "path_count": p.path_count,
                    "added_layer": p.added_layer,
                    "removed_layer": p.removed_layer,
                }
                for p in waste.pairs
            ],
            "dive_compatible": {
                "wasted_bytes": dive.wasted_bytes,
                "efficiency": dive.efficiency,
                "user_wasted_percent": dive.user_wasted_percent,
            },
        }
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "line": finding.line,
        "message": finding.message,
        **dict(finding.extra),
    }


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"


def _layer(layer: Layer) -> dict[str, Any]:
    out: dict[str, Any] = {"index": layer.index, "diff_id": layer.diff_id, "chain_id": layer.chain_id}
    out["size"] = layer.size
    if layer.compressed_size is not None:  # optional: only sources that know the blobs (registry, OCI)
        out["compressed_size"] = layer.compressed_size
    if layer.blob_digest is not None:
        out["blob_digest"] = layer.blob_digest
    return out
