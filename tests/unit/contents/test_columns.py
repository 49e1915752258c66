"""A listing packed in columns: the entries it was given come back unchanged, and its cache file is
checked column by column."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from helpers.contents import layer_tar

from analyzer.contents.cache import FORMAT, ListingCache
from analyzer.contents.listing import Entries, Entry, LayerListing, SecretHit, build_listing, docker_size
from analyzer.contents.secrets import RULES_VERSION
from analyzer.contents.tarstream import ChunkFeed, TarReader

ENTRIES = (
    Entry("/etc", "d", 0, 1_700_000_000, ""),
    Entry("/etc/x", "f", 3, 1_700_000_000.5, ""),
    Entry("/bin/sh", "l", 0, 0, "/bin/busybox"),
    Entry("/bin/hard", "h", 0, 0, "/etc/x"),
    Entry("/caf\u00e9/\udcff\udcfe", "f", 1 << 40, 2**40 + 0.25, "t\udc80"),  # non-UTF-8 bytes, escaped
    Entry("/odd/\ud800", "l", 0, -1, "\ud800"),  # a lone surrogate no tar makes, kept all the same
    Entry("/etc/gone", "w", 0, 0, ""),
    Entry("/", "o", 0, 0, ""),
    Entry("/dev/null", "c", 0, 0, ""),
)


def test_entries_come_back_as_given() -> None:
    listing = LayerListing("sha256:x", ENTRIES, [SecretHit("/etc/x", "private key")])
    assert listing.entries == ENTRIES and list(listing.entries) == list(ENTRIES) != listing.entries
    assert len(listing) == len(listing.entries) == 9
    assert listing.entries[4] == ENTRIES[4] and listing.entries[-1] == ENTRIES[-1]
    assert listing.entries[1:3] == ENTRIES[1:3]
    with pytest.raises(IndexError):
        listing.entries[9]
    assert listing.dirs == ["", "/etc", "/bin", "/caf\u00e9", "/odd", "/dev"]
    sized = [i for i in range(len(listing)) if i != 5]  # docker_size cannot encode a lone surrogate
    assert [listing.docker_size(i) for i in sized] == [docker_size(ENTRIES[i]) for i in sized] != []
    assert listing.entries != ENTRIES[:-1] and listing.entries != (*ENTRIES[:-1], ENTRIES[0])


def test_equal_listings_and_a_renamed_one() -> None:
    one = LayerListing("sha256:x", ENTRIES)
    assert one == LayerListing("sha256:x", list(ENTRIES)) and one != LayerListing("sha256:y", ENTRIES)
    assert one.renamed("sha256:y") == LayerListing("sha256:y", ENTRIES)
    assert one.renamed("sha256:y").entries == one.entries and one.diff_id == "sha256:x"
    assert isinstance(one.entries, Entries) and "9 entries" in repr(one)


def test_a_listing_built_from_a_tar_holds_no_entry_objects() -> None:
    tar = layer_tar([("d", "etc"), ("f", "etc/a", b"1"), ("f", "etc/b", b"22"), ("l", "etc/c", "a")])
    reader = TarReader(ChunkFeed([tar]))
    listing = build_listing("sha256:x", reader, lambda _e, n: reader.head(n))
    assert listing.dirs == ["", "/etc"]
    assert list(listing.parents) == [0, 1, 1, 1] and bytes(listing.kinds) == b"dffl"
    assert list(listing.sizes) == [0, 1, 2, 0] and [listing.path(i) for i in range(4)][1:3] == [
        "/etc/a",
        "/etc/b",
    ]
    assert listing.link(3) == "a" and listing.link(2) == "" and listing.name_bytes(0) == b"etc"


def test_the_cache_keeps_columns_and_reads_them_back(tmp_path: Path) -> None:
    listing = LayerListing("sha256:" + "c" * 64, ENTRIES, [SecretHit("/etc/x", "private key")])
    ListingCache(tmp_path).put(listing)
    (path,) = tmp_path.iterdir()
    head = zlib.decompress(path.read_bytes()).partition(b"\n")[0]
    assert json.loads(head)["format"] == FORMAT == 2
    back = ListingCache(tmp_path).get(listing.diff_id)
    assert back == listing and back is not None and back.dirs == listing.dirs


def _tampered(tmp_path: Path, change: str) -> bytes:
    listing = LayerListing("sha256:" + "d" * 64, ENTRIES)
    columns = listing.columns()
    head = {
        "format": FORMAT,
        "rules": RULES_VERSION,
        "diff_id": listing.diff_id,
        "dirs": listing.dirs,
        "secrets": [],
        "columns": [
            len(columns[n])
            for n in ("dir", "name_end", "names", "kind", "size", "mtime", "link_at", "link_end", "links")
        ],
    }
    if change == "kind":
        columns["kind"] = b"z" + columns["kind"][1:]
    elif change == "dir":
        columns["dir"] = (99).to_bytes(4, "little") + columns["dir"][4:]
    elif change == "size":
        columns["size"] = (-1).to_bytes(8, "little", signed=True) + columns["size"][8:]
    elif change == "offsets":
        columns["name_end"] = (999).to_bytes(8, "little") + columns["name_end"][8:]
    elif change == "short":
        columns["mtime"] = columns["mtime"][:-3]
        head["columns"][5] -= 3
    elif change == "links":
        columns["link_at"] = columns["link_at"][8:] + columns["link_at"][:8]
    elif change == "lengths":
        head["columns"][0] += 1
    elif change == "dirs":
        head["dirs"] = [1, 2]
    order = ("dir", "name_end", "names", "kind", "size", "mtime", "link_at", "link_end", "links")
    return json.dumps(head).encode() + b"\n" + b"".join(columns[n] for n in order)


@pytest.mark.parametrize(
    "change", ["none", "kind", "dir", "size", "offsets", "short", "links", "lengths", "dirs"]
)
def test_a_tampered_column_is_a_miss(tmp_path: Path, change: str) -> None:
    (tmp_path / f"{'d' * 64}.json.z").write_bytes(zlib.compress(_tampered(tmp_path, change)))
    got = ListingCache(tmp_path).get("sha256:" + "d" * 64)
    assert (got is not None) == (change == "none")


def test_a_format_1_cache_file_is_a_miss_and_is_rewritten(tmp_path: Path) -> None:
    diff_id = "sha256:" + "e" * 64
    old = {
        "format": 1,
        "rules": RULES_VERSION,
        "diff_id": diff_id,
        "entries": [["/a", "f", 1, 0.0, ""]],
        "secrets": [],
    }
    path = tmp_path / f"{'e' * 64}.json.z"
    path.write_bytes(zlib.compress(json.dumps(old).encode()))
    cache = ListingCache(tmp_path)
    assert cache.get(diff_id) is None and cache.misses == 1
    listing = LayerListing(diff_id, [Entry("/a", "f", 1, 0.0, "")])
    cache.put(listing)
    assert list(tmp_path.iterdir()) == [path] and ListingCache(tmp_path).get(diff_id) == listing
