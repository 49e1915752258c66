"""The measuring loop every bench shares, written once.

A bench names its commands (``Command``), lets ``measure`` (two sides) or ``run_rounds`` (any number,
in groups) run them, and hands its figures to ``report``. The loop:

- rounds alternate the order of the sides (the groups rotate by one each round), so neither side
  always runs first, on a machine still warm or busy from the other;
- the first ``warmup`` rounds are run and thrown away (page cache, the engine's own caches, Python's
  bytecode cache);
- each side runs ``runs`` measured times; the figure is the median, and a comparison is the ratio of
  two medians measured in the same run (absolute times depend on the machine and its load);
- optionally, peak RSS from GNU time and a pause (``settle_s``, after a sync) before every run.

Exit status of a bench: 0, or 1 when ``--check`` is given and a goal is missed, or 2 when the bench
could not run (a missing tool, a command that failed): one ``bench: ...`` line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

GNU_TIME = "/usr/bin/time"  # Debian: apt-get install time


class BenchError(Exception):
    """The bench cannot go on; the message is one line for stderr."""


@dataclass(frozen=True)
class Command:
    """One side of a bench: a name (the key in the figures), what to run and with which environment."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] | None = None  # None: this process's environment
    ok: tuple[int, ...] = (0,)  # exit codes that count as success (dive --ci exits 1 on a wasteful image)


@dataclass(frozen=True)
class Sample:
    wall_s: float
    rss_mib: float | None = None  # only when peak RSS was asked for


@dataclass(frozen=True)
class Series:
    """The measured runs of one command, warm-up excluded."""

    name: str
    samples: tuple[Sample, ...]

    @property
    def median_s(self) -> float:
        return median(s.wall_s for s in self.samples)

    @property
    def all_s(self) -> list[float]:
        return [round(s.wall_s, 3) for s in self.samples]

    @property
    def peak_rss_mib(self) -> float | None:
        rss = [s.rss_mib for s in self.samples if s.rss_mib is not None]
        return max(rss) if rss else None

    def line(self, width: int = 16) -> str:
        """``NAME  median 1.23s  [1.2, 1.26]`` (and the peak RSS when measured)."""
        text = f"{self.name:{width}} median {self.median_s:.2f}s  {self.all_s}"
        peak = self.peak_rss_mib
        return text if peak is None else f"{text}  peak RSS {peak:.1f} MiB"


@dataclass(frozen=True)
class Comparison:
    """``subject`` (layermap) against ``baseline``; ``ratio`` is subject median / baseline median."""

    subject: Series
    baseline: Series

    @property
    def ratio(self) -> float:
        return ratio(self.subject.median_s, self.baseline.median_s)

    def figures(self) -> dict[str, Any]:
        """The JSON figures every two-sided bench prints (``median_s``, ``all_s``, ``ratio``)."""
        sides = (self.baseline, self.subject)
        out: dict[str, Any] = {
            "median_s": {s.name: round(s.median_s, 3) for s in sides},
            "all_s": {s.name: s.all_s for s in sides},
            "ratio": round(self.ratio, 4),
        }
        if self.subject.peak_rss_mib is not None and self.baseline.peak_rss_mib is not None:
            out["peak_rss_mib"] = {s.name: round(s.peak_rss_mib or 0.0, 1) for s in sides}
        return out


def median(values: Iterable[float]) -> float:
    found = list(values)
    if not found:
        raise BenchError("no measured runs (--runs must be at least 1)")
    return float(statistics.median(found))


def ratio(subject: float, baseline: float) -> float:
    if baseline <= 0:
        raise BenchError(f"cannot compare with a baseline of {baseline} s")
    return subject / baseline


def round_order(groups: Sequence[Sequence[Command]], index: int) -> list[Command]:
    """The commands of round ``index`` in running order: the groups rotated left by ``index``.

    Two groups simply swap every round. A group keeps its own order (a run that needs the one before
    it, such as a warm-cache run after the run that filled the cache, shares its group).
    """
    if not groups:
        return []
    shift = index % len(groups)
    return [cmd for group in [*groups[shift:], *groups[:shift]] for cmd in group]


def run_once(cmd: Command, rss: bool = False) -> Sample:
    """Run ``cmd`` once (stdout discarded), timing it; peak RSS comes from GNU time when asked.

    Not ``wait4``'s ``ru_maxrss``: a child forked from this (large) Python process starts as a copy of
    it, so that would report at least this process's size.
    """
    with tempfile.TemporaryDirectory(prefix="layermap-bench-run-") as tmp:
        rss_file = Path(tmp) / "rss"
        argv = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *cmd.argv] if rss else list(cmd.argv)
        if rss and not Path(GNU_TIME).exists():
            raise BenchError(f"{GNU_TIME} not found (Debian: apt-get install time)")
        env = None if cmd.env is None else dict(cmd.env)
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            code = subprocess.run(
                argv, env=env, stdout=subprocess.DEVNULL, stderr=err, check=False
            ).returncode
            wall = time.perf_counter() - start
            if code not in cmd.ok:
                err.seek(0)
                tail = err.read().decode(errors="replace").strip()[-600:]
                raise BenchError(f"{' '.join(cmd.argv)} exited {code}: {tail}")
        # GNU time writes "Command exited with non-zero status N" first when the code is not 0.
        return Sample(wall, int(rss_file.read_text().split()[-1]) / 1024 if rss else None)


def settle(seconds: float) -> None:
    """Let the previous run's aftermath pass (writes still going to disk, files being removed)."""
    if seconds > 0:
        os.sync()
        time.sleep(seconds)


Plan = Callable[[int], Sequence[Sequence[Command]]]
Runner = Callable[[Command, bool], Sample]


def run_rounds(
    plan: Plan,
    runs: int,
    warmup: int = 1,
    rss: bool = False,
    settle_s: float = 0.0,
    runner: Runner = run_once,
) -> dict[str, Series]:
    """Run ``warmup + runs`` rounds; ``plan(index)`` gives round ``index``'s groups of commands (a bench
    that needs fresh state per round, such as an empty cache, makes it there). Rounds are numbered from
    0 with the warm-up first, and ordered by ``round_order``. Returns each command's measured runs."""
    if runs < 1 or warmup < 0:
        raise BenchError(f"need runs >= 1 and warmup >= 0, not runs={runs} warmup={warmup}")
    samples: dict[str, list[Sample]] = {}
    for index in range(warmup + runs):
        groups = plan(index)
        names = [cmd.name for group in groups for cmd in group]
        if len(set(names)) != len(names):
            raise BenchError(f"command names repeat in one round: {names}")
        for name in names:
            samples.setdefault(name, [])  # the figures list the commands in the plan's order
        for cmd in round_order(groups, index):
            settle(settle_s)
            sample = runner(cmd, rss)
            if index >= warmup:
                samples[cmd.name].append(sample)
    return {name: Series(name, tuple(found)) for name, found in samples.items()}


def measure(
    subject: Command,
    baseline: Command,
    runs: int,
    warmup: int = 1,
    rss: bool = False,
    settle_s: float = 0.0,
    runner: Runner = run_once,
) -> Comparison:
    """Alternate ``subject`` and ``baseline`` (baseline first in round 0) and compare their medians."""
    if subject.name == baseline.name:
        raise BenchError(f"both sides are named {subject.name!r}")
    series = run_rounds(lambda _: [[baseline], [subject]], runs, warmup, rss, settle_s, runner)
    return Comparison(series[subject.name], series[baseline.name])


def python_env(pycache: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a Python side (layermap): a private bytecode cache, and without
    PYTHONDONTWRITEBYTECODE, which would make every run recompile the package (an installed layermap
    was compiled at install time)."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


@contextmanager
def scratch() -> Iterator[Path]:
    """A temporary directory (for ``python_env``'s bytecode cache, reports, caches), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="layermap-bench-") as tmp:
        yield Path(tmp)


def tool(name: str) -> str:
    """A program on PATH or next to this Python (the venv's ``layermap`` and ``dive``)."""
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        where = Path(sys.executable).parent
        raise BenchError(f"{name} not found on PATH or in {where} (layermap, dive: pip install -e '.[test]')")
    return found


@dataclass(frozen=True)
class Goal:
    """A stated goal: ``value`` must be at most ``limit``. ``key`` names it in the JSON."""

    key: str
    label: str  # the human line's text, e.g. "ratio layermap/docker ="
    value: float
    limit: float
    unit: str = ""
    digits: int = 3

    @property
    def met(self) -> bool:
        return self.value <= self.limit

    def line(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        verdict = "" if self.met else "  MISSED"
        return f"{self.label} {self.value:.{self.digits}f}{unit} (goal <= {self.limit:g}{unit}){verdict}"


def arguments(doc: str | None, runs: int) -> argparse.ArgumentParser:
    """The options every bench takes: ``--runs``, ``--json``, ``--check``; add your own to it."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument(
        "--runs", type=_positive, default=runs, help=f"measured runs per side (default {runs})"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def report(
    figures: Mapping[str, Any],
    lines: Sequence[str],
    goals: Sequence[Goal],
    *,
    as_json: bool,
    check: bool,
    out: TextIO | None = None,
) -> int:
    """Print the figures as one JSON line (``as_json``; ``goals_met`` added) or as the human lines
    followed by one line per goal; return the exit status (1 only when ``check`` and a goal is missed)."""
    stream = sys.stdout if out is None else out
    if as_json:
        record = {**figures, "goals_met": {goal.key: goal.met for goal in goals}}
        stream.write(json.dumps(record) + "\n")
    else:
        stream.write("".join(f"{line}\n" for line in [*lines, *(goal.line() for goal in goals)]))
    return 1 if check and not all(goal.met for goal in goals) else 0


def main(body: Callable[[], int]) -> None:
    """Run a bench's ``body`` and exit with its status; a ``BenchError`` is one stderr line, exit 2."""
    try:
        status = body()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(status)
