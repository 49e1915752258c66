"""An image read straight from a registry (``docker://REGISTRY/REPO:TAG|@DIGEST``): no engine, no pull.

Three small requests give the map: the tag's index (a multi-platform image) → the platform's manifest
(the layer blobs: digest, compressed size, media type) → the config (history with ``empty_layer``,
``rootfs.diff_ids``). Every document is checked against its digest. The manifest's layers and the
config's diff_ids are the same layers in the same order: blob *i* unpacks to the tar whose sha256 is
``diff_ids[i]``.

What the metadata cannot give is the unpacked size ``docker history`` shows: that needs the layer's
files. Without ``--contents`` layer sizes are unknown (``null``, history sizes 0, a warning says so);
with it each blob is streamed once (gzip or zstd, never written to disk) through the contents reader,
its compressed bytes checked against the blob digest and its tar against the diff_id, and the sizes are
filled in from the files.
"""

from __future__ import annotations

import json
import os
import platform as platform_mod
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from analyzer.image.config import chain_ids
from analyzer.image.distribution.client import Options, RegistryClient, RegistryError
from analyzer.image.distribution.reference import Reference, parse
from analyzer.model import HistoryEntry, Image, Layer, Report

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ACCEPT = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
SIZES_UNKNOWN = (
    "layer sizes unknown: a registry's metadata has only the compressed sizes (layers[].compressed_size); "
    "--contents reads the layers and gives the unpacked sizes"
)
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm/v7"}


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    media_type: str


@dataclass(frozen=True)
class RemoteManifest:
    """What the registry said about one image, every document verified."""

    ref: Reference
    platform: str
    manifest_digest: str
    index_digest: str | None
    config_digest: str
    layers: tuple[Blob, ...]
    config: Mapping[str, Any]


@dataclass(frozen=True)
class RegistryImage:
    """An image in a registry (the :class:`~analyzer.image.source.ImageSource` of ``docker://``)."""

    image: Image
    remote: RemoteManifest
    options: Options
    client: RegistryClient | None = field(default=None, compare=False, repr=False)
    """The client that read it (its connections closed; its scheme and token kept for the blobs)."""

    @property
    def engine(self) -> None:
        return None

    @property
    def notes(self) -> tuple[str, ...]:
        return (SIZES_UNKNOWN,) if any(layer.size is None for layer in self.image.layers) else ()

    def with_contents(self, report: Report, top_n: int) -> Report:
        from analyzer.image.distribution.contents import registry_contents

        return registry_contents(self, report, top_n)


def open_registry(arg: str, options: Options | None = None) -> RegistryImage:
    """Read ``arg`` (``docker://…`` or ``REGISTRY/REPO:TAG``) from its registry."""
    ref = parse(arg)
    options = options or Options()
    client = RegistryClient(ref, options)
    try:
        remote = read_manifest(client, options.platform or default_platform)
    finally:
        client.close()
    return RegistryImage(image_of(remote), remote, options, client)


def read_manifest(client: RegistryClient, platform: str | Callable[[], str]) -> RemoteManifest:
    """Index → the platform's manifest → config, each verified. ``platform`` may be a function: it is
    called only when the reference names an index (asking the engine costs a round trip)."""
    ref = client.ref
    body, media, digest = client.manifest(ref.selector, ACCEPT)
    document = _json(body, f"manifest {ref}")
    index_digest = None
    if media in (OCI_INDEX, DOCKER_LIST) or "manifests" in document:
        index_digest = digest
        platform = platform if isinstance(platform, str) else platform()
        chosen = choose_platform(document, platform, str(ref))
        body, media, digest = client.manifest(chosen, ACCEPT)
        document = _json(body, f"manifest {chosen}")
    config_desc = document.get("config")
    layers = document.get("layers")
    if not isinstance(config_desc, dict) or not isinstance(layers, list):
        raise RegistryError(f"{ref}: manifest {digest} ({media or 'no media type'}) is not an image manifest")
    config_digest = str(config_desc.get("digest"))
    config = _json(client.blob(config_digest, "image config"), f"config {config_digest}")
    blobs = tuple(Blob(str(la["digest"]), int(la["size"]), str(la.get("mediaType", ""))) for la in layers)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids")
    if not isinstance(diff_ids, list) or len(diff_ids) != len(blobs):
        raise RegistryError(
            f"{ref}: the manifest {digest} lists {len(blobs)} layers, the config {config_digest} "
            f"{len(diff_ids) if isinstance(diff_ids, list) else 'no'} rootfs.diff_ids"
        )
    return RemoteManifest(
        ref, _platform_of(config, platform), digest, index_digest, config_digest, blobs, config
    )


def choose_platform(index: Mapping[str, Any], platform: str, label: str) -> str:
    """The digest of the index entry for ``platform`` (``os/arch[/variant]``), as Docker picks it."""
    want = platform.split("/")
    offered = []
    for entry in index.get("manifests") or []:
        p = entry.get("platform") or {}
        name = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
        offered.append(name)
        if [p.get("os"), p.get("architecture")] == want[:2] and (
            len(want) < 3 or p.get("variant") == want[2]
        ):
            return str(entry["digest"])
    listed = ", ".join(o for o in offered if o and "unknown" not in o) or "none"
    raise RegistryError(f"{label}: no manifest for platform {platform} (the index offers: {listed})")


def default_platform() -> str:
    """The local engine's platform when its socket answers at once, else this machine's ``linux/<arch>``."""
    found = _engine_platform()
    if found:
        return found
    machine = platform_mod.machine().lower()
    return f"linux/{_ARCH.get(machine, machine)}"


def _engine_platform() -> str | None:
    """``GET /version`` on the engine's unix socket (no docker SDK: the registry path must not need it)."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if not host.startswith("unix://"):
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(host[len("unix://") :])
            sock.sendall(b"GET /version HTTP/1.0\r\nHost: docker\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        version = json.loads(data.split(b"\r\n\r\n", 1)[1])
        return f"{version['Os']}/{version['Arch']}"
    except (OSError, ValueError, KeyError, IndexError):
        return None


def image_of(remote: RemoteManifest, sizes: Sequence[int] | None = None) -> Image:
    """The shared Image; ``sizes`` (unpacked, per layer) when the layers were read, else unknown."""
    config = remote.config
    diff_ids = [str(d) for d in config["rootfs"]["diff_ids"]]
    remaining = iter(sizes or ())
    history = []
    for index, entry in enumerate(config.get("history") or []):
        empty = bool(entry.get("empty_layer", False))
        size = 0 if empty else next(remaining, 0)
        created_by = str(entry.get("created_by", ""))
        comment = str(entry.get("comment", ""))
        history.append(HistoryEntry(index, created_by, empty, size, entry.get("created"), comment))
    layers = tuple(
        Layer(i, d, c, sizes[i] if sizes else None, blob.size, blob.digest)
        for i, (d, c, blob) in enumerate(zip(diff_ids, chain_ids(diff_ids), remote.layers, strict=True))
    )
    return Image(
        id=remote.config_digest,
        tags=(str(remote.ref),),
        size=sum(sizes or ()),
        history=tuple(history),
        layers=layers,
        onbuild=tuple((config.get("config") or {}).get("OnBuild") or ()),
        config=config,
        config_digest=remote.config_digest,
        manifest_digest=remote.manifest_digest,
        index_digest=remote.index_digest,
    )


def _platform_of(config: Mapping[str, Any], asked: str | Callable[[], str]) -> str:
    parts = [config.get("os"), config.get("architecture"), config.get("variant")]
    return "/".join(str(p) for p in parts if p) or (asked if isinstance(asked, str) else asked())


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise RegistryError(f"{what} is not JSON") from None
    if not isinstance(data, dict):
        raise RegistryError(f"{what} is not a JSON object")
    return cast(dict[str, Any], data)
