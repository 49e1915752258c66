"""Peak RSS of ``layermap build`` (classic builder) against ``docker build`` (``DOCKER_BUILDKIT=0``, the
same engine) when a RUN prints a lot: ``--mb`` MB of 100-byte lines (default 600), then ``--line-mb`` MB
as one line without a newline (default 50). Goals: peak RSS at most 2x docker's (the classic stream
keeps a bounded tail: 1,000 lines of at most 8,192 characters), wall time at most 5x.

    eval "$(bash scripts/dev-engine.sh env)"
    .venv/bin/python bench/bench_build_output.py --runs 1
"""

from __future__ import annotations

import os
import subprocess

import harness
from harness import Command, Goal

RSS_GOAL = 2.0
WALL_GOAL = 5.0
DOCKERFILE = """\
FROM busybox:latest
RUN yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123 \\
    | head -c {lines_bytes} && yes | tr -d '\\n' | head -c {line_bytes} && echo
"""


def run() -> int:
    parser = harness.arguments(__doc__, runs=1)
    parser.add_argument("--mb", type=int, default=600, help="MB of output lines")
    parser.add_argument("--line-mb", type=int, default=50, help="MB of one line without a newline")
    args = parser.parse_args()
    docker = harness.tool("docker")
    classic = {**os.environ, "DOCKER_BUILDKIT": "0"}
    with harness.scratch() as tmp:
        text = DOCKERFILE.format(lines_bytes=args.mb * 1_000_000, line_bytes=args.line_mb * 1_000_000)
        (tmp / "Dockerfile").write_text(text)
        ours = Command(
            "layermap build",
            (harness.tool("layermap"), "build", str(tmp), "--builder", "classic", "--no-cache", "-q")
            + ("-t", "layermap-bench:output", "--format", "json", "-o", "/dev/null"),
            harness.python_env(tmp / "pycache", classic),
        )
        base = Command(
            "docker build",
            (docker, "build", "--no-cache", "-q", "-t", "layermap-bench:output", str(tmp)),
            classic,
        )
        try:
            comparison = harness.measure(ours, base, runs=args.runs, warmup=0, rss=True)
        finally:
            subprocess.run([docker, "rmi", "layermap-bench:output"], capture_output=True, check=False)
    subject_rss, baseline_rss = comparison.subject.peak_rss_mib, comparison.baseline.peak_rss_mib
    if subject_rss is None or baseline_rss is None:
        raise harness.BenchError("no peak RSS measured (GNU time missing?)")
    rss_ratio = harness.ratio(subject_rss, baseline_rss)
    figures = {
        "runs": args.runs,
        "output_mb": args.mb + args.line_mb,
        **comparison.figures(),
        "rss_ratio": rss_ratio,
    }
    goals = [
        Goal("rss_ratio", "peak RSS layermap/docker =", rss_ratio, RSS_GOAL),
        Goal("ratio", "wall layermap/docker =", comparison.ratio, WALL_GOAL),
    ]
    lines = [comparison.baseline.line(), comparison.subject.line()]
    return harness.report(figures, lines, goals, as_json=args.json, check=args.check)


if __name__ == "__main__":
    harness.main(run)
