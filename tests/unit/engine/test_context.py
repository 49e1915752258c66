"""Engine discovery as the docker CLI does it: DOCKER_HOST, else the named or current Docker context."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.engine.context import DEFAULT_ADDRESS, resolve
from analyzer.errors import UsageError


def make_context(config: Path, name: str, host: str, tls: bool = False, skip: bool = False) -> Path:
    """A context as ``docker context create NAME --docker host=HOST`` writes it."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    endpoints = {"docker": {"Host": host, "SkipTLSVerify": skip}}
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Metadata": {}, "Endpoints": endpoints}))
    if tls:
        folder = config / "contexts" / "tls" / digest / "docker"
        folder.mkdir(parents=True)
        for pem in ("ca.pem", "cert.pem", "key.pem"):
            (folder / pem).write_text("x")
    return meta


def test_docker_host_wins_over_every_context(tmp_path: Path) -> None:
    make_context(tmp_path, "remote", "tcp://10.0.0.1:2376")
    env = {"DOCKER_HOST": "unix:///x.sock", "DOCKER_CONTEXT": "remote", "DOCKER_CONFIG": str(tmp_path)}
    endpoint = resolve(env, context="remote")
    assert (endpoint.address, endpoint.origin) == ("unix:///x.sock", "DOCKER_HOST")


def test_named_context_then_docker_context_then_current_context(tmp_path: Path) -> None:
    make_context(tmp_path, "a", "unix:///a.sock")
    make_context(tmp_path, "b", "unix:///b.sock")
    make_context(tmp_path, "c", "unix:///c.sock")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "c"}))
    env = {"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "b"}
    assert resolve(env, context="a").address == "unix:///a.sock"
    assert resolve(env).address == "unix:///b.sock"
    current = resolve({"DOCKER_CONFIG": str(tmp_path)})
    assert (current.address, current.origin) == ("unix:///c.sock", "context c")


def test_default_context_and_no_config_mean_the_default_socket(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert resolve({"DOCKER_CONFIG": str(tmp_path)}).address == DEFAULT_ADDRESS
    assert resolve({"DOCKER_CONFIG": str(tmp_path / "missing")}).address == DEFAULT_ADDRESS
    (tmp_path / "config.json").write_text("{not json")
    assert resolve({"DOCKER_CONFIG": str(tmp_path)}).address == DEFAULT_ADDRESS


def test_tls_folder_and_skip_verify_come_from_the_context(tmp_path: Path) -> None:
    make_context(tmp_path, "secure", "tcp://127.0.0.1:2376", tls=True, skip=True)
    endpoint = resolve({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "secure"})
    assert endpoint.tls_dir is not None and (endpoint.tls_dir / "ca.pem").is_file()
    assert endpoint.skip_tls_verify is True


def test_unknown_or_endpointless_context_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Docker context 'nope' not found"):
        resolve({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "nope"})
    meta = make_context(tmp_path, "empty", "")
    (meta / "meta.json").write_text(json.dumps({"Name": "empty", "Endpoints": {}}))
    with pytest.raises(UsageError, match="has no docker endpoint"):
        resolve({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "empty"})


def test_cli_context_flag_reaches_the_engine_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_context(tmp_path, "lab", f"unix://{tmp_path}/lab.sock")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    # --context sets DOCKER_CONTEXT for the run: record its absence so the test leaves it unset.
    monkeypatch.setenv("DOCKER_CONTEXT", "unset-after-the-test")
    monkeypatch.delenv("DOCKER_CONTEXT")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert main(["image", "busybox:latest", "--context", "lab"]) == 4
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        f"layermap: cannot reach the Docker engine at unix://{tmp_path}/lab.sock (from context lab)"
    )
    assert len(err.splitlines()) == 1
