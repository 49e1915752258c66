"""``layermap pull --format markdown``: the table and totals for a pull request or a course page."""

from __future__ import annotations

from analyzer.render.pull.common import HEAD, row, totals
from analyzer.teaching.pull import THREE_IDS, PullPlan


def render(plan: PullPlan) -> str:
    rows = [row(la) for la in plan.layers]
    out = [f"### layermap pull: `{plan.ref}`", "", f"Image `{plan.image_id}`", ""]
    out.append("| " + " | ".join(HEAD) + " |")
    out.append("|" + "---|" * len(HEAD))
    out.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)
    out += ["", f"**{totals(plan)}**", ""]
    out += [f"- {note}" for note in plan.notes]
    out += ["", f"> {THREE_IDS}", ""]
    return "\n".join(out)
