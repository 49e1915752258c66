"""What the ``layermap pull`` formats share: the JSON shape (``kind: "pull"``), the table rows, the totals."""

from __future__ import annotations

from typing import Any

from analyzer import __version__
from analyzer.i18n import N_, _
from analyzer.teaching.pull import PullLayer, PullPlan
from analyzer.units import human_size

HEAD = (
    "#",
    N_("pull id"),
    N_("download"),
    N_("unpacked"),
    "diff_id",
    "chain ID",
    N_("hist"),
    N_("line"),
    N_("status"),
    N_("created by"),
)


def headers() -> list[str]:
    """:data:`HEAD` in the run's language (the status column keeps docker pull's own words)."""
    return [_(h) for h in HEAD]


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


def row(layer: PullLayer) -> list[str]:
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


def totals(plan: PullPlan) -> str:
    download = plan.download if plan.engine else plan.compressed_total
    have = sum(1 for la in plan.layers if la.present)
    compared = (
        _("; {have} of {n} layers already in {engine}").format(
            have=have, n=len(plan.layers), engine=plan.engine
        )
        if plan.engine
        else ""
    )
    return (
        _("download {download} (compressed total {compressed}), unpacked {unpacked}").format(
            download=human_size(download),
            compressed=human_size(plan.compressed_total),
            unpacked=human_size(plan.unpacked_total),
        )
        + compared
    )
