"""SARIF 2.1.0 output: one result per finding, located at its Dockerfile line (GitHub code scanning).

Every registered rule is listed in ``tool.driver.rules`` with its default level and a ``help`` text
(what it flags, how to fix it, how to silence it; no ``helpUri``: the project publishes no per-rule
pages), so a viewer can show what was checked; findings from outside the registry get a rule entry of
their own. Measured evidence (bytes, where it comes from, related lines, paths) goes to each result's
``properties`` and the related lines to ``relatedLocations``. Findings about the whole image have no
region, only the file.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from analyzer import __version__
from analyzer.model import Finding, Report
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.report import findings
from analyzer.render.report.findings import MISMATCH_RULE, MISMATCH_SUMMARY
from analyzer.render.report.fixes import FIXES
from analyzer.review.rulekit.base import Rule
from analyzer.review.rules import RULES

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _help(rule: Rule) -> dict[str, str]:
    """What the rule flags and how to fix it: shown by code scanning beside each alert."""
    fix = FIXES.get(rule.id)
    summary = rule.summary.rstrip(".")
    needs = ", ".join(rule.needs) or "nothing beyond the report"
    text = f"{summary}.\n\nFix: {fix}" if fix else f"{summary}."
    markdown = f"**{rule.id}** ({rule.severity} by default; needs: {needs})\n\n{summary}."
    if fix:
        markdown += f"\n\n**Fix:** {fix}"
    markdown += f"\n\nSilence it for one line with `# layermap ignore={rule.id}` above the instruction, or "
    markdown += f'everywhere with `--ignore {rule.id}` or `ignore = ["{rule.id}"]` in `.layermap.toml`.'
    return {"text": text, "markdown": markdown}


def _rules(findings: tuple[Finding, ...]) -> list[dict[str, Any]]:
    out = [
        {
            "id": rule.id,
            "name": "".join(word.capitalize() for word in rule.id.split("-")),
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": _help(rule)["text"]},
            "help": _help(rule),
            "defaultConfiguration": {"level": LEVELS[rule.severity]},
            "properties": {"needs": list(rule.needs)},
        }
        for rule in RULES
    ]
    known = {rule.id for rule in RULES}
    others = dict.fromkeys(f.rule for f in findings if f.rule not in known)
    described = {MISMATCH_RULE: MISMATCH_SUMMARY}
    out.extend({"id": other, "shortDescription": {"text": described.get(other, other)}} for other in others)
    return out


def _artifact(report: Report) -> dict[str, str] | None:
    path = report.dockerfile_path
    if path is None:
        return None
    if path.startswith("/"):
        return {"uri": "file://" + quote(path)}
    return {"uri": quote(path), "uriBaseId": "%SRCROOT%"}


def _location(artifact: dict[str, str], line: int | None, end_line: int | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if line is not None:
        physical["region"] = {"startLine": line, "endLine": max(end_line or line, line)}
    return {"physicalLocation": physical}


def _result(finding: Finding, index: int, artifact: dict[str, str] | None) -> dict[str, Any]:
    extra = dict(finding.extra)
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": LEVELS.get(finding.severity, "none"),
        "message": {"text": finding.message},
    }
    if artifact is not None:
        out["locations"] = [_location(artifact, finding.line, extra.get("end_line"))]
        related = [
            {**_location(artifact, line), "id": n, "message": {"text": f"related line {line}"}}
            for n, line in enumerate(extra.get("related_lines") or [], start=1)
        ]
        if related:
            out["relatedLocations"] = related
    out["properties"] = {k: v for k, v in extra.items() if k != "end_line"}
    return out


def to_dict(report: Report) -> dict[str, Any]:
    """The SARIF log as plain JSON-ready data."""
    report = findings.with_mismatches(report)
    rules = _rules(report.findings)
    index = {rule["id"]: n for n, rule in enumerate(rules)}
    artifact = _artifact(report)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "layermap", "version": __version__, "rules": rules}},
        "invocations": [{"executionSuccessful": True}],
        "results": [_result(f, index[f.rule], artifact) for f in report.findings],
    }
    if artifact is not None:
        run["artifacts"] = [{"location": artifact}]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"
