"""Read-only views of the measured inputs the rules need beyond the report's steps.

``--contents`` (layer file data) is produced by ``analyzer/contents`` as the model's own types
(:class:`~analyzer.model.WastePair`, :class:`~analyzer.model.FileChange` in each step's
:class:`~analyzer.model.FileSummary`); :func:`contents_of` gathers them for the rules without copying
them into other types. The build context's size (:func:`measure_context`) is measured here.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from analyzer.model import FileChange, Report, Step, WastePair


@dataclass(frozen=True)
class Contents:
    """What ``--contents`` measured."""

    wasted_bytes: int
    efficiency: float
    pairs: tuple[WastePair, ...]
    top_files: tuple[tuple[Step, tuple[FileChange, ...]], ...]
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


def contents_of(report: Report) -> Contents | None:
    """The ``--contents`` data of ``report``, or None when it was not read."""
    if report.waste is None:
        return None
    files = tuple((step, step.files.top) for step in report.steps if step.files is not None)
    return Contents(report.waste.wasted_bytes, report.waste.efficiency, report.waste.pairs, files)


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
