"""Re-record ``reports/*.json``: build every sample with layermap's classic pipeline on a real engine.

    DOCKER_HOST=unix:///tmp/lm-engine/docker.sock PYTHONPATH=tests .venv/bin/python -m helpers.record golden

The engine needs busybox:latest and debian:bookworm-slim (scripts/dev-engine.sh seed) and host
networking for the apt-cache sample. Ids and sizes change with every recording: refresh the golden
files afterwards (LAYERMAP_UPDATE_GOLDEN=1 pytest tests/unit/render/test_annotated.py
tests/unit/render/test_html.py).
Nothing is tagged; the step images stay in the engine as build cache.
"""

from __future__ import annotations

from analyzer.dockerfile import load
from analyzer.engine import client as engine
from analyzer.engine.options import BuildOptions
from analyzer.mapping import build as pipeline
from helpers.golden import dump
from helpers.record.common import ROOT, fixture_dir

HERE = fixture_dir("golden")

CASES = [
    ("apt-cache", "Dockerfile", None),
    ("arg-onbuild", "Dockerfile", None),
    ("basics", "Dockerfile", None),
    ("cache-busting", "Dockerfile", None),
    ("chain", "Dockerfile", None),
    ("chain", "Dockerfile", "middle"),
    ("deleted-file", "Dockerfile", None),
    ("multi-stage", "Dockerfile", None),
]


def main() -> None:
    eng = engine.connect()
    for sample, name, target in CASES:
        folder = ROOT / "sample_dockerfiles" / sample
        parsed = load(folder / name)
        result = eng.build_classic(BuildOptions(folder, folder / name, target=target, network="host"))
        report = pipeline.assemble(parsed, target, result, eng, f"sample_dockerfiles/{sample}/{name}")
        label = sample + (f"-target-{target}" if target else "")
        print(dump(report, label), len(report.steps), "steps")


if __name__ == "__main__":
    main()
