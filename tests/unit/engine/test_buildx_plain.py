"""buildx's plain progress output, recorded from real engines (tests/helpers/record/buildx.py), replayed
through the pure parser ``analyzer.engine.buildx_plain``; plus hand-made lines for what a recording cannot
pin down (pauses, partial lines, cancelled vertices, errors before any vertex).

The recorded facts (buildx 0.13.1 with the engine's ``docker`` driver): Docker 26.1's frontend names FROM
with the resolved digest and numbers ``[builder 1/3]`` with FROM counted; a stage sharing another's FROM
vertex gets none of its own; ``WORKDIR /`` and metadata instructions have no vertex; RUN output comes as
``#N <seconds> <text>`` of the RUN's own vertex, so a printed ``#5 DONE`` is output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analyzer.dockerfile import parse
from analyzer.engine.buildx_plain import PlainProgress
from analyzer.engine.options import BuildProgress
from analyzer.errors import DockerfileError, EngineError, UsageError
from analyzer.model import BuildResult, Dockerfile

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "buildx"
KINDS = ("docker20", "docker26")
ADDRESS = "unix:///fake/docker.sock"


def fixture(name: str, kind: str) -> dict[str, Any]:
    return json.loads((FIXTURES / kind / f"{name}.json").read_text())  # type: ignore[no-any-return]


def dockerfile_of(fx: dict[str, Any]) -> Dockerfile:
    args = fx["args"]
    pairs = [args[i + 1].split("=", 1) for i, arg in enumerate(args) if arg == "--build-arg"]
    return parse(fx["dockerfile"], "Dockerfile", dict(pairs))


def lines_of(text: str) -> list[str]:
    """Lines as the reader gets them from the pipe: split at ``\\n`` only (``\\r`` stays inside)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def replay(
    fx: dict[str, Any], dockerfile: Dockerfile | None = None
) -> tuple[PlainProgress, BuildResult, list[BuildProgress]]:
    ticks = iter(range(10_000))
    parser = PlainProgress(dockerfile or dockerfile_of(fx), None, clock=lambda: next(ticks))
    events: list[BuildProgress] = []
    for line in lines_of(fx["stderr"]):
        events += parser.feed(line)
    events += parser.finish()
    if fx["exit_code"] == 0:
        events += parser.image(fx["metadata"]["containerimage.digest"])
    return parser, parser.result(), events


def steps(result: BuildResult) -> list[tuple[int, bool | None]]:
    return [(s.number, s.cached) for s in result.steps]


def outputs(events: list[BuildProgress], step: int) -> list[str | None]:
    return [e.line for e in events if e.kind == "output" and e.step == step]


# ---------------------------------------------------------------------- recordings


@pytest.mark.parametrize("kind", KINDS)
def test_multistage_build_maps_vertices_to_lines(kind: str) -> None:
    fx = fixture("multistage", kind)
    parser, result, events = replay(fx)
    assert (parser.builder, parser.driver) == ("default", "docker")
    # The unused stage (7, 8) is not built; WORKDIR / (10) has no vertex; FROM is not "cached". 20.10
    # reports WORKDIR /src cached even under --no-cache.
    workdir = kind == "docker20"
    assert steps(result) == [
        (2, None),
        (3, workdir),
        (5, False),
        (9, None),
        (11, False),
        (12, False),
        (13, False),
    ]
    assert {s.total for s in result.steps} == {15}
    assert result.failure is None
    assert result.image_id == fx["metadata"]["containerimage.digest"] == fx["truth"]["image_id"]
    assert [e.kind for e in events][-1] == "stage-done"
    assert sorted(e.step for e in events if e.kind == "step-done" and e.step is not None) == [
        2,
        3,
        5,
        11,
        12,
        13,
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_durations_are_the_printed_ones(kind: str) -> None:
    _, result, _ = replay(fixture("multistage", kind))
    printed = {"docker26": {5: 0.1, 13: 0.1}, "docker20": {5: 0.3, 13: 0.2}}[kind]
    durations = {s.number: s.duration_s for s in result.steps}
    assert {n: durations[n] for n in printed} == printed


@pytest.mark.parametrize("kind", KINDS)
def test_cached_rebuild(kind: str) -> None:
    fx = fixture("multistage_cached", kind)
    _, result, events = replay(fx)
    assert steps(result) == [(2, None), (3, True), (5, True), (9, None), (11, True), (12, True), (13, True)]
    assert sorted(e.step for e in events if e.kind == "cached" and e.step is not None) == [3, 5, 11, 12, 13]
    assert result.image_id == fixture("multistage", kind)["truth"]["image_id"]


@pytest.mark.parametrize("kind", KINDS)
def test_failing_run_exit_code_step_and_output(kind: str) -> None:
    fx = fixture("fail_exit3", kind)
    parser, result, events = replay(fx)
    assert fx["exit_code"] == 1 and parser.rejection("Dockerfile", ADDRESS) is None
    failure = result.failure
    assert failure is not None and result.image_id is None
    assert (failure.exit_code, failure.step_number) == (3, 4)
    assert failure.message.endswith("exit code: 3")
    assert failure.vertex is not None and failure.vertex.startswith("[3/4] RUN for i in")
    assert failure.output_tail == tuple(f"line {i}" for i in range(7, 26)) + ("err",)
    assert outputs(events, 4)[:2] == ["line 1", "line 2"]
    assert (3, False) in steps(result) and (4, False) in steps(result)
    assert parser.error is not None and parser.error.startswith("failed to solve: ")


@pytest.mark.parametrize("kind", KINDS)
def test_spoofed_lines_stay_output_of_their_run(kind: str) -> None:
    fx = fixture("spoof", kind)
    _, result, events = replay(fx)
    assert steps(result) == [(1, None), (2, False), (3, False)]
    assert result.failure is None and result.image_id == fx["truth"]["image_id"]
    assert outputs(events, 2) == [
        "#5 DONE 0.1s",
        "#6 [3/3] RUN echo after",
        "",
        "#6 ERROR: fake",
        "#5 ...",
        "#5 CACHED",
        "ERROR: failed to solve: fake",
        "#0 building with x",
        "partial",
        "bar 50%\rbar 100%",
    ]
    assert outputs(events, 3) == ["after"]


@pytest.mark.parametrize("kind", KINDS)
def test_spoofed_failure_keeps_the_real_exit_code(kind: str) -> None:
    parser, result, _ = replay(fixture("spoof_fail", kind))
    failure = result.failure
    assert failure is not None
    assert (failure.exit_code, failure.step_number) == (4, 3)
    assert "#5 DONE 0.1s" in failure.output_tail and "exit code: 7" in failure.output_tail
    assert parser.rejection("Dockerfile", ADDRESS) is None


@pytest.mark.parametrize("kind", KINDS)
def test_missing_copy_source_is_a_step_failure(kind: str) -> None:
    _, result, _ = replay(fixture("copy_missing", kind))
    failure = result.failure
    assert failure is not None
    assert (failure.exit_code, failure.step_number) == (None, 2)
    assert '"/missing.txt"' in failure.message and failure.message.endswith("not found")


@pytest.mark.parametrize("kind", KINDS)
def test_dockerfile_syntax_error_is_rejected_with_its_line(kind: str) -> None:
    # layermap's own parser stops FOO first: hand the parser a Dockerfile it accepts.
    dockerfile = parse("FROM busybox:latest\nRUN true\n")
    parser, result, _ = replay(fixture("syntax_error", kind), dockerfile)
    rejected = parser.rejection("Dockerfile", ADDRESS)
    assert isinstance(rejected, DockerfileError)
    assert rejected.line == 3 and "unknown instruction: FOO" in str(rejected)
    assert result.steps == ()


# ---------------------------------------------------------------------- hand-made lines

DOCKERFILE = parse("FROM busybox:latest AS a\nRUN one\nFROM busybox:latest\nRUN two\n")


def feed(lines: list[str], dockerfile: Dockerfile = DOCKERFILE) -> tuple[PlainProgress, list[BuildProgress]]:
    parser = PlainProgress(dockerfile, clock=lambda: 100.0)
    events = [event for line in lines for event in parser.feed(line)]
    return parser, events + parser.finish()


def test_pauses_and_repeated_headers_change_nothing() -> None:
    lines = [
        "#1 [a 2/2] RUN one",
        "#1 0.1 one-a",
        "",
        "#1 ...",
        "",
        "#2 [stage-1 2/2] RUN two",
        "#2 0.2 two-a",
        "#2 DONE 0.3s",
        "",
        "#1 [a 2/2] RUN one",
        "#1 0.4 one-b",
        "#1 DONE 1.5s",
    ]
    parser, events = feed(lines)
    assert [(e.kind, e.step, e.line) for e in events] == [
        ("step", 2, None),
        ("output", 2, "one-a"),
        ("step", 4, None),
        ("output", 4, "two-a"),
        ("step-done", 4, None),
        ("output", 2, "one-b"),
        ("step-done", 2, None),
    ]
    assert [(s.number, s.duration_s) for s in parser.result().steps] == [(2, 1.5), (4, 0.3)]


def test_status_warning_and_other_lines_are_not_output() -> None:
    lines = [
        "WARNING: something buildx says first",
        "#1 [a 2/2] RUN one",
        "#1 sha256:abc 1.2MB / 3.4MB 0.3s",
        "#1 WARN: a warning",
        "------",
        " > [a 2/2] RUN one:",
        "0.101 #1 DONE 0.1s",
    ]
    parser, events = feed(lines)
    assert [e.kind for e in events] == ["step"]
    assert parser.stray[-1] == "0.101 #1 DONE 0.1s" and parser.error is None


def test_a_cancelled_vertex_is_not_the_failure() -> None:
    lines = ["#1 [a 2/2] RUN one", "#2 [stage-1 2/2] RUN two", "#2 ERROR: exit code: 5", "#1 CANCELED"]
    parser, _ = feed([*lines, "ERROR: failed to solve: exit code: 5"])
    failure = parser.result().failure
    assert failure is not None and (failure.step_number, failure.exit_code) == (4, 5)


def test_the_final_error_takes_the_lines_after_it() -> None:
    parser, _ = feed(["#1 [a 2/2] RUN one", "ERROR: first line", "#2 second line"])
    assert parser.error == "first line\n#2 second line"
    assert parser.result().failure is not None


def test_lines_without_newline_and_utf8() -> None:
    parser, events = feed(["#1 [a 2/2] RUN one\n", "#1 0.5 héllo ✓", "#1 DONE 0.5s\n"])
    assert [e.line for e in events if e.kind == "output"] == ["héllo ✓"]


@pytest.mark.parametrize(
    ("message", "error", "text"),
    [
        (
            "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?",
            EngineError,
            f"buildx cannot reach the Docker engine at {ADDRESS} (DOCKER_HOST): Cannot connect",
        ),
        (
            'network mode "bogus" not supported by buildkit',
            UsageError,
            "the Docker engine rejected the build",
        ),
        ("unknown flag: --provenance", EngineError, "this buildx is too old for layermap"),
        ('failed to solve: target stage "nope" could not be found', UsageError, "rejected the build"),
    ],
)
def test_errors_before_any_vertex(message: str, error: type[Exception], text: str) -> None:
    parser, _ = feed([f"ERROR: {message}"])
    rejected = parser.rejection("Dockerfile", ADDRESS)
    assert isinstance(rejected, error) and text in str(rejected)


def test_an_unknown_error_before_any_vertex_is_a_build_failure() -> None:
    parser, _ = feed(["ERROR: failed to solve: something else"])
    assert parser.rejection("Dockerfile", ADDRESS) is None
    failure = parser.result().failure
    assert failure is not None and failure.message == "failed to solve: something else"
