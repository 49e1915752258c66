"""Bad archives: every one is an ArchiveError (exit 2) with one line that names the file.

Never a traceback from tarfile, gzip, zstd or json, and never a read at an unsafe path.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest
from helpers.archives import (
    SMALL,
    Entry,
    blob_name_of,
    docker_to_oci,
    read_docker_save,
    tar_bytes,
    write_dir,
    write_tar,
)

from analyzer.errors import EXIT_USAGE, ArchiveError
from analyzer.image.archive import iter_layer_members, read_image

IMAGE = read_docker_save(SMALL)
CONFIG_NAME = hashlib.sha256(IMAGE.config).hexdigest() + ".json"
GOOD = read_image(SMALL)


def docker_files(**changes: bytes | None) -> dict[str, bytes]:
    """A Docker-format save of the small image as path → bytes; ``changes`` replace (None: drop) members.

    Keyword names use ``__`` for ``/`` and ``_dot_`` for ``.`` (``manifest_dot_json``).
    """
    files = {f"l{i}/layer.tar": layer for i, layer in enumerate(IMAGE.layers)}
    files[CONFIG_NAME] = IMAGE.config
    manifest = [{"Config": CONFIG_NAME, "RepoTags": list(IMAGE.tags), "Layers": [*files][:-1]}]
    files["manifest.json"] = json.dumps(manifest).encode()
    for key, value in changes.items():
        name = key.replace("__", "/").replace("_dot_", ".")
        files.pop(name, None)
        if value is not None:
            files[name] = value
    return files


def manifest_with(**entry: object) -> bytes:
    base = json.loads(docker_files()["manifest.json"])[0]
    return json.dumps([{**base, **entry}]).encode()


def fails(path: Path, match: str, ref: str | None = None) -> ArchiveError:
    """read_image(path) raises one ArchiveError line naming ``path`` and matching ``match``."""
    with pytest.raises(ArchiveError, match=match) as err:
        read_image(path, ref)
    message = str(err.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    assert err.value.exit_code == EXIT_USAGE
    return err.value


def test_the_helper_makes_a_good_archive(tmp_path: Path) -> None:
    assert read_image(write_tar(docker_files(), tmp_path / "ok.tar"), verify=True) == GOOD


# --------------------------------------------------------------------------- not an archive


def test_not_a_tar(tmp_path: Path) -> None:
    path = tmp_path / "notes.tar"
    path.write_text("these are not the layers you are looking for\n" * 20)
    fails(path, "not a tar archive")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.tar"
    path.write_bytes(b"")
    fails(path, "empty file, not a tar archive")


def test_missing_file(tmp_path: Path) -> None:
    fails(tmp_path / "nope.tar", r"cannot read the archive \(No such file or directory\)")


def test_gzip_of_something_else(tmp_path: Path) -> None:
    path = tmp_path / "x.tar.gz"
    path.write_bytes(gzip.compress(b"plain text, not a tar" * 30))
    fails(path, "truncated or corrupt archive")


def test_directory_that_is_no_layout(tmp_path: Path) -> None:
    fails(tmp_path, "no manifest.json or index.json: not a docker save archive or an OCI layout")


# --------------------------------------------------------------------------- truncated


def last_member_end(path: Path) -> int:
    with tarfile.open(path) as tar:
        return max(m.offset_data + m.size for m in tar.getmembers())


def test_truncated_tar_at_every_block(tmp_path: Path) -> None:
    # Cut inside headers, inside bodies, and exactly at member boundaries (tar then looks complete, but
    # the members after the cut are missing).
    data = SMALL.read_bytes()
    end = last_member_end(SMALL)
    path = tmp_path / "cut.tar"
    for cut in [*range(512, end, 512), *range(700, end, 1536), end - 1]:
        path.write_bytes(data[:cut])
        fails(path, r"truncated|missing|not a tar|no manifest")


def test_truncated_inside_the_last_body(tmp_path: Path) -> None:
    path = tmp_path / "cut.tar"
    path.write_bytes(SMALL.read_bytes()[: last_member_end(SMALL) - 10])
    fails(path, r"truncated or corrupt tar archive \(unexpected end of data\)")


def test_cut_at_a_member_boundary_is_still_truncated(tmp_path: Path) -> None:
    # All the image's members are there, only the end-of-archive marker is missing: tarfile alone
    # would call this complete.
    data = tar_bytes(Entry(n, b) for n, b in docker_files().items())
    path = tmp_path / "cut.tar"
    path.write_bytes(data[: last_member_end_of(data)])
    fails(path, r"truncated or corrupt tar archive \(no end-of-archive marker")


def last_member_end_of(data: bytes) -> int:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        end = max(m.offset_data + m.size for m in tar.getmembers())
    return -(-end // 512) * 512


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.95])
def test_truncated_gzip_save(tmp_path: Path, fraction: float) -> None:
    data = gzip.compress(SMALL.read_bytes())
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(data[: int(len(data) * fraction)])
    fails(path, "truncated or corrupt archive")


def test_truncated_layer_inside_a_good_tar(tmp_path: Path) -> None:
    cut = IMAGE.layers[1][:700]
    fails(write_tar(docker_files(l1__layer_dot_tar=cut), tmp_path / "x.tar"), r"layer 1 \('l1/layer.tar'\)")


# --------------------------------------------------------------------------- missing pieces


def test_missing_manifest(tmp_path: Path) -> None:
    fails(write_tar({"hello.txt": b"hi"}, tmp_path / "x.tar"), "no manifest.json or index.json")


def test_missing_config(tmp_path: Path) -> None:
    files = docker_files(**{CONFIG_NAME.replace(".", "_dot_"): None})
    fails(write_tar(files, tmp_path / "x.tar"), rf"config '{CONFIG_NAME}' is missing from the archive")


def test_missing_layer(tmp_path: Path) -> None:
    files = docker_files(l2__layer_dot_tar=None)
    fails(write_tar(files, tmp_path / "x.tar"), r"layer 'l2/layer.tar' is missing from the archive")


def test_missing_config_in_a_compressed_save(tmp_path: Path) -> None:
    files = docker_files(**{CONFIG_NAME.replace(".", "_dot_"): None})
    fails(write_tar(files, tmp_path / "x.tar.gz", compress="gzip"), "is missing from the archive")


def test_oci_index_naming_no_saved_image(tmp_path: Path) -> None:
    files = docker_to_oci(nested=False, compat_manifest=False)
    files.pop(blob_name_of(json.loads(files["index.json"])["manifests"][0]))
    fails(write_dir(files, tmp_path), "the index lists no image whose manifest and config are included")


# --------------------------------------------------------------------------- unsafe paths


@pytest.mark.parametrize("bad", ["../evil.json", "/etc/passwd", "l0/../../evil", "a/b/../../../c"])
@pytest.mark.parametrize("compress", ["none", "gzip"])
def test_unsafe_member_path(tmp_path: Path, bad: str, compress: str) -> None:
    # The bad member is last and nothing refers to it: every path is checked, before use.
    data = tar_bytes([*(Entry(n, b) for n, b in docker_files().items()), Entry(bad, b"{}")])
    path = tmp_path / ("x.tar.gz" if compress == "gzip" else "x.tar")
    path.write_bytes(gzip.compress(data) if compress == "gzip" else data)
    fails(path, r"unsafe path .* in the archive \(absolute or '\.\.'\)")


@pytest.mark.parametrize("bad", ["../x.json", "/x.json"])
def test_unsafe_path_in_the_manifest(tmp_path: Path, bad: str) -> None:
    fails(
        write_tar(docker_files(manifest_dot_json=manifest_with(Config=bad)), tmp_path / "x.tar"),
        "unsafe path",
    )


def test_symlink_out_of_the_archive(tmp_path: Path) -> None:
    entries = [Entry(n, b) for n, b in docker_files(l3__layer_dot_tar=None).items()]
    entries.append(Entry("l3/layer.tar", type=tarfile.SYMTYPE, linkname="../../../etc/passwd"))
    path = tmp_path / "x.tar"
    path.write_bytes(tar_bytes(entries))
    fails(path, r"link 'l3/layer.tar' points outside the archive")


def test_oci_digest_cannot_form_a_path(tmp_path: Path) -> None:
    files = docker_to_oci(nested=False, compat_manifest=False)
    index = json.loads(files["index.json"])
    index["manifests"][0]["digest"] = "sha256:../../../etc/passwd"
    files["index.json"] = json.dumps(index).encode()
    fails(write_dir(files, tmp_path), r"invalid digest 'sha256:\.\./\.\./\.\./etc/passwd'")


def test_layout_blob_linked_outside_the_directory(tmp_path: Path) -> None:
    layout = write_dir(docker_to_oci(nested=False, compat_manifest=False), tmp_path / "layout")
    outside = tmp_path / "outside"
    outside.write_bytes(b"{}")
    config = next(p for p in (layout / "blobs" / "sha256").iterdir() if p.read_bytes() == IMAGE.config)
    config.unlink()
    os.symlink(outside, config)
    fails(layout, r"points outside the directory")


# --------------------------------------------------------------------------- bad metadata


def with_config(config: bytes) -> dict[str, bytes]:
    """The small image with another config, named ``config.json`` (no digest in its name to check)."""
    files = docker_files(
        **{CONFIG_NAME.replace(".", "_dot_"): None}, manifest_dot_json=manifest_with(Config="config.json")
    )
    files["config.json"] = config
    return files


def test_config_json_invalid(tmp_path: Path) -> None:
    fails(
        write_tar(with_config(b"{not json"), tmp_path / "x.tar"),
        "image config 'config.json' is not valid JSON",
    )


def test_config_without_diff_ids(tmp_path: Path) -> None:
    fails(write_tar(with_config(b"[1, 2]"), tmp_path / "x.tar"), "has no rootfs.diff_ids list")


def test_config_with_a_malformed_history(tmp_path: Path) -> None:
    config = json.loads(IMAGE.config)
    config["history"] = ["not an object"]
    files = with_config(json.dumps(config).encode())
    fails(write_tar(files, tmp_path / "x.tar"), "image config 'config.json' has a malformed history")


def test_config_that_is_not_its_name(tmp_path: Path) -> None:
    # Docker names the config after its digest, the image id.
    config = IMAGE.config.replace(b"GREETING=hi", b"GREETING=ho")
    files = docker_files(**{CONFIG_NAME.replace(".", "_dot_"): config})
    fails(write_tar(files, tmp_path / "x.tar"), rf"config '{CONFIG_NAME}' does not match its digest sha256:")


def test_config_is_read_whatever_its_name(tmp_path: Path) -> None:
    image = read_image(write_tar(with_config(IMAGE.config), tmp_path / "x.tar"))
    assert image == GOOD


def test_manifest_json_invalid(tmp_path: Path) -> None:
    fails(
        write_tar(docker_files(manifest_dot_json=b"[{"), tmp_path / "x.tar"),
        "manifest 'manifest.json' is not",
    )


def test_manifest_entry_without_config(tmp_path: Path) -> None:
    files = docker_files(manifest_dot_json=b'[{"Layers": []}]')
    fails(write_tar(files, tmp_path / "x.tar"), "not a valid image manifest .an entry has no Config")


def test_diff_ids_count_differs_from_layers(tmp_path: Path) -> None:
    layers = json.loads(docker_files()["manifest.json"])[0]["Layers"][:3]
    files = docker_files(manifest_dot_json=manifest_with(Layers=layers))
    fails(
        write_tar(files, tmp_path / "x.tar"),
        "the manifest lists 3 layers but the config .* has 4 rootfs.diff_ids",
    )


@pytest.mark.parametrize(
    "blob", [b"not a tar at all" * 40, b"\x1f\x8b\x08\x00garbage" * 10, b"\x28\xb5\x2f\xfdzz" * 9]
)
def test_layer_that_is_not_a_tar(tmp_path: Path, blob: bytes) -> None:
    archive = write_tar(docker_files(l0__layer_dot_tar=blob), tmp_path / "x.tar")
    fails(archive, r"layer 0 \('l0/layer.tar'\) is truncated or not a tar")
    with pytest.raises(ArchiveError, match=r"layer 0 \('l0/layer.tar'\) is truncated or not a tar"):
        list(iter_layer_members(archive))
