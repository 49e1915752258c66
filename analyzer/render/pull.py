"""``layermap pull`` formats: table, JSON (``kind: "pull"``) and Markdown, each a pure function of a
:class:`~analyzer.teaching.pull.PullPlan`."""

from __future__ import annotations

import json
from typing import Any

from analyzer import __version__
from analyzer.render.common import human_size
from analyzer.teaching.pull import THREE_IDS, PullLayer, PullPlan

_HEAD = (
    "#",
    "pull id",
    "download",
    "unpacked",
    "diff_id",
    "chain ID",
    "hist",
    "line",
    "status",
    "created by",
)


def to_dict(plan: PullPlan) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "kind": "pull",
        "tool": {"name": "layermap", "version": __version__},
        "ref": plan.ref,
        "origin": plan.origin,
        "image_id": plan.image_id,
        "manifest_digest": plan.manifest_digest,
        "platform": plan.platform,
        "engine": {"address": plan.engine, "storage": plan.storage, "records": plan.records}
        if plan.engine
        else None,
        "layers": [_layer(layer) for layer in plan.layers],
        "totals": {
            "compressed": plan.compressed_total,
            "download": plan.download if plan.engine else plan.compressed_total,
            "unpacked": plan.unpacked_total,
            "already_present": sum(1 for la in plan.layers if la.present),
        },
        "notes": list(plan.notes),
    }


def _layer(layer: PullLayer) -> dict[str, Any]:
    return {
        "index": layer.index,
        "short_id": layer.short_id,
        "blob_digest": layer.blob_digest,
        "compressed_size": layer.compressed_size,
        "size": layer.size,
        "diff_id": layer.diff_id,
        "chain_id": layer.chain_id,
        "history_index": layer.history_index,
        "created_by": layer.created_by,
        "line": layer.line,
        "present": layer.present,
        "problems": list(layer.problems),
    }


def render_json(plan: PullPlan) -> str:
    return json.dumps(to_dict(plan), indent=2) + "\n"


def _row(layer: PullLayer) -> list[str]:
    return [
        str(layer.index),
        layer.short_id or "-",
        human_size(layer.compressed_size),
        human_size(layer.size),
        layer.diff_id.split(":", 1)[-1][:12],
        layer.chain_id.split(":", 1)[-1][:12],
        "-" if layer.history_index is None else str(layer.history_index),
        "-" if layer.line is None else str(layer.line),
        layer.status + (" (!)" if layer.problems else ""),
        _short(layer.created_by, 48),
    ]


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _totals(plan: PullPlan) -> str:
    download = plan.download if plan.engine else plan.compressed_total
    have = sum(1 for la in plan.layers if la.present)
    compared = f"; {have} of {len(plan.layers)} layers already in {plan.engine}" if plan.engine else ""
    return (
        f"download {human_size(download)} (compressed total {human_size(plan.compressed_total)}), "
        f"unpacked {human_size(plan.unpacked_total)}{compared}"
    )


def render_table(plan: PullPlan) -> str:
    from tabulate import tabulate

    head = f"{plan.ref}  →  {plan.image_id[:19]}"
    if plan.manifest_digest:
        head += f"  manifest {plan.manifest_digest[:19]}"
    if plan.platform:
        head += f"  ({plan.platform})"
    table = tabulate(
        [_row(la) for la in plan.layers], headers=_HEAD, tablefmt="simple", disable_numparse=True
    )
    lines = [head, "", table, "", _totals(plan), ""]
    lines += [f"layer {la.index}: {p}" for la in plan.layers for p in la.problems]
    lines += [f"note: {note}" for note in plan.notes]
    lines += ["", THREE_IDS]
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(plan: PullPlan) -> str:
    rows = [_row(la) for la in plan.layers]
    out = [f"### layermap pull: `{plan.ref}`", "", f"Image `{plan.image_id}`", ""]
    out.append("| " + " | ".join(_HEAD) + " |")
    out.append("|" + "---|" * len(_HEAD))
    out.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)
    out += ["", f"**{_totals(plan)}**", ""]
    out += [f"- {note}" for note in plan.notes]
    out += ["", f"> {THREE_IDS}", ""]
    return "\n".join(out)


FORMATS = {"table": render_table, "json": render_json, "markdown": render_markdown}
