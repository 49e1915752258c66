"""The integration tests' rule for a missing engine: fail when the run requires one, else skip."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def engine_required() -> bool:
    return os.environ.get("LAYERMAP_TEST_ENGINE", "").strip().lower() in {"1", "yes", "true", "required"}


def no_engine(message: str) -> NoReturn:
    """Fail (CI, scripts/test.sh) or skip (a developer without an engine)."""
    if engine_required():
        pytest.fail(f"{message} (LAYERMAP_TEST_ENGINE=required; start one with scripts/dev-engine.sh start)")
    pytest.skip(message)
