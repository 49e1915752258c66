"""Pure decoder for a BuildKit build stream (``POST /build?version=2``) and the vertex → line map.

The stream carries ``{"id": "moby.buildkit.trace", "aux": "<base64>"}`` messages, each a protobuf
``moby.buildkit.v1.StatusResponse`` (BuildKit's ``api/services/control/control.proto``), the result as
``{"id": "moby.image.id", "aux": {"ID": …}}`` and a failure as ``error``/``errorDetail``.

Decoding uses the ``protobuf`` runtime with the few message types declared here as a
``FileDescriptorProto`` (field numbers copied from control.proto), not a hand-written wire decoder nor
generated ``_pb2`` code: the runtime gets varints, packed fields, unknown fields and bad input right,
and a 30-line declaration has no generator version to keep in step with the installed runtime.
Fields layermap never reads (``progressGroup``, warnings' source ranges) are left undeclared: protobuf
skips unknown fields, so newer engines that add fields decode the same.

Vertex names look like ``[<stage> k/n] RUN …``. What BuildKit does with them (checked on Docker
20.10.24's built-in frontend and 26.1.5's, see ``map_vertices``) makes ``k`` useless as an index, so
vertices are matched to instructions by keyword and text, in order.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import (  # type: ignore[import-untyped]
    descriptor_pb2,
    descriptor_pool,
    message,
    message_factory,
    timestamp_pb2,
)

from analyzer.engine.classic_stream import OUTPUT_TAIL
from analyzer.engine.options import BuildProgress
from analyzer.errors import DockerfileError, EngineError, LayermapError, UsageError
from analyzer.model import BuildFailure, BuildResult, Dockerfile, Instruction, Stage, StepEvent

TRACE_ID = "moby.buildkit.trace"
IMAGE_ID = "moby.image.id"

# --------------------------------------------------------------------------- protobuf


@functools.lru_cache(maxsize=1)
def _status_response() -> Any:
    """The ``StatusResponse`` message class, declared once in a private descriptor pool."""
    fd = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="layermap/buildkit_control.proto", package="moby.buildkit.v1", syntax="proto3"
    )
    proto.dependency.append("google/protobuf/timestamp.proto")
    ts, string, many = ".google.protobuf.Timestamp", fd.TYPE_STRING, fd.LABEL_REPEATED
    messages: dict[str, list[tuple[int, str, int, str]]] = {
        "StatusResponse": [
            (1, "vertexes", fd.TYPE_MESSAGE, ".moby.buildkit.v1.Vertex"),
            (3, "logs", fd.TYPE_MESSAGE, ".moby.buildkit.v1.VertexLog"),
        ],
        "Vertex": [
            (1, "digest", string, ""),
            (3, "name", string, ""),
            (4, "cached", fd.TYPE_BOOL, ""),
            (5, "started", fd.TYPE_MESSAGE, ts),
            (6, "completed", fd.TYPE_MESSAGE, ts),
            (7, "error", string, ""),
        ],
        "VertexLog": [
            (1, "vertex", string, ""),
            (3, "stream", fd.TYPE_INT64, ""),
            (4, "msg", fd.TYPE_BYTES, ""),
        ],
    }
    for name, fields in messages.items():
        msg = proto.message_type.add(name=name)
        for number, field_name, kind, type_name in fields:
            label = many if field_name in ("vertexes", "logs") else fd.LABEL_OPTIONAL
            msg.field.add(name=field_name, number=number, type=kind, label=label, type_name=type_name or None)
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("moby.buildkit.v1.StatusResponse"))


@dataclass(frozen=True)
class VertexUpdate:
    """One vertex snapshot from a trace message (BuildKit resends a vertex whenever it changes)."""

    digest: str
    name: str
    cached: bool
    started: float | None
    completed: float | None
    error: str


@dataclass(frozen=True)
class LogChunk:
    vertex: str
    stream: int
    """1 stdout, 2 stderr."""
    data: bytes


def decode_trace(aux: str) -> tuple[list[VertexUpdate], list[LogChunk]]:
    """Decode one ``moby.buildkit.trace`` payload; raise ValueError if it is not one."""
    try:
        status = _status_response().FromString(base64.b64decode(aux, validate=True))
    except (binascii.Error, message.DecodeError) as exc:
        raise ValueError(f"not a BuildKit status message: {exc}") from None
    vertices = [
        VertexUpdate(
            digest=v.digest,
            name=v.name,
            cached=v.cached,
            started=_seconds(v, "started"),
            completed=_seconds(v, "completed"),
            error=v.error,
        )
        for v in status.vertexes
    ]
    return vertices, [LogChunk(log.vertex, int(log.stream), bytes(log.msg)) for log in status.logs]


def _seconds(vertex: Any, name: str) -> float | None:
    if not vertex.HasField(name):
        return None
    stamp = getattr(vertex, name)
    return float(stamp.seconds) + float(stamp.nanos) / 1e9


# --------------------------------------------------------------------------- vertex names → instructions

VERTEX_KEYWORDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})
"""Instructions that get a vertex of their own (besides FROM of an image); metadata ones get none."""

# `[<platform> <stage> k/n] TEXT`: the platform only on multi-platform builds, the stage only when the
# Dockerfile has several; k is right-aligned to n's width (`[ 1/12]`).
_NAME = re.compile(
    r"\[(?:(?P<platform>\S+/\S+) )?(?:(?P<stage>[^\s/\]]+) )? *(?P<k>\d+)/(?P<n>\d+)\] (?P<text>.*)", re.S
)
_METADATA = re.compile(r"\[internal\] load metadata for (\S+)")
_VARIABLE = re.compile(r"(\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class VertexLabel:
    """A parsed vertex name."""

    stage: str | None
    index: int
    total: int
    text: str

    @property
    def keyword(self) -> str:
        return self.text.split(None, 1)[0].upper() if self.text.strip() else ""


def parse_vertex_name(name: str) -> VertexLabel | None:
    """``[builder 2/5] RUN make`` → its parts; None for BuildKit's own vertices (``[internal] …``)."""
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    return VertexLabel(match["stage"], int(match["k"]), int(match["n"]), match["text"])


def normalize_ref(ref: str) -> str:
    """An image reference as BuildKit names it: ``busybox`` → ``docker.io/library/busybox:latest``."""
    name, at, digest = ref.partition("@")
    first, slash, rest = name.partition("/")
    if not slash:
        name = f"docker.io/library/{name}"
    elif first in ("docker.io", "index.docker.io"):
        name = f"docker.io/{rest}" if "/" in rest else f"docker.io/library/{rest}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if not at and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name + at + digest


@dataclass(frozen=True)
class _Planned:
    """An instruction expected to produce a vertex; ``number`` is its ``Step N`` (the FROM's for triggers)."""

    number: int
    keyword: str
    pattern: re.Pattern[str]
    body: bool


def _text_pattern(inst: Instruction) -> re.Pattern[str]:
    """BuildKit names a vertex by the instruction with variables expanded: make each one a wildcard.

    Newer frontends (Docker 26.1) add the start of a heredoc's body: ``RUN <<EOF (echo one...)``.
    """
    keyword, _, rest = " ".join(inst.text.split()).partition(" ")
    parts = _VARIABLE.split(rest)
    regex = "".join(".*?" if i % 2 else re.escape(part) for i, part in enumerate(parts))
    suffix = r"( \(.*\))?" if inst.heredocs else ""
    return re.compile(re.escape(keyword.upper()) + " " + regex + suffix, re.S)


def _from_pattern(base: str) -> re.Pattern[str]:
    # Docker 26.1 names the resolved digest too: `FROM docker.io/library/busybox:latest@sha256:…`.
    return re.compile("FROM " + re.escape(normalize_ref(base)) + r"(@sha256:[0-9a-f]+)?(\s.*)?", re.S)


def _plan(dockerfile: Dockerfile, stage: Stage, numbers: Mapping[int, int]) -> list[_Planned]:
    """The stage's vertices in BuildKit's dispatch order: FROM (of an image), triggers, then the body."""
    head = numbers[stage.from_instruction.line]
    plan: list[_Planned] = []
    if stage.base_stage is None and stage.base.lower() != "scratch":
        plan.append(_Planned(head, "FROM", _from_pattern(stage.base), False))
    if stage.base_stage is not None:
        declared = dockerfile.stages[stage.base_stage].instructions
        triggers = [inst.onbuild for inst in declared if inst.onbuild is not None]
        plan.extend(
            _Planned(head, t.keyword, _text_pattern(t), False)
            for t in triggers
            if t.keyword in VERTEX_KEYWORDS
        )
    plan.extend(
        _Planned(numbers[inst.line], inst.keyword, _text_pattern(inst), True)
        for inst in stage.instructions
        if inst.keyword in VERTEX_KEYWORDS
    )
    return plan


def _score(label: VertexLabel, planned: _Planned) -> int:
    if label.keyword != planned.keyword:
        return 0
    return 3 if planned.pattern.fullmatch(" ".join(label.text.split())) else 1


def _align(labels: Sequence[VertexLabel], plan: Sequence[_Planned]) -> list[_Planned | None]:
    """Best order-preserving pairing of vertices with planned instructions (text matches count most).

    Either side may have gaps: an instruction without a vertex (``WORKDIR /``, a vertex shared with
    another stage) or a vertex without an instruction (an ONBUILD trigger of an external base image).
    """
    n, m = len(labels), len(plan)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            score = _score(labels[i], plan[j])
            pair = score + best[i + 1][j + 1] if score else 0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], pair)
    out: list[_Planned | None] = [None] * n
    i = j = 0
    body = False
    while i < n and j < m:
        score = _score(labels[i], plan[j])
        if not body and best[i][j] == best[i + 1][j]:
            i += 1  # as good to leave it unpaired: unpaired vertices come before the body (triggers)
        elif score and best[i][j] == score + best[i + 1][j + 1]:
            out[i], body = plan[j], plan[j].body
            i, j = i + 1, j + 1
        elif best[i][j] == best[i][j + 1]:
            j += 1
        else:
            i += 1
    return out


def step_numbers(dockerfile: Dockerfile) -> dict[int, int]:
    """Line of each instruction → its ``Step N`` (1-based position in ``dockerfile.instructions``)."""
    return {inst.line: number for number, inst in enumerate(dockerfile.instructions, start=1)}


def step_total(dockerfile: Dockerfile, target: str | None) -> int:
    """``M`` as the classic builder counts it: global ARGs and every stage up to the target."""
    last = dockerfile.stage_index(target)
    return len(dockerfile.global_args) + sum(1 + len(s.instructions) for s in dockerfile.stages[: last + 1])


def _stage_of(label: str | None, dockerfile: Dockerfile) -> Stage | None:
    # A Dockerfile with a single stage gets no label at all, even when the stage is named.
    if label is None:
        return dockerfile.stages[0] if len(dockerfile.stages) == 1 else None
    wanted = label.lower()
    for stage in dockerfile.stages:
        if stage.name == wanted or f"stage-{stage.index}" == wanted:
            return stage
    return None


def map_vertices(
    dockerfile: Dockerfile, names: Mapping[str, str], target: str | None = None
) -> dict[str, list[int]]:
    """Vertex digest → the ``Step N`` numbers it belongs to (several when stages share a vertex).

    Measured on Docker 20.10.24: ``k/n`` counts, per stage, FROM of an image (not ``scratch``, not an
    earlier stage) and RUN/COPY/ADD/WORKDIR; ``k`` also counts the ONBUILD triggers run after FROM but
    skips ``WORKDIR`` resolving to ``/`` (no vertex), so ``k`` can exceed ``n``. Identical vertices of
    several stages (often their FROM) are merged under one stage's label. So vertices are paired with
    instructions by keyword and text in ``k`` order; unpaired vertices right after FROM are triggers
    of the base image, and a FROM without a vertex of its own shares another stage's FROM vertex.
    """
    numbers = step_numbers(dockerfile)
    by_stage: dict[int, list[tuple[int, str, VertexLabel]]] = {}
    for digest, name in names.items():
        label = parse_vertex_name(name)
        stage = _stage_of(label.stage, dockerfile) if label is not None else None
        if label is not None and stage is not None:
            by_stage.setdefault(stage.index, []).append((label.index, digest, label))
    out: dict[str, list[int]] = {}
    for index, found in by_stage.items():
        found.sort(key=lambda item: item[0])
        stage = dockerfile.stages[index]
        paired = _align([label for _, _, label in found], _plan(dockerfile, stage, numbers))
        first_body = next((i for i, p in enumerate(paired) if p is not None and p.body), len(paired))
        head = numbers[stage.from_instruction.line]
        for i, ((_, digest, _), planned) in enumerate(zip(found, paired, strict=True)):
            if planned is not None or i < first_body:
                out.setdefault(digest, []).append(planned.number if planned else head)
    _share_from_vertices(dockerfile, names, needed_stages(dockerfile, target), out)
    return out


def _share_from_vertices(
    dockerfile: Dockerfile, names: Mapping[str, str], needed: set[int], out: dict[str, list[int]]
) -> None:
    numbers = step_numbers(dockerfile)
    taken = {n for nums in out.values() for n in nums}
    for stage in dockerfile.stages:
        head = numbers[stage.from_instruction.line]
        if head in taken or stage.index not in needed or stage.base_stage is not None:
            continue
        if stage.base.lower() == "scratch":
            continue
        pattern = _from_pattern(stage.base)
        for digest, name in names.items():
            label = parse_vertex_name(name)
            if label is not None and label.keyword == "FROM" and pattern.fullmatch(label.text):
                out.setdefault(digest, []).append(head)
                break


def needed_stages(dockerfile: Dockerfile, target: str | None) -> set[int]:
    """Stages BuildKit builds for the target: its ``FROM`` chain and every stage named by
    ``COPY``/``ADD --from`` or ``RUN --mount=…,from=``, transitively (the others are skipped)."""
    todo, seen = [dockerfile.stage_index(target)], set()
    while todo:
        stage = dockerfile.stages[todo.pop()]
        if stage.index in seen:
            continue
        seen.add(stage.index)
        inherited = dockerfile.stages[stage.base_stage].instructions if stage.base_stage is not None else ()
        triggers = [i.onbuild for i in inherited if i.onbuild is not None]
        refs = [
            _resolve(dockerfile, ref)
            for inst in (*stage.instructions, *triggers)
            for ref in _stage_refs(inst)
        ]
        todo.extend(index for index in refs if index is not None)
        if stage.base_stage is not None:
            todo.append(stage.base_stage)
    return seen


def _stage_refs(inst: Instruction) -> list[str]:
    refs = [value for name, value in inst.flags if name == "from" and inst.keyword in ("COPY", "ADD")]
    for name, value in inst.flags:
        if name == "mount":
            refs.extend(v for k, _, v in (p.partition("=") for p in value.split(",")) if k.strip() == "from")
    return refs


def _resolve(dockerfile: Dockerfile, ref: str) -> int | None:
    wanted = ref.strip().lower()
    for stage in dockerfile.stages:
        if stage.name == wanted or str(stage.index) == wanted:
            return stage.index
    return None


def metadata_steps(dockerfile: Dockerfile, name: str) -> list[int]:
    """``[internal] load metadata for REF`` (resolving a base image) → the FROM steps naming REF."""
    match = _METADATA.fullmatch(name)
    if match is None:
        return []
    numbers = step_numbers(dockerfile)
    return [
        numbers[s.from_instruction.line]
        for s in dockerfile.stages
        if s.base_stage is None and normalize_ref(s.base) == match[1]
    ]


# --------------------------------------------------------------------------- the stream

_EXIT_CODE = re.compile(r"exit code: (\d+)")
_CANCELLED = ("context canceled", "cancelled", "canceled")
# 20.10's frontend says "parse error line 3", 26.1's "parse error on line 3".
_PARSE_ERROR = re.compile(r"dockerfile parse error (?:on )?line (\d+): (.*)", re.S)
_BAD_TARGET = re.compile(r"target stage \S+ could not be found")
_LLB = "failed to create LLB definition: "
_STAGE_NAME = re.compile(r'failed to parse stage name "([^"]*)"')
_CONTEXT = "[internal] load remote build context"


@dataclass
class _Vertex:
    """A vertex's latest state and its output (complete lines, plus the unterminated rest)."""

    digest: str
    name: str = ""
    cached: bool = False
    started: float | None = None
    completed: float | None = None
    error: str = ""
    lines: list[str] = field(default_factory=list)
    rest: dict[int, str] = field(default_factory=dict)
    """Per output stream (stdout, stderr), the text after the last newline."""
    announced: set[str] = field(default_factory=set)
    """Progress kinds already emitted for it (``step``, ``cached``, ``step-done``)."""

    def update(self, new: VertexUpdate) -> None:
        self.name = new.name or self.name
        self.cached = new.cached
        self.started = new.started if new.started is not None else self.started
        self.completed = new.completed if new.completed is not None else self.completed
        self.error = new.error or self.error

    @property
    def duration(self) -> float | None:
        if self.started is None or self.completed is None:
            return None
        return max(self.completed - self.started, 0.0)


class TraceParser:
    """Feed it every decoded message of a BuildKit build in order; read :meth:`result` at the end."""

    def __init__(
        self,
        dockerfile: Dockerfile,
        target: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        tail: int = OUTPUT_TAIL,
    ) -> None:
        self._dockerfile = dockerfile
        self._by_number = dict(enumerate(dockerfile.instructions, start=1))
        self._target = target
        self._total = step_total(dockerfile, target)
        self._clock, self._tail = clock, tail
        self._t0 = clock()
        self._vertices: dict[str, _Vertex] = {}
        self._steps: dict[str, list[int]] = {}
        self._image_ids: list[str] = []
        self._error: str | None = None
        self._log: list[str] = []
        self._events: list[BuildProgress] = []

    # ------------------------------------------------------------------ public

    def feed(self, msg: Mapping[str, Any]) -> list[BuildProgress]:
        """Handle one decoded message; return the progress events it completed."""
        aux = msg.get("aux")
        if msg.get("id") == TRACE_ID and isinstance(aux, str):
            self._trace(aux)
        elif msg.get("id") == IMAGE_ID and isinstance(aux, Mapping) and "ID" in aux:
            self._image_ids.append(str(aux["ID"]))
            self._emit("stage-done", None, line=str(aux["ID"]))
        elif "error" in msg or "errorDetail" in msg:
            detail = msg.get("errorDetail")
            text = msg.get("error") or (detail.get("message") if isinstance(detail, Mapping) else None)
            self._error = self._error or str(text or "build failed").strip()
        events, self._events = self._events, []
        return events

    def finish(self) -> list[BuildProgress]:
        """Handle output left without a final newline."""
        for vertex in self._vertices.values():
            self._flush(vertex)
        events, self._events = self._events, []
        return events

    @property
    def complete(self) -> bool:
        """Whether the stream ended as a build ends: with an image id or an error."""
        return bool(self._image_ids) or self._error is not None

    def rejection(self, path: str | None, address: str = "the Docker engine") -> LayermapError | None:
        """The error to raise when the engine refused the Dockerfile, the options, or the upload."""
        context = self._vertices.get(next((d for d, v in self._vertices.items() if v.name == _CONTEXT), ""))
        if context is not None and context.error:
            # moby/moby#47717: with the containerd image store (Docker 24+), BuildKit cannot fetch an
            # uploaded context without a client session (measured on 26.1.5).
            return EngineError(
                f"the Docker engine at {address} cannot build an uploaded context with BuildKit "
                f"(containerd image store, moby/moby#47717): {context.error}"
            )
        if self._error is None or any(v.error for v in self._vertices.values()):
            return None
        message = self._error.split(_LLB, 1)[-1]
        if match := _PARSE_ERROR.search(message):
            return DockerfileError(match[2], path, int(match[1]))
        if _BAD_TARGET.search(message):
            return UsageError(f"the Docker engine rejected the build: {message}")
        if match := _STAGE_NAME.search(message):
            # A FROM naming no valid image reference (``FROM Base`` after ``AS Base``: stage names are
            # matched as written). 26.1 and 28.5 send it without 20.10's LLB prefix.
            line = next(
                (
                    s.line
                    for s in self._dockerfile.stages
                    if s.from_instruction.args.split()[:1] == [match[1]]
                ),
                None,
            )
            return DockerfileError(message, path, line)
        if _LLB in self._error:
            return DockerfileError(message, path)
        return None

    def result(self) -> BuildResult:
        self._remap()
        grouped: dict[int, list[_Vertex]] = {}
        for digest, numbers in self._steps.items():
            vertex = self._vertices[digest]
            if vertex.started is not None or vertex.cached:
                for number in numbers:
                    grouped.setdefault(number, []).append(vertex)
        steps = tuple(self._step_event(number, grouped[number]) for number in sorted(grouped))
        return BuildResult(
            builder="buildkit",
            stage_image_ids=tuple(self._image_ids[-1:]),
            steps=steps,
            failure=self._failure(),
            log=tuple(self._log),
        )

    # ------------------------------------------------------------------ trace

    def apply(self, updates: Sequence[VertexUpdate], logs: Sequence[LogChunk]) -> list[BuildProgress]:
        """Handle vertex snapshots and output read from another progress format (buildx's plain
        text); return the progress events they completed."""
        self._apply(updates, logs)
        events, self._events = self._events, []
        return events

    def _trace(self, aux: str) -> None:
        try:
            updates, logs = decode_trace(aux)
        except ValueError:
            return  # progress only: the result and the error come in their own messages
        self._apply(updates, logs)

    def _apply(self, updates: Sequence[VertexUpdate], logs: Sequence[LogChunk]) -> None:
        renamed = False
        for update in updates:
            vertex = self._vertices.setdefault(update.digest, _Vertex(update.digest))
            renamed |= bool(update.name) and update.name != vertex.name
            vertex.update(update)
        if renamed:
            self._remap()
        pending = list(logs)
        for update in updates:
            vertex = self._vertices[update.digest]
            self._announce(vertex, "step", vertex.started is not None or vertex.cached)
            self._announce(vertex, "cached", vertex.cached and not self._is_from(vertex))
            if vertex.completed is not None:
                # Its output in this message comes first; after that it prints nothing more.
                self._output([chunk for chunk in pending if chunk.vertex == vertex.digest])
                pending = [chunk for chunk in pending if chunk.vertex != vertex.digest]
                self._flush(vertex)
                self._announce(vertex, "step-done", not vertex.error)
        self._output(pending)

    def _output(self, chunks: Sequence[LogChunk]) -> None:
        for chunk in chunks:
            vertex = self._vertices.setdefault(chunk.vertex, _Vertex(chunk.vertex))
            text = vertex.rest.get(chunk.stream, "") + chunk.data.decode("utf-8", "replace")
            *lines, vertex.rest[chunk.stream] = text.split("\n")
            for line in lines:
                self._line(vertex, line)

    def _remap(self) -> None:
        names = {digest: vertex.name for digest, vertex in self._vertices.items()}
        self._steps = map_vertices(self._dockerfile, names, self._target)

    def _announce(self, vertex: _Vertex, kind: str, reached: bool) -> None:
        """Progress for a vertex's new state (started, cache hit, done), once each."""
        if reached and kind not in vertex.announced:
            vertex.announced.add(kind)
            self._emit(kind, vertex)

    def _flush(self, vertex: _Vertex) -> None:
        for rest in vertex.rest.values():
            if rest:
                self._line(vertex, rest)
        vertex.rest.clear()

    def _line(self, vertex: _Vertex, line: str) -> None:
        vertex.lines.append(line)
        self._log.append(line)
        self._emit("output", vertex, line=line)

    def _emit(self, kind: str, vertex: _Vertex | None, line: str | None = None) -> None:
        numbers = self._steps.get(vertex.digest, []) if vertex is not None else []
        if vertex is not None and not numbers:
            return  # BuildKit's own vertices ([internal] load …, exporting) are not steps
        step = numbers[0] if numbers else None
        self._events.append(
            BuildProgress(
                kind=kind,
                step=step,
                total=self._total,
                text=self._by_number[step].text if step is not None else "",
                elapsed_s=round(self._clock() - self._t0, 3),
                line=line,
            )
        )

    # ------------------------------------------------------------------ result

    def _step_event(self, number: int, vertices: list[_Vertex]) -> StepEvent:
        inst: Instruction = self._by_number[number]
        own = [v for v in vertices if not self._is_from(v)]
        # FROM runs nothing of its own: "cached" applies only to the ONBUILD triggers run with it.
        cached = all(v.cached for v in own) if own else None
        durations = [v.duration for v in vertices]
        duration = None if any(d is None for d in durations) else round(sum(d or 0.0 for d in durations), 3)
        return StepEvent(number=number, total=self._total, text=inst.text, cached=cached, duration_s=duration)

    @staticmethod
    def _is_from(vertex: _Vertex) -> bool:
        label = parse_vertex_name(vertex.name)
        return label is not None and label.keyword == "FROM"

    def _failure(self) -> BuildFailure | None:
        failed = [v for v in self._vertices.values() if v.error]
        if not failed and self._error is None:
            return None
        # Once one vertex fails BuildKit cancels the others: they fail too, with "context canceled".
        real = [v for v in failed if not v.error.strip().lower().endswith(_CANCELLED)] or failed
        vertex = min(real, key=lambda v: v.completed or float("inf"), default=None)
        message = vertex.error if vertex is not None else self._error or "build failed"
        codes = _EXIT_CODE.findall(message)
        numbers: list[int] = []
        if vertex is not None:
            numbers = self._steps.get(vertex.digest) or metadata_steps(self._dockerfile, vertex.name)
        return BuildFailure(
            message=message.strip(),
            exit_code=int(codes[-1]) if codes else None,
            step_number=numbers[0] if numbers else None,
            output_tail=self._tail_of(vertex) if vertex is not None else (),
            vertex=vertex.name if vertex is not None else None,
        )

    def _tail_of(self, vertex: _Vertex) -> tuple[str, ...]:
        lines = vertex.lines + [rest for rest in vertex.rest.values() if rest]
        # A progress bar redraws with \r: keep what a terminal would finally show.
        return tuple(line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines[-self._tail :])
