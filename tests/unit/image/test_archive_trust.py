"""Trust in archives and caches: every digest read is checked, nothing outside a layout is followed,
a decompression bomb is named, and a tampered contents-cache entry is a miss (rebuilt), never believed.

Fixtures are the recorded Docker save converted to an OCI layout at test time (test_archive_support).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib
from pathlib import Path

import pytest
from helpers.archives import blob_name_of, docker_to_oci, write_dir, write_tar

from analyzer.cli import main
from analyzer.contents.cache import ListingCache
from analyzer.contents.listing import Entry, LayerListing
from analyzer.errors import ArchiveError
from analyzer.image.archive import read_image, reader


def layout_files() -> dict[str, bytes]:
    return docker_to_oci(nested=False, compat_manifest=False)


def manifest_name(files: dict[str, bytes]) -> str:
    return blob_name_of(json.loads(files["index.json"])["manifests"][0])


def test_a_tampered_manifest_is_refused_naming_the_blob(tmp_path: Path) -> None:
    files = layout_files()
    name = manifest_name(files)
    manifest = json.loads(files[name])
    manifest["annotations"] = {"tampered": "yes"}  # same layers, other bytes
    files[name] = json.dumps(manifest).encode()
    with pytest.raises(ArchiveError, match=rf"{name} does not match its digest"):
        read_image(write_dir(files, tmp_path))


def test_a_tampered_layer_blob_is_refused_naming_the_blob(tmp_path: Path) -> None:
    files = layout_files()
    layer = json.loads(files[manifest_name(files)])["layers"][2]  # the uncompressed one
    name = blob_name_of(layer)
    files[name] = files[name][:-1] + b"\1"  # the tar's last padding byte: still a readable tar
    with pytest.raises(ArchiveError, match=r"layer 2 \('blobs/sha256/[0-9a-f]+'\) does not match its digest"):
        read_image(write_tar(files, tmp_path / "t.tar"))


def test_contents_refuses_a_blob_symlinked_outside_the_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAYERMAP_NO_CACHE", "1")
    layout = write_dir(layout_files(), tmp_path / "layout")
    secret = tmp_path / "outside"
    secret.write_bytes(b"not yours")
    (layout / "blobs" / "sha256" / "zz-link").symlink_to(secret)
    assert main(["image", str(layout), "--contents", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"layermap: {layout}: 'blobs/sha256/zz-link' points outside the directory"


def bomb_layer(size: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("zeros")
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    return buffer.getvalue()


def test_a_decompression_bomb_is_named_with_its_ratio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader.limits, "BOMB_MIN_BYTES", 1 << 20)  # the real floor is 1 GiB
    tar = bomb_layer(8 << 20)
    blob = gzip.compress(tar, compresslevel=9, mtime=0)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    config = json.dumps({"os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["bomb:1"], "Layers": ["l/layer.tar"]}])
    path = write_tar(
        {"l/layer.tar": blob, config_name: config, "manifest.json": manifest.encode()}, tmp_path / "b.tar"
    )
    assert main(["image", str(path), "-q"]) == 0
    err = capsys.readouterr().err
    assert "layermap: warning: layer 0 ('l/layer.tar') expands" in err
    ratio = len(tar) // len(blob)
    assert f"expands {ratio}x" in err and ratio > 100


# --------------------------------------------------------------------------- the contents cache


def test_a_zlib_bomb_cache_entry_is_a_miss_and_is_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analyzer.contents import cache as cache_module

    monkeypatch.setattr(cache_module, "MAX_CACHE_ENTRY", 4 << 20)  # 256 MiB for real: same code path
    cache = ListingCache(tmp_path)
    diff_id = "sha256:" + "a" * 64
    path = tmp_path / f"{'a' * 64}.json.z"
    inflater = zlib.compressobj(9)
    bomb = inflater.compress(b'{"entries": "' + b" " * (40 << 20)) + inflater.flush()
    path.write_bytes(bomb)
    assert len(bomb) < 100_000
    assert cache.get(diff_id) is None
    good = LayerListing(diff_id, (Entry("/a", "f", 1, 0.0, ""),))
    cache.put(good)
    assert ListingCache(tmp_path).get(diff_id) == good


@pytest.mark.parametrize(
    "entries",
    [
        [["/a", "f", -1, 0.0, ""]],
        [["/a", "f", "1", 0.0, ""]],
        [["/a", ["f"], 1, 0.0, ""]],
        [["/a", "f", 1, 0.0]],
        [[1, "f", 1, 0.0, ""]],
        "abc",
        [["/a", "f", True, 0.0, ""]],
    ],
)
def test_a_tampered_cache_entry_is_a_miss(tmp_path: Path, entries: object) -> None:
    from analyzer.contents.cache import FORMAT
    from analyzer.contents.secrets import RULES_VERSION

    diff_id = "sha256:" + "b" * 64
    data = {"format": FORMAT, "rules": RULES_VERSION, "diff_id": diff_id, "entries": entries, "secrets": []}
    (tmp_path / f"{'b' * 64}.json.z").write_bytes(zlib.compress(json.dumps(data).encode()))
    assert ListingCache(tmp_path).get(diff_id) is None


DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize("where", ["config", "index.json"])
def test_json_nested_1000_deep_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    if where == "index.json":
        files = layout_files()
        files["index.json"] = DEEP.encode()
        path = write_dir(files, tmp_path / "layout")
    else:  # a Docker-format save: the config's name is its digest, so only the nesting is wrong
        config = ('{"rootfs": ' + DEEP + "}").encode()
        name = hashlib.sha256(config).hexdigest() + ".json"
        manifest = json.dumps([{"Config": name, "RepoTags": ["deep:1"], "Layers": []}]).encode()
        path = write_tar({name: config, "manifest.json": manifest}, tmp_path / "deep.tar")
    assert main(["image", str(path), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "not valid JSON (nested" in err, err
