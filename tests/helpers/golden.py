"""Measured reports of the samples, recorded from a real engine (``helpers/record/golden.py``), loaded back
into
:class:`analyzer.model.Report` for the engine-free tests of explain, annotated and HTML.

The JSON is ``dataclasses.asdict(report)`` (image config dropped); :func:`load` rebuilds the frozen
dataclasses from the type hints, so a field added to the model later just takes its default.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

from analyzer import model
from analyzer.model import Report

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
REPORTS = HERE / "reports"


def names() -> list[str]:
    """Recorded report names (``basics``, ``chain-target-middle``…)."""
    return sorted(p.stem for p in REPORTS.glob("*.json"))


def load(name: str) -> Report:
    data = json.loads((REPORTS / f"{name}.json").read_text())
    report = _build(Report, data)
    assert isinstance(report, Report)
    return report


def _build(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _build(inner[0], value)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_build(item, v) for v in value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = typing.get_type_hints(hint, vars(model))
        known = {f.name for f in dataclasses.fields(hint)}
        return hint(**{k: _build(hints[k], v) for k, v in value.items() if k in known})
    return value


def dump(report: Report, name: str) -> Path:
    """Write ``report`` (without the raw image config) as ``reports/<name>.json``."""
    if report.image is not None:
        report = dataclasses.replace(report, image=dataclasses.replace(report.image, config=None))
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"{name}.json"
    path.write_text(json.dumps(dataclasses.asdict(report), indent=1, sort_keys=True) + "\n")
    return path


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``golden/<name>``; ``LAYERMAP_UPDATE_GOLDEN=1`` rewrites it instead."""
    import os

    path = HERE / name
    if os.environ.get("LAYERMAP_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path} (create it with LAYERMAP_UPDATE_GOLDEN=1)"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{path} differs (refresh with LAYERMAP_UPDATE_GOLDEN=1 if intended)"
