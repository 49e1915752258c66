"""Every sample builds offline with the classic builder, with the shape its README describes.

The expected counts were measured on Docker 20.10 (overlay2) and are what the samples' READMEs state;
they are read here from the image configuration (``docker save``), not from layermap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "sample_dockerfiles"

# (sample dir, Dockerfile, build args, target) -> (history entries, layers, empty_layer flags of the
# entries after the base's one)
CASES: list[tuple[str, str, dict[str, str] | None, str | None, int, int, str]] = [
    # E = empty_layer (metadata only), L = a layer
    ("basics", "Dockerfile", None, None, 19, 5, "EEELELLLEEEEEEEEEE"),
    ("deleted-file", "Dockerfile", None, None, 4, 3, "LEL"),
    ("deleted-file", "Dockerfile.fixed", None, None, 2, 2, "L"),
    ("multi-stage", "Dockerfile", None, None, 3, 2, "LE"),
    ("cache-busting", "Dockerfile", None, None, 5, 4, "LLLE"),
    ("cache-busting", "Dockerfile.good", None, None, 6, 5, "LLLLE"),
    ("arg-onbuild", "Dockerfile", None, None, 15, 5, "EEELEEELLEEELE"),
    ("arg-onbuild", "Dockerfile", {"APP_VERSION": "2.0", "BUILD_NOTE": "hi"}, None, 15, 5, "EEELEEELLEEELE"),
    ("chain", "Dockerfile", None, None, 7, 4, "LELELE"),
    ("chain", "Dockerfile", None, "middle", 4, 3, "LEL"),
    ("apt-cache", "Dockerfile", None, None, 3, 2, "LE"),
    ("apt-cache", "Dockerfile.clean", None, None, 3, 2, "LE"),
]


def _case_id(case: tuple[Any, ...]) -> str:
    sample, dockerfile, args, target = case[:4]
    parts = [sample, dockerfile]
    if args:
        parts.append("args")
    if target:
        parts.append(f"target={target}")
    return "-".join(parts)


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
