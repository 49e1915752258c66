"""The file browser's data: each layer's changes and the aggregated filesystem with hidden versions,
from small generated layers, and the caps that bound the page."""

from __future__ import annotations

from helpers.contents import KB, MTIME, layers

from analyzer.contents.filetree import file_tree
from analyzer.model import StoredVersion


def test_changes_per_layer_name_whiteouts_and_what_they_hide() -> None:
    tree = file_tree(
        layers(
            [("d", "data"), ("f", "data/blob", KB * 8), ("f", "etc", KB)],
            [("w", "data/blob"), ("f", "etc", KB * 2, MTIME + 1)],
        )
    )
    first, second = tree.layers
    assert [(e.path, e.change, e.size) for e in first.entries] == [
        ("/data", "added", 0),
        ("/data/blob", "added", 8 * 1024),
        ("/etc", "added", 1024),
    ]
    changes = {e.path: (e.kind, e.change, e.size) for e in second.entries}
    assert changes == {"/data/blob": ("w", "deleted", 8 * 1024), "/etc": ("f", "modified", 2 * 1024)}
    final = {f.path: f for f in tree.final}
    assert final["/data/blob"].visible is False
    assert final["/data/blob"].versions == (StoredVersion(0, 8 * 1024, 1, "deleted"),)
    assert final["/etc"].visible is True
    assert final["/etc"].versions == (StoredVersion(0, 1024, 1, "overwritten"), StoredVersion(1, 2048))
    # Hidden versions come first: they are what the aggregated view is for.
    assert [f.path for f in tree.final] == ["/data/blob", "/etc"]


def test_opaque_marker_hides_what_lower_layers_put_in_the_directory() -> None:
    tree = file_tree(
        layers(
            [("d", "app"), ("f", "app/old", KB), ("f", "app/keep", KB)],
            [("d", "app"), ("o", "app"), ("f", "app/new", KB * 3)],
        )
    )
    opaque = [e for e in tree.layers[1].entries if e.kind == "o"]
    assert [(e.path, e.change, e.size) for e in opaque] == [("/app", "deleted", 2 * 1024)]
    visible = {f.path for f in tree.final if f.visible}
    assert visible == {"/app/new"}
    assert {f.path for f in tree.final if not f.visible} == {"/app/old", "/app/keep"}


def test_caps_keep_the_largest_and_count_the_rest() -> None:
    spec: list[tuple[object, ...]] = [("f", f"f{i:02d}", b"x" * (i + 1)) for i in range(30)]
    tree = file_tree(layers(spec), layer_cap=10, final_cap=5)
    layer = tree.layers[0]
    assert layer.total == 30 and len(layer.entries) == 10
    assert {e.path for e in layer.entries} == {f"/f{i:02d}" for i in range(20, 30)}
    assert layer.omitted_bytes == sum(range(1, 21))
    assert (tree.final_total, len(tree.final), tree.final_cap) == (30, 5, 5)
    assert [f.path for f in tree.final] == [f"/f{i:02d}" for i in range(29, 24, -1)]
