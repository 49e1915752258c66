"""``layermap pull`` as a table: a row per layer, the totals, the notes, why the three ids differ."""

from __future__ import annotations

from analyzer.render.pull.common import HEAD, row, totals
from analyzer.teaching.pull import THREE_IDS, PullPlan


def render(plan: PullPlan) -> str:
    from tabulate import tabulate

    head = f"{plan.ref}  →  {plan.image_id[:19]}"
    if plan.manifest_digest:
        head += f"  manifest {plan.manifest_digest[:19]}"
    if plan.platform:
        head += f"  ({plan.platform})"
    table = tabulate([row(la) for la in plan.layers], headers=HEAD, tablefmt="simple", disable_numparse=True)
    lines = [head, "", table, "", totals(plan), ""]
    lines += [f"layer {la.index}: {p}" for la in plan.layers for p in la.problems]
    lines += [f"note: {note}" for note in plan.notes]
    lines += ["", THREE_IDS]
    return "\n".join(lines).rstrip() + "\n"
