"""Where an existing image comes from: the one interface every origin implements, and its origins.

A source answers three questions: the image itself (history with ``empty_layer``, layers, config), the
engine it lives in (for base-image look-ups and the engine facts of the report; None for a file), and the
files of its layers (``--contents``). Adding an origin (a registry, say) means one class here with these
members; ``mapping/existing.py`` and the commands do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from analyzer.model import Image, Report

if TYPE_CHECKING:
    from analyzer.engine.client import Engine
    from analyzer.image.distribution.client import Options


class ImageSource(Protocol):
    """An image read from one origin."""

    @property
    def image(self) -> Image:
        """The image, with ``empty_layer`` known for every history entry."""
        ...

    @property
    def engine(self) -> Engine | None:
        """The engine the image lives in; None when it was read from a file."""
        ...

    def with_contents(self, report: Report, top_n: int) -> Report:
        """``report`` with the layers' files, waste and secrets read from this origin."""
        ...

    @property
    def notes(self) -> tuple[str, ...]:
        """What the report should warn about this origin (e.g. sizes it cannot know)."""
        ...


@dataclass(frozen=True)
class EngineImage:
    """An image in a Docker engine; contents from its layer store, else one export."""

    image: Image
    engine: Engine
    notes: tuple[str, ...] = ()

    def with_contents(self, report: Report, top_n: int) -> Report:
        from analyzer.contents import engine_contents

        return engine_contents(report, self.engine, top_n=top_n)


@dataclass(frozen=True)
class ArchiveImage:
    """An image in a ``docker save`` archive or an OCI layout directory (``path``)."""

    image: Image
    path: str
    notes: tuple[str, ...] = ()

    @property
    def engine(self) -> None:
        return None

    def with_contents(self, report: Report, top_n: int) -> Report:
        from analyzer.contents import archive_contents

        return archive_contents(report, self.path, top_n=top_n)


def open_image(
    ref: str, is_file: bool, connect: Callable[[], Engine], registry: Options | None = None
) -> ImageSource:
    """Read ``ref`` from a registry (``docker://…``), a file (no engine) or the engine, with
    ``empty_layer`` known."""
    if ref.startswith("docker://"):
        from analyzer.image.registry import open_registry

        return open_registry(ref, registry)
    if is_file:
        from analyzer.image.archive import read_image

        notes: list[str] = []
        return ArchiveImage(read_image(ref, warn=notes.append), ref, tuple(notes))
    engine = connect()
    image = engine.image(ref)
    if any(entry.empty_layer is None for entry in image.history):
        image = engine.image(ref, need_config=True)  # neither local nor cheap: export once
    return EngineImage(image, engine)
