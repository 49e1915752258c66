"""Build with the classic builder through the docker SDK (``APIClient.build``), streaming progress.

:func:`sdk_kwargs` is the one translation of :class:`BuildOptions` into the SDK's arguments. The JSON
stream is parsed by :mod:`analyzer.engine.classic_stream`; this module feeds it, hands progress events
to the callback, turns SDK and transport errors into the project's errors, and after Ctrl-C removes the
containers the interrupted build left behind (the daemon's ``forcerm`` does not run when the client
goes away mid-step).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import requests.exceptions

from analyzer.engine import leftovers
from analyzer.engine.classic_stream import StreamParser
from analyzer.engine.options import BuildOptions, ProgressCallback, deliver
from analyzer.engine.sdk import (
    TRANSPORT_ERRORS,
    docker,
    engine_error,
    error_reason,
    response_of,
    sigint_deferred,
)
from analyzer.errors import DockerfileError, EngineError, UsageError
from analyzer.model import BuildResult

__all__ = ["build_classic", "sdk_kwargs"]


def sdk_kwargs(options: BuildOptions) -> dict[str, Any]:
    """The keyword arguments of ``APIClient.build`` for ``options``."""
    return {
        "path": str(options.context),
        "dockerfile": str(options.dockerfile.resolve()),
        "tag": options.tag,
        "nocache": options.no_cache,
        "rm": True,
        "forcerm": True,  # also remove the failed step's container
        "pull": options.pull,
        "labels": dict(options.labels) or None,
        "extra_hosts": list(options.extra_hosts) or None,
        "buildargs": dict(options.build_args),
        "target": options.target,
        "network_mode": options.network,
        "platform": options.platform,
        "decode": True,
        "timeout": None,  # a long silent RUN must not time out
    }


def build_classic(
    client: Any, address: str, options: BuildOptions, on_progress: ProgressCallback | None = None
) -> BuildResult:
    """Build on the engine at ``address`` (``client``: a ``docker.APIClient`` or a test double).

    A failing step is data (``result.failure``), not an error. Raises DockerfileError / UsageError when
    the engine refuses the Dockerfile or an option before building, EngineError when the engine cannot
    be reached or the stream ends early, and re-raises KeyboardInterrupt once the build is cancelled.
    """
    parser = StreamParser()
    _sweep_leftovers(client, address)
    started = time.time()
    record = leftovers.BuildRecord(address, started)  # kept only if the engine dies mid-build
    try:
        stream = _start(client, sdk_kwargs(options))
        response = response_of(stream)
        try:
            _pump(stream, parser, on_progress, record.write)
        except KeyboardInterrupt:
            _abort(client, response, stream, parser.container_ids, started)
            record.done()
            raise
        record.done()
    except docker.errors.APIError as exc:
        if exc.status_code == 400:  # the daemon rejects bad input before streaming
            raise _rejected(exc, options.dockerfile) from None
        raise engine_error(address, "build the image", exc) from None
    except TRANSPORT_ERRORS as exc:
        raise engine_error(address, "build the image", exc) from None
    if not parser.complete:  # e.g. the daemon went away between two messages
        raise EngineError(f"the Docker engine at {address} ended the build stream before the build ended")
    return parser.result()


def _start(client: Any, kwargs: Mapping[str, Any]) -> Iterator[Any]:
    from analyzer.engine.buildkit_api import read_dockerignore

    read_dockerignore(Path(kwargs["path"]))  # the SDK would block on a FIFO, raise on bad bytes
    try:
        return iter(client.build(**kwargs))
    except OSError as exc:
        if isinstance(exc, requests.exceptions.RequestException):
            raise
        # The SDK tars the context before it connects: this is an unreadable file, not the engine.
        raise UsageError(f"cannot read the build context {kwargs['path']}: {exc}") from None


def _pump(
    stream: Iterable[Any],
    parser: StreamParser,
    on_progress: ProgressCallback | None,
    record: Callable[[Sequence[str]], None] | None = None,
) -> None:
    for message in stream:
        if isinstance(message, Mapping):
            known = len(parser.container_ids)
            events = parser.feed(message)
            if record is not None and len(parser.container_ids) > known:
                record(parser.container_ids)  # written before the step can die with its engine
            deliver(events, on_progress)
    deliver(parser.finish(), on_progress)


def _rejected(exc: docker.errors.APIError, dockerfile: Path) -> DockerfileError | UsageError:
    """A 400 before the build starts: a Dockerfile syntax error (names the line), else a bad option."""
    message = error_reason(exc)
    line = re.search(r"\bline (\d+)", message)
    if line or "dockerfile" in message.lower():
        return DockerfileError(message, str(dockerfile), int(line[1]) if line else None)
    return UsageError(f"the Docker engine rejected the build: {message}")


# ---------------------------------------------------------------------- Ctrl-C


def _abort(client: Any, response: Any, stream: Iterator[Any], cids: Sequence[str], started: float) -> None:
    """After Ctrl-C: drop the connection (the daemon cancels the build), then remove its containers."""
    with sigint_deferred():  # a second Ctrl-C must not cut the clean-up short
        with contextlib.suppress(Exception):
            response.close()
        close = getattr(stream, "close", None)
        with contextlib.suppress(Exception):
            if callable(close):
                close()
        with contextlib.suppress(*TRANSPORT_ERRORS):
            _remove_containers(client, cids, started)


def _sweep_leftovers(client: Any, address: str) -> None:
    """Remove the build containers of earlier runs that died with their engine (engine/leftovers.py)."""
    for path, started, cids in list(leftovers.stale(address)):
        with contextlib.suppress(*TRANSPORT_ERRORS):
            _remove_containers(client, cids, started)
            path.unlink()


def _remove_containers(client: Any, cids: Sequence[str], started: float) -> None:
    # Compare creation times on the daemon's clock: a remote engine's clock may be off.
    skew = (_parse_time(client.info().get("SystemTime")) or time.time()) - time.time()
    since = started + skew - 1.0
    for cid in cids:
        try:
            created = _parse_time(client.inspect_container(cid).get("Created"))
        except docker.errors.APIError:
            continue  # already gone
        # Only a container this build started: a RUN could print the id of someone else's.
        if created is None or created < since:
            continue
        with contextlib.suppress(docker.errors.APIError):  # 409: the daemon is removing it itself
            client.remove_container(cid, force=True)
        _wait_gone(client, cid)


def _wait_gone(client: Any, cid: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.inspect_container(cid)
        except docker.errors.NotFound:
            return
        time.sleep(0.1)


def _parse_time(value: Any) -> float | None:
    """Epoch seconds from the engine's RFC 3339 timestamps (nanoseconds trimmed for ``fromisoformat``)."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", value.strip())
    if not match:
        return None
    fraction = (match[2] or ".0")[:7]
    zone = "+00:00" if match[3] == "Z" else match[3]
    return datetime.fromisoformat(match[1] + fraction + zone).timestamp()
