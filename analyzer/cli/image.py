"""``layermap image``: map an existing image (engine, saved archive or OCI layout)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analyzer.cli.args import add_image_args
from analyzer.cli.output import add_gate_args, add_output_args, finish, outputs
from analyzer.cli.registry_args import SOURCE_HELP, add_registry_args, open_source
from analyzer.cli.teaching import add_teaching_args, enrich, written_by
from analyzer.errors import UsageError
from analyzer.i18n import _
from analyzer.render import RENDERERS
from analyzer.review import gate


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "image", help="map an existing image: by name/id, a docker save archive, or an OCI layout dir"
    )
    p.add_argument(
        "image",
        metavar="IMAGE|TRANSPORT:REF|ARCHIVE|OCI_DIR|-",
        help=SOURCE_HELP,
    )
    add_image_args(p)
    p.add_argument("--contents", action="store_true", help="also read layer contents: files, waste, secrets")
    p.add_argument("--files", type=int, metavar="N", help="with --contents: the N largest changes per step")
    add_registry_args(p)
    add_teaching_args(p)
    add_output_args(p)
    add_gate_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    outputs(args, RENDERERS)  # a bad --output stops the run before any work
    # Imported where needed: a docker:// run without --dockerfile loads neither the Dockerfile parser
    # nor the archive reader (start-up time is most of such a run).
    from analyzer.mapping import existing as imagemap

    if args.files is not None and (args.files < 0 or not args.contents):
        raise UsageError(_("--files N needs --contents and N >= 0"))
    dockerfile = None
    config = gate.overridden(
        gate.config_for(Path(args.dockerfile) if args.dockerfile else None, args.config), args
    )
    if args.dockerfile is not None:
        from analyzer.dockerfile import check_target, load, parse_build_args

        dockerfile = load(args.dockerfile, parse_build_args(args.build_args))
        check_target(dockerfile, args.target)
    elif args.target or args.build_args:
        raise UsageError(_("--target and --build-arg need --dockerfile"))
    source = open_source(args, args.image)
    report = imagemap.image_report(
        source, dockerfile, args.target, args.dockerfile, allow_mismatch=args.allow_mismatch
    )
    if args.contents:
        top = 10 if args.files is None else args.files
        report = source.with_contents(report, top)
    report = enrich(report, dockerfile, args, written_by(report))
    return finish(gate.review(report, dockerfile, config, fail_on=args.fail_on), args)
