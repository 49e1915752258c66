"""analyzer.image.archive on the OCI format: Docker 25+ saves and OCI layout directories.

Docker 20.10 cannot write them, so each test converts the real Docker-format fixture (see
helpers.archives.docker_to_oci): the image read back must be exactly the one read from the
Docker-format save — same id, history, diff_ids, chain ids and sizes — whatever the layer compression.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.archives import (
    OCI_INDEX,
    OCI_MANIFEST,
    SMALL,
    TWO,
    blob_name,
    blob_name_of,
    descriptor,
    docker_to_oci,
    engine_record,
    oci_manifest,
    read_docker_save,
    write_dir,
    write_tar,
)

from analyzer.errors import ArchiveError
from analyzer.image.archive import iter_layer_members, read_image
from analyzer.model import Image

EXPECTED = read_image(SMALL)
ENGINE = engine_record()["images"]["lmtest-archive:small"]


def same_image(image: Image, tags: tuple[str, ...] = ("lmtest-archive:small",)) -> None:
    assert image.id == EXPECTED.id == ENGINE["id"]
    assert image.history == EXPECTED.history
    assert image.layers == EXPECTED.layers
    assert image.size == EXPECTED.size
    assert image.onbuild == EXPECTED.onbuild
    assert image.config == EXPECTED.config
    assert image.tags == tags


@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_oci_save_with_nested_index_and_mixed_layer_compression(tmp_path: Path, compress: str) -> None:
    # Layers gzip, zstd, plain, zstd in two frames; the save itself plain or compressed.
    archive = write_tar(docker_to_oci(), tmp_path / "oci.tar", compress=compress)
    same_image(read_image(archive, verify=True))


def test_oci_save_without_nesting(tmp_path: Path) -> None:
    archive = write_tar(docker_to_oci(nested=False), tmp_path / "oci.tar")
    same_image(read_image(archive, verify=True))


def test_oci_layout_directory_takes_names_from_annotations(tmp_path: Path) -> None:
    # No manifest.json: the name comes from io.containerd.image.name, shown the way `docker images` does.
    layout = write_dir(docker_to_oci(compat_manifest=False), tmp_path)
    same_image(read_image(layout, verify=True))


def test_oci_ref_name_alone_is_the_name(tmp_path: Path) -> None:
    files = docker_to_oci(nested=False, compat_manifest=False)
    index = json.loads(files["index.json"])
    index["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
    files["index.json"] = json.dumps(index).encode()
    same_image(read_image(write_dir(files, tmp_path)), tags=("v1",))


def test_media_type_is_not_trusted(tmp_path: Path) -> None:
    # Every layer labelled as a plain tar although they are gzip/zstd: the magic bytes decide.
    files = docker_to_oci(nested=False)
    manifest_name = blob_name_of(json.loads(files["index.json"])["manifests"][0])
    manifest = json.loads(files.pop(manifest_name))
    for layer in manifest["layers"]:
        layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
    data = json.dumps(manifest).encode()
    files[blob_name(data)] = data
    index = json.loads(files["index.json"])
    index["manifests"][0].update(digest=descriptor("", data)["digest"], size=len(data))
    files["index.json"] = json.dumps(index).encode()
    same_image(read_image(write_tar(files, tmp_path / "oci.tar"), verify=True))


def test_multi_platform_needs_a_ref(tmp_path: Path) -> None:
    archive = write_tar(docker_to_oci(platforms=("amd64", "arm64")), tmp_path / "multi.tar")
    with pytest.raises(ArchiveError) as err:
        read_image(archive)
    # Listed: the two saved platforms; not s390x (blobs not saved) nor the attestation.
    message = str(err.value)
    assert "holds 2 images" in message
    assert "linux/amd64" in message and "linux/arm64" in message
    assert "s390x" not in message and "unknown" not in message
    arm = read_image(archive, "linux/arm64")
    assert arm.config is not None and arm.config["architecture"] == "arm64"
    assert arm.layers == EXPECTED.layers and arm.id != EXPECTED.id
    same_image(read_image(archive, EXPECTED.id[:15]))


def test_iter_layer_members_of_an_oci_save(tmp_path: Path) -> None:
    archive = write_tar(docker_to_oci(), tmp_path / "oci.tar.gz", compress="gzip")
    found = [(index, info.name) for index, info in iter_layer_members(archive)]
    assert found == [(index, info.name) for index, info in iter_layer_members(SMALL)]
    assert [index for index, _ in found] == [0, 1, 1, 1, 1, 2, 3]


def test_config_that_does_not_match_its_digest(tmp_path: Path) -> None:
    files = docker_to_oci(nested=False)
    config_name = blob_name(read_config_bytes(files))
    files[config_name] = files[config_name].replace(b"GREETING=hi", b"GREETING=ho")
    with pytest.raises(ArchiveError, match=r"config 'blobs/sha256/[0-9a-f]{64}' does not match its digest"):
        read_image(write_dir(files, tmp_path))


def test_verify_catches_a_layer_that_is_not_its_diff_id(tmp_path: Path) -> None:
    # A config claiming another diff_id for layer 2, with the manifest and index updated to match.
    files = docker_to_oci(nested=False, compat_manifest=False)
    config = json.loads(read_config_bytes(files))
    config["rootfs"]["diff_ids"][2] = "sha256:" + "0" * 64
    rewire_config(files, json.dumps(config).encode())
    layout = write_dir(files, tmp_path)
    with pytest.raises(  # always checked: a tampered archive never gives a confident map
        ArchiveError, match=r"layer 2 \('blobs/sha256/[0-9a-f]+'\) has digest sha256:[0-9a-f]{64}"
    ):
        read_image(layout)


def read_config_bytes(files: dict[str, bytes]) -> bytes:
    manifest = json.loads(files[blob_name_of(json.loads(files["index.json"])["manifests"][0])])
    return files[blob_name_of(manifest["config"])]


def rewire_config(files: dict[str, bytes], config: bytes) -> None:
    """Replace the (non-nested) image's config, updating the manifest and index digests."""
    index = json.loads(files["index.json"])
    manifest = json.loads(files.pop(blob_name_of(index["manifests"][0])))
    files[blob_name(config)] = config
    manifest["config"].update(digest=descriptor("", config)["digest"], size=len(config))
    data = json.dumps(manifest).encode()
    files[blob_name(data)] = data
    index["manifests"][0].update(digest=descriptor("", data)["digest"], size=len(data))
    files["index.json"] = json.dumps(index).encode()


# --------------------------------------------------------------------------- Docker 25 quirks


def docker25_save(*, index_layers: bool = True, index_manifests: str = "all") -> dict[str, bytes]:
    """Both images of docker-two.tar the way Docker 25's graphdriver store saves them: uncompressed
    layer blobs named by diff_id, an OCI manifest per image, ``manifest.json`` with every image."""
    files: dict[str, bytes] = {}
    descriptors, compat = [], []
    for position in (0, 1):
        image = read_docker_save(TWO, position)
        kinds = ["none"] * len(image.layers)
        manifest = json.loads(oci_manifest(files, image.config, image.layers, kinds))
        if not index_layers:  # Docker 25.0.0 (moby#47065)
            manifest["layers"] = []
        data = json.dumps(manifest).encode()
        files[blob_name(data)] = data
        name = f"docker.io/library/{image.tags[0]}"
        annotations = {
            "io.containerd.image.name": name,
            "org.opencontainers.image.ref.name": name.split(":")[-1],
        }
        descriptors.append(descriptor(OCI_MANIFEST, data, annotations=annotations))
        layers = [blob_name(layer) for layer in image.layers]
        compat.append({"Config": blob_name(image.config), "RepoTags": list(image.tags), "Layers": layers})
    listed = {"all": descriptors, "first": descriptors[:1], "null": None}[index_manifests]
    files["index.json"] = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": listed}
    ).encode()
    files["manifest.json"] = json.dumps(compat).encode()
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    return files


def two_engine_images() -> dict[str, dict[str, Any]]:
    return {tag: engine_record()["images"][tag] for tag in ("lmtest-archive:small", "lmtest-archive:child")}


@pytest.mark.parametrize(
    "quirk",
    [
        {},
        {"index_layers": False},  # 25.0.0: OCI manifests without layers, manifest.json has them
        {"index_manifests": "first"},  # an image saved by id left out of index.json
        {"index_manifests": "null"},  # saved by digest: `"manifests": null`
    ],
)
def test_docker25_save_quirks(tmp_path: Path, quirk: dict[str, Any]) -> None:
    archive = write_tar(docker25_save(**quirk), tmp_path / "docker25.tar")
    with pytest.raises(ArchiveError, match="holds 2 images"):
        read_image(archive)
    for tag, expected in two_engine_images().items():
        image = read_image(archive, tag, verify=True)
        assert image.id == expected["id"]
        assert list(image.diff_ids) == expected["diff_ids"]
        assert [h.size for h in image.history] == [h["size"] for h in expected["history"]]
        assert image.tags[0] == tag
