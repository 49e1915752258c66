"""Renderers, and the one registry that finds them: per kind of input, its formats and their modules.

Kinds (what is rendered) and the input each format's ``render`` takes:

- ``report`` — a :class:`~analyzer.model.Report` of any ``Report.kind`` (build, image, prediction) and
  :class:`RenderOptions`: ``build``, ``image`` and ``predict`` write these. Each renderer handles the
  whole report itself: the prediction table for a prediction, the ``--explain`` and ``--layers``
  sections it carries (the text formats through ``render/report/teaching.py``'s ``text_report``, JSON
  in ``to_dict``, HTML and annotated in their own ways). Nothing outside the renderer adds to its text.
- ``diff`` — a :class:`~analyzer.review.diff.DiffResult` (``layermap diff``).
- ``layers`` — a :class:`~analyzer.model.LayersView` (``layermap layers``).
- ``pull`` — a :class:`~analyzer.teaching.pull.PullPlan` (``layermap pull``).
- ``store`` — a :class:`~analyzer.teaching.store.StoreView` (``layermap store``).

Format ``f`` of kind ``k`` is the module ``analyzer.render.<k>.<f>``; the registry imports it on first
use, so a command pays only for the format it writes (``--format json`` never imports the HTML renderer
and its assets). ``RENDERERS``, ``DIFF_RENDERERS`` and ``LAYERS_RENDERERS`` are typed views of the one
table; :func:`renderer` looks up any kind by name. Unknown kinds and formats raise ``KeyError``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

from analyzer.model import LayersView, Report

if TYPE_CHECKING:  # these modules are their commands', not every command's, to import
    from analyzer.review.diff import DiffResult
    from analyzer.teaching.pull import PullPlan
    from analyzer.teaching.store import StoreView


@dataclass(frozen=True)
class RenderOptions:
    """How a report is written, beyond its data: what the CLI knows about where the text goes."""

    colour: bool = False
    """ANSI colours (``annotated`` only; the CLI asks for them on a terminal without ``NO_COLOR``)."""


PLAIN = RenderOptions()


class ReportRenderer(Protocol):
    def __call__(self, report: Report, options: RenderOptions = PLAIN, /) -> str: ...


DiffRenderer = Callable[["DiffResult"], str]
LayersRenderer = Callable[[LayersView], str]
PullRenderer = Callable[["PullPlan"], str]
StoreRenderer = Callable[["StoreView"], str]

FORMATS: Mapping[str, tuple[str, ...]] = {
    "report": (
        "table",
        "json",
        "markdown",
        "annotated",
        "html",
        "lesson",
        "sarif",
        "github",
        "gitlab",
        "junit",
    ),
    "diff": ("table", "json", "markdown"),
    "layers": ("table", "json", "markdown"),
    "pull": ("table", "json", "markdown"),
    "store": ("table", "json", "html"),
}
"""Per kind, its formats (the order is the one ``--help`` of ``layers`` shows)."""


def module_of(kind: str, fmt: str) -> str:
    """The module that renders ``fmt`` of ``kind`` (``KeyError`` when there is none)."""
    if fmt not in FORMATS[kind]:
        raise KeyError(fmt)
    return f"analyzer.render.{kind}.{fmt}"


def renderer(kind: str, fmt: str) -> Callable[..., str]:
    """The ``render`` function of ``fmt`` for ``kind``, its module imported now if it was not yet."""
    module = importlib.import_module(module_of(kind, fmt))
    render: Callable[..., str] = module.render
    return render


R = TypeVar("R")


class Renderers(Mapping[str, R], Generic[R]):
    """One kind's formats: ``RENDERERS["json"]`` is ``renderer("report", "json")``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __getitem__(self, fmt: str) -> R:
        return cast(R, renderer(self.kind, fmt))  # every module of a kind has that kind's signature

    def __iter__(self) -> Iterator[str]:
        return iter(FORMATS[self.kind])

    def __len__(self) -> int:
        return len(FORMATS[self.kind])


RENDERERS: Renderers[ReportRenderer] = Renderers("report")
DIFF_RENDERERS: Renderers[DiffRenderer] = Renderers("diff")
LAYERS_RENDERERS: Renderers[LayersRenderer] = Renderers("layers")
PULL_RENDERERS: Renderers[PullRenderer] = Renderers("pull")
STORE_RENDERERS: Renderers[StoreRenderer] = Renderers("store")
