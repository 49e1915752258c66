"""Teaching features on a real engine: ``--explain`` beside real classic builds of every sample, and
the layer database view checked against the engine's own ``layerdb`` folders (read here directly).

Chain IDs are recomputed in this file from ``docker inspect``'s ``RootFS.Layers`` (hashlib, no
layermap code) and compared with what layermap reports and with the folders under the engine's data
root. The private test engine is local with a readable data root; a containerd-store engine (Docker
26, ``LAYERMAP_TEST_ENGINE_26``) must be reported as such, with the same chain IDs.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import docker
import pytest

from analyzer.cli import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(p.relative_to(ROOT) for p in (ROOT / "sample_dockerfiles").glob("*/Dockerfile*"))


def chain_ids(diff_ids: list[str]) -> list[str]:
    out: list[str] = []
    for diff in diff_ids:
        out.append(diff if not out else "sha256:" + hashlib.sha256(f"{out[-1]} {diff}".encode()).hexdigest())
    return out


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = main([*argv, "--format", "json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def engine_layerdb(client: docker.APIClient) -> Path:
    info = client.info()
    assert info["Driver"] == "overlay2", "the private test engine uses overlay2"
    return Path(info["DockerRootDir"]) / "image" / "overlay2" / "layerdb" / "sha256"


def check_against_folders(layerdb: dict[str, Any], diff_ids: list[str], db: Path) -> None:
    """layermap's view equals the computation and the engine's folders, file by file."""
    expected = chain_ids(diff_ids)
    assert layerdb["state"] == "verified", layerdb["note"]
    assert [la["chain_id"] for la in layerdb["layers"]] == expected
    assert [la["diff_id"] for la in layerdb["layers"]] == diff_ids
    for index, (layer, chain) in enumerate(zip(layerdb["layers"], expected, strict=True)):
        folder = db / chain.split(":")[1]
        assert layer["folder"] == str(folder) and layer["problems"] == []
        assert (folder / "diff").read_text().strip() == diff_ids[index]
        assert (folder / "cache-id").read_text().strip() == layer["cache_id"]
        assert int((folder / "size").read_text()) == layer["db_size"]
        if index == 0:
            assert not (folder / "parent").exists()
        else:
            assert (folder / "parent").read_text().strip() == expected[index - 1]


@pytest.mark.parametrize("dockerfile", SAMPLES, ids=[f"{p.parent.name}-{p.name}" for p in SAMPLES])
def test_explain_and_layerdb_on_every_sample(
    dockerfile: Path,
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    data = run_json(capsys, "build", str(dockerfile), "--network", "host", "--explain", "--layers")
    explain = data["explain"]
    assert len(explain) == len(data["steps"])
    assert not [e for e in explain if e["verdict"] == "wrong"]
    for e in explain:
        step = data["steps"][e["step"]]
        assert e["measured"] == step["creates_layer"]
        if step["layer"] is not None:
            assert (
                f"layer #{step['layer']['index']} " in e["text"]
                and step["layer"]["diff_id"][:19] in e["text"]
            )
    diff_ids = docker_client.inspect_image(data["image"]["id"])["RootFS"]["Layers"]
    check_against_folders(data["layerdb"], diff_ids, engine_layerdb(docker_client))


def test_layers_subcommand_on_the_base_image(
    docker_client: docker.APIClient, seeded_images: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    for ref in seeded_images:
        data = run_json(capsys, "layers", ref)
        assert data["kind"] == "layers" and data["image"]["id"] == seeded_images[ref]
        diff_ids = docker_client.inspect_image(ref)["RootFS"]["Layers"]
        check_against_folders(data, diff_ids, engine_layerdb(docker_client))
    assert main(["layers", "busybox:latest", "-q"]) == 0
    assert "Layer database (verified)" in capsys.readouterr().out


def test_image_explain_matches_the_built_map(
    docker_client: docker.APIClient, seeded_images: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``image --dockerfile --explain`` (history positions) tells the same story as ``build --explain``."""
    path = str(ROOT / "sample_dockerfiles" / "deleted-file" / "Dockerfile")
    built = run_json(capsys, "build", path, "--explain")
    mapped = run_json(capsys, "image", built["image"]["id"], "--dockerfile", path, "--explain")
    keys = ("line", "predicted", "measured", "verdict", "surprise")
    assert [{k: e[k] for k in keys} for e in mapped["explain"]] == [
        {k: e[k] for k in keys} for e in built["explain"]
    ]
    rm = mapped["explain"][-1]
    assert rm["surprise"] == "RUN rm made a 0-byte layer: deleting does not shrink the image"


def test_containerd_store_says_what_replaces_the_layerdb(
    seeded_images: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    address = os.environ.get("LAYERMAP_TEST_ENGINE_26", "").strip()
    if not address:
        pytest.skip("LAYERMAP_TEST_ENGINE_26 is not set: no containerd-store engine in this run")
    monkeypatch.setenv("DOCKER_HOST", address)
    client = docker.APIClient(base_url=address, version="auto")
    diff_ids = client.inspect_image("busybox:latest")["RootFS"]["Layers"]
    data = run_json(capsys, "layers", "busybox:latest")
    assert data["state"] == "containerd" and "content store" in data["note"]
    assert [la["chain_id"] for la in data["layers"]] == chain_ids(diff_ids)
