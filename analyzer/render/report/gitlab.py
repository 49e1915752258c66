"""GitLab Code Quality: the JSON array GitLab reads from a ``codequality`` report artifact (the format
hadolint's ``gitlab_codeclimate`` writes), one issue per finding.

Each issue names its rule (``check_name``), a GitLab severity (``error`` → ``blocker``, ``warning`` →
``major``, ``info`` → ``info``, as hadolint maps them), the Dockerfile path and line, and a fingerprint
that stays the same while the finding does (the sha256 of rule, path, line and message), which is how
GitLab tells new findings from fixed ones in a merge request. A finding about the whole image points at
line 1 of the Dockerfile (GitLab needs a line); without a Dockerfile the path is ``Dockerfile``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from analyzer.model import Finding, Report
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.report import findings

SEVERITIES = {"error": "blocker", "warning": "major", "info": "info"}


def issue(finding: Finding, path: str) -> dict[str, Any]:
    """The Code Quality issue for one finding."""
    line = finding.line or 1
    end = max(int(finding.extra.get("end_line") or line), line)
    identity = "\0".join((finding.rule, path, str(finding.line), finding.message))
    return {
        "type": "issue",
        "check_name": finding.rule,
        "description": " ".join(finding.message.split()),
        "categories": ["Performance" if finding.extra.get("bytes") else "Style"],
        "severity": SEVERITIES.get(finding.severity, "info"),
        "fingerprint": hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest(),
        "location": {"path": path, "lines": {"begin": line, "end": end}},
    }


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    report = findings.with_mismatches(report)  # a Dockerfile that does not match the image, first
    path = report.dockerfile_path or "Dockerfile"
    return json.dumps([issue(f, path) for f in report.findings], indent=2) + "\n"
