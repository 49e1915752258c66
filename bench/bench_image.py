"""``layermap image NAME`` (history and layer map, no export) against ``dive --ci NAME``, side by side.

Same image as ``bench_contents.py`` (over 700 MB and 20,000 files, built from ``bench/contents`` if the
engine lacks it). layermap needs only inspect, history and the image configuration (the engine's own
store, or the exact rule on history sizes and layer count), so it never exports; dive exports the
whole image and reads every layer. Rounds alternate which side goes first; one unmeasured round warms
the page cache, and each run starts after a sync and a short pause. The figure is the ratio of
medians, measured in the same run (goal: at most 0.1).

    eval "$(bash scripts/dev-engine.sh env)"
    .venv/bin/python bench/bench_image.py --runs 5 [--json] [--check]
"""

from __future__ import annotations

import os
from pathlib import Path

import docker
import harness
from bench_contents import IMAGE, ensure_image
from harness import Command, Goal

GOAL = 0.1
# dive's 700 MB export is still being written back and removed when it exits: without a pause the
# next side would be timed on a machine busy with the other's I/O.
SETTLE_S = 2.0


def commands(pycache: Path) -> tuple[Command, Command]:
    """(layermap image, dive --ci) of the bench image."""
    # dive --ci exits 1 when its default rules fail (this image is meant to be wasteful).
    dive = Command("dive --ci", (harness.tool("dive"), IMAGE, "--ci"), {**os.environ, "CI": "true"}, (0, 1))
    argv = (harness.tool("layermap"), "image", IMAGE, "--format", "json", "-o", os.devnull, "-q")
    ours = Command("layermap image", (*argv, "--fail-on", "never"), harness.python_env(pycache))
    return ours, dive


def run() -> int:
    args = harness.arguments(__doc__, runs=5).parse_args()
    client = docker.from_env().api
    ensure_image(client)
    size = int(client.inspect_image(IMAGE)["Size"])
    with harness.scratch() as tmp:
        comparison = harness.measure(*commands(tmp / "pycache"), runs=args.runs, settle_s=SETTLE_S)
    figures = {"image": IMAGE, "image_bytes": size, "runs": args.runs, **comparison.figures(), "goal": GOAL}
    lines = [f"{IMAGE}: {size / 1e6:.0f} MB", comparison.baseline.line(), comparison.subject.line()]
    goal = Goal("ratio", "ratio layermap/dive =", comparison.ratio, GOAL)
    return harness.report(figures, lines, [goal], as_json=args.json, check=args.check)


if __name__ == "__main__":
    harness.main(run)
