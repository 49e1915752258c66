"""The docker SDK, imported without its ssh transport unless ``DOCKER_HOST`` asks for ``ssh://``.

The SDK imports paramiko (about 0.2 s, the largest part of layermap's start-up) as soon as it loads,
even for a local engine. Hiding paramiko while the SDK loads makes it skip the ssh adapter; with
``DOCKER_HOST=ssh://…`` nothing is hidden. Modules that need the SDK import it from here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator


def _hide_paramiko() -> bool:
    if os.environ.get("DOCKER_HOST", "").startswith("ssh://") or "paramiko" in sys.modules:
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
    "docker",
    "error_reason",
    "exclude_paths",
    "innermost_os_error",
    "kwargs_from_env",
    "sigint_deferred",
]
