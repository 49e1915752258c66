"""BuildKit builds through ``analyzer.engine.buildkit_api`` on the real engines (Docker 20.10 and 28.5; 26.1's
containerd image store refuses an uploaded context, moby/moby#47717).

The truths come from the engine, independently of layermap: the image id from inspect, and the image
configuration from ``docker save`` (its sha256 is the image id; ``history[].empty_layer`` says which
entries made layers). The layer shapes below were measured with BuildKit; they differ from the classic
builder's (tests/integration/test_samples_build.py) exactly where engine-facts.md says: every RUN and
every WORKDIR but ``/`` makes a layer, a declared ONBUILD makes no history entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from analyzer.dockerfile import load, parse
from analyzer.engine.buildkit_api import build_buildkit
from analyzer.engine.buildkit_trace import VERTEX_KEYWORDS, needed_stages
from analyzer.engine.options import BuildOptions, BuildProgress
from analyzer.errors import DockerfileError, EngineError
from analyzer.model import BuildResult, Dockerfile

SAMPLES = Path(__file__).resolve().parents[2] / "sample_dockerfiles"
TAG = "lmtest-bk-it"

# (sample, Dockerfile, build args, target) -> (empty_layer shape of the entries after the base image's:
# E metadata only, L a layer; the Step N numbers BuildKit reports a vertex for)
CASES: list[tuple[str, str, dict[str, str] | None, str | None, str, list[int]]] = [
    ("basics", "Dockerfile", None, None, "EEELLLLLLEEEEEEEE", [1, 5, 6, 7, 8, 9, 10]),
    ("deleted-file", "Dockerfile", None, None, "LLL", [1, 2, 3, 4]),
    ("deleted-file", "Dockerfile.fixed", None, None, "L", [1, 2]),
    ("multi-stage", "Dockerfile", None, None, "LE", [1, 2, 3, 4, 8, 9]),
    ("cache-busting", "Dockerfile", None, None, "LLLE", [1, 2, 3, 4]),
    ("cache-busting", "Dockerfile.good", None, None, "LLLLE", [1, 2, 3, 4, 5]),
    ("arg-onbuild", "Dockerfile", None, None, "EEELLLEEELE", [3, 7, 11, 14]),
    (
        "arg-onbuild",
        "Dockerfile",
        {"APP_VERSION": "2.0", "BUILD_NOTE": "hi"},
        None,
        "EEELLLEEELE",
        [3, 7, 11, 14],
    ),
    ("chain", "Dockerfile", None, None, "LELELE", [1, 2, 5, 8]),
    ("chain", "Dockerfile", None, "middle", "LEL", [1, 2, 5]),
    ("apt-cache", "Dockerfile", None, None, "LE", [1, 2]),
    ("apt-cache", "Dockerfile.clean", None, None, "LE", [1, 2]),
]


def _case_id(case: tuple[Any, ...]) -> str:
    sample, dockerfile, args, target = case[:4]
    return "-".join(
        [sample, dockerfile, *(["args"] if args else []), *([f"target={target}"] if target else [])]
    )


def refuses_upload(engine: Any) -> bool:
    """Whether the engine's BuildKit cannot fetch a context uploaded without a client session
    (moby/moby#47717): the containerd image store before 28 (measured: 26.1 refuses, 28.5 builds)."""
    return bool(engine.storage == "containerd" and int(engine.version.split(".", 1)[0]) < 28)


@pytest.fixture
def api_engine(engine: Any) -> Any:
    """The ``engine``, when BuildKit can build an uploaded context there: not on 26.1's containerd image
    store, where the daemon's BuildKit cannot fetch it without a client session (moby/moby#47717)."""
    if refuses_upload(engine):
        pytest.skip(
            f"BuildKit cannot fetch an uploaded context on {engine.version}'s containerd image store "
            "(moby/moby#47717)"
        )
    return engine


def build(
    engine: Any, dockerfile: Dockerfile, context: Path, path: Path, **kwargs: Any
) -> tuple[BuildResult, list[BuildProgress]]:
    events: list[BuildProgress] = []
    kwargs.setdefault("network", "host")  # the private engines have no bridge network
    result = build_buildkit(
        engine.client,
        engine.url,
        dockerfile,
        BuildOptions(context, path, **kwargs),
        on_progress=events.append,
    )
    return result, events


def saved_config_bytes(client: docker.APIClient, image_id: str) -> bytes:
    """The image configuration exactly as ``docker save`` writes it (Docker or OCI layout)."""
    return saved_config_and_digest(client, image_id)[0]


def saved_config_and_digest(client: docker.APIClient, image: str) -> tuple[bytes, str]:
    """``docker save``'s image configuration and the digest the engine gives it: the image id on the
    overlay2 store; on the containerd store the image id names the manifest, which names the config."""
    image_id = client.inspect_image(image)["Id"]
    with tempfile.TemporaryFile() as tmp:
        for chunk in client.get_image(image, chunk_size=1 << 20):
            tmp.write(chunk)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp) as tar:
            names = set(tar.getnames())
            manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
            member = tar.extractfile(manifest[0]["Config"])
            assert member is not None
            raw = member.read()
            blob = "blobs/sha256/" + image_id.split(":", 1)[1]
            if "oci-layout" in names and blob in names:
                oci = json.load(tar.extractfile(blob))  # type: ignore[arg-type]
                return raw, str(oci["config"]["digest"])
            return raw, image_id


def untag(client: docker.APIClient, tag: str = TAG) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        client.remove_image(tag)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_sample_builds_with_buildkit(
    api_engine: Any, seeded_images: dict[str, str], case: tuple[Any, ...]
) -> None:
    sample, name, args, target, shape, numbers = case
    path = SAMPLES / sample / name
    dockerfile = load(path, args)
    try:
        result, events = build(
            api_engine,
            dockerfile,
            SAMPLES / sample,
            path,
            build_args=args or {},
            target=target,
            tag=TAG,
            no_cache=True,
        )
        assert result.failure is None
        assert result.image_id == api_engine.client.inspect_image(TAG)["Id"]
        raw, config_digest = saved_config_and_digest(api_engine.client, TAG)
    finally:
        untag(api_engine.client)
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == config_digest
    history = json.loads(raw)["history"]
    base = dockerfile.stages[dockerfile.chain(target)[0]].base
    got = "".join(
        "E" if h.get("empty_layer", False) else "L" for h in history[len(api_engine.client.history(base)) :]
    )
    assert got == shape
    assert [s.number for s in result.steps] == numbers
    # Steps with a vertex: FROM of a needed stage, or an instruction that makes one.
    by_number = dict(enumerate(dockerfile.instructions, start=1))
    needed = needed_stages(dockerfile, target)
    for step in result.steps:
        inst = by_number[step.number]
        assert inst.stage in needed
        assert inst.keyword == "FROM" or inst.keyword in VERTEX_KEYWORDS
        assert step.duration_s is not None and step.duration_s >= 0
        if inst.keyword in ("RUN", "COPY", "ADD"):
            assert step.cached is False  # no_cache
    assert events[-1].kind == "stage-done" and events[-1].line == result.image_id


def test_failing_run_reports_exit_code_and_output(
    api_engine: Any, seeded_images: dict[str, str], tmp_path: Path
) -> None:
    text = "FROM busybox:latest\nENV A=1\nRUN echo ok\nRUN echo one; echo two >&2; exit 3\nRUN echo never\n"
    (tmp_path / "Dockerfile").write_text(text)
    result, _ = build(api_engine, parse(text), tmp_path, tmp_path / "Dockerfile", no_cache=True)
    assert result.image_id is None
    failure = result.failure
    assert failure is not None
    assert (failure.exit_code, failure.step_number) == (3, 4)
    assert sorted(failure.output_tail) == ["one", "two"]  # stdout and stderr arrive separately
    assert failure.message.endswith("exit code: 3")
    assert failure.vertex == "[3/4] RUN echo one; echo two >&2; exit 3"
    assert [s.number for s in result.steps] == [1, 3, 4]


def test_dockerignore_and_a_dockerfile_outside_the_context(
    api_engine: Any, seeded_images: dict[str, str], tmp_path: Path
) -> None:
    context = tmp_path / "ctx"
    (context / "sub").mkdir(parents=True)
    (context / "keep.txt").write_text("k")
    (context / "sub" / "drop.log").write_text("d")
    (context / "sub" / "keep.log").write_text("k")
    (context / ".dockerignore").write_text("*.log\n**/*.log\n!sub/keep.log\n")
    outside = tmp_path / "build.Dockerfile"
    text = "FROM busybox:latest\nCOPY . /ctx\nRUN find /ctx -type f | sort\n"
    outside.write_text(text)
    result, events = build(api_engine, load(outside), context, outside, no_cache=True)
    untag_id(api_engine.client, result.image_id)
    assert result.failure is None
    listed = [e.line for e in events if e.kind == "output" and e.step == 3]
    # Without a session the Dockerfile travels inside the context, as with the SDK's classic builds:
    # `COPY .` picks it up (BuildKit applies no .dockerignore to an uploaded tar).
    generated = f"/ctx/.dockerfile.{hashlib.sha256(text.encode()).hexdigest()[:40]}"
    assert listed == [generated, "/ctx/.dockerignore", "/ctx/keep.txt", "/ctx/sub/keep.log"]


def test_layer_facts_under_buildkit(api_engine: Any, seeded_images: dict[str, str], tmp_path: Path) -> None:
    """Which instructions make history entries and layers (the image configuration says)."""
    text = (
        "FROM busybox:latest AS base\n"
        "ONBUILD RUN echo trigger > /t\n"  # declared: no history entry
        "ONBUILD ENV T=1\n"
        "RUN true\n"  # a layer even though nothing changes
        "WORKDIR /\n"  # an entry, no layer
        "WORKDIR /tmp\n"  # a layer although /tmp exists
        "ENV A=1\n"
        "FROM base\n"  # runs base's triggers: RUN (layer) and ENV (entry)
        "RUN test -f /t\n"
    )
    (tmp_path / "Dockerfile").write_text(text)
    result, _ = build(api_engine, parse(text), tmp_path, tmp_path / "Dockerfile", no_cache=True, tag=TAG)
    try:
        assert result.failure is None
        raw = saved_config_bytes(api_engine.client, TAG)
    finally:
        untag(api_engine.client)
    config = json.loads(raw)
    added = config["history"][len(api_engine.client.history("busybox:latest")) :]
    assert [(h["created_by"], h.get("empty_layer", False)) for h in added] == [
        ("RUN /bin/sh -c true # buildkit", False),
        ("WORKDIR /", True),
        ("WORKDIR /tmp", False),
        ("ENV A=1", True),
        ("RUN /bin/sh -c echo trigger > /t # buildkit", False),
        ("ENV T=1", True),
        ("RUN /bin/sh -c test -f /t # buildkit", False),
    ]
    assert {h.get("comment") for h in added} == {"buildkit.dockerfile.v0"}
    assert config.get("config", {}).get("OnBuild") is None  # the child consumed the triggers
    # Step numbers: 1 FROM, 4 RUN, 6 WORKDIR /tmp, 8 FROM base (its triggers), 9 RUN; none for 5 (`/`).
    assert [s.number for s in result.steps] == [1, 4, 6, 8, 9]


def test_target_stage_after_a_full_build_is_cached_and_stable(
    api_engine: Any, seeded_images: dict[str, str], tmp_path: Path
) -> None:
    """A cheap way to get a non-final stage's image: build again with that stage as the target."""
    text = (
        "FROM busybox:latest AS builder\nWORKDIR /src\nRUN echo built > out\n"
        "FROM busybox:latest\nCOPY --from=builder /src/out /out\n"
    )
    (tmp_path / "Dockerfile").write_text(text)
    dockerfile = parse(text)
    full, _ = build(api_engine, dockerfile, tmp_path, tmp_path / "Dockerfile", no_cache=True)
    first, _ = build(api_engine, dockerfile, tmp_path, tmp_path / "Dockerfile", target="builder")
    again, _ = build(api_engine, dockerfile, tmp_path, tmp_path / "Dockerfile", target="builder")
    try:
        assert full.failure is None and first.failure is None
        assert [(s.number, s.cached) for s in first.steps] == [(1, None), (2, True), (3, True)]
        assert {s.total for s in first.steps} == {3}
        assert again.image_id == first.image_id  # same config: the cache keeps the history's times
        history = api_engine.client.history(first.image_id)
        assert [h["CreatedBy"] for h in history[:2]] == [
            "RUN /bin/sh -c echo built > out # buildkit",
            "WORKDIR /src",
        ]
    finally:
        untag_id(api_engine.client, full.image_id)
        untag_id(api_engine.client, first.image_id)


def test_ctrl_c_cancels_the_build_and_leaves_no_container(
    api_engine: Any, seeded_images: dict[str, str], tmp_path: Path
) -> None:
    token = f"{os.getpid() % 1000}.{int(time.time()) % 1000}"
    text = f"FROM busybox:latest\nRUN echo started; sleep {token}; echo finished\n"
    (tmp_path / "Dockerfile").write_text(text)
    before = {c["Id"] for c in api_engine.client.containers(all=True)}

    def interrupt(event: BuildProgress) -> None:
        if event.kind == "output" and event.line == "started":
            assert _wait(lambda: _sleeping(token)), "the RUN should be running now"
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_buildkit(
            api_engine.client,
            api_engine.url,
            parse(text),
            BuildOptions(tmp_path, tmp_path / "Dockerfile", network="host", no_cache=True),
            on_progress=interrupt,
        )
    assert _wait(lambda: not _sleeping(token)), "the daemon should have stopped the RUN"
    assert {c["Id"] for c in api_engine.client.containers(all=True)} <= before


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _sleeping(token: str) -> bool:
    """Whether a process runs `sleep <token>` (the engines under test run on this machine)."""
    wanted = f"sleep\0{token}\0".encode()
    return any(_cmdline(proc) == wanted for proc in Path("/proc").iterdir() if proc.name.isdigit())


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


def test_unreachable_engine_is_an_engine_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox:latest\n")
    address = f"unix://{tmp_path}/no.sock"
    client = docker.APIClient(base_url=address, version="1.41")
    with pytest.raises(
        EngineError, match=f"^lost the Docker engine at {address} while trying to build the image: "
    ):
        build_buildkit(
            client, address, parse("FROM busybox:latest\n"), BuildOptions(tmp_path, tmp_path / "Dockerfile")
        )


def test_stage_name_case(api_engine: Any, seeded_images: dict[str, str], tmp_path: Path) -> None:
    """``AS Base`` then ``FROM Base``: the frontend looks the name up as an image (a rejection), on 20.10
    and on 28.5 (which sends it without 20.10's "failed to create LLB definition" prefix)."""
    text = "FROM busybox:latest AS Base\nRUN true\nFROM Base\nRUN true\n"
    (tmp_path / "Dockerfile").write_text(text)
    with pytest.raises(DockerfileError, match='failed to parse stage name "Base"') as raised:
        build(api_engine, parse(text), tmp_path, tmp_path / "Dockerfile")
    assert raised.value.line == 3  # the FROM naming it


def untag_id(client: docker.APIClient, image_id: str | None) -> None:
    if image_id is not None:
        with contextlib.suppress(docker.errors.APIError):
            client.remove_image(image_id)


def test_containerd_store_refuses_an_uploaded_context(engine: Any, tmp_path: Path) -> None:
    if not refuses_upload(engine):
        pytest.skip("only the containerd image store before 28 lacks the upload path")
    text = "FROM busybox:latest\nRUN true\n"
    (tmp_path / "Dockerfile").write_text(text)
    with pytest.raises(
        EngineError, match=r"cannot build an uploaded context with BuildKit .*moby/moby#47717"
    ):
        build(engine, parse(text), tmp_path, tmp_path / "Dockerfile")
