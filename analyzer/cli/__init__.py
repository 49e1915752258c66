"""Command line: argument parsing, dispatch to one module per subcommand, exit codes.

``analyzer/cli/`` is the only package that prints or exits. Library code raises
:class:`~analyzer.errors.LayermapError` subclasses carrying the one-line message and the exit code of
the contract; :func:`main` turns them into a line on stderr and the exit status.
Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``; flags
that several subcommands share come from helpers (``args``: build and image flags → ``BuildOptions``).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from analyzer import __version__
from analyzer.cli import build, diff, image, layers, predict, pull, samples, store
from analyzer.cli.output import emit
from analyzer.errors import EXIT_INTERRUPTED, EXIT_USAGE, BuildFailed, LayermapError
from analyzer.model import Report

COMMANDS = (build, image, predict, layers, diff, pull, store, samples)
# The subcommands that may talk to an engine take --context, like the docker CLI's commands.
ENGINE_COMMANDS = ("build", "image", "layers", "diff", "pull", "store")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="layermap",
        description="Build a Dockerfile and map every line to the history entry and layer it produced.",
    )
    top.add_argument("--version", action="version", version=f"layermap {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    for name in ENGINE_COMMANDS:
        sub.choices[name].add_argument(
            "--context",
            dest="docker_context",
            metavar="NAME",
            help="the Docker context whose engine to use (default: DOCKER_CONTEXT, else the current context "
            "of ~/.docker/config.json); DOCKER_HOST, when set, wins",
        )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_usage(sys.stderr)
        return EXIT_USAGE
    debug = getattr(args, "debug", False)
    _use_context(getattr(args, "docker_context", None))
    try:
        code: int = args.run(args)
        return code
    except KeyboardInterrupt:
        print("layermap: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BuildFailed as err:
        if isinstance(err.result, Report):
            emit(err.result, args)
        print(f"layermap: build failed at {err.message}", file=sys.stderr)
        if debug:
            traceback.print_exc()
        return err.exit_code
    except LayermapError as err:
        print(f"layermap: {err.message}", file=sys.stderr)
        if debug:
            traceback.print_exc()
        return err.exit_code


def _use_context(name: str | None) -> None:
    """``--context NAME`` is DOCKER_CONTEXT for this run, so buildx, run as a child, follows it too."""
    if not name:
        return
    if os.environ.get("DOCKER_HOST"):
        print(f"layermap: warning: DOCKER_HOST is set, so --context {name} is not used", file=sys.stderr)
    os.environ["DOCKER_CONTEXT"] = name
