"""``analyzer.engine.client`` against a real engine: builds checked against ``docker save`` and the Parent
chain, spoofing RUN output, a failing step, Ctrl-C, and connection errors."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from analyzer.engine.client import Engine, connect
from analyzer.engine.options import BuildOptions, BuildProgress
from analyzer.errors import DockerfileError, EngineError, ImageNotFound

pytestmark = pytest.mark.integration

BASICS = """\
FROM busybox:latest
ENV GREETING=hello
RUN echo "$GREETING" > /greeting
RUN true
COPY data.txt /data/data.txt
WORKDIR /data
WORKDIR /new
RUN rm /greeting
LABEL purpose=test
CMD ["cat", "/data/data.txt"]
"""
# empty_layer per step after FROM, as engine-facts.md describes the classic builder.
BASICS_EMPTY = [True, False, True, False, True, False, False, True, True]


@pytest.fixture
def engine(engine_url: str) -> Iterator[Engine]:
    eng = connect(engine_url)
    yield eng
    eng.close()


@pytest.fixture
def own_images(docker_client: docker.APIClient) -> Iterator[list[str]]:
    """Images a test made (ids or lmtest-* tags); removed afterwards, never anything older than the test."""
    refs: list[str] = []
    since = time.time() - 2
    yield refs
    for ref in reversed(refs):
        try:
            inspect = docker_client.inspect_image(ref)
        except docker.errors.NotFound:
            continue
        created = datetime.fromisoformat(inspect["Created"][:26].rstrip("Z") + "+00:00").timestamp()
        foreign = [t for t in inspect.get("RepoTags") or () if not t.startswith("lmtest-")]
        if created >= since and not foreign:
            with contextlib.suppress(docker.errors.APIError):
                docker_client.remove_image(ref, force=True)


def context(tmp_path: Path, dockerfile: str) -> tuple[Path, Path]:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    (tmp_path / "data.txt").write_text("some data\n")
    return tmp_path, tmp_path / "Dockerfile"


def tag() -> str:
    return f"lmtest-engine-{uuid.uuid4().hex[:10]}"


def test_classic_build_agrees_with_docker_save_and_the_parent_chain(
    engine: Engine,
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    saved_config: Callable[[docker.APIClient, str], dict[str, Any]],
    own_images: list[str],
    tmp_path: Path,
) -> None:
    name = tag()
    own_images.append(name)
    events: list[BuildProgress] = []
    result = engine.build_classic(
        BuildOptions(*context(tmp_path, BASICS), no_cache=True, tag=name), on_progress=events.append
    )
    own_images.extend(result.stage_image_ids)

    assert result.failure is None
    assert result.image_id == docker_client.inspect_image(name)["Id"]
    lines = BASICS.splitlines()
    assert [(s.number, s.total, s.text) for s in result.steps] == [
        (i + 1, len(lines), t) for i, t in enumerate(lines)
    ]
    assert [s.cached for s in result.steps] == [None] + [False] * (len(lines) - 1)
    assert [e.step for e in events if e.kind == "step-done"] == list(range(1, len(lines) + 1))

    # The short ids printed per step are exactly the Parent chain of the final image.
    assert result.image_id is not None
    links = engine.chain(result.image_id, len(lines))
    assert [link.id[7:19] for link in links] == [s.short_id for s in result.steps]
    assert links[0].id == seeded_images["busybox:latest"]

    saved = saved_config(docker_client, result.image_id)
    image = engine.image(result.image_id, need_config=True)
    assert image.config == saved
    assert engine.save_config(name) == saved
    assert image.diff_ids == tuple(saved["rootfs"]["diff_ids"])
    assert [h.empty_layer for h in image.history] == [bool(h.get("empty_layer")) for h in saved["history"]]
    base = len(image.history) - len(BASICS_EMPTY)
    assert [h.empty_layer for h in image.history[base:]] == BASICS_EMPTY
    assert sum(layer.size or 0 for layer in image.layers) == image.size
    assert image.layers[-1].size == 0  # RUN rm: a whiteout-only layer is 0 bytes, still a layer

    info = engine.info()
    assert (info.version, info.api_version) == (
        docker_client.version()["Version"],
        docker_client.version()["ApiVersion"],
    )
    if info.storage == "overlay2" and info.data_root and Path(info.data_root).is_dir():
        layerdb = Path(info.data_root, "image", "overlay2", "layerdb", "sha256")
        for layer in image.layers:
            assert (layerdb / layer.chain_id.split(":")[1] / "diff").read_text() == layer.diff_id


def test_cached_rebuild(engine: Engine, own_images: list[str], tmp_path: Path) -> None:
    name = tag()
    own_images.append(name)
    ctx = context(tmp_path, BASICS)
    first = engine.build_classic(BuildOptions(*ctx, no_cache=True, tag=name))
    second = engine.build_classic(BuildOptions(*ctx, tag=name))
    assert second.image_id == first.image_id
    assert [s.cached for s in second.steps] == [None] + [True] * (len(second.steps) - 1)
    assert [s.short_id for s in second.steps] == [s.short_id for s in first.steps]


def test_run_output_cannot_fake_builder_lines(engine: Engine, own_images: list[str], tmp_path: Path) -> None:
    dockerfile = (
        "FROM busybox:latest\n"
        "RUN printf 'Removing intermediate container %s\\n ---> deadbeefdead\\nStep 3/4 : ENV X=1\\n"
        ' ---> Using cache\\n ---> 0123456789ab\\nStep 9/9 : RUN evil\' "$(hostname)"\n'
        "ENV AFTER=1\n"
        "RUN printf 'no newline, then my own id: Removing intermediate container %s' \"$(hostname)\"\n"
    )
    name = tag()
    own_images.append(name)
    result = engine.build_classic(BuildOptions(*context(tmp_path, dockerfile), no_cache=True, tag=name))
    own_images.extend(result.stage_image_ids)
    assert [(s.number, s.total, s.cached) for s in result.steps] == [
        (1, 4, None),
        (2, 4, False),
        (3, 4, False),
        (4, 4, False),
    ]
    assert [s.text for s in result.steps] == dockerfile.splitlines()
    assert result.image_id is not None
    links = engine.chain(result.image_id, 4)
    assert [link.id[7:19] for link in links] == [s.short_id for s in result.steps]


def test_failing_run_is_data_with_a_validated_last_image(
    engine: Engine, docker_client: docker.APIClient, own_images: list[str], tmp_path: Path
) -> None:
    dockerfile = "FROM busybox:latest\nRUN echo ok > /ok\nRUN echo out; echo more; exit 3\nRUN echo never\n"
    result = engine.build_classic(BuildOptions(*context(tmp_path, dockerfile), no_cache=True))
    last = engine.last_step_image(result)
    if last is not None:
        own_images.append(last)
    assert result.failure is not None
    assert (result.failure.exit_code, result.failure.step_number) == (3, 3)
    assert result.failure.output_tail == ("out", "more")
    assert "returned a non-zero code: 3" in result.failure.message
    assert result.image_id is None and result.stage_image_ids == ()
    assert last is not None
    assert docker_client.inspect_image(last)["ContainerConfig"]["Cmd"] == ["/bin/sh", "-c", "echo ok > /ok"]
    assert last[7:19] == result.steps[1].short_id


def test_syntax_error_names_the_line(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(DockerfileError) as info:
        engine.build_classic(BuildOptions(*context(tmp_path, "FROM busybox:latest\nFOO bar\n")))
    assert str(info.value).endswith("Dockerfile:2: dockerfile parse error line 2: unknown instruction: FOO")


def test_ctrl_c_cancels_the_build_and_leaves_no_container(
    engine: Engine, docker_client: docker.APIClient, tmp_path: Path
) -> None:
    marker = f"lmtest-{uuid.uuid4().hex[:10]}"
    dockerfile = f"FROM busybox:latest\nRUN echo {marker} && sleep 30\n"
    before = {c["Id"] for c in docker_client.containers(all=True)}
    running: list[str] = []
    main = threading.main_thread().ident
    assert main is not None and threading.current_thread().ident == main

    def interrupt() -> None:
        running.extend(c["Id"] for c in docker_client.containers() if marker in c["Command"])
        signal.pthread_kill(main, signal.SIGINT)  # like Ctrl-C: interrupts the blocking read

    timer = threading.Timer(2.0, interrupt)

    def on_progress(event: BuildProgress) -> None:
        if event.kind == "output" and event.line == marker and not timer.is_alive():
            timer.start()  # the RUN is running: interrupt 2 s into it

    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            engine.build_classic(
                BuildOptions(*context(tmp_path, dockerfile), no_cache=True), on_progress=on_progress
            )
    finally:
        timer.cancel()
    assert time.monotonic() - started < 15
    assert len(running) == 1  # the interrupt really came while the build container ran
    after = docker_client.containers(all=True)
    assert [c["Id"] for c in after if marker in c["Command"]] == []
    assert {c["Id"] for c in after} - before == set()


def test_unknown_image(engine: Engine) -> None:
    with pytest.raises(ImageNotFound, match="image not found: lmtest-no-such-image:1"):
        engine.image("lmtest-no-such-image:1")
    assert engine.image_exists("lmtest-no-such-image:1") is False
    assert engine.image_exists("busybox:latest") is True


def test_connect_to_a_bad_address(tmp_path: Path) -> None:
    address = f"unix://{tmp_path}/no-engine.sock"
    with pytest.raises(EngineError) as info:
        connect(address)
    assert str(info.value).startswith(f"cannot reach the Docker engine at {address}: ")
    assert "scripts/dev-engine.sh start" in str(info.value)
