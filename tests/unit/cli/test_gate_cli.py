"""The gate through the CLI, without an engine: ``layermap image`` of a saved archive with its Dockerfile.

``docker-small.tar`` (tests/fixtures/archives) is FROM scratch with 4 layers of 6, 15, 0 and 6 bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.cli import main

ARCHIVE = str(Path(__file__).parents[2] / "fixtures/archives/docker-small.tar")
SMALL = json.loads((Path(__file__).parents[2] / "fixtures/archives/engine.json").read_text())["dockerfiles"][
    "small"
]


@pytest.fixture
def dockerfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")  # an archive needs no engine
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    path = tmp_path / "Dockerfile"
    path.write_text(SMALL)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["image", ARCHIVE, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_threshold_fails_the_gate_with_exit_1_and_names_it(
    dockerfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (dockerfile.parent / ".layermap.toml").write_text("max_layers = 3\n")
    code, out, err = run(capsys, "--dockerfile", str(dockerfile), "--format", "json")
    assert code == 1
    found = {f["rule"]: f for f in json.loads(out)["findings"]}
    assert found["too-many-layers"]["fails_gate"] is True and found["too-many-layers"]["layers"] == 4
    assert found["tiny-layers"]["fails_gate"] is False and found["tiny-layers"]["line"] == 2
    assert "layermap: gate FAILED (--fail-on error): image too-many-layers" in err


def test_fail_on_flag_overrides_the_config(dockerfile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (dockerfile.parent / ".layermap.toml").write_text('max_layers = 3\nfail_on = "warning"\n')
    assert run(capsys, "--dockerfile", str(dockerfile), "--fail-on", "never", "-q")[0] == 0
    (dockerfile.parent / ".layermap.toml").write_text('severity = { "tiny-layers" = "warning" }\n')
    assert run(capsys, "--dockerfile", str(dockerfile), "--fail-on", "warning", "-q")[0] == 1
    assert run(capsys, "--dockerfile", str(dockerfile), "-q")[0] == 0


def test_bad_config_is_exit_2_naming_the_key_before_reading_the_image(
    dockerfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = dockerfile.parent / "gate.toml"
    bad.write_text('max_image_size = "huge"\n')
    code = main(["image", "no-such-image:tag", "--dockerfile", str(dockerfile), "--config", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        f'layermap: {bad} max_image_size: expected a size in bytes or like "200MB" / "1.5GiB", got \'huge\''
    ]


def test_sarif_and_github_formats(dockerfile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--dockerfile", str(dockerfile), "--format", "sarif", "-q")
    results = json.loads(out)["runs"][0]["results"]
    assert code == 0 and [r["ruleId"] for r in results] == ["tiny-layers"]
    code, out, _ = run(capsys, "--dockerfile", str(dockerfile), "--format", "github", "-q")
    assert out.startswith(
        f"::notice file={dockerfile},line=2,endLine=2,title=layermap tiny-layers::4 consecutive"
    )


def test_in_github_actions_annotations_also_go_to_stderr(
    dockerfile: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, err = run(capsys, "--dockerfile", str(dockerfile), "--format", "json", "-q")
    assert code == 0 and json.loads(out)["findings"][0]["rule"] == "tiny-layers"
    assert [line for line in err.splitlines() if line.startswith("::")] == [
        f"::notice file={dockerfile},line=2,endLine=2,title=layermap tiny-layers::"
        "4 consecutive layers of less than 4096 B each (27 B in all, lines 2, 4, 5, 6): "
        "merge them into fewer steps"
    ]
