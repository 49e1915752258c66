"""``layermap predict``: which lines will make a layer, per builder, without an engine — and a linter.

It runs every review rule whose inputs a Dockerfile gives (``cache-busting-copy``, ``add-instead-of-copy``,
and ``large-context`` when a context folder is named), so ``--format sarif|github|gitlab|junit`` report
them and the gate (``--fail-on``, exit 1) works as for ``build``. The Dockerfile comes as docker build
takes it: ``CONTEXT`` (its ``Dockerfile``), ``-f FILE`` (with or without a context), a Dockerfile path, or
``-`` for stdin.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.cli.args import add_builder_args, requested_builder
from analyzer.cli.output import add_gate_args, add_output_args, finish, outputs
from analyzer.errors import DockerfileError, UsageError
from analyzer.render import RENDERERS

if TYPE_CHECKING:
    pass

STDIN = "-"


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "predict",
        help="predict, without an engine, which lines make a layer and why; lint the Dockerfile",
    )
    p.add_argument(
        "source",
        nargs="?",
        metavar="DOCKERFILE|CONTEXT|-",
        help="a Dockerfile, a context folder (its Dockerfile, unless -f), or - for stdin (default: .)",
    )
    p.add_argument(
        "-f",
        "--file",
        dest="dockerfile",
        metavar="DOCKERFILE",
        help="the Dockerfile (default: CONTEXT/Dockerfile); - reads it from stdin",
    )
    add_builder_args(p, engine=False)
    p.add_argument("--target", metavar="STAGE", help="the stage to build (default: the last one)")
    p.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="K=V",
        dest="build_args",
        help="a build argument (repeatable); a bare K takes its value from the environment",
    )
    add_output_args(p)
    add_gate_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    outputs(args, RENDERERS)  # a bad --output stops the run before any work
    from analyzer.dockerfile import check_target, load, parse, parse_build_args
    from analyzer.review import gate
    from analyzer.teaching.checks import validate
    from analyzer.teaching.predict import prediction_report

    builder, instance = requested_builder(args)
    if instance is not None:
        raise UsageError(f"--builder {instance}: predict takes --classic or --buildkit (no engine is used)")
    builder = builder or "buildkit"  # docker build's default since Docker 23.0
    path, context = where(args.source, args.dockerfile)
    build_args = parse_build_args(args.build_args)
    if path == STDIN:
        dockerfile = parse(read_stdin(), STDIN, build_args, builder)
    else:
        dockerfile = load(path, build_args, builder)
    check_target(dockerfile, args.target)
    validate(dockerfile, builder, args.target)
    config = gate.overridden(gate.config_for(None if path == STDIN else Path(path), args.config), args)
    report = prediction_report(dockerfile, path, builder, args.target)
    review = gate.review(report, dockerfile, config, fail_on=args.fail_on, context_dir=context)
    return finish(review, args)


def where(source: str | None, dockerfile: str | None) -> tuple[str, Path | None]:
    """The Dockerfile to read (``-`` for stdin) and the context folder, if one was named."""
    if source == STDIN and dockerfile is not None:
        raise UsageError("- reads the Dockerfile from stdin: give no -f with it")
    if source is None or Path(source).is_dir():
        folder = Path(source or ".")
        if dockerfile == STDIN:
            return STDIN, folder
        return str(Path(dockerfile) if dockerfile is not None else folder / "Dockerfile"), folder
    if dockerfile is not None:
        raise UsageError(f"{source} is not a folder; give a context folder as the argument when using -f")
    return source, None


def read_stdin() -> str:
    """The Dockerfile piped in, with the same limits and messages as a file."""
    from analyzer.dockerfile import MAX_BYTES

    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("-: stdin is a terminal; pipe a Dockerfile in (layermap predict - < Dockerfile)")
    data = sys.stdin.buffer.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise DockerfileError(f"file too large (over {MAX_BYTES} bytes)", STDIN)
    if b"\0" in data:
        raise DockerfileError("binary file (contains NUL bytes), not a Dockerfile", STDIN)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DockerfileError(f"not UTF-8 text (byte {err.start})", STDIN) from None
