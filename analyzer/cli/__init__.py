"""Command line: argument parsing, dispatch to one module per subcommand, exit codes.

``analyzer/cli/`` is the only package that prints or exits. Library code raises
:class:`~analyzer.errors.LayermapError` subclasses carrying the one-line message and the exit code of
the contract; :func:`main` turns them into a line on stderr and the exit status.
Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``; flags
that several subcommands share come from helpers (``args``: build and image flags → ``BuildOptions``).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from analyzer import __version__
from analyzer.cli import build, diff, image, layers, predict
from analyzer.cli.output import emit
from analyzer.errors import EXIT_INTERRUPTED, EXIT_USAGE, BuildFailed, LayermapError
from analyzer.model import Report

COMMANDS = (build, image, predict, layers, diff)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="layermap",
        description="Build a Dockerfile and map every line to the history entry and layer it produced.",
    )
    top.add_argument("--version", action="version", version=f"layermap {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_usage(sys.stderr)
        return EXIT_USAGE
    debug = getattr(args, "debug", False)
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
