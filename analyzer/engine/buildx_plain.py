"""Pure parser for ``docker buildx build --progress=plain`` output (stderr), one line at a time.

The plain printer (buildx 0.13, measured on Docker 20.10.24 and 26.1.5) writes one block per vertex::

    #5 [builder 2/3] RUN make          the header: a blank line, then ``#N`` and the vertex name
    #5 0.104 output line               RUN output: the vertex's own ``#N``, then seconds since it started
    #5 resolve docker.io/… 0.0s done   a status line (pulls, transfers, export steps)
    #5 ...                             paused: another vertex prints next; the header is repeated on return
    #5 CACHED | #5 DONE 1.6s | #5 ERROR: <message> | #5 CANCELED

``#0 building with "default" instance using docker driver`` comes first; a failed build ends with a
summary box (output tail, Dockerfile excerpt) and ``ERROR: failed to solve: <message>``.

Output cannot forge any of this: every line a RUN prints arrives as ``#N <seconds> <text>`` with the
RUN's own ``N``, even a blank line, so a line printing ``#5 DONE`` is output of its vertex. The parser
relies on that structure only: a ``#N`` never seen before starts vertex N (the first thing the printer
writes for a vertex is its header), the seconds field marks output, and the keywords count only
right after ``#N``. Blank lines are ignored (the printer also writes one to end a partial line), and
so is every line without ``#`` except the final ``ERROR:``, which buildx writes itself.

Everything else is :class:`analyzer.engine.buildkit_trace.TraceParser`'s: each line becomes a vertex
snapshot or an output chunk, so the vertex → Dockerfile line mapping, progress events, cache hits,
durations and the failure (exit code from the message text) are the same as on the Engine API path.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from analyzer.engine.buildkit_trace import IMAGE_ID, LogChunk, TraceParser, VertexUpdate
from analyzer.engine.classic_stream import OUTPUT_TAIL
from analyzer.engine.options import BuildProgress
from analyzer.errors import EngineError, LayermapError, UsageError
from analyzer.model import BuildResult, Dockerfile

_LINE = re.compile(r"#(\d+) (.*)", re.S)
# Seconds since the vertex started: 3 decimals below 10 s, 2 below 100 s, then 1.
_OUTPUT = re.compile(r"\d+\.\d+ (.*)", re.S)
_DONE = re.compile(r"DONE (\d+(?:\.\d+)?)s")
_DRIVER = re.compile(r'building with "(.*)" instance using (\S+) driver')
_FINAL_ERROR = "ERROR: "
_CANCELLED = "context canceled"
_STRAY = 5
"""Lines of other text kept for messages (a docker CLI error has no ``ERROR:``)."""
_UNREACHABLE = ("Cannot connect to the Docker daemon", "error during connect")


@dataclass
class _State:
    """What the printer said so far about one vertex (BuildKit resends whole snapshots; so do we)."""

    name: str
    started: float
    cached: bool = False
    completed: float | None = None
    error: str = ""


class PlainProgress:
    """Feed it buildx's stderr line by line; then :meth:`finish`, :meth:`image` and :meth:`result`."""

    def __init__(
        self,
        dockerfile: Dockerfile,
        target: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        tail: int = OUTPUT_TAIL,
    ) -> None:
        self._trace = TraceParser(dockerfile, target, clock, tail)
        self._clock = clock
        self._vertices: dict[int, _State] = {}
        self._final: list[str] | None = None
        self._stray: deque[str] = deque(maxlen=_STRAY)
        self.builder: str | None = None
        """The buildx builder instance named by ``#0`` (``default``)."""
        self.driver: str | None = None
        """Its driver (``docker`` puts the image into the engine's own store)."""

    # ------------------------------------------------------------------ input

    def feed(self, line: str) -> list[BuildProgress]:
        """Handle one line of stderr (with or without its newline); return the events it completed."""
        line = line.removesuffix("\n")
        if self._final is not None:
            self._final.append(line)  # nothing but the error's own continuation follows it
            return []
        match = _LINE.fullmatch(line)
        if match is None:
            if line.startswith(_FINAL_ERROR):
                self._final = [line.removeprefix(_FINAL_ERROR)]
            elif line.strip():
                self._stray.append(line)
            return []
        index, text = int(match[1]), match[2]
        if index == 0:
            self._builder_line(text)  # about the builder, not a vertex
            return []
        state = self._vertices.get(index)
        if state is None:
            self._vertices[index] = _State(name=text, started=self._clock())
            return self._snapshot(index)
        if text in (state.name, "..."):
            return []  # the header again after a pause, or the pause itself
        output = _OUTPUT.fullmatch(text)
        if output is not None:
            return self._trace.apply([], [LogChunk(_digest(index), 1, (output[1] + "\n").encode())])
        return self._keyword(index, state, text)

    def finish(self) -> list[BuildProgress]:
        """The end of stderr: hand over the final error, if any."""
        events = self._trace.finish()
        if self._final is not None:
            events += self._trace.feed({"error": "\n".join(self._final).strip()})
        return events

    def image(self, image_id: str) -> list[BuildProgress]:
        """The built image's id (from ``--metadata-file``): the build is complete."""
        return self._trace.feed({"id": IMAGE_ID, "aux": {"ID": image_id}})

    # ------------------------------------------------------------------ output

    @property
    def error(self) -> str | None:
        """buildx's final ``ERROR:`` message (without the prefix), if it printed one."""
        return "\n".join(self._final).strip() if self._final is not None else None

    @property
    def stray(self) -> tuple[str, ...]:
        """The last lines that were neither progress nor the final error (usage errors, warnings)."""
        return tuple(self._stray)

    @property
    def vertex_failed(self) -> bool:
        return any(state.error for state in self._vertices.values())

    @property
    def complete(self) -> bool:
        """Whether the output ended as a build ends: with an image id or an error."""
        return self._trace.complete

    def result(self) -> BuildResult:
        return self._trace.result()

    def rejection(self, path: str | None, address: str) -> LayermapError | None:
        """The error to raise when nothing was built: a Dockerfile error, a bad option, no engine.

        Failures of a vertex (a RUN's exit code, a missing COPY source) are data, not errors.
        """
        found = self._trace.rejection(path, address)
        if found is not None or self.vertex_failed or self.error is None:
            return found
        message = " ".join(self.error.split())
        if "not supported by buildkit" in message:
            return UsageError(f"the Docker engine rejected the build: {message}")
        if any(marker in message for marker in _UNREACHABLE):
            return EngineError(f"buildx cannot reach the Docker engine at {address} (DOCKER_HOST): {message}")
        if message.startswith(("unknown flag", "unknown shorthand flag")):
            return EngineError(f"this buildx is too old for layermap (it needs 0.10 or newer): {message}")
        return None

    # ------------------------------------------------------------------ helpers

    def _builder_line(self, text: str) -> None:
        match = _DRIVER.fullmatch(text)
        if match is not None:
            self.builder, self.driver = match[1], match[2]

    def _keyword(self, index: int, state: _State, text: str) -> list[BuildProgress]:
        """``CACHED``, ``DONE``, ``ERROR:``, ``CANCELED``; status and ``WARN:`` lines change nothing."""
        done = _DONE.fullmatch(text)
        if text == "CACHED":
            state.cached, state.completed = True, state.started
        elif done is not None:
            # The printed duration, not the time between our reads: buildx batches its output.
            state.completed = state.started + float(done[1])
        elif text.startswith("ERROR: "):
            state.error, state.completed = text.removeprefix("ERROR: "), self._clock()
        elif text == "CANCELED":
            state.error, state.completed = _CANCELLED, self._clock()
        else:
            return []
        return self._snapshot(index)

    def _snapshot(self, index: int) -> list[BuildProgress]:
        state = self._vertices[index]
        update = VertexUpdate(
            digest=_digest(index),
            name=state.name,
            cached=state.cached,
            started=state.started,
            completed=state.completed,
            error=state.error,
        )
        return self._trace.apply([update], [])


def _digest(index: int) -> str:
    """The plain printer numbers vertices instead of naming their digests: ``#5`` stands for one."""
    return f"#{index}"
