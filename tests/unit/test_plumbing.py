"""The files other tools run: ``.pre-commit-hooks.yaml`` (its hooks' entries, run as pre-commit runs
them), ``action.yml`` and ``scripts/action-run.sh`` (the composite action's step)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOOKS = (ROOT / ".pre-commit-hooks.yaml").read_text()
ACTION = (ROOT / "action.yml").read_text()
LINTED = "FROM busybox:latest\nCOPY . .\nRUN pip install -r requirements.txt\n"
CLEAN = "FROM busybox:latest\nRUN true\n"


def env_with_layermap() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("GITHUB_ACTIONS", None)
    return env


def hook_entry(hook_id: str) -> list[str]:
    block = HOOKS.split(f"- id: {hook_id}\n", 1)[1].split("\n- id:", 1)[0]
    (entry,) = re.findall(r"^  entry: (.+)$", block, re.M)
    return shlex.split(entry)


def test_hooks_are_declared_with_what_pre_commit_needs() -> None:
    ids = re.findall(r"^- id: (\S+)$", HOOKS, re.M)
    assert ids == ["layermap-predict", "layermap-build"]
    for hook in ids:
        block = HOOKS.split(f"- id: {hook}\n", 1)[1].split("\n- id:", 1)[0]
        for key in ("name", "entry", "language", "files"):
            assert re.search(rf"^  {key}: \S", block, re.M), (hook, key)
        files = re.search(r"^  files: (.+)$", block, re.M)
        assert files is not None
        pattern = re.compile(files.group(1))
        assert pattern.search("Dockerfile") and pattern.search("app/Dockerfile.dev")
        assert pattern.search("Containerfile") and not pattern.search("Dockerfile/notes.md")


def test_the_predict_hook_fails_the_commit_on_a_warning(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    (good / "Dockerfile").write_text(CLEAN)
    (bad / "Dockerfile").write_text(LINTED)
    entry = hook_entry("layermap-predict")
    env = env_with_layermap()
    passed = subprocess.run([*entry, str(good / "Dockerfile")], env=env, capture_output=True, text=True)
    assert passed.returncode == 0, passed.stderr
    failed = subprocess.run(
        [*entry, str(good / "Dockerfile"), str(bad / "Dockerfile")], env=env, capture_output=True, text=True
    )
    assert failed.returncode == 1 and failed.stdout == ""
    assert f"{bad / 'Dockerfile'}:2: warning cache-busting-copy:" in failed.stderr


def test_the_build_hook_runs_layermap_build() -> None:
    entry = hook_entry("layermap-build")
    assert entry[:2] == ["sh", "-c"] and 'layermap build "$f" --fail-on warning -q' in entry[2]


def test_action_inputs_reach_the_step() -> None:
    inputs = ACTION.split("\ninputs:\n", 1)[1].split("\noutputs:\n", 1)[0]
    declared = re.findall(r"^  ([a-z-]+):\n    description:", inputs, re.M)
    used = set(re.findall(r"\$\{\{ inputs\.([a-z-]+) \}\}", ACTION))
    assert set(declared) == used and len(declared) == len(set(declared))
    assert '"${GITHUB_ACTION_PATH}/scripts/action-run.sh"' in ACTION
    assert "inputs." not in ACTION.split("run: bash", 1)[1]  # inputs reach the script as variables only


def run_action(tmp_path: Path, **inputs: str) -> tuple[int, str, str]:
    env = env_with_layermap()
    out = tmp_path / f"github-output-{len(list(tmp_path.glob('github-output-*')))}"
    env["GITHUB_OUTPUT"] = str(out)
    env.update({f"LAYERMAP_{key.upper()}": value for key, value in inputs.items()})
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "action-run.sh")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    return done.returncode, out.read_text() if out.exists() else "", done.stderr


def test_action_step_runs_layermap_and_reports_its_exit_code(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LINTED)
    code, outputs, _ = run_action(tmp_path, command="predict", path=".", format="sarif", output="out.sarif")
    assert code == 0 and outputs == "exit-code=0\n"
    assert '"ruleId": "cache-busting-copy"' in (tmp_path / "out.sarif").read_text()
    code, outputs, err = run_action(
        tmp_path, command="predict", fail_on="warning", args="--ignore add-instead-of-copy"
    )
    assert code == 1 and outputs == "exit-code=1\n" and "gate FAILED" in err


def test_action_step_never_runs_its_inputs_as_shell(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN)
    marker = tmp_path / "pwned"
    code, _, err = run_action(tmp_path, path=f"$(touch {marker})", args=f"--quiet; touch {marker}")
    assert code == 2 and not marker.exists()
    code, _, err = run_action(tmp_path, command="rm")
    assert code == 2 and "command must be predict, build, image or render" in err


def test_action_step_writes_several_formats_then_renders_the_json(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LINTED)
    code, _, err = run_action(tmp_path, command="predict", fail_on="never", args="--output json=r.json")
    assert code == 0, err
    code, outputs, err = run_action(
        tmp_path, command="render", path="r.json", format="junit", output="r.xml", fail_on="warning"
    )
    assert code == 1 and outputs == "exit-code=1\n" and "gate FAILED" in err
    assert "cache-busting-copy" in (tmp_path / "r.xml").read_text()


@pytest.mark.parametrize("flag", ["-f", "--dockerfile"])
def test_image_takes_dash_f(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    from analyzer.cli import main

    archive = ROOT / "tests" / "fixtures" / "archives" / "docker-small.tar"
    assert main(["image", str(archive), flag, str(ROOT / "no-such-Dockerfile"), "-q"]) == 2
    assert "no-such-Dockerfile: no such file" in capsys.readouterr().err
