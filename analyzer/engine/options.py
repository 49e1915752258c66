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

__all__ = [
    "BUILDERS",
    "BuildOptions",
    "BuildProgress",
    "Builder",
    "ProgressCallback",
    "default_builder",
    "deliver",
    "env_builder",
]

Builder = Literal["classic", "buildkit"]
"""Which builder runs the build; the values are also the JSON report's ``builder`` field."""
BUILDERS: tuple[Builder, ...] = get_args(Builder)
"""Every :data:`Builder`, in the order the command line lists them."""
BUILDKIT_SINCE = (23, 0)
"""``docker build`` uses BuildKit by default against an engine of this version or newer."""


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
    buildx_builder: str | None = None
    """``--builder NAME``: the buildx builder instance to build with (BuildKit, through buildx, the image
    loaded into the engine); None for the engine's own builder."""
    pull: bool = False
    """``--pull``: always fetch a newer version of the base images."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """``--label K=V`` values (read-only copy)."""
    extra_hosts: tuple[str, ...] = ()
    """``--add-host HOST:IP`` entries, as given, for ``/etc/hosts`` of RUN steps."""
    secrets: tuple[str, ...] = ()
    """``--secret id=ID[,src=PATH|,env=VAR]`` specs, as given (BuildKit through buildx only)."""
    ssh: tuple[str, ...] = ()
    """``--ssh default|ID[=SOCKET|KEY…]`` specs, as given (BuildKit through buildx only)."""

    def __post_init__(self) -> None:
        # A read-only copy: the caller's dict may change later, and the options are shared by rebuilds.
        object.__setattr__(self, "build_args", MappingProxyType(dict(self.build_args)))
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))

    @property
    def needs_session(self) -> bool:
        """Secrets, SSH agents and builder instances need a BuildKit client session: only buildx has one
        (the Engine API path uploads a context and holds no session)."""
        return bool(self.secrets or self.ssh or self.buildx_builder)

    def classic_refusals(self) -> list[str]:
        """The flags the classic builder cannot honour (``docker build`` refuses them too)."""
        named = {"--secret": self.secrets, "--ssh": self.ssh, "--builder NAME": self.buildx_builder}
        return [flag for flag, value in named.items() if value]


def env_builder(env: Mapping[str, str]) -> Builder | None:
    """What ``DOCKER_BUILDKIT`` asks for, as the docker CLI reads it (Go's ``strconv.ParseBool``); None
    when unset or empty. Raises ValueError for another value."""
    value = env.get("DOCKER_BUILDKIT", "").strip()
    if not value:
        return None
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return "buildkit"
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return "classic"
    raise ValueError(f"DOCKER_BUILDKIT={value}: use 1 or 0 (true or false)")


def default_builder(
    env: Mapping[str, str],
    engine_version: str | None,
    os_type: str | None = None,
    ping_builder: str | None = None,
) -> Builder:
    """The builder ``docker build`` would use: ``DOCKER_BUILDKIT`` when set; the classic builder for a
    Windows engine; BuildKit for an engine of 23.0 or newer (its CLI's default); else what the engine
    announces in the ``Builder-Version`` header of ``/_ping`` (``2``: BuildKit, which an older engine
    says when its ``daemon.json`` enables the ``buildkit`` feature); else the classic builder.

    ``engine_version`` None (no engine, as for ``predict``) is taken as a current engine. Raises
    ValueError for a malformed ``DOCKER_BUILDKIT``.
    """
    forced = env_builder(env)
    if forced is not None:
        return forced
    if (os_type or "").lower() == "windows":
        return "classic"
    if engine_version is None or _version(engine_version) >= BUILDKIT_SINCE:
        return "buildkit"
    return "buildkit" if ping_builder == "2" else "classic"


def _version(text: str) -> tuple[int, int]:
    """``20.10.24`` → (20, 10); ``26.1.5-ce`` → (26, 1); unreadable → (0, 0)."""
    parts = text.strip().lstrip("v").split(".")
    try:
        return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0) if len(parts) > 1 else 0
    except ValueError:
        return 0, 0


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
