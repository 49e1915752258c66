"""``image-over-budget``: the final image is larger than ``max_image_size``."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import _
from analyzer.review.rulekit.base import NEEDS_IMAGE, Hit, Rule, RuleContext
from analyzer.review.rules.budgets import largest_lines, over, threshold

KEY = "max_image_size"


def check(ctx: RuleContext) -> Iterator[Hit]:
    image = ctx.report.image
    limit = threshold(ctx, KEY)
    if image is None or image.size <= limit:
        return
    yield Hit(
        line=None,
        message=_("the image's {over}").format(over=over(image.size, limit, KEY)),
        bytes=image.size,
        evidence="history",
        related_lines=largest_lines(ctx),
        data={"threshold": int(limit)},
    )


RULE = Rule(
    id="image-over-budget",
    severity="error",
    summary="The final image is larger than max_image_size.",
    check=check,
    needs=(NEEDS_IMAGE, KEY),
)
