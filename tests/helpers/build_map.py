"""Shared test helpers (moved from test_build_map.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import docker
import jsonschema
import pytest

from analyzer.cli import main

Config = dict[str, Any]


SavedConfig = Callable[[docker.APIClient, str], Config]


SCHEMA = json.loads(resources.files("analyzer").joinpath("schema/report-v1.json").read_text())


def layermap(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    """Run the CLI in-process with --format json; return (exit code, report or None, stderr)."""
    code = main(["build", *args, "--format", "json", "-q"])
    out, err = capsys.readouterr()
    report = json.loads(out) if out.strip() else None
    if report is not None:
        jsonschema.validate(report, SCHEMA)
    return code, report, err


def empty(config: Config, index: int) -> bool:
    return bool(config["history"][index].get("empty_layer", False))


def check_steps_against(config: Config, steps: list[dict[str, Any]], builder: str = "classic") -> None:
    """Each step agrees with ``config``; the steps account for every entry after the base."""
    diff_ids = config["rootfs"]["diff_ids"]
    for step in steps:
        where = f"line {step['line']} {step['text']!r}"
        if step["history"] is None:
            no_entry = step["instruction"] == "FROM" and not step["trigger"] or step["stage"] is None
            buildkit_onbuild = builder == "buildkit" and step["instruction"] == "ONBUILD"
            assert no_entry or buildkit_onbuild, where
            assert step["creates_layer"] is False, where
            continue
        index = step["history"]["index"]
        assert step["creates_layer"] is (not empty(config, index)), where
        assert step["history"]["empty_layer"] is empty(config, index), where
        if step["creates_layer"]:
            layers_before = sum(1 for h in config["history"][:index] if not h.get("empty_layer", False))
            assert step["layer"]["index"] == layers_before, where
            assert step["layer"]["diff_id"] == diff_ids[step["layer"]["index"]], where
        else:
            assert step["layer"] is None, where


def check_report(report: dict[str, Any], client: docker.APIClient, saved_config: SavedConfig) -> None:
    image = report["image"]
    config = saved_config(client, image["id"])
    assert image["diff_ids"] == config["rootfs"]["diff_ids"]
    assert image["history_count"] == len(config["history"])
    final = [s for s in report["steps"] if s["in_final_image"]]
    check_steps_against(config, final, report["builder"])
    indexes = [s["history"]["index"] for s in final if s["history"]]
    base_count = report["base"]["history_count"]
    assert indexes == list(range(base_count, len(config["history"]))), "every entry after the base, once"
    for stage in (s for s in report["stages"] if not s["in_final_image"]):
        own = [s for s in report["steps"] if s["stage"] == stage["index"]]
        top = next((s["image_id"] for s in reversed(own) if s["image_id"]), None)
        if top is not None and len(own) > 1:
            check_steps_against(saved_config(client, top), own, report["builder"])
    assert report["summary"]["final_size"] == image["size"]
    if report["engine"] is None or report["engine"]["storage"] != "containerd":
        # On the containerd store the image size is compressed and layer sizes are disk usage.
        layer_sizes = sum(s["layer"]["size"] for s in final if s["layer"])
        assert report["summary"]["added_size"] == layer_sizes
