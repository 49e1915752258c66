"""``deleted-later``: bytes a line adds that a later line deletes — they still ship in the first layer.

Measured by ``--contents`` (waste pairs of kind ``deleted``); the layer sizes alone cannot tell which
bytes a later line removed, so without it the rule is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.review.rulekit.base import NEEDS_CONTENTS, Hit, Rule, RuleContext
from analyzer.review.rulekit.waste import pair_hits


def check(ctx: RuleContext) -> Iterator[Hit]:
    return pair_hits(ctx, ("deleted",), at_added_line=True)


RULE = Rule(
    id="deleted-later",
    severity="warning",
    summary="Files added by a line and deleted by a later line still ship in the earlier layer.",
    check=check,
    needs=(NEEDS_CONTENTS,),
)
