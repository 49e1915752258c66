"""Peak memory of ``layermap build`` against a plain classic ``docker build`` when a RUN prints a lot.

The Dockerfile's one RUN prints ``--mb`` MB (default 600) of 100-byte lines, then ``--line-mb`` MB (default
50) as one line without a newline. Both run through the same engine (``DOCKER_HOST``), classic builder,
``--no-cache``, alternating, ``--runs`` times each; the peak RSS of each client process is read from
``wait4``. The figure that matters is the ratio of the median peaks (and of the median wall times),
measured in the same run; absolute figures depend on the machine.

    eval "$(bash scripts/dev-engine.sh env)"
    .venv/bin/python bench/bench_build_output.py --runs 3

Images made here are tagged ``layermap-bench:*`` and removed at the end.
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
from pathlib import Path

DOCKERFILE = """\
FROM busybox:latest
RUN yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123 \\
    | head -c {lines_bytes} && yes | tr -d '\\n' | head -c {line_bytes} && echo
"""


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one command, which must succeed."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip()[-400:]
            sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}): {tail}")
    return elapsed, usage.ru_maxrss * 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mb", type=int, default=600, help="MB of output lines")
    parser.add_argument("--line-mb", type=int, default=50, help="MB of one line without a newline")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    docker = shutil.which("docker")
    layermap = shutil.which("layermap") or str(Path(sys.executable).parent / "layermap")
    if docker is None:
        sys.exit("bench: no docker client on PATH")
    context = Path(tempfile.mkdtemp(prefix="layermap-bench-output-"))
    text = DOCKERFILE.format(lines_bytes=args.mb * 1_000_000, line_bytes=args.line_mb * 1_000_000)
    (context / "Dockerfile").write_text(text)
    commands = {
        "docker build": [docker, "build", "--no-cache", "-q", "-t", "layermap-bench:docker", str(context)],
        "layermap build": [
            *(layermap, "build", str(context), "--builder", "classic", "--no-cache", "-q"),
            *("-t", "layermap-bench:layermap", "--format", "json", "-o", "/dev/null"),
        ],
    }
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}  # the docker CLI's classic builder
    figures: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    try:
        for i in range(args.runs):
            names = list(commands) if i % 2 == 0 else list(commands)[::-1]
            for name in names:
                figures[name].append(_run(commands[name], env))
    finally:
        shutil.rmtree(context, ignore_errors=True)
        subprocess.run(
            [docker, "rmi", "layermap-bench:docker", "layermap-bench:layermap"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    _report(args, figures)


def _report(args: argparse.Namespace, figures: dict[str, list[tuple[float, int]]]) -> None:
    wall = {name: statistics.median(t for t, _ in runs) for name, runs in figures.items()}
    rss = {name: statistics.median(m for _, m in runs) for name, runs in figures.items()}
    result = {
        "runs": args.runs,
        "output_mb": args.mb + args.line_mb,
        "median_peak_rss_mb": {k: round(v / 1e6, 1) for k, v in rss.items()},
        "median_wall_s": {k: round(v, 2) for k, v in wall.items()},
        "rss_ratio": round(rss["layermap build"] / rss["docker build"], 3),
        "wall_ratio": round(wall["layermap build"] / wall["docker build"], 3),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name in figures:
        print(f"{name:15} median peak RSS {rss[name] / 1e6:8.1f} MB, wall {wall[name]:.2f}s")
    print(f"ratio layermap/docker: RSS {result['rss_ratio']:.2f}, wall {result['wall_ratio']:.2f}")


if __name__ == "__main__":
    main()
