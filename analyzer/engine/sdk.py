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
import os
import signal
import socket
import sys
import threading
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
    """Ignore SIGINT and SIGTERM for a moment, so a second signal cannot cut a clean-up short (main
    thread only; elsewhere signals cannot be changed anyway)."""
    try:
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
    "ANSWER_SECONDS",
    "MAX_BODY",
    "TIMEOUT_ENV",
    "AnswerTooLarge",
    "answer_seconds",
    "bound_answers",
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


# ---------------------------------------------------------------------- bounded answers

MAX_BODY = 64 << 20
"""Bytes one non-streamed engine answer may have (inspect, history, version, info: real ones are KiB)."""
ANSWER_SECONDS = 60.0
"""Seconds one such answer may take, however slowly it drips (the socket timeout is per read only);
``LAYERMAP_ENGINE_TIMEOUT`` changes it (and the wait for a silent engine, which is the same)."""
TIMEOUT_ENV = "LAYERMAP_ENGINE_TIMEOUT"


def answer_seconds() -> float:
    """ANSWER_SECONDS, or a positive number of seconds from ``LAYERMAP_ENGINE_TIMEOUT``."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, ""))
    except ValueError:
        return ANSWER_SECONDS
    return value if 0 < value < 86400 else ANSWER_SECONDS


class AnswerTooLarge(OSError):
    """An engine answer past MAX_BODY or ANSWER_SECONDS (an OSError: a transport failure to callers)."""


def bound_answers(session: Any) -> None:
    """Make every non-streamed response of ``session`` (a ``docker.APIClient``) stop at MAX_BODY bytes
    and ANSWER_SECONDS. The SDK reads such bodies whole (``response.json()``), so an engine that sends
    an endless body would otherwise grow memory without end, and one that drips a byte at a time
    would hold layermap for ever. Streams (build, export) are left alone: their callers bound them.
    """
    session.hooks["response"].append(_bounded)


def _bounded(response: Any, *args: Any, **kwargs: Any) -> Any:
    if kwargs.get("stream"):
        return response
    length = str(response.headers.get("Content-Length") or "")
    if length.isdigit() and int(length) > MAX_BODY:
        response.close()
        raise AnswerTooLarge(f"an answer of {length} bytes, more than the {MAX_BODY} accepted")
    raw = response.raw
    original = raw.stream
    seconds = answer_seconds()
    cut = threading.Event()
    watchdog = threading.Timer(seconds, _cut, (raw, cut))
    watchdog.daemon = True

    def stream(*a: Any, **k: Any) -> Iterator[bytes]:
        total = 0
        watchdog.start()
        try:
            for chunk in original(*a, **k):
                total += len(chunk)
                if total > MAX_BODY:
                    raise AnswerTooLarge(f"an answer longer than the {MAX_BODY} bytes accepted")
                yield chunk
        except Exception:
            if not watchdog.finished.is_set():
                raise
        finally:
            watchdog.cancel()
        if cut.is_set():  # the watchdog shut the socket: what was read is not the whole answer
            raise AnswerTooLarge(f"an answer still unfinished after {seconds:g} s")

    raw.stream = stream
    return response


def _cut(raw: Any, cut: threading.Event) -> None:
    """Shut the socket an answer is read from: the blocked read returns, the reader reports why."""
    cut.set()
    candidates = (
        getattr(getattr(raw, "connection", None), "sock", None),
        # The socket http.client reads from (urllib3 may already have handed the connection back).
        getattr(getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None), "_sock", None),
    )
    for sock in candidates:
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
