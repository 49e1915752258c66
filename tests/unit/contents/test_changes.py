"""Layers applied in order: per-layer changes and the stored versions later hidden (our waste)."""

from __future__ import annotations

from helpers.contents import KB, MTIME, layers

from analyzer.contents.changes import Removal, TopEntry, walk


def test_overwrite_delete_and_copy_up_each_hide_the_lower_version() -> None:
    result = walk(
        layers(
            [("d", "a"), ("f", "a/big", KB * 512), ("f", "a/del", KB * 3), ("f", "a/mod", KB * 2)],
            [("d", "a"), ("f", "a/big", KB * 256, MTIME + 1)],  # rewritten: new mtime
            [("d", "a"), ("w", "a/del"), ("f", "a/mod", KB * 2)],  # chmod: same size and mtime
        )
    )
    assert sorted(result.removals) == [
        Removal("/a/big", 512 * 1024, 0, 1, "overwritten"),
        Removal("/a/del", 3 * 1024, 0, 2, "deleted"),
        Removal("/a/mod", 2 * 1024, 0, 2, "copy-up"),
    ]
    assert result.stored_bytes == (512 + 3 + 2 + 256 + 2) * 1024
    assert result.visible_bytes == (256 + 2) * 1024
    first, second, third = result.layers
    assert (first.added, first.modified, first.deleted) == (4, 0, 0)
    assert (second.added, second.modified, second.deleted, second.bytes_added) == (0, 1, 0, 256 * 1024)
    assert (third.added, third.modified, third.deleted) == (0, 1, 1)
    assert third.largest() == [
        TopEntry(3 * 1024, "/a/del", "deleted"),
        TopEntry(2 * 1024, "/a/mod", "modified"),
    ]


def test_a_file_written_three_times_wastes_two_versions() -> None:
    result = walk(layers([("f", "f", KB)], [("f", "f", KB, MTIME + 1)], [("f", "f", KB, MTIME + 2)]))
    assert result.stored_bytes - result.visible_bytes == 2 * 1024
    assert [(r.added_layer, r.removed_layer) for r in result.removals] == [(0, 1), (1, 2)]


def test_removing_a_directory_hides_every_file_below_it() -> None:
    result = walk(
        layers(
            [("d", "r"), ("d", "r/ex"), ("f", "r/ex/1", KB), ("d", "r/ex/sub"), ("f", "r/ex/sub/2", KB * 2)],
            [("d", "r"), ("w", "r/ex")],
        )
    )
    assert sorted((r.path, r.size, r.kind) for r in result.removals) == [
        ("/r/ex/1", 1024, "deleted"),
        ("/r/ex/sub/2", 2048, "deleted"),
    ]
    assert result.layers[1].deleted == 1 and result.layers[1].largest()[0] == TopEntry(
        3072, "/r/ex", "deleted"
    )


def test_an_opaque_directory_hides_lower_entries_but_keeps_its_own_layer_s() -> None:
    result = walk(
        layers(
            [("d", "c"), ("f", "c/old", KB), ("d", "c/sub"), ("f", "c/sub/older", KB)],
            # rm -rf c && mkdir -p c/sub && echo > c/sub/new: the marker may come after the new files
            [("d", "c"), ("d", "c/sub"), ("f", "c/sub/new", b"n"), ("o", "c")],
        )
    )
    assert sorted(r.path for r in result.removals) == ["/c/old", "/c/sub/older"]
    assert result.visible_bytes == 1


def test_hard_links_share_bytes_until_the_last_name_goes() -> None:
    result = walk(
        layers(
            [("f", "a", KB * 4), ("h", "b", "a")],
            [("w", "a")],
        )
    )
    assert result.removals == [] and result.visible_bytes == 4096
    result = walk(layers([("f", "a", KB * 4), ("h", "b", "a")], [("w", "a"), ("w", "b")]))
    assert result.removals == [Removal("/b", 4096, 0, 1, "deleted")]


def test_a_hard_link_to_a_lower_file_copies_it_up() -> None:
    """``ln /a /b`` with ``/a`` below: the engine copies the whole of ``/a`` into the new layer."""
    result = walk(layers([("f", "a", KB * 8)], [("f", "a", KB * 8), ("h", "b", "a")]))
    assert result.removals == [Removal("/a", 8192, 0, 1, "copy-up")]


def test_type_changes_replace_whole_subtrees() -> None:
    result = walk(
        layers(
            [("d", "x"), ("f", "x/in", KB), ("f", "y", KB * 2)],
            [("f", "x", b"now a file"), ("d", "y"), ("f", "y/in", b"1")],
        )
    )
    assert sorted((r.path, r.kind) for r in result.removals) == [
        ("/x/in", "overwritten"),
        ("/y", "overwritten"),
    ]
    assert result.layers[1].modified == 2


def test_new_directories_count_as_added_a_relisted_one_does_not() -> None:
    result = walk(layers([("d", "etc")], [("d", "etc"), ("d", "etc/new"), ("l", "etc/link", "x")]))
    second = result.layers[1]
    assert (second.added, second.modified, second.bytes_added) == (2, 0, 1)


def test_top_keeps_the_n_largest_earliest_first_among_equals() -> None:
    spec = [("f", f"f{i}", b"x" * (i % 3)) for i in range(9)]
    top = walk(layers(spec), top_n=4).layers[0].largest()
    assert top == [TopEntry(2, "/f2", "added"), TopEntry(2, "/f5", "added"), TopEntry(2, "/f8", "added"),
                   TopEntry(1, "/f1", "added")]  # fmt: skip
    assert walk(layers(spec), top_n=0).layers[0].largest() == []


def test_watched_paths_report_the_layer_that_removed_them() -> None:
    result = walk(
        layers(
            [("f", "k/id_rsa", b"key"), ("d", "s/.git"), ("f", "s/.git/config", b"c")],
            [("f", "other", b"o")],
            [("w", "k/id_rsa"), ("w", "s")],
        ),
        watch={(0, "/k/id_rsa"), (0, "/s/.git"), (1, "/other")},
    )
    assert result.removed_at == {(0, "/k/id_rsa"): 2, (0, "/s/.git"): 2}


def test_a_repeated_layer_is_stored_once() -> None:
    """``COPY f`` then ``chmod 600 f`` then ``chmod 644 f``: the last layer's tar is the first one's
    again (same diff_id), kept once by a registry or a save: only the middle version is wasted."""
    first, middle = layers([("f", "f", KB)], [("f", "f", KB, MTIME + 0)])
    middle = middle.__class__("sha256:middle", middle.entries)  # chmod 600: a different header
    result = walk([first, middle, first])
    assert result.stored_bytes == 2048 and result.visible_bytes == 1024
    assert result.removals == [Removal("/f", 1024, 1, 2, "copy-up")]
    assert [layer.modified for layer in result.layers] == [0, 1, 1]
