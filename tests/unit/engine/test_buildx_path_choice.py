"""How ``Engine.build_buildkit`` chooses between the Engine API and ``docker buildx build``: by the image
store, by ``LAYERMAP_BUILDKIT``, and after the Engine API path's refusal of an uploaded context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analyzer.dockerfile import parse
from analyzer.engine import buildx
from analyzer.engine.buildx import Buildx
from analyzer.engine.client import Engine
from analyzer.engine.options import BuildOptions
from analyzer.errors import EngineError, UsageError
from analyzer.model import BuildResult

ADDRESS = "unix:///fake/docker.sock"


class InfoClient:
    def __init__(self, storage: str) -> None:
        self.status = [["driver-type", "io.containerd.snapshotter.v1"]] if storage == "containerd" else []

    def version(self) -> dict[str, Any]:
        return {"Version": "26.1.5", "ApiVersion": "1.45"}

    def info(self) -> dict[str, Any]:
        return {"Driver": "overlayfs", "DriverStatus": self.status, "DockerRootDir": "/var/lib/docker"}


REFUSED = EngineError(
    "the Docker engine at x cannot build an uploaded context with BuildKit (moby/moby#47717)"
)
OTHER = EngineError("lost the Docker engine at x during the build")


@pytest.mark.parametrize(
    ("storage", "forced", "api_error", "expected"),
    [
        ("overlay2", None, None, "api"),
        ("containerd", None, None, "buildx"),
        ("overlay2", None, REFUSED, "api,buildx"),
        ("overlay2", None, OTHER, "api,error"),
        ("containerd", "api", REFUSED, "api,error"),
        ("overlay2", "buildx", None, "buildx"),
    ],
)
def test_engine_chooses_the_path(
    monkeypatch: pytest.MonkeyPatch,
    storage: str,
    forced: str | None,
    api_error: EngineError | None,
    expected: str,
) -> None:
    calls: list[str] = []
    result = BuildResult(builder="buildkit", stage_image_ids=("sha256:1",), steps=())

    def api(*args: Any, **kwargs: Any) -> BuildResult:
        calls.append("api")
        if api_error is not None:
            raise api_error
        return result

    def via_buildx(
        tool: Buildx, address: str, dockerfile: Any, options: BuildOptions, *rest: Any, **kwargs: Any
    ) -> BuildResult:
        calls.append("buildx")
        assert address == ADDRESS and options == BuildOptions(Path("."), Path("Dockerfile"), network="host")
        return result

    monkeypatch.setattr("analyzer.engine.buildkit_api.build_buildkit", api)
    monkeypatch.setattr(buildx, "build_with_buildx", via_buildx)
    monkeypatch.setattr(buildx, "find_buildx", lambda: Buildx(("b",), "buildx 0.13.1", "t"))
    if forced is None:
        monkeypatch.delenv("LAYERMAP_BUILDKIT", raising=False)
    else:
        monkeypatch.setenv("LAYERMAP_BUILDKIT", forced)
    engine = Engine(InfoClient(storage), ADDRESS)
    dockerfile = parse("FROM busybox:latest\n")
    try:
        options = BuildOptions(Path("."), Path("Dockerfile"), network="host")
        assert engine.build_buildkit(dockerfile, options) is result
    except EngineError as exc:
        assert exc is api_error
        calls.append("error")
    assert ",".join(calls) == expected


def test_containerd_store_without_buildx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAYERMAP_BUILDKIT", raising=False)
    monkeypatch.setattr(buildx, "find_buildx", lambda: None)
    engine = Engine(InfoClient("containerd"), ADDRESS)
    with pytest.raises(
        EngineError, match=r"need buildx \(its containerd image store .*moby/moby#47717\): install"
    ):
        engine.build_buildkit(parse("FROM busybox:latest\n"), BuildOptions(Path("."), Path("Dockerfile")))


@pytest.mark.parametrize(
    ("storage", "session", "by_config"),
    [
        ("overlay2", {"secrets": ("id=a,env=HOME",)}, False),
        ("overlay2", {"ssh": ("default",)}, False),
        ("overlay2", {"buildx_builder": "ci"}, True),  # loaded into the classic store: known by config
        ("containerd", {"buildx_builder": "ci"}, False),
    ],
)
def test_a_session_goes_to_buildx_and_never_to_the_api(
    monkeypatch: pytest.MonkeyPatch, storage: str, session: dict[str, Any], by_config: bool
) -> None:
    seen: list[tuple[BuildOptions, bool]] = []
    result = BuildResult(builder="buildkit", stage_image_ids=("sha256:1",), steps=())

    def via_buildx(*args: Any, by_config: bool = False) -> BuildResult:
        seen.append((args[3], by_config))
        return result

    def api(*args: Any, **kwargs: Any) -> BuildResult:
        raise AssertionError("the Engine API path holds no session")

    monkeypatch.delenv("LAYERMAP_BUILDKIT", raising=False)
    monkeypatch.setattr("analyzer.engine.buildkit_api.build_buildkit", api)
    monkeypatch.setattr(buildx, "build_with_buildx", via_buildx)
    monkeypatch.setattr(buildx, "find_buildx", lambda: Buildx(("b",), "buildx 0.13.1", "t"))
    options = BuildOptions(Path("."), Path("Dockerfile"), "buildkit", **session)
    assert Engine(InfoClient(storage), ADDRESS).build_buildkit(parse("FROM busybox\n"), options) is result
    assert seen == [(options, by_config)]


def test_a_session_with_the_api_forced_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERMAP_BUILDKIT", "api")
    options = BuildOptions(Path("."), Path("Dockerfile"), "buildkit", secrets=("id=a,env=HOME",))
    with pytest.raises(UsageError, match="--secret needs a BuildKit session, which LAYERMAP_BUILDKIT=api"):
        Engine(InfoClient("overlay2"), ADDRESS).build_buildkit(parse("FROM busybox\n"), options)


class PingClient(InfoClient):
    def __init__(self, version: str, os_type: str = "linux", header: str | None = None) -> None:
        super().__init__("overlay2")
        self.answer = {"Version": version, "ApiVersion": "1.41", "Os": os_type}
        self.header = header

    def version(self) -> dict[str, Any]:
        return self.answer

    def _url(self, path: str) -> str:
        return "http://engine" + path

    def _get(self, url: str) -> Any:
        assert url == "http://engine/_ping"

        class Response:
            headers = {} if self.header is None else {"Builder-Version": self.header}

        return Response()


@pytest.mark.parametrize(
    ("client", "env", "expected"),
    [
        (PingClient("26.1.5"), {}, "buildkit"),
        (PingClient("23.0.0"), {}, "buildkit"),
        (PingClient("20.10.24", header="1"), {}, "classic"),
        (PingClient("20.10.24", header="2"), {}, "buildkit"),  # daemon.json features.buildkit
        (PingClient("20.10.24"), {}, "classic"),
        (PingClient("26.1.5", "windows"), {}, "classic"),
        (PingClient("26.1.5"), {"DOCKER_BUILDKIT": "0"}, "classic"),
        (PingClient("20.10.24", header="1"), {"DOCKER_BUILDKIT": "1"}, "buildkit"),
    ],
)
def test_the_default_builder_is_what_docker_build_would_use(
    client: PingClient, env: dict[str, str], expected: str
) -> None:
    assert Engine(client, ADDRESS).default_builder(env) == expected


def test_a_bad_docker_buildkit_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="DOCKER_BUILDKIT=yes: use 1 or 0"):
        Engine(PingClient("26.1.5"), ADDRESS).default_builder({"DOCKER_BUILDKIT": "yes"})
