"""``added-over-budget``: the Dockerfile's own lines add more than ``max_added_size`` to the base."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import _
from analyzer.review.rulekit.base import NEEDS_IMAGE, Hit, Rule, RuleContext
from analyzer.review.rules.budgets import largest_lines, over, threshold

KEY = "max_added_size"


def check(ctx: RuleContext) -> Iterator[Hit]:
    added = ctx.report.summary.added_size
    limit = threshold(ctx, KEY)
    if ctx.report.image is None or added <= limit:
        return
    yield Hit(
        line=None,
        message=_("the bytes added on top of the base: {over}").format(over=over(added, limit, KEY)),
        bytes=added,
        evidence="history",
        related_lines=largest_lines(ctx),
        data={"threshold": int(limit)},
    )


RULE = Rule(
    id="added-over-budget",
    severity="error",
    summary="The Dockerfile's lines add more than max_added_size on top of the base image.",
    check=check,
    needs=(NEEDS_IMAGE, KEY),
)
