"""Helpers for the archive tests (no tests here): the recorded fixtures, tiny tars, OCI conversion.

Docker 20.10, which recorded the fixtures, cannot write the OCI save format (Docker 25+) nor OCI layout
directories. :func:`docker_to_oci` converts the real Docker-format save instead, independently of
layermap (plain ``tarfile``/``json``): same config bytes and layer tars, written as OCI blobs (plain,
gzip, zstd, or zstd in several frames), an image manifest per platform, a nested image index, the
top-level ``index.json`` with containerd/OCI name annotations, Docker 25's compatibility
``manifest.json`` and ``oci-layout`` — the shape ``docker save`` of Docker 25+ writes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

ARCHIVES = Path(__file__).resolve().parents[1] / "fixtures" / "archives"
SMALL = ARCHIVES / "docker-small.tar"
TWO = ARCHIVES / "docker-two.tar"
LINKS_LAYER = ARCHIVES / "layer-links.tar"

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "zstd-frames": "application/vnd.oci.image.layer.v1.tar+zstd",
}


def engine_record() -> dict[str, Any]:
    """What the engine said about the fixture images (tests/fixtures/archives/engine.json)."""
    record: dict[str, Any] = json.loads((ARCHIVES / "engine.json").read_text())
    return record


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- tiny tars


@dataclass(frozen=True)
class Entry:
    """One member of a tar made in a test."""

    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""


def tar_bytes(entries: Iterable[Entry], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type = entry.type
            info.linkname = entry.linkname
            info.mode = 0o755 if entry.type == tarfile.DIRTYPE else 0o644
            info.size = len(entry.data) if entry.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(entry.data) if info.size else None)
    return buffer.getvalue()


def write_tar(files: Mapping[str, bytes], dest: Path, *, compress: str = "none") -> Path:
    """Write ``files`` (path → bytes, in that order) as a tar, maybe gzip/zstd-compressed as a whole."""
    data = tar_bytes(Entry(name, body) for name, body in files.items())
    dest.write_bytes(compressed(data, compress))
    return dest


def write_dir(files: Mapping[str, bytes], dest: Path) -> Path:
    for name, body in files.items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_bytes(body)
    return dest


def compressed(data: bytes, kind: str) -> bytes:
    if kind == "gzip":
        return gzip.compress(data, mtime=0)
    if kind == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    if kind == "zstd-frames":  # two concatenated frames, as parallel compressors write
        half = len(data) // 2
        return zstandard.ZstdCompressor().compress(data[:half]) + zstandard.ZstdCompressor().compress(
            data[half:]
        )
    assert kind == "none", kind
    return data


# --------------------------------------------------------------------------- reading the Docker fixture


@dataclass(frozen=True)
class DockerImage:
    """One image of a Docker-format save, read with plain tarfile."""

    config: bytes
    layers: tuple[bytes, ...]
    tags: tuple[str, ...]


def read_docker_save(path: Path, index: int = 0) -> DockerImage:
    with tarfile.open(path) as tar:
        manifest = json.load(_member(tar, "manifest.json"))[index]
        config = _member(tar, manifest["Config"]).read()
        layers = tuple(_member(tar, name).read() for name in manifest["Layers"])  # follows the symlinks
    return DockerImage(config, layers, tuple(manifest["RepoTags"]))


def _member(tar: tarfile.TarFile, name: str) -> io.BufferedReader:
    found = tar.extractfile(name)
    assert found is not None, name
    return found  # type: ignore[return-value]


# --------------------------------------------------------------------------- OCI conversion


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest(data), "size": len(data), **extra}


def blob_name(data: bytes) -> str:
    return "blobs/sha256/" + hashlib.sha256(data).hexdigest()


def oci_manifest(
    files: dict[str, bytes], config: bytes, layers: Sequence[bytes], kinds: Sequence[str]
) -> bytes:
    """Add the config and layer blobs (compressed per ``kinds``) to ``files``; return the manifest bytes."""
    files[blob_name(config)] = config
    layer_descriptors = []
    for layer, kind in zip(layers, kinds, strict=True):
        blob = compressed(layer, kind)
        files[blob_name(blob)] = blob
        layer_descriptors.append(descriptor(LAYER_TYPES[kind], blob))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config),
        "layers": layer_descriptors,
    }
    data = json.dumps(manifest).encode()
    files[blob_name(data)] = data
    return data


def with_platform(config: bytes, architecture: str) -> bytes:
    """The same config for another architecture (another config digest, same layers)."""
    parsed = json.loads(config)
    parsed["architecture"] = architecture
    return json.dumps(parsed).encode()


def docker_to_oci(
    source: Path = SMALL,
    kinds: Sequence[str] = ("gzip", "zstd", "none", "zstd-frames"),
    *,
    nested: bool = True,
    platforms: Sequence[str] = ("amd64",),
    name: str = "docker.io/library/lmtest-archive:small",
    compat_manifest: bool = True,
) -> dict[str, bytes]:
    """The OCI archive of ``source``'s first image: path → bytes, in the order a tar should hold them.

    A nested index lists one manifest per architecture in ``platforms`` (all present), a ``s390x`` one
    whose blobs are not included (what a containerd store saves of a platform it never pulled) and a
    BuildKit attestation manifest: a reader must skip both.
    """
    image = read_docker_save(source)
    files: dict[str, bytes] = {}
    manifests = []
    for arch in platforms:
        config = image.config if arch == "amd64" else with_platform(image.config, arch)
        data = oci_manifest(files, config, image.layers, kinds)
        manifests.append(descriptor(OCI_MANIFEST, data, platform={"os": "linux", "architecture": arch}))
    annotations = {
        "io.containerd.image.name": name,
        "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1],
    }
    if nested:
        manifests += _unavailable_and_attestation(files, manifests[0]["digest"])
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}).encode()
        files[blob_name(index)] = index
        top = [descriptor(OCI_INDEX, index, annotations=annotations)]
    else:
        top = [dict(manifest, annotations=annotations) for manifest in manifests]
    files["index.json"] = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": top}).encode()
    if compat_manifest:
        first = json.loads(files[blob_name_of(manifests[0])])
        compat = {
            "Config": blob_name_of(first["config"]),
            "RepoTags": list(image.tags),
            "Layers": [blob_name_of(layer) for layer in first["layers"]],
        }
        files["manifest.json"] = json.dumps([compat]).encode()
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    return files


def blob_name_of(desc: Mapping[str, Any]) -> str:
    return "blobs/sha256/" + str(desc["digest"]).removeprefix("sha256:")


def _unavailable_and_attestation(files: dict[str, bytes], subject: str) -> list[dict[str, Any]]:
    missing = descriptor(OCI_MANIFEST, b"never saved", platform={"os": "linux", "architecture": "s390x"})
    attestation_config = b'{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers","diff_ids":[]}}'
    files[blob_name(attestation_config)] = attestation_config
    statement = b'{"_type":"https://in-toto.io/Statement/v0.1"}'
    files[blob_name(statement)] = statement
    attestation = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, attestation_config),
            "layers": [descriptor("application/vnd.in-toto+json", statement)],
        }
    ).encode()
    files[blob_name(attestation)] = attestation
    return [
        missing,
        descriptor(
            OCI_MANIFEST,
            attestation,
            platform={"os": "unknown", "architecture": "unknown"},
            annotations={
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": subject,
            },
        ),
    ]
