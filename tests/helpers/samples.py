"""Shared test helpers (moved from test_samples_build.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[2] / "sample_dockerfiles"


CASES: list[tuple[str, str, dict[str, str] | None, str | None, int, int, str]] = [
    # E = empty_layer (metadata only), L = a layer
    ("basics", "Dockerfile", None, None, 19, 5, "EEELELLLEEEEEEEEEE"),
    ("deleted-file", "Dockerfile", None, None, 4, 3, "LEL"),
    ("deleted-file", "Dockerfile.fixed", None, None, 2, 2, "L"),
    ("multi-stage", "Dockerfile", None, None, 3, 2, "LE"),
    ("cache-busting", "Dockerfile", None, None, 5, 4, "LLLE"),
    ("cache-busting", "Dockerfile.good", None, None, 6, 5, "LLLLE"),
    ("arg-onbuild", "Dockerfile", None, None, 15, 5, "EEELEEELLEEELE"),
    ("arg-onbuild", "Dockerfile", {"APP_VERSION": "2.0", "BUILD_NOTE": "hi"}, None, 15, 5, "EEELEEELLEEELE"),
    ("chain", "Dockerfile", None, None, 7, 4, "LELELE"),
    ("chain", "Dockerfile", None, "middle", 4, 3, "LEL"),
    ("apt-cache", "Dockerfile", None, None, 3, 2, "LE"),
    ("apt-cache", "Dockerfile.clean", None, None, 3, 2, "LE"),
]


def _case_id(case: tuple[Any, ...]) -> str:
    sample, dockerfile, args, target = case[:4]
    parts = [sample, dockerfile]
    if args:
        parts.append("args")
    if target:
        parts.append(f"target={target}")
    return "-".join(parts)
