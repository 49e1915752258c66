"""``tiny-layers``: a run of consecutive layers that each hold almost nothing.

Each layer costs a round trip on pull, a tar header set and an entry in every chain id; three or more in
a row that each hold less than a filesystem block (4 KiB) are usually one step split for no reason.
Measured from the layer sizes the engine reports; the finding sits at the first line of the run.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import _
from analyzer.model import Step
from analyzer.review.rulekit.base import NEEDS_IMAGE, Hit, Rule, RuleContext
from analyzer.units import byte_unit, exact_size

TINY_BYTES = 4096
MIN_RUN = 3


def _runs(steps: list[Step]) -> Iterator[list[Step]]:
    """Maximal runs of consecutive layer-making steps whose layers are tiny."""
    run: list[Step] = []
    for step in steps:
        if step.layer is None:
            continue  # a metadata-only line adds no layer: it does not break a run of layers
        if step.layer.size < TINY_BYTES:
            run.append(step)
            continue
        if len(run) >= MIN_RUN:
            yield run
        run = []
    if len(run) >= MIN_RUN:
        yield run


def check(ctx: RuleContext) -> Iterator[Hit]:
    for run in _runs(ctx.final_steps()):
        total = sum(s.layer.size for s in run if s.layer is not None)
        lines = ", ".join(str(s.line) for s in run)
        yield Hit(
            line=run[0].line,
            end_line=run[0].end_line,
            message=_(
                "{n} consecutive layers of less than {tiny} each ({total} in all, lines {lines}): "
                "merge them into fewer steps"
            ).format(n=len(run), tiny=f"{TINY_BYTES} {byte_unit()}", total=exact_size(total), lines=lines),
            bytes=total,
            evidence="history",
            related_lines=tuple(s.line for s in run[1:]),
            data={"layers": len(run)},
        )


RULE = Rule(
    id="tiny-layers",
    severity="info",
    summary="Three or more consecutive layers that each hold less than 4 KiB.",
    check=check,
    needs=(NEEDS_IMAGE,),
)
