"""``base-image-waste``: a line deletes, replaces or copies up files that came with the base image.

The old versions stay in the base's layers, so they still ship; usually a side effect of installing
packages (dpkg's status file, debconf's caches) and only fixable by choosing or building another base,
hence ``info`` by default. Measured by ``--contents`` (waste pairs without an adding line).
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.review.rulekit.base import NEEDS_CONTENTS, Hit, Rule, RuleContext
from analyzer.review.rulekit.waste import pair_hits


def check(ctx: RuleContext) -> Iterator[Hit]:
    return pair_hits(ctx, ("deleted", "overwritten", "copy-up"), at_added_line=False, base=True)


RULE = Rule(
    id="base-image-waste",
    severity="info",
    summary="A line deletes or replaces files of the base image, whose layers still ship the old versions.",
    check=check,
    needs=(NEEDS_CONTENTS,),
)
