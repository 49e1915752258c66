"""Image reading without an engine: recorded inspect / history / config (tests/helpers/record/streams.py)
merged into :class:`Image`, chain ids checked against the engine's own layer store names, the export
reader, parent chains, the validated last step image of a failed build, and error mapping."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest
import requests

from analyzer.engine.classic_stream import StreamParser
from analyzer.engine.client import Engine, connect
from analyzer.errors import EngineError, ImageNotFound
from analyzer.image.config import ChunkReader, chain_ids, config_from_save, image_from_engine
from analyzer.model import BuildResult, StepEvent

STREAMS = Path(__file__).resolve().parents[2] / "fixtures" / "streams"
ADDRESS = "unix:///fake/docker.sock"
BUSYBOX_ID = "sha256:35c567506e2da3b95ec3a3bacc0c7a0930f4d4ba2f18cd775a5e4c7e837dbeb8"


def load(name: str) -> dict[str, Any]:
    return json.loads((STREAMS / f"{name}.json").read_text())  # type: ignore[no-any-return]


def hexdigest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_of(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Chunks:
    """An export stream that counts how much of it was pulled."""

    def __init__(self, data: bytes, size: int = 4096) -> None:
        self.parts = [data[i : i + size] for i in range(0, len(data), size)]
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        for part in self.parts:
            self.pulled += 1
            yield part


class FakeClient:
    """inspect_image / history / get_image / info / version over recorded data."""

    def __init__(
        self,
        images: dict[str, dict[str, Any]] | None = None,
        histories: dict[str, list[dict[str, Any]]] | None = None,
        export: bytes | None = None,
        info: dict[str, Any] | None = None,
        fail: BaseException | None = None,
    ) -> None:
        self.images = images or {}
        self.histories = histories or {}
        self.export = export
        self.exported: Chunks | None = None
        self._info = info or {"Driver": "overlay2", "DriverStatus": [], "DockerRootDir": "/nonexistent"}
        self.fail = fail

    def inspect_image(self, ref: str) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        for image_id, inspect in self.images.items():
            tags = inspect.get("RepoTags") or []
            if ref in tags or image_id == ref or image_id.split(":")[1].startswith(ref.split(":")[-1]):
                return copy.deepcopy(inspect)
        raise docker.errors.ImageNotFound(f"No such image: {ref}")

    def history(self, image_id: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self.histories.get(image_id, []))

    def get_image(self, image_id: str) -> Chunks:
        assert self.export is not None
        self.exported = Chunks(self.export)
        return self.exported

    def info(self) -> dict[str, Any]:
        return self._info

    def version(self) -> dict[str, Any]:
        return {"Version": "20.10.24+dfsg1", "ApiVersion": "1.41"}


def recorded_client(name: str, **kwargs: Any) -> tuple[FakeClient, dict[str, Any]]:
    data = load(f"image_{name}")
    image_id = data["inspect"]["Id"]
    client = FakeClient({image_id: data["inspect"]}, {image_id: data["history"]}, **kwargs)
    return client, data


# ---------------------------------------------------------------------- chain ids / merging


@pytest.mark.parametrize("name", ["basic", "onbuild_child"])
def test_chain_ids_match_the_engines_layer_store(name: str) -> None:
    data = load(f"image_{name}")
    assert chain_ids(data["inspect"]["RootFS"]["Layers"]) == data["layerdb_chain_ids"]


def test_chain_ids_definition() -> None:
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    assert chain_ids([]) == []
    assert chain_ids([a]) == [a]
    assert chain_ids([a, b]) == [a, "sha256:" + hexdigest(f"{a} {b}".encode())]


def test_history_config_and_layers_of_a_classic_build() -> None:
    data = load("image_basic")
    image = image_from_engine(data["inspect"], data["history"], data["config"])
    assert image.id == "sha256:8471c2287a1f6f85f47cc8613554bac2edc8963e17e937b80c0ef9c13d970aaa"
    assert image.tags == ("lmtest-rec-basic:latest",)
    assert image.size == 1985488
    assert image.parent == "sha256:c877561d932f105309ac02e8cbf53750f479166a0c9cf438f8b910af8fa2a18a"
    assert [(h.index, h.empty_layer, h.size) for h in image.history] == [
        (0, False, 1982256),  # busybox: COPY busybox
        (1, False, 3216),  # busybox --install: symlinks only
        (2, True, 0),  # CMD ["sh"]
        (3, True, 0),  # ENV GREETING=hello
        (4, False, 6),  # RUN echo "$GREETING" > /greeting
        (5, False, 10),  # COPY data.txt
        (6, False, 0),  # WORKDIR /work: a new directory is a 0-byte layer
        (7, True, 0),  # RUN true: no change, no layer
        (8, True, 0),  # CMD
    ]
    assert image.history[4].created_by == '/bin/sh -c echo "$GREETING" > /greeting && echo done'
    assert image.history[4].created == "2026-11-28T18:00:30.107073523Z"  # the config's precise time
    assert (
        image.history[0].image_id == "sha256:ae67cc7b4cf74b0fd5bbf4fe87700ea974f9cf28e6648e16e724d0d5dbb0b940"
    )
    assert [(layer.index, layer.size) for layer in image.layers] == [
        (0, 1982256),
        (1, 3216),
        (2, 6),
        (3, 10),
        (4, 0),
    ]
    assert image.diff_ids == tuple(data["config"]["rootfs"]["diff_ids"])
    assert [layer.chain_id for layer in image.layers] == data["layerdb_chain_ids"]
    assert image.config == data["config"]


def test_onbuild_triggers_each_leave_a_history_entry() -> None:
    data = load("image_onbuild_child")
    image = image_from_engine(data["inspect"], data["history"], data["config"])
    assert [(h.created_by.split(" -c ", 1)[-1], h.empty_layer, h.size) for h in image.history[3:]] == [
        ("#(nop)  ONBUILD RUN echo trigger-one > /t1", True, 0),
        ("#(nop)  ONBUILD ENV T=1", True, 0),
        ("#(nop)  ONBUILD RUN echo trigger-two", True, 0),
        ("echo trigger-one > /t1", False, 12),
        ("#(nop)  ENV T=1", True, 0),
        ("echo trigger-two", True, 0),
        ("echo child", True, 0),
    ]
    assert [layer.size for layer in image.layers] == [1982256, 3216, 12]
    assert image.onbuild == ()  # the child's own config has no triggers left


def test_without_config_empty_layer_and_sizes_stay_unknown() -> None:
    data = load("image_basic")
    image = image_from_engine(data["inspect"], data["history"], None)
    assert {h.empty_layer for h in image.history} == {None}
    assert {layer.size for layer in image.layers} == {None}
    assert image.history[4].created == "2026-11-28T18:00:30Z"  # from the history API's epoch seconds
    assert image.config is None


def test_a_config_that_does_not_pair_up_is_not_trusted() -> None:
    data = load("image_basic")
    config = copy.deepcopy(data["config"])
    del config["history"][0]
    image = image_from_engine(data["inspect"], data["history"], config)
    assert {h.empty_layer for h in image.history} == {None}
    assert {layer.size for layer in image.layers} == {None}


def test_layer_sizes_need_one_non_empty_entry_per_layer() -> None:
    data = load("image_basic")
    config = copy.deepcopy(data["config"])
    config["history"][7]["empty_layer"] = False  # claims RUN true made a layer: 5 layers, 6 entries
    image = image_from_engine(data["inspect"], data["history"], config)
    assert {layer.size for layer in image.layers} == {None}


# ---------------------------------------------------------------------- export reading


def test_config_from_a_docker_save_stops_after_the_config() -> None:
    config = json.dumps({"rootfs": {"diff_ids": []}, "history": []}).encode()
    image_id = "sha256:" + hexdigest(config)
    export = tar_of(
        [
            (f"{hexdigest(config)}.json", config),  # Docker 20.10 writes the config first
            ("a" * 64 + "/layer.tar", b"\0" * 200_000),
            ("manifest.json", json.dumps([{"Config": f"{hexdigest(config)}.json"}]).encode()),
        ]
    )
    chunks = Chunks(export)
    assert config_from_save(io.BufferedReader(ChunkReader(chunks)), image_id) == json.loads(config)
    assert chunks.pulled < len(chunks.parts) // 4


def test_config_from_an_oci_save_is_found_through_manifest_json() -> None:
    """The containerd image store's id is the manifest digest, not the config's: follow manifest.json."""
    config = json.dumps({"rootfs": {"diff_ids": []}, "history": [{"created_by": "x"}]}).encode()
    export = tar_of(
        [
            ("blobs/sha256/" + "b" * 64, b"\0" * 100_000),
            (f"blobs/sha256/{hexdigest(config)}", config),
            ("index.json", b"{}"),
            ("manifest.json", json.dumps([{"Config": f"blobs/sha256/{hexdigest(config)}"}]).encode()),
        ]
    )
    reader = io.BufferedReader(ChunkReader(Chunks(export)))
    assert config_from_save(reader, "sha256:" + "c" * 64) == json.loads(config)


def test_config_from_a_save_without_it() -> None:
    export = tar_of([("manifest.json", b"[]"), ("repositories", b"{}")])
    assert config_from_save(io.BufferedReader(ChunkReader(Chunks(export))), "sha256:" + "d" * 64) is None


# ---------------------------------------------------------------------- Engine.image / save_config


def local_store(tmp_path: Path, config_bytes: bytes, name: str) -> dict[str, Any]:
    folder = tmp_path / "image" / "overlay2" / "imagedb" / "content" / "sha256"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(config_bytes)
    return {"Driver": "overlay2", "DriverStatus": [], "DockerRootDir": str(tmp_path)}


def test_image_reads_the_config_from_a_local_image_store(tmp_path: Path) -> None:
    data = load("image_basic")
    config_bytes = json.dumps(data["config"]).encode()
    client, _ = recorded_client("basic")
    # The recorded id is the digest of the engine's own bytes; re-key the fake to our serialisation.
    fake_id = "sha256:" + hexdigest(config_bytes)
    client.images = {fake_id: {**data["inspect"], "Id": fake_id}}
    client.histories = {fake_id: data["history"]}
    client._info = local_store(tmp_path, config_bytes, hexdigest(config_bytes))
    image = Engine(client, ADDRESS).image("lmtest-rec-basic:latest")
    assert image.config == data["config"]
    assert [h.empty_layer for h in image.history][2:4] == [True, True]
    assert client.exported is None  # no export needed


def test_image_ignores_a_local_file_whose_hash_does_not_match(tmp_path: Path) -> None:
    data = load("image_basic")
    client, _ = recorded_client("basic")
    hex_id = data["inspect"]["Id"].split(":")[1]
    client._info = local_store(tmp_path, b'{"history": []}', hex_id)
    image = Engine(client, ADDRESS).image(data["inspect"]["Id"])
    assert image.config is None
    assert {h.empty_layer for h in image.history} == {None}


def test_image_exports_only_when_asked() -> None:
    data = load("image_basic")
    config_bytes = json.dumps(data["config"]).encode()
    hex_id = data["inspect"]["Id"].split(":")[1]
    export = tar_of([(f"{hex_id}.json", config_bytes), ("x/layer.tar", b"\0" * 50_000)])
    client, _ = recorded_client("basic", export=export)
    engine = Engine(client, ADDRESS)
    assert engine.image(data["inspect"]["Id"]).config is None
    image = engine.image(data["inspect"]["Id"], need_config=True)
    assert image.config == data["config"]
    assert [layer.size for layer in image.layers] == [1982256, 3216, 6, 10, 0]
    assert engine.save_config("lmtest-rec-basic:latest") == data["config"]


def test_save_config_without_a_config_is_an_engine_error() -> None:
    client, data = recorded_client("basic", export=tar_of([("manifest.json", b"[]")]))
    with pytest.raises(EngineError, match="has no image configuration"):
        Engine(client, ADDRESS).save_config(data["inspect"]["Id"])


def test_unknown_image() -> None:
    engine = Engine(FakeClient(), ADDRESS)
    with pytest.raises(ImageNotFound) as info:
        engine.image("nope:1")
    assert str(info.value) == "image not found: nope:1"
    assert info.value.exit_code == 2
    assert engine.image_exists("nope:1") is False


def response(status: int) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    return r


@pytest.mark.parametrize(
    "error",
    [
        docker.errors.APIError("boom", response=response(500), explanation="driver failed"),
        requests.exceptions.ConnectionError("Connection aborted."),
        docker.errors.DockerException("weird"),
    ],
)
def test_other_errors_become_engine_errors(error: BaseException) -> None:
    engine = Engine(FakeClient(fail=error), ADDRESS)
    for call in (lambda: engine.image("x"), lambda: engine.image_exists("x"), lambda: engine.chain("x", 3)):
        with pytest.raises(EngineError) as info:
            call()
        assert ADDRESS in str(info.value)
        assert info.value.exit_code == 4


# ---------------------------------------------------------------------- info / connect


def test_info_reports_overlay2_and_the_containerd_store() -> None:
    info = Engine(FakeClient(info={"Driver": "overlay2", "DockerRootDir": "/var/lib/docker"}), ADDRESS).info()
    assert (info.version, info.api_version, info.storage, info.address, info.data_root) == (
        "20.10.24+dfsg1",
        "1.41",
        "overlay2",
        ADDRESS,
        "/var/lib/docker",
    )
    containerd = {"Driver": "overlayfs", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}
    assert Engine(FakeClient(info=containerd), ADDRESS).info().storage == "containerd"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("unix:///nonexistent/docker.sock", "No such file or directory"),
        ("tcp://127.0.0.1:1", "Connection refused"),
        ("bogus://x", "Invalid bind address protocol"),
    ],
)
def test_connect_failure_is_one_line_naming_the_address(
    address: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    monkeypatch.delenv("DOCKER_CERT_PATH", raising=False)
    monkeypatch.setenv("NO_PROXY", "*")  # keep tcp:// off any HTTP proxy of the test machine
    with pytest.raises(EngineError) as info:
        connect(address)
    message = str(info.value)
    assert message.startswith(f"cannot reach the Docker engine at {address}: {reason}")
    # The hint names what an installed user can do, and in a clone the private engine script.
    assert "DOCKER_HOST, --context NAME or DOCKER_CONTEXT" in message
    assert message.endswith("scripts/dev-engine.sh start")
    assert "\n" not in message and info.value.exit_code == 4


def test_connect_uses_docker_host_and_tls_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    with pytest.raises(EngineError) as info:
        connect()
    assert str(info.value).startswith(
        f"cannot reach the Docker engine at tcp://127.0.0.1:1: TLS is on but {tmp_path} lacks ca.pem"
    )


# ---------------------------------------------------------------------- chains / last step image


def chain_client(name: str) -> FakeClient:
    inspects = load(name)["failed_stage_inspects"]
    return FakeClient({inspect["Id"]: inspect for inspect in inspects})


def parsed(name: str) -> BuildResult:
    parser = StreamParser()
    for message in load(name)["messages"]:
        parser.feed(message)
    parser.finish()
    return parser.result()


def test_chain_is_oldest_first_and_limited_by_depth() -> None:
    engine = Engine(chain_client("fail_exit3"), ADDRESS)
    links = engine.chain("d58cd880b2e6", 3)
    assert [link.id[7:19] for link in links] == ["ffe4213b15c3", "35c567506e2d", "d58cd880b2e6"]
    assert links[-1].parent == BUSYBOX_ID
    assert links[-1].created_by == "/bin/sh -c echo ok"
    assert links[1].created_by == '/bin/sh -c #(nop)  CMD ["sh"]'
    assert len(links[-1].diff_ids) == 2
    assert len(engine.chain("d58cd880b2e6", 10)) == 4  # busybox's first image has no parent


def test_chain_falls_back_to_the_history_api_without_containerconfig() -> None:
    """Engines 25+ dropped ContainerConfig from inspect."""
    client = FakeClient(
        {"sha256:" + "e" * 64: {"Id": "sha256:" + "e" * 64, "Parent": "", "RootFS": {"Layers": []}}},
        {"sha256:" + "e" * 64: [{"CreatedBy": "/bin/sh -c make", "Id": "sha256:" + "e" * 64}]},
    )
    (link,) = Engine(client, ADDRESS).chain("eeee", 5)
    assert (link.created_by, link.parent) == ("/bin/sh -c make", None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("fail_exit3", "sha256:d58cd880b2e618bb81ef97f0a35ea2a4ecf02e523e0e9659e05fb65789d7bc11"),
        ("spoof_fail", "sha256:b42f5ef8dcdcf8860bef92f01195efd46474bfdb787c22576e9cc4b5d9625e78"),
        ("copy_missing", BUSYBOX_ID),  # failed right after FROM: the base is the last good image
    ],
)
def test_last_step_image_of_a_failed_build(name: str, expected: str) -> None:
    assert Engine(chain_client(name), ADDRESS).last_step_image(parsed(name)) == expected


def with_step(result: BuildResult, number: int, **changes: Any) -> BuildResult:
    steps = tuple(
        StepEvent(**{**step.__dict__, **changes}) if step.number == number else step for step in result.steps
    )
    return BuildResult(result.builder, result.stage_image_ids, steps, result.failure, result.log)


@pytest.mark.parametrize(
    "changes",
    [
        {"number": 2, "short_id": "35c567506e2d"},  # a spoofed id naming the base: chain too short
        {"number": 1, "short_id": "ffe4213b15c3"},  # the FROM image is not the chain's root
        {"number": 2, "text": "ENV X=1"},  # the image's command is a RUN, not a metadata step
        {"number": 2, "short_id": "deadbeefdead"},  # no such image
    ],
)
def test_last_step_image_rejects_what_the_chain_contradicts(changes: dict[str, Any]) -> None:
    number = changes.pop("number")
    result = with_step(parsed("fail_exit3"), number, **changes)
    assert Engine(chain_client("fail_exit3"), ADDRESS).last_step_image(result) is None


def test_last_step_image_needs_a_failure() -> None:
    result = parsed("fail_exit3")
    ok = BuildResult(result.builder, result.stage_image_ids, result.steps, None, result.log)
    assert Engine(chain_client("fail_exit3"), ADDRESS).last_step_image(ok) is None
