"""Reviewing a report: findings, the CI gate, and the per-line difference between two versions.

Modules:

- ``rules/`` — one small module per rule, the registry and :func:`~analyzer.review.rules.evaluate`.
- ``rulekit/`` — what rules are made of: ``base`` (Rule, Hit, RuleContext, needs), ``config``
  (``.layermap.toml`` / ``[tool.layermap]``: thresholds, severities, ignores), ``evidence`` (the
  contents facts rules read), ``suppress`` (inline ``# layermap ignore=ID``), ``operands`` (COPY/ADD
  source operands), ``waste`` (helpers over waste pairs).
- ``gate`` — the verdict (``--fail-on``, thresholds) over the evaluated findings.
- ``diff`` — pure: two reports → per-line size deltas, layers added/removed, new findings.
"""
