"""``layermap predict``: the CLI around ``predict`` (no engine): JSON per the contract, the table with
reasons, exit codes."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from analyzer.cli import main

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads(resources.files("analyzer").joinpath("schema/report-v1.json").read_text())


@pytest.fixture(autouse=True)
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # predict must never need one
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    monkeypatch.chdir(ROOT)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_json_per_contract(capsys: pytest.CaptureFixture[str], builder: str) -> None:
    code, out, err = run(
        capsys, "predict", "sample_dockerfiles/basics/Dockerfile", "--builder", builder, "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["image"] is None and data["engine"] is None and data["builder"] == builder
    assert all(s["reason"] and s["history"] is None and s["layer"] is None for s in data["steps"])
    by_line = {s["line"]: s["creates_layer"] for s in data["steps"]}
    assert by_line[22] is (builder == "buildkit")  # RUN true
    assert by_line[12] is (True if builder == "buildkit" else None)  # WORKDIR /app
    assert by_line[16] is True and by_line[24] is False
    assert err.startswith(f"layermap: predicted 19 steps ({builder} builder)")


def test_table_shows_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "predict", "sample_dockerfiles/deleted-file/Dockerfile", "-q")
    assert code == 0
    assert "Predicted" in out and "Why" in out and "depends" in out
    assert "RUN under the classic builder makes a layer only if the" in out


def test_target_and_build_args(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "predict", "sample_dockerfiles/chain/Dockerfile", "--target", "middle", "--format", "json"
    )
    assert code == 0
    steps = json.loads(out)["steps"]
    assert [s["in_final_image"] for s in steps if s["instruction"] == "FROM"] == [True, True, False]
    code, out, _ = run(
        capsys,
        "predict",
        "sample_dockerfiles/arg-onbuild/Dockerfile",
        "--build-arg",
        "BASE_IMAGE=scratch",
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)["stages"][0]["from"] == "scratch"


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "predict", str(tmp_path / "missing"))
    assert code == 2 and "missing" in err
    code, _, err = run(capsys, "predict", "sample_dockerfiles/chain/Dockerfile", "--target", "nope")
    assert code == 2 and "--target nope: no such stage" in err
