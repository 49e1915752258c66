"""Every sample builds offline with the classic builder, with the shape its README describes.

The expected counts were measured on Docker 20.10 (overlay2) and are what the samples' READMEs state;
they are read here from the image configuration (``docker save``), not from layermap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import pytest
from helpers.samples import CASES, SAMPLES, _case_id

# (sample dir, Dockerfile, build args, target) -> (history entries, layers, empty_layer flags of the
# entries after the base's one)


def test_every_sample_is_covered() -> None:
    dirs = {p.name for p in SAMPLES.iterdir() if (p / "Dockerfile").is_file()}
    assert dirs == {c[0] for c in CASES}
    for sample in dirs:
        assert (SAMPLES / sample / "README.md").is_file(), sample
        for df in (SAMPLES / sample).glob("Dockerfile*"):
            assert any(c[0] == sample and c[1] == df.name for c in CASES), f"{sample}/{df.name} has no case"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_sample_builds_with_described_layers(
    case: tuple[str, str, dict[str, str] | None, str | None, int, int, str],
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    classic_build: Callable[..., str],
    saved_config: Callable[[docker.APIClient, str], dict[str, Any]],
) -> None:
    sample, dockerfile, buildargs, target, n_history, n_layers, shape = case
    image_id = classic_build(docker_client, SAMPLES / sample, dockerfile, buildargs=buildargs, target=target)
    config = saved_config(docker_client, image_id)
    history = config["history"]
    assert len(history) == n_history
    assert len(config["rootfs"]["diff_ids"]) == n_layers
    # Every sample starts from a one-layer seeded base: its entry is first.
    got = "".join("E" if h.get("empty_layer", False) else "L" for h in history[1:])
    assert got == shape
    assert got.count("L") + 1 == n_layers
