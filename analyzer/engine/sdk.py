"""The docker SDK, imported without its ssh transport unless the engine's address is ``ssh://``; and
what every SDK caller shares: the errors that mean the transport failed, their one-line reason, the
:class:`EngineError` they become, the response behind a streaming call, and SIGINT deferral.

The SDK imports paramiko (about 0.2 s, the largest part of layermap's start-up) as soon as it loads,
even for a local engine. Hiding paramiko while the SDK loads makes it skip the ssh adapter; with
an ``ssh://`` engine (``DOCKER_HOST`` or the Docker context) nothing is hidden. Modules that need the SDK
import it from here.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import Any

import urllib3.exceptions

from analyzer.errors import EngineError


def _hide_paramiko() -> bool:
    from analyzer.engine.context import resolve
    from analyzer.errors import UsageError

    try:
        ssh = resolve().address.startswith("ssh://")
    except UsageError:  # an unknown context: connect() reports it
        ssh = False
    if ssh or "paramiko" in sys.modules:
        return False
    sys.modules["paramiko"] = None  # type: ignore[assignment]  # `import paramiko` then fails at once
    return True


_hidden = _hide_paramiko()
try:
    import docker
    import docker.errors
    from docker.utils import kwargs_from_env
    from docker.utils.build import exclude_paths
finally:
    if _hidden:
        del sys.modules["paramiko"]

TRANSPORT_ERRORS = (docker.errors.DockerException, urllib3.exceptions.HTTPError, OSError)
"""What an SDK call raises when the engine refuses or the connection fails (``APIError`` included)."""


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Ignore SIGINT for a moment (main thread only; elsewhere signals cannot be changed anyway)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def error_reason(exc: BaseException) -> str:
    """A short, one-line reason: the engine's explanation, or the innermost OS error."""
    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        return " ".join(str(exc.explanation).split())
    innermost = innermost_os_error(exc)
    if innermost is not None:
        return str(innermost.strerror)
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def engine_error(address: str, what: str, exc: BaseException) -> EngineError:
    """The project's error for an SDK failure while trying to do ``what`` (e.g. "build the image")."""
    if isinstance(exc, docker.errors.APIError):
        return EngineError(f"the Docker engine at {address} could not {what}: {error_reason(exc)}")
    return EngineError(f"lost the Docker engine at {address} while trying to {what}: {error_reason(exc)}")


def response_of(stream: Any) -> Any:
    """The HTTP response behind an SDK streaming generator, so it can be closed on purpose.

    The SDK hides it inside the generator; closing it is how a client tells the daemon to cancel.
    """
    frame = getattr(stream, "gi_frame", None)
    return frame.f_locals.get("response") if frame is not None else None


def innermost_os_error(exc: BaseException) -> OSError | None:
    """Walk causes, contexts, ``args`` and ``reason`` (urllib3) to the deepest OS error with a message."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    found: OSError | None = None
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            found = current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(item for item in linked if isinstance(item, BaseException))
    return found


__all__ = [
    "TRANSPORT_ERRORS",
    "docker",
    "engine_error",
    "error_reason",
    "exclude_paths",
    "innermost_os_error",
    "kwargs_from_env",
    "response_of",
    "sigint_deferred",
]
