"""What layermap relies on from each test engine, checked on all three.

Every test here takes the ``engine`` fixture, so it runs on Docker 20.10 (overlay2 store, id ``docker20``),
on Docker 26.1 (id ``docker26``) and on Docker 28.5 (id ``docker28``), both with the containerd image store.
Where the engines differ, the expected behaviour of each is spelled out, keyed on what decides it (the
store, the engine's version, the buildx version), never on the test id: these are the facts the analyzer
is written against (see ``../shared/notes/engine-facts.md``), and a test failing here means an engine no
longer behaves so. Everything is read independently of layermap: the SDK, ``docker save``, the daemon's
files, buildx.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import json
import re
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker
import pytest

if TYPE_CHECKING:
    from helpers.engines import Engine

SEEDED = ("busybox:latest", "debian:bookworm-slim")
EXPECTED = {
    # kind: (version prefix, storage, API version)
    "docker20": ("20.10.", "overlay2", "1.41"),
    "docker26": ("26.1.", "containerd", "1.45"),
    "docker28": ("28.5.", "containerd", "1.51"),
}
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def major(engine: Engine) -> int:
    """The engine's major version (20, 26, 28)."""
    return int(engine.version.split(".", 1)[0])


@pytest.fixture
def tag(engine: Engine) -> Iterator[str]:
    """A unique tag for the test's image; the image is removed afterwards."""
    name = f"layermap-test-engines:{uuid.uuid4().hex[:12]}"
    yield name
    with contextlib.suppress(docker.errors.DockerException):
        engine.client.remove_image(name, force=True)


def test_engine_is_the_kind_it_claims(engine: Engine) -> None:
    version, storage, api = EXPECTED[engine.kind]
    assert engine.version.startswith(version)
    assert engine.storage == storage
    assert engine.api_version == api
    info = engine.client.info()
    if engine.storage == "containerd":
        # The containerd store reports its snapshotter as the "driver".
        assert info["Driver"] == "overlayfs"
        assert ["driver-type", "io.containerd.snapshotter.v1"] in info["DriverStatus"]
    else:
        assert info["Driver"] == "overlay2"


@pytest.mark.parametrize("ref", SEEDED)
def test_seeded_images_are_one_imported_layer(
    engine: Engine,
    ref: str,
    saved_config: Callable[[docker.APIClient, str], dict[str, Any]],
    run_in_container: Callable[..., tuple[int, str]],
) -> None:
    inspect = engine.client.inspect_image(ref)
    assert len(inspect["RootFS"]["Layers"]) == 1
    assert inspect["Config"]["Cmd"] == (["sh"] if ref.startswith("busybox") else ["bash"])
    history = engine.client.history(ref)
    assert len(history) == 1
    assert history[0]["CreatedBy"] == ""  # `docker import`: nothing was pulled
    config = saved_config(engine.client, inspect["Id"])
    assert config["rootfs"]["diff_ids"] == inspect["RootFS"]["Layers"]
    assert [h.get("empty_layer", False) for h in config["history"]] == [False]
    code, output = run_in_container(engine.client, ref, ["sh", "-c", "echo ok"])
    assert (code, output) == (0, "ok\n")


def test_same_busybox_layer_on_both_stores(engine: Engine, engines: Any) -> None:
    # The seed is reproducible: the same diff_id whatever the store (the image ids differ: 20.10's is
    # the config digest, the containerd store's the manifest digest).
    other = engines.get("docker26" if engine.kind == "docker20" else "docker20")
    if isinstance(other, str):
        pytest.skip(other)
    ours = engine.client.inspect_image("busybox:latest")["RootFS"]["Layers"]
    theirs = other.client.inspect_image("busybox:latest")["RootFS"]["Layers"]
    assert ours == theirs


# --------------------------------------------------------------------------------------------------
# classic builder

CLASSIC_DOCKERFILE = """\
FROM busybox:latest AS base
RUN echo one > /one
FROM busybox:latest
ENV X=1
COPY f.txt /f.txt
RUN true
COPY --from=base /one /one
RUN rm /one
WORKDIR /w
CMD ["sh"]
"""
# Final stage after FROM: (instruction, makes a layer) per the classic builder on both engines.
CLASSIC_STEPS = [
    ("ENV", False),
    ("COPY f.txt", True),
    ("RUN true", False),  # no filesystem change: no layer
    ("COPY --from", True),
    ("RUN rm", True),  # a whiteout
    ("WORKDIR /w", True),  # a new directory
    ("CMD", False),
]


def _classic_build(client: docker.APIClient, context: Path, tag: str) -> list[dict[str, Any]]:
    messages = list(
        client.build(
            path=str(context), tag=tag, rm=True, forcerm=True, nocache=True, network_mode="host", decode=True
        )
    )
    errors = [m for m in messages if "error" in m]
    assert not errors, errors
    return messages


def test_classic_build_keeps_step_images_and_parent_chain(
    engine: Engine, tag: str, tmp_path: Path, saved_config: Callable[[docker.APIClient, str], dict[str, Any]]
) -> None:
    (tmp_path / "Dockerfile").write_text(CLASSIC_DOCKERFILE)
    (tmp_path / "f.txt").write_bytes(b"abc")
    client = engine.client
    messages = _classic_build(client, tmp_path, tag)

    # aux.ID at the end of every stage; the last one is the image.
    aux_ids = [m["aux"]["ID"] for m in messages if isinstance(m.get("aux"), dict) and "ID" in m["aux"]]
    final = client.inspect_image(tag)
    assert len(aux_ids) == 2
    assert aux_ids[-1] == final["Id"]
    busybox = client.inspect_image("busybox:latest")["Id"]
    assert client.inspect_image(aux_ids[0])["Parent"] == busybox  # stage "base": one step

    # Every instruction after FROM made one image whose Parent is the previous step's: on the
    # containerd store too. They are listed with `docker image ls -a`.
    chain = []
    image_id = final["Id"]
    while image_id != busybox:
        chain.append(image_id)
        image_id = client.inspect_image(image_id)["Parent"]
        assert image_id, "the Parent chain ended before the base image"
    assert len(chain) == len(CLASSIC_STEPS)
    listed = {i["Id"] for i in client.images(all=True)}
    assert set(chain) <= listed

    # Layers: as the config says, on both stores.
    config = saved_config(client, final["Id"])
    empty = [h.get("empty_layer", False) for h in config["history"]]
    assert empty == [False] + [not layer for _, layer in CLASSIC_STEPS]
    assert config["rootfs"]["diff_ids"] == final["RootFS"]["Layers"]
    assert len(final["RootFS"]["Layers"]) == 1 + sum(layer for _, layer in CLASSIC_STEPS)

    # The text that closes a RUN-like step differs: 20.10 "Removing intermediate container <id>",
    # 26.1 and 28.5 " ---> Removed intermediate container <id>" (whatever the store).
    text = "".join(m.get("stream", "") for m in messages)
    removing = re.findall(r"^Removing intermediate container [0-9a-f]{12}$", text, re.M)
    removed = re.findall(r"^ ---> Removed intermediate container [0-9a-f]{12}$", text, re.M)
    running = re.findall(r"^ ---> Running in [0-9a-f]{12}$", text, re.M)
    assert len(running) == 6  # RUN ×3, ENV, WORKDIR, CMD: every step but FROM and COPY
    if major(engine) >= 26:
        assert (len(removing), len(removed)) == (0, len(running))
    else:
        assert (len(removing), len(removed)) == (len(running), 0)


def test_history_sizes(engine: Engine, tag: str, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(CLASSIC_DOCKERFILE)
    (tmp_path / "f.txt").write_bytes(b"abc")
    _classic_build(engine.client, tmp_path, tag)
    history = engine.client.history(tag)[::-1]  # oldest first
    sizes = [h["Size"] for h in history[1:]]
    layers = [layer for _, layer in CLASSIC_STEPS]
    assert [s for s, layer in zip(sizes, layers, strict=True) if not layer] == [0, 0, 0]
    copy_f, copy_one, rm_one, workdir = (s for s, layer in zip(sizes, layers, strict=True) if layer)
    if engine.storage == "overlay2":
        # Apparent size of the non-directory entries: "abc", "one\n", a whiteout, a directory.
        assert (copy_f, copy_one, rm_one, workdir) == (3, 4, 0, 0)
    else:
        # Disk usage of the snapshot (blocks, counting its own root directory): never the content size,
        # and more than 0 for every layer on this machine's filesystem, even a whiteout or an empty dir.
        for size in (copy_f, copy_one, rm_one, workdir):
            assert size > 4 and size % 512 == 0
        # inspect's Size is the compressed content (manifest + config + gzip blobs), far below the
        # unpacked busybox binary that history counts.
        base = history[0]["Size"]
        assert engine.client.inspect_image(tag)["Size"] < base


# --------------------------------------------------------------------------------------------------
# docker save and the daemon's own files


@contextlib.contextmanager
def _save(client: docker.APIClient, image: str) -> Iterator[tarfile.TarFile]:
    """``docker save IMAGE`` as an open tar (spooled to a temp file)."""
    with tempfile.TemporaryFile(prefix="layermap-save-") as tmp:
        for chunk in client.get_image(image, chunk_size=1 << 20):
            tmp.write(chunk)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp, mode="r:") as tar:
            yield tar


def _json(tar: tarfile.TarFile, name: str) -> Any:
    member = tar.extractfile(name)
    assert member is not None, name
    with member:
        return json.load(member)


def test_docker_save_format(engine: Engine) -> None:
    inspect = engine.client.inspect_image("busybox:latest")
    with _save(engine.client, "busybox:latest") as tar:
        names = set(tar.getnames())
        (entry,) = _json(tar, "manifest.json")  # both formats have the Docker manifest.json
        config = _json(tar, entry["Config"])
        assert config["rootfs"]["diff_ids"] == inspect["RootFS"]["Layers"]
        (layer_name,) = entry["Layers"]
        member = tar.extractfile(layer_name)
        assert member is not None
        data = member.read()
        if engine.storage == "containerd":
            # OCI layout: index.json -> the image's manifest (its digest is the image id), blobs by digest.
            assert {"oci-layout", "index.json"} <= names
            index = _json(tar, "index.json")
            assert [m["digest"] for m in index["manifests"]] == [inspect["Id"]]
            assert index["manifests"][0]["mediaType"] == OCI_MANIFEST
            manifest = _json(tar, "blobs/sha256/" + inspect["Id"].split(":")[1])
            assert entry["Config"] == "blobs/sha256/" + manifest["config"]["digest"].split(":")[1]
            assert entry["Layers"] == ["blobs/sha256/" + manifest["layers"][0]["digest"].split(":")[1]]
            assert manifest["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
            assert data[:2] == b"\x1f\x8b"  # gzip
            data = gzip.decompress(data)
        else:
            # Docker format: <config digest>.json (the image id) and uncompressed <dir>/layer.tar.
            assert "oci-layout" not in names
            assert entry["Config"] == inspect["Id"].split(":")[1] + ".json"
            assert layer_name.endswith("/layer.tar")
        assert "sha256:" + hashlib.sha256(data).hexdigest() == inspect["RootFS"]["Layers"][0]


def test_image_config_file_in_the_data_root(engine: Engine) -> None:
    # Where a local reader finds the config without an export (when it may read the daemon's files).
    inspect = engine.client.inspect_image("busybox:latest")
    root = Path(engine.root_dir)
    digest = inspect["Id"].split(":")[1]
    if engine.storage == "containerd":
        # The containerd content store (dev-engine.sh gives its containerd the same root a
        # dockerd-supervised one has): the image id names the manifest, which names the config blob.
        blobs = root / "containerd/daemon/io.containerd.content.v1.content/blobs/sha256"
        manifest = json.loads((blobs / digest).read_bytes())
        assert manifest["mediaType"] == OCI_MANIFEST
        config = json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_bytes())
        assert not (root / "image").exists()  # no imagedb, no layerdb
    else:
        config = json.loads((root / "image/overlay2/imagedb/content/sha256" / digest).read_bytes())
    assert config["rootfs"]["diff_ids"] == inspect["RootFS"]["Layers"]


# --------------------------------------------------------------------------------------------------
# BuildKit through the Engine API (no session)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message: ints for varints, bytes for the rest."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            length, i = _varint(buf, i)
            value, i = buf[i : i + length], i + length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, i = buf[i : i + size], i + size
        else:
            raise AssertionError(f"unexpected protobuf wire type {wire}")
        yield number, value


def _text(fields: dict[int, int | bytes], number: int) -> str:
    value = fields.get(number, b"")
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_trace(aux: str) -> dict[str, list[dict[str, Any]]]:
    """The parts of a ``moby.buildkit.trace`` aux (base64 controlapi.StatusResponse) the tests read."""
    out: dict[str, list[dict[str, Any]]] = {"vertexes": [], "statuses": [], "logs": []}
    for number, value in _fields(base64.b64decode(aux)):
        assert isinstance(value, bytes)
        fields = dict(_fields(value))  # the last of a repeated field is enough here
        if number == 1:  # Vertex: digest 1, inputs 2, name 3, cached 4, started 5, completed 6, error 7
            out["vertexes"].append(
                {
                    "digest": _text(fields, 1),
                    "name": _text(fields, 3),
                    "cached": bool(fields.get(4, 0)),
                    "completed": 6 in fields,
                    "error": _text(fields, 7),
                }
            )
        elif number == 2:  # VertexStatus: ID 1, vertex 2, name 3, current 4, total 5, timestamps 6-8
            out["statuses"].append({"id": _text(fields, 1), "vertex": _text(fields, 2)})
        elif number == 3:  # VertexLog: vertex 1, timestamp 2, stream 3, msg 4
            msg = fields.get(4, b"")
            out["logs"].append({"vertex": _text(fields, 1), "msg": msg if isinstance(msg, bytes) else b""})
    return out


def _gnu_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


BUILDKIT_DOCKERFILE = b'FROM busybox:latest\nENV X=1\nCOPY f.txt /f.txt\nRUN echo hello\nCMD ["sh"]\n'


def test_buildkit_through_the_engine_api(engine: Engine, tag: str) -> None:
    client = engine.client
    body = _gnu_tar({"Dockerfile": BUILDKIT_DOCKERFILE, "f.txt": b"abc"})
    params = {"version": "2", "t": tag, "networkmode": "host", "nocache": "1", "rm": "1", "forcerm": "1"}
    response = client._post(
        client._url("/build"),
        params=params,
        data=body,
        headers={"Content-Type": "application/x-tar"},
        stream=True,
    )
    client._raise_for_status(response)
    messages = list(client._stream_helper(response, decode=True))
    errors = [m["error"] for m in messages if "error" in m]
    if engine.storage == "containerd" and major(engine) < 28:
        # moby/moby#47717: on the containerd store of 26.1, BuildKit cannot read a context uploaded as
        # the request body (no session): it tries to fetch the daemon's internal URL for it and fails.
        # 28.5 builds it.
        assert len(errors) == 1
        assert errors[0].startswith("failed to read downloaded context")
        assert not [m for m in messages if m.get("id") == "moby.image.id"]
        return
    assert not errors, errors
    traces = [decode_trace(m["aux"]) for m in messages if m.get("id") == "moby.buildkit.trace"]
    names = {v["name"] for t in traces for v in t["vertexes"] if v["completed"] and not v["error"]}
    # The FROM vertex: 20.10 names the image, 28.5 (containerd store) pins it by the base's image id.
    base = "docker.io/library/busybox:latest"
    if engine.storage == "containerd":
        base += "@" + client.inspect_image("busybox:latest")["Id"]
    assert {
        f"[1/3] FROM {base}",
        "[2/3] COPY f.txt /f.txt",
        "[3/3] RUN echo hello",
    } <= names
    logs = b"".join(log["msg"] for t in traces for log in t["logs"])
    assert b"hello\n" in logs
    (image_id,) = [m["aux"]["ID"] for m in messages if m.get("id") == "moby.image.id"]
    assert image_id == client.inspect_image(tag)["Id"]


# --------------------------------------------------------------------------------------------------
# buildx (the CLI plugin, run standalone) with the engine's default "docker" driver

BUILDX_DOCKERFILE = 'FROM busybox:latest\nENV X=1\nCOPY f.txt /f.txt\nRUN echo hello\nCMD ["sh"]\n'


def _buildx(
    engine: Engine, context: Path, *args: str, attestations: bool = True
) -> subprocess.CompletedProcess[str]:
    env = engine.buildx_env(context.parent / "docker-config")
    if not attestations:
        env["BUILDX_NO_DEFAULT_ATTESTATIONS"] = "1"
    return subprocess.run(
        [engine.require_buildx(), "build", "--network", "host", *args, str(context)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _buildx_version(engine: Engine) -> tuple[int, int]:
    """(major, minor) of the engine's buildx: ``github.com/docker/buildx 0.29.1+ds1 …``."""
    out = subprocess.run(
        [engine.require_buildx(), "version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    match = re.search(r" v?(\d+)\.(\d+)\.", out)
    assert match, out
    return int(match[1]), int(match[2])


def _rawjson(stderr: str) -> list[dict[str, Any]]:
    """``--progress rawjson``: concatenated (indented) JSON SolveStatus objects on stderr."""
    decoder = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(stderr) and stderr[i].isspace():
            i += 1
        if i >= len(stderr):
            return out
        obj, i = decoder.raw_decode(stderr, i)
        out.append(obj)


@pytest.mark.parametrize("attestations", [True, False], ids=["attestations", "no-attestations"])
def test_buildx_builds_into_the_engine_store(
    engine: Engine, tag: str, tmp_path: Path, attestations: bool
) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(BUILDX_DOCKERFILE)
    (context / "f.txt").write_bytes(b"abc")
    iidfile, metafile = tmp_path / "iid", tmp_path / "meta.json"
    result = _buildx(
        engine, context, "-t", tag, "--no-cache", "--progress", "rawjson", "--iidfile", str(iidfile),
        "--metadata-file", str(metafile), attestations=attestations,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]

    # No --load: the docker driver puts the image in the engine's store.
    image_id = engine.client.inspect_image(tag)["Id"]
    meta = json.loads(metafile.read_text())
    assert meta["containerimage.digest"] == image_id  # on both engines, with or without attestations
    iid = iidfile.read_text().strip()
    if engine.storage == "containerd" and not attestations:
        # A plain manifest: --iidfile names its *config*, which the containerd store cannot look up.
        assert iid == meta["containerimage.config.digest"] != image_id
        with pytest.raises(docker.errors.ImageNotFound):
            engine.client.inspect_image(iid)
    else:
        assert iid == image_id
    if engine.storage == "containerd":
        media = meta["containerimage.descriptor"]["mediaType"]
        # With attestations the image is an index: the platform manifest plus an attestation manifest.
        docker_manifest = "application/vnd.docker.distribution.manifest.v2+json"
        assert media == (OCI_INDEX if attestations else docker_manifest)

    history = engine.client.history(tag)
    assert [h["CreatedBy"] for h in history[:4]] == [
        'CMD ["sh"]',
        "RUN /bin/sh -c echo hello # buildkit",
        "COPY f.txt /f.txt # buildkit",
        "ENV X=1",
    ]
    assert {h["Comment"] for h in history[:4]} == {"buildkit.dockerfile.v0"}

    # Progress as JSON, the same content as the Engine API's trace (logs base64-encoded).
    statuses = _rawjson(result.stderr)
    names = {v["name"] for s in statuses for v in s.get("vertexes") or [] if v.get("completed")}
    assert {"[2/3] COPY f.txt /f.txt", "[3/3] RUN echo hello"} <= names
    logs = b"".join(base64.b64decode(log["data"]) for s in statuses for log in s.get("logs") or [])
    assert b"hello\n" in logs


def test_buildx_failing_run_exit_code_is_only_in_the_text(engine: Engine, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM busybox:latest\nRUN echo out; exit 3\n")
    result = _buildx(engine, context, "--progress", "plain", "--no-cache")
    assert result.returncode == 1
    last = result.stderr.rstrip("\n").splitlines()[-1]
    # The cause is the engine's BuildKit's text, the prefix buildx's (0.29 adds "failed to build: ").
    if major(engine) >= 26:
        cause = 'process "/bin/sh -c echo out; exit 3" did not complete successfully'
    else:
        cause = "executor failed running [/bin/sh -c echo out; exit 3]"
    prefix = "failed to build: failed to solve" if _buildx_version(engine) >= (0, 29) else "failed to solve"
    assert last == f"ERROR: {prefix}: {cause}: exit code: 3"
