"""Build with BuildKit through ``docker buildx build`` (the CLI plugin), run as a subprocess.

Why: with the containerd image store (Docker 24+), the daemon's BuildKit cannot fetch a context
uploaded to ``POST /build`` without a client session (moby/moby#47717), and the docker SDK has no
session support; buildx has one. ``Engine.build_buildkit`` sends BuildKit builds here on that store.

How (buildx 0.13, measured on Docker 20.10.24 and 26.1.5): ``--builder default`` is the ``docker`` driver
of the engine named by ``DOCKER_HOST``, which builds inside that engine and stores the image there —
``--load`` is not needed (with this driver it changes nothing). ``--provenance=false`` keeps the image a
single manifest instead of an index with an attestation manifest. The image id comes from
``--metadata-file`` (``containerimage.digest``): on the containerd store ``--iidfile`` names the
*config* digest, which the engine cannot look up; ``--iidfile`` is the fallback for a buildx that
writes no metadata. Progress is the plain text on stderr, parsed by :mod:`analyzer.engine.buildx_plain`.
Ctrl-C sends SIGINT to buildx, which cancels the build in the daemon (no process is left behind).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from analyzer.engine.buildx_plain import PlainProgress
from analyzer.engine.options import BuildOptions, ProgressCallback, deliver
from analyzer.engine.sdk import sigint_deferred
from analyzer.errors import EngineError, UsageError
from analyzer.model import BuildResult, Dockerfile

__all__ = ["Buildx", "build_command", "build_with_buildx", "find_buildx", "forced_path", "require_buildx"]

PATH_VARIABLE = "LAYERMAP_BUILDKIT"
"""``api``, ``buildx`` or ``auto`` (the default): how ``--builder buildkit`` reaches BuildKit."""
BINARY_VARIABLE = "LAYERMAP_BUILDX"
"""The docker-buildx plugin binary to run (standalone), before any other place is tried."""
PLUGIN_DIRS = tuple(f"/usr/{d}/docker/cli-plugins" for d in ("local/lib", "local/libexec", "lib", "libexec"))
"""Where the docker CLI looks for plugins, after ``$DOCKER_CONFIG/cli-plugins`` (``~/.docker``)."""
MINIMUM = (0, 10)
"""``--provenance`` came with buildx 0.10."""
INSTALL_HINT = (
    "install the buildx CLI plugin (Debian/Ubuntu: apt-get install docker-buildx; or a release binary "
    "from https://github.com/docker/buildx/releases saved as ~/.docker/cli-plugins/docker-buildx) or set "
    f"{BINARY_VARIABLE} to it; --builder classic needs no plugin"
)
_STOP_TIMEOUT = 15.0
"""Seconds buildx gets to cancel the build after SIGINT before it is killed."""
_HIDDEN_VARIABLES = ("DOCKER_CONTEXT", "BUILDX_BUILDER", "BUILDKIT_PROGRESS")
"""They would point buildx at another engine or builder, or change the progress format."""
_VERSION = re.compile(r"buildx\s+v?(\d+)\.(\d+)")


@dataclass(frozen=True)
class Buildx:
    """A buildx that answered ``version``: the command that runs it, and where it was found."""

    command: tuple[str, ...]
    """``(path/to/docker-buildx,)`` run standalone, or ``(docker, buildx)``."""
    version: str
    """What ``version`` printed: ``github.com/docker/buildx 0.13.1+ds1 …``."""
    origin: str


# ---------------------------------------------------------------------- which path, which buildx


def forced_path(env: Mapping[str, str] | None = None) -> str | None:
    """``api`` or ``buildx`` when ``LAYERMAP_BUILDKIT`` forces one; None to choose by the engine."""
    value = (os.environ if env is None else env).get(PATH_VARIABLE, "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in ("api", "buildx"):
        raise UsageError(f"{PATH_VARIABLE}={value}: use api, buildx or auto")
    return value


def upload_refused(exc: EngineError) -> bool:
    """Whether the Engine API path failed because the engine cannot build an uploaded context."""
    return "moby/moby#47717" in str(exc)  # the marker analyzer.engine.buildkit_trace puts in that error


def require_buildx(address: str, why: str) -> Buildx:
    """The buildx to use, or EngineError saying what to install; ``why`` says why buildx is needed."""
    found = find_buildx()
    if found is None:
        raise EngineError(
            f"BuildKit builds on the Docker engine at {address} need buildx ({why}): {INSTALL_HINT}"
        )
    version = _VERSION.search(found.version)
    if version is not None and (int(version[1]), int(version[2])) < MINIMUM:
        raise EngineError(
            f"buildx {version[1]}.{version[2]} ({found.origin}) is too old for layermap, which needs "
            f"0.10 or newer: {INSTALL_HINT}"
        )
    return found


def find_buildx(env: Mapping[str, str] | None = None) -> Buildx | None:
    """``LAYERMAP_BUILDX``, else ``docker buildx``, else a plugin folder's ``docker-buildx``."""
    env = os.environ if env is None else env
    keys = (BINARY_VARIABLE, "PATH", "DOCKER_CONFIG", "HOME")
    return _find(tuple(env.get(key, "") for key in keys))


@functools.lru_cache(maxsize=8)
def _find(keys: tuple[str, ...]) -> Buildx | None:
    """Cached per environment: a stage re-build must not probe again."""
    explicit, path, docker_config, home = keys
    if explicit.strip():
        if not _executable(Path(explicit.strip())):
            raise UsageError(
                f"{BINARY_VARIABLE}={explicit}: not an executable file (the docker-buildx plugin)"
            )
        found = _probe((explicit.strip(),), BINARY_VARIABLE)
        if found is None:
            raise UsageError(f"{BINARY_VARIABLE}={explicit}: `{explicit} version` does not answer as buildx")
        return found
    docker = shutil.which("docker", path=path or None)
    found = _probe((docker, "buildx"), "docker buildx") if docker else None
    config = Path(docker_config) if docker_config else Path(home or Path.home(), ".docker")
    for folder in (config / "cli-plugins", *map(Path, PLUGIN_DIRS)):
        if found is None and _executable(folder / "docker-buildx"):
            found = _probe((str(folder / "docker-buildx"),), str(folder))
    return found


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _probe(command: tuple[str, ...], origin: str) -> Buildx | None:
    try:
        done = subprocess.run(
            [*command, "version"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip()
    # `docker buildx version` without the plugin is the CLI's "unknown command", exit code 1.
    return Buildx(command, text, origin) if done.returncode == 0 and "buildx" in text else None


# ---------------------------------------------------------------------- the build


def build_command(buildx: Buildx, options: BuildOptions, files: tuple[Path, Path]) -> list[str]:
    """The ``docker buildx build`` command line for ``options``; ``files`` are the iidfile and the
    metadata file."""
    iidfile, metadata = files
    instance = options.buildx_builder or "default"
    argv = [*buildx.command, "build", "--builder", instance, "--progress=plain", "--provenance=false"]
    argv += ["--iidfile", str(iidfile), "--metadata-file", str(metadata), "-f", str(options.dockerfile)]
    if options.buildx_builder is not None:
        argv.append("--load")  # a docker-container, kubernetes or remote builder keeps the image otherwise
    for key, value in options.build_args.items():
        argv += ["--build-arg", f"{key}={value}"]  # always with "=": a bare KEY would read our env
    for key, value in options.labels.items():
        argv += ["--label", f"{key}={value}"]
    for flag, values in (
        ("--add-host", options.extra_hosts),
        ("--secret", options.secrets),
        ("--ssh", options.ssh),
    ):
        for value in values:
            argv += [flag, value]
    optional = {
        "--target": options.target,
        "--network": options.network,
        "--platform": options.platform,
        "-t": options.tag,
    }
    argv += [part for flag, value in optional.items() if value for part in (flag, value)]
    argv += [flag for flag, on in (("--no-cache", options.no_cache), ("--pull", options.pull)) if on]
    return [*argv, str(options.context)]


def build_with_buildx(
    buildx: Buildx,
    address: str,
    dockerfile: Dockerfile,
    options: BuildOptions,
    on_progress: ProgressCallback | None = None,
    *,
    by_config: bool = False,
) -> BuildResult:
    """Build with buildx (``dockerfile`` is ``options.dockerfile`` as parsed); a failing step is data
    (``result.failure``), as on the Engine API path. ``by_config``: the engine knows the built image by
    its config digest (an image loaded into the classic store), not by the manifest digest.

    Raises DockerfileError / UsageError when the Dockerfile or an option is refused, EngineError when
    buildx cannot run or reach the engine, and re-raises KeyboardInterrupt once buildx has stopped.
    """
    if not options.context.is_dir():
        raise UsageError(f"cannot read the build context {options.context}: not a folder")
    parser = PlainProgress(dockerfile, options.target)
    with tempfile.TemporaryDirectory(prefix="layermap-buildx-") as tmp:
        files = (Path(tmp, "iid"), Path(tmp, "metadata.json"))
        code = _run(build_command(buildx, options, files), environment(address), parser, on_progress)
        image_id = _image_id(*files, by_config=by_config) if code == 0 else None
    deliver(parser.finish(), on_progress)
    return _outcome(parser, code, image_id, (str(options.dockerfile), address), on_progress)


def environment(address: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """buildx's environment: ours, aimed at the engine layermap reads (TLS variables kept)."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _HIDDEN_VARIABLES}
    env["DOCKER_HOST"] = address
    return env


def _run(
    argv: Sequence[str],
    env: Mapping[str, str],
    parser: PlainProgress,
    on_progress: ProgressCallback | None,
) -> int:
    """Run buildx, feeding its stderr to ``parser`` as it comes; return its exit code."""
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(env)
        )
    except OSError as exc:
        raise EngineError(f"cannot run {argv[0]} (docker buildx): {exc.strerror or exc}") from None
    assert process.stderr is not None
    with process:  # closes the pipe and reaps buildx whatever happens
        try:
            # Split by bytes, decode each line: a UTF-8 character is never cut.
            for raw in iter(process.stderr.readline, b""):
                deliver(parser.feed(raw.decode("utf-8", "replace")), on_progress)
            return process.wait()
        except BaseException:
            _stop(process)
            raise


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (buildx cancels the build in the daemon), then SIGKILL if it does not end in time.

    The terminal's Ctrl-C reached buildx too (same process group); a second SIGINT does no harm, and
    it is needed when the interrupt came from elsewhere (a progress callback, a test).
    """
    with sigint_deferred():
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=_STOP_TIMEOUT)  # drain stderr so buildx never blocks on it
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _image_id(iidfile: Path, metadata: Path, *, by_config: bool = False) -> str | None:
    try:
        data = json.loads(metadata.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    key = "containerimage.config.digest" if by_config else "containerimage.digest"
    digest = data.get(key) if isinstance(data, dict) else None
    if isinstance(digest, str) and digest.startswith("sha256:"):
        return digest
    try:
        return iidfile.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _outcome(
    parser: PlainProgress,
    code: int,
    image_id: str | None,
    where: tuple[str, str],
    on_progress: ProgressCallback | None,
) -> BuildResult:
    path, address = where
    if code == 0:
        if image_id is None:
            raise EngineError(f"docker buildx build against {address} succeeded but named no image")
        deliver(parser.image(image_id), on_progress)
        return parser.result()
    rejected = parser.rejection(path, address)
    if rejected is not None:
        raise rejected
    if parser.error is None and not parser.vertex_failed:
        said = " / ".join(parser.stray) or "no message"
        raise EngineError(f"docker buildx build against {address} failed (exit code {code}): {said}")
    return parser.result()
