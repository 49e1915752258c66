"""Shared test helpers (moved from test_explain.py)."""

from __future__ import annotations

from pathlib import Path

from analyzer.dockerfile import load
from analyzer.model import Report
from analyzer.teaching.explain import explain
from helpers.golden import load as load_report

ROOT = Path(__file__).resolve().parents[2]


def explained(name: str) -> Report:
    """A recorded measured report with its explanations (classic rules, the build's target)."""
    sample, _, target = name.partition("-target-")
    dockerfile = load(ROOT / "sample_dockerfiles" / sample / "Dockerfile")
    return explain(load_report(name), dockerfile, "classic", target or None)
