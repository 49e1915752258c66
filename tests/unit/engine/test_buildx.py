"""``analyzer.engine.buildx`` without an engine: the command line and environment, finding buildx, and the
subprocess plumbing (through a stand-in binary that replays real recordings, hangs, or ignores SIGINT).
How ``Engine.build_buildkit`` chooses between the Engine API and buildx: test_buildx_path.py."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analyzer.dockerfile import parse
from analyzer.engine import buildx
from analyzer.engine.buildx import (
    Buildx,
    build_command,
    build_with_buildx,
    environment,
    find_buildx,
    forced_path,
)
from analyzer.engine.options import BuildOptions, BuildProgress
from analyzer.errors import DockerfileError, EngineError, UsageError
from analyzer.model import BuildResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "buildx"
FAKE = FIXTURES / "fake_buildx.py"
ADDRESS = "unix:///fake/docker.sock"


def executable(path: Path, script: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def fake_binary(folder: Path, name: str = "docker-buildx") -> Path:
    return executable(folder / name, f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')


@pytest.fixture(autouse=True)
def fresh_lookup() -> Iterator[None]:
    buildx._find.cache_clear()
    yield
    buildx._find.cache_clear()


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Buildx:
    for name in list(os.environ):
        if name.startswith("FAKE_BUILDX_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FAKE_BUILDX_ARGV", str(tmp_path / "argv.json"))
    monkeypatch.setenv("FAKE_BUILDX_MARK", str(tmp_path / "interrupted"))
    return Buildx((str(fake_binary(tmp_path / "bin")),), "github.com/docker/buildx 0.13.1 fake", "test")


def context(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "context"
    folder.mkdir(exist_ok=True)
    (folder / "Dockerfile").write_text(text)
    return folder


def replay(
    fake: Buildx,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    kind: str = "docker26",
    **kw: Any,
) -> tuple[BuildResult, list[BuildProgress]]:
    path = FIXTURES / kind / f"{name}.json"
    monkeypatch.setenv("FAKE_BUILDX_FIXTURE", str(path))
    text = json.loads(path.read_text())["dockerfile"]
    folder = context(tmp_path, kw.pop("dockerfile", text))
    events: list[BuildProgress] = []
    result = build_with_buildx(
        fake,
        ADDRESS,
        parse(text),
        BuildOptions(folder, folder / "Dockerfile", **kw),
        on_progress=events.append,
    )
    return result, events


# ---------------------------------------------------------------------- command line, environment


def test_command_line() -> None:
    tool = Buildx(("docker", "buildx"), "", "docker buildx")
    files = (Path("/t/iid"), Path("/t/meta.json"))
    options = BuildOptions(
        Path("/ctx"), Path("/df/Dockerfile"), build_args={"A": "1", "B": ""}, target="t",
        network="host", no_cache=True, platform="linux/amd64", tag="x:1",
    )  # fmt: skip
    argv = build_command(tool, options, files)
    assert argv == [
        "docker", "buildx", "build", "--builder", "default", "--progress=plain", "--provenance=false",
        "--iidfile", "/t/iid", "--metadata-file", "/t/meta.json", "-f", "/df/Dockerfile",
        "--build-arg", "A=1", "--build-arg", "B=", "--target", "t", "--network", "host",
        "--platform", "linux/amd64", "-t", "x:1", "--no-cache", "/ctx",
    ]  # fmt: skip
    plain = build_command(tool, BuildOptions(Path("/ctx"), Path("/ctx/Dockerfile")), files)
    assert "--load" not in plain and plain[-3:] == ["-f", "/ctx/Dockerfile", "/ctx"]


def test_environment_aims_at_the_engine() -> None:
    base = {"DOCKER_HOST": "tcp://other:2375", "DOCKER_CONTEXT": "remote", "BUILDX_BUILDER": "kube"}
    base |= {"BUILDKIT_PROGRESS": "rawjson", "DOCKER_TLS_VERIFY": "1", "HOME": "/root"}
    assert environment(ADDRESS, base) == {"DOCKER_HOST": ADDRESS, "DOCKER_TLS_VERIFY": "1", "HOME": "/root"}


@pytest.mark.parametrize(
    ("value", "path"), [("", None), ("auto", None), ("API", "api"), (" buildx ", "buildx")]
)
def test_forced_path(value: str, path: str | None) -> None:
    assert forced_path({"LAYERMAP_BUILDKIT": value}) == path


def test_forced_path_bad_value() -> None:
    with pytest.raises(UsageError, match="LAYERMAP_BUILDKIT=session: use api, buildx or auto"):
        forced_path({"LAYERMAP_BUILDKIT": "session"})


# ---------------------------------------------------------------------- finding buildx


def test_find_prefers_layermap_buildx(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "x")
    found = find_buildx({"LAYERMAP_BUILDX": str(binary), "PATH": ""})
    assert found is not None and found.command == (str(binary),) and found.origin == "LAYERMAP_BUILDX"
    assert found.version == "github.com/docker/buildx 0.13.1 fake"


def test_layermap_buildx_must_be_a_buildx(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not an executable file"):
        find_buildx({"LAYERMAP_BUILDX": str(tmp_path / "missing")})
    liar = executable(tmp_path / "liar", "#!/bin/sh\necho hello\n")
    with pytest.raises(UsageError, match="does not answer as buildx"):
        find_buildx({"LAYERMAP_BUILDX": str(liar)})


def test_find_docker_buildx_then_plugin_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buildx, "PLUGIN_DIRS", ())
    answering = executable(
        tmp_path / "good" / "docker", '#!/bin/sh\n[ "$1" = buildx ] && echo "buildx v0.14.0"\n'
    )
    found = find_buildx({"PATH": str(answering.parent), "HOME": str(tmp_path / "home")})
    assert found is not None and found.command == (str(answering), "buildx")
    # A docker CLI without the plugin ("unknown command", exit 1): the plugin folder under DOCKER_CONFIG.
    without = executable(
        tmp_path / "bad" / "docker", "#!/bin/sh\necho 'docker: unknown command' >&2\nexit 1\n"
    )
    plugin = fake_binary(tmp_path / "config" / "cli-plugins")
    env = {"PATH": str(without.parent), "DOCKER_CONFIG": str(tmp_path / "config")}
    found = find_buildx(env)
    assert found is not None and found.command == (str(plugin),)
    assert find_buildx({"PATH": str(without.parent), "HOME": str(tmp_path / "nobody")}) is None


def test_require_buildx_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buildx, "find_buildx", lambda: None)
    with pytest.raises(EngineError) as caught:
        buildx.require_buildx(ADDRESS, "why not")
    message = str(caught.value)
    assert f"engine at {ADDRESS} need buildx (why not)" in message
    assert "apt-get install docker-buildx" in message and "LAYERMAP_BUILDX" in message
    old = Buildx(("b",), "github.com/docker/buildx v0.9.1 abc", "/usr/libexec/docker/cli-plugins")
    monkeypatch.setattr(buildx, "find_buildx", lambda: old)
    with pytest.raises(EngineError, match=r"buildx 0.9 \(/usr/libexec/docker/cli-plugins\) is too old"):
        buildx.require_buildx(ADDRESS, "why not")


# ---------------------------------------------------------------------- running it


def test_success_takes_the_image_id_from_the_metadata(
    fake: Buildx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fx = json.loads((FIXTURES / "docker26" / "multistage.json").read_text())
    result, events = replay(fake, tmp_path, monkeypatch, "multistage", build_args={"VERSION": "2"}, tag="t")
    # On the containerd store --iidfile names the config, which the engine cannot inspect.
    assert fx["iidfile"] != fx["truth"]["image_id"]
    assert result.image_id == fx["truth"]["image_id"] and result.failure is None
    assert [s.number for s in result.steps] == [2, 3, 5, 9, 11, 12, 13]
    assert events[-1] == BuildProgress(
        "stage-done", None, 15, "", events[-1].elapsed_s, fx["truth"]["image_id"]
    )
    argv = json.loads((tmp_path / "argv.json").read_text())
    assert argv[:5] == ["build", "--builder", "default", "--progress=plain", "--provenance=false"]
    assert argv[-1] == str(tmp_path / "context")


def test_without_metadata_the_iidfile_is_used(
    fake: Buildx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BUILDX_NO_METADATA", "1")
    result, _ = replay(
        fake, tmp_path, monkeypatch, "multistage", kind="docker20", build_args={"VERSION": "2"}
    )
    assert result.image_id == json.loads((FIXTURES / "docker20" / "multistage.json").read_text())["iidfile"]


def test_failed_run_is_data(fake: Buildx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result, events = replay(fake, tmp_path, monkeypatch, "fail_exit3", no_cache=True)
    assert result.failure is not None and result.image_id is None
    assert (result.failure.exit_code, result.failure.step_number) == (3, 4)
    assert [e.line for e in events if e.kind == "output"][-1] == "err"


def test_syntax_error_is_a_dockerfile_error(
    fake: Buildx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BUILDX_FIXTURE", str(FIXTURES / "docker26" / "syntax_error.json"))
    folder = context(tmp_path, "FROM busybox:latest\nRUN true\nFOO bar\n")
    with pytest.raises(DockerfileError) as caught:
        build_with_buildx(
            fake,
            ADDRESS,
            parse("FROM busybox:latest\nRUN true\n"),
            BuildOptions(folder, folder / "Dockerfile"),
        )
    assert caught.value.line == 3


def test_exit_without_a_message_is_an_engine_error(tmp_path: Path) -> None:
    broken = Buildx(
        (str(executable(tmp_path / "b", "#!/bin/sh\necho 'unknown flag: --x' >&2\nexit 125\n")),), "", "t"
    )
    folder = context(tmp_path, "FROM busybox:latest\n")
    with pytest.raises(EngineError, match=r"failed \(exit code 125\): unknown flag: --x$"):
        build_with_buildx(
            broken, ADDRESS, parse("FROM busybox:latest\n"), BuildOptions(folder, folder / "Dockerfile")
        )


def test_missing_binary_and_missing_context(tmp_path: Path) -> None:
    gone = Buildx((str(tmp_path / "gone"),), "", "t")
    folder = context(tmp_path, "FROM busybox:latest\n")
    with pytest.raises(EngineError, match="cannot run .*gone"):
        build_with_buildx(
            gone, ADDRESS, parse("FROM busybox:latest\n"), BuildOptions(folder, folder / "Dockerfile")
        )
    with pytest.raises(UsageError, match="not a folder"):
        build_with_buildx(
            gone,
            ADDRESS,
            parse("FROM busybox:latest\n"),
            BuildOptions(tmp_path / "no", tmp_path / "no" / "D"),
        )


@pytest.mark.parametrize("mode", ["hang", "stubborn"])
def test_ctrl_c_stops_buildx(
    fake: Buildx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("FAKE_BUILDX_MODE", mode)
    monkeypatch.setattr(buildx, "_STOP_TIMEOUT", 1.0)
    text = "FROM busybox:latest\nRUN echo started; sleep 60\n"
    folder = context(tmp_path, text)

    def interrupt(event: BuildProgress) -> None:
        if event.kind == "output" and event.line == "started":
            raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        build_with_buildx(
            fake, ADDRESS, parse(text), BuildOptions(folder, folder / "Dockerfile"), on_progress=interrupt
        )
    # hang: buildx got SIGINT and cancelled; stubborn: killed once the grace time was over.
    assert (tmp_path / "interrupted").exists() is (mode == "hang")
    assert time.monotonic() - started < 10
