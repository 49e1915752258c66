"""The exceptions layermap raises, each carrying user-facing text and its exit code.

Library code raises these; only ``analyzer/cli/`` (:func:`analyzer.cli.main`) turns them into a message
on stderr and an exit status. The exit codes are part of the external contract (README, "Exit codes").
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE = 1
EXIT_USAGE = 2
EXIT_BUILD = 3
EXIT_ENGINE = 4
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
"""128 + SIGTERM: the shell's code for a process killed by SIGTERM, after the same clean-up as Ctrl-C."""


class LayermapError(Exception):
    """Base class: ``str(err)`` is the one-line message a user sees."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(LayermapError):
    """A bad flag or flag value (exit 2)."""

    exit_code = EXIT_USAGE


class DockerfileError(LayermapError):
    """A missing, unreadable or invalid Dockerfile (exit 2); the message names ``file:line``."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        where = path or "Dockerfile"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class ArchiveError(LayermapError):
    """A bad image archive or OCI layout (exit 2)."""

    exit_code = EXIT_USAGE


class ImageNotFound(LayermapError):
    """An image reference the engine does not know (exit 2)."""

    exit_code = EXIT_USAGE


class DockerfileMismatch(LayermapError):
    """The Dockerfile given for an image is clearly not the one it was built from (exit 2)."""

    exit_code = EXIT_USAGE


class EngineError(LayermapError):
    """The Docker engine could not be reached or answered unexpectedly (exit 4)."""

    exit_code = EXIT_ENGINE


class BuildFailed(LayermapError):
    """A Dockerfile step failed (exit 3). The partial build result travels with the error."""

    exit_code = EXIT_BUILD

    def __init__(self, message: str, result: object | None = None) -> None:
        super().__init__(message)
        self.result = result
