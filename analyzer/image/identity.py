"""Which digests name an image: its configuration, its manifest, the index the manifest was chosen from.

``image.id`` is what each source itself calls the image; the three digests say what it is:

- engine, overlay2 store: the id is the config digest; no manifest is stored (a pulled image's
  ``RepoDigests`` name the digest it was pulled by, which may be an index: not reported as either);
- engine, containerd store: the id is the image's target in containerd — the manifest digest, or the
  index digest for an image with several manifests (other platforms, attestations). The manifest and the
  config digest are read from containerd's content store when the engine is on this machine
  (:func:`from_content_store`, every blob checked against its digest); from a remote engine only the id's
  kind is known, when the engine says it (``Descriptor`` in the inspect answer, API 1.46+);
- ``docker save`` archive, Docker format: the id is the config digest; no manifest is stored;
- OCI archive or layout (and Docker 25+ saves): the id is the config digest; the manifest digest is the
  descriptor's, the index digest that of the nested index it was listed in (``index.json`` itself has
  no digest);
- registry (``docker://``): the id is the config digest; manifest and index digests as the registry
  served them (each checked).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INDEX_TYPES = frozenset(
    {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
)
MANIFEST_TYPES = frozenset(
    {"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"}
)
_REFERENCE_TYPE = "vnd.docker.reference.type"  # attestation manifests in an index
_MAX_BLOB = 4 << 20


@dataclass(frozen=True)
class Identity:
    config_digest: str | None = None
    manifest_digest: str | None = None
    index_digest: str | None = None


def of_engine(inspect: Mapping[str, Any], storage: str | None, content_store: Path | None = None) -> Identity:
    """The digests of an engine image (``inspect``: the inspect answer; ``content_store``: containerd's
    ``blobs/sha256`` folder when it is on this machine)."""
    image_id = str(inspect.get("Id") or "")
    if storage != "containerd":
        return Identity(config_digest=image_id or None)
    if content_store is not None:
        found = from_content_store(content_store, image_id, _platform(inspect))
        if found is not None:
            return found
    media = (inspect.get("Descriptor") or {}).get("mediaType")
    if media in INDEX_TYPES:
        return Identity(index_digest=image_id)
    if media in MANIFEST_TYPES:
        return Identity(manifest_digest=image_id)
    return Identity()


def from_content_store(blobs: Path, target: str, platform: tuple[str, str, str] | None) -> Identity | None:
    """Follow ``target`` (a manifest or an index) to the config in a content store; None when a blob is
    missing, unreadable or does not hash to its name."""
    document = _blob(blobs, target)
    if document is None:
        return None
    index = None
    if document.get("mediaType") in INDEX_TYPES or "manifests" in document:
        index = target
        chosen = choose_manifest(document, platform)
        document = _blob(blobs, chosen) if chosen else None
        if document is None or chosen is None:
            return None
        target = chosen
    config = document.get("config")
    digest = config.get("digest") if isinstance(config, dict) else None
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        return None
    return Identity(config_digest=digest, manifest_digest=target, index_digest=index)


def choose_manifest(index: Mapping[str, Any], platform: tuple[str, str, str] | None) -> str | None:
    """The digest of the index's image manifest for ``platform`` (os, architecture, variant), skipping
    attestations; the only image manifest when the platform is unknown."""
    images = []
    for entry in index.get("manifests") or ():
        if not isinstance(entry, dict) or _REFERENCE_TYPE in (entry.get("annotations") or {}):
            continue
        p = entry.get("platform") or {}
        images.append(
            (str(entry.get("digest")), (p.get("os"), p.get("architecture"), p.get("variant") or ""))
        )
    if platform is not None:
        exact = [d for d, p in images if p == platform]
        loose = [d for d, p in images if p[:2] == platform[:2]]
        if exact or loose:
            return (exact or loose)[0]
    return images[0][0] if len(images) == 1 else None


def _platform(inspect: Mapping[str, Any]) -> tuple[str, str, str] | None:
    os_, arch = inspect.get("Os"), inspect.get("Architecture")
    if not os_ or not arch:
        return None
    return str(os_), str(arch), str(inspect.get("Variant") or "")


def _blob(blobs: Path, digest: str) -> dict[str, Any] | None:
    if not digest.startswith("sha256:") or len(digest) != 71:
        return None
    hexpart = digest.removeprefix("sha256:")
    if not all(c in "0123456789abcdef" for c in hexpart):
        return None
    try:
        with (blobs / hexpart).open("rb") as handle:
            data = handle.read(_MAX_BLOB + 1)
    except OSError:
        return None
    if len(data) > _MAX_BLOB or hashlib.sha256(data).hexdigest() != hexpart:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


__all__ = ["Identity", "choose_manifest", "from_content_store", "of_engine"]
