"""``layermap image`` gives the same line map as the build, from the engine and from a ``docker save``."""

from __future__ import annotations

import json
import tarfile
import uuid
from pathlib import Path
from typing import Any

import docker
import jsonschema
import pytest
from helpers.build_map import SCHEMA, check_steps_against
from helpers.samples import CASES, SAMPLES, _case_id

from analyzer.cli import main

Report = dict[str, Any]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Report | None, str]:
    code = main([*argv, "--format", "json", "-q"])
    out, err = capsys.readouterr()
    report = json.loads(out) if out.strip() else None
    if report is not None:
        jsonschema.validate(report, SCHEMA)
    return code, report, err


def final_map(report: Report, sizes: bool = True) -> list[tuple[Any, ...]]:
    """The final image's steps; ``sizes=False`` drops layer sizes (the containerd store reports disk
    usage, a saved archive the bytes in the tar: only the layers themselves must agree)."""
    return [
        (
            s["line"],
            s["instruction"],
            s["trigger"],
            s["creates_layer"],
            s["history"],
            s["layer"] if sizes or s["layer"] is None else {**s["layer"], "size": None},
        )
        for s in report["steps"]
        if s["in_final_image"]
    ]


def save(client: docker.APIClient, image: str, path: Path) -> Path:
    with path.open("wb") as out:
        for chunk in client.get_image(image, chunk_size=1 << 20):
            out.write(chunk)
    return path


# The samples whose final image the engine-side test maps (all are built by test_build_map anyway).
IMAGE_CASES = [c for c in CASES if c[2] is None]


@pytest.mark.parametrize("case", IMAGE_CASES, ids=[_case_id(c) for c in IMAGE_CASES])
def test_image_from_engine_and_archive_maps_like_the_build(
    case: tuple[Any, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    engine: Any,
    saved_config: Any,
) -> None:
    """Engine, `docker save` (Docker format on 20.10, OCI on 26.1) and, on 26.1, the OCI layout dir."""
    sample, dockerfile, _, target = case[:4]
    df = str(SAMPLES / sample / dockerfile)
    tag = f"lmtest-image-{uuid.uuid4().hex[:8]}:1"
    target_args = ["--target", target] if target else []
    code, built, err = run(
        capsys, "build", str(SAMPLES / sample), "-f", df, "--network", "host", "-t", tag, *target_args
    )
    assert code == 0, err
    assert built is not None
    try:
        code, from_engine, err = run(capsys, "image", tag, "--dockerfile", df, *target_args)
        assert code == 0, err
        assert from_engine is not None
        assert from_engine["builder"] == "unknown"
        assert final_map(from_engine) == final_map(built)
        assert from_engine["base"]["history_count"] == built["base"]["history_count"]
        archive = save(engine.client, tag, tmp_path / "image.tar")
        sources = [str(archive)]
        if engine.storage == "containerd":  # the save is an OCI layout: also read it unpacked
            layout = tmp_path / "layout"
            with tarfile.open(archive) as tar:
                tar.extractall(layout, filter="data")
            assert (layout / "oci-layout").is_file()
            sources.append(str(layout))
        for source in sources:
            code, from_file, err = run(capsys, "image", source, "--dockerfile", df, *target_args)
            assert code == 0, err
            assert from_file is not None and from_file["engine"] is None
            same_sizes = engine.storage == "overlay2"
            assert final_map(from_file, same_sizes) == final_map(built, same_sizes), source
            assert from_file["image"]["diff_ids"] == built["image"]["diff_ids"]
            check_steps_against(
                saved_config(engine.client, tag),
                [s for s in from_file["steps"] if s["in_final_image"]],
                built["builder"],  # the engine's default builder (BuildKit on 23.0+) wrote the history
            )
            if engine.storage == "overlay2":
                # Same id (the config digest), and sizes from the tar entries equal `docker history`'s.
                assert from_file["image"]["id"] == built["image"]["id"]
                sizes = [la["size"] for la in from_file["image"]["layers"]]
                assert sizes == [la["size"] for la in built["image"]["layers"]]
    finally:
        engine.client.remove_image(tag, noprune=True)


def test_image_without_dockerfile_tells_the_empty_layer_truth(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    saved_config: Any,
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox:latest\nRUN true\nRUN touch /x && rm /x\nWORKDIR /w\nENV A=1\n"
    )
    tag = f"lmtest-image-{uuid.uuid4().hex[:8]}:1"
    code, _, err = run(capsys, "build", str(tmp_path), "-t", tag)
    assert code == 0, err
    try:
        code, report, err = run(capsys, "image", tag)
        assert code == 0, err
        assert report is not None and report["steps"] == [] and report["dockerfile"] is None
        config = saved_config(docker_client, tag)
        got = [h["empty_layer"] for h in report["image"]["history"]]
        assert got == [bool(h.get("empty_layer", False)) for h in config["history"]]
        layer_of = [h["layer_index"] for h in report["image"]["history"] if h["layer_index"] is not None]
        assert layer_of == list(range(len(config["rootfs"]["diff_ids"])))
    finally:
        docker_client.remove_image(tag, noprune=True)


def test_unknown_image_is_exit_2(capsys: pytest.CaptureFixture[str], seeded_images: dict[str, str]) -> None:
    code, report, err = run(capsys, "image", "lmtest-no-such-image:never")
    assert code == 2 and report is None
    assert "lmtest-no-such-image:never" in err and len(err.strip().splitlines()) == 1
