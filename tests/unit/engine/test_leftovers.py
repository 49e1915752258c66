"""Build containers left by a run whose engine died mid-build are removed by the next build, and only
those (engine/leftovers.py, engine/classic.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from analyzer.engine import leftovers
from analyzer.engine.client import Engine
from analyzer.engine.options import BuildOptions
from analyzer.engine.sdk import docker
from analyzer.errors import EngineError

ADDRESS = "unix:///fake/docker.sock"
NOW = "2099-01-01T00:00:00.000000000Z"
STEPS = [{"stream": "Step 1/2 : FROM a\n ---> 0123456789ab\nStep 2/2 : RUN sleep 30\n"}]


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


class Daemon:
    """A classic build that dies after its RUN container started (or finishes), and the containers."""

    def __init__(self, containers: dict[str, str], *, dies: bool) -> None:
        self.containers = containers  # id -> Created
        self.dies = dies
        self.removed: list[str] = []

    def build(self, **kwargs: Any) -> Iterator[dict[str, str]]:
        yield from STEPS
        yield {"stream": " ---> Running in aaaaaaaaaaaa\n"}
        if self.dies:
            raise requests.exceptions.ConnectionError("daemon killed")
        yield {"stream": "Removing intermediate container aaaaaaaaaaaa\n ---> 111111111111\n"}
        yield {"aux": {"ID": "sha256:" + "1" * 64}}
        yield {"stream": "Successfully built 111111111111\n"}

    def info(self) -> dict[str, Any]:
        return {"SystemTime": NOW}

    def inspect_container(self, cid: str) -> dict[str, Any]:
        if cid not in self.containers:
            raise docker.errors.NotFound(cid)
        return {"Id": cid, "Created": self.containers[cid]}

    def remove_container(self, cid: str, force: bool = False) -> None:
        self.removed.append(cid)
        del self.containers[cid]


def build(daemon: Daemon) -> None:
    Engine(daemon, ADDRESS).build_classic(BuildOptions(Path("/ctx"), Path("/ctx/Dockerfile")))


def dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(proc.stdout)


def test_a_container_left_by_a_dead_engine_is_removed_by_the_next_build() -> None:
    daemon = Daemon({"aaaaaaaaaaaa": NOW, "cccccccccccc": "2000-01-01T00:00:00Z"}, dies=True)
    with pytest.raises(EngineError):
        build(daemon)
    (record,) = leftovers.state_dir(ADDRESS).glob("*.json")
    assert json.loads(record.read_text())["containers"] == ["aaaaaaaaaaaa"]
    build(Daemon({}, dies=False))  # this process is alive: its record is not stale, nothing happens
    assert daemon.removed == [] and record.exists()
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "pid": dead_pid()}))  # as if that run had been killed
    daemon.dies = False
    build(daemon)
    assert daemon.removed == ["aaaaaaaaaaaa"]  # the old one was never layermap's: kept
    assert list(leftovers.state_dir(ADDRESS).glob("*.json")) == []


def test_a_finished_build_leaves_no_record() -> None:
    build(Daemon({"aaaaaaaaaaaa": NOW}, dies=False))
    assert list(leftovers.state_dir(ADDRESS).glob("*.json")) == []


@pytest.mark.parametrize("content", ["{", '{"pid": 1, "started": 0, "containers": ["../x"]}', "[]"])
def test_a_tampered_record_is_dropped_not_followed(content: str) -> None:
    folder = leftovers.state_dir(ADDRESS)
    folder.mkdir(parents=True)
    (folder / "1-0.json").write_text(content)
    daemon = Daemon({"aaaaaaaaaaaa": NOW}, dies=False)
    build(daemon)
    assert daemon.removed == [] and list(folder.glob("*.json")) == []
