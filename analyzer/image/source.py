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

from analyzer.errors import UsageError
from analyzer.model import Image, Report

if TYPE_CHECKING:
    from analyzer.engine.client import Engine
    from analyzer.image.distribution.client import Options
    from analyzer.image.transport import Location


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
    arg: str | Location,
    connect: Callable[[], Engine],
    registry: Options | None = None,
    *,
    image: str | None = None,
    platform: str | None = None,
) -> ImageSource:
    """Read the image ``arg`` names (any transport of ``analyzer/image/transport.py``: registry, archive,
    OCI layout, stdin, engine) with ``empty_layer`` known. ``image`` (``--image``) and ``platform``
    pick one image of an archive holding several; the engine is connected only for an engine image."""
    from analyzer.image import transport

    where = arg if isinstance(arg, transport.Location) else transport.parse(arg, image)
    if where.kind == "registry":
        from analyzer.image.registry import open_registry

        return open_registry(where.target, registry)
    if where.is_file:
        from analyzer.image.archive import read_image

        notes: list[str] = []
        found = read_image(where.target, where.ref, platform=platform, label=where.label, warn=notes.append)
        return ArchiveImage(found, where.target, tuple(notes))
    if platform is not None:
        raise UsageError("--platform picks an image of a registry index or an archive, not of the engine")
    engine = connect()
    found = engine.image(where.target)
    if any(entry.empty_layer is None for entry in found.history):
        found = engine.image(where.target, need_config=True)  # neither local nor cheap: export once
    return EngineImage(found, engine)
