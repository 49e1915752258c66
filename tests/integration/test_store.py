"""``layermap store`` on a real engine: three images built on one base are one tree whose base appears
once, and the byte totals equal sums read independently (the layerdb ``size`` files on overlay2, the
images' history on the containerd store)."""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docker.errors import NotFound
from helpers.engines import Engine

from analyzer.cli import main


def _build(engine: Engine, dockerfile: str, files: dict[str, bytes], tag: str) -> str:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in {"Dockerfile": dockerfile.encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out.seek(0)
    messages = list(
        engine.client.build(fileobj=out, custom_context=True, tag=tag, decode=True, rm=True, forcerm=True)
    )
    assert not [m for m in messages if "error" in m], messages
    return str(engine.client.inspect_image(tag)["Id"])


@pytest.fixture
def family(engine: Engine) -> Iterator[dict[str, str]]:
    """A base (busybox + one layer) and three images on it; tag → id."""
    run = uuid.uuid4().hex[:8]
    base = f"lmtest-store-base:{run}"
    made = {
        base: _build(
            engine,
            "FROM busybox:latest\nCOPY base.bin /base.bin\n",
            {"base.bin": uuid.uuid4().bytes * 2000},
            base,
        )
    }
    for child in ("a", "b", "c"):
        tag = f"lmtest-store-{child}:{run}"
        files = {f"{child}.bin": uuid.uuid4().bytes * 500}
        made[tag] = _build(engine, f"FROM {base}\nCOPY {child}.bin /{child}.bin\n", files, tag)
    yield made
    for tag in reversed(list(made)):
        with contextlib.suppress(NotFound):
            engine.client.remove_image(tag, force=True)


def store(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["store", "--format", "json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _layerdb_sizes(root: str, tops: list[str]) -> dict[str, int]:
    """chain ID → layerdb ``size``, walking ``parent`` files down from each top: read independently."""
    db = Path(root) / "image" / "overlay2" / "layerdb" / "sha256"
    found: dict[str, int] = {}
    for top in tops:
        chain: str | None = top
        while chain and chain not in found:
            folder = db / chain.split(":", 1)[1]
            found[chain] = int((folder / "size").read_text())
            parent = folder / "parent"
            chain = parent.read_text().strip() if parent.exists() else None
    return found


def test_store_tree_shares_the_base_once(
    engine: Engine, family: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = store(capsys)
    ours = set(family.values())
    by_chain = {n["chain_id"]: n for n in data["nodes"]}
    assert len(by_chain) == len(data["nodes"])  # each stack once
    base_id = family[next(iter(family))]
    base_top = next(i["top"] for i in data["images"] if i["id"] == base_id)
    assert ours <= set(by_chain[base_top]["images"])  # the base's top node is shared by all four
    children = [by_chain[c] for c in by_chain if by_chain[c]["parent"] == base_top]
    assert {i for n in children for i in n["tops"]} >= ours - {base_id}

    images = {i["id"]: i for i in data["images"]}
    if engine.storage == "overlay2":
        sizes = _layerdb_sizes(engine.root_dir, [i["top"] for i in data["images"] if i["top"]])
        assert data["totals"]["store"] == sum(sizes.values())
        assert data["layerdb"]["state"] == "verified", data["layerdb"]["problems"][:5]
        for image_id in ours:
            node, total = images[image_id]["top"], 0
            while node:
                total += sizes[node]
                node = by_chain[node]["parent"]
            assert images[image_id]["size"] == total
    else:
        history = {i: sum(h["Size"] for h in engine.client.history(i)) for i in ours}
        for image_id in ours:
            assert images[image_id]["size"] == history[image_id]
    assert data["totals"]["images"] == sum(i["size"] for i in data["images"])
    # The three children share the base: each holds only its own top layer alone.
    for image_id in family.values():
        if image_id != base_id:
            assert images[image_id]["alone"] == by_chain[images[image_id]["top"]]["size"]
            assert images[image_id]["shared"] == images[image_id]["size"] - images[image_id]["alone"]

    html = tmp_path / "store.html"
    assert main(["store", "--format", "html", "-o", str(html), "-q"]) == 0
    text = html.read_text()
    assert "<script>" in text and "src=" not in text and "href=" not in text  # self-contained
    assert base_top[7:19] in text
