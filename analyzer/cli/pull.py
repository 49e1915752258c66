"""``layermap pull IMAGE``: what a pull fetches, per layer — the id ``docker pull`` prints, compressed
and unpacked sizes, diff_id, chain ID, history entry and Dockerfile line — and what the local engine
already has."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from analyzer.cli.args import add_mismatch_arg
from analyzer.cli.registry_args import (
    SOURCE_HELP,
    add_registry_args,
    connect_engine,
    image_ref,
    open_source,
    registry_options,
)
from analyzer.errors import EXIT_OK, EngineError, UsageError
from analyzer.i18n import _
from analyzer.render import FORMATS


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "pull",
        help="what a pull fetches: blob ids, compressed/unpacked sizes, diff_ids, chain IDs; what is local",
    )
    p.add_argument(
        "image",
        metavar="IMAGE|TRANSPORT:REF|ARCHIVE|OCI_DIR|-",
        help=SOURCE_HELP,
    )
    p.add_argument("--dockerfile", metavar="FILE", help="the Dockerfile the image was built from")
    p.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="K=V",
        dest="build_args",
        help="a build argument of that build (repeatable), with --dockerfile",
    )
    p.add_argument("--target", metavar="STAGE", help="the stage the image was built to, with --dockerfile")
    add_mismatch_arg(p)
    p.add_argument("--no-engine", action="store_true", help="do not compare with the local engine")
    add_registry_args(p)
    p.add_argument(
        "--format", choices=FORMATS["pull"], default="table", help="output format (default: %(default)s)"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the view to FILE (- or none: stdout)")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.cli.output import write_text
    from analyzer.image.pullplan import plan
    from analyzer.render import PULL_RENDERERS

    ref = image_ref(args, args.image)
    options = registry_options(args)
    source = open_source(args, args.image)
    remote_or_file = source.engine is None  # a registry or a file: the engine is only compared with
    engine, note = (None, None) if args.no_engine else _engine(source, remote_or_file)
    pulled = plan(source, ref, engine, options, _lines(args, source), note)
    write_text(PULL_RENDERERS[args.format](pulled), args.output)
    if not args.quiet:
        have = sum(1 for la in pulled.layers if la.present)
        print(f"layermap pull: {len(pulled.layers)} layers, {have} already in the engine", file=sys.stderr)
    return EXIT_OK


def _engine(source: Any, optional: bool) -> tuple[Any, str | None]:
    """The engine to compare with: the source's own, else a connection that may fail (then none)."""
    if source.engine is not None:
        return source.engine, None
    try:
        return connect_engine(), None
    except EngineError as err:
        if not optional:
            raise
        return None, f"no engine to compare with ({err.message})"


def _lines(args: argparse.Namespace, source: Any) -> dict[int, int] | None:
    if args.dockerfile is None:
        if args.target or args.build_args:
            raise UsageError(_("--target and --build-arg need --dockerfile"))
        return None
    from analyzer.dockerfile import check_target, load, parse_build_args
    from analyzer.image.pullplan import history_lines
    from analyzer.mapping import existing as imagemap

    dockerfile = load(args.dockerfile, parse_build_args(args.build_args))
    check_target(dockerfile, args.target)
    report = imagemap.image_report(
        source, dockerfile, args.target, args.dockerfile, allow_mismatch=args.allow_mismatch
    )
    return history_lines(report.steps)
