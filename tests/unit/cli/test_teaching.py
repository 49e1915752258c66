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
        capsys, "predict", "sample_dockerfiles/basics/Dockerfile", f"--{builder}", "--format", "json"
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


@pytest.mark.parametrize(
    ("argv", "env", "builder"),
    [
        ([], "", "buildkit"),
        ([], "0", "classic"),
        (["--classic"], "1", "classic"),
        (["--buildkit"], "0", "buildkit"),
    ],
)
def test_predict_defaults_to_what_docker_build_uses(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: str,
    builder: str,
) -> None:
    monkeypatch.setenv("DOCKER_BUILDKIT", env)
    code, out, err = run(capsys, "predict", "sample_dockerfiles/basics/Dockerfile", *argv, "--format", "json")
    assert code == 0 and json.loads(out)["builder"] == builder and "warning" not in err


def test_predict_takes_no_builder_instance(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "predict", "sample_dockerfiles/basics/Dockerfile", "--builder", "ci")
    assert code == 2 and "--builder ci: predict takes --classic or --buildkit" in err


def test_table_shows_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "predict", "sample_dockerfiles/deleted-file/Dockerfile", "--classic", "-q")
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


@pytest.mark.parametrize(
    ("dockerfile", "extra", "message"),
    [
        ("FROM $UNDEFINED\n", [], "Dockerfile:1: base name ($UNDEFINED) should not be blank"),
        ("FROM busybox\nFROM busybox AS b\n", ["--target", "0"], "--target 0: no stage of that name"),
        (
            "FROM busybox\nRUN <<EOF\necho hi\nEOF\n",
            ["--classic"],
            "Dockerfile:2: heredocs need BuildKit",
        ),
        (
            "FROM busybox AS a\nFROM busybox AS a\n",
            ["--classic"],
            'Dockerfile:2: duplicate stage name "a"',
        ),
    ],
)
def test_predict_refuses_what_docker_build_refuses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, dockerfile: str, extra: list[str], message: str
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(dockerfile)
    code, _, err = run(capsys, "predict", str(path), *extra)
    assert code == 2
    assert f"layermap: {tmp_path}/{message}" in err or f"layermap: {message}" in err


def test_predict_refuses_a_dockerignore_docker_build_refuses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    (tmp_path / ".dockerignore").write_text("# fine\n*.log\n[a-c]x\n[\n")
    code, _, err = run(capsys, "predict", str(tmp_path / "Dockerfile"))
    assert code == 2
    assert f"{tmp_path}/.dockerignore:4: syntax error in pattern '['" in err
    (tmp_path / ".dockerignore").write_text("*.log\n!keep\\*\n[!a-c]x\n")
    code, _, err = run(capsys, "predict", str(tmp_path / "Dockerfile"))
    assert code == 0, err
    code, _, _ = run(capsys, "predict", str(tmp_path / "Dockerfile"), "--buildkit")
    assert code == 0
