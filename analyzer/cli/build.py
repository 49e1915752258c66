"""``layermap build``: build a Dockerfile step by step and map every line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from analyzer.cli.args import add_build_args, build_options, requested_builder
from analyzer.cli.output import add_gate_args, add_output_args, finish, outputs
from analyzer.cli.progress import make_progress
from analyzer.cli.teaching import add_teaching_args, enrich
from analyzer.errors import BuildFailed, UsageError
from analyzer.i18n import _
from analyzer.model import Report
from analyzer.render import RENDERERS
from analyzer.review import gate


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "build", help="build a Dockerfile step by step and map each line"
    )
    p.add_argument("context", metavar="CONTEXT", help="build context folder, or a Dockerfile path")
    add_build_args(p)
    p.add_argument("--contents", action="store_true", help="also read layer contents: files, waste, secrets")
    p.add_argument("--files", type=int, metavar="N", help="with --contents: the N largest changes per step")
    add_teaching_args(p)
    add_output_args(p)
    add_gate_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    outputs(args, RENDERERS)  # a bad --output stops the run before any work
    # Imported here so `layermap --version` and usage errors never load the docker SDK.
    from analyzer.engine import client as engine_mod
    from analyzer.mapping import build as pipeline

    if args.files is not None and (args.files < 0 or not args.contents):
        raise UsageError(_("--files N needs --contents and N >= 0"))
    requested, _unused = requested_builder(args)
    options = build_options(args, args.context)
    config = gate.overridden(gate.config_for(options.dockerfile, args.config), args)  # before the build
    files = 10 if args.files is None else args.files
    # Parse before connecting, so a bad Dockerfile is reported without an engine (with BuildKit's
    # rules until the engine says which builder is its default).
    parsed = pipeline.load_dockerfile(options)
    eng = engine_mod.connect()
    if requested is None and eng.default_builder() != options.builder:
        options = build_options(args, args.context, eng.default_builder())
        parsed = pipeline.load_dockerfile(options)
    request = pipeline.BuildRequest(options, contents=args.contents, files=files)
    with make_progress(sys.stderr, quiet=args.quiet, mode=args.progress) as progress:
        try:
            report = pipeline.build_report(request, parsed, eng, on_progress=progress.update)
        except BuildFailed as err:
            if isinstance(err.result, Report):  # the partial report is explained too
                err.result = enrich(err.result, parsed, args, options.builder)
            raise
    report = enrich(report, parsed, args, options.builder)
    review = gate.review(report, parsed, config, fail_on=args.fail_on, context_dir=options.context)
    return finish(review, args)
