"""``layermap pull`` against what the engine really does: before ``docker pull``, layermap reads the
image from the test registry and says, per layer, the id ``docker pull`` will print, the compressed size
it will download, and whether the engine already has it; then the engine pulls, and its progress stream
(what the docker CLI prints) must say the same ids, sizes and "Already exists" — exactly for the layer
shared with an image present before (busybox's). The containerd store prints nothing at all for a layer
it has: there the printed ids must be exactly the layers layermap says will be downloaded.
"""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.errors import NotFound
from helpers.engines import Engine, Registry

from analyzer.cli import main

DOCKERFILE = """\
FROM busybox:latest
COPY one.txt /one.txt
RUN echo built > /built.txt
COPY two.txt /two.txt
"""


def _context(folder: Path) -> io.BytesIO:
    folder.mkdir()
    (folder / "Dockerfile").write_text(DOCKERFILE)
    (folder / "one.txt").write_bytes(uuid.uuid4().bytes * 1000)  # unique: no other image has this layer
    (folder / "two.txt").write_bytes(uuid.uuid4().bytes * 3000)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    out.seek(0)
    return out


@pytest.fixture
def pushed(engine: Engine, registry: Registry, tmp_path: Path) -> Iterator[str]:
    """An image built on busybox, pushed, then removed from the engine (its own layers gone with it)."""
    client = engine.client
    ref = f"{registry.host}/lmtest-pull-{engine.kind}:{uuid.uuid4().hex[:10]}"
    before = {i["Id"] for i in client.images(all=True)}
    messages = list(
        client.build(
            fileobj=_context(tmp_path / "ctx"),
            custom_context=True,
            tag=ref,
            decode=True,
            rm=True,
            forcerm=True,
        )
    )
    assert not [m for m in messages if "error" in m], messages
    repository, tag = ref.rsplit(":", 1)
    assert not [m for m in client.push(repository, tag=tag, stream=True, decode=True) if "error" in m]
    client.remove_image(ref, force=True)
    # The build can leave an untagged image of an intermediate step (measured on all three engines):
    # it would share a layer too. Only busybox's layer is to be present before the pull.
    for image in client.images(all=True):
        if image["Id"] not in before:
            client.remove_image(image["Id"], force=True)
    yield ref
    with contextlib.suppress(NotFound):
        client.remove_image(ref, force=True)


def engine_pull(client: docker.APIClient, ref: str) -> dict[str, dict[str, Any]]:
    """Pull ``ref``; per progress id, the statuses and the download total the engine reported."""
    repository, tag = ref.rsplit(":", 1)
    seen: dict[str, dict[str, Any]] = {}
    for message in client.pull(repository, tag=tag, stream=True, decode=True):
        assert "error" not in message, message
        layer_id = message.get("id")
        if not layer_id or len(layer_id) != 12:
            continue
        entry = seen.setdefault(layer_id, {"statuses": [], "total": None})
        entry["statuses"].append(message.get("status"))
        total = (message.get("progressDetail") or {}).get("total")
        if message.get("status") == "Downloading" and total:
            entry["total"] = total
    return seen


def layermap_pull(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = main(["pull", *argv, "--format", "json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def test_pull_predicts_what_the_engine_prints(
    engine: Engine, registry: Registry, pushed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = layermap_pull(capsys, f"docker://{pushed}", "--ca-cert", registry.ca)
    layers = before["layers"]
    assert before["kind"] == "pull" and len(layers) == 4
    assert [la["present"] for la in layers] == [True, False, False, False]
    assert before["totals"]["download"] == sum(la["compressed_size"] for la in layers[1:])

    printed = engine_pull(engine.client, pushed)
    fetched = {la["short_id"] for la in layers if not la["present"]}
    already = {i for i, p in printed.items() if "Already exists" in p["statuses"]}
    if engine.storage == "overlay2":
        # 20.10 prints every layer, "Already exists" for those it has.
        assert set(printed) == {la["short_id"] for la in layers}
        assert already == {la["short_id"] for la in layers if la["present"]}
    else:
        # Measured: the containerd store (26.1, 28.5) prints only the layers it fetches.
        assert set(printed) == fetched
        assert already == set()
    for layer in layers[1:]:
        reported = printed[layer["short_id"]]["total"]
        # Tiny blobs finish before a Downloading message is sent: nothing to compare then.
        if reported is not None:
            assert reported == layer["compressed_size"], layer

    after = layermap_pull(capsys, pushed, "--ca-cert", registry.ca)
    assert [la["present"] for la in after["layers"]] == [True] * 4
    assert after["totals"]["download"] == 0
    assert [la["blob_digest"] for la in after["layers"]] == [la["blob_digest"] for la in layers]
    assert [la["diff_id"] for la in after["layers"]] == [la["diff_id"] for la in layers]
    assert after["engine"]["records"] in ("verified", "mismatch")
    if engine.storage == "containerd":
        # Its content store keeps the blobs the pull fetched.
        assert after["engine"]["records"] == "verified", after["notes"]
    else:
        # overlay2 records the blob digest of every layer it pulled or pushed.
        assert after["engine"]["records"] == "verified", after["notes"]
        assert not any(la["problems"] for la in after["layers"])


def test_pull_with_dockerfile_names_the_lines(
    engine: Engine, registry: Registry, pushed: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    data = layermap_pull(
        capsys, f"docker://{pushed}", "--ca-cert", registry.ca, "--dockerfile", str(dockerfile)
    )
    assert [la["line"] for la in data["layers"]] == [None, 2, 3, 4]
