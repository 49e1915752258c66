"""Path ids (``paths.py``) and the array-based walks over them: the same answers as the object-based
walks they replaced, on an image that exercises every overlay rule at once."""

from __future__ import annotations

from helpers.contents import KB, layers

from analyzer.contents.changes import Removal, TopEntry, walk
from analyzer.contents.dive import dive_figures
from analyzer.contents.filetree import file_tree
from analyzer.contents.listing import Entry, LayerListing
from analyzer.contents.paths import MISSING, ROOT, PathTable, resolve
from analyzer.model import FinalEntry, StoredVersion, TreeEntry


def test_a_path_is_one_id_whatever_the_layer_or_the_way_it_is_reached() -> None:
    table = PathTable()
    usr = table.directory("/usr")
    env = table.child(table.directory("/usr/bin"), b"env")
    assert table.directory("/usr/bin") == table.child(usr, b"bin")
    assert table.lookup("/usr/bin/env") == env and table.path(env) == "/usr/bin/env"
    assert table.parent[table.parent[env]] == usr and table.parent[usr] == ROOT
    assert table.lookup("/usr/sbin") == MISSING and table.lookup("/usr/bin/env/x") == MISSING
    assert table.find(usr, b"sbin") == MISSING and table.lookup("") == ROOT
    assert sorted(table.children(usr)) == [table.lookup("/usr/bin")]
    assert table.ancestors(env) == [ROOT, usr, table.lookup("/usr/bin")]


def test_names_are_compared_exactly_escapes_and_lone_surrogates_included() -> None:
    table = PathTable()
    names = ["é", "e\u0301", "x\udcff", "\ud800", "a-b", "a", ""]
    ids = [table.child(ROOT, name.encode("utf-8", "surrogatepass")) for name in names]
    assert len(set(ids)) == len(names)
    assert [table.path(i) for i in ids] == [f"/{name}" for name in names]
    assert [table.lookup(f"/{name}") for name in names[:-1]] == ids[:-1]


def test_ids_survive_the_table_growing() -> None:
    table = PathTable()
    ids = {
        f"/d{d}/f{i}": table.child(table.directory(f"/d{d}"), f"f{i}".encode())
        for d in range(7)
        for i in range(900)
    }
    assert len(table) == 1 + 7 + 7 * 900
    assert all(table.lookup(path) == node and table.path(node) == path for path, node in ids.items())


def test_a_layer_repeated_in_the_image_is_resolved_once() -> None:
    listing = LayerListing("sha256:a", [Entry("/a/b", "f", 1, 0, ""), Entry("/a", "d", 0, 0, "")])
    resolved = resolve([listing, LayerListing("sha256:b", [Entry("/a", "w", 0, 0, "")]), listing])
    assert resolved.ids[0] is resolved.ids[2]
    assert list(resolved.ids[0]) == [resolved.table.lookup("/a/b"), resolved.table.lookup("/a")]
    assert list(resolved.ids[1]) == [resolved.table.lookup("/a")]


# A directory replaced by a hard link into itself (the engine still sees the old tree when it makes the
# link), a file replaced by a directory, a copy-up, an opaque directory, whiteouts of a directory and of a
# file, and an opaque marker in the root directory (which the file browser honours and the waste walk,
# like the engine, ignores).
IMAGE = [
    [
        ("d", "a"),
        ("f", "a/big", KB * 4),
        ("f", "a/x", b"0123456789"),
        ("h", "a/hx", "a/x"),
        ("d", "a/sub"),
        ("f", "a/sub/y", b"yyyyyyy"),
        ("f", "keep", b"kkk"),
        ("l", "s", "a/x"),
        ("d", "c"),
        ("f", "c/old", b"old"),
        ("f", "f2d", b"12"),
    ],
    [
        ("h", "a", "a/x"),
        ("d", "f2d"),
        ("f", "f2d/in", b"in"),
        ("f", "keep", b"kkk"),
        ("o", "c"),
        ("f", "c/new", b"n"),
    ],
    [("w", "a"), ("f", "late", b"late!"), ("w", "f2d/in"), ("o", "")],
]


def test_every_overlay_rule_at_once_gives_the_recorded_waste() -> None:
    result = walk(layers(*IMAGE), 3, {(0, "/a/x"), (0, "/keep"), (1, "/a")})
    assert result.removals == [
        Removal("/a/big", 4096, 0, 1, "overwritten"),
        Removal("/a/sub/y", 7, 0, 1, "overwritten"),
        Removal("/c/old", 3, 0, 1, "deleted"),
        Removal("/f2d", 2, 0, 1, "overwritten"),
        Removal("/keep", 3, 0, 1, "copy-up"),
        Removal("/a", 10, 0, 2, "deleted"),  # a/x's bytes, kept by the link that replaced /a
        Removal("/f2d/in", 2, 1, 2, "deleted"),
    ]
    assert (result.stored_bytes, result.visible_bytes) == (4132, 9)
    assert result.removed_at == {(0, "/a/x"): 1, (0, "/keep"): 1, (1, "/a"): 2}
    counts = [(x.added, x.modified, x.deleted, x.bytes_added, x.payload) for x in result.layers]
    assert counts == [(11, 0, 0, 4124, 4121), (2, 3, 1, 6, 6), (1, 0, 2, 5, 5)]
    assert [x.largest() for x in result.layers] == [
        [TopEntry(4096, "/a/big", "added"), TopEntry(10, "/a/x", "added"), TopEntry(7, "/a/sub/y", "added")],
        [TopEntry(3, "/keep", "modified"), TopEntry(3, "/c/old", "deleted"), TopEntry(2, "/f2d/in", "added")],
        [TopEntry(10, "/a", "deleted"), TopEntry(5, "/late", "added"), TopEntry(2, "/f2d/in", "deleted")],
    ]
    dive = dive_figures(layers(*IMAGE))
    assert (dive.wasted_bytes, dive.size_bytes, dive.user_size_bytes) == (8, 4132, 11)
    assert dive.efficiency == 0.9987899322362053


def test_every_overlay_rule_at_once_gives_the_recorded_file_browser() -> None:
    tree = file_tree(layers(*IMAGE), layer_cap=3, final_cap=4)
    assert [(t.total, t.omitted_bytes) for t in tree.layers] == [(11, 11), (6, 1), (4, 5)]
    assert [t.entries for t in tree.layers] == [
        (
            TreeEntry("/a/big", "f", "added", 4096),
            TreeEntry("/a/sub/y", "f", "added", 7),
            TreeEntry("/a/x", "f", "added", 10),
        ),
        (
            TreeEntry("/c", "o", "deleted", 3),
            TreeEntry("/f2d/in", "f", "added", 2),
            TreeEntry("/keep", "f", "modified", 3),
        ),
        (
            TreeEntry("/", "o", "deleted", 7),
            TreeEntry("/a", "w", "deleted", 0),
            TreeEntry("/f2d/in", "w", "deleted", 2),
        ),
    ]
    assert tree.final_total == 11
    assert tree.final == (
        FinalEntry("/a/big", "f", (StoredVersion(0, 4096, 1, "overwritten"),), False),
        FinalEntry("/a/x", "f", (StoredVersion(0, 10, 1, "overwritten"),), False),
        FinalEntry("/a/sub/y", "f", (StoredVersion(0, 7, 1, "overwritten"),), False),
        FinalEntry(
            "/keep", "f", (StoredVersion(0, 3, 1, "overwritten"), StoredVersion(1, 3, 2, "deleted")), False
        ),
    )


def test_the_walks_share_one_resolution_or_make_their_own() -> None:
    listings = layers(*IMAGE)
    resolved = resolve(listings)
    assert walk(listings, 3, (), resolved) == walk(listings, 3)
    assert dive_figures(listings, resolved) == dive_figures(listings)
    assert file_tree(listings, resolved=resolved) == file_tree(listings)
