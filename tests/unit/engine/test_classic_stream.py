"""Classic build streams recorded from a real engine (tests/helpers/record/streams.py), replayed through
``Engine.build_classic`` with a fake ``APIClient``: as recorded, re-chunked into 1–3 character pieces,
one character at a time, and merged into few large messages. The parse must not change."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest
import requests
import urllib3.exceptions

from analyzer.engine.classic_stream import KEEP_LINES, LINE_CHARS, StreamParser
from analyzer.engine.client import Engine
from analyzer.engine.options import BuildOptions, BuildProgress
from analyzer.errors import DockerfileError, EngineError, UsageError
from analyzer.model import BuildResult

STREAMS = Path(__file__).resolve().parents[2] / "fixtures" / "streams"
ADDRESS = "unix:///fake/docker.sock"

Message = dict[str, Any]


def load(name: str) -> dict[str, Any]:
    return json.loads((STREAMS / f"{name}.json").read_text())  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- re-chunking


def as_recorded(messages: list[Message]) -> list[Message]:
    return messages


def chunks_1_to_3(messages: list[Message]) -> list[Message]:
    rng = random.Random(1234)
    out: list[Message] = []
    for message in messages:
        text = message.get("stream")
        if not isinstance(text, str):
            out.append(message)
            continue
        i = 0
        while i < len(text):
            size = rng.randint(1, 3)
            out.append({"stream": text[i : i + size]})
            i += size
    return out


def one_char(messages: list[Message]) -> list[Message]:
    out: list[Message] = []
    for message in messages:
        text = message.get("stream")
        out.extend([{"stream": c} for c in text] if isinstance(text, str) else [message])
    return out


def merged(messages: list[Message]) -> list[Message]:
    """Consecutive ``stream`` messages joined into one (builder and RUN text in a single message)."""
    out: list[Message] = []
    for message in messages:
        if "stream" in message and out and "stream" in out[-1]:
            out[-1] = {"stream": out[-1]["stream"] + message["stream"]}
        else:
            out.append(dict(message))
    return out


VARIANTS: list[Callable[[list[Message]], list[Message]]] = [as_recorded, chunks_1_to_3, one_char, merged]


# ---------------------------------------------------------------------- fake engine


@pytest.fixture(autouse=True)
def _build_records_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Classic builds record their containers (engine/leftovers.py): never under the real HOME here."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


class FakeClient:
    """Replays one recorded build; records what ``build`` was called with and which containers went."""

    def __init__(
        self,
        messages: list[Message],
        *,
        raises: BaseException | None = None,
        raise_after: int | None = None,
        containers: dict[str, str] | None = None,
    ) -> None:
        self.messages = messages
        self.raises = raises
        self.raise_after = raise_after
        self.containers = dict(containers or {})  # short id -> Created
        self.build_kwargs: dict[str, Any] = {}
        self.removed: list[str] = []
        self.inspected: list[str] = []

    def build(self, **kwargs: Any) -> Iterator[Message]:
        self.build_kwargs = kwargs
        return self._stream()

    def _stream(self) -> Iterator[Message]:
        for i, message in enumerate(self.messages):
            if self.raises is not None and i == self.raise_after:
                raise self.raises
            yield message
        if self.raises is not None and self.raise_after is None:
            raise self.raises

    def info(self) -> dict[str, Any]:
        return {"SystemTime": "2099-01-01T00:00:00.000000000Z"}  # a daemon clock far ahead of ours

    def inspect_container(self, cid: str) -> dict[str, Any]:
        self.inspected.append(cid)
        if cid not in self.containers:
            raise docker.errors.NotFound(f"No such container: {cid}")
        return {"Id": cid * 5, "Created": self.containers[cid]}

    def remove_container(self, cid: str, force: bool = False) -> None:
        assert force
        self.removed.append(cid)
        del self.containers[cid]


def replay(messages: list[Message], **kwargs: Any) -> tuple[BuildResult, list[BuildProgress], FakeClient]:
    client = FakeClient(messages, **kwargs)
    events: list[BuildProgress] = []
    result = Engine(client, ADDRESS).build_classic(
        BuildOptions(Path("/ctx"), Path("/ctx/Dockerfile")), on_progress=events.append
    )
    return result, events, client


def api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("error", response=response, explanation=explanation)


# ---------------------------------------------------------------------- expectations

BUSYBOX = "35c567506e2d"


def spoof_texts() -> list[str]:
    return str(load("spoof")["dockerfile"]).splitlines()


EXPECTED: dict[str, dict[str, Any]] = {
    # The engine's coloured warning comes before `Step 1/2`, its colour reset glued in front of it.
    "empty_continuation_20.10": {
        "stages": ["sha256:b216604c4b5fa3c1559eda1f950e51359bc265a94a9f09b464e9f6aa7c4db0ae"],
        "steps": [
            (1, 2, "FROM busybox:latest", None, "95e648a5f6aa"),
            (2, 2, "RUN echo a     echo b", False, "b216604c4b5f"),
        ],
    },
    "empty_continuation_26.1": {
        "stages": ["sha256:048ca0f1e3dbef3f3c5ff45593f4ad910d3a8a35010fd94cb01c4430e1dec83a"],
        "steps": [
            (1, 2, "FROM busybox:latest", None, "47283149214d"),
            (2, 2, "RUN echo a     echo b", False, "048ca0f1e3db"),
        ],
    },
    "empty_continuation_28.5": {
        "stages": ["sha256:f5ee02d26888921872e94bfb2a4970f2d8ef516eedde85c4998a7acdb909170d"],
        "steps": [
            (1, 2, "FROM busybox:latest", None, "8388d5219654"),
            (2, 2, "RUN echo a     echo b", False, "f5ee02d26888"),
        ],
    },
    "basic": {
        "stages": ["sha256:c82e04abf9d188bd948366d13154bc52f023ff245f5fc54bd9aacff627cc971f"],
        "steps": [
            (1, 7, "FROM busybox:latest", None, BUSYBOX),
            (2, 7, "ENV GREETING=hello", False, "073124b93aa4"),
            (3, 7, 'RUN echo "$GREETING" > /greeting && echo done', False, "92cfdde79c64"),
            (4, 7, "COPY data.txt /data.txt", False, "251b582be98f"),
            (5, 7, "WORKDIR /work", False, "36a1ca3ab1bc"),
            (6, 7, "RUN true", False, "60ed6a1f6960"),
            (7, 7, 'CMD ["cat", "/greeting"]', False, "c82e04abf9d1"),
        ],
    },
    "cached": {
        "stages": ["sha256:c82e04abf9d188bd948366d13154bc52f023ff245f5fc54bd9aacff627cc971f"],
        "steps": [
            (1, 7, "FROM busybox:latest", None, BUSYBOX),
            (2, 7, "ENV GREETING=hello", True, "073124b93aa4"),
            (3, 7, 'RUN echo "$GREETING" > /greeting && echo done', True, "92cfdde79c64"),
            (4, 7, "COPY data.txt /data.txt", True, "251b582be98f"),
            (5, 7, "WORKDIR /work", True, "36a1ca3ab1bc"),
            (6, 7, "RUN true", True, "60ed6a1f6960"),
            (7, 7, 'CMD ["cat", "/greeting"]', True, "c82e04abf9d1"),
        ],
    },
    "spoof": {
        "stages": ["sha256:2bffa3346fc3a5361bee37f8d151822bc4fccfc89765231e38e5aabde78ffe31"],
        "steps": [
            (1, 5, "FROM busybox:latest", None, BUSYBOX),
            (2, 5, spoof_texts()[1], False, "8626802779f6"),
            (3, 5, spoof_texts()[2], False, "a3613639dfe0"),
            (4, 5, "ENV AFTER=1", False, "70ac7987c559"),
            (5, 5, "RUN echo real-output", False, "2bffa3346fc3"),
        ],
    },
    "multistage": {
        "stages": [
            "sha256:a9a4997204eee676d94c1280d66c5c3691875c1fa9207030ed5353bfd53d1682",
            "sha256:d77f2c245e6ff8fd14e608865d22670955d71f19d6fbd8beffa834fea23344c5",
            "sha256:b1207f7da54107bd052f95f73e2ec5ce23eb3d0c8f1885cf7f541b3c5b7f5643",
        ],
        "steps": [
            (1, 9, "ARG VERSION=1", None, None),
            (2, 9, "FROM busybox:latest AS builder", None, BUSYBOX),
            (3, 9, "ARG VERSION", False, "442901836b68"),
            (4, 9, 'RUN echo "built $VERSION" > /out', False, "a9a4997204ee"),
            (5, 9, "FROM busybox:latest AS unused", None, BUSYBOX),
            (6, 9, "RUN echo unused", False, "d77f2c245e6f"),
            (7, 9, "FROM busybox:latest", None, BUSYBOX),
            (8, 9, "COPY --from=builder /out /out", False, "b4bcf94a39b5"),
            (9, 9, 'CMD ["cat", "/out"]', False, "b1207f7da541"),
        ],
    },
    "target": {
        "stages": ["sha256:bc2bc6af35bf5fbb7cba03433e02b5953c3fa68b68819458f218f2c8bac9d023"],
        "steps": [
            (1, 4, "ARG VERSION=1", None, None),
            (2, 4, "FROM busybox:latest AS builder", None, BUSYBOX),
            (3, 4, "ARG VERSION", True, "442901836b68"),
            (4, 4, 'RUN echo "built $VERSION" > /out', False, "bc2bc6af35bf"),
        ],
    },
    "global_arg": {
        "stages": ["sha256:331d19e77072d7e3bac3cb92c14fcadb12b326adf7a8a49fa5f4fad1bf005cfc"],
        "steps": [
            (1, 4, "ARG TAG=latest", None, None),
            (2, 4, "FROM busybox:${TAG}", None, BUSYBOX),
            (3, 4, "ARG TAG", False, "a87231de9a3a"),
            (4, 4, 'RUN echo "tag=$TAG"', False, "331d19e77072"),
        ],
    },
    "onbuild_parent": {
        "stages": ["sha256:9c593e8b6d8aef4170a067458a00cb8b71c646465755f646988fc310f835dd4d"],
        "steps": [
            (1, 4, "FROM busybox:latest", None, BUSYBOX),
            (2, 4, "ONBUILD RUN echo trigger-one > /t1", False, "073901d1740e"),
            (3, 4, "ONBUILD ENV T=1", False, "c6a79f7c37e5"),
            (4, 4, "ONBUILD RUN echo trigger-two", False, "9c593e8b6d8a"),
        ],
    },
    "onbuild_child": {
        "stages": ["sha256:1bef338ae031c6269fa7b788bda1b02fda466b4d8c96b6540cd9e176147c640d"],
        "steps": [
            # The three triggers run inside the FROM step; it prints only the last trigger's image.
            (1, 2, "FROM lmtest-rec-onbuild-parent", False, "b43b3851f8e7"),
            (2, 2, "RUN echo child", False, "1bef338ae031"),
        ],
    },
    "onbuild_child_cached": {
        "stages": ["sha256:1bef338ae031c6269fa7b788bda1b02fda466b4d8c96b6540cd9e176147c640d"],
        "steps": [
            (1, 2, "FROM lmtest-rec-onbuild-parent", True, "b43b3851f8e7"),
            (2, 2, "RUN echo child", True, "1bef338ae031"),
        ],
    },
    "fail_exit3": {
        "stages": [],
        "steps": [
            (1, 4, "FROM busybox:latest", None, BUSYBOX),
            (2, 4, "RUN echo ok", False, "d58cd880b2e6"),
            (3, 4, "RUN for i in $(seq 1 25); do echo line $i; done; exit 3", False, None),
        ],
        "failure": (
            "The command '/bin/sh -c for i in $(seq 1 25); do echo line $i; done; exit 3' "
            "returned a non-zero code: 3",
            3,
            3,
            tuple(f"line {i}" for i in range(6, 26)),
        ),
    },
    "spoof_fail": {
        "stages": [],
        "steps": [
            (1, 4, "FROM busybox:latest", None, BUSYBOX),
            (2, 4, "RUN echo ok", False, "b42f5ef8dcdc"),
            (3, 4, load("spoof_fail")["dockerfile"].splitlines()[2], False, None),
        ],
        "failure": (
            None,  # the message quotes the whole command: checked separately
            5,
            3,
            (
                "tail-1",
                "Removing intermediate container 93a675bc6479",
                " ---> deadbeefdead",
                "Step 4/4 : RUN fake",
                " ---> Running in 0123456789ab",
                "fake-output",
            ),
        ),
    },
    "copy_missing": {
        "stages": [],
        "steps": [
            (1, 2, "FROM busybox:latest", None, BUSYBOX),
            (2, 2, "COPY missing.txt /missing.txt", None, None),
        ],
        "failure": (
            "COPY failed: file not found in build context or excluded by .dockerignore: "
            "stat missing.txt: file does not exist",
            None,
            2,
            (),
        ),
    },
}


def summary(result: BuildResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stages": list(result.stage_image_ids),
        "steps": [(s.number, s.total, s.text, s.cached, s.short_id) for s in result.steps],
    }
    if result.failure is not None:
        f = result.failure
        out["failure"] = (f.message, f.exit_code, f.step_number, f.output_tail)
    return out


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.__name__)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_stream_parses_exactly(name: str, variant: Callable[[list[Message]], list[Message]]) -> None:
    result, _events, _client = replay(variant(load(name)["messages"]))
    got = summary(result)
    expected = dict(EXPECTED[name])
    if name == "spoof_fail":
        assert got["failure"][0].startswith("The command '/bin/sh -c printf 'tail-1")
        got["failure"] = (None, *got["failure"][1:])
    assert got == expected
    assert result.builder == "classic"
    assert result.image_id == (expected["stages"][-1] if expected["stages"] else None)


@pytest.mark.parametrize("name", [n for n in sorted(EXPECTED) if EXPECTED[n]["stages"]])
def test_step_ids_agree_with_the_engines_parent_chains(name: str) -> None:
    """The short ids parsed from text match each stage image's real Parent chain (recorded)."""
    fixture = load(name)
    result, _events, _client = replay(chunks_1_to_3(fixture["messages"]))
    stages: list[list[str]] = []
    for step in result.steps:
        if step.text.upper().startswith("FROM "):
            stages.append([])
        if stages and step.short_id is not None:
            stages[-1].append(step.short_id)
    assert len(stages) == len(fixture["stage_chains"])
    for parsed, chain in zip(stages, fixture["stage_chains"], strict=True):
        assert chain[-len(parsed) :] == parsed


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.__name__)
def test_spoofed_builder_lines_end_up_as_output(variant: Callable[[list[Message]], list[Message]]) -> None:
    result, events, _client = replay(variant(load("spoof")["messages"]))
    cid2, cid3 = "a6596902d359", "03cddce65769"
    # Live events can run ahead of the truth (step 3's output fakes steps 4 and 5 until its container
    # closes a second time); the later "step 3" event and the output lines that follow correct it.
    assert [(e.kind, e.step, e.line) for e in events] == [
        ("step", 1, None),
        ("step-done", 1, "35c567506e2d"),
        ("step", 2, None),
        ("output", 2, "Step 9/9 : RUN evil"),
        ("output", 2, " ---> deadbeefdead"),
        ("step", 2, None),
        ("output", 2, f"Removing intermediate container {cid2}"),
        ("step-done", 2, "8626802779f6"),
        ("step", 3, None),
        ("step-done", 3, "deadbeefdead"),
        ("step", 4, None),
        ("cached", 4, None),
        ("step-done", 4, "0123456789ab"),
        ("step", 5, None),
        ("output", 5, "evil"),
        ("step", 3, None),
        ("output", 3, f"Removing intermediate container {cid3}"),
        ("output", 3, " ---> deadbeefdead"),
        ("output", 3, "Step 4/5 : ENV EVIL=1"),
        ("output", 3, " ---> Using cache"),
        ("output", 3, " ---> 0123456789ab"),
        ("output", 3, "Step 5/5 : RUN evil"),
        ("output", 3, " ---> Running in 0123456789ab"),
        ("step-done", 3, "a3613639dfe0"),
        ("step", 4, None),
        ("step-done", 4, "70ac7987c559"),
        ("step", 5, None),
        ("output", 5, "real-output"),
        ("step-done", 5, "2bffa3346fc3"),
        ("stage-done", 5, "sha256:2bffa3346fc3a5361bee37f8d151822bc4fccfc89765231e38e5aabde78ffe31"),
    ]
    # The glued "evil" + real close is split into two log lines.
    start = result.log.index(f" ---> Running in {cid3}") + 1
    assert result.log[start + 7 : start + 10] == (
        "evil",
        f"Removing intermediate container {cid3}",
        " ---> a3613639dfe0",
    )


def test_progress_events_of_a_build() -> None:
    result, events, _client = replay(load("basic")["messages"])
    kinds = [(e.kind, e.step) for e in events if e.kind != "output"]
    assert kinds == [
        ("step", 1), ("step-done", 1), ("step", 2), ("step-done", 2), ("step", 3), ("step-done", 3),
        ("step", 4), ("step-done", 4), ("step", 5), ("step-done", 5), ("step", 6), ("step-done", 6),
        ("step", 7), ("step-done", 7), ("stage-done", 7),
    ]  # fmt: skip
    assert [e.line for e in events if e.kind == "output"] == ["done"]
    assert events[-1].line == result.stage_image_ids[-1]
    assert all(e.total == 7 and e.text == result.steps[(e.step or 1) - 1].text for e in events)


def test_cached_progress_events() -> None:
    _result, events, _client = replay(load("cached")["messages"])
    assert [e.step for e in events if e.kind == "cached"] == [2, 3, 4, 5, 6, 7]


def test_durations_are_measured_between_step_starts() -> None:
    ticks = iter(range(1000))
    parser = StreamParser(clock=lambda: float(next(ticks)))  # one tick per message
    messages = load("basic")["messages"]
    for message in messages:
        parser.feed(message)
    result = parser.result()
    starts = [i + 1 for i, m in enumerate(messages) if str(m.get("stream", "")) == "\n"]  # a Step line ends
    assert [s.duration_s for s in result.steps[:-1]] == [
        b - a for a, b in zip(starts, starts[1:], strict=False)
    ]
    id_line = max(i for i, m in enumerate(messages) if m.get("stream", "").startswith(" ---> c82e04abf9d1"))
    assert result.steps[-1].duration_s == id_line + 1 - starts[-1]


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        # A Step line must be N+1 with the same M, after the previous step printed its id.
        ("Step 1/3 : FROM a\n ---> 0123456789ab\nStep 3/3 : RUN x\n", [1]),
        ("Step 1/3 : FROM a\n ---> 0123456789ab\nStep 2/4 : RUN x\n", [1]),
        ("Step 1/3 : FROM a\nStep 2/3 : RUN x\n ---> 0123456789ab\n", [1]),
        ("Step 1/3 : FROM a\n ---> 0123456789ab\nStep 2/3 : RUN x\n", [1, 2]),
        ("Step 1/3 : ARG A=1\nStep 2/3 : FROM a\n", [1, 2]),
        ("Step 2/3 : FROM a\n", []),
    ],
)
def test_step_line_acceptance(text: str, numbers: list[int]) -> None:
    parser = StreamParser()
    parser.feed({"stream": text})
    assert [s.number for s in parser.result().steps] == numbers


def test_a_stream_that_stops_early_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="ended the build stream before the build ended"):
        replay(load("basic")["messages"][:20])
    with pytest.raises(EngineError):  # every step done, but no aux ID: no image to report
        replay([m for m in load("basic")["messages"] if "aux" not in m])


def test_output_that_fakes_a_whole_next_step_then_keeps_running() -> None:
    cid = "aaaaaaaaaaaa"
    text = (
        "Step 1/3 : FROM a\n ---> 0123456789ab\nStep 2/3 : RUN x\n"
        f" ---> Running in {cid}\n"
        f"Removing intermediate container {cid}\n ---> deadbeefdead\nStep 3/3 : CMD fake\n"
        " ---> Using cache\n ---> feedfeedfeed\nmore output\n"
        f"Removing intermediate container {cid}\n ---> 111111111111\nStep 3/3 : CMD real\n"
        " ---> Running in bbbbbbbbbbbb\nRemoving intermediate container bbbbbbbbbbbb\n ---> 222222222222\n"
    )
    result, events, _client = replay([{"stream": text}, {"aux": {"ID": "sha256:" + "2" * 64}}])
    assert summary(result)["steps"] == [
        (1, 3, "FROM a", None, "0123456789ab"),
        (2, 3, "RUN x", False, "111111111111"),
        (3, 3, "CMD real", False, "222222222222"),
    ]
    # After the fake close nothing is shown as output; the real close turns it all into step 2's output.
    assert [(e.step, e.line) for e in events if e.kind == "output"] == [
        (2, f"Removing intermediate container {cid}"),
        (2, " ---> deadbeefdead"),
        (2, "Step 3/3 : CMD fake"),
        (2, " ---> Using cache"),
        (2, " ---> feedfeedfeed"),
        (2, "more output"),
    ]


def test_failure_tail_keeps_the_last_twenty_output_lines_and_what_a_terminal_shows() -> None:
    lines = "".join(f"progress {i}%\rdone {i}\n" for i in range(30))
    text = "Step 1/2 : FROM a\n ---> 0123456789ab\nStep 2/2 : RUN x\n ---> Running in aaaaaaaaaaaa\n" + lines
    text += "no newline at the end"
    result, _events, _client = replay(
        [
            {"stream": text},
            {"stream": "Removing intermediate container aaaaaaaaaaaa\n"},
            {"error": "boom", "errorDetail": {"code": 7, "message": "boom"}},
        ]
    )
    assert result.failure is not None
    assert result.failure.exit_code == 7
    assert result.failure.output_tail == (*[f"done {i}" for i in range(11, 30)], "no newline at the end")


def test_error_without_errordetail_code() -> None:
    result, _events, _client = replay([{"stream": "Step 1/1 : FROM nope\n"}, {"error": "pull access denied"}])
    assert result.failure is not None
    assert (result.failure.message, result.failure.exit_code, result.failure.step_number) == (
        "pull access denied",
        None,
        1,
    )


def test_build_arguments_reach_the_sdk() -> None:
    client = FakeClient(load("basic")["messages"])
    options = BuildOptions(
        Path("/ctx"),
        Path("/ctx/sub/Dockerfile.dev"),
        build_args={"A": "1"},
        target="final",
        network="host",
        no_cache=True,
        platform="linux/amd64",
        tag="lmtest-x",
    )
    Engine(client, ADDRESS).build_classic(options)
    kwargs = client.build_kwargs
    assert kwargs["path"] == "/ctx"
    assert kwargs["dockerfile"] == "/ctx/sub/Dockerfile.dev"
    assert (kwargs["rm"], kwargs["forcerm"], kwargs["decode"], kwargs["pull"]) == (True, True, True, False)
    assert kwargs["buildargs"] == {"A": "1"}
    assert (kwargs["target"], kwargs["network_mode"], kwargs["nocache"]) == ("final", "host", True)
    assert (kwargs["platform"], kwargs["tag"], kwargs["timeout"]) == ("linux/amd64", "lmtest-x", None)


def test_syntax_error_before_streaming_is_a_dockerfile_error() -> None:
    fixture = load("syntax_error")
    error = api_error(fixture["raises"]["status"], fixture["raises"]["explanation"])
    with pytest.raises(DockerfileError) as info:
        replay([], raises=error)
    assert str(info.value) == "/ctx/Dockerfile:2: dockerfile parse error line 2: unknown instruction: FOO"
    assert info.value.exit_code == 2


def test_other_rejections_are_usage_errors() -> None:
    error = api_error(400, '"bogus": unknown operating system or architecture: invalid argument')
    with pytest.raises(UsageError, match="rejected the build: .bogus.: unknown operating system"):
        replay([], raises=error)


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectionError("Connection aborted."),
        urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead(0 bytes read)"),
        api_error(500, "internal"),
    ],
    ids=["requests", "urllib3", "api500"],
)
def test_connection_lost_mid_build_is_an_engine_error(error: BaseException) -> None:
    with pytest.raises(EngineError) as info:
        replay(load("basic")["messages"], raises=error, raise_after=10)
    assert ADDRESS in str(info.value)
    assert info.value.exit_code == 4
    assert "\n" not in str(info.value)


def test_ctrl_c_removes_only_this_builds_fresh_containers() -> None:
    messages = [
        {"stream": "Step 1/2 : FROM a\n ---> 0123456789ab\nStep 2/2 : RUN sleep 30\n"},
        {"stream": " ---> Running in aaaaaaaaaaaa\n"},
        # Output naming other containers: never treated as the build's own.
        {"stream": " ---> Running in bbbbbbbbbbbb\nRemoving intermediate container cccccccccccc\n"},
    ]
    containers = {
        "aaaaaaaaaaaa": "2099-01-01T00:00:00.5Z",  # created "now" on the daemon's clock
        "bbbbbbbbbbbb": "2099-01-01T00:00:00.5Z",
        "cccccccccccc": "2000-01-01T00:00:00Z",
    }
    client_state = FakeClient(messages, raises=KeyboardInterrupt(), containers=containers)
    with pytest.raises(KeyboardInterrupt):
        Engine(client_state, ADDRESS).build_classic(BuildOptions(Path("/c"), Path("/c/Dockerfile")))
    assert client_state.removed == ["aaaaaaaaaaaa"]
    assert set(client_state.inspected) == {"aaaaaaaaaaaa"}


def test_ctrl_c_leaves_old_containers_alone() -> None:
    """A build container id that resolves to a container older than the build is not touched."""
    messages = [
        {"stream": "Step 1/2 : FROM a\n ---> 0123456789ab\nStep 2/2 : RUN x\n ---> Running in aaaaaaaaaaaa\n"}
    ]
    client = FakeClient(
        messages, raises=KeyboardInterrupt(), containers={"aaaaaaaaaaaa": "2000-01-01T00:00:00Z"}
    )
    with pytest.raises(KeyboardInterrupt):
        Engine(client, ADDRESS).build_classic(BuildOptions(Path("/c"), Path("/c/Dockerfile")))
    assert client.removed == []


@pytest.mark.parametrize(
    ("name", "warnings"),
    [
        (
            "empty_continuation_20.10",
            (
                "[WARNING]: Empty continuation line found in:",
                "RUN echo a     echo b",
                "[WARNING]: Empty continuation lines will become errors in a future release.",
            ),
        ),
        (
            "empty_continuation_26.1",
            (
                "[WARNING]: Empty continuation line found in: RUN echo a     echo b",
                "[WARNING]: Empty continuation lines will become errors in a future release.",
            ),
        ),
        (
            "empty_continuation_28.5",
            (
                "[WARNING]: Empty continuation line found in: RUN echo a     echo b",
                "[WARNING]: Empty continuation lines will become errors in a future release.",
            ),
        ),
    ],
)
def test_engine_warnings_before_the_first_step_are_kept_as_warnings(name: str, warnings: tuple[str]) -> None:
    for variant in VARIANTS:
        result, _events, _client = replay(variant(load(name)["messages"]))
        assert result.warnings == warnings
        assert len(result.steps) == 2


def test_lines_between_and_after_steps_are_warnings_not_structure() -> None:
    text = (
        "[Warning] before\nStep 1/2 : FROM a\n ---> 0123456789ab\n\x1b[91m[WARNING]: between\n\x1b[0m"
        "Step 2/2 : CMD x\n ---> Running in aaaaaaaaaaaa\nRemoving intermediate container aaaaaaaaaaaa\n"
        " ---> 111111111111\n[Warning] One or more build-args [X] were not consumed\n"
    )
    result, _events, _client = replay([{"stream": text}, {"aux": {"ID": "sha256:" + "1" * 64}}])
    assert [s.short_id for s in result.steps] == ["0123456789ab", "111111111111"]
    assert result.warnings == (
        "[Warning] before",
        "[WARNING]: between",
        "[Warning] One or more build-args [X] were not consumed",
    )


def test_warnings_faked_after_a_fake_close_are_rolled_back_into_output() -> None:
    cid = "aaaaaaaaaaaa"
    text = (
        "Step 1/2 : FROM a\n ---> 0123456789ab\nStep 2/2 : RUN x\n"
        f" ---> Running in {cid}\nRemoving intermediate container {cid}\n ---> deadbeefdead\n"
        f"[WARNING]: fake\nRemoving intermediate container {cid}\n ---> 111111111111\n"
    )
    result, _events, _client = replay([{"stream": text}, {"aux": {"ID": "sha256:" + "1" * 64}}])
    assert result.warnings == ()
    assert result.steps[-1].short_id == "111111111111"


def _huge_run_stream(line_bytes: int, lines_mb: int, single_line_mb: int) -> Iterator[Message]:
    """A RUN printing ``lines_mb`` MB of lines then one ``single_line_mb`` MB line without newline,
    in 64 KiB messages, then a failure (so the output tail is reported)."""
    yield {
        "stream": "Step 1/2 : FROM a\n ---> 0123456789ab\nStep 2/2 : RUN x\n ---> Running in aaaaaaaaaaaa\n"
    }
    chunk = ("x" * (line_bytes - 1) + "\n") * (65536 // line_bytes)
    for _ in range(lines_mb * 1024 * 1024 // len(chunk)):
        yield {"stream": chunk}
    piece = "y" * 65536
    for _ in range(single_line_mb * 16):
        yield {"stream": piece}
    yield {"stream": "\rthe end"}
    yield {"stream": "Removing intermediate container aaaaaaaaaaaa\n"}
    yield {"error": "failed", "errorDetail": {"code": 1, "message": "failed"}}


def test_retained_output_stays_bounded_whatever_a_run_prints() -> None:
    """200 MB of output (150 MB of 4 KiB lines, then one 50 MB line without a newline): after every
    message the parser holds no more than its stated bound."""
    bound = KEEP_LINES * LINE_CHARS + 2 * LINE_CHARS
    parser = StreamParser()
    total = 0
    for message in _huge_run_stream(4096, 150, 50):
        parser.feed(message)
        total += len(message.get("stream", ""))
        assert parser.retained_chars <= bound
    parser.finish()
    assert total > 200 * 1024 * 1024
    result = parser.result()
    assert result.failure is not None
    assert result.failure.output_tail[-1] == "the end"
    assert result.failure.output_tail[-2] == "x" * 4095
    assert len(result.log) <= KEEP_LINES
    assert all(len(line) <= LINE_CHARS for line in result.log)
