"""Helpers for the contents tests (no tests here): layer tars, ``docker save`` streams, tar-split data.

Layers are described as lists of tuples, in tar order:

- ``("d", "etc")`` directory, ``("f", "etc/x", b"data")`` or ``("f", path, data, mtime)`` file,
- ``("l", "bin/sh", "busybox")`` symlink, ``("h", "b", "a")`` hard link to ``a``,
- ``("w", "etc/x")`` whiteout of ``etc/x``, ``("o", "etc")`` opaque marker in ``etc``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analyzer.contents.listing import LayerListing, build_listing
from analyzer.contents.tarstream import ChunkFeed, TarReader

MTIME = 1_700_000_000

Spec = Sequence[tuple[Any, ...]]


def layer_tar(spec: Spec, fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A layer tar as Docker writes them (Go's archive/tar: PAX when needed)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for item in spec:
            kind, name = item[0], item[1]
            info = tarfile.TarInfo(name)
            info.mtime = item[3] if kind == "f" and len(item) > 3 else MTIME
            data = b""
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "f":
                data = item[2]
                info.size, info.mode = len(data), 0o644
            elif kind == "l":
                info.type, info.linkname = tarfile.SYMTYPE, item[2]
            elif kind == "h":
                info.type, info.linkname = tarfile.LNKTYPE, item[2]
            elif kind == "w":
                parent, _, base = name.rpartition("/")
                info.name = f"{parent}/.wh.{base}" if parent else f".wh.{base}"
            elif kind == "o":
                info.name = f"{name}/.wh..wh..opq"
            tar.addfile(info, io.BytesIO(data) if data else None)
    return out.getvalue()


def diff_id(tar: bytes) -> str:
    return "sha256:" + hashlib.sha256(tar).hexdigest()


def save_stream(layers: Sequence[bytes], *, duplicate_links: bool = True) -> bytes:
    """A Docker 20.10 style ``docker save``: one dir per layer, ordered by dir name (not by layer
    order), a repeated layer written as a symlink to its first copy, manifest.json last."""
    ids = [hashlib.sha256(f"v1-{i}".encode() + layer).hexdigest() for i, layer in enumerate(layers)]
    out = io.BytesIO()
    first: dict[bytes, str] = {}
    members: list[tuple[str, bytes | None, str | None]] = []
    for v1, layer in zip(ids, layers, strict=True):
        if layer in first and duplicate_links:
            members.append((f"{v1}/layer.tar", None, f"../{first[layer]}/layer.tar"))
        else:
            first.setdefault(layer, v1)
            members.append((f"{v1}/layer.tar", layer, None))
        members.append((f"{v1}/json", b'{"id": "%s"}' % v1.encode(), None))
    members.sort(key=lambda m: m[0])
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [diff_id(x) for x in layers]}}).encode()
    members.append(("cfg.json", config, None))
    members.append(
        ("manifest.json", json.dumps([{"Layers": [f"{i}/layer.tar" for i in ids]}]).encode(), None)
    )
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, link in members:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            else:
                assert data is not None
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def oci_blobs(layers: Sequence[bytes], compress: str) -> dict[str, bytes]:
    """OCI-style blobs (name -> bytes) of the layers, gzip- or zstd-compressed, plus a JSON config."""
    import zstandard

    blobs: dict[str, bytes] = {}
    for layer in layers:
        packed = gzip.compress(layer) if compress == "gzip" else zstandard.ZstdCompressor().compress(layer)
        blobs[f"blobs/sha256/{hashlib.sha256(packed).hexdigest()}"] = packed
    config = json.dumps({"rootfs": {"diff_ids": [diff_id(x) for x in layers]}}).encode()
    blobs[f"blobs/sha256/{hashlib.sha256(config).hexdigest()}"] = config
    return blobs


def tar_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def tar_split(tar: bytes) -> bytes:
    """``tar-split.json.gz`` for a layer tar: header segments and body records, bodies left out."""
    lines: list[dict[str, Any]] = []
    pos = 0
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as archive:
        for member in archive.getmembers():
            lines.append({"type": 2, "payload": tar[pos : member.offset_data]})
            crc = zlib.crc32(tar[member.offset_data : member.offset_data + member.size]).to_bytes(8, "big")
            lines.append({"type": 1, "name": member.name, "size": member.size, "payload": crc})
            pos = member.offset_data + (member.size if member.isreg() else 0)
    lines.append({"type": 2, "payload": tar[pos:]})
    text = b""
    for position, line in enumerate(lines):
        line = {**line, "payload": base64.b64encode(line["payload"]).decode(), "position": position}
        if line["type"] == 2:  # the engine writes segments with these three keys, in this order
            line = {"type": 2, "payload": line["payload"], "position": position}
        text += json.dumps(line, separators=(",", ":")).encode() + b"\n"
    return gzip.compress(text)


def layer_store(
    root: Path, layers: Sequence[bytes], files: dict[int, dict[str, bytes]] | None = None
) -> list[str]:
    """A fake overlay2 data root holding ``layers`` (tar-split, diff, cache-id and the diff dirs with
    ``files``); returns the chain ids."""
    from analyzer.image.config import chain_ids

    chains = chain_ids([diff_id(x) for x in layers])
    for index, (layer, chain) in enumerate(zip(layers, chains, strict=True)):
        folder = root / "image" / "overlay2" / "layerdb" / "sha256" / chain.split(":")[1]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "diff").write_text(diff_id(layer))
        (folder / "cache-id").write_text(f"cache{index}")
        (folder / "tar-split.json.gz").write_bytes(tar_split(layer))
        diff = root / "overlay2" / f"cache{index}" / "diff"
        diff.mkdir(parents=True, exist_ok=True)
        for path, data in ((files or {}).get(index) or {}).items():
            target = diff / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return chains


KB = b"k" * 1024


def layers(*specs: list[tuple[object, ...]]) -> list[LayerListing]:
    out = []
    for spec in specs:
        data = layer_tar(spec)
        reader = TarReader(ChunkFeed([data]))
        out.append(build_listing(diff_id(data), reader, lambda _e, n, r=reader: r.head(n)))
    return out


PEM_KEY = (
    b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
)
