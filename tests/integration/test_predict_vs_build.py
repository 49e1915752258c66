"""``predict`` against real classic builds: every line it claims to know matches the image config.

Each Dockerfile is built with the classic builder through the docker SDK (no layermap code involved),
its final image's configuration is read through ``docker save``, and for every step of the final image
that ``predict`` answers True or False, ``history[base + position].empty_layer`` must agree (engine-facts
"History ↔ Dockerfile alignment": base entries, then per chain stage the in-file triggers and one entry
per instruction after FROM). The base count comes from the engine's history API.

The inline edge cases also pin the measured shape (``L`` layer, ``E`` empty entry), so the lines
``predict`` calls "depends" are shown to really go both ways. BuildKit cannot be driven here (no
session): its rules are covered by the unit tests only.

Built images are left in the engine like the other build tests do (removing step images could break a
concurrent build that found them in its cache); no container is left.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from analyzer.dockerfile import load
from analyzer.model import Dockerfile, Step
from analyzer.teaching.predict import predict, predicted_history_count

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "sample_dockerfiles"
SAMPLE_CASES = [
    (path.parent.name, path.name, target)
    for path in sorted(SAMPLES.glob("*/Dockerfile*"))
    for target in ([None, "middle"] if path.parent.name == "chain" else [None])
]

# name -> (Dockerfile, measured shape of the entries this Dockerfile adds: L layer, E empty_layer)
EDGE_CASES: dict[str, tuple[str, str]] = {
    "run-noops": (
        "FROM busybox:latest\nRUN true\nRUN :\nRUN exit 0\nRUN echo hello $HOME\n"
        'RUN ["true"]\nRUN true && echo a || exit 0\nRUN rm -f /does-not-exist\nRUN rm /bin/ls\n',
        "EEEEEEEL",  # `rm -f` of nothing: no layer; `rm` of a file: a (0-byte) layer
    ),
    "workdir-new-vs-existing": (
        "FROM busybox:latest\nWORKDIR /\nWORKDIR /newdir/sub\nWORKDIR /newdir\nWORKDIR sub\n"
        "WORKDIR /bin\nWORKDIR ..\nCOPY a.txt /dest/\nWORKDIR /dest\nRUN true\nWORKDIR /dest\n",
        "ELEEEELEEE",  # /bin is in every busybox image (/tmp is not: it is missing from some)
    ),
    "volume-then-run": (
        "FROM busybox:latest\nVOLUME /newvol\nRUN true\nRUN true\nRUN mkdir /have\nVOLUME /have\nRUN true\n",
        "ELELEE",  # the first RUN after VOLUME /newvol adds the mount point; /have already exists
    ),
    "scratch-workdirs": (
        "FROM scratch\nWORKDIR /app\nWORKDIR /app\nWORKDIR sub\nWORKDIR ..\nWORKDIR /\n"
        'COPY a.txt /data/\nWORKDIR /data\nCMD ["x"]\n',
        "LELEELEE",
    ),
    "onbuild-and-shell": (
        "FROM busybox:latest AS tool\nONBUILD RUN true\nONBUILD WORKDIR /\nONBUILD COPY a.txt /a/\n"
        'FROM tool\nWORKDIR /a\nSHELL ["/bin/sh", "-c"]\nRUN true\nRUN ["true"]\n',
        "EEEEELEEEE",  # tool: 3 ONBUILD; child: 3 triggers, WORKDIR, SHELL, 2 RUNs
    ),
}


def _chain_base(dockerfile: Dockerfile, target: str | None) -> str:
    return dockerfile.stages[dockerfile.chain(target)[0]].base


def _base_history_count(client: docker.APIClient, ref: str) -> int:
    if ref == "scratch":
        return 0
    entries: list[dict[str, Any]] = client.history(ref)  # type: ignore[no-untyped-call]
    return len(entries)


def _final_entries(steps: list[Step]) -> list[Step]:
    """The steps with a history entry of their own in the final image (classic builder), in order."""
    return [
        s
        for s in steps
        if s.in_final_image and s.stage is not None and (s.trigger or s.instruction != "FROM")
    ]


def _check(
    client: docker.APIClient, dockerfile: Dockerfile, target: str | None, config: dict[str, Any]
) -> tuple[str, int]:
    """Assert every claim of ``predict`` against ``config``; return (measured shape, claims checked)."""
    history = config["history"]
    base = _base_history_count(client, _chain_base(dockerfile, target))
    entries = _final_entries(predict(dockerfile, "classic", target))
    assert len(entries) == predicted_history_count(dockerfile, "classic", target)
    # The seeded bases have no ONBUILD triggers, so the count is exact here.
    assert len(history) == base + len(entries), [h.get("created_by") for h in history]
    shape = "".join("E" if h.get("empty_layer", False) else "L" for h in history[base:])
    wrong = []
    for position, step in enumerate(entries):
        measured = not history[base + position].get("empty_layer", False)
        if step.creates_layer is not None and step.creates_layer != measured:
            wrong.append(
                f"line {step.line} {step.text!r}: predicted {step.creates_layer}, measured {measured}"
            )
    assert not wrong, "\n".join(wrong)
    return shape, sum(s.creates_layer is not None for s in entries)


@pytest.mark.parametrize(
    ("sample", "name", "target"),
    SAMPLE_CASES,
    ids=[f"{s}-{n}" + (f"-target={t}" if t else "") for s, n, t in SAMPLE_CASES],
)
def test_predict_matches_sample_builds(
    sample: str,
    name: str,
    target: str | None,
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    classic_build: Callable[..., str],
    saved_config: Callable[[docker.APIClient, str], dict[str, Any]],
) -> None:
    dockerfile = load(SAMPLES / sample / name)
    image_id = classic_build(docker_client, SAMPLES / sample, name, target=target)
    # deleted-file has only RUNs that write: no claim at all there, which is right.
    _check(docker_client, dockerfile, target, saved_config(docker_client, image_id))


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_predict_matches_edge_case_builds(
    case: str,
    tmp_path: Path,
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    classic_build: Callable[..., str],
    saved_config: Callable[[docker.APIClient, str], dict[str, Any]],
) -> None:
    text, expected_shape = EDGE_CASES[case]
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "a.txt").write_text("a\n")
    dockerfile = load(tmp_path / "Dockerfile")
    image_id = classic_build(docker_client, tmp_path)
    shape, claims = _check(docker_client, dockerfile, None, saved_config(docker_client, image_id))
    assert shape == expected_shape
    assert claims > 0


def test_base_volume_with_a_missing_folder_is_the_documented_exception(
    tmp_path: Path,
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    classic_build: Callable[..., str],
    saved_config: Callable[[docker.APIClient, str], dict[str, Any]],
) -> None:
    """A base image ending in ``VOLUME /missing`` makes the child's ``RUN true`` a layer: the one case
    the no-op claim cannot see, which its reason names."""
    tag = f"layermap-test-predict-volbase:{tmp_path.name.lower()}"
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "Dockerfile").write_text("FROM busybox:latest\nVOLUME /missing-volume-dir\n")
    classic_build(docker_client, tmp_path / "base", tag=tag)
    try:
        (tmp_path / "Dockerfile").write_text(f"FROM {tag}\nRUN true\n")
        step = predict(load(tmp_path / "Dockerfile"))[1]
        assert step.creates_layer is False and "VOLUME" in (step.reason or "")
        history = saved_config(docker_client, classic_build(docker_client, tmp_path))["history"]
        assert not history[-1].get("empty_layer", False)
    finally:
        docker_client.remove_image(tag)  # untags ours; the child image keeps the layers it needs
