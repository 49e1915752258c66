"""Review and gate configuration: ``[tool.layermap]`` in ``pyproject.toml`` or a ``.layermap.toml``.

Looked up next to the Dockerfile (``.layermap.toml`` first), or given with ``--config FILE``. Every key
is checked when the file is read, before any build: a bad value is a :class:`UsageError` (exit 2) that
names the file and the key. Thresholds follow dive's CI rules: one key each, a parsed value with a range
check, and ``"off"`` (or leaving the key out) disables it.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from analyzer.errors import UsageError
from analyzer.limits import MAX_CONFIG_BYTES, MAX_JSON_DEPTH, InputLimitError, check_depth, read_regular

FAIL_ON = ("error", "warning", "never")
SEVERITY_VALUES = ("error", "warning", "info", "off")
SIZE_KEYS = ("max_image_size", "max_layer_size", "max_added_size", "max_wasted_bytes", "max_context_size")
COUNT_KEYS = ("max_layers",)
RATIO_KEYS = ("min_efficiency",)
THRESHOLD_KEYS = SIZE_KEYS + COUNT_KEYS + RATIO_KEYS
DEFAULT_THRESHOLDS: Mapping[str, float] = {"max_context_size": 10_000_000}
"""Thresholds with a default: a context over 10 MB without a ``.dockerignore`` is worth a warning."""

_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True)
class Config:
    """A validated configuration; the empty one when no file was found."""

    source: str | None = None
    """The file it came from (None: defaults only)."""
    fail_on: str | None = None
    """``error``, ``warning`` or ``never``; None when the file does not say (``--fail-on`` or default)."""
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    """Threshold key → bytes, count or ratio; a key that is absent is off."""
    severities: Mapping[str, str] = field(default_factory=dict)
    """Rule id → ``error``, ``warning``, ``info`` or ``off``."""
    ignore: frozenset[str] = frozenset()
    """Rule ids not reported at all."""


def parse_size(value: object, key: str) -> int:
    """Bytes from an integer or a string like ``"200MB"``, ``"1.5GiB"`` (decimal and binary units)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f'{key}: expected a size in bytes or like "200MB" / "1.5GiB", got {value!r}')
    return int(float(match.group(1)) * _UNITS[unit])


def parse_ratio(value: object, key: str) -> float:
    """A fraction 0..1 from a number or a percentage string (``"95%"``)."""
    ratio: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        ratio = float(value)
    elif isinstance(value, str) and (match := _PERCENT.match(value)):
        ratio = float(match.group(1)) / 100
    if ratio is None or math.isnan(ratio) or not 0 <= ratio <= 1:
        raise ValueError(f'{key}: expected a fraction 0..1 or a percentage like "95%", got {value!r}')
    return ratio


def parse_count(value: object, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"{key}: expected a whole number of at least 1, got {value!r}")


def parse_threshold(key: str, value: object) -> float | None:
    """The parsed threshold, or None for ``"off"``."""
    if value == "off":
        return None
    if key in SIZE_KEYS:
        return parse_size(value, key)
    if key in COUNT_KEYS:
        return parse_count(value, key)
    return parse_ratio(value, key)


def from_table(table: Mapping[str, Any], known_rules: Collection[str], source: str | None = None) -> Config:
    """Validate a ``[tool.layermap]`` table; raise :class:`ValueError` naming the bad key."""
    thresholds: dict[str, float] = dict(DEFAULT_THRESHOLDS)
    fail_on, severities, ignore = None, {}, frozenset[str]()
    for key, value in table.items():
        if key in THRESHOLD_KEYS:
            parsed = parse_threshold(key, value)
            if parsed is None:
                thresholds.pop(key, None)
            else:
                thresholds[key] = parsed
        elif key == "fail_on":
            if value not in FAIL_ON:
                raise ValueError(f"fail_on: expected one of {', '.join(FAIL_ON)}, got {value!r}")
            fail_on = value
        elif key == "severity":
            severities = _severities(value, known_rules)
        elif key == "ignore":
            ignore = frozenset(_rule_list(value, known_rules))
        else:
            raise ValueError(f"{key}: unknown key (known: {', '.join(sorted(_KNOWN_KEYS))})")
    return Config(source, fail_on, thresholds, severities, ignore)


_KNOWN_KEYS = (*THRESHOLD_KEYS, "fail_on", "severity", "ignore")


def _severities(value: object, known_rules: Collection[str]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"severity: expected a table of rule id = severity, got {value!r}")
    for rule, severity in value.items():
        _check_rule(f"severity.{rule}", rule, known_rules)
        if severity not in SEVERITY_VALUES:
            raise ValueError(
                f"severity.{rule}: expected one of {', '.join(SEVERITY_VALUES)}, got {severity!r}"
            )
    return dict(value)


def _rule_list(value: object, known_rules: Collection[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"ignore: expected a list of rule ids, got {value!r}")
    for rule in value:
        _check_rule("ignore", rule, known_rules)
    return list(value)


def _check_rule(key: str, rule: str, known_rules: Collection[str]) -> None:
    if rule not in known_rules:
        raise ValueError(f"{key}: unknown rule {rule!r} (rules: {', '.join(sorted(known_rules))})")


def find_config(folder: Path) -> Path | None:
    """``.layermap.toml`` in ``folder``, else its ``pyproject.toml`` when that has ``[tool.layermap]``."""
    dedicated = folder / ".layermap.toml"
    if dedicated.is_file():
        return dedicated
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file() and isinstance(_tool_layermap(pyproject, _read_toml(pyproject)), dict):
        return pyproject
    return None


def _tool_layermap(path: Path, data: Mapping[str, Any]) -> object:
    """``[tool.layermap]`` of a pyproject (None when absent); a ``tool`` that is not a table is an error."""
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise UsageError(f"{path}: 'tool' is not a table")
    return tool.get("layermap")


def load_config(path: Path | None, known_rules: Collection[str]) -> Config:
    """Read and validate ``path`` (None: the defaults). Raises :class:`UsageError` (exit 2)."""
    if path is None:
        return Config()
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        table = _tool_layermap(path, data)
        if not isinstance(table, dict):
            raise UsageError(f"{path}: no [tool.layermap] table")
        where = f"{path}: [tool.layermap]"
    else:
        table, where = data, str(path)
    try:
        return from_table(table, known_rules, source=str(path))
    except ValueError as err:
        raise UsageError(f"{where} {err}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed file: a regular file (a FIFO or a device would block or never end) of at most
    MAX_CONFIG_BYTES, UTF-8 (TOML's only encoding), nested at most MAX_JSON_DEPTH deep."""
    # Imported here: most runs read no configuration file, and start-up matters for the linter.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 reads TOML with the tomli backport (a dependency there)
        import tomli as tomllib
    try:
        raw = read_regular(path, MAX_CONFIG_BYTES)
    except OSError as err:
        raise UsageError(f"{path}: cannot read the configuration: {err.strerror}") from None
    except InputLimitError as err:
        raise UsageError(f"{path}: cannot read the configuration: {err}") from None
    try:
        return cast(dict[str, Any], check_depth(tomllib.loads(raw.decode("utf-8"))))
    except UnicodeDecodeError as err:
        raise UsageError(
            f"{path}: the configuration is not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None
    except (tomllib.TOMLDecodeError, RecursionError, InputLimitError) as err:
        reason = f"nested more than {MAX_JSON_DEPTH} levels deep" if isinstance(err, RecursionError) else err
        raise UsageError(f"{path}: invalid TOML: {reason}") from None
