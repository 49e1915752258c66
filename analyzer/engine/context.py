"""Which engine to talk to, found the way the docker CLI finds it (reads files only; no SDK import).

Order (the contract's): ``DOCKER_HOST``; else the context named by ``--context`` or ``DOCKER_CONTEXT``;
else the ``currentContext`` of ``$DOCKER_CONFIG/config.json`` (``~/.docker/config.json``); else the
default socket. A context other than ``default`` is read from the CLI's context store:
``$DOCKER_CONFIG/contexts/meta/<sha256 of the name>/meta.json`` holds ``Endpoints.docker.Host`` (and
``SkipTLSVerify``); its TLS files, when it has any, are in ``contexts/tls/<same hash>/docker/``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer.errors import UsageError

DEFAULT_ADDRESS = "unix:///var/run/docker.sock"
DEFAULT_CONTEXT = "default"


@dataclass(frozen=True)
class Endpoint:
    """Where the engine is, and how it was chosen (for messages)."""

    address: str
    origin: str
    """``DOCKER_HOST``, ``context NAME`` or ``the default socket``."""
    tls_dir: Path | None = None
    """A context's folder with ca.pem / cert.pem / key.pem, when it has one."""
    skip_tls_verify: bool = False


def config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")


def resolve(env: Mapping[str, str] | None = None, context: str | None = None) -> Endpoint:
    """The engine endpoint for this environment; an unknown context is a usage error (exit 2)."""
    env = os.environ if env is None else env
    if env.get("DOCKER_HOST"):
        return Endpoint(env["DOCKER_HOST"], "DOCKER_HOST")
    name = context or env.get("DOCKER_CONTEXT") or _current_context(config_dir(env))
    if not name or name == DEFAULT_CONTEXT:
        return Endpoint(DEFAULT_ADDRESS, "the default socket")
    return _from_store(config_dir(env), name)


def _current_context(folder: Path) -> str | None:
    data = _json(folder / "config.json")
    value = data.get("currentContext") if data else None
    return value if isinstance(value, str) and value else None


def _from_store(folder: Path, name: str) -> Endpoint:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = _json(folder / "contexts" / "meta" / digest / "meta.json")
    if meta is None:
        raise UsageError(f"Docker context {name!r} not found (looked in {folder / 'contexts'})")
    docker = (meta.get("Endpoints") or {}).get("docker") or {}
    host = docker.get("Host") if isinstance(docker, dict) else None
    if not isinstance(host, str) or not host:
        raise UsageError(f"Docker context {name!r} has no docker endpoint")
    tls = folder / "contexts" / "tls" / digest / "docker"
    return Endpoint(
        address=host,
        origin=f"context {name}",
        tls_dir=tls if tls.is_dir() else None,
        skip_tls_verify=bool(docker.get("SkipTLSVerify")),
    )


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
