"""``layermap pull --format markdown``: the table and totals for a pull request or a course page."""

from __future__ import annotations

from analyzer.i18n import _
from analyzer.render.pull.common import headers, row, totals
from analyzer.teaching.pull import THREE_IDS, PullPlan


def render(plan: PullPlan) -> str:
    rows = [row(la) for la in plan.layers]
    image = _("Image `{id}`").format(id=plan.image_id)
    out = [f"### layermap pull: `{plan.ref}`", "", image, ""]
    head = headers()
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    out.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)
    out += ["", f"**{totals(plan)}**", ""]
    out += [f"- {note}" for note in plan.notes]
    out += ["", f"> {_(THREE_IDS)}", ""]
    return "\n".join(out)
