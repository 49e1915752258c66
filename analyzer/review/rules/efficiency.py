"""``low-efficiency``: the share of the image's bytes that is not wasted is below ``min_efficiency``.

Efficiency and wasted bytes come from ``--contents`` (defined like dive's, see the contents module);
without it there is nothing measured to compare, so the rule is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import _
from analyzer.review.rulekit.base import NEEDS_CONTENTS, Hit, Rule, RuleContext
from analyzer.review.rulekit.waste import worst_lines
from analyzer.review.rules.budgets import threshold
from analyzer.units import percent

KEY = "min_efficiency"


def check(ctx: RuleContext) -> Iterator[Hit]:
    contents = ctx.contents
    limit = threshold(ctx, KEY)
    if contents is None or contents.efficiency >= limit:
        return
    yield Hit(
        line=None,
        message=_("image efficiency {efficiency} is under min_efficiency ({limit})").format(
            efficiency=percent(contents.efficiency), limit=percent(limit)
        ),
        bytes=contents.wasted_bytes,
        evidence="contents",
        related_lines=worst_lines(contents),
        data={"threshold": limit, "efficiency": contents.efficiency},
    )


RULE = Rule(
    id="low-efficiency",
    severity="error",
    summary="Image efficiency (bytes not wasted by later lines) is below min_efficiency.",
    check=check,
    needs=(NEEDS_CONTENTS, KEY),
)
