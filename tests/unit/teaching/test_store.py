"""analyzer.teaching.store (the tree), analyzer.image.layerstore's whole-store check, and the store
renderers, on hand-made images whose sharing is known."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from analyzer.image.config import chain_ids
from analyzer.image.layerstore import check_store, read_layerdb
from analyzer.model import EngineInfo
from analyzer.render import STORE_RENDERERS
from analyzer.teaching.store import StoreImage, StoreView, build_tree


def _d(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


BASE = (_d("base0"), _d("base1"))
IMAGES = [
    StoreImage("sha256:" + "a" * 64, ("a:1",), (*BASE, _d("a")), (100, 20, 5)),
    StoreImage("sha256:" + "b" * 64, ("b:1",), (*BASE, _d("b")), (100, 20, 7)),
    StoreImage("sha256:" + "c" * 64, ("c:1",), (*BASE, _d("a")), (100, 20, 5)),  # same diff_id as a's top
    StoreImage("sha256:" + "d" * 64, ("base:1",), BASE, (100, 20)),
    StoreImage("sha256:" + "e" * 64, ("other:1",), (_d("other"),), (50,)),
]


def test_shared_base_is_one_path_and_totals_add_up() -> None:
    tree = build_tree(IMAGES)
    base_top = chain_ids(list(BASE))[-1]
    assert len(tree.nodes) == 5  # base0, base1, a's top (a and c are the same stack), b's top, other
    assert set(tree.nodes[base_top].images) == {i.id for i in IMAGES[:4]}
    assert tree.nodes[base_top].tops == (IMAGES[3].id,)
    a_top = chain_ids([*BASE, _d("a")])[-1]
    assert tree.nodes[a_top].tops == (IMAGES[0].id, IMAGES[2].id)
    assert tree.store_total == 100 + 20 + 5 + 7 + 50
    assert tree.images_total == 125 + 127 + 125 + 120 + 50
    shares = {s.id: s for s in tree.images}
    assert shares[IMAGES[1].id].alone == 7  # only b's top is b's alone
    assert shares[IMAGES[0].id].alone == 0  # a and c are the same stack
    assert shares[IMAGES[4].id].alone == 50
    assert [tree.nodes[r].chain_id for r in tree.roots] == [chain_ids([BASE[0]])[0], _d("other")]


def test_tree_order_puts_parents_first() -> None:
    tree = build_tree(IMAGES)
    seen: set[str] = set()
    for node in tree.nodes.values():
        assert node.parent is None or node.parent in seen
        seen.add(node.chain_id)


def _layerdb(root: Path, tree_images: list[StoreImage], extra: bool) -> EngineInfo:
    db = root / "image" / "overlay2" / "layerdb" / "sha256"
    for image in tree_images:
        chain = chain_ids(list(image.diff_ids))
        for i, (c, d, size) in enumerate(zip(chain, image.diff_ids, image.sizes, strict=True)):
            folder = db / c.split(":")[1]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "diff").write_text(d)
            (folder / "size").write_text(str(size))
            if i:
                (folder / "parent").write_text(chain[i - 1])
    if extra:
        (db / ("f" * 64)).mkdir()
        (db / ("f" * 64) / "size").write_text("9")
    return EngineInfo("20.10", "1.41", "overlay2", "unix:///var/run/docker.sock", str(root))


def test_check_against_the_layer_database(tmp_path: Path) -> None:
    tree = build_tree(IMAGES)
    computed = {n.chain_id: (n.diff_id, n.parent, n.size) for n in tree.nodes.values()}
    info = _layerdb(tmp_path, IMAGES, extra=True)
    check = check_store(computed, read_layerdb(info), "overlay2")
    assert check.state == "verified", check.problems
    assert [u.chain_id for u in check.unreferenced] == ["sha256:" + "f" * 64]
    a_top = chain_ids([*BASE, _d("a")])[-1]
    (tmp_path / "image/overlay2/layerdb/sha256" / a_top.split(":")[1] / "size").write_text("6")
    check = check_store(computed, read_layerdb(info), "overlay2")
    assert check.state == "mismatch"
    assert check.problems == (f"{a_top}: size is 6, the image history says 5",)


def test_containerd_and_unreadable_store_say_why() -> None:
    containerd = EngineInfo("26.1", "1.45", "containerd", "unix:///x.sock", "/var/lib/docker")
    assert check_store({}, read_layerdb(containerd), "containerd").state == "containerd"
    remote = EngineInfo("20.10", "1.41", "overlay2", "tcp://10.0.0.1:2375", "/var/lib/docker")
    assert check_store({}, read_layerdb(remote), "overlay2").state == "unreadable"


def test_renderers() -> None:
    tree = build_tree(IMAGES)
    computed = {n.chain_id: (n.diff_id, n.parent, n.size) for n in tree.nodes.values()}
    check = check_store(computed, "not read", "overlay2")
    engine = {"address": "unix:///x", "version": "20.10", "storage": "overlay2"}
    data = json.loads(STORE_RENDERERS["json"](StoreView(tree, check, engine)))
    assert data["kind"] == "store" and data["totals"] == {"store": 182, "images": 547, "saved": 365}
    table = STORE_RENDERERS["table"](StoreView(tree, check, engine))
    assert "  └─ a:1" in table and "(shared by 4)" in table
    page = STORE_RENDERERS["html"](StoreView(tree, check, engine))
    assert page.count('class="node"') == len(tree.nodes)
    assert "src=" not in page and "href=" not in page  # self-contained
