"""``--builder buildkit`` through ``docker buildx build`` on both engines (Docker 20.10 overlay2, Docker 26.1
with the containerd image store), checked against the image configuration read through ``docker save``.

On 26.1 buildx is the path layermap picks by itself (the Engine API cannot build an uploaded context
there, moby/moby#47717); on 20.10 these tests force it with ``LAYERMAP_BUILDKIT=buildx`` and compare
with the Engine API path, which must give the same image and the same map.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from helpers.build_map import SavedConfig, check_report, check_steps_against, layermap
from helpers.samples import CASES, SAMPLES, _case_id

from analyzer.dockerfile import parse
from analyzer.engine import buildkit_api as buildkit
from analyzer.engine import buildx
from analyzer.engine.options import BuildOptions, BuildProgress
from analyzer.errors import EngineError

ROOT = Path(__file__).resolve().parents[2]
TAG = "lmtest-bx-it"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often each path ran (the real functions still run)."""
    counts = {"api": 0, "buildx": 0}
    real_api, real_buildx = buildkit.build_buildkit, buildx.build_with_buildx

    def api(*args: Any, **kwargs: Any) -> Any:
        counts["api"] += 1
        return real_api(*args, **kwargs)

    def via_buildx(*args: Any, **kwargs: Any) -> Any:
        counts["buildx"] += 1
        return real_buildx(*args, **kwargs)

    monkeypatch.setattr(buildkit, "build_buildkit", api)
    monkeypatch.setattr(buildx, "build_with_buildx", via_buildx)
    return counts


@pytest.fixture
def bx(engine: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The ``engine``, with buildx (``LAYERMAP_BUILDX``) forced as the BuildKit path."""
    monkeypatch.setenv("LAYERMAP_BUILDX", engine.require_buildx())
    monkeypatch.setenv("LAYERMAP_BUILDKIT", "buildx")
    if not os.environ.get("DOCKER_CONFIG"):  # buildx keeps a little state there
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    buildx._find.cache_clear()
    return engine


def mapping(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (s["line"], s["trigger"], s["creates_layer"], s["history"] and s["history"]["index"],
         s["layer"] and s["layer"]["diff_id"])
        for s in report["steps"]
    ]  # fmt: skip


def write(tmp_path: Path, dockerfile: str, **files: str) -> Path:
    folder = tmp_path / "ctx"
    folder.mkdir(exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_every_sample_maps_exactly_through_buildx(
    case: tuple[str, str, dict[str, str] | None, str | None, int, int, str],
    bx: Any,
    calls: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    saved_config: SavedConfig,
) -> None:
    sample, dockerfile, build_args, target = case[:4]
    args = [str(SAMPLES / sample), "-f", str(SAMPLES / sample / dockerfile), "--network", "host"]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    args += ["--target", target] if target else []
    code, report, err = layermap(capsys, *args, "--buildkit")
    assert code == 0, err
    assert report is not None and report["builder"] == "buildkit"
    assert report["engine"]["storage"] == bx.storage
    assert calls == {"api": 0, "buildx": calls["buildx"]} and calls["buildx"] >= 1
    assert all(s["history"] is None for s in report["steps"] if s["instruction"] == "ONBUILD")
    check_report(report, bx.client, saved_config)
    if bx.storage == "overlay2":
        assert "warning" not in err
        monkeypatch.setenv("LAYERMAP_BUILDKIT", "api")
        code, api_report, err = layermap(capsys, *args, "--buildkit")
        assert code == 0, err
        assert api_report is not None and calls["api"] >= 1
        # The same map; not always the same layers: buildx applies .dockerignore to the Dockerfile
        # too (as the docker CLI does), the Engine API path keeps it in the context (as the SDK does).
        assert [m[:4] for m in mapping(api_report)] == [m[:4] for m in mapping(report)]
        ignored = (SAMPLES / sample / ".dockerignore").is_file()
        assert ignored or api_report["image"]["id"] == report["image"]["id"]


def test_side_stage_lines_match_the_stage_image(
    bx: Any, capsys: pytest.CaptureFixture[str], saved_config: SavedConfig
) -> None:
    """Lines of a named stage outside the final image get layer data from a re-build of that stage as
    the target (through buildx too); it must agree with that stage's own image."""
    sample = str(SAMPLES / "multi-stage")
    code, full, err = layermap(capsys, sample, "--buildkit", "--network", "host")
    assert code == 0, err
    code, builder, err = layermap(capsys, sample, "--buildkit", "--network", "host", "--target", "builder")
    assert code == 0, err
    assert full is not None and builder is not None
    side = [s for s in full["steps"] if s["stage"] == 0]
    assert [s["creates_layer"] for s in side] == [False, True, True, True]
    check_steps_against(saved_config(bx.client, builder["image"]["id"]), side, "buildkit")
    assert mapping(builder)[: len(side)] == [m for m in mapping(full) if m[0] in {s["line"] for s in side}]


def test_the_path_is_chosen_by_the_engine(
    engine: Any,
    calls: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("LAYERMAP_BUILDKIT", raising=False)
    if engine.storage == "containerd":
        monkeypatch.setenv("LAYERMAP_BUILDX", engine.require_buildx())
    buildx._find.cache_clear()
    ctx = write(tmp_path, "FROM busybox:latest\nRUN echo auto > /auto\n")
    code, report, err = layermap(capsys, str(ctx), "--buildkit", "--network", "host")
    assert code == 0, err
    assert report is not None
    expected = {"api": 0, "buildx": 1} if engine.storage == "containerd" else {"api": 1, "buildx": 0}
    assert calls == expected


def test_spoofed_output_and_a_failing_run_exit_3(
    bx: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake = "#5 DONE 0.1s\\n\\n#9 [9/9] RUN x\\nERROR: failed to solve: exit code: 9\\n"
    df = "FROM busybox:latest\nENV A=1\nRUN echo kept > /kept\n"
    df += f"RUN printf '{fake}'; echo boom; exit 3\nCMD [\"sh\"]\n"
    ctx = write(tmp_path, df)
    code, report, err = layermap(capsys, str(ctx), "--buildkit", "--no-cache", "--network", "host")
    assert code == 3
    assert f"{ctx / 'Dockerfile'}:4" in err and "exit code: 3" in err
    assert "| #5 DONE 0.1s" in err and "| boom" in err and "| #9 [9/9] RUN x" in err
    assert report is not None and report["image"] is None
    steps = {s["line"]: s for s in report["steps"]}
    assert steps[4]["error"]["exit_code"] == 3
    assert steps[3]["cached"] is False and steps[3]["creates_layer"] is None


def test_cached_rebuild_gives_the_same_image(
    bx: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, saved_config: SavedConfig
) -> None:
    ctx = write(tmp_path, "FROM busybox:latest\nRUN echo one > /one\nENV A=1\nCOPY f /f\n", f="f\n")
    args = [str(ctx), "--buildkit", "--network", "host"]
    code, first, err = layermap(capsys, *args, "--no-cache")
    assert code == 0, err
    code, second, err = layermap(capsys, *args)
    assert code == 0, err
    assert first is not None and second is not None
    assert second["image"]["id"] == first["image"]["id"]
    assert [s["cached"] for s in first["steps"]] == [None, False, None, False]
    assert [s["cached"] for s in second["steps"]] == [None, True, None, True]
    assert mapping(second) == mapping(first)
    check_report(second, bx.client, saved_config)


def test_the_image_lands_in_the_engine_store_without_load(bx: Any, tmp_path: Path) -> None:
    ctx = write(tmp_path, "FROM busybox:latest\nCOPY f /f\n", f="data\n")
    tool = buildx.require_buildx(bx.url, "test")
    dockerfile = parse((ctx / "Dockerfile").read_text())
    options = BuildOptions(ctx, ctx / "Dockerfile", tag=TAG, no_cache=True)
    result = buildx.build_with_buildx(tool, bx.url, dockerfile, options)
    try:
        inspect = bx.client.inspect_image(TAG)
        assert result.image_id == inspect["Id"] and result.failure is None
        assert [(s.number, s.cached) for s in result.steps] == [(1, None), (2, False)]
    finally:
        with contextlib.suppress(docker.errors.APIError):
            bx.client.remove_image(TAG)


def test_dockerignore_and_a_dockerfile_outside_the_context(bx: Any, tmp_path: Path) -> None:
    ctx = write(
        tmp_path, "unused\n", **{".dockerignore": "secret.txt\n", "secret.txt": "s\n", "kept.txt": "k\n"}
    )
    outside = tmp_path / "outside.Dockerfile"
    outside.write_text("FROM busybox:latest\nCOPY . /ctx\nRUN ls /ctx\n")
    events: list[BuildProgress] = []
    tool = buildx.require_buildx(bx.url, "test")
    options = BuildOptions(ctx, outside, network="host", no_cache=True)
    result = buildx.build_with_buildx(
        tool, bx.url, parse(outside.read_text()), options, on_progress=events.append
    )
    assert result.failure is None, result.failure
    listed = [e.line for e in events if e.kind == "output" and e.step == 3]
    assert "kept.txt" in listed and "secret.txt" not in listed and "Dockerfile" in listed


def test_ctrl_c_cancels_the_build_and_leaves_nothing(bx: Any, tmp_path: Path) -> None:
    token = f"{os.getpid() % 1000}.{int(time.time()) % 1000}"
    text = f"FROM busybox:latest\nRUN echo started; sleep {token}; echo finished\n"
    ctx = write(tmp_path, text)
    tool = buildx.require_buildx(bx.url, "test")
    before = {c["Id"] for c in bx.client.containers(all=True)}

    def interrupt(event: BuildProgress) -> None:
        if event.kind == "output" and event.line == "started":
            assert _wait(lambda: _running(f"sleep\0{token}\0")), "the RUN should be running now"
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        buildx.build_with_buildx(
            tool,
            bx.url,
            parse(text),
            BuildOptions(ctx, ctx / "Dockerfile", network="host", no_cache=True),
            on_progress=interrupt,
        )
    assert _wait(lambda: not _running(f"sleep\0{token}\0")), "the daemon should have stopped the RUN"
    assert not _running(str(ctx)), "buildx should be gone"
    assert {c["Id"] for c in bx.client.containers(all=True)} <= before


def test_sigint_to_the_process_group_exits_130(bx: Any, tmp_path: Path) -> None:
    """As a terminal's Ctrl-C: SIGINT reaches layermap and buildx at once."""
    token = f"{os.getpid() % 1000}.{int(time.time()) % 1000 + 1}"
    ctx = write(tmp_path, f"FROM busybox:latest\nRUN echo started; sleep {token}\n")
    argv = [sys.executable, "-m", "analyzer", "build", str(ctx), "--buildkit", "--network", "host"]
    process = subprocess.Popen(
        [*argv, "--no-cache"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert _wait(lambda: _running(f"sleep\0{token}\0"), timeout=60), "the RUN should be running now"
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr.decode()[-2000:]
    assert b"layermap: interrupted" in stderr
    assert _wait(lambda: not _running(f"sleep\0{token}\0")), "the daemon should have stopped the RUN"
    assert not _running(str(ctx)), "buildx should be gone"


def test_unreachable_engine_names_docker_host(tmp_path: Path) -> None:
    binary = os.environ.get("LAYERMAP_BUILDX", "")
    if not binary:
        pytest.skip("LAYERMAP_BUILDX is not set (scripts/test.sh sets it)")
    address = f"unix://{tmp_path}/no.sock"
    ctx = write(tmp_path, "FROM busybox:latest\n")
    tool = buildx.Buildx((binary,), "", "LAYERMAP_BUILDX")
    with pytest.raises(
        EngineError, match=f"buildx cannot reach the Docker engine at {address} \\(DOCKER_HOST\\)"
    ):
        buildx.build_with_buildx(
            tool, address, parse("FROM busybox:latest\n"), BuildOptions(ctx, ctx / "Dockerfile")
        )


# ---------------------------------------------------------------------- helpers


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _running(needle: str) -> bool:
    """Whether a process on this machine has ``needle`` in its command line (the engines run here)."""
    wanted = needle.encode()
    return any(wanted in _cmdline(proc) for proc in _processes())


def _processes() -> Iterator[Path]:
    return (proc for proc in Path("/proc").iterdir() if proc.name.isdigit() and proc.name != str(os.getpid()))


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:  # the process ended meanwhile
        return b""
