"""Findings in the human formats: the block under the table, the annotated gutter marks and their
legend, and the gate's stderr lines (``-q`` included) through the CLI on a saved archive."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.rules import make_report

from analyzer.cli import main
from analyzer.model import Finding, Report
from analyzer.render.report import annotated, findings, table

ARCHIVE = str(Path(__file__).parents[2] / "fixtures/archives/docker-small.tar")
SMALL = json.loads((Path(__file__).parents[2] / "fixtures/archives/engine.json").read_text())["dockerfiles"][
    "small"
]
TEXT = "FROM busybox\nCOPY . /app\nRUN pip install -r /app/req.txt\n"


def _report() -> Report:
    report, _ = make_report(TEXT, {2: 5_000_000, 3: 1_000})
    found = (
        Finding("cache-busting-copy", "warning", 2, "copies the whole build context first",
                {"end_line": 2, "bytes": 5_000_000, "fails_gate": True, "paths": ["a", "b", "c", "d"]}),
        Finding("too-many-layers", "info", None, "the image has 9 layers", {"fails_gate": False}),
        Finding("secret-in-layer", "error", 3, "a key", {"end_line": 3, "fails_gate": True}),
    )  # fmt: skip
    return replace(report, findings=found, dockerfile_text=TEXT)


def test_table_has_a_findings_block_with_severity_rule_line_bytes_message_and_paths() -> None:
    out = table.render(_report())
    block = out[out.index("Findings (3)") :]
    assert block.splitlines()[0] == "Findings (3) — gate FAILED (2 at the fail-on level)"
    assert "  warning cache-busting-copy  line 2  5 MB (fails the gate)" in block
    assert "copies the whole build context first" in block
    assert "paths: a, b, c and 1 more" in block
    assert "  info    too-many-layers  image" in block


def test_table_without_findings_has_no_block() -> None:
    assert "Findings" not in table.render(replace(_report(), findings=()))


def test_annotated_marks_lines_and_lists_the_findings_with_a_legend() -> None:
    out = annotated.render(_report()).splitlines()
    line2 = next(ln for ln in out if ln.endswith("2  COPY . /app"))
    line3 = next(ln for ln in out if ln.endswith("3  RUN pip install -r /app/req.txt"))
    assert line2.split("│")[0].rstrip().endswith(" W") and line3.split("│")[0].rstrip().endswith(" E")
    legend = out.index(next(ln for ln in out if ln.startswith("# findings")))
    assert "E error, W warning, i info" in out[legend]
    assert out[legend + 1 :] == [
        "# W line 2 cache-busting-copy: copies the whole build context first [5 MB] "
        "(paths: a, b, c and 1 more)",
        "# i image too-many-layers: the image has 9 layers",
        "# E line 3 secret-in-layer: a key",
    ]


def test_most_severe_finding_of_a_line_gives_the_mark() -> None:
    fs = [Finding("a", "info", 4, "x"), Finding("b", "error", 4, "y"), Finding("c", "warning", 4, "z")]
    assert findings.marks_by_line(fs) == {4: "E"}


def test_gate_lines_name_file_line_rule_and_message() -> None:
    failing = [f for f in _report().findings if f.extra.get("fails_gate")]
    assert findings.gate_lines(failing, "app/Dockerfile") == [
        "layermap: app/Dockerfile:2: warning cache-busting-copy: copies the whole build context first "
        "(paths: a, b, c and 1 more)",
        "layermap: app/Dockerfile:3: error secret-in-layer: a key",
    ]


@pytest.fixture
def dockerfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    path = tmp_path / "Dockerfile"
    path.write_text(SMALL)
    (tmp_path / ".layermap.toml").write_text("max_layers = 3\n")
    return path


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_failed_gate_says_why_on_stderr_even_with_q(
    dockerfile: Path, capsys: pytest.CaptureFixture[str], quiet: list[str]
) -> None:
    code = main(["image", ARCHIVE, "--dockerfile", str(dockerfile), "--format", "json", *quiet])
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    assert "layermap: gate FAILED (--fail-on error): image too-many-layers" in err
    assert any(ln.startswith(f"layermap: {dockerfile}: error too-many-layers: ") for ln in err)
    assert any(ln.startswith("layermap: 8 steps") for ln in err) is (not quiet)


def test_passed_gate_prints_its_verdict_with_q(dockerfile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (dockerfile.parent / ".layermap.toml").write_text("")
    assert (
        main(["image", ARCHIVE, "--dockerfile", str(dockerfile), "-q", "-o", str(dockerfile) + ".txt"]) == 0
    )
    err = capsys.readouterr().err.splitlines()
    assert err == ["layermap: gate passed (--fail-on error); 1 finding, none at that level"]
    assert "Findings (1)" in Path(str(dockerfile) + ".txt").read_text()
