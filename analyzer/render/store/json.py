"""``layermap store --format json``."""

from __future__ import annotations

import json

from analyzer.render.store.common import to_dict
from analyzer.teaching.store import StoreView


def render(view: StoreView) -> str:
    tree, check, engine = view.tree, view.check, view.engine
    return json.dumps(to_dict(tree, check, engine), indent=2) + "\n"
