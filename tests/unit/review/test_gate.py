"""The gate: one run gives the findings (each with ``fails_gate``) and the verdict; ``--fail-on`` levels."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.rules import make_report

from analyzer.review.gate import Review, review, summary_line
from analyzer.review.rulekit.config import Config
from analyzer.review.rulekit.evidence import measure_context

TEXT = """FROM busybox:latest
# layermap ignore=add-instead-of-copy
ADD a.txt /a
ADD b.txt /b
RUN dd if=/dev/zero of=/big bs=1M count=21
"""
SIZES = {3: 10, 4: 10, 5: 21_000_000}


def run(config: Config, fail_on: str | None = None) -> Review:
    report, df = make_report(TEXT, SIZES)
    return review(report, df, config, fail_on=fail_on)


def test_findings_sorted_suppressed_and_marked() -> None:
    result = run(Config(thresholds={"max_layer_size": 10_000_000, "max_image_size": 1}))
    got = [(f.line, f.rule, f.severity, f.extra["fails_gate"]) for f in result.report.findings]
    assert got == [
        (4, "add-instead-of-copy", "warning", False),  # line 3's is silenced by the comment above it
        (5, "layer-over-budget", "error", True),
        (None, "image-over-budget", "error", True),
    ]
    assert not result.verdict.passed and result.verdict.fail_on == "error"
    assert [f.line for f in result.verdict.failing] == [5, None]
    assert summary_line(result.verdict, 3) == (
        "layermap: gate FAILED (--fail-on error): line 5 layer-over-budget, image image-over-budget"
    )


@pytest.mark.parametrize(
    ("fail_on", "config_fail_on", "passed"),
    [("error", None, True), ("warning", None, False), (None, "warning", False), ("never", "warning", True)],
)
def test_fail_on_levels(fail_on: str | None, config_fail_on: str | None, passed: bool) -> None:
    result = run(Config(fail_on=config_fail_on), fail_on)
    assert result.verdict.passed is passed
    assert result.verdict.fail_on == (fail_on or config_fail_on)
    assert all(
        f.extra["fails_gate"] is (not passed) for f in result.report.findings if f.severity == "warning"
    )


def test_severity_override_and_ignore() -> None:
    result = run(Config(severities={"add-instead-of-copy": "error"}, ignore=frozenset({"tiny-layers"})))
    assert [(f.rule, f.severity) for f in result.report.findings] == [("add-instead-of-copy", "error")]
    assert not result.verdict.passed
    assert ("tiny-layers", "ignored by the configuration") in {
        (s.rule, s.reason) for s in result.verdict.skipped
    }


def test_thresholds_that_need_contents_warn_when_contents_are_off() -> None:
    result = run(Config(source="x.toml", thresholds={"min_efficiency": 0.9}))
    assert "min_efficiency is set in x.toml but needs --contents: not evaluated" in result.report.warnings
    assert result.verdict.passed


def test_gate_off_and_passed_lines() -> None:
    assert (
        summary_line(run(Config(), "never").verdict, 1) == "layermap: gate off (--fail-on never); 1 finding"
    )
    assert "gate passed (--fail-on error)" in summary_line(run(Config()).verdict, 1)


def test_context_is_measured_only_without_dockerignore(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 1000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 24)
    (tmp_path / "link").symlink_to(tmp_path / "a")
    info = measure_context(tmp_path)
    assert (info.bytes, info.files, info.dockerignore) == (1024, 2, False)
    (tmp_path / ".dockerignore").write_text("a\n")
    assert measure_context(tmp_path).bytes is None


def test_review_reports_a_large_context(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"\0" * 2048)
    report, df = make_report(TEXT, SIZES)
    result = review(report, df, Config(thresholds={"max_context_size": 1000}), context_dir=tmp_path)
    (found,) = [f for f in result.report.findings if f.rule == "large-context"]
    assert found.extra["bytes"] == 2048 and found.line is None


def test_context_not_walked_when_its_rule_is_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def walk(folder: Path) -> None:
        raise AssertionError(f"{folder} walked")

    monkeypatch.setattr("analyzer.review.gate.measure_context", walk)
    report, df = make_report(TEXT, SIZES)
    config = Config(thresholds={"max_context_size": 1000}, severities={"large-context": "off"})
    result = review(report, df, config, context_dir=tmp_path)
    assert ("large-context", "turned off by the configuration") in {
        (s.rule, s.reason) for s in result.verdict.skipped
    }
    assert not [f for f in result.report.findings if f.rule == "large-context"]
