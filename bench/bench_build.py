"""Wall time of ``layermap build`` against a plain classic ``docker build`` of the same Dockerfile.

Both run through the same engine (``DOCKER_HOST``) with ``--no-cache``, alternating (the order swaps
every round so neither side always runs on a warmer machine), ``--runs`` times each after one
unmeasured warm-up round. The figure that
matters is the ratio of medians, measured in the same run; absolute times depend on the machine.

    eval "$(bash scripts/dev-engine.sh env)"
    .venv/bin/python bench/bench_build.py --runs 5

Images made here are tagged ``layermap-bench:*`` and removed at the end (the untagged step images
stay as the engine's build cache, as after any classic build).
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

HERE = Path(__file__).resolve().parent
DEFAULT_CONTEXT = HERE / "work"


def _run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--context", type=Path, default=DEFAULT_CONTEXT)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    docker = shutil.which("docker")
    layermap = shutil.which("layermap") or str(Path(sys.executable).parent / "layermap")
    if docker is None:
        sys.exit("bench: no docker client on PATH")
    baseline = [docker, "build", "--no-cache", "-q", "-t", "layermap-bench:docker", str(args.context)]
    ours = [
        layermap,
        "build",
        str(args.context),
        "--no-cache",
        "-q",
        "-t",
        "layermap-bench:layermap",
        "--format",
        "json",
        "-o",
        "/dev/null",
    ]
    times: dict[str, list[float]] = {"docker build": [], "layermap build": []}
    # A private bytecode cache: where PYTHONDONTWRITEBYTECODE is set, every run would otherwise
    # recompile the package, which an installed layermap (compiled at install time) never does.
    pycache = tempfile.mkdtemp(prefix="layermap-bench-pycache-")
    our_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    envs = {"docker build": None, "layermap build": {**our_env, "PYTHONPYCACHEPREFIX": pycache}}
    try:
        for i in range(args.runs + 1):
            pair = [("docker build", baseline), ("layermap build", ours)]
            for name, cmd in pair if i % 2 == 0 else pair[::-1]:
                elapsed = _run(cmd, envs[name])
                if i > 0:  # round 0 warms the page cache and the bytecode cache
                    times[name].append(elapsed)
    finally:
        shutil.rmtree(pycache, ignore_errors=True)
        subprocess.run(
            [docker, "rmi", "layermap-bench:docker", "layermap-bench:layermap"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    base, mine = (statistics.median(times[k]) for k in ("docker build", "layermap build"))
    result = {
        "runs": args.runs,
        "median_s": {"docker build": round(base, 3), "layermap build": round(mine, 3)},
        "all_s": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "ratio": round(mine / base, 4),
        "goal": 1.03,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"docker build   median {base:.2f}s  {result['all_s']['docker build']}")
        print(f"layermap build median {mine:.2f}s  {result['all_s']['layermap build']}")
        print(f"ratio layermap/docker = {result['ratio']:.3f} (goal <= 1.03)")


if __name__ == "__main__":
    main()
