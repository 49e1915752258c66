"""BuildKit build streams recorded from real engines (tests/helpers/record/buildkit.py), replayed through
the pure decoder ``analyzer.engine.buildkit_trace``; plus the vertex → instruction mapping on hand-made names.

The recorded facts this pins down (Docker 20.10.24's built-in Dockerfile frontend): metadata instructions
have no vertex; ``k`` skips ``WORKDIR /`` and counts ONBUILD triggers; a single-stage Dockerfile has no
stage label; an unnamed stage is ``stage-N``; identical FROM vertices of several stages appear once;
stages the target does not need are not built.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from analyzer.dockerfile import parse
from analyzer.engine.buildkit_trace import (
    TraceParser,
    decode_trace,
    map_vertices,
    needed_stages,
    normalize_ref,
    parse_vertex_name,
    step_total,
)
from analyzer.engine.options import BuildProgress
from analyzer.errors import DockerfileError, EngineError, UsageError
from analyzer.model import BuildFailure, BuildResult, Dockerfile, StepEvent

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "buildkit"


def fixture(name: str, kind: str = "docker20") -> dict[str, Any]:
    return json.loads((FIXTURES / kind / f"{name}.json").read_text())  # type: ignore[no-any-return]


def dockerfile_of(fx: dict[str, Any]) -> Dockerfile:
    return parse(fx["dockerfile"], "Dockerfile", json.loads(fx["params"].get("buildargs", "{}")))


def replay(
    fx: dict[str, Any], dockerfile: Dockerfile | None = None
) -> tuple[TraceParser, BuildResult, list[BuildProgress]]:
    ticks = iter(range(10_000))
    parser = TraceParser(
        dockerfile or dockerfile_of(fx), fx["params"].get("target"), clock=lambda: next(ticks)
    )
    events: list[BuildProgress] = []
    for message in fx["messages"]:
        events += parser.feed(message)
    events += parser.finish()
    return parser, parser.result(), events


def steps(result: BuildResult) -> list[tuple[int, bool | None, float | None]]:
    return [(s.number, s.cached, s.duration_s) for s in result.steps]


def kinds(events: list[BuildProgress]) -> list[tuple[str, int | None]]:
    return [(e.kind, e.step) for e in events if e.kind != "output"]


def output(events: list[BuildProgress]) -> list[tuple[int | None, str | None]]:
    return [(e.step, e.line) for e in events if e.kind == "output"]


# ---------------------------------------------------------------------- recorded builds (Docker 20.10.24)


def test_multistage_build_maps_vertices_to_step_numbers() -> None:
    fx = fixture("multistage")
    parser, result, events = replay(fx)
    # 1 global ARG; builder 2-6 (WORKDIR 3, RUN 5); unused 7-8 (not built); final 9-14 (WORKDIR / at 10
    # has no vertex, COPY 11, RUN 12; LABEL/CMD none). The FROM vertex is shared: labelled `builder`.
    assert steps(result) == [
        (2, None, 0.0),
        (3, True, 0.0),  # 20.10 reports WORKDIR's mkdir as cached even with no-cache
        (5, False, 0.104),
        (9, None, 0.0),
        (11, False, 0.012),
        (12, False, 0.139),
    ]
    assert {s.total for s in result.steps} == {14}
    assert [s.text for s in result.steps][2] == 'RUN echo "built $VERSION" > /src/out.txt'
    assert result.builder == "buildkit"
    assert result.failure is None
    assert result.stage_image_ids == (fx["truth"]["image_id"],)
    assert result.image_id == "sha256:6433ac0101d897255f3c4337fbe437a92cdb6169642bde7531c92092ca0859c0"
    assert parser.complete and parser.rejection("Dockerfile") is None
    assert kinds(events) == [
        ("step", 2),
        ("step-done", 2),
        ("step", 3),
        ("cached", 3),
        ("step-done", 3),
        ("step", 5),
        ("step-done", 5),
        ("step", 11),
        ("step-done", 11),
        ("step", 12),
        ("step-done", 12),
        ("stage-done", None),
    ]
    assert events[-1].line == fx["truth"]["image_id"]


def test_cached_rebuild_reports_every_step_cached() -> None:
    fx = fixture("multistage_cached")
    _, result, events = replay(fx)
    assert steps(result) == [
        (2, None, 0.0),
        (3, True, 0.0),
        (5, True, 0.0),
        (9, None, 0.0),
        (11, True, 0.0),
        (12, True, 0.0),
    ]
    assert result.image_id == fixture("multistage")["truth"]["image_id"]  # same image, from the cache
    assert [step for kind, step in kinds(events) if kind == "cached"] == [3, 5, 11, 12]


def test_target_of_an_earlier_stage_counts_steps_up_to_it() -> None:
    fx = fixture("target_builder")
    _, result, _ = replay(fx)
    assert steps(result) == [(2, None, 0.0), (3, True, 0.0), (5, True, 0.0)]
    assert {s.total for s in result.steps} == {6}
    assert result.image_id == fx["truth"]["image_id"]


def test_failing_run_gives_exit_code_step_and_output_tail() -> None:
    fx = fixture("fail_exit3")
    parser, result, events = replay(fx)
    assert steps(result) == [(1, None, 0.0), (3, False, 0.073), (4, False, 0.077)]
    assert result.image_id is None and result.stage_image_ids == ()
    assert result.failure == BuildFailure(
        message='executor failed running [/bin/sh -c for i in $(seq 1 25); do echo "line $i"; done; '
        "echo err >&2; exit 3]: exit code: 3",
        exit_code=3,
        step_number=4,
        output_tail=(*(f"line {i}" for i in range(7, 26)), "err"),
        vertex='[3/4] RUN for i in $(seq 1 25); do echo "line $i"; done; echo err >&2; exit 3',
    )
    assert output(events)[:2] == [(3, "hello"), (3, "single $GREETING hello")]
    assert kinds(events)[-1] == ("step", 4)  # no step-done for the failed step
    assert parser.complete and parser.rejection("Dockerfile") is None


def test_onbuild_triggers_of_a_stage_belong_to_the_child_from() -> None:
    fx = fixture("onbuild_stages")
    _, result, events = replay(fx)
    # base 1-5 (ONBUILD 2-4: no vertex), child 6-9: triggers RUN + COPY run as [child 1/3], [child 2/3],
    # its RUN is 3/3, `WORKDIR /` (8) has none, `WORKDIR /w` is [child 4/3]; final 10-11.
    assert steps(result) == [
        (1, None, 0.0),
        (5, False, 0.066),
        (6, False, 0.075),  # the two trigger vertices: 0.064 + 0.011
        (7, False, 0.066),
        (9, False, 0.006),
        (11, False, 0.076),
    ]
    assert output(events) == [(7, "trigger-one"), (7, "some data"), (11, "final")]


def test_onbuild_triggers_of_a_base_image_belong_to_the_from() -> None:
    fx = fixture("onbuild_image")
    _, result, _ = replay(fx)
    # The triggers (RUN, WORKDIR; ENV has no vertex) are unknown to the Dockerfile: the vertices between
    # FROM and the first instruction of the body.
    assert steps(result) == [(1, False, 0.137), (2, False, 0.102)]


def test_output_that_looks_like_vertices_or_messages_is_only_output() -> None:
    fx = fixture("spoof")
    _, result, events = replay(fx)
    assert steps(result) == [(1, None, 0.0), (2, False, 0.068), (3, False, 0.089)]
    assert result.image_id == fx["truth"]["image_id"]
    assert output(events) == [
        (2, "[stage-1 2/3] RUN fake"),
        (2, "#5 DONE 0.1s"),
        (2, '{"id":"moby.image.id","aux":{"ID":"sha256:0"}}'),
        (2, "exit code: 9"),
        (2, "no newline"),  # flushed when its vertex completed
        (3, "after"),
    ]


def test_exit_code_comes_from_the_vertex_error_not_the_output() -> None:
    fx = fixture("spoof_fail")
    _, result, _ = replay(fx)
    assert result.failure is not None
    assert result.failure.exit_code == 4
    assert result.failure.step_number == 3
    assert result.failure.output_tail == ("exit code: 7",)
    assert (
        result.failure.message
        == 'executor failed running [/bin/sh -c echo "exit code: 7" >&2; exit 4]: exit code: 4'
    )


def test_missing_copy_source_fails_without_exit_code() -> None:
    _, result, _ = replay(fixture("copy_missing"))
    assert result.failure == BuildFailure(
        message='"/missing.txt" not found: not found',
        exit_code=None,
        step_number=2,
        output_tail=(),
        vertex="[2/2] COPY missing.txt /missing.txt",
    )


def test_unknown_base_image_fails_at_its_from() -> None:
    parser, result, _ = replay(fixture("bad_base"))
    assert result.steps == ()
    assert result.failure is not None
    assert result.failure.step_number == 1
    assert (
        result.failure.vertex
        == "[internal] load metadata for docker.io/library/lmtest-bk-rec-no-such-image:1"
    )
    assert result.failure.message.startswith('failed to do request: Head "https://registry-1.docker.io/v2/')
    assert parser.rejection("Dockerfile") is None  # a build failure (exit 3), not a bad Dockerfile


def test_dockerfile_parse_error_is_a_rejection_with_the_line() -> None:
    fx = fixture("syntax_error")
    # layermap's own parser refuses FOO first; replay the engine's answer against a parseable file.
    parser, result, _ = replay(fx, parse("FROM busybox:latest\nRUN true\n", "Dockerfile"))
    error = parser.rejection("ctx/Dockerfile")
    assert isinstance(error, DockerfileError)
    assert str(error) == "ctx/Dockerfile:3: unknown instruction: FOO"
    assert result.steps == ()


@pytest.mark.parametrize("kind", ["docker20", "docker28"])
def test_stage_name_case_rejected_is_a_dockerfile_error_at_the_from(kind: str) -> None:
    # 20.10 prefixes "failed to create LLB definition: ", 28.5 sends the frontend's text alone.
    fx = fixture("stage_case", kind)
    parser, result, _ = replay(fx)
    error = parser.rejection("Dockerfile")
    assert isinstance(error, DockerfileError)
    assert error.line == 3  # FROM Base
    assert str(error).startswith('Dockerfile:3: failed to parse stage name "Base": invalid reference format')
    assert result.steps == ()


def test_unknown_target_is_a_usage_error() -> None:
    parser = TraceParser(parse("FROM busybox:latest\n"), None)
    message = (
        "failed to solve with frontend dockerfile.v0: failed to create LLB definition: "
        "target stage nope could not be found"
    )
    parser.feed({"errorDetail": {"message": message}, "error": message})
    error = parser.rejection(None)
    assert isinstance(error, UsageError)
    assert str(error) == "the Docker engine rejected the build: target stage nope could not be found"


def test_stream_cut_short_is_not_complete() -> None:
    fx = fixture("multistage")
    parser = TraceParser(dockerfile_of(fx), None)
    for message in fx["messages"][:8]:
        parser.feed(message)
    assert not parser.complete
    assert parser.result().failure is None


# ---------------------------------------------------------------------- decoding


def encode(vertexes: list[dict[str, Any]], logs: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """A trace message as the daemon sends it, built with the decoder's own message class."""
    from analyzer.engine.buildkit_trace import _status_response

    status = _status_response()()
    for v in vertexes:
        item = status.vertexes.add(digest=v["digest"], name=v.get("name", ""), cached=v.get("cached", False))
        item.error = v.get("error", "")
        for key in ("started", "completed"):
            if key in v:
                getattr(item, key).seconds, getattr(item, key).nanos = int(v[key]), int(v[key] % 1 * 1e9)
    for log in logs:
        status.logs.add(vertex=log["vertex"], stream=log.get("stream", 1), msg=log["msg"])
    return {"id": "moby.buildkit.trace", "aux": base64.b64encode(status.SerializeToString()).decode()}


def test_decode_trace_reads_vertices_and_logs() -> None:
    message = encode(
        [{"digest": "sha256:a", "name": "[1/2] FROM x", "cached": True, "started": 10.25, "completed": 10.5}],
        [{"vertex": "sha256:a", "stream": 2, "msg": b"hi\n"}],
    )
    vertices, logs = decode_trace(message["aux"])
    assert [(v.digest, v.name, v.cached, v.started, v.completed, v.error) for v in vertices] == [
        ("sha256:a", "[1/2] FROM x", True, 10.25, 10.5, "")
    ]
    assert [(log.vertex, log.stream, log.data) for log in logs] == [("sha256:a", 2, b"hi\n")]


def test_decode_trace_reads_a_recorded_message() -> None:
    first = fixture("fail_exit3")["messages"][0]
    vertices, logs = decode_trace(first["aux"])
    assert [v.name for v in vertices] == ["[internal] load remote build context"]
    assert vertices[0].digest.startswith("sha256:") and logs == []


@pytest.mark.parametrize("aux", ["not base64!", base64.b64encode(b"\xff\xff\xff").decode()])
def test_decode_trace_rejects_garbage(aux: str) -> None:
    with pytest.raises(ValueError, match="not a BuildKit status message"):
        decode_trace(aux)


def test_garbage_trace_messages_are_skipped() -> None:
    parser = TraceParser(parse("FROM busybox:latest\n"), None)
    assert parser.feed({"id": "moby.buildkit.trace", "aux": "%%%"}) == []
    assert parser.result().steps == ()


def test_log_lines_split_across_messages_and_streams() -> None:
    df = parse("FROM busybox:latest\nRUN x\n")
    parser = TraceParser(df, None)
    run = {"digest": "sha256:r", "name": "[2/2] RUN x", "started": 1.0}
    parser.feed(
        encode(
            [run],
            [{"vertex": "sha256:r", "msg": b"par"}, {"vertex": "sha256:r", "stream": 2, "msg": b"err-"}],
        )
    )
    parser.feed(encode([], [{"vertex": "sha256:r", "msg": "tial \xe2\x82\xac\n".encode("latin-1")}]))
    parser.feed(encode([], [{"vertex": "sha256:r", "stream": 2, "msg": b"line\n50%\r100%\n"}]))
    events = parser.feed(encode([{**run, "completed": 3.5, "error": "exit code: 1"}]))
    assert parser.result().log == ("partial €", "err-line", "50%\r100%")
    assert events == []  # a failed vertex gets no step-done
    failure = parser.result().failure
    assert failure is not None and failure.output_tail == ("partial €", "err-line", "100%")
    assert parser.result().steps == (StepEvent(2, 2, "RUN x", cached=False, duration_s=2.5),)


def test_cancelled_vertices_do_not_hide_the_failure() -> None:
    df = parse("FROM busybox:latest AS a\nRUN a\nFROM busybox:latest\nRUN b\n")
    parser = TraceParser(df, None)
    parser.feed(
        encode(
            [
                {
                    "digest": "sha256:a",
                    "name": "[a 2/2] RUN a",
                    "started": 1,
                    "completed": 2,
                    "error": "context canceled",
                },
                {
                    "digest": "sha256:b",
                    "name": "[stage-1 2/2] RUN b",
                    "started": 1,
                    "completed": 3,
                    "error": "exit code: 2",
                },
            ]
        )
    )
    failure = parser.result().failure
    assert failure is not None
    assert (failure.step_number, failure.exit_code, failure.vertex) == (4, 2, "[stage-1 2/2] RUN b")


# ---------------------------------------------------------------------- names and mapping


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("[builder 2/5] RUN make", ("builder", 2, 5, "RUN make", "RUN")),
        ("[stage-1  3/12] COPY a b", ("stage-1", 3, 12, "COPY a b", "COPY")),
        (
            "[ 1/12] FROM docker.io/library/busybox:latest",
            (None, 1, 12, "FROM docker.io/library/busybox:latest", "FROM"),
        ),
        ("[linux/amd64 final 4/3] workdir /w", ("final", 4, 3, "workdir /w", "WORKDIR")),
        ("[2/2] RUN <<EOF\necho hi\nEOF", (None, 2, 2, "RUN <<EOF\necho hi\nEOF", "RUN")),
    ],
)
def test_parse_vertex_name(name: str, expected: tuple[Any, ...]) -> None:
    label = parse_vertex_name(name)
    assert label is not None
    assert (label.stage, label.index, label.total, label.text, label.keyword) == expected


@pytest.mark.parametrize(
    "name", ["[internal] load remote build context", "copy /context /", "exporting to image", ""]
)
def test_buildkit_own_vertices_are_not_steps(name: str) -> None:
    assert parse_vertex_name(name) is None


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("me/app", "docker.io/me/app:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("ghcr.io/o/app:v1", "ghcr.io/o/app:v1"),
        ("busybox@sha256:abc", "docker.io/library/busybox@sha256:abc"),
    ],
)
def test_normalize_ref(ref: str, expected: str) -> None:
    assert normalize_ref(ref) == expected


def names(*pairs: str) -> dict[str, str]:
    return {f"sha256:{i}": name for i, name in enumerate(pairs)}


def test_k_skips_workdir_root_and_counts_past_n() -> None:
    df = parse("FROM busybox AS a\nRUN x\nFROM a\nWORKDIR sub\nWORKDIR ../..\nWORKDIR x\n")
    mapped = map_vertices(
        df,
        names(
            "[a 1/2] FROM docker.io/library/busybox:latest",
            "[a 2/2] RUN x",
            "[stage-1 1/3] WORKDIR sub",
            "[stage-1 2/3] WORKDIR x",
        ),
    )
    assert mapped == {"sha256:0": [1], "sha256:1": [2], "sha256:2": [4], "sha256:3": [6]}


def test_expanded_variables_still_match_the_written_text() -> None:
    df = parse("FROM busybox\nENV A=1\nRUN echo \"$A\" '$A' ${A}\nRUN echo \"$A\" '$A' ${A}; true\n")
    mapped = map_vertices(
        df,
        names(
            "[1/3] FROM docker.io/library/busybox:latest",
            "[3/3] RUN echo \"1\" '$A' 1; true",
            "[2/3] RUN echo \"1\" '$A' 1",
        ),
    )
    assert mapped == {"sha256:0": [1], "sha256:1": [4], "sha256:2": [3]}


def test_unknown_triggers_of_a_base_image_map_to_its_from() -> None:
    df = parse("FROM parent\nRUN make\n")
    mapped = map_vertices(
        df,
        names(
            "[1/2] FROM docker.io/library/parent:latest",
            "[2/2] RUN make",  # an ONBUILD trigger with the same keyword as the body
            "[3/2] WORKDIR /trig",
            "[4/2] RUN make",
        ),
    )
    assert mapped == {"sha256:0": [1], "sha256:1": [1], "sha256:2": [1], "sha256:3": [2]}


def test_shared_from_vertex_counts_for_every_built_stage_using_it() -> None:
    df = parse("FROM busybox AS a\nRUN a\nFROM busybox AS unused\nRUN u\nFROM busybox\nCOPY --from=a /x /x\n")
    mapped = map_vertices(
        df,
        names(
            "[a 1/2] FROM docker.io/library/busybox:latest",
            "[a 2/2] RUN a",
            "[stage-2 2/2] COPY --from=a /x /x",
        ),
    )
    assert mapped == {"sha256:0": [1, 5], "sha256:1": [2], "sha256:2": [6]}


def test_needed_stages_follow_from_copy_from_and_mount_from() -> None:
    df = parse(
        "FROM busybox AS a\nFROM busybox AS b\nFROM busybox AS c\n"
        "RUN --mount=type=bind,from=b,target=/b true\nFROM c AS d\nCOPY --from=0 /x /x\n"
        "FROM busybox AS e\nFROM d\nCOPY --from=other-image /y /y\n"
    )
    assert needed_stages(df, None) == {0, 1, 2, 3, 5}
    assert needed_stages(df, "c") == {1, 2}
    assert step_total(df, "c") == 4
    assert step_total(df, None) == len(df.instructions)


def test_vertices_of_unknown_stages_are_ignored() -> None:
    df = parse("FROM busybox AS a\nRUN a\nFROM busybox\nRUN b\n")
    assert map_vertices(df, names("[zzz 2/2] RUN a", "[2/2] RUN b")) == {}


def test_containerd_store_cannot_fetch_an_uploaded_context() -> None:
    """Docker 26.1 on the containerd image store: BuildKit's context fetch has no session (moby#47717)."""
    fx = fixture("multistage", "docker26")
    assert fx["engine"].startswith("26.1")
    parser, result, events = replay(fx)
    error = parser.rejection("Dockerfile", "unix:///x.sock")
    assert isinstance(error, EngineError)
    assert str(error).startswith(
        "the Docker engine at unix:///x.sock cannot build an uploaded context with BuildKit "
        '(containerd image store, moby/moby#47717): Get "http://build-context-'
    )
    assert result.steps == () and events == []


def test_names_of_newer_frontends_match_fully() -> None:
    """Docker 26.1 (via buildx) names FROM with the resolved digest and a heredoc with its first line."""
    from analyzer.engine.buildkit_trace import _align, _plan, step_numbers

    df = parse("FROM busybox AS base\nRUN <<EOF\necho one > /one\necho two\nEOF\nCOPY --link a /a\n")
    names = [
        "[1/3] FROM docker.io/library/busybox:latest@sha256:2fc390020e82cc4a8b1da67081f66098",
        "[2/3] RUN <<EOF (echo one > /one...)",
        "[3/3] COPY --link a /a",
    ]
    labels = [label for name in names if (label := parse_vertex_name(name)) is not None]
    plan = _plan(df, df.stages[0], step_numbers(df))
    assert [bool(p.pattern.fullmatch(label.text)) for p, label in zip(plan, labels, strict=True)] == [
        True
    ] * 3
    assert [p.number if p else None for p in _align(labels, plan)] == [1, 2, 3]
