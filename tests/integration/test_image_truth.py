"""``layermap image IMG --dockerfile F`` on a real engine when F is not IMG's Dockerfile, and the image's
identity (config / manifest / index digest) from the engine and from its ``docker save`` archive.

Both builders on every engine: the CreatedBy forms differ (classic ``#(nop)``, BuildKit keyword forms).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers.build_map import SCHEMA, layermap
from helpers.samples import CASES, SAMPLES, _case_id

from analyzer.cli import main

RIGHT = """\
FROM busybox:latest
ARG NOTE=hello
WORKDIR /app
RUN echo "$NOTE" > /app/note.txt
COPY data.txt /app/data.txt
ENV MODE=prod
LABEL purpose=layermap-truth
CMD ["cat", "/app/note.txt"]
"""

# Same length, another file: line 3 is where they first differ (an ENV where the image has WORKDIR).
WRONG = """\
FROM busybox:latest
ARG NOTE=hello
ENV HOME=/root
RUN apk add curl
COPY other.txt /other.txt
USER nobody
EXPOSE 8080
ENTRYPOINT ["sh"]
"""


def image_cmd(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any] | None, str]:
    code = main(["image", *argv, "--format", "json", "-q"])
    out, err = capsys.readouterr()
    report = json.loads(out) if out.strip() else None
    if report is not None:
        jsonschema.validate(report, SCHEMA)
    return code, report, err


def build(tmp_path: Path, capsys: pytest.CaptureFixture[str], builder: str) -> tuple[str, Path]:
    (tmp_path / "data.txt").write_text("data\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(RIGHT)
    tag = f"lmtest-truth-{uuid.uuid4().hex[:8]}:1"
    code, report, err = layermap(
        capsys, str(tmp_path), "--builder", builder, "--network", "host", "--build-arg", "NOTE=hi", "-t", tag
    )
    assert code == 0, err
    assert report is not None and report["mismatches"] == []
    return tag, dockerfile


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_wrong_dockerfile_is_exit_2_naming_the_first_mismatching_line(
    builder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: Any
) -> None:
    tag, right = build(tmp_path, capsys, builder)
    try:
        code, report, err = image_cmd(capsys, tag, "--dockerfile", str(right), "--build-arg", "NOTE=hi")
        assert code == 0, err
        assert report is not None and report["mismatches"] == []

        wrong = tmp_path / "Dockerfile.wrong"
        wrong.write_text(WRONG)
        code, report, err = image_cmd(capsys, tag, "--dockerfile", str(wrong))
        assert code == 2 and report is None
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith(f"layermap: {wrong}:3: this Dockerfile does not match the image")
        assert "was written by another instruction: expected 'ENV HOME=/root'" in err
        assert "WORKDIR /app" in err  # what the entry really is, in either builder's form

        code, report, err = image_cmd(capsys, tag, "--dockerfile", str(wrong), "--allow-mismatch")
        assert code == 0, err
        assert report is not None
        got = [(m["line"], m["code"]) for m in report["mismatches"]]
        assert got == [
            (3, "instruction"),
            (4, "arguments"),
            (5, "arguments"),
            (6, "instruction"),
            (7, "instruction"),
            (8, "instruction"),
        ]

        near = tmp_path / "Dockerfile.near"
        near.write_text(RIGHT.replace("WORKDIR /app", "WORKDIR /srv"))
        code, report, err = image_cmd(capsys, tag, "--dockerfile", str(near), "--build-arg", "NOTE=hi")
        assert code == 0, err
        assert report is not None
        assert [(m["code"], m["line"], m["severity"]) for m in report["mismatches"]] == [
            ("arguments", 3, "warning")
        ]
        assert "WORKDIR /app" in report["mismatches"][0]["found"]
    finally:
        engine.client.remove_image(tag, noprune=True)


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_engine_and_archive_agree_on_the_config_digest(
    builder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: Any
) -> None:
    tag, _ = build(tmp_path, capsys, builder)
    try:
        code, from_engine, err = image_cmd(capsys, tag)
        assert code == 0, err
        assert from_engine is not None
        archive = tmp_path / "image.tar"
        with archive.open("wb") as out:
            for chunk in engine.client.get_image(tag, chunk_size=1 << 20):
                out.write(chunk)
        code, from_file, err = image_cmd(capsys, str(archive))
        assert code == 0, err
        assert from_file is not None
        mine, theirs = from_engine["image"], from_file["image"]
        assert mine["config_digest"] is not None
        assert mine["config_digest"] == theirs["config_digest"] == theirs["id"]
        if engine.storage == "overlay2":
            assert mine["id"] == mine["config_digest"]
            assert mine["manifest_digest"] is None and theirs["manifest_digest"] is None
        else:
            # The containerd store names the image by its target: the manifest, or an index over it.
            assert mine["id"] in (mine["manifest_digest"], mine["index_digest"])
            assert mine["manifest_digest"] == theirs["manifest_digest"]
            assert mine["index_digest"] == theirs["index_digest"]
    finally:
        engine.client.remove_image(tag, noprune=True)


# Every sample, built by BuildKit (the classic builder's maps are checked by test_image_map), mapped back
# from the engine with its own Dockerfile: no entry may look like another line's.
# apt-cache is left out: its RUN apt-get needs a package mirror.
BUILDKIT_CASES = [c for c in CASES if c[0] != "apt-cache"]


@pytest.mark.parametrize("case", BUILDKIT_CASES, ids=[_case_id(c) for c in BUILDKIT_CASES])
def test_every_sample_built_by_buildkit_maps_back_without_mismatch(
    case: tuple[Any, ...], capsys: pytest.CaptureFixture[str], engine: Any
) -> None:
    sample, dockerfile, build_args, target = case[:4]
    df = str(SAMPLES / sample / dockerfile)
    tag = f"lmtest-truth-{uuid.uuid4().hex[:8]}:1"
    extra = ["--target", target] if target else []
    for key, value in (build_args or {}).items():
        extra += ["--build-arg", f"{key}={value}"]
    code, report, err = layermap(
        capsys,
        str(SAMPLES / sample),
        "-f",
        df,
        "--builder",
        "buildkit",
        "--network",
        "host",
        "-t",
        tag,
        *extra,
    )
    assert code == 0, err
    try:
        code, report, err = image_cmd(capsys, tag, "--dockerfile", df, *extra)
        assert code == 0, err
        assert report is not None
        assert report["mismatches"] == []
    finally:
        engine.client.remove_image(tag, noprune=True)
