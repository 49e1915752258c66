"""``layermap image NAME`` (history and layer map, no export) against ``dive --ci NAME``, side by side.

Same image as ``bench_contents.py`` (over 700 MB and 20,000 files, built from ``bench/contents`` if the
engine lacks it). layermap needs only inspect, history and the image configuration (the engine's own
store, or the exact rule on history sizes and layer count), so it never exports; dive exports the
whole image and reads every layer. Rounds alternate which side goes first; one unmeasured round warms
the page cache, and each run starts after a sync and a short pause. The figure is the ratio of
medians, measured in the same run (goal: at most 0.1).

    eval "$(bash scripts/dev-engine.sh env)"
    .venv/bin/python bench/bench_image.py --runs 5 [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import docker
from bench_contents import IMAGE, ensure_image, measure, tool

GOAL = 0.1


def settle() -> None:
    """Let the previous run's aftermath pass (dive's 700 MB export is still being written back and
    removed when it exits), so that neither side is timed on a machine busy with the other's I/O."""
    os.sync()
    time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    client = docker.from_env().api
    ensure_image(client)
    size = int(client.inspect_image(IMAGE)["Size"])
    base_env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        # A private bytecode cache: an environment with PYTHONDONTWRITEBYTECODE would otherwise make
        # every run recompile the package, which an installed layermap never does.
        ours_env = {k: v for k, v in base_env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        ours_env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        sides = {
            "dive --ci": ([tool("dive"), IMAGE, "--ci"], {**base_env, "CI": "true"}, (0, 1)),
            "layermap image": (
                [
                    tool("layermap"),
                    "image",
                    IMAGE,
                    "--format",
                    "json",
                    "-o",
                    os.devnull,
                    "-q",
                    "--fail-on",
                    "never",
                ],
                ours_env,
                (0,),
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in sides}
        for index in range(args.runs + 1):
            order = list(sides) if index % 2 == 0 else list(sides)[::-1]
            for name in order:
                cmd, env, ok = sides[name]
                settle()
                wall, _ = measure(cmd, env, ok)
                if index > 0:  # round 0 only warms the page cache and the bytecode cache
                    times[name].append(wall)
    dive, ours = (statistics.median(times[k]) for k in ("dive --ci", "layermap image"))
    result = {
        "image": IMAGE,
        "image_bytes": size,
        "runs": args.runs,
        "median_s": {"dive --ci": round(dive, 3), "layermap image": round(ours, 3)},
        "all_s": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "ratio": round(ours / dive, 4),
        "goal": GOAL,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{IMAGE}: {size / 1e6:.0f} MB")
        print(f"dive --ci        median {dive:.2f}s  {result['all_s']['dive --ci']}")
        print(f"layermap image   median {ours:.2f}s  {result['all_s']['layermap image']}")
        print(f"ratio layermap/dive = {result['ratio']:.3f} (goal <= {GOAL})")


if __name__ == "__main__":
    main()
