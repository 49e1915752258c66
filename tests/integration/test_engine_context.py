"""An engine reached only through a Docker context: no DOCKER_HOST, the context store says where it is."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from analyzer.cli import main

ROOT = Path(__file__).resolve().parents[2]


def write_context(config: Path, name: str, host: str) -> None:
    """What ``docker context create NAME --docker host=HOST`` + ``docker context use NAME`` write."""
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    endpoints = {"docker": {"Host": host, "SkipTLSVerify": False}}
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Metadata": {}, "Endpoints": endpoints}))
    (config / "config.json").write_text(json.dumps({"currentContext": name}))


def test_image_and_build_find_the_engine_of_the_current_context(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "docker-config"
    write_context(config, "course", engine.url)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    # --context sets DOCKER_CONTEXT for the run: record its absence so the test leaves it unset.
    monkeypatch.setenv("DOCKER_CONTEXT", "unset-after-the-test")
    monkeypatch.delenv("DOCKER_CONTEXT")
    monkeypatch.setenv("DOCKER_CONFIG", str(config))

    assert main(["image", "busybox:latest", "--format", "json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["image"]["id"] == engine.client.inspect_image("busybox:latest")["Id"]
    assert report["engine"]["version"] == engine.version

    sample = ROOT / "sample_dockerfiles" / "basics"
    assert main(["build", str(sample), "--classic", "--format", "json", "-q"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["engine"]["version"] == engine.version
    assert engine.client.inspect_image(built["image"]["id"])["Id"] == built["image"]["id"]


def test_context_flag_names_a_context_that_is_not_current(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "docker-config"
    write_context(config, "elsewhere", "unix:///nonexistent/docker.sock")
    other = config / "contexts" / "meta" / hashlib.sha256(b"lab").hexdigest()
    other.mkdir(parents=True)
    endpoints = {"docker": {"Host": engine.url, "SkipTLSVerify": False}}
    (other / "meta.json").write_text(json.dumps({"Name": "lab", "Metadata": {}, "Endpoints": endpoints}))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    # --context sets DOCKER_CONTEXT for the run: record its absence so the test leaves it unset.
    monkeypatch.setenv("DOCKER_CONTEXT", "unset-after-the-test")
    monkeypatch.delenv("DOCKER_CONTEXT")
    monkeypatch.setenv("DOCKER_CONFIG", str(config))

    assert main(["image", "busybox:latest", "--format", "json", "-q"]) == 4
    assert "(from context elsewhere)" in capsys.readouterr().err
    assert main(["image", "busybox:latest", "--context", "lab", "--format", "json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["engine"]["version"] == engine.version
