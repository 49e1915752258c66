"""``overwritten-later``: bytes a line adds that a later line overwrites — the hidden copy still ships.

Measured by ``--contents`` (waste pairs of kind ``overwritten``); skipped without it.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.review.rulekit.base import NEEDS_CONTENTS, Hit, Rule, RuleContext
from analyzer.review.rulekit.waste import pair_hits


def check(ctx: RuleContext) -> Iterator[Hit]:
    return pair_hits(ctx, ("overwritten",), at_added_line=True)


RULE = Rule(
    id="overwritten-later",
    severity="warning",
    summary="Files added by a line and overwritten by a later line ship twice.",
    check=check,
    needs=(NEEDS_CONTENTS,),
)
