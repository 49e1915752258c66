"""``layermap predict``: which lines will make a layer, per builder, without an engine."""

from __future__ import annotations

import argparse
from typing import Any

from analyzer.cli.output import add_output_args, emit
from analyzer.errors import EXIT_OK


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "predict", help="predict, without an engine, which lines make a layer and why"
    )
    p.add_argument("dockerfile", metavar="DOCKERFILE", help="the Dockerfile to read")
    p.add_argument("--builder", choices=["classic", "buildkit"], default="classic")
    p.add_argument("--target", metavar="STAGE")
    p.add_argument("--build-arg", action="append", default=[], metavar="K=V", dest="build_args")
    add_output_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.dockerfile import load, parse_build_args
    from analyzer.mapping.build import check_target
    from analyzer.teaching.checks import validate
    from analyzer.teaching.predict import prediction_report

    dockerfile = load(args.dockerfile, parse_build_args(args.build_args), args.builder)
    check_target(dockerfile, args.target)
    validate(dockerfile, args.builder, args.target)
    emit(prediction_report(dockerfile, args.dockerfile, args.builder, args.target), args)
    return EXIT_OK
