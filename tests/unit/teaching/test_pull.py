"""analyzer.teaching.pull (the per-layer pull view), the engine's blob records in
analyzer.image.layerstore (overlay2 ``distribution/``, the containerd content store) on hand-made data
roots, and the pull renderers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from analyzer.image.config import chain_ids
from analyzer.image.layerstore import blob_records, present_chain_ids
from analyzer.model import EngineInfo, HistoryEntry, Image, Layer
from analyzer.render import PULL_RENDERERS
from analyzer.teaching.pull import THREE_IDS, PullPlan, pull_layers

render_json, render_markdown, render_table = (PULL_RENDERERS[f] for f in ("json", "markdown", "table"))


def _d(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


DIFFS = [_d("l0"), _d("l1"), _d("l2")]
BLOBS = [_d("b0"), _d("b1"), _d("b2")]
CHAINS = chain_ids(DIFFS)


def image(with_blobs: bool = True) -> Image:
    history = (
        HistoryEntry(0, "ADD rootfs", False, 1000),
        HistoryEntry(1, "ENV A=1", True, 0),
        HistoryEntry(2, "COPY app", False, 200),
        HistoryEntry(3, "RUN build", False, 30),
    )
    layers = tuple(
        Layer(i, d, c, s, (400, 90, 20)[i] if with_blobs else None, BLOBS[i] if with_blobs else None)
        for i, (d, c, s) in enumerate(zip(DIFFS, CHAINS, (1000, 200, 30), strict=True))
    )
    return Image(_d("config"), ("x:1",), 1230, history, layers)


def test_layers_name_the_ids_history_and_lines() -> None:
    layers = pull_layers(image(), frozenset(CHAINS[:1]), {2: 5, 3: 7})
    assert [la.short_id for la in layers] == [b.split(":")[1][:12] for b in BLOBS]
    assert [la.history_index for la in layers] == [0, 2, 3]
    assert [la.line for la in layers] == [None, 5, 7]
    assert [la.status for la in layers] == ["Already exists", "Pull complete", "Pull complete"]
    plan = PullPlan("docker://r/x:1", _d("config"), None, "linux/amd64", "registry", layers, "unix:///x")
    assert (plan.compressed_total, plan.download, plan.unpacked_total) == (510, 110, 1230)


def test_unknown_sizes_stay_unknown_and_no_engine_means_unknown_presence() -> None:
    layers = pull_layers(image(with_blobs=False), None)
    plan = PullPlan("x.tar", _d("config"), None, None, "archive", layers)
    assert plan.compressed_total is None and plan.download is None
    assert {la.status for la in layers} == {"?"}


def _overlay(root: Path, records: dict[int, list[str]], back: dict[int, str]) -> EngineInfo:
    dist = root / "image" / "overlay2" / "distribution"
    (dist / "v2metadata-by-diffid" / "sha256").mkdir(parents=True)
    (dist / "diffid-by-digest" / "sha256").mkdir(parents=True)
    for i, digests in records.items():
        entries = [{"Digest": d, "SourceRepository": "r/x", "HMAC": ""} for d in digests]
        (dist / "v2metadata-by-diffid" / "sha256" / DIFFS[i].split(":")[1]).write_text(json.dumps(entries))
    for i, diff in back.items():
        (dist / "diffid-by-digest" / "sha256" / BLOBS[i].split(":")[1]).write_text(diff)
    return EngineInfo("20.10", "1.41", "overlay2", "unix:///var/run/docker.sock", str(root))


def test_overlay2_distribution_records_are_checked(tmp_path: Path) -> None:
    info = _overlay(
        tmp_path,
        {0: [BLOBS[0]], 1: [_d("other"), BLOBS[1]], 2: [BLOBS[2]]},
        {0: DIFFS[0], 1: DIFFS[1], 2: DIFFS[0]},
    )
    found = blob_records(image(), info)
    assert found.state == "mismatch"
    assert list(found.problems) == [2]
    assert "says " + DIFFS[0] in found.problems[2][0]
    # From the records alone (no registry), the blob digests are known.
    bare = blob_records(image(with_blobs=False), info)
    assert bare.blob_digests == {0: BLOBS[0], 1: _d("other"), 2: BLOBS[2]}


def test_containerd_content_store_gives_sizes(tmp_path: Path) -> None:
    blobs = tmp_path / "containerd/daemon/io.containerd.content.v1.content/blobs/sha256"
    blobs.mkdir(parents=True)
    (blobs / BLOBS[0].split(":")[1]).write_bytes(b"x" * 400)
    (blobs / BLOBS[1].split(":")[1]).write_bytes(b"x" * 91)
    info = EngineInfo("26.1", "1.45", "containerd", "unix:///x.sock", str(tmp_path))
    found = blob_records(image(), info)
    assert found.state == "mismatch"
    assert found.blob_sizes == {BLOBS[0]: 400, BLOBS[1]: 91}
    assert set(found.problems) == {1, 2}
    assert present_chain_ids(info) is None  # no layerdb on the containerd store


def test_renderers_explain_the_three_ids() -> None:
    layers = pull_layers(image(), frozenset(CHAINS[:1]), {2: 5})
    plan = PullPlan(
        "docker://r/x:1", _d("config"), _d("m"), "linux/amd64", "registry", layers, "unix:///x", "overlay2"
    )
    data = json.loads(render_json(plan))
    assert data["kind"] == "pull"
    assert data["totals"] == {"compressed": 510, "download": 110, "unpacked": 1230, "already_present": 1}
    assert [la["present"] for la in data["layers"]] == [True, False, False]
    table = render_table(plan)
    assert "Already exists" in table and BLOBS[1].split(":")[1][:12] in table and THREE_IDS in table
    assert render_markdown(plan).count("\n| ") == 4  # header and three layers


def test_pull_views_in_french() -> None:
    from analyzer import i18n

    layers = pull_layers(image(), frozenset(CHAINS[:1]), {2: 5})
    plan = PullPlan(
        "docker://r/x:1", _d("config"), _d("m"), "linux/amd64", "registry", layers, "unix:///x", "overlay2"
    )
    english = render_json(plan)
    i18n.use(i18n.FRENCH)
    try:
        table = render_table(plan)
        assert "id du pull" in table.splitlines()[2] and "téléchargé" in table
        assert "téléchargement 110 o (total compressé 510 o), décompressé 1,23 ko" in table
        assert "1 sur 3 couches déjà dans unix:///x" in table
        assert "Trois identifiants par couche." in table and THREE_IDS not in table
        assert "Already exists" in table  # docker pull's own words, as the student sees them
        assert render_json(plan) == english
    finally:
        i18n.use(i18n.ENGLISH)
