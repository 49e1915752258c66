"""Command line: argument parsing, dispatch to one module per subcommand, exit codes.

``analyzer/cli/`` is the only package that prints or exits. Library code raises
:class:`~analyzer.errors.LayermapError` subclasses carrying the one-line message and the exit code of
the contract; :func:`main` turns them into a line on stderr and the exit status.
Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``; flags
that several subcommands share come from helpers (``args``: build and image flags → ``BuildOptions``).
SIGTERM is handled like Ctrl-C (:class:`Terminated` is a KeyboardInterrupt, so the same clean-up runs:
build containers removed, connections closed) and exits 143. Input nested too deeply for Python's
recursion (a hostile JSON or TOML file) is exit 2, never a traceback; a stderr that went away (a closed
pipe) silences the messages but keeps the exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any, TextIO, cast

from analyzer import __version__, i18n
from analyzer.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, BuildFailed, LayermapError
from analyzer.i18n import _

# One module per subcommand (analyzer.cli.NAME), imported when its parser is built: a run imports its
# own command's module only.
COMMANDS = (
    "build",
    "image",
    "predict",
    "layers",
    "diff",
    "render",
    "pull",
    "store",
    "samples",
    "completion",
)
# The subcommands that may talk to an engine take --context, like the docker CLI's commands.
ENGINE_COMMANDS = ("build", "image", "layers", "diff", "pull", "store")


MACHINE_FORMATS = ("json", "sarif")
LANG_HELP = (
    "the language of the human-readable output: en or fr (default: the locale, LANGUAGE, LC_ALL, "
    "LC_MESSAGES, LANG; C/POSIX or any other language is English); json and sarif are always English, and a "
    "run that writes one of them (--format or --output FMT=FILE) writes all its outputs in English"
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so clean-ups written for Ctrl-C run for it too."""


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; ``only``: with just that subcommand's parser (what :func:`main` uses once the
    first argument names a command: building all eight costs a short run more than its work)."""
    top = argparse.ArgumentParser(
        prog="layermap",
        description="Build a Dockerfile and map every line to the history entry and layer it produced.",
    )
    top.add_argument("--version", action="version", version=f"layermap {__version__}")
    top.add_argument("--lang", choices=i18n.LANGUAGES, default=None, help=LANG_HELP)
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if only is None or name == only:
            importlib.import_module(f"analyzer.cli.{name}").add_parser(sub)
    for name in sub.choices:
        # Also after the command (`layermap build --lang fr .`); SUPPRESS keeps a --lang given before it.
        sub.choices[name].add_argument(
            "--lang", choices=i18n.LANGUAGES, default=argparse.SUPPRESS, help=LANG_HELP
        )
    for name in ENGINE_COMMANDS:
        if name not in sub.choices:
            continue
        sub.choices[name].add_argument(
            "--context",
            dest="docker_context",
            metavar="NAME",
            help="the Docker context whose engine to use (default: DOCKER_CONTEXT, else the current context "
            "of ~/.docker/config.json); DOCKER_HOST, when set, wins",
        )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    # JSON and SARIF are data: their texts (messages, reasons) are English whatever the language, so a
    # script reading them sees the same bytes on every machine.
    # With several outputs (--output FMT=FILE), one machine format makes the whole run English: the
    # findings' messages are written once, and the JSON is the record (render it later with --lang).
    machine = bool(_formats(args) & set(MACHINE_FORMATS))
    i18n.use(i18n.ENGLISH if machine else i18n.choose(args.lang, os.environ))
    if args.command is None:
        parser().print_usage(sys.stderr)
        return EXIT_USAGE
    with _sigterm_as_interrupt(), _tolerant_stderr():
        code, message = _run(args)
        if message:
            print(message, file=sys.stderr, flush=True)
    return code


def _formats(args: argparse.Namespace) -> set[str]:
    found = {getattr(args, "format", None) or ""}
    for value in getattr(args, "output", None) or []:
        if isinstance(value, str):
            found.add(value.partition("=")[0])
    return found


def _run(args: argparse.Namespace) -> tuple[int, str]:
    """The exit code and the line for stderr ("" for none)."""
    debug = getattr(args, "debug", False)
    _use_context(getattr(args, "docker_context", None))
    try:
        code: int = args.run(args)
        return code, ""
    except Terminated:
        return EXIT_TERMINATED, "layermap: " + _("terminated")
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED, "layermap: " + _("interrupted")
    except BuildFailed as err:
        from analyzer.cli.output import emit
        from analyzer.model import Report

        if isinstance(err.result, Report):
            emit(err.result, args)
        _debug(debug)
        return err.exit_code, "layermap: " + _("build failed at {where}").format(where=err.message)
    except LayermapError as err:
        _debug(debug)
        return err.exit_code, f"layermap: {err.message}"
    except RecursionError:
        # json and tomllib recurse per nesting level; every reader bounds depth, this is the backstop.
        _debug(debug)
        return EXIT_USAGE, "layermap: " + _("the input is nested too deeply to read")


def _debug(debug: bool) -> None:
    if debug:
        import traceback  # only --debug prints one

        with contextlib.suppress(OSError):
            traceback.print_exc()


class _Tolerant:
    """stderr that goes quiet once writing to it fails (a closed pipe, a full disk): messages are a
    courtesy, the exit code is the answer, and a failed warning must not turn into a traceback."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._gone = stream is None

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return self._stream.write(text)  # type: ignore[union-attr]
            except (OSError, ValueError):
                self._gone = True
                _silence(2)
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()  # type: ignore[union-attr]
            except (OSError, ValueError):
                self._gone = True
                _silence(2)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _tolerant_stderr() -> Iterator[None]:
    original = sys.stderr
    sys.stderr = cast(TextIO, _Tolerant(original))
    try:
        yield
    finally:
        sys.stderr = original


def _silence(fd: int) -> None:
    """Point ``fd`` at /dev/null so the interpreter's own flush at exit cannot fail on it again."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def terminated(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminated)
    except ValueError:  # not the main thread: signals stay as they are
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _use_context(name: str | None) -> None:
    """``--context NAME`` is DOCKER_CONTEXT for this run, so buildx, run as a child, follows it too."""
    if not name:
        return
    if os.environ.get("DOCKER_HOST"):
        warning = _("warning: DOCKER_HOST is set, so --context {name} is not used").format(name=name)
        print(f"layermap: {warning}", file=sys.stderr)
    os.environ["DOCKER_CONTEXT"] = name
