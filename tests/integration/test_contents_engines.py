"""``--contents`` on both test engines: Docker 20.10 (overlay2: the layer store is read) and Docker 26
with the containerd image store (no layer store: an OCI-format export is read), same answers, and the
same dive-compatible figures as the real dive on each."""

from __future__ import annotations

import contextlib
import io
import tarfile
from pathlib import Path
from typing import Any

import docker
import pytest
from helpers.dive import check_dive_compatible, dive_json, layermap

DOCKERFILE = """\
FROM busybox:latest
COPY data.bin /data.bin
RUN chmod 600 /data.bin
RUN head -c 3000 /dev/zero > /junk && mkdir -p /keep && echo kept > /keep/file
RUN rm /junk
"""


def build(client: docker.APIClient, tag: str, tmp: Path) -> None:
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in (("Dockerfile", DOCKERFILE.encode()), ("data.bin", b"d" * 5000)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    (tmp / "Dockerfile").write_text(DOCKERFILE)
    stream = client.build(fileobj=io.BytesIO(context.getvalue()), custom_context=True, tag=tag, rm=True,
                          forcerm=True, decode=True)  # fmt: skip
    errors = [m["error"] for m in stream if "error" in m]
    assert not errors, errors


def test_both_engines_agree(
    engine: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = f"lmtest-contents-engines-{engine.kind}"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    build(engine.client, tag, tmp_path)
    try:
        report = layermap(capsys, "image", tag, "--dockerfile", str(tmp_path / "Dockerfile"), tmp=tmp_path)
        dive = dive_json(tag, tmp_path)
    finally:
        with contextlib.suppress(docker.errors.APIError):
            engine.client.remove_image(tag)
    pairs = {
        (p["added_line"], p["removed_line"], p["kind"]): (p["bytes"], p["paths"])
        for p in report["waste"]["pairs"]
    }
    assert pairs == {(2, 3, "copy-up"): (5000, ["/data.bin"]), (4, 5, "deleted"): (3000, ["/junk"])}
    files = {s["line"]: s["files"] for s in report["steps"] if s["files"] is not None}
    assert (files[4]["added"], files[4]["top"][0]) == (3, {"path": "/junk", "size": 3000, "change": "added"})
    assert report["engine"]["storage"] == engine.storage
    check_dive_compatible(report, dive)
