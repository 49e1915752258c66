"""The private engine and its seeded base images are what the rest of the suite assumes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import pytest


def test_busybox_is_one_layer_and_runs_a_shell(
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    saved_config: Callable[[docker.APIClient, str], dict[str, Any]],
    run_in_container: Callable[..., tuple[int, str]],
) -> None:
    image_id = seeded_images["busybox:latest"]
    inspect = docker_client.inspect_image(image_id)
    assert len(inspect["RootFS"]["Layers"]) == 1
    assert inspect["Config"]["Cmd"] == ["sh"]

    # The independent reading (docker save) agrees with inspect.
    config = saved_config(docker_client, image_id)
    assert config["rootfs"]["diff_ids"] == inspect["RootFS"]["Layers"]
    assert len(config["history"]) == 1
    assert not config["history"][0].get("empty_layer", False)

    code, output = run_in_container(docker_client, "busybox:latest", ["sh", "-c", "echo ok"])
    assert (code, output) == (0, "ok\n")


def test_busybox_has_the_users_and_dirs_samples_need(
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    run_in_container: Callable[..., tuple[int, str]],
) -> None:
    script = "id -u nobody && stat -c %a /tmp && test -d /root && ls /usr/bin/env >/dev/null && echo fine"
    code, output = run_in_container(docker_client, "busybox:latest", ["sh", "-c", script])
    assert code == 0, output
    assert output.split() == ["65534", "1777", "fine"]


def test_debian_base_has_apt(
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    run_in_container: Callable[..., tuple[int, str]],
) -> None:
    inspect = docker_client.inspect_image(seeded_images["debian:bookworm-slim"])
    assert len(inspect["RootFS"]["Layers"]) == 1
    code, output = run_in_container(
        docker_client,
        "debian:bookworm-slim",
        ["sh", "-c", "apt-get --version | head -n 1 && . /etc/os-release && echo $VERSION_CODENAME"],
    )
    assert code == 0, output
    first, codename = output.splitlines()
    assert first.startswith("apt ")
    assert codename == "bookworm"


def test_tcp_endpoint_reaches_the_same_engine(
    docker_client: docker.APIClient, tcp_engine_url: str, tcp_docker_client: docker.APIClient
) -> None:
    assert tcp_engine_url.startswith("tcp://127.0.0.1:")
    unix_info = docker_client.info()
    tcp_info = tcp_docker_client.info()
    # The ID alone is not enough: on 20.10 the ID comes from the trust key, and every daemon sharing
    # /etc/docker/key.json reports the same one (dev-engine.sh gives each private daemon its own key).
    assert (tcp_info["ID"], tcp_info["DockerRootDir"]) == (unix_info["ID"], unix_info["DockerRootDir"])
    busybox = tcp_docker_client.inspect_image("busybox:latest")["Id"]
    assert busybox == docker_client.inspect_image("busybox:latest")["Id"]


@pytest.mark.parametrize("ref", ["busybox:latest", "debian:bookworm-slim"])
def test_seeded_images_are_imported_not_pulled(docker_client: docker.APIClient, ref: str) -> None:
    # One history entry, made by `docker import` (no registry is reachable: nothing may be pulled).
    history = docker_client.history(ref)
    assert len(history) == 1
    assert history[0]["CreatedBy"] == ""
    assert history[0]["Comment"].startswith("layermap seed:")
