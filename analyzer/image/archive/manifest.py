"""Which images an archive holds, and where each one's config and layers are.

Two layouts exist. The Docker format (``docker save`` up to 24) lists images in ``manifest.json``:
``Config`` and ``Layers`` are member paths, ``RepoTags`` the names. The OCI format (``docker save`` 25+,
OCI layout directories) starts at ``index.json``, whose descriptors lead through nested indexes (a
multi-platform image) to image manifests, each naming its config and layer blobs by digest under
``blobs/<algorithm>/<hex>``. Docker 25+ also writes ``manifest.json`` for old readers: there the OCI
index wins (it knows platforms), and ``manifest.json`` only adds the ``RepoTags``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from analyzer.errors import ArchiveError
from analyzer.image.archive.blobs import Source, check_member_path
from analyzer.limits import InputLimitError
from analyzer.limits import load_json as load_bounded_json

INDEX_TYPES = frozenset(
    {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
)
CONTAINERD_NAME = "io.containerd.image.name"
OCI_REF_NAME = "org.opencontainers.image.ref.name"
# BuildKit stores provenance/SBOM attestations as extra manifests of platform unknown/unknown.
_REFERENCE_TYPE = "vnd.docker.reference.type"
_DIGEST = re.compile(r"^(?P<algorithm>[a-z0-9]+(?:[+._-][a-z0-9]+)*):(?P<hex>[a-zA-Z0-9=_-]+)$")
# The config's name carries its digest: `<hex>.json` (Docker 20.10), `blobs/sha256/<hex>` (Docker 25+),
# `sha256:<hex>` (go-containerregistry's tarball format, `crane pull`).
_HEX_ID = re.compile(r"(?:^|/|sha256:)(?P<hex>[0-9a-f]{64})(?:\.json)?$")
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Candidate:
    """One image an archive holds."""

    config: str
    """Archive path of the config blob."""
    layers: tuple[str, ...]
    """Archive paths of the layer blobs, bottom first (duplicates repeat, links not yet followed)."""
    id: str | None = None
    """``sha256:…`` the config should hash to (OCI descriptor digest, or the hex a Docker name carries)."""
    tags: tuple[str, ...] = ()
    platform: str | None = None
    keys: frozenset[str] = field(default_factory=frozenset)
    """Everything a ``ref`` may name this image by: tags, names, platform, digests."""
    manifest_digest: str | None = None
    """The OCI manifest's descriptor digest (None in the Docker format, which keeps no manifest)."""
    index_digest: str | None = None
    """The digest of the nested index the manifest was listed in (``index.json`` itself has none)."""

    def describe(self) -> str:
        name = self.tags[0] if self.tags else "<untagged>"
        extra = [part for part in (self.platform, self.id and self.id[:19]) if part]
        return f"{name} ({', '.join(extra)})" if extra else name

    def matches(self, ref: str) -> bool:
        if ref in self.keys or familiar(ref) in self.keys or _with_tag(familiar(ref)) in self.keys:
            return True
        # An id or digest prefix, like `docker image inspect` accepts.
        hexpart = ref.removeprefix("sha256:")
        return len(hexpart) >= 6 and any(key.startswith(f"sha256:{hexpart}") for key in self.keys)


def familiar(name: str) -> str:
    """``docker.io/library/busybox:latest`` → ``busybox:latest``, as ``docker images`` shows names."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _with_tag(name: str) -> str:
    """``busybox`` → ``busybox:latest``: Docker's default tag (a ``:`` before the last ``/`` is a port)."""
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last or "@" in last else f"{name}:latest"


def load_json(source: Source, name: str, what: str) -> Any:
    """Parse the metadata blob ``name``; ArchiveError naming the archive and ``what`` it should be."""
    try:
        return load_bounded_json(source.read_small(name))
    except (InputLimitError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
        raise ArchiveError(f"{source.label}: {what} {name!r} is not valid JSON ({exc})") from None


def blob_path(label: str, digest: object) -> str:
    """``blobs/<algorithm>/<hex>`` for an OCI digest; refuses digests that could form another path."""
    match = _DIGEST.match(digest) if isinstance(digest, str) else None
    if match is None:
        raise ArchiveError(f"{label}: invalid digest {digest!r} in the image index or manifest")
    return check_member_path(label, f"blobs/{match['algorithm']}/{match['hex']}")


def _bad(source: Source, name: str, why: str) -> ArchiveError:
    return ArchiveError(f"{source.label}: {name} is not a valid image manifest ({why})")


def _str_list(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


# --------------------------------------------------------------------------- Docker format


def docker_candidates(source: Source, name: str = "manifest.json") -> list[Candidate]:
    """The images ``manifest.json`` lists."""
    entries = load_json(source, name, "manifest")
    if not isinstance(entries, list) or not entries:
        raise _bad(source, name, "expected a non-empty list")
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise _bad(source, name, "an entry has no Config")
        layers = _str_list(entry.get("Layers"))
        tags = _str_list(entry.get("RepoTags") or [])
        if layers is None or tags is None:
            raise _bad(source, name, "Layers and RepoTags must be lists of strings")
        config = check_member_path(source.label, entry["Config"])
        match = _HEX_ID.search(config)
        image_id = f"sha256:{match['hex']}" if match else None
        keys = {*tags, *(familiar(tag) for tag in tags), *([image_id] if image_id else [])}
        found.append(Candidate(config, tuple(layers), image_id, tuple(tags), None, frozenset(keys)))
    return found


# --------------------------------------------------------------------------- OCI format


def oci_candidates(source: Source) -> list[Candidate]:
    """The image manifests reachable from ``index.json`` whose manifest and config are in the archive."""
    index = load_json(source, "index.json", "image index")
    # Docker 25.0 wrote `"manifests": null` when saving by digest (moby#47210): no images, not an error.
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list | None):
        raise _bad(source, "index.json", "'manifests' is not a list")
    found: list[Candidate] = []
    for descriptor in manifests or ():
        names = _descriptor_names(descriptor)
        found.extend(
            replace(candidate, tags=names, keys=candidate.keys | set(names))
            for candidate in _walk(source, descriptor, 0, None)
        )
    return found


def _descriptor_names(descriptor: object) -> tuple[str, ...]:
    annotations = descriptor.get("annotations") if isinstance(descriptor, dict) else None
    if not isinstance(annotations, dict):
        return ()
    full = annotations.get(CONTAINERD_NAME)
    ref = annotations.get(OCI_REF_NAME)
    names = [familiar(full)] if isinstance(full, str) and full else []
    # ref.name is often only the tag ("latest") next to the containerd name; alone, it is the name.
    if isinstance(ref, str) and ref and (not names or ":" in ref or "/" in ref):
        names.append(familiar(ref))
    return tuple(dict.fromkeys(names))


def _walk(source: Source, descriptor: object, depth: int, index: str | None) -> Iterator[Candidate]:
    """The manifests under ``descriptor``; ``index`` is the digest of the index that lists it, if any."""
    if not isinstance(descriptor, dict) or depth > _MAX_DEPTH:
        raise _bad(source, "index.json", "bad descriptor or index nesting too deep")
    annotations = descriptor.get("annotations")
    if isinstance(annotations, dict) and _REFERENCE_TYPE in annotations:
        return  # an attestation, not an image
    name = blob_path(source.label, descriptor.get("digest"))
    if source.resolve(name) is None:
        return  # a platform the saving engine did not have: its manifest is listed but not included
    _check_digest(source, name, descriptor.get("digest"))
    document = load_json(source, name, "manifest")
    if not isinstance(document, dict):
        raise _bad(source, name, "not an object")
    if descriptor.get("mediaType") in INDEX_TYPES or "manifests" in document:
        children = document.get("manifests")
        if not isinstance(children, list):
            raise _bad(source, name, "no 'manifests' list")
        for child in children:
            yield from _walk(source, child, depth + 1, _digest_of(descriptor))
        return
    candidate = replace(
        _manifest_candidate(source, name, document, descriptor),
        manifest_digest=_digest_of(descriptor),
        index_digest=index,
    )
    if source.resolve(candidate.config) is not None:
        yield candidate


def _digest_of(descriptor: Mapping[str, Any]) -> str | None:
    digest = descriptor.get("digest")
    return digest if isinstance(digest, str) and digest.startswith("sha256:") else None


def _check_digest(source: Source, name: str, digest: object) -> None:
    """A blob named by a sha256 digest must hash to it: a tampered manifest or index is refused."""
    if isinstance(digest, str) and digest.startswith("sha256:"):
        found = "sha256:" + hashlib.sha256(source.read_small(source.must_resolve(name, "blob"))).hexdigest()
        if found != digest:
            raise ArchiveError(f"{source.label}: {name} does not match its digest (its sha256 is {found})")


def _manifest_candidate(
    source: Source, name: str, manifest: Mapping[str, Any], descriptor: Mapping[str, Any]
) -> Candidate:
    config = manifest.get("config")
    layers = manifest.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise _bad(source, name, "no config or layers")
    config_digest = config.get("digest")
    layer_paths = tuple(
        blob_path(source.label, layer.get("digest") if isinstance(layer, dict) else None) for layer in layers
    )
    platform = _platform(descriptor.get("platform"))
    keys = {str(config_digest), str(descriptor.get("digest")), *([platform] if platform else [])}
    return Candidate(
        config=blob_path(source.label, config_digest),
        layers=layer_paths,
        id=str(config_digest),
        platform=platform,
        keys=frozenset(keys),
    )


def _platform(value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    parts = [value.get("os"), value.get("architecture"), value.get("variant")]
    return "/".join(str(part) for part in parts if part) or None


# --------------------------------------------------------------------------- choosing


def find_candidates(source: Source) -> list[Candidate]:
    """Every image in the archive, from ``index.json`` and ``manifest.json`` together."""
    has_index = source.resolve("index.json") is not None
    has_manifest = source.resolve("manifest.json") is not None
    if not has_index and not has_manifest:
        raise ArchiveError(
            f"{source.label}: no manifest.json or index.json: not a docker save archive or an OCI layout"
        )
    oci = oci_candidates(source) if has_index else []
    found = _combined(oci, docker_candidates(source) if has_manifest else [])
    if not found:
        raise ArchiveError(f"{source.label}: the index lists no image whose manifest and config are included")
    return _merged(found)


def _combined(oci: Sequence[Candidate], docker: Sequence[Candidate]) -> list[Candidate]:
    """OCI candidates with what Docker 25+'s ``manifest.json`` adds, matched by config blob.

    ``manifest.json`` gives the RepoTags; its Layers stand in for an OCI manifest without layers (Docker
    25.0.0, moby#47065); and images it alone lists are kept (Docker 25 left images saved by id or digest
    out of ``index.json``: moby#47210, moby#51389).
    """
    by_config = {entry.config: entry for entry in docker}
    out = []
    for candidate in oci:
        entry = by_config.get(candidate.config)
        if entry is not None:
            tags = tuple(dict.fromkeys([*entry.tags, *candidate.tags]))
            layers = candidate.layers or entry.layers
            candidate = replace(candidate, tags=tags, layers=layers, keys=candidate.keys | entry.keys)
        out.append(candidate)
    seen = {candidate.config for candidate in oci}
    return out + [entry for entry in docker if entry.config not in seen]


def _merged(candidates: Sequence[Candidate]) -> list[Candidate]:
    """One candidate per image: several names for the same manifest are one choice, not an ambiguity."""
    merged: dict[tuple[str, tuple[str, ...], str | None], Candidate] = {}
    for candidate in candidates:
        key = (candidate.config, candidate.layers, candidate.platform)
        if key in merged:
            first = merged[key]
            tags = tuple(dict.fromkeys([*first.tags, *candidate.tags]))
            candidate = replace(first, tags=tags, keys=first.keys | candidate.keys)
        merged[key] = candidate
    return list(merged.values())


def platform_matches(candidate: Candidate, platform: str) -> bool:
    """``linux/arm64`` matches ``linux/arm64`` and ``linux/arm64/v8``; ``linux/arm/v7`` only itself."""
    have = (candidate.platform or "").split("/")
    want = platform.lower().split("/")
    return have[: len(want)] == want


def choose(
    candidates: Sequence[Candidate], ref: str | None, label: str, platform: str | None = None
) -> Candidate:
    """The image ``ref`` names (tag, name, platform, id or digest prefix) on ``platform``, or the only
    one if neither is given."""
    if platform is not None:
        on = [c for c in candidates if platform_matches(c, platform)]
        if not on:
            offered = ", ".join(sorted({c.platform or "unknown" for c in candidates}))
            raise ArchiveError(f"{label}: no image for platform {platform} (the archive holds: {offered})")
        candidates = on
    found = list(candidates) if ref is None else [c for c in candidates if c.matches(ref)]
    if len(found) == 1:
        return found[0]
    choices = "; ".join(c.describe() for c in (found or candidates))
    if ref is None:
        raise ArchiveError(
            f"{label}: the archive holds {len(found)} images; pick one with ARCHIVE:REF, --image REF or "
            f"--platform OS/ARCH: {choices}"
        )
    if not found:
        raise ArchiveError(f"{label}: no image in the archive matches {ref!r}; it holds: {choices}")
    raise ArchiveError(
        f"{label}: {ref!r} matches {len(found)} images; pick one with --platform OS/ARCH or an id: {choices}"
    )
