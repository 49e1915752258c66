"""Read-only views of the measured inputs the rules need beyond the report's steps.

``--contents`` (layer file data) is produced elsewhere (``analyzer/contents``); the rules read it only
through :func:`contents_of`, which accepts the report's fields as the contract's JSON shape describes
them (per-step ``files.top``, top-level ``waste.pairs``) whether they arrive as objects or as mappings.
This is the one place that knows that shape, so a change there touches one module.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer.model import Report, Step


@dataclass(frozen=True)
class TopFile:
    """One of the largest entries a step's layer holds (``files.top[]``)."""

    path: str
    size: int
    change: str
    """``added``, ``modified`` or ``deleted``."""


@dataclass(frozen=True)
class WastePair:
    """Bytes one line added that a later line deleted, overwrote or copied up (``waste.pairs[]``)."""

    added_line: int | None
    """None: the bytes belong to a layer no Dockerfile line made (the base image's)."""
    removed_line: int | None
    bytes: int
    kind: str
    """``deleted``, ``overwritten`` or ``copy-up``."""
    paths: tuple[str, ...]
    """The largest paths (the contents reader may cap the list; ``path_count`` says how many)."""
    path_count: int | None = None


@dataclass(frozen=True)
class Contents:
    """What ``--contents`` measured."""

    wasted_bytes: int
    efficiency: float
    pairs: tuple[WastePair, ...]
    top_files: tuple[tuple[Step, tuple[TopFile, ...]], ...]
    """Each step that has file data, with its largest entries."""


@dataclass(frozen=True)
class BuildContextInfo:
    """The build context folder as the engine receives it."""

    path: str
    dockerignore: bool
    bytes: int | None
    """Sum of the sizes of the context's regular files; None when a ``.dockerignore`` filters what is
    sent (then the folder's total is not what the engine receives, and nothing needs it)."""
    files: int | None


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _line(value: Any) -> int | None:
    return None if value is None else int(value)


def contents_of(report: Report) -> Contents | None:
    """The ``--contents`` data of ``report``, or None when it was not read."""
    waste = getattr(report, "waste", None)
    if waste is None:
        return None
    pairs = tuple(
        WastePair(
            added_line=_line(_get(p, "added_line")),
            removed_line=_line(_get(p, "removed_line")),
            bytes=int(_get(p, "bytes")),
            kind=str(_get(p, "kind")),
            paths=tuple(str(x) for x in (_get(p, "paths") or ())),
            path_count=_line(_get(p, "path_count")),
        )
        for p in (_get(waste, "pairs") or ())
    )
    files: list[tuple[Step, tuple[TopFile, ...]]] = []
    for step in report.steps:
        summary = getattr(step, "files", None)
        if summary is None:
            continue
        top = tuple(
            TopFile(str(_get(t, "path")), int(_get(t, "size")), str(_get(t, "change")))
            for t in (_get(summary, "top") or ())
        )
        files.append((step, top))
    return Contents(
        wasted_bytes=int(_get(waste, "wasted_bytes") or 0),
        efficiency=float(_get(waste, "efficiency") or 0.0),
        pairs=pairs,
        top_files=tuple(files),
    )


def measure_context(folder: Path) -> BuildContextInfo:
    """Size the build context on disk (regular files, symlinks not followed).

    With a ``.dockerignore`` the engine sends less than the folder holds; the one rule that uses this
    only fires without one, so the folder is not walked then.
    """
    if (folder / ".dockerignore").is_file():
        return BuildContextInfo(str(folder), True, None, None)
    total = count = 0
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in names:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue  # vanished or unreadable: the engine would fail on it, not us
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
                count += 1
    return BuildContextInfo(str(folder), False, total, count)
