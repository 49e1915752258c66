"""The integration tests' engine and registry handles (what the ``engine`` and ``registry`` fixtures give),
and the rule for a missing engine: fail when the run requires one, else skip."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import docker
import pytest


def engine_required() -> bool:
    return os.environ.get("LAYERMAP_TEST_ENGINE", "").strip().lower() in {"1", "yes", "true", "required"}


def no_engine(message: str) -> NoReturn:
    """Fail (CI, scripts/test.sh) or skip (a developer without an engine)."""
    if engine_required():
        pytest.fail(f"{message} (LAYERMAP_TEST_ENGINE=required; start one with scripts/dev-engine.sh start)")
    pytest.skip(message)


@dataclass(frozen=True)
class Engine:
    """One of the test engines, as the ``engine`` fixture gives it."""

    kind: str  # "docker20" | "docker26" | "docker28" (the test id)
    url: str  # unix://… or tcp://…; DOCKER_HOST during the test
    client: docker.APIClient = field(repr=False)
    storage: str  # "overlay2" (graph driver) | "containerd" (containerd image store)
    buildx: str | None  # the docker-buildx plugin binary (runs standalone too), or None
    version: str  # server version, e.g. "26.1.5+dfsg1"
    api_version: str  # server API version, e.g. "1.45"
    root_dir: str  # DockerRootDir (the daemon's data root)
    docker_cli: str | None = None  # the docker client that comes with this engine, or None
    docker_config: str | None = None  # DOCKER_CONFIG for that client (finds this engine's buildx)

    def require_buildx(self) -> str:
        """The buildx binary; skips the test (fails if LAYERMAP_TEST_ENGINE=required) when there is none."""
        if self.buildx is None:
            no_engine("LAYERMAP_BUILDX is not set or not executable: no buildx (scripts/test.sh sets it)")
        return self.buildx

    def buildx_env(self, docker_config: str | os.PathLike[str]) -> dict[str, str]:
        """Environment to run ``self.buildx`` against this engine, its state in ``docker_config``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "BUILDX_"))}
        env.update(DOCKER_HOST=self.url, DOCKER_CONFIG=str(docker_config))
        return env


@dataclass(frozen=True)
class Registry:
    """The test registries (scripts/dev-registry.sh), as the ``registry`` fixture gives them."""

    host: str  # "127.0.0.1:PORT": TLS, anonymous push and pull
    auth_host: str  # "127.0.0.1:PORT": TLS, basic auth (user, password) for everything
    user: str
    password: str = field(repr=False)
    ca: str  # path of the CA certificate (PEM) both registries' certificates come from

    @property
    def cert_dir(self) -> str:
        """A folder whose only certificate is the CA as ``ca.crt`` (skopeo's ``--cert-dir``)."""
        return str(Path(self.ca).parent)

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts the CA (and nothing else)."""
        return ssl.create_default_context(cafile=self.ca)
