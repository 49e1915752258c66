"""Fixtures for tests that need a real Docker engine.

The engine comes from the environment, like the docker SDK's ``from_env()`` (``DOCKER_HOST``, TLS
variables). ``bash scripts/test.sh`` starts a private engine, seeds ``busybox:latest`` and
``debian:bookworm-slim`` and sets ``LAYERMAP_TEST_ENGINE=required``: then a missing engine fails every
integration test instead of skipping it. ``LAYERMAP_TEST_TCP_HOST`` names the same engine over
``tcp://127.0.0.1:PORT``.

Everything under tests/integration is marked ``integration`` automatically. After each integration test
the engine must hold no more containers than before (``forcerm``, Ctrl-C handling…); leftovers fail the
test and are removed. A test that keeps a container on purpose is marked ``leaves_containers``.

``saved_config(client, image_id)`` reads an image configuration independently of layermap, through
``docker save`` (the only API that returns ``history[].empty_layer``).
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.errors import DockerException

HERE = Path(__file__).resolve().parent
SEEDED_IMAGES = ("busybox:latest", "debian:bookworm-slim")


def engine_required() -> bool:
    return os.environ.get("LAYERMAP_TEST_ENGINE", "").strip().lower() in {"1", "yes", "true", "required"}


def no_engine(message: str) -> None:
    """Fail (CI, scripts/test.sh) or skip (a developer without an engine)."""
    if engine_required():
        pytest.fail(f"{message} (LAYERMAP_TEST_ENGINE=required; start one with scripts/dev-engine.sh start)")
    pytest.skip(message)


def api_client(base_url: str | None = None, timeout: int = 120) -> docker.APIClient:
    """A low-level client for DOCKER_HOST (TLS variables honoured), or for ``base_url``."""
    kwargs: dict[str, Any] = docker.utils.kwargs_from_env()
    if base_url is not None:
        kwargs["base_url"] = base_url
        if not base_url.startswith("tcp://"):
            kwargs.pop("tls", None)
    return docker.APIClient(version="auto", timeout=timeout, **kwargs)


# --------------------------------------------------------------------------------------------------
# markers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "leaves_containers: the test keeps containers on purpose (no leftover check)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)


# --------------------------------------------------------------------------------------------------
# engine


@pytest.fixture(scope="session")
def engine_url() -> str:
    """The engine address the tests use (DOCKER_HOST, default unix socket); fails/skips if none answers."""
    url = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = api_client(timeout=10)
        client.ping()
        client.close()
    except (DockerException, OSError) as exc:  # connection refused, no socket, bad TLS…
        no_engine(f"no Docker engine answers at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def docker_client(engine_url: str) -> Iterator[docker.APIClient]:
    """``docker.APIClient`` for the test engine (API version negotiated)."""
    client = api_client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def tcp_engine_url(docker_client: docker.APIClient) -> str:
    """``LAYERMAP_TEST_TCP_HOST``: the same engine over ``tcp://127.0.0.1:PORT`` (fails/skips if unset or dead)."""
    url = os.environ.get("LAYERMAP_TEST_TCP_HOST", "")
    if not url:
        no_engine("LAYERMAP_TEST_TCP_HOST is not set (scripts/test.sh sets it)")
    try:
        client = api_client(url, timeout=10)
        client.ping()
        client.close()
    except (DockerException, OSError) as exc:
        no_engine(f"no Docker engine answers at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def tcp_docker_client(tcp_engine_url: str) -> Iterator[docker.APIClient]:
    """``docker.APIClient`` for the test engine over tcp."""
    client = api_client(tcp_engine_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def seeded_images(docker_client: docker.APIClient) -> dict[str, str]:
    """Tag → image id of the seeded base images; fails if one is missing (run scripts/dev-engine.sh seed)."""
    ids: dict[str, str] = {}
    for ref in SEEDED_IMAGES:
        try:
            ids[ref] = docker_client.inspect_image(ref)["Id"]
        except DockerException:
            pytest.fail(f"base image {ref} is missing from the engine (run: scripts/dev-engine.sh seed)")
    return ids


@pytest.fixture(autouse=True)
def no_leftover_containers(request: pytest.FixtureRequest) -> Iterator[None]:
    """After an integration test, the engine holds no container that the test created and left."""
    if request.node.get_closest_marker("integration") is None or request.node.get_closest_marker(
        "leaves_containers"
    ):
        yield
        return
    client: docker.APIClient = request.getfixturevalue("docker_client")
    before = {c["Id"] for c in client.containers(all=True)}
    yield
    left = [c for c in client.containers(all=True) if c["Id"] not in before]
    for c in left:
        try:
            client.remove_container(c["Id"], force=True, v=True)
        except DockerException:
            pass
    if left:
        desc = ", ".join(f"{c['Id'][:12]} ({c.get('Image')}: {c.get('Command')}, {c.get('Status')})" for c in left)
        pytest.fail(f"test left {len(left)} container(s) behind: {desc}", pytrace=False)


# --------------------------------------------------------------------------------------------------
# independent reading of an image


def read_saved_image(client: docker.APIClient, image: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``docker save`` IMAGE and return ``(config, manifest_entry)`` from the archive.

    The archive is streamed to a temp file (the daemon prepares the whole export first: keep images in
    tests small). ``manifest_entry`` is the image's entry of ``manifest.json`` (Config, RepoTags, Layers).
    """
    with tempfile.TemporaryFile(prefix="layermap-save-") as tmp:
        for chunk in client.get_image(image, chunk_size=1 << 20):
            tmp.write(chunk)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp, mode="r:") as tar:
            manifest = _read_json(tar, "manifest.json")
            if not isinstance(manifest, list) or len(manifest) != 1:
                raise AssertionError(f"docker save {image}: expected one manifest entry, got {manifest!r}")
            entry: dict[str, Any] = manifest[0]
            config: dict[str, Any] = _read_json(tar, entry["Config"])
    return config, entry


def _read_json(tar: tarfile.TarFile, name: str) -> Any:
    member = tar.extractfile(name)
    if member is None:
        raise AssertionError(f"{name} is not a regular file in the saved archive")
    with member:
        return json.load(member)


@pytest.fixture(scope="session")
def saved_config() -> Callable[[docker.APIClient, str], dict[str, Any]]:
    """``saved_config(client, image_id) -> dict``: the image configuration as ``docker save`` writes it.

    Use it to check ``history[i].get("empty_layer", False)`` and ``rootfs["diff_ids"]``.
    """

    def _saved_config(client: docker.APIClient, image_id: str) -> dict[str, Any]:
        return read_saved_image(client, image_id)[0]

    return _saved_config


# --------------------------------------------------------------------------------------------------
# containers


def run_container(
    client: docker.APIClient, image: str, command: list[str], *, network_mode: str = "none", timeout: int = 120
) -> tuple[int, str]:
    """Run ``command`` in a new container of ``image``; return (exit code, stdout+stderr). Always removes it."""
    host_config = client.create_host_config(network_mode=network_mode)
    container = client.create_container(image, command=command, host_config=host_config)
    cid = container["Id"]
    try:
        client.start(cid)
        status = client.wait(cid, timeout=timeout)
        output = client.logs(cid, stdout=True, stderr=True).decode("utf-8", "replace")
        return int(status["StatusCode"]), output
    finally:
        client.remove_container(cid, force=True, v=True)


@pytest.fixture(scope="session")
def run_in_container() -> Callable[..., tuple[int, str]]:
    """``run_in_container(client, image, [cmd…], network_mode="none") -> (exit_code, output)``."""
    return run_container


# --------------------------------------------------------------------------------------------------
# plain builds (without layermap), for comparisons


def plain_classic_build(
    client: docker.APIClient,
    context: str | os.PathLike[str],
    dockerfile: str | None = None,
    *,
    buildargs: dict[str, str] | None = None,
    target: str | None = None,
    nocache: bool = True,
    network_mode: str = "host",
    tag: str | None = None,
) -> str:
    """Build ``context`` with the classic builder through the SDK; return the final image id.

    Raises AssertionError with the tail of the output if the build fails. Intermediate containers are
    always removed (``forcerm``).
    """
    final_id = None
    lines: list[str] = []
    for msg in client.build(
        path=str(context),
        dockerfile=dockerfile,
        buildargs=buildargs,
        target=target,
        nocache=nocache,
        network_mode=network_mode,
        tag=tag,
        rm=True,
        forcerm=True,
        decode=True,
    ):
        if "stream" in msg:
            lines.append(msg["stream"])
        if "error" in msg:
            tail = "".join(lines)[-2000:]
            raise AssertionError(f"build of {context} failed: {msg['error']}\n{tail}")
        aux = msg.get("aux")
        if isinstance(aux, dict) and "ID" in aux:
            final_id = aux["ID"]  # one per stage: the last one is the image
    if final_id is None:
        raise AssertionError(f"build of {context} produced no image id:\n{''.join(lines)[-2000:]}")
    return final_id


@pytest.fixture(scope="session")
def classic_build() -> Callable[..., str]:
    """``classic_build(client, context, dockerfile=None, buildargs=…, target=…) -> image id`` (plain SDK build)."""
    return plain_classic_build
