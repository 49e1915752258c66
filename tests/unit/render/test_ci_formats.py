"""``--format gitlab`` (GitLab Code Quality) and ``--format junit`` (JUnit XML), and the SARIF rules' help."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from helpers.rules import make_report

from analyzer.model import Finding, Report
from analyzer.render import RENDERERS
from analyzer.render.report import sarif
from analyzer.render.report.fixes import FIXES
from analyzer.review.gate import review
from analyzer.review.rulekit.config import Config
from analyzer.review.rules import RULES

TEXT = """FROM busybox:latest
ADD notes.txt /app/notes.txt
COPY . .
RUN sh install-deps.sh
"""


def reviewed(extra: tuple[Finding, ...] = ()) -> Report:
    report, df = make_report(TEXT, {2: 56, 3: 30, 4: 786_432})
    report = Report(**{**report.__dict__, "findings": extra})
    return review(report, df, Config(thresholds={"max_image_size": 1_000_000})).report


def test_gitlab_code_quality_issues() -> None:
    report = reviewed()
    issues = json.loads(RENDERERS["gitlab"](report))
    assert [(i["check_name"], i["location"]["lines"]["begin"]) for i in issues] == [
        (f.rule, f.line or 1) for f in report.findings
    ]
    add = next(i for i in issues if i["check_name"] == "add-instead-of-copy")
    assert add["severity"] == "major" and add["type"] == "issue"
    assert add["location"] == {"path": "Dockerfile", "lines": {"begin": 2, "end": 2}}
    budget = next(i for i in issues if i["check_name"] == "image-over-budget")
    assert budget["severity"] == "blocker" and budget["location"]["lines"]["begin"] == 1  # the whole image
    assert budget["categories"] == ["Performance"]
    # Stable while the finding is the same, different between findings.
    assert [i["fingerprint"] for i in json.loads(RENDERERS["gitlab"](reviewed()))] == [
        i["fingerprint"] for i in issues
    ]
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_without_findings_is_an_empty_array() -> None:
    report, _ = make_report("FROM busybox:latest\n", {})
    assert json.loads(RENDERERS["gitlab"](report)) == []


def test_junit_one_failed_case_per_finding() -> None:
    odd = Finding("secret-in-layer", "error", 3, "a key named \x01<&>\udcff", {"paths": ["/k<1>"]})
    report = reviewed((odd,))
    root = ET.fromstring(RENDERERS["junit"](report))
    (suite,) = root
    cases = suite.findall("testcase")
    assert suite.get("tests") == suite.get("failures") == str(len(report.findings)) == str(len(cases))
    names = [c.get("name") for c in cases]
    assert "add-instead-of-copy at line 2" in names and "image-over-budget" in names
    secret = cases[names.index("secret-in-layer at line 3")]
    failure = secret.find("failure")
    assert failure is not None and failure.get("type") == "error"
    assert failure.get("message") == "a key named \\x01<&>\\xdcff"
    assert failure.text == "Dockerfile:3\nerror: a key named \\x01<&>\\xdcff\npaths: /k<1>"
    assert secret.get("classname") == "Dockerfile"


def test_junit_without_findings_has_one_passing_case() -> None:
    report, _ = make_report("FROM busybox:latest\n", {})
    (suite,) = ET.fromstring(RENDERERS["junit"](report))
    assert suite.get("tests") == "1" and suite.get("failures") == "0"
    (case,) = suite
    assert case.get("name") == "layermap" and case.find("failure") is None


def test_every_sarif_rule_has_help_with_its_fix() -> None:
    rules = sarif.to_dict(reviewed())["runs"][0]["tool"]["driver"]["rules"]
    for entry, rule in zip(rules, RULES, strict=False):
        assert entry["help"]["text"].startswith(rule.summary.rstrip(".") + ".")
        assert f"--ignore {rule.id}" in entry["help"]["markdown"]
        assert (FIXES[rule.id] in entry["help"]["text"]) is (rule.id in FIXES)
        assert entry["fullDescription"]["text"] == entry["help"]["text"]
    assert all(rule.id in FIXES for rule in RULES)
