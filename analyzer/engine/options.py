"""What every builder takes and emits: :class:`BuildOptions` in, :class:`BuildProgress` events out.

One ``BuildOptions`` travels from the command line to whichever builder runs; each backend has exactly
one translator from it: ``classic.sdk_kwargs`` (docker SDK keyword arguments), ``buildkit_api.build_params``
(``POST /build`` query parameters) and ``buildx.build_command`` (``docker buildx build`` argv). A new build
flag touches this type and those three functions.

The progress callback is not part of ``BuildOptions``: the options say *what* to build and stay a plain
comparable value (a BuildKit report rebuilds side stages with ``dataclasses.replace(options, target=…)``
and no display), while the callback says who watches, which no translator needs.

Pure: no docker SDK import, so the command line can build options before anything heavy loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

__all__ = ["BUILDERS", "BuildOptions", "BuildProgress", "Builder", "ProgressCallback", "deliver"]

Builder = Literal["classic", "buildkit"]
"""Which builder runs the build; the values are also the JSON report's ``builder`` field."""
BUILDERS: tuple[Builder, ...] = get_args(Builder)
"""Every :data:`Builder`, in the order the command line lists them (``classic`` is the default)."""


@dataclass(frozen=True)
class BuildOptions:
    """A build, as ``docker build`` would be asked for it; the Dockerfile's text is not part of it."""

    context: Path
    """The build context folder."""
    dockerfile: Path
    """The Dockerfile's path; it may lie outside the context (``docker build -f``)."""
    builder: Builder = "classic"
    """``classic`` (the legacy builder, one image per step) or ``buildkit``."""
    build_args: Mapping[str, str] = field(default_factory=dict)
    """``--build-arg`` values, already resolved (a bare ``NAME`` took its value from the environment).
    Stored as a read-only copy."""
    target: str | None = None
    """``--target``: the stage to build up to; None for the last stage."""
    network: str | None = None
    """``--network``: the network mode of RUN steps (e.g. ``host``); None for the engine's default."""
    no_cache: bool = False
    """``--no-cache``: run every step again instead of reusing the build cache."""
    platform: str | None = None
    """``--platform``: the target platform (e.g. ``linux/amd64``); None for the engine's own."""
    tag: str | None = None
    """``-t``: the name to give the built image; None leaves it untagged."""

    def __post_init__(self) -> None:
        # A read-only copy: the caller's dict may change later, and the options are shared by rebuilds.
        object.__setattr__(self, "build_args", MappingProxyType(dict(self.build_args)))


@dataclass(frozen=True)
class BuildProgress:
    """One progress event for the CLI's display; never needed for the analysis itself.

    Events follow the build live, so classic RUN output that fakes builder lines can briefly look like
    later steps; when the container's real close arrives, a ``step`` event for the earlier step number
    and ``output`` events for the faked lines follow. A display should simply show the latest event.
    """

    kind: str
    """``step`` (a step started), ``cached`` (cache hit), ``output`` (a line printed by the step),
    ``step-done`` (the step's image was committed) or ``stage-done`` (a stage's image is ready)."""
    step: int | None
    """The step's number (the ``N`` of ``Step N/M``); None before the first step."""
    total: int | None
    """The number of steps (the ``M`` of ``Step N/M``)."""
    text: str = ""
    """The step's instruction as the builder echoed it."""
    elapsed_s: float = 0.0
    """Seconds since the build started."""
    line: str | None = None
    """``output``: the line; ``step-done``: the printed short id; ``stage-done``: the full image id."""


ProgressCallback = Callable[[BuildProgress], None]
"""What a builder calls with each :class:`BuildProgress` event, in order."""


def deliver(events: Iterable[BuildProgress], on_progress: ProgressCallback | None) -> None:
    """Hand ``events`` to ``on_progress`` in order (nothing happens without a callback)."""
    if on_progress is not None:
        for event in events:
            on_progress(event)
