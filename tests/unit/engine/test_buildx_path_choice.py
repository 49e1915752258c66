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
from analyzer.errors import EngineError
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
        tool: Buildx, address: str, dockerfile: Any, options: BuildOptions, *rest: Any
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
