"""Parsing large Dockerfiles, in one process: ``analyzer.dockerfile.parse`` against a baseline of reading
the same text and splitting it into lines (the floor any parser pays), alternating, medians of
``--runs``. Inputs are generated here: 700,000 continuation lines (9.8 MB), one 5 MB RUN line, 900,000
instructions (9.9 MB). Goal: at most 150x the baseline on each (linear; before the fix the first input
took over 600 s). BuildKit's own parser (the ``dockerfile`` package) is no baseline here: it refuses
lines over 64 KiB and its continuation joining is quadratic (40,000 lines: 2.5 s; 10,000: 0.18 s).

    .venv/bin/python bench/bench_parse.py --runs 3
"""

from __future__ import annotations

import time
from collections.abc import Callable

import harness
from harness import Goal

from analyzer.dockerfile import parse

GOAL = 150.0
INPUTS: dict[str, Callable[[], str]] = {
    "continuations": lambda: "FROM busybox\nRUN true" + " \\\n  && echo x" * 700_000 + "\n",
    "long-line": lambda: "FROM busybox\nRUN echo " + "a" * 5_000_000 + "\n",
    "instructions": lambda: "FROM busybox\n" + "RUN echo x\n" * 900_000,
}


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run() -> int:
    args = harness.arguments(__doc__, runs=3).parse_args()
    figures: dict[str, object] = {"runs": args.runs}
    lines: list[str] = []
    goals: list[Goal] = []
    for name, make in INPUTS.items():
        data = make().encode()
        sides: dict[str, Callable[[], object]] = {
            "parse": lambda data=data: parse(data.decode("utf-8")),
            "read+split": lambda data=data: data.decode("utf-8").split("\n"),
        }
        times: dict[str, list[float]] = {side: [] for side in sides}
        for i in range(args.runs + 1):  # round 0 warms up; the order swaps every round
            for side in list(sides)[:: 1 if i % 2 else -1]:
                elapsed = _timed(sides[side])
                if i:
                    times[side].append(elapsed)
        ours, base = (harness.median(times[side]) for side in sides)
        ratio = harness.ratio(ours, base)
        figures[name] = {"bytes": len(data), "median_s": {"parse": ours, "read+split": base}, "ratio": ratio}
        lines.append(f"{name:14} {len(data) / 1e6:5.1f} MB  parse {ours:7.3f}s  read+split {base:7.4f}s")
        goals.append(Goal(name, f"{name}: ratio parse/read+split =", ratio, GOAL, digits=1))
    return harness.report(figures, lines, goals, as_json=args.json, check=args.check)


if __name__ == "__main__":
    harness.main(run)
