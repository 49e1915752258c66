"""Image identity: config, manifest and index digests beside ``image.id``, per source.

Archives: the real ``docker save`` (Docker format) and OCI archives and layouts made from it
(helpers.archives.docker_to_oci: nested index with two platforms, an absent platform, an attestation).
Engines: recorded inspect answers, and a containerd content store laid out on disk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers import golden
from helpers.archives import (
    SMALL,
    docker_to_oci,
    engine_record,
    write_dir,
    write_tar,
)

from analyzer.image import identity
from analyzer.image.archive import read_image
from analyzer.image.identity import Identity
from analyzer.render.common import summary_lines
from analyzer.render.report.json import _image

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def small_id() -> str:
    return str(engine_record()["images"]["lmtest-archive:small"]["id"])


def test_docker_format_archive_id_is_the_config_digest_and_has_no_manifest() -> None:
    image = read_image(SMALL)
    assert image.id == image.config_digest == small_id()
    assert image.manifest_digest is None and image.index_digest is None
    shown = _image(image)
    assert shown is not None
    assert (shown["config_digest"], shown["manifest_digest"], shown["index_digest"]) == (
        small_id(),
        None,
        None,
    )


def _top_and_manifests(files: dict[str, bytes]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    top = json.loads(files["index.json"])["manifests"][0]
    if top["mediaType"] != OCI_INDEX:
        return top, [top]
    index = json.loads(files["blobs/sha256/" + top["digest"].removeprefix("sha256:")])
    return top, index["manifests"]


@pytest.mark.parametrize("layout", [False, True], ids=["oci-archive", "oci-layout"])
def test_oci_nested_index_gives_manifest_and_index_digests(tmp_path: Path, layout: bool) -> None:
    files = docker_to_oci(platforms=("amd64", "arm64"))
    top, manifests = _top_and_manifests(files)
    path = write_dir(files, tmp_path / "dir") if layout else write_tar(files, tmp_path / "oci.tar")
    for arch, entry in zip(("amd64", "arm64"), manifests, strict=False):
        image = read_image(path, f"linux/{arch}")
        manifest = json.loads(files["blobs/sha256/" + entry["digest"].removeprefix("sha256:")])
        assert image.config_digest == image.id == manifest["config"]["digest"]
        assert (
            image.manifest_digest
            == entry["digest"]
            == sha(files["blobs/sha256/" + entry["digest"].removeprefix("sha256:")])
        )
        assert image.index_digest == top["digest"]
    assert read_image(path, "linux/amd64").id == small_id()  # same config as the Docker-format save


def test_oci_without_nested_index_has_no_index_digest(tmp_path: Path) -> None:
    files = docker_to_oci(nested=False)
    top, _ = _top_and_manifests(files)
    image = read_image(write_tar(files, tmp_path / "oci.tar"))
    assert image.manifest_digest == top["digest"]
    assert image.index_digest is None
    assert image.config_digest == image.id == small_id()


# --------------------------------------------------------------------------- engines


def test_overlay2_engine_id_is_the_config_digest() -> None:
    inspect = {"Id": small_id(), "Os": "linux", "Architecture": "amd64"}
    assert identity.of_engine(inspect, "overlay2") == Identity(config_digest=small_id())


def _store(tmp_path: Path, files: dict[str, bytes]) -> Path:
    blobs = tmp_path / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            (blobs / name.removeprefix("blobs/sha256/")).write_bytes(data)
    return blobs


def test_containerd_store_index_target_is_followed_to_the_platform_manifest_and_config(
    tmp_path: Path,
) -> None:
    files = docker_to_oci(platforms=("amd64", "arm64"))
    top, manifests = _top_and_manifests(files)
    blobs = _store(tmp_path, files)
    for arch, entry in zip(("amd64", "arm64"), manifests, strict=False):
        inspect = {"Id": top["digest"], "Os": "linux", "Architecture": arch}
        manifest = json.loads(files["blobs/sha256/" + entry["digest"].removeprefix("sha256:")])
        assert identity.of_engine(inspect, "containerd", blobs) == Identity(
            config_digest=manifest["config"]["digest"],
            manifest_digest=entry["digest"],
            index_digest=top["digest"],
        )


def test_containerd_store_manifest_target(tmp_path: Path) -> None:
    files = docker_to_oci(nested=False)
    top, _ = _top_and_manifests(files)
    inspect = {"Id": top["digest"], "Os": "linux", "Architecture": "amd64"}
    found = identity.of_engine(inspect, "containerd", _store(tmp_path, files))
    assert found == Identity(config_digest=small_id(), manifest_digest=top["digest"])


def test_containerd_store_blob_that_does_not_hash_to_its_name_is_not_trusted(tmp_path: Path) -> None:
    files = docker_to_oci(nested=False)
    top, _ = _top_and_manifests(files)
    blobs = _store(tmp_path, files)
    path = blobs / top["digest"].removeprefix("sha256:")
    path.write_bytes(path.read_bytes().replace(b'"schemaVersion"', b'"schemaversion"'))
    inspect = {"Id": top["digest"], "Os": "linux", "Architecture": "amd64"}
    assert identity.from_content_store(blobs, top["digest"], ("linux", "amd64", "")) is None
    # Unreadable store, no Descriptor (API < 1.46): nothing is claimed.
    assert identity.of_engine(inspect, "containerd", blobs) == Identity()


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        (OCI_INDEX, Identity(index_digest="sha256:" + "a" * 64)),
        (OCI_MANIFEST, Identity(manifest_digest="sha256:" + "a" * 64)),
    ],
)
def test_remote_containerd_engine_says_what_its_id_is(media: str, expected: Identity) -> None:
    inspect = {"Id": "sha256:" + "a" * 64, "Descriptor": {"mediaType": media, "digest": "sha256:" + "a" * 64}}
    assert identity.of_engine(inspect, "containerd", None) == expected


def test_choose_manifest_skips_attestations_and_needs_a_platform_when_several() -> None:
    att = {"digest": "sha256:att", "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}
    one = {"digest": "sha256:one", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}}
    two = {"digest": "sha256:two", "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}}
    assert identity.choose_manifest({"manifests": [att, one]}, None) == "sha256:one"
    assert identity.choose_manifest({"manifests": [att, one, two]}, None) is None
    assert identity.choose_manifest({"manifests": [one, two]}, ("linux", "arm", "v6")) == "sha256:two"
    assert identity.choose_manifest({"manifests": [one, two]}, ("linux", "arm", "")) == "sha256:one"


def test_summary_names_the_config_digest_when_the_id_is_not_it() -> None:
    report = golden.load("basics")
    image = report.image
    assert image is not None
    same = replace(report, image=replace(image, config_digest=image.id))
    assert "[config" not in summary_lines(same)[0]
    by_manifest = replace(report, image=replace(image, id="sha256:" + "b" * 64, config_digest=image.id))
    assert summary_lines(by_manifest)[0].startswith(
        f"Final image sha256:bbbbbbbbbbbb [config {image.id[:19]}]"
    )
