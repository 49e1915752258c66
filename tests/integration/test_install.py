"""Installed like any CLI: a wheel of the repository in a fresh virtualenv, used with no engine at all.

``pip install <wheel>`` then ``layermap --help``, ``layermap samples DIR`` and ``layermap predict`` on a
written sample must work where no Docker engine answers (DOCKER_HOST names a socket that does not exist).
Slow (a virtualenv and a dependency install, ~30 s): it runs in the integration suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("install")
    wheels = work / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("layermap-*.whl")
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "-q", "install", str(wheel)], check=True
    )
    return work / "venv" / "bin"


def _run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "LAYERMAP_"))}
    env["DOCKER_HOST"] = f"unix://{cwd}/no-engine.sock"
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    return subprocess.run(
        [str(bin_dir / "layermap"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_help_samples_and_predict_work_without_an_engine(installed: Path, tmp_path: Path) -> None:
    shown = _run(installed, "--help", cwd=tmp_path)
    assert shown.returncode == 0 and "samples" in shown.stdout and "predict" in shown.stdout
    wrote = _run(installed, "samples", "course", cwd=tmp_path)
    assert wrote.returncode == 0, wrote.stderr
    repo = ROOT / "sample_dockerfiles" / "basics" / "Dockerfile"
    assert (tmp_path / "course" / "basics" / "Dockerfile").read_bytes() == repo.read_bytes()
    predicted = _run(installed, "predict", "course/basics/Dockerfile", "--format", "json", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    # docker build's default builder since Docker 23.0 (no DOCKER_BUILDKIT in this environment)
    assert '"builder": "buildkit"' in predicted.stdout and '"engine": null' in predicted.stdout
    linted = _run(installed, "predict", "course/cache-busting", "--format", "gitlab", cwd=tmp_path)
    assert linted.returncode == 0 and '"check_name": "cache-busting-copy"' in linted.stdout, linted.stderr
    completion = _run(installed, "completion", "bash", cwd=tmp_path)
    assert completion.returncode == 0 and "_shtab_layermap" in completion.stdout, completion.stderr
    # The French catalog ships in the wheel (package data), found by the locale as by --lang.
    french = _run(installed, "--lang", "fr", "predict", "course/basics/Dockerfile", "--classic", cwd=tmp_path)
    assert french.returncode == 0 and "Prédiction pour le builder classic" in french.stdout, french.stderr
    # The engine hint must not send an installed user to a script that only exists in a clone.
    built = _run(installed, "build", "course/basics", cwd=tmp_path)
    assert built.returncode == 4
    assert "scripts/dev-engine.sh" not in built.stderr and "DOCKER_HOST" in built.stderr
