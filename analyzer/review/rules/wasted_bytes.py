"""``wasted-bytes``: more than ``max_wasted_bytes`` ship although later lines delete or replace them.

An absolute floor beside ``min_efficiency``: a 2 GB image at 98% efficiency still wastes 40 MB.
Measured by ``--contents``; skipped without it.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import _
from analyzer.review.rulekit.base import NEEDS_CONTENTS, Hit, Rule, RuleContext
from analyzer.review.rulekit.waste import worst_lines
from analyzer.review.rules.budgets import over, threshold

KEY = "max_wasted_bytes"


def check(ctx: RuleContext) -> Iterator[Hit]:
    contents = ctx.contents
    limit = threshold(ctx, KEY)
    if contents is None or contents.wasted_bytes <= limit:
        return
    yield Hit(
        line=None,
        message=_("wasted bytes: {over}").format(over=over(contents.wasted_bytes, limit, KEY)),
        bytes=contents.wasted_bytes,
        evidence="contents",
        related_lines=worst_lines(contents),
        data={"threshold": int(limit)},
    )


RULE = Rule(
    id="wasted-bytes",
    severity="error",
    summary="More than max_wasted_bytes ship in layers although later lines delete or overwrite them.",
    check=check,
    needs=(NEEDS_CONTENTS, KEY),
)
