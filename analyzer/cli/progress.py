"""Build progress on stderr: a live bar (rich) on a TTY, plain lines otherwise, nothing when quiet.

The engine reports :class:`analyzer.engine.options.BuildProgress` events through a callback, so it holds no
UI code; this module turns them into output. Used only by the build-running commands in ``analyzer/cli/``
(``build`` and ``diff``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, TextIO


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class QuietProgress(AbstractContextManager["QuietProgress"]):
    """Swallows every event (``-q``)."""

    def update(self, event: Any) -> None:
        return None

    def __exit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class PlainProgress(QuietProgress):
    """One line per step and per result, for logs and CI (stderr is not a TTY)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def update(self, event: Any) -> None:
        kind = getattr(event, "kind", "")
        if kind == "step":
            self._say(f"Step {event.step}/{event.total} : {_short(event.text)}")
        elif kind == "cached":
            self._say(f"Step {event.step}/{event.total} : using cache")

    def _say(self, line: str) -> None:
        print(f"layermap: {line}", file=self.stream, flush=True)


class LiveProgress(QuietProgress):
    """A transient spinner + bar with the current step, its last output line and the elapsed time."""

    def __init__(self, stream: TextIO) -> None:
        # rich loads only for a terminal: piped and quiet runs skip its import time.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self.task = self.progress.add_task("starting the build", total=None)
        self.progress.start()
        self.current = ""

    def update(self, event: Any) -> None:
        kind = getattr(event, "kind", "")
        if kind == "step":
            self.current = f"Step {event.step}/{event.total} {_short(event.text, 50)}"
            self.progress.update(
                self.task, description=self.current, total=event.total, completed=event.step - 1
            )
        elif kind == "cached":
            self.progress.update(self.task, description=f"{self.current} (cached)")
        elif kind == "output" and getattr(event, "line", None):
            self.progress.update(self.task, description=f"{self.current} | {_short(event.line, 40)}")
        elif kind == "step-done":
            self.progress.update(self.task, completed=event.step)

    def __exit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()


def make_progress(stream: TextIO, quiet: bool = False, mode: str = "auto") -> QuietProgress:
    """The display ``--progress`` asks for: ``auto`` is live on a TTY and plain lines otherwise,
    ``tty`` live, ``plain`` one line per step, ``quiet`` (or ``-q``) nothing."""
    if quiet or mode == "quiet":
        return QuietProgress()
    if mode == "tty" or (mode == "auto" and stream.isatty()):
        return LiveProgress(stream)
    return PlainProgress(stream)
