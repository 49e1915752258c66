"""What a rule is, what it sees, and what it returns.

A rule (hadolint's shape) is one small module exposing ``RULE``: an id, a default severity, a one-line
summary and a pure ``check(ctx) -> Iterable[Hit]``. Rules never read files or talk to the engine: the
measured inputs (the report, the parsed Dockerfile, the ``--contents`` data, the build context's size)
arrive in :class:`RuleContext`. A rule whose input is missing is *skipped* — recorded as data with the
reason — rather than guessing: every byte count a finding carries was measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analyzer.i18n import _
from analyzer.model import Dockerfile, Report, Step
from analyzer.review.rulekit.config import Config
from analyzer.review.rulekit.evidence import BuildContextInfo, Contents

SEVERITIES = ("error", "warning", "info")
"""Most to least severe. ``off`` (config only) disables a rule."""

NEEDS_CONTENTS = "contents"
NEEDS_DOCKERFILE = "dockerfile"
NEEDS_IMAGE = "image"
NEEDS_CONTEXT = "context"
_INPUTS = (NEEDS_CONTENTS, NEEDS_DOCKERFILE, NEEDS_IMAGE, NEEDS_CONTEXT)


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may look at; all of it measured or parsed before the rules run."""

    report: Report
    dockerfile: Dockerfile | None
    """The parsed Dockerfile (None for an image mapped without one)."""
    config: Config
    contents: Contents | None = None
    """The ``--contents`` data (per-step files, waste pairs), when it was read."""
    build_context: BuildContextInfo | None = None
    """The build context as sent to the engine (``layermap build`` only)."""

    def final_steps(self) -> list[Step]:
        """Steps whose history entry is part of the final image, in order."""
        return [s for s in self.report.steps if s.in_final_image]

    def step_at(self, line: int) -> Step | None:
        """The (first) step written at ``line``."""
        return next((s for s in self.report.steps if s.line == line), None)


@dataclass(frozen=True)
class Hit:
    """One occurrence a rule found; the evaluator adds the rule id and the configured severity."""

    line: int | None
    """1-based Dockerfile line the finding is about; None for image-wide findings."""
    message: str
    bytes: int | None = None
    """The measured bytes behind the finding, or None when the finding is about the Dockerfile's text."""
    evidence: str = "dockerfile"
    """Where ``bytes`` comes from: ``contents`` (layer files), ``history`` (layer sizes the engine
    reports), ``context`` (the build context on disk), ``dockerfile`` (the text alone: no bytes)."""
    end_line: int | None = None
    related_lines: tuple[int, ...] = ()
    """Other lines involved: the line that deleted the bytes, the install a COPY busts, …"""
    paths: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    """Rule-specific extra fields for the JSON finding (thresholds, seconds, …)."""


@dataclass(frozen=True)
class Rule:
    """One review rule."""

    id: str
    severity: str
    """Default severity: ``error``, ``warning`` or ``info``."""
    summary: str
    """One line: what the rule flags and why it matters (SARIF ``shortDescription``, docs)."""
    check: Callable[[RuleContext], Iterable[Hit]]
    needs: tuple[str, ...] = ()
    """Inputs without which the rule is skipped: ``contents``, ``dockerfile``, ``image``, ``context``,
    or a config threshold key (a budget rule stays off until its threshold is set)."""


def missing_needs(rule: Rule, ctx: RuleContext) -> str | None:
    """Why ``rule`` cannot run on ``ctx`` (None: it can)."""
    for need in rule.needs:
        if need == NEEDS_CONTENTS and ctx.contents is None:
            return _("needs --contents (layer file data)")
        if need == NEEDS_DOCKERFILE and ctx.dockerfile is None:
            return _("needs the Dockerfile")
        if need == NEEDS_IMAGE and ctx.report.image is None:
            return _("needs a built image")
        if need == NEEDS_CONTEXT and ctx.build_context is None:
            return _("needs the build context (layermap build)")
        if need not in _INPUTS and ctx.config.thresholds.get(need) is None:
            return _("{key} is not set").format(key=need)
    return None
