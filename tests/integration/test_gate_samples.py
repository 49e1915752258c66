"""The CI gate on the samples with known waste: exit 1 naming the responsible lines; the fixed version
passes with exit 0. The JSON written and the exit code come from the same run. Also: the SARIF and
Markdown outputs of a real build are valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker
import jsonschema
import pytest
from markdown_it import MarkdownIt

from analyzer.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_dockerfiles"
GATES = ROOT / "tests/fixtures/rules"
SARIF_SCHEMA = json.loads((ROOT / "tests/fixtures/sarif/sarif-schema-2.1.0.json").read_text())


@pytest.fixture(autouse=True)
def engine(docker_client: docker.APIClient, seeded_images: dict[str, str]) -> docker.APIClient:
    return docker_client


def gate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["build", *args, "--format", "json", "-q"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def failing(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f for f in report["findings"] if f["fails_gate"]}


def test_deleted_file_fails_the_waste_gate_and_the_fixed_version_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(GATES / "gate-waste.toml")
    code, report, _ = gate(capsys, str(SAMPLES / "deleted-file"), "--contents", "--config", config)
    assert code == 1
    bad = failing(report)
    assert (bad["deleted-later"]["line"], bad["deleted-later"]["related_lines"]) == (4, [7])
    assert bad["wasted-bytes"]["bytes"] == 8 * 1024 * 1024 and bad["wasted-bytes"]["related_lines"] == [4]
    code, fixed, _ = gate(
        capsys, str(SAMPLES / "deleted-file/Dockerfile.fixed"), "--contents", "--config", config
    )
    assert (code, failing(fixed)) == (0, {})


def test_apt_cache_fails_the_waste_gate_and_the_clean_version_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(GATES / "gate-waste.toml")
    args = ("--contents", "--network", "host", "--config", config)
    code, report, _ = gate(capsys, str(SAMPLES / "apt-cache"), *args)
    assert code == 1
    assert [(f["rule"], f["line"], f["cache"]) for f in failing(report).values()] == [
        ("package-cache", 4, "apt package lists")
    ]
    code, clean, _ = gate(capsys, str(SAMPLES / "apt-cache/Dockerfile.clean"), *args)
    assert (code, failing(clean)) == (0, {})


def test_layer_budget_gate_needs_no_contents(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(GATES / "gate-layer-budget.toml")
    code, report, _ = gate(capsys, str(SAMPLES / "apt-cache"), "--network", "host", "--config", config)
    step = next(s for s in report["steps"] if s["line"] == 4)
    assert code == 1 and failing(report)["layer-over-budget"]["bytes"] == step["layer"]["size"] > 10_000_000
    assert report.get("waste") is None  # sizes from the history only
    clean = SAMPLES / "apt-cache/Dockerfile.clean"
    code, report, _ = gate(capsys, str(clean), "--network", "host", "--config", config)
    assert (code, failing(report)) == (0, {})


def test_sarif_and_markdown_of_a_real_build(capsys: pytest.CaptureFixture[str]) -> None:
    sample = str(SAMPLES / "deleted-file")
    assert main(["build", sample, "--contents", "--format", "sarif", "-q", "--fail-on", "never"]) == 0
    log = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (result,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "deleted-later"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 4, "endLine": 5}
    assert main(["build", sample, "--contents", "--format", "markdown", "-q", "--fail-on", "never"]) == 0
    html = MarkdownIt("commonmark").enable("table").render(capsys.readouterr().out)
    assert html.count("<table>") == 2  # findings, then the per-line table of the one stage
    assert "<td><code>deleted-later</code></td>" in html
