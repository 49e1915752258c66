"""Build with BuildKit through the Engine API: ``POST /build?version=2`` with the context as a tar body.

The docker SDK cannot drive BuildKit (it has no session support), but the endpoint builds without a
session when the context is uploaded as a tar, on Docker 20.10 and later. The stream is decoded by
:mod:`analyzer.engine.buildkit_trace`; this module translates the build options into the query
(:func:`build_params`), prepares the upload, sends it through the SDK client's HTTP session, streams the
JSON messages, and translates transport and HTTP errors into the project's errors.

The context tar mirrors the SDK's (``.dockerignore`` applied through ``docker.utils.build``, a
Dockerfile outside the context added under a generated name), with two BuildKit constraints measured
on Docker 20.10.24: BuildKit applies no ``.dockerignore`` to an uploaded tar, so excluding happens here
only; and it takes the upload for a tar only if the first header in its first 1 KiB parses on its own,
else it reads the whole body as the Dockerfile. Python's default PAX format starts with an extended
header whenever a value needs one (a fractional mtime does), so the tar is GNU format, mtimes are
whole seconds, and members are ordered so that the first has a short name (no GNU long-name header).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import requests

from analyzer.engine.buildkit_trace import TraceParser
from analyzer.engine.options import BuildOptions, ProgressCallback, deliver
from analyzer.engine.sdk import docker, error_reason, exclude_paths, sigint_deferred
from analyzer.errors import EngineError, UsageError
from analyzer.limits import MAX_CONFIG_BYTES, read_regular
from analyzer.model import BuildResult, Dockerfile

__all__ = ["build_buildkit", "build_messages", "build_params"]

_TRANSPORT_ERRORS = (requests.exceptions.RequestException, docker.errors.DockerException, OSError)


def build_buildkit(
    client: docker.APIClient,
    address: str,
    dockerfile: Dockerfile,
    options: BuildOptions,
    on_progress: ProgressCallback | None = None,
) -> BuildResult:
    """Build with BuildKit; ``dockerfile`` is ``options.dockerfile`` as parsed. A failing step is data
    (``result.failure``), not an error.

    Raises DockerfileError / UsageError when the engine refuses the Dockerfile or an option before
    building, EngineError when the engine cannot be reached or the stream ends early, and re-raises
    KeyboardInterrupt after dropping the connection (which makes the daemon cancel the build).
    """
    parser = TraceParser(dockerfile, options.target)
    path = options.dockerfile
    with build_messages(
        client, address, options.context, path, build_params(options), dockerfile.text
    ) as messages:
        for message in messages:
            deliver(parser.feed(message), on_progress)
    deliver(parser.finish(), on_progress)
    rejected = parser.rejection(str(path), address)
    if rejected is not None:
        raise rejected
    if not parser.complete:
        raise EngineError(f"the Docker engine at {address} ended the build stream before the build ended")
    return parser.result()


def build_params(options: BuildOptions) -> dict[str, str | list[str]]:
    """The query parameters of ``POST /build`` for ``options``, named as the docker SDK's ``build`` sends
    them (the Dockerfile's name inside the uploaded context is added by :func:`build_messages`); a list
    is a repeated parameter (``extrahosts``, as the docker CLI sends it)."""
    params: dict[str, str | list[str]] = {"version": "2", "rm": "1", "forcerm": "1"}
    if options.needs_session:  # Engine.build_buildkit sends these through buildx
        raise UsageError("--secret, --ssh and --builder NAME need buildx (a BuildKit session)")
    if options.extra_hosts:
        params["extrahosts"] = list(options.extra_hosts)
    optional = {
        "pull": "1" if options.pull else None,
        "labels": json.dumps(dict(options.labels)) if options.labels else None,
        "t": options.tag,
        "target": options.target,
        "networkmode": options.network,
        "platform": options.platform,
        "nocache": "1" if options.no_cache else None,
        "buildargs": json.dumps(dict(options.build_args)) if options.build_args else None,
    }
    params.update({key: value for key, value in optional.items() if value})
    return params


@contextlib.contextmanager
def build_messages(
    client: docker.APIClient,
    address: str,
    context: Path,
    dockerfile_path: Path,
    params: Mapping[str, str | list[str]],
    dockerfile_text: str | None = None,
) -> Iterator[Iterator[dict[str, Any]]]:
    """Start the build and yield its decoded JSON messages; the response is closed on leaving.

    Leaving early (Ctrl-C, an error) drops the connection, which is how a client tells the daemon to
    cancel: BuildKit then stops the running step. ``dockerfile_text`` is what to send when the
    Dockerfile lies outside the context (so the engine builds exactly what was parsed).
    """
    params = dict(params)
    with _context_tar(context, dockerfile_path, dockerfile_text) as (body, name):
        params["dockerfile"] = name
        response = _post(client, address, body, params)
    try:
        yield _messages(response, address)
    finally:
        # A second Ctrl-C must not leave the connection open.
        with sigint_deferred(), contextlib.suppress(Exception):
            response.close()


# ---------------------------------------------------------------------- the context


@contextlib.contextmanager
def _context_tar(
    context: Path, dockerfile_path: Path, dockerfile_text: str | None
) -> Iterator[tuple[IO[bytes], str]]:
    """The context as a GNU tar in a temp file, and the Dockerfile's name inside it."""
    root = str(context)
    if not context.is_dir():
        raise UsageError(f"cannot read the build context {context}: not a folder")
    try:
        name, extra = _dockerfile_entry(context, dockerfile_path, dockerfile_text)
        # Short names first: see the module docstring on what BuildKit reads as a tar.
        files = sorted(exclude_paths(root, read_dockerignore(context), dockerfile=name), key=_tar_order)
        with tempfile.TemporaryFile(prefix="layermap-context-") as body:
            with tarfile.open(fileobj=body, mode="w", format=tarfile.GNU_FORMAT) as tar:
                if extra is not None:
                    info = tarfile.TarInfo(name)
                    info.size, info.mode = len(extra), 0o644
                    tar.addfile(info, io.BytesIO(extra))
                for path in files:
                    if path != name or extra is None:
                        _add(tar, root, path)
            body.seek(0)
            yield body, name
    except OSError as exc:
        if isinstance(exc, requests.exceptions.RequestException):
            raise
        raise UsageError(f"cannot read the build context {context}: {exc}") from None


def _tar_order(path: str) -> tuple[bool, str]:
    return len(path.encode("utf-8")) >= tarfile.LENGTH_NAME, path


def _dockerfile_entry(context: Path, dockerfile: Path, text: str | None) -> tuple[str, bytes | None]:
    """Like the SDK: a Dockerfile inside the context by its relative path, else under a generated name.

    The name comes from the content, not from chance as in the SDK, so that rebuilding the same
    Dockerfile keeps ``COPY .`` cached: BuildKit ignores ``.dockerignore`` in an uploaded context
    (checked on 20.10.24), so the file does land in the context, as with the SDK's classic builds.
    """
    inside = os.path.relpath(dockerfile.resolve(), context.resolve())
    if not inside.startswith(".."):
        return Path(inside).as_posix(), None
    data = text.encode("utf-8") if text is not None else dockerfile.read_bytes()
    return f".dockerfile.{hashlib.sha256(data).hexdigest()[:40]}", data


def read_dockerignore(context: Path) -> list[str]:
    """The context's ``.dockerignore`` patterns; a UsageError naming the file when it cannot be read
    (not UTF-8, a FIFO, over MAX_CONFIG_BYTES): the classic path checks it with this before the SDK,
    which would block on a FIFO and raise UnicodeDecodeError on bad bytes."""
    path = context / ".dockerignore"
    try:
        text = read_regular(path, MAX_CONFIG_BYTES).decode("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:  # unreadable, a FIFO, too large, not UTF-8
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise UsageError(f"{path}: cannot read the .dockerignore: {reason}") from None
    # The SDK's reading: stripped lines, blank lines and comments dropped.
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _add(tar: tarfile.TarFile, root: str, path: str) -> None:
    full = os.path.join(root, path)
    info = tar.gettarinfo(full, arcname=path)
    if info is None:
        return  # a socket: nothing to send (as the SDK does)
    info.mtime = int(info.mtime)
    if info.isfile():
        with open(full, "rb") as handle:
            tar.addfile(info, handle)
    else:
        tar.addfile(info)


# ---------------------------------------------------------------------- HTTP


def _post(
    client: docker.APIClient, address: str, body: IO[bytes], params: Mapping[str, str | list[str]]
) -> Any:
    url = f"{client.base_url}/v{client.api_version}/build"
    headers = {"Content-Type": "application/x-tar"}
    try:
        # No read timeout: a RUN may stay silent for a long time.
        response = client.post(url, params=params, data=body, headers=headers, stream=True, timeout=None)
    except _TRANSPORT_ERRORS as exc:
        raise EngineError(
            f"lost the Docker engine at {address} while trying to build the image: {error_reason(exc)}"
        ) from None
    if response.status_code != 200:
        message = _error_text(response)
        response.close()
        # The daemon checks the options before building; 20.10 answers 500 for a network mode
        # BuildKit lacks ("not supported by buildkit").
        if response.status_code == 400 or "not supported by buildkit" in message:
            raise UsageError(f"the Docker engine rejected the build: {message}")
        raise EngineError(f"the Docker engine at {address} could not build the image: {message}")
    return response


def _error_text(response: Any) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    text = data.get("message") if isinstance(data, dict) else None
    return " ".join(str(text or response.text or response.reason).split())


def _messages(response: Any, address: str) -> Iterator[dict[str, Any]]:
    """The daemon writes one JSON object per line; lines are split by bytes so UTF-8 is never cut."""
    buffer = b""
    try:
        for chunk in response.iter_content(chunk_size=None):
            *lines, buffer = (buffer + chunk).split(b"\n")
            for line in lines:
                if line.strip():
                    yield _decode(line, address)
    except _TRANSPORT_ERRORS as exc:
        raise EngineError(
            f"lost the Docker engine at {address} during the build: {error_reason(exc)}"
        ) from None
    if buffer.strip():
        yield _decode(buffer, address)


def _decode(line: bytes, address: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        raise EngineError(f"the Docker engine at {address} sent a build message that is not JSON") from None
    return value if isinstance(value, dict) else {}
