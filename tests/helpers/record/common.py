"""What every fixture recorder shares: where fixtures live, the engine client, how JSON is written."""

from __future__ import annotations

import json
import tarfile
import tempfile
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


def saved_config(client: Any, image_id: str) -> dict[str, Any]:
    """The image configuration from ``docker save`` (Docker format or OCI layout)."""
    with tempfile.TemporaryFile() as tmp:
        for chunk in client.get_image(image_id):
            tmp.write(chunk)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp) as tar:
            manifest = json.load(_member(tar, "manifest.json"))
            config: dict[str, Any] = json.load(_member(tar, manifest[0]["Config"]))
    return config


def _member(tar: tarfile.TarFile, name: str) -> Any:
    handle = tar.extractfile(name)
    if handle is None:
        raise RuntimeError(f"{name} is not a file in the saved archive")
    return handle
