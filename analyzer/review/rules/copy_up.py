"""``copy-up``: a chmod, chown or hard link of a file from a lower layer copies the whole file up.

Located at the line that made the copy (the fix belongs there or at the adding line). Measured by
``--contents`` (waste pairs of kind ``copy-up``); a RUN's text mentioning chmod proves nothing about
bytes, so without contents the rule is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.review.rulekit.base import NEEDS_CONTENTS, Hit, Rule, RuleContext
from analyzer.review.rulekit.waste import pair_hits


def check(ctx: RuleContext) -> Iterator[Hit]:
    return pair_hits(ctx, ("copy-up",), at_added_line=False)


RULE = Rule(
    id="copy-up",
    severity="warning",
    summary="A chmod/chown/hard link of a lower-layer file duplicated it into a new layer.",
    check=check,
    needs=(NEEDS_CONTENTS,),
)
