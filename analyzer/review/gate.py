"""The CI gate: run the review rules on a report and decide pass or fail from the same findings.

``review`` is the one entry point the commands use: it measures what the rules need that the report
does not hold (the build context on disk), evaluates the rules, marks each finding that fails the gate
(``fails_gate``) and returns the report with its findings next to the verdict, so the JSON written and
the exit code always come from the same run. Thresholds live in the rules (``analyzer/review/rules/``)
as dive's CI rules do; the gate only compares severities with ``--fail-on``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.errors import UsageError
from analyzer.i18n import _
from analyzer.model import Dockerfile, Finding, Report
from analyzer.review.rulekit.config import FAIL_ON, Config, find_config, load_config, parse_size
from analyzer.review.rulekit.evidence import contents_of, measure_context
from analyzer.review.rules import BY_ID, RuleContext, Skipped, evaluate
from analyzer.units import count_of

if TYPE_CHECKING:  # the diff's matching is only ``diff``'s to import
    from analyzer.review.diff import DiffResult, DiffVerdict

FAIL_ON_DEFAULT = "error"
__all__ = [
    "FAIL_ON",
    "Review",
    "Verdict",
    "config_for",
    "fails",
    "overridden",
    "judge",
    "parse_growth",
    "review",
    "summary_line",
]
_RANK = {"error": 0, "warning": 1, "info": 2}
_FAILS = {"error": {"error"}, "warning": {"error", "warning"}, "never": set[str]()}
CONTENTS_KEYS = ("min_efficiency", "max_wasted_bytes")


@dataclass(frozen=True)
class Verdict:
    """Pass or fail, and why."""

    fail_on: str
    passed: bool
    failing: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    config: str | None
    """The configuration file used, if any."""


@dataclass(frozen=True)
class Review:
    report: Report
    """The report with the rules' findings (each carrying ``fails_gate``)."""
    verdict: Verdict


def config_for(dockerfile: Path | None, explicit: str | None) -> Config:
    """``--config FILE``, else ``.layermap.toml`` / ``pyproject.toml`` next to the Dockerfile."""
    if explicit is not None:
        return load_config(Path(explicit), BY_ID)
    found = find_config(dockerfile.resolve().parent) if dockerfile is not None else None
    return load_config(found, BY_ID)


def overridden(config: Config, args: object) -> Config:
    """``config`` with the command line's ``--ignore RULE`` and ``--error|--warning|--info RULE`` on top
    (as hadolint's flags); an unknown rule id is a UsageError naming the flag."""
    ignore = list(getattr(args, "ignore", None) or ())
    levels = {level: list(getattr(args, f"as_{level}", None) or ()) for level in ("error", "warning", "info")}
    for flag, rules in (("ignore", ignore), *levels.items()):
        for rule in rules:
            if rule not in BY_ID:
                raise UsageError(f"--{flag} {rule}: no such rule (rules: {', '.join(sorted(BY_ID))})")
    if not ignore and not any(levels.values()):
        return config
    severities = dict(config.severities)
    severities.update({rule: level for level, rules in levels.items() for rule in rules})
    return replace(config, severities=severities, ignore=config.ignore | frozenset(ignore))


def fails(severity: str, fail_on: str) -> bool:
    return severity in _FAILS[fail_on]


def review(
    report: Report,
    dockerfile: Dockerfile | None,
    config: Config,
    *,
    fail_on: str | None = None,
    context_dir: Path | None = None,
) -> Review:
    """Evaluate the rules on ``report`` and the gate on their findings."""
    contents = contents_of(report)
    context = measure_context(context_dir) if context_dir is not None and _wants_context(config) else None
    ctx = RuleContext(report, dockerfile, config, contents, context)
    evaluation = evaluate(ctx)
    level = fail_on or config.fail_on or FAIL_ON_DEFAULT
    findings = sorted(
        (replace(f, extra={**f.extra, "fails_gate": fails(f.severity, level)}) for f in evaluation.findings),
        key=lambda f: (f.line is None, f.line or 0, _RANK.get(f.severity, 3), f.rule),
    )
    unmeasured = [
        f"{key} is set in {config.source} but needs --contents: not evaluated"
        for key in CONTENTS_KEYS
        if contents is None and key in config.thresholds
    ]
    out = replace(
        report,
        findings=tuple(findings),
        warnings=(*report.warnings, *evaluation.warnings, *unmeasured),
    )
    failing = tuple(f for f in findings if f.extra["fails_gate"])
    verdict = Verdict(level, not failing, failing, evaluation.skipped, config.source)
    return Review(out, verdict)


def _wants_context(config: Config) -> bool:
    """Whether the one rule that needs the context's size will run (walking a big context costs time)."""
    rule = "large-context"
    off = config.severities.get(rule) == "off" or rule in config.ignore
    return not off and config.thresholds.get("max_context_size") is not None


def summary_line(verdict: Verdict, total: int) -> str:
    """One line for stderr: the verdict, the level, and the failing findings' lines."""
    count = count_of(total, "finding", "findings")
    if verdict.fail_on == "never":
        return "layermap: " + _("gate off (--fail-on never); {count}").format(count=count)
    if verdict.passed:
        text = _("gate passed (--fail-on {level}); {count}, none at that level")
        return "layermap: " + text.format(level=verdict.fail_on, count=count)
    where = ", ".join(f"{_where(f)} {f.rule}" for f in verdict.failing[:5])
    more = _(" and {n} more").format(n=len(verdict.failing) - 5) if len(verdict.failing) > 5 else ""
    return "layermap: " + _("gate FAILED (--fail-on {level}): {where}").format(
        level=verdict.fail_on, where=where + more
    )


def _where(finding: Finding) -> str:
    return _("line {line}").format(line=finding.line) if finding.line is not None else _("image")


def parse_growth(text: str) -> tuple[float, bool]:
    """``--max-growth``: ``"5MB"``, ``"1000"`` (bytes) or ``"10%"`` (of the base version's image).

    Returns (value, is_percent); raises ValueError naming the flag.
    """
    stripped = text.strip()
    if stripped.endswith("%"):
        try:
            percent = float(stripped[:-1])
        except ValueError:
            percent = -1.0
        if not math.isfinite(percent) or percent < 0:  # float() takes "nan" and "inf"
            raise ValueError(f"--max-growth: expected a size or a percentage like 10%, got {text!r}")
        return percent, True
    return float(parse_size(stripped, "--max-growth")), False


def judge(result: DiffResult, max_growth: str | None, fail_on: str) -> DiffVerdict:
    """``layermap diff``'s gate: growth over ``max_growth``, or a new finding at ``fail_on`` or worse."""
    from analyzer.review.diff import DiffVerdict

    reasons: list[str] = []
    if max_growth is not None:
        limit, percent = parse_growth(max_growth)
        allowed = result.base.size * limit / 100 if percent else limit
        if result.total_delta > allowed:
            reasons.append(f"the image grew by {result.total_delta} B, over --max-growth {max_growth}")
    reasons.extend(
        f"new {f.get('severity')} finding {f.get('rule')}"
        + (f" at line {f['line']}" if f.get("line") is not None else "")
        for f in result.new_findings
        if fails(str(f.get("severity")), fail_on)
    )
    return DiffVerdict(not reasons, tuple(reasons), max_growth, fail_on)
