"""Pure parser for the classic builder's JSON message stream (``APIClient.build(decode=True)``).

The stream mixes builder lines (``Step N/M : …``, `` ---> Running in <cid>``, ``Removing intermediate
container <cid>``, `` ---> <short id>``) with the output of RUN containers in the same ``stream`` field,
and messages are not line-aligned. So text is buffered and handled one complete line at a time, and a
RUN's output can print lines that look exactly like builder lines, including its own container id (the
container's hostname). Two facts keep the parser honest:

* While a container runs, every line is output until ``Removing intermediate container <its cid>``.
* The builder prints the real ``Removing`` line *after* all of the container's output (even when the
  RUN fails, because the build uses ``forcerm``). So if a container's close shows up a second time, the
  first one was output, and everything parsed since then is rolled back into that step's output. A
  container knows only its own id, so a close naming an earlier container (after a faked
  `` ---> Running in``) rolls back the same way.

Besides, a ``Step N/M`` line counts only after the previous step printed its id (global ARGs print
none), with N one more and M unchanged; a ``Running in`` naming a container already seen is ignored.

Image ids in the text are informative only: the result's ``stage_image_ids`` come from ``aux.ID``.

Text outside a step (before ``Step 1/N``, between steps, after the last) is not structure but engine
warnings (e.g. ``[WARNING]: Empty continuation line``, coloured: the reset code lands in front of
``Step 1/N``): :attr:`BuildResult.warnings`. Memory is bounded whatever a RUN prints: the last
:data:`KEEP_LINES` lines of at most :data:`LINE_CHARS` characters, and text is joined once per line.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analyzer.engine.options import BuildProgress
from analyzer.model import BuildFailure, BuildResult, StepEvent

OUTPUT_TAIL = 20
"""Lines of a failing step's output kept in :attr:`BuildFailure.output_tail`."""
KEEP_LINES = 1000
"""Lines of the stream kept (the newest): the failure's tail, :attr:`BuildResult.log` and rollbacks."""
LINE_CHARS = 8192
"""Characters kept of each line (its end: what a terminal shows last, and a close glued after output)."""
STEP_LINE_CHARS = 16 * 1024 * 1024
"""An incomplete line outside a container may be a ``Step`` echoing a long instruction (≤ 10 MiB)."""
MAX_WARNINGS = 20
"""Engine lines outside steps kept as warnings."""

_STEP = re.compile(r"Step (\d+)/(\d+) : (.*)")
_RUNNING = re.compile(r" ---> Running in ([0-9a-f]{12})")
_SHORT_ID = re.compile(r" ---> ([0-9a-f]{12})")
_CACHE = " ---> Using cache"
# Search, not match: output without a trailing newline glues itself in front of the real line.
# 20.10 prints "Removing intermediate container <cid>"; 26.1 " ---> Removed intermediate container <cid>".
_CLOSE = re.compile(r"(?: ---> )?(?:Removing|Removed) intermediate container ([0-9a-f]{12})$")
_CLOSE_CHARS = 64
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NOT_WARNINGS = ("Successfully built ", "Successfully tagged ")


@dataclass
class _Step:
    """A step as parsed so far; ``events`` are (kind, value, line index), kind in run/close/cache/id."""

    number: int
    total: int
    text: str
    started: float
    first_line: int
    events: list[tuple[str, str, int]] = field(default_factory=list)
    ended: float | None = None
    """When the step's short id was printed (or the build failed in it)."""

    def has(self, kind: str) -> bool:
        return any(event[0] == kind for event in self.events)

    def values(self, kind: str) -> list[str]:
        return [event[1] for event in self.events if event[0] == kind]

    def cached(self) -> bool | None:
        if self.has("run"):
            return False
        if self.has("cache"):
            return True
        # FROM prints the base's id and runs nothing: "cached" does not apply.
        if self.has("id") and not self.text.upper().startswith("FROM "):
            return False
        return None


@dataclass
class _Line:
    """A kept line of the stream: its number since the start, its text (cut), output or builder."""

    index: int
    text: str
    output: bool


class StreamParser:
    """Feed it every decoded message in order; read :meth:`result` at the end."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, tail: int = OUTPUT_TAIL) -> None:
        self._clock = clock
        self._tail = tail
        self._t0 = clock()
        self._last = self._t0
        self._pending: list[str] = []
        self._pending_len = 0
        self._count = 0
        self._kept: deque[_Line] = deque(maxlen=KEEP_LINES)
        self._steps: list[_Step] = []
        self._open: str | None = None
        self._stage_ids: list[str] = []
        self._failure: BuildFailure | None = None
        self._events: list[BuildProgress] = []
        self._warnings: list[tuple[int, str]] = []

    # ------------------------------------------------------------------ public

    def feed(self, message: Mapping[str, Any]) -> list[BuildProgress]:
        """Handle one decoded message; return the progress events it completed."""
        self._last = self._clock()
        text = message.get("stream")
        if isinstance(text, str):
            self._text(text)
        elif "error" in message or "errorDetail" in message:
            self._flush()
            self._fail(message)
        elif isinstance(message.get("aux"), Mapping) and "ID" in message["aux"]:
            self._flush()
            image_id = str(message["aux"]["ID"])
            self._stage_ids.append(image_id)
            self._emit("stage-done", line=image_id)
        events, self._events = self._events, []
        return events

    def finish(self) -> list[BuildProgress]:
        """Handle text left without a final newline."""
        self._flush()
        events, self._events = self._events, []
        return events

    @property
    def retained_chars(self) -> int:
        """Characters of stream text held right now (bounded: see the module docstring)."""
        return self._pending_len + sum(len(line.text) for line in self._kept)

    @property
    def container_ids(self) -> tuple[str, ...]:
        """Short ids of the build containers the builder announced (``Running in``)."""
        return tuple(cid for step in self._steps for cid in step.values("run"))

    @property
    def failure(self) -> BuildFailure | None:
        return self._failure

    @property
    def complete(self) -> bool:
        """Whether the stream ended as a build ends: with an error, or with the last step's image."""
        if self._failure is not None:
            return True
        last = self._steps[-1] if self._steps else None
        return bool(self._stage_ids) and last is not None and last.number == last.total and last.has("id")

    def result(self) -> BuildResult:
        steps = []
        for i, step in enumerate(self._steps):
            if i + 1 < len(self._steps):
                end = self._steps[i + 1].started
            else:
                end = step.ended if step.ended is not None else self._last
            ids = step.values("id")
            steps.append(
                StepEvent(
                    number=step.number,
                    total=step.total,
                    text=step.text,
                    cached=step.cached(),
                    duration_s=round(max(end - step.started, 0.0), 3),
                    short_id=ids[-1] if ids else None,
                )
            )
        return BuildResult(
            builder="classic",
            stage_image_ids=tuple(self._stage_ids),
            steps=tuple(steps),
            failure=self._failure,
            log=tuple(line.text for line in self._kept),
            warnings=tuple(text for _index, text in self._warnings),
        )

    # ------------------------------------------------------------------ lines

    def _text(self, text: str) -> None:
        """Split into lines, joining an incomplete line's pieces once, when its newline arrives."""
        start = 0
        while (end := text.find("\n", start)) >= 0:
            piece = text[start:end]
            if self._pending:
                piece = "".join(self._pending) + piece
                self._pending, self._pending_len = [], 0
            self._line(piece)
            start = end + 1
        if start < len(text):
            self._pending.append(text[start:])
            self._pending_len += len(text) - start
            limit = LINE_CHARS if self._open is not None else STEP_LINE_CHARS
            if self._pending_len > 2 * limit or (self._pending_len > limit and len(self._pending) > 64):
                # Only the line's end matters (a glued close, what a terminal shows last).
                kept = "".join(self._pending)[-LINE_CHARS:]
                self._pending, self._pending_len = [kept], len(kept)

    def _flush(self) -> None:
        if self._pending:
            line = "".join(self._pending)
            self._pending, self._pending_len = [], 0
            self._line(line)

    def _line(self, line: str) -> None:
        # A close is at the line's end: searching only there keeps long output lines cheap.
        close = _CLOSE.search(line, max(0, len(line) - _CLOSE_CHARS))
        if close and close.start() > 0 and self._is_close(close.group(1)):
            # Output without a trailing newline, then the real builder line: split them.
            self._line(line[: close.start()])
            line = line[close.start() :]
        if close and self._open is None and self._was_closed(close.group(1)):
            self._rollback(close.group(1))
            self._close(line, close.group(1))
        elif self._open is not None:
            if close and close.group(1) == self._open:
                self._close(line, close.group(1))
            elif close and self._was_closed(close.group(1)):
                self._rollback(close.group(1))
                self._close(line, close.group(1))
            else:
                self._output(line)
        else:
            self._builder_line(line)

    def _is_close(self, cid: str) -> bool:
        return cid == self._open or self._was_closed(cid)

    def _was_closed(self, cid: str) -> bool:
        return any(cid in step.values("close") for step in self._steps)

    def _builder_line(self, line: str) -> None:
        """A line while no container runs: builder text, or (after a faked close) output."""
        step = self._steps[-1] if self._steps else None
        plain = _ANSI.sub("", line)
        if (m := _STEP.fullmatch(plain)) and self._accepts_step(int(m[1]), int(m[2])):
            self._start_step(plain, int(m[1]), int(m[2]), m[3])
            return
        self._record(line, output=False)
        if step is None or step.has("id"):
            self._outside(plain)
        elif (m := _RUNNING.fullmatch(line)) and m[1] not in self.container_ids:
            step.events.append(("run", m[1], self._count - 1))
            self._open = m[1]
        elif line == _CACHE:
            step.events.append(("cache", "", self._count - 1))
            self._emit("cached")
        elif m := _SHORT_ID.fullmatch(line):
            step.events.append(("id", m[1], self._count - 1))
            step.ended = self._last
            self._emit("step-done", line=m[1])

    def _outside(self, plain: str) -> None:
        """Engine text outside any step: not structure; kept as a warning (the builder's own
        ``Successfully …`` lines aside)."""
        text = plain.strip()
        if text and not text.startswith(_NOT_WARNINGS) and len(self._warnings) < MAX_WARNINGS:
            self._warnings.append((self._count - 1, text[:LINE_CHARS]))

    def _accepts_step(self, number: int, total: int) -> bool:
        """A real ``Step N/M`` follows the previous step's id (global ARGs print none), N+1, same M."""
        if not self._steps:
            return number == 1
        last = self._steps[-1]
        finished = last.has("id") or (not last.events and keyword(last.text) == "ARG")
        return finished and number == last.number + 1 and total == last.total

    def _start_step(self, line: str, number: int, total: int, text: str) -> None:
        self._record(line, output=False)
        self._steps.append(_Step(number, total, text, self._last, self._count - 1))
        self._emit("step")

    def _close(self, line: str, cid: str) -> None:
        self._record(line, output=False)
        self._steps[-1].events.append(("close", cid, self._count - 1))
        self._open = None

    def _output(self, line: str) -> None:
        self._record(line, output=True)
        self._emit("output", line=line[-LINE_CHARS:])

    def _record(self, line: str, *, output: bool) -> None:
        self._kept.append(_Line(self._count, line[-LINE_CHARS:], output))
        self._count += 1

    def _rollback(self, cid: str) -> None:
        """``cid`` closes again: its first close was output, and so is everything since."""
        owner = next(i for i, step in enumerate(self._steps) if cid in step.values("close"))
        step = self._steps[owner]
        first = next(index for kind, value, index in step.events if kind == "close" and value == cid)
        del self._steps[owner + 1 :]
        step.events = [event for event in step.events if event[2] < first]
        step.ended = None
        self._open = cid
        self._warnings = [(index, text) for index, text in self._warnings if index < first]
        self._emit("step")
        for line in self._kept:  # lines older than the kept tail are gone: bounded memory wins
            if line.index >= first and not line.output:
                line.output = True
                self._emit("output", line=line.text)

    # ------------------------------------------------------------------ failure / progress

    def _fail(self, message: Mapping[str, Any]) -> None:
        if self._failure is not None:
            return
        detail = message.get("errorDetail")
        detail = detail if isinstance(detail, Mapping) else {}
        text = str(message.get("error") or detail.get("message") or "build failed").strip()
        code = detail.get("code")
        step = self._steps[-1] if self._steps else None
        if step is not None:
            step.ended = self._last
        self._failure = BuildFailure(
            message=text,
            exit_code=code if isinstance(code, int) else None,
            step_number=step.number if step else None,
            output_tail=self._output_tail(step.first_line if step else 0),
        )

    def _output_tail(self, start: int) -> tuple[str, ...]:
        tail: list[str] = []
        for line in reversed(self._kept):
            if len(tail) == self._tail or line.index < start:
                break
            if line.output:
                # A progress bar redraws with \r: keep what a terminal would finally show.
                tail.append(line.text.rstrip("\r").rsplit("\r", 1)[-1])
        return tuple(reversed(tail))

    def _emit(self, kind: str, line: str | None = None) -> None:
        step = self._steps[-1] if self._steps else None
        self._events.append(
            BuildProgress(
                kind=kind,
                step=step.number if step else None,
                total=step.total if step else None,
                text=step.text if step else "",
                elapsed_s=round(self._last - self._t0, 3),
                line=line,
            )
        )


def failing_stage_steps(result: BuildResult) -> list[StepEvent]:
    """The failing stage's FROM step and the steps after it that finished, in order."""
    failure = result.failure
    if failure is None or failure.step_number is None:
        return []
    done = [step for step in result.steps if step.number < failure.step_number]
    froms = [i for i, step in enumerate(done) if keyword(step.text) == "FROM"]
    if not froms:
        return []
    return done[froms[-1] :]


def command_matches(step_text: str, created_by: str) -> bool:
    """Classic commands: RUN runs the command itself, every other step a ``#(nop)`` marker + keyword."""
    word = keyword(step_text)
    if word == "RUN":
        return "#(nop)" not in created_by
    return "#(nop)" in created_by and word in created_by


def keyword(text: str) -> str:
    """The upper-case keyword of an echoed step (``FROM``, ``RUN`` …)."""
    return text.split(None, 1)[0].upper() if text.strip() else ""
