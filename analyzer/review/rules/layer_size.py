"""``layer-over-budget``: a line of the Dockerfile made a layer larger than ``max_layer_size``."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import _
from analyzer.review.rulekit.base import NEEDS_IMAGE, Hit, Rule, RuleContext
from analyzer.review.rules.budgets import over, threshold

KEY = "max_layer_size"


def check(ctx: RuleContext) -> Iterator[Hit]:
    limit = threshold(ctx, KEY)
    for step in ctx.final_steps():
        if step.layer is not None and step.layer.size > limit:
            yield Hit(
                line=step.line,
                end_line=step.end_line,
                message=_("this line's layer: {over}").format(over=over(step.layer.size, limit, KEY)),
                bytes=step.layer.size,
                evidence="history",
                data={"threshold": int(limit)},
            )


RULE = Rule(
    id="layer-over-budget",
    severity="error",
    summary="A line made a layer larger than max_layer_size.",
    check=check,
    needs=(NEEDS_IMAGE, KEY),
)
