"""analyzer.image.archive on real Docker-format saves (Docker 20.10), plain and compressed.

The expected values (ids, diff_ids, per-entry ``docker history`` sizes, empty_layer flags) are what the
engine itself reported when the fixtures were recorded: tests/fixtures/archives/engine.json.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from helpers.archives import (
    LINKS_LAYER,
    SMALL,
    TWO,
    Entry,
    compressed,
    engine_record,
    read_docker_save,
    tar_bytes,
    write_tar,
)

from analyzer.errors import ArchiveError
from analyzer.image.archive import chain_ids, entry_size, is_archive_path, iter_layer_members, read_image
from analyzer.image.archive.layers import scan_layer

ENGINE = engine_record()["images"]


def compressed_copy(tmp_path: Path, source: Path, kind: str) -> Path:
    dest = tmp_path / f"{source.stem}.tar.{kind}"
    dest.write_bytes(compressed(source.read_bytes(), kind))
    return dest


# --------------------------------------------------------------------------- one image


def test_small_save_matches_the_engine() -> None:
    expected = ENGINE["lmtest-archive:small"]
    image = read_image(SMALL)
    assert image.id == expected["id"]
    assert image.tags == ("lmtest-archive:small",)
    assert list(image.diff_ids) == expected["diff_ids"]
    assert (
        [h.size for h in image.history] == [h["size"] for h in expected["history"]] == [6, 0, 15, 0, 6, 0, 0]
    )
    assert [h.empty_layer for h in image.history] == [h["empty_layer"] for h in expected["history"]]
    assert [h.created_by for h in image.history] == [h["created_by"] for h in expected["history"]]
    assert [layer.size for layer in image.layers] == [6, 15, 0, 6]
    assert image.size == expected["size"] == 27
    assert image.onbuild == ("ENV CHILD=1",) == tuple(expected["onbuild"])
    assert image.config is not None and image.config["rootfs"]["diff_ids"] == expected["diff_ids"]
    assert image.history[1].created is not None and image.history[1].created.startswith("20")


def test_workdir_layer_is_a_real_zero_byte_layer() -> None:
    # WORKDIR of a new dir makes a layer holding only the directory: size 0, yet not empty_layer.
    image = read_image(SMALL)
    workdir = image.history[3]
    assert "WORKDIR /work" in workdir.created_by
    assert (workdir.empty_layer, workdir.size) == (False, 0)
    assert [i for i, layer in enumerate(image.layers) if layer.size == 0] == [2]


def test_chain_ids_follow_the_image_spec() -> None:
    image = read_image(SMALL)
    diffs = list(image.diff_ids)
    expected = [diffs[0]]
    for diff in diffs[1:]:
        expected.append("sha256:" + hashlib.sha256((expected[-1] + " " + diff).encode()).hexdigest())
    assert [layer.chain_id for layer in image.layers] == expected == chain_ids(diffs)
    # The repeated layer has the first one's diff_id but its own chain id.
    assert image.layers[3].diff_id == image.layers[0].diff_id
    assert image.layers[3].chain_id != image.layers[0].chain_id


def test_duplicate_layer_is_a_symlink_in_the_save_and_read_through_it() -> None:
    with tarfile.open(SMALL) as tar:
        links = [m for m in tar.getmembers() if m.issym()]
    assert len(links) == 1 and links[0].linkname.startswith("../")
    image = read_image(SMALL, verify=True)
    assert image.layers[3].size == image.layers[0].size == 6


def test_verify_hashes_every_layer() -> None:
    assert read_image(SMALL, verify=True) == read_image(SMALL)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_compressed_save_reads_like_the_plain_one(tmp_path: Path, kind: str) -> None:
    archive = compressed_copy(tmp_path, SMALL, kind)
    assert read_image(archive, verify=True) == read_image(SMALL)


def test_progress_reports_each_distinct_blob_once() -> None:
    calls: list[tuple[int, int]] = []
    read_image(SMALL, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]  # 4 layers, one of them a duplicate


# --------------------------------------------------------------------------- several images


def test_two_images_need_a_ref(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError) as err:
        read_image(TWO)
    message = str(err.value)
    assert message.startswith(
        f"{TWO}: the archive holds 2 images; pick one with ARCHIVE:REF, --image REF or --platform OS/ARCH: "
    )
    assert "lmtest-archive:small" in message and "lmtest-archive:child" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "ref",
    [
        "lmtest-archive:child",
        "docker.io/library/lmtest-archive:child",
        ENGINE["lmtest-archive:child"]["id"][:13],
    ],
)
def test_ref_chooses_by_tag_name_or_id_prefix(ref: str) -> None:
    expected = ENGINE["lmtest-archive:child"]
    image = read_image(TWO, ref, verify=True)
    assert image.id == expected["id"]
    assert list(image.diff_ids) == expected["diff_ids"]
    assert [h.size for h in image.history] == [h["size"] for h in expected["history"]]
    assert [h.empty_layer for h in image.history] == [h["empty_layer"] for h in expected["history"]]


def test_unknown_ref_lists_the_choices() -> None:
    with pytest.raises(
        ArchiveError, match=r"no image in the archive matches 'nope:1'; it holds: lmtest-archive"
    ):
        read_image(TWO, "nope:1")


def test_ref_defaults_to_latest_tag(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="matches 'lmtest-archive'"):
        read_image(TWO, "lmtest-archive")  # means lmtest-archive:latest, which is not there


# --------------------------------------------------------------------------- sizes


def test_layer_with_links_whiteouts_and_opaque_dir_matches_the_engine() -> None:
    # A real RUN layer: a file, a hard link to it, a symlink, a whiteout, an opaque directory.
    expected = ENGINE["lmtest-archive:links"]
    with LINKS_LAYER.open("rb") as blob:
        scan = scan_layer(blob, "links")
    assert scan.digest == expected["diff_ids"][-1]
    assert scan.size == expected["history"][-1]["size"] == 8
    with tarfile.open(LINKS_LAYER) as tar:
        sizes = {m.name: entry_size(m) for m in tar.getmembers()}
    assert sizes == {"a": 4, "b": 0, "bin": 0, "bin/.wh.ls": 0, "c": 2, "d": 0, "d/.wh..wh..opq": 0, "d/z": 2}


def test_entry_size_rules_on_a_made_up_layer() -> None:
    layer = tar_bytes(
        [
            Entry("dir", type=tarfile.DIRTYPE),
            Entry("dir/file", b"12345"),
            Entry("dir/hard", type=tarfile.LNKTYPE, linkname="dir/file"),
            Entry("dir/sym", type=tarfile.SYMTYPE, linkname="/usr/lib/x86_64-linux-gnu/libc.so.6"),
            Entry("dir/é", type=tarfile.SYMTYPE, linkname="é"),  # target length in bytes, not characters
            Entry("dir/.wh.gone"),
            Entry("dir/fifo", type=tarfile.FIFOTYPE),
        ],
        fmt=tarfile.PAX_FORMAT,
    )
    for kind in ("none", "gzip", "zstd"):
        blob = compressed(layer, kind)
        scan = scan_layer(io.BytesIO(blob), "made-up")
        assert (scan.size, scan.digest, scan.compression) == (5 + 35 + 2, _sha(layer), kind)


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- layer members


SMALL_MEMBERS = [
    (0, "hello.txt"),
    (1, "opt"),
    (1, "opt/dir"),
    (1, "opt/dir/data.bin"),
    (1, "opt/dir/link"),
    (2, "work"),
    (3, "hello.txt"),
]


@pytest.mark.parametrize("kind", ["none", "gzip"])
def test_iter_layer_members_in_layer_order(tmp_path: Path, kind: str) -> None:
    # Docker 20.10 stores layer dirs by id, not in layer order: the compressed save needs several passes.
    archive = SMALL if kind == "none" else compressed_copy(tmp_path, SMALL, kind)
    found = [(index, info.name) for index, info in iter_layer_members(archive)]
    assert found == SMALL_MEMBERS
    link = next(info for _, info in iter_layer_members(archive) if info.name == "opt/dir/link")
    assert (link.issym(), link.linkname) == (True, "../hello.txt")


def test_iter_layer_members_takes_a_ref() -> None:
    found = [(index, info.name) for index, info in iter_layer_members(TWO, "lmtest-archive:child")]
    assert found == [*SMALL_MEMBERS, (4, "extra.txt")]


# --------------------------------------------------------------------------- is_archive_path


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("image.tar", True),
        ("out/IMAGE.TAR.GZ", True),
        ("image.tgz", True),
        ("image.tar.zst", True),
        ("missing/but-named.tar", True),
        ("busybox:latest", False),
        ("registry.example.com:5000/team/app", False),
        ("sha256:8cc0fc4e041d", False),
    ],
)
def test_is_archive_path_by_name(arg: str, expected: bool) -> None:
    assert is_archive_path(arg) is expected


def test_is_archive_path_for_directories(tmp_path: Path) -> None:
    assert not is_archive_path(str(tmp_path))
    (tmp_path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    assert is_archive_path(str(tmp_path))


def test_crane_tarball_format(tmp_path: Path) -> None:
    # go-containerregistry (`crane pull`): config `sha256:<hex>`, gzip layers `<hex>.tar.gz` (the repeated
    # layer is one file listed twice), no repositories file.
    image = read_docker_save(SMALL)
    layer_names = [f"{hashlib.sha256(layer).hexdigest()}.tar.gz" for layer in image.layers]
    files = {name: compressed(layer, "gzip") for name, layer in zip(layer_names, image.layers, strict=True)}
    config_name = "sha256:" + hashlib.sha256(image.config).hexdigest()
    files[config_name] = image.config
    manifest = [{"Config": config_name, "RepoTags": ["lmtest-archive:small"], "Layers": layer_names}]
    files["manifest.json"] = json.dumps(manifest).encode()
    assert read_image(write_tar(files, tmp_path / "crane.tar"), verify=True) == read_image(SMALL)
    files[config_name] = image.config + b" "
    with pytest.raises(ArchiveError, match="does not match its digest"):
        read_image(write_tar(files, tmp_path / "crane-bad.tar"))
