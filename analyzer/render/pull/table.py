"""``layermap pull`` as a table: a row per layer, the totals, the notes, why the three ids differ."""

from __future__ import annotations

from analyzer.i18n import _
from analyzer.render.pull.common import headers, row, totals
from analyzer.teaching.pull import THREE_IDS, PullPlan


def render(plan: PullPlan) -> str:
    from tabulate import tabulate

    head = f"{plan.ref}  →  {plan.image_id[:19]}"
    if plan.manifest_digest:
        head += "  " + _("manifest {digest}").format(digest=plan.manifest_digest[:19])
    if plan.platform:
        head += f"  ({plan.platform})"
    table = tabulate(
        [row(la) for la in plan.layers], headers=headers(), tablefmt="simple", disable_numparse=True
    )
    lines = [head, "", table, "", totals(plan), ""]
    lines += [
        _("layer {index}: {problem}").format(index=la.index, problem=p)
        for la in plan.layers
        for p in la.problems
    ]
    lines += [_("note: {note}").format(note=note) for note in plan.notes]
    lines += ["", _(THREE_IDS)]
    return "\n".join(lines).rstrip() + "\n"
