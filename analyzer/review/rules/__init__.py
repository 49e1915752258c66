"""Review rules: one small module per rule, this registry, and the evaluation over a report.

:func:`evaluate` runs every rule on a :class:`RuleContext`, applies the configuration (severity
overrides, ``off``, ``ignore``) and the inline ``# layermap ignore=ID`` comments, and returns the
findings plus the rules it skipped and why. It decides nothing about passing or failing: that is the
gate's job (``analyzer/review/gate.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.i18n import _
from analyzer.model import Finding
from analyzer.review.rulekit.base import Hit, Rule, RuleContext, missing_needs
from analyzer.review.rulekit.suppress import inline_ignores
from analyzer.review.rules import (
    add_instead_of_copy,
    added_size,
    base_waste,
    buildkit_only,
    cache_busting,
    context_size,
    copy_up,
    deleted_later,
    efficiency,
    image_size,
    layer_count,
    layer_size,
    overwritten_later,
    package_cache,
    secret_in_layer,
    tiny_layers,
    wasted_bytes,
)

RULES: tuple[Rule, ...] = tuple(
    module.RULE
    for module in (
        package_cache,
        deleted_later,
        overwritten_later,
        copy_up,
        base_waste,
        secret_in_layer,
        cache_busting,
        add_instead_of_copy,
        buildkit_only,
        context_size,
        tiny_layers,
        layer_size,
        image_size,
        added_size,
        layer_count,
        efficiency,
        wasted_bytes,
    )
)
BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


@dataclass(frozen=True)
class Skipped:
    """A rule that did not run, as data (shown in the reports, never silently dropped)."""

    rule: str
    reason: str


@dataclass(frozen=True)
class Evaluation:
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    warnings: tuple[str, ...]
    """Problems with inline ``ignore=`` comments (unknown rule ids)."""


def evaluate(ctx: RuleContext) -> Evaluation:
    """Run every rule; keep the findings the report already had from rules that could not run (the
    configuration's ``off``/``ignore`` and the inline comments apply to those too)."""
    text = ctx.dockerfile.text if ctx.dockerfile is not None else ""
    ignored_at, warnings = inline_ignores(text, BY_ID)
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    handled: set[str] = set(ctx.config.ignore)
    for rule in RULES:
        severity = ctx.config.severities.get(rule.id, rule.severity)
        reason = _off_reason(rule, severity, ctx)
        if reason is not None:
            skipped.append(Skipped(rule.id, reason))
            if severity == "off":
                handled.add(rule.id)
            continue
        handled.add(rule.id)
        findings.extend(_finding(rule, severity, hit) for hit in rule.check(ctx))
    findings = [f for f in ctx.report.findings if f.rule not in handled] + findings
    kept = [f for f in findings if f.line is None or f.rule not in ignored_at.get(f.line, set())]
    return Evaluation(tuple(kept), tuple(skipped), tuple(warnings))


def _off_reason(rule: Rule, severity: str, ctx: RuleContext) -> str | None:
    if rule.id in ctx.config.ignore:
        return _("ignored by the configuration")
    if severity == "off":
        return _("turned off by the configuration")
    return missing_needs(rule, ctx)


def _finding(rule: Rule, severity: str, hit: Hit) -> Finding:
    extra: dict[str, object] = {
        "end_line": hit.end_line if hit.end_line is not None else hit.line,
        "bytes": hit.bytes,
        "evidence": hit.evidence,
        "related_lines": list(hit.related_lines),
    }
    if hit.paths:
        extra["paths"] = list(hit.paths)
    extra.update(hit.data)
    return Finding(rule=rule.id, severity=severity, line=hit.line, message=hit.message, extra=extra)


__all__ = ["BY_ID", "RULES", "Evaluation", "RuleContext", "Skipped", "evaluate"]
