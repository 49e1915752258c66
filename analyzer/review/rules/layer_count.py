"""``too-many-layers``: the final image has more layers than ``max_layers``."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import ngettext
from analyzer.review.rulekit.base import NEEDS_IMAGE, Hit, Rule, RuleContext
from analyzer.review.rules.budgets import threshold

KEY = "max_layers"


def check(ctx: RuleContext) -> Iterator[Hit]:
    image = ctx.report.image
    limit = int(threshold(ctx, KEY))
    if image is None or len(image.layers) <= limit:
        return
    added = tuple(s.line for s in ctx.final_steps() if s.creates_layer)
    yield Hit(
        line=None,
        message=ngettext(
            "the image has {n} layer, over max_layers ({limit})",
            "the image has {n} layers, over max_layers ({limit})",
            len(image.layers),
        ).format(n=len(image.layers), limit=limit),
        evidence="history",
        related_lines=added,
        data={"threshold": limit, "layers": len(image.layers)},
    )


RULE = Rule(
    id="too-many-layers",
    severity="error",
    summary="The final image has more layers than max_layers.",
    check=check,
    needs=(NEEDS_IMAGE, KEY),
)
