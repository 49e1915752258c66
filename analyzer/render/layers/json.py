"""``layermap layers`` as JSON (``"kind": "layers"``, schema_version 1), and the layer database object
the JSON report carries under ``layerdb`` with ``--layers``."""

from __future__ import annotations

import json
from typing import Any

from analyzer.model import LayerDb, LayersView

SCHEMA_VERSION = 1


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


def render(view: LayersView) -> str:
    image = view.image
    data = {
        "schema_version": SCHEMA_VERSION,
        "kind": "layers",
        "image": {"id": image.id, "tags": list(image.tags)},
    }
    return json.dumps({**data, **layerdb_dict(view.layerdb)}, indent=2) + "\n"
