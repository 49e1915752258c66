"""Command line: argument parsing, progress display, output and exit codes.

The only module that prints or exits. Everything else raises :class:`LayermapError` subclasses,
which carry the one-line message and the exit code of the contract (CONTRACT.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from analyzer import __version__
from analyzer.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    BuildFailed,
    LayermapError,
    UsageError,
)
from analyzer.model import Report
from analyzer.progress import make_progress
from analyzer.render import RENDERERS
from analyzer.render.common import human_size

FORMATS = sorted(RENDERERS)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layermap",
        description="Build a Dockerfile and map every line to the history entry and layer it produced.",
    )
    parser.add_argument("--version", action="version", version=f"layermap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    build = sub.add_parser("build", help="build a Dockerfile step by step and map each line")
    build.add_argument("context", metavar="CONTEXT", help="build context folder, or a Dockerfile path")
    build.add_argument("-f", "--file", dest="dockerfile", metavar="DOCKERFILE", help="Dockerfile path")
    build.add_argument("--builder", choices=["classic", "buildkit"], default="classic")
    build.add_argument("--build-arg", action="append", default=[], metavar="K=V", dest="build_args")
    build.add_argument("--target", metavar="STAGE")
    build.add_argument("--network", metavar="MODE", help="network for RUN steps (e.g. host)")
    build.add_argument("--no-cache", action="store_true")
    build.add_argument("--platform", metavar="P")
    build.add_argument("-t", "--tag", metavar="TAG")
    build.add_argument("--contents", action="store_true", help="also read layer contents")
    _output_args(build)
    return parser


def _output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary line")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_usage(sys.stderr)
        return 2
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("layermap: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BuildFailed as err:
        if isinstance(err.result, Report):
            _emit(err.result, args)
        print(f"layermap: build failed at {err.message}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return err.exit_code
    except LayermapError as err:
        print(f"layermap: {err.message}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return err.exit_code


def _run(args: argparse.Namespace) -> int:
    if args.command == "build":
        return _build(args)
    raise UsageError(f"unknown command {args.command}")


def _build(args: argparse.Namespace) -> int:
    # Imported here so `layermap --version` and usage errors never need the docker SDK.
    from analyzer import engine as engine_mod
    from analyzer import pipeline
    from analyzer.dockerfile import load, parse_build_args

    if args.builder != "classic":
        raise UsageError("--builder buildkit is not supported yet; use --builder classic")
    if args.contents:
        raise UsageError("--contents is not supported yet")
    context, dockerfile = pipeline.resolve_context(args.context, args.dockerfile)
    request = pipeline.BuildRequest(
        context=context,
        dockerfile=dockerfile,
        builder=args.builder,
        build_args=parse_build_args(args.build_args),
        target=args.target,
        network=args.network,
        no_cache=args.no_cache,
        platform=args.platform,
        tag=args.tag,
    )
    # Parse before connecting, so a bad Dockerfile is reported without an engine.
    parsed = load(dockerfile, request.build_args or {})
    pipeline.check_target(parsed, args.target)
    eng = engine_mod.connect()
    with make_progress(sys.stderr, quiet=args.quiet) as progress:
        report = pipeline.build_report(request, parsed, eng, on_progress=progress.update)
    _emit(report, args)
    return EXIT_OK


def _emit(report: Report, args: argparse.Namespace) -> None:
    text = RENDERERS[args.format](report)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as err:
            raise UsageError(f"{args.output}: cannot write the report: {err.strerror}") from None
    else:
        _write(sys.stdout, text)
    for warning in report.warnings:
        print(f"layermap: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(_summary_line(report), file=sys.stderr)


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        # `layermap … | head`: the reader went away; that is not an error of the analysis.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())


def _summary_line(report: Report) -> str:
    s = report.summary
    if report.image is None:
        return f"layermap: {len(report.steps)} steps mapped; no final image"
    return (
        f"layermap: {len(report.steps)} steps, {len(report.image.layers)} layers "
        f"({s.layers_added} added), {human_size(s.final_size)} "
        f"(base {human_size(s.base_size)}, added {human_size(s.added_size)})"
    )
