"""The layer database view on a fake data root: computed chain IDs, folder checks, and the cases where
no layerdb can be read (archive, remote engine, containerd store, unreadable root)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from analyzer.image.layerstore import (
    CONTAINERD,
    MISMATCH,
    NO_ENGINE,
    REMOTE,
    UNREADABLE,
    VERIFIED,
    is_local,
    layer_db,
)
from analyzer.model import EngineInfo, Image, Layer
from analyzer.render.report.teaching import compose, layerdb_text

D0 = "sha256:" + "a" * 64
D1 = "sha256:" + "b" * 64
D2 = "sha256:" + "c" * 64
C1 = "sha256:" + hashlib.sha256(f"{D0} {D1}".encode()).hexdigest()
C2 = "sha256:" + hashlib.sha256(f"{C1} {D2}".encode()).hexdigest()


def image() -> Image:
    # chain_id values deliberately wrong: the view computes its own from the diff_ids.
    layers = tuple(
        Layer(i, d, "sha256:" + "0" * 64, s) for i, (d, s) in enumerate([(D0, 100), (D1, 0), (D2, 7)])
    )
    return Image(id="sha256:" + "f" * 64, tags=(), size=107, history=(), layers=layers)


def engine(root: Path | None, storage: str = "overlay2", address: str = "unix:///x.sock") -> EngineInfo:
    return EngineInfo("20.10.24", "1.41", storage, address, str(root) if root else None)


def make_db(root: Path, sizes: tuple[int, ...] = (100, 0, 7)) -> None:
    """A layerdb like Docker writes it (no ``parent`` file for the bottom layer)."""
    chain, parent = [D0, C1, C2], [None, D0, C1]
    for i, diff in enumerate([D0, D1, D2]):
        folder = root / "image/overlay2/layerdb/sha256" / chain[i].split(":")[1]
        folder.mkdir(parents=True)
        (folder / "diff").write_text(diff)
        (folder / "size").write_text(str(sizes[i]))
        (folder / "cache-id").write_text(f"cache{i}")
        (root / "overlay2" / f"cache{i}").mkdir(parents=True)
        if parent[i]:
            (folder / "parent").write_text(parent[i])  # type: ignore[arg-type]


def test_chain_ids_are_computed_and_verified(tmp_path: Path) -> None:
    make_db(tmp_path)
    db = layer_db(image(), engine(tmp_path))
    assert db.state == VERIFIED
    assert [e.chain_id for e in db.entries] == [D0, C1, C2]
    assert [e.parent for e in db.entries] == [None, D0, C1]
    assert [e.db_size for e in db.entries] == [100, 0, 7]
    assert [e.cache_id for e in db.entries] == ["cache0", "cache1", "cache2"]
    assert all(e.folder and e.folder.endswith(e.chain_id[7:]) for e in db.entries)
    assert "cache-id a folder of" in db.note


def test_disagreements_are_listed_per_layer(tmp_path: Path) -> None:
    make_db(tmp_path, sizes=(100, 5, 7))
    (tmp_path / "overlay2/cache2").rmdir()
    db = layer_db(image(), engine(tmp_path))
    assert db.state == MISMATCH
    assert db.entries[0].problems == ()
    assert db.entries[1].problems == ("size is 5, expected the history size 0",)
    assert "cache-id cache2 names no folder" in db.entries[2].problems[0]
    assert "2 of 3 layers disagree" in db.note


def test_missing_folder(tmp_path: Path) -> None:
    make_db(tmp_path)
    other = image()
    other = Image(other.id, (), 0, (), (*other.layers[:2], Layer(2, "sha256:" + "d" * 64, "x", 1)))
    db = layer_db(other, engine(tmp_path))
    assert db.state == MISMATCH and db.entries[2].problems[0].startswith("no folder ")


def test_unreadable_remote_containerd_and_archives(tmp_path: Path) -> None:
    assert layer_db(image(), engine(tmp_path)).state == UNREADABLE  # no layerdb folder there
    assert layer_db(image(), engine(tmp_path, address="tcp://10.1.2.3:2376")).state == REMOTE
    containerd = layer_db(image(), engine(tmp_path, storage="containerd"))
    assert (
        containerd.state == CONTAINERD
        and "content store" in containerd.note
        and "snapshot" in containerd.note
    )
    assert [e.chain_id for e in containerd.entries] == [D0, C1, C2]
    assert layer_db(image(), None).state == NO_ENGINE


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("unix:///var/run/docker.sock", True),
        ("tcp://127.0.0.1:2375", True),
        ("tcp://localhost:2375", True),
        ("tcp://192.0.2.1:2376", False),
        ("ssh://user@host", False),
    ],
)
def test_is_local(address: str, local: bool) -> None:
    assert is_local(address) is local


def test_text_and_json(tmp_path: Path) -> None:
    from analyzer.model import Report, Summary

    make_db(tmp_path)
    db = layer_db(image(), engine(tmp_path))
    text = layerdb_text(db)
    assert "Layer database (verified)" in text and C2 in text and "cache0" in text
    report = Report(
        None, None, "unknown", None, image(), None, (), (), Summary(107, 0, 107, 3, None), layerdb=db
    )
    data = json.loads(compose(report, "json"))
    jsonschema.validate(
        data, json.loads((Path(__file__).parents[3] / "analyzer/schema/report-v1.json").read_text())
    )
    assert data["layerdb"]["state"] == "verified"
    assert [la["chain_id"] for la in data["layerdb"]["layers"]] == [D0, C1, C2]


def test_cli_on_an_archive_has_no_layerdb_but_the_chain_ids(capsys: pytest.CaptureFixture[str]) -> None:
    from analyzer.cli import main

    archive = str(Path(__file__).parents[2] / "fixtures" / "archives" / "docker-small.tar")
    assert main(["layers", archive, "--format", "json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    diff_ids = [la["diff_id"] for la in data["layers"]]
    expected = [diff_ids[0]]
    for diff in diff_ids[1:]:
        expected.append("sha256:" + hashlib.sha256(f"{expected[-1]} {diff}".encode()).hexdigest())
    assert data["state"] == NO_ENGINE and [la["chain_id"] for la in data["layers"]] == expected
    assert main(["image", archive, "--layers", "-q"]) == 0
    assert "Layer database (no-engine)" in capsys.readouterr().out
    assert main(["image", archive, "--explain", "-q"]) == 2
    assert "--explain needs --dockerfile" in capsys.readouterr().err
