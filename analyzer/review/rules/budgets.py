"""Helpers shared by the budget rules (image, layer, added bytes, layer count, waste)."""

from __future__ import annotations

from analyzer.i18n import _
from analyzer.model import Step
from analyzer.review.rulekit.base import RuleContext
from analyzer.units import human_size


def largest_lines(ctx: RuleContext, count: int = 3) -> tuple[int, ...]:
    """The lines of the final image's ``count`` largest layers, largest first: where to look first."""
    steps = [s for s in ctx.final_steps() if s.layer is not None and s.layer.size > 0]
    steps.sort(key=lambda s: -_size(s))
    return tuple(s.line for s in steps[:count])


def _size(step: Step) -> int:
    return step.layer.size if step.layer is not None else 0


def over(value: int, limit: float, key: str) -> str:
    """``"21.0 MB is over max_layer_size (10 MB)"``."""
    return _("{size} is over {key} ({limit})").format(
        size=human_size(value), key=key, limit=human_size(int(limit))
    )


def threshold(ctx: RuleContext, key: str) -> float:
    """A threshold the rule declared in ``needs`` (so it is set when the rule runs)."""
    value = ctx.config.thresholds.get(key)
    if value is None:  # pragma: no cover - the evaluator skips rules whose threshold is off
        raise KeyError(key)
    return value
