"""``layermap diff`` on two versions of a sample: the per-line deltas match the sizes the engine reports
for the two images, and everything adds up to the total. Sides as builds (classic builder, and BuildKit
through the Engine API and through buildx), images and saved reports."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import docker
import jsonschema
import pytest

from analyzer.cli import main
from analyzer.engine import buildkit_api, buildx

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_dockerfiles"
SCHEMA = json.loads(resources.files("analyzer").joinpath("schema/diff-v1.json").read_text())


@pytest.fixture(autouse=True)
def engine(docker_client: docker.APIClient, seeded_images: dict[str, str]) -> docker.APIClient:
    return docker_client


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main([*argv, "--format", "json", "-q"])
    return code, json.loads(capsys.readouterr().out)


def history_size(client: docker.APIClient, image_id: str, index: int) -> int:
    return int(list(reversed(client.history(image_id)))[index]["Size"])


def check(client: docker.APIClient, data: dict[str, Any]) -> None:
    """Every number against the engine: image sizes, each line's layer size, and the invariant."""
    jsonschema.validate(data, SCHEMA)
    base, head = data["base"], data["head"]
    assert base["size"] == client.inspect_image(base["image_id"])["Size"]
    assert head["size"] == client.inspect_image(head["image_id"])["Size"]
    assert data["total_delta"] == head["size"] - base["size"]
    for line in data["lines"]:
        for side, image in (("base", base), ("head", head)):
            entry = line[f"{side}_entry"]
            if entry is not None:
                assert line[f"{side}_size"] == history_size(client, image["image_id"], entry), line
    assert sum(line["delta"] for line in data["lines"]) + data["base_delta"] == data["total_delta"]
    assert data["warnings"] == []


def test_apt_cache_left_vs_cleaned(engine: docker.APIClient, capsys: pytest.CaptureFixture[str]) -> None:
    sample = SAMPLES / "apt-cache"
    code, data = run(capsys, "diff", str(sample), str(sample / "Dockerfile.clean"), "--network", "host")
    assert code == 0
    check(engine, data)
    (run_line,) = [line for line in data["lines"] if line["instruction"] == "RUN"]
    assert (run_line["base_line"], run_line["head_line"], run_line["change"]) == (4, 3, "changed")
    assert run_line["delta"] == data["total_delta"] < 0 and data["base_delta"] == 0
    assert [(line["change"], line["delta"]) for line in data["lines"] if line["instruction"] != "RUN"] == [
        ("same", 0),
        ("same", 0),
    ]


def test_deleted_file_and_the_growth_gate(
    engine: docker.APIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = SAMPLES / "deleted-file"
    fixed, dirty = str(sample / "Dockerfile.fixed"), str(sample)
    code, data = run(capsys, "diff", fixed, dirty, "--max-growth", "10%")
    check(engine, data)
    assert code == 1 and data["gate"]["passed"] is False and data["total_delta"] == 8 * 1024 * 1024
    changes = [(line["base_line"], line["head_line"], line["change"]) for line in data["lines"]]
    assert changes == [(2, 3, "same"), (3, 4, "changed"), (None, 6, "added"), (None, 7, "added")]
    assert [layer["head_line"] for layer in data["layers_added"]] == [4, 7]
    assert run(capsys, "diff", fixed, dirty, "--max-growth", "9MB")[0] == 0
    code, data = run(capsys, "diff", fixed, dirty, "--contents", "--fail-on", "warning")
    assert code == 1 and data["gate"]["reasons"] == ["new warning finding deleted-later at line 4"]
    assert [(f["rule"], f["line"], f["bytes"]) for f in data["new_findings"]] == [
        ("deleted-later", 4, 8 * 1024 * 1024)
    ]


def test_sides_as_saved_reports_and_images(
    engine: docker.APIClient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sample = SAMPLES / "deleted-file"
    reports = []
    for name, dockerfile in (("base", sample / "Dockerfile"), ("head", sample / "Dockerfile.fixed")):
        assert (
            main(["build", str(dockerfile), "--format", "json", "-q", "-o", str(tmp_path / f"{name}.json")])
            == 0
        )
        reports.append(json.loads((tmp_path / f"{name}.json").read_text()))
    capsys.readouterr()
    code, saved = run(capsys, "diff", str(tmp_path / "base.json"), str(tmp_path / "head.json"))
    assert code == 0
    check(engine, saved)
    code, built = run(capsys, "diff", str(sample), str(sample / "Dockerfile.fixed"))
    assert [line["delta"] for line in built["lines"]] == [line["delta"] for line in saved["lines"]]
    code, images = run(capsys, "diff", reports[0]["image"]["id"], reports[1]["image"]["id"])
    check(engine, images)  # no Dockerfile: history entries are the lines, the base is one of them
    assert images["base_delta"] == 0 and images["total_delta"] == saved["total_delta"]
    assert all(line["base_line"] is None and line["head_line"] is None for line in images["lines"])


@pytest.mark.parametrize("path", ["api", "buildx"])
def test_both_sides_built_with_buildkit(
    engine: docker.APIClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    path: str,
) -> None:
    """``--builder buildkit`` reaches both builds, by the BuildKit path ``LAYERMAP_BUILDKIT`` forces."""
    monkeypatch.setenv("LAYERMAP_BUILDKIT", path)
    if not os.environ.get("DOCKER_CONFIG"):  # buildx keeps a little state there
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    calls = {"api": 0, "buildx": 0}
    for name, module, function in (
        ("api", buildkit_api, "build_buildkit"),
        ("buildx", buildx, "build_with_buildx"),
    ):
        monkeypatch.setattr(module, function, counted(getattr(module, function), calls, name))
    sample = SAMPLES / "deleted-file"
    fixed, dirty = str(sample / "Dockerfile.fixed"), str(sample)
    # Host networking: the private test engines have no bridge network for BuildKit's RUN steps.
    code, data = run(capsys, "diff", fixed, dirty, "--buildkit", "--network", "host")
    assert code == 0
    assert calls == {"api": 2 if path == "api" else 0, "buildx": 2 if path == "buildx" else 0}
    check(engine, data)
    for side in ("base", "head"):  # BuildKit's mark on the history entries it writes, never the classic's
        assert engine.history(data[side]["image_id"])[0]["Comment"] == "buildkit.dockerfile.v0"
    changes = [(line["base_line"], line["head_line"], line["change"]) for line in data["lines"]]
    assert changes == [(2, 3, "same"), (3, 4, "changed"), (None, 6, "added"), (None, 7, "added")]
    assert data["total_delta"] == 8 * 1024 * 1024 and data["base_delta"] == 0


def counted(real: Callable[..., object], calls: dict[str, int], name: str) -> Callable[..., object]:
    """``real``, counting its calls in ``calls[name]``."""

    def wrapper(*args: object, **kwargs: object) -> object:
        calls[name] += 1
        return real(*args, **kwargs)

    return wrapper
