"""What the ``layermap store`` formats share: image names and the JSON shape (``kind: "store"``)."""

from __future__ import annotations

from typing import Any

from analyzer import __version__
from analyzer.image.layerstore import StoreCheck
from analyzer.teaching.store import StoreTree


def image_names(tree: StoreTree) -> dict[str, str]:
    return {im.id: (im.tags[0] if im.tags else im.id.split(":", 1)[-1][:12]) for im in tree.images}


def to_dict(tree: StoreTree, check: StoreCheck, engine: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "kind": "store",
        "tool": {"name": "layermap", "version": __version__},
        "engine": engine,
        "nodes": [
            {
                "chain_id": n.chain_id,
                "diff_id": n.diff_id,
                "parent": n.parent,
                "depth": n.depth,
                "size": n.size,
                "images": list(n.images),
                "tops": list(n.tops),
            }
            for n in tree.nodes.values()
        ],
        "images": [
            {
                "id": i.id,
                "tags": list(i.tags),
                "size": i.size,
                "alone": i.alone,
                "shared": i.shared,
                "top": i.top,
            }
            for i in tree.images
        ],
        "totals": {"store": tree.store_total, "images": tree.images_total, "saved": tree.saved},
        "layerdb": {
            "state": check.state,
            "note": check.note,
            "problems": list(check.problems),
            "unreferenced": [{"chain_id": u.chain_id, "size": u.size} for u in check.unreferenced],
        },
    }
