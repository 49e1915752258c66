"""What every fixture recorder shares: where fixtures live, the engine client, how JSON is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ROOT = FIXTURES.parents[1]


def fixture_dir(name: str) -> Path:
    """``tests/fixtures/<name>``, the folder a recorder writes."""
    return FIXTURES / name


def client(timeout: int = 300) -> docker.APIClient:
    """A low-level client for the engine of ``DOCKER_HOST`` (TLS variables honoured)."""
    return docker.APIClient(version="auto", timeout=timeout, **docker.utils.kwargs_from_env())


def write_json(path: Path, data: Any, indent: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent) + "\n")
