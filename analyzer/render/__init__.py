"""Renderers: each is a pure ``render(report) -> str`` in its own module, loaded on first use.

The registry is lazy so that a command pays only for the format it writes (the HTML renderer and
its assets, for one, are not needed by ``--format json``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from analyzer.model import Report

Renderer = Callable[[Report], str]

FORMATS = ("table", "json", "markdown", "annotated", "html", "lesson", "sarif", "github")


class _Registry(Mapping[str, Renderer]):
    """``RENDERERS[name]`` imports ``analyzer.render.report.<name>`` and returns its ``render``."""

    def __getitem__(self, name: str) -> Renderer:
        if name not in FORMATS:
            raise KeyError(name)
        module = importlib.import_module(f"analyzer.render.report.{name}")
        render: Renderer = module.render
        return render

    def __iter__(self) -> Iterator[str]:
        return iter(FORMATS)

    def __len__(self) -> int:
        return len(FORMATS)


RENDERERS: Mapping[str, Renderer] = _Registry()
