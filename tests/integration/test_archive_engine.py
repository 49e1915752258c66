"""analyzer.image.archive against the engine: what it reads from a fresh ``docker save`` is what the engine
says.

Truth: ``inspect`` (Id, RootFS.Layers, Size), the history API (per-entry Size, newest first), the config
in the save read independently (``saved_config``: empty_layer), and, when the engine's data root is
readable from here, the layer database (``layerdb/sha256/<chainID>/diff`` and ``size``).
"""

from __future__ import annotations

import contextlib
import gzip
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from analyzer.image.archive import iter_layer_members, read_image
from analyzer.model import Image

pytestmark = pytest.mark.integration

TAG = "lmtest-archive:it"
DOCKERFILE = """\
FROM busybox:latest
ENV GREETING=hi
COPY data.txt /data/data.txt
RUN echo abc > /a && ln /a /b && ln -s /a /c && rm /bin/ls && rm /data/data.txt
WORKDIR /work
RUN true
CMD ["sh"]
"""


def save(client: docker.APIClient, ref: str, dest: Path) -> Path:
    with dest.open("wb") as out:
        for chunk in client.get_image(ref, chunk_size=1 << 20):
            out.write(chunk)
    return dest


def containerd_store(client: docker.APIClient) -> bool:
    """Docker 25+ with the containerd image store (``DriverStatus`` names the snapshotter)."""
    status = client.info().get("DriverStatus") or []
    return any(key == "driver-type" and "snapshotter" in value for key, value in status)


def assert_matches_engine(client: docker.APIClient, image: Image, ref: str, config: dict[str, Any]) -> None:
    inspect = client.inspect_image(ref)
    history = list(reversed(client.history(ref)))
    assert list(image.diff_ids) == inspect["RootFS"]["Layers"]
    assert len(image.history) == len(history) == len(config["history"])
    assert [h.empty_layer for h in image.history] == [bool(h.get("empty_layer")) for h in config["history"]]
    assert ref in image.tags
    if containerd_store(client):
        # There the image id is the manifest/index digest, and sizes are snapshot disk usage
        # (engine-facts), not what layermap computes: the overlay2 `docker history` size.
        return
    assert image.id == inspect["Id"]
    assert image.size == inspect["Size"]
    assert [h.size for h in image.history] == [h["Size"] for h in history]
    _check_layerdb(client, image)


def _check_layerdb(client: docker.APIClient, image: Image) -> None:
    info = client.info()
    layerdb = Path(info["DockerRootDir"]) / "image" / info["Driver"] / "layerdb" / "sha256"
    if not layerdb.is_dir():
        return  # a remote engine, or a data root this user cannot read
    for layer in image.layers:
        entry = layerdb / layer.chain_id.removeprefix("sha256:")
        assert (entry / "diff").read_text() == layer.diff_id
        assert int((entry / "size").read_text()) == layer.size


@pytest.fixture
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lm-archive-it-") as tmp:
        yield Path(tmp)


@pytest.fixture
def built_image(
    docker_client: docker.APIClient, seeded_images: dict[str, str], workdir: Path
) -> Iterator[str]:
    """A classic build with a hard link, a symlink, whiteouts, empty entries and a 0-byte layer."""
    context = workdir / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "data.txt").write_text("some data\n")
    try:
        for message in docker_client.build(path=str(context), tag=TAG, rm=True, forcerm=True, decode=True):
            assert "error" not in message, message
        yield TAG
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.remove_image(TAG)


def test_busybox_save_matches_the_engine(
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    saved_config: Callable[[docker.APIClient, str], dict[str, Any]],
    workdir: Path,
) -> None:
    archive = save(docker_client, "busybox:latest", workdir / "busybox.tar")
    image = read_image(archive, verify=True)
    assert_matches_engine(
        docker_client, image, "busybox:latest", saved_config(docker_client, "busybox:latest")
    )


def test_built_image_save_matches_the_engine(
    docker_client: docker.APIClient,
    built_image: str,
    saved_config: Callable[[docker.APIClient, str], dict[str, Any]],
    workdir: Path,
) -> None:
    archive = save(docker_client, built_image, workdir / "built.tar")
    image = read_image(archive, verify=True)
    config = saved_config(docker_client, built_image)
    assert_matches_engine(docker_client, image, built_image, config)
    # The RUN layer holds 4 bytes of /a, the 2-byte target of /c, and nothing for the hard link or the
    # two whiteouts; `RUN true` made no layer, WORKDIR /work a 0-byte one (classic builder).
    run = next(h for h in image.history if h.created_by.endswith("rm /data/data.txt"))
    assert (run.empty_layer, run.size) == (False, 6)
    assert [h.empty_layer for h in image.history if h.created_by.endswith(("true", "WORKDIR /work"))] == [
        False,
        True,
    ]

    compressed = workdir / "built.tar.gz"
    with archive.open("rb") as src, gzip.open(compressed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert read_image(compressed, verify=True) == image

    top = len(image.layers) - 2  # the RUN layer; WORKDIR's is the last
    names = {info.name: info for index, info in iter_layer_members(compressed) if index == top}
    assert names["b"].islnk() and names["b"].linkname == "a"
    assert {"a", "c", "bin/.wh.ls", "data/.wh.data.txt"} <= set(names)
