"""Wall time of ``layermap build`` against a plain classic ``docker build`` of the same Dockerfile.

Both run through the same engine (``DOCKER_HOST``) with ``--no-cache``, alternating (the order swaps
every round so neither side always runs on a warmer machine), ``--runs`` times each after one
unmeasured warm-up round. The figure that matters is the ratio of medians, measured in the same run
(goal: at most 1.03); absolute times depend on the machine.

    eval "$(bash scripts/dev-engine.sh env)"
    .venv/bin/python bench/bench_build.py --runs 5 [--json] [--check]

Images made here are tagged ``layermap-bench:*`` and removed at the end (the untagged step images
stay as the engine's build cache, as after any classic build).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import harness
from harness import Command, Goal

HERE = Path(__file__).resolve().parent
DEFAULT_CONTEXT = HERE / "work"
GOAL = 1.03
TAGS = ("layermap-bench:docker", "layermap-bench:layermap")


def commands(docker: str, context: Path, pycache: Path) -> tuple[Command, Command]:
    """(layermap build, docker build) of ``context``."""
    baseline = Command("docker build", (docker, "build", "--no-cache", "-q", "-t", TAGS[0], str(context)))
    ours = Command(
        "layermap build",
        (harness.tool("layermap"), "build", str(context), "--no-cache", "-q", "-t", TAGS[1])
        + ("--format", "json", "-o", "/dev/null"),
        harness.python_env(pycache),
    )
    return ours, baseline


def run() -> int:
    parser = harness.arguments(__doc__, runs=5)
    parser.add_argument("--context", type=Path, default=DEFAULT_CONTEXT)
    args = parser.parse_args()
    docker = harness.tool("docker")
    try:
        with harness.scratch() as tmp:
            comparison = harness.measure(*commands(docker, args.context, tmp / "pycache"), runs=args.runs)
    finally:
        subprocess.run([docker, "rmi", *TAGS], capture_output=True, check=False)
    figures = {"runs": args.runs, **comparison.figures(), "goal": GOAL}
    lines = [comparison.baseline.line(14), comparison.subject.line(14)]
    goal = Goal("ratio", "ratio layermap/docker =", comparison.ratio, GOAL)
    return harness.report(figures, lines, [goal], as_json=args.json, check=args.check)


if __name__ == "__main__":
    harness.main(run)
