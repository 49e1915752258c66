"""``--format sarif`` validates against the official SARIF 2.1.0 schema and locates each result."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from helpers.rules import make_report

from analyzer.model import Finding, Report
from analyzer.render import RENDERERS
from analyzer.render.report import sarif
from analyzer.review.gate import review
from analyzer.review.rulekit.config import Config
from analyzer.review.rules import RULES

SCHEMA = json.loads((Path(__file__).parents[2] / "fixtures/sarif/sarif-schema-2.1.0.json").read_text())
TEXT = """FROM busybox:latest
ADD notes.txt /app/notes.txt
COPY . .
RUN sh install-deps.sh \\
 && echo done
"""


def reviewed() -> Report:
    report, df = make_report(TEXT, {2: 56, 3: 30, 4: 786_432})
    secret = Finding("secret-in-layer", "error", 3, "a private key", {"path": "/k"})
    other = Finding("from-elsewhere", "info", None, "a note from another tool")
    report = Report(**{**report.__dict__, "findings": (secret, other)})
    config = Config(thresholds={"max_image_size": 1_000_000})
    return review(report, df, config).report


def validate(log: dict[str, object]) -> None:
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    validator.validate(log)


def test_sarif_validates_against_the_official_schema() -> None:
    log = json.loads(RENDERERS["sarif"](reviewed()))
    validate(log)
    assert log["version"] == "2.1.0"


def test_every_rule_is_described_and_results_point_at_lines() -> None:
    log = sarif.to_dict(reviewed())
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules[: len(RULES)]] == [r.id for r in RULES]
    assert rules[-1]["id"] == "from-elsewhere"
    by_rule = {r["ruleId"]: r for r in run["results"]}
    add = by_rule["add-instead-of-copy"]
    assert add["level"] == "warning" and rules[add["ruleIndex"]]["id"] == "add-instead-of-copy"
    region = add["locations"][0]["physicalLocation"]
    assert region == {
        "artifactLocation": {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 2, "endLine": 2},
    }
    bust = by_rule["cache-busting-copy"]
    assert bust["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert bust["properties"]["bytes"] == 786_432 and bust["properties"]["fails_gate"] is False
    image = by_rule["image-over-budget"]
    assert "region" not in image["locations"][0]["physicalLocation"] and image["level"] == "error"
    assert by_rule["secret-in-layer"]["properties"] == {"path": "/k", "fails_gate": True}
    assert by_rule["from-elsewhere"]["level"] == "note"


@pytest.mark.parametrize(
    ("path", "uri"),
    [("/abs/Docker file", "file:///abs/Docker%20file"), ("a b/Dockerfile", "a%20b/Dockerfile")],
)
def test_paths_become_valid_uris(path: str, uri: str) -> None:
    report = Report(**{**reviewed().__dict__, "dockerfile_path": path})
    log = sarif.to_dict(report)
    validate(log)
    assert log["runs"][0]["artifacts"][0]["location"]["uri"] == uri


def test_no_dockerfile_means_no_locations() -> None:
    report = Report(**{**reviewed().__dict__, "dockerfile_path": None})
    log = sarif.to_dict(report)
    validate(log)
    assert all("locations" not in r for r in log["runs"][0]["results"])
