"""``layermap pull --format json``: the plan as JSON (``kind: "pull"``)."""

from __future__ import annotations

import json

from analyzer.render.pull.common import to_dict
from analyzer.teaching.pull import PullPlan


def render(plan: PullPlan) -> str:
    return json.dumps(to_dict(plan), indent=2) + "\n"
