"""Where listings come from: a save stream (any order, duplicates, gzip/zstd blobs), archives, the
layer store's tar-split data (identical to an export), and the cache in front of them."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.contents import PEM_KEY, diff_id, layer_store, layer_tar, oci_blobs, save_stream, tar_of

from analyzer.contents.cache import ListingCache, cache_root
from analyzer.contents.fetch import archive_listings, engine_listings, scan_save
from analyzer.contents.listing import SecretHit
from analyzer.contents.tarstream import ChunkFeed
from analyzer.errors import ArchiveError, EngineError, UsageError
from analyzer.image.config import chain_ids
from analyzer.model import EngineInfo, Image, Layer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
L0 = layer_tar([("d", "etc"), ("f", "etc/os", b"base\n"), ("d", "root"), ("d", "root/.ssh")])
L1 = layer_tar(
    [("d", "root"), ("d", "root/.ssh"), ("f", "root/.ssh/id_rsa", PEM_KEY), ("f", "root/x", b"x" * 3000)]
)
L2 = layer_tar([("d", "root"), ("w", "root/.ssh")])
LAYERS = [L0, L1, L2, L1]  # the last one repeats a layer (same diff_id)


def image_of(layers: list[bytes]) -> Image:
    ids = [diff_id(x) for x in layers]
    return Image(
        id="sha256:" + "ab" * 32,
        tags=(),
        size=0,
        history=(),
        layers=tuple(Layer(i, d, c) for i, (d, c) in enumerate(zip(ids, chain_ids(ids), strict=True))),
    )


class FakeEngine:
    """An engine double: its export is a save stream, its data root a fake overlay2 store."""

    def __init__(self, layers: list[bytes], data_root: Path | None = None, storage: str = "overlay2") -> None:
        self.stream = save_stream(layers)
        self.exports = 0
        self.data_root = data_root
        self.storage = storage
        self.address = "unix:///fake.sock"

    def info(self) -> EngineInfo:
        root = str(self.data_root) if self.data_root else None
        return EngineInfo("20.10.24", "1.41", self.storage, self.address, root)

    def export(self, image_id: str) -> Iterator[bytes]:
        self.exports += 1
        for i in range(0, len(self.stream), 4099):
            yield self.stream[i : i + 4099]


def test_save_stream_layers_are_found_by_digest_in_any_order() -> None:
    wanted = [diff_id(x) for x in (L0, L1, L2)]
    found = scan_save(ChunkFeed([save_stream(LAYERS)]), wanted)
    assert set(found) == set(wanted)
    assert [e.path for e in found[diff_id(L2)].entries] == ["/root", "/root/.ssh"]
    assert found[diff_id(L1)].secrets == (SecretHit("/root/.ssh/id_rsa", "private key"),)
    assert scan_save(ChunkFeed([save_stream(LAYERS)]), [diff_id(L0)]).keys() == {diff_id(L0)}


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_compressed_oci_blobs_are_identified_by_their_uncompressed_digest(compress: str) -> None:
    found = scan_save(ChunkFeed([tar_of(oci_blobs([L0, L1], compress))]), [diff_id(L0), diff_id(L1)])
    plain = scan_save(ChunkFeed([save_stream([L0, L1])]), [diff_id(L0), diff_id(L1)])
    assert found == plain


def test_engine_export_then_cache(tmp_path: Path) -> None:
    engine = FakeEngine(LAYERS)
    cache = ListingCache(tmp_path)
    first = engine_listings(engine, image_of(LAYERS), cache, via="auto")  # no data root: export
    assert engine.exports == 1 and [x.diff_id for x in first] == [diff_id(x) for x in LAYERS]
    assert first[1] is first[3]  # a repeated layer is read once
    again = engine_listings(engine, image_of(LAYERS), cache)
    assert again == first and engine.exports == 1 and cache.hits == 3


def test_layer_store_gives_the_same_listings_as_an_export(tmp_path: Path) -> None:
    layer_store(tmp_path, LAYERS, files={1: {"root/.ssh/id_rsa": PEM_KEY}})
    engine = FakeEngine(LAYERS, data_root=tmp_path)
    local = engine_listings(engine, image_of(LAYERS), ListingCache(None), via="layerdb")
    assert engine.exports == 0
    exported = engine_listings(engine, image_of(LAYERS), ListingCache(None), via="export")
    assert local == exported and local[1].secrets == (SecretHit("/root/.ssh/id_rsa", "private key"),)


def test_an_unreadable_layer_store_falls_back_to_export(tmp_path: Path) -> None:
    layer_store(tmp_path, LAYERS)  # the diff dir lacks id_rsa: its header cannot be checked locally
    engine = FakeEngine(LAYERS, data_root=tmp_path)
    listings = engine_listings(engine, image_of(LAYERS), ListingCache(None))
    assert engine.exports == 1 and listings[1].secrets == (SecretHit("/root/.ssh/id_rsa", "private key"),)
    with pytest.raises(EngineError, match="layer store"):
        engine_listings(engine, image_of(LAYERS), ListingCache(None), via="layerdb")


def test_a_layer_folder_holding_another_diff_is_not_trusted(tmp_path: Path) -> None:
    chains = layer_store(tmp_path, [L0])
    (tmp_path / "image/overlay2/layerdb/sha256" / chains[0].split(":")[1] / "diff").write_text(
        "sha256:" + "0" * 64
    )
    engine = FakeEngine([L0], data_root=tmp_path)
    engine_listings(engine, image_of([L0]), ListingCache(None))
    assert engine.exports == 1
    assert FakeEngine([L0], tmp_path, storage="containerd").info().storage == "containerd"


def test_an_export_without_a_wanted_layer_is_an_engine_error() -> None:
    engine = FakeEngine([L0])
    with pytest.raises(EngineError, match="has no layer with diff_id"):
        engine_listings(engine, image_of([L0, L1]), ListingCache(None), via="export")


def test_archives_plain_gzip_and_oci_layout(tmp_path: Path) -> None:
    plain = tmp_path / "img.tar"
    plain.write_bytes(save_stream(LAYERS))
    packed = tmp_path / "img.tar.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    layout = tmp_path / "oci"
    for name, data in oci_blobs(LAYERS[:3], "gzip").items():
        (layout / name).parent.mkdir(parents=True, exist_ok=True)
        (layout / name).write_bytes(data)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    expected = engine_listings(FakeEngine(LAYERS), image_of(LAYERS), ListingCache(None))
    for source in (plain, packed, layout):
        assert archive_listings(source, image_of(LAYERS), ListingCache(None)) == expected
    with pytest.raises(ArchiveError, match="has no layer"):
        archive_listings(plain, image_of([L0, layer_tar([("f", "new", b"n")])]), ListingCache(None))


def test_a_real_docker_save_with_a_duplicate_layer() -> None:
    """``tests/fixtures/archives/docker-small.tar``: Docker 20.10's own save, last layer a symlink."""
    recorded = json.loads((FIXTURES / "archives" / "engine.json").read_text())
    diff_ids = recorded["images"]["lmtest-archive:small"]["diff_ids"]
    image = Image("sha256:" + "cd" * 32, (), 0, (), tuple(Layer(i, d, d) for i, d in enumerate(diff_ids)))
    listings = archive_listings(FIXTURES / "archives" / "docker-small.tar", image, ListingCache(None))
    assert len(listings) == len(diff_ids) == 4 and listings[0] == listings[-1]
    assert [(e.path, e.size) for e in listings[0].entries] == [("/hello.txt", 6)]


def test_cache_files_are_versioned_and_corruption_is_a_miss(tmp_path: Path) -> None:
    cache = ListingCache(tmp_path)
    listing = scan_save(ChunkFeed([save_stream([L1])]), [diff_id(L1)])[diff_id(L1)]
    cache.put(listing)
    assert ListingCache(tmp_path).get(listing.diff_id) == listing
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"not zlib")
    assert ListingCache(tmp_path).get(listing.diff_id) is None
    assert ListingCache(None).get(listing.diff_id) is None


def test_cache_location_follows_xdg_and_can_be_turned_off() -> None:
    assert cache_root({"XDG_CACHE_HOME": "/x/cache"}) == Path("/x/cache/layermap/contents/v1")
    assert cache_root({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache/layermap/contents/v1"
    assert cache_root({"LAYERMAP_NO_CACHE": "1", "XDG_CACHE_HOME": "/x"}) is None


def test_layer_store_with_extended_headers_and_another_json_layout(tmp_path: Path) -> None:
    """PAX records (long and non-ASCII names, a long link) before some headers, and tar-split lines
    written with another key order (parsed as JSON): still what an export gives."""
    long_dir = "usr/share/" + "x" * 120
    layer = layer_tar(
        [
            ("d", "usr"),
            ("f", f"{long_dir}/f.txt", b"long name" * 100),
            ("f", "etc/caf\u00e9", b"non-ascii"),
            ("l", "etc/link", "/" + long_dir + "/f.txt"),
            ("h", "etc/hard", f"{long_dir}/f.txt"),
            ("f", "etc/x", b"x" * 513),
        ]
    )
    layer_store(tmp_path, [layer])
    engine = FakeEngine([layer], data_root=tmp_path)
    exported = engine_listings(engine, image_of([layer]), ListingCache(None), via="export")
    assert engine_listings(engine, image_of([layer]), ListingCache(None), via="layerdb") == exported
    (split,) = tmp_path.rglob("tar-split.json.gz")
    lines = gzip.decompress(split.read_bytes()).splitlines()
    reordered = [json.dumps(dict(reversed(list(json.loads(line).items())))).encode() for line in lines]
    split.write_bytes(gzip.compress(b"\n".join(reordered) + b"\n"))
    assert engine_listings(engine, image_of([layer]), ListingCache(None), via="layerdb") == exported
    assert [e.path for e in exported[0].entries][1] == f"/{long_dir}/f.txt"


def test_an_unknown_source_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERMAP_CONTENTS_SOURCE", "ftp")
    with pytest.raises(UsageError, match="expected auto, layerdb or export"):
        engine_listings(FakeEngine([L0]), image_of([L0]), ListingCache(None))
