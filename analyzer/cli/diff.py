"""``layermap diff BASE HEAD``: per-line size deltas between two versions, with an optional growth gate.

Each side is, in this order: a JSON report (``*.json`` written by ``--format json``), an image archive
or OCI layout, an existing path (a context folder or a Dockerfile: built, like ``layermap build``), or
an image reference the engine knows. Built and mapped sides go through the review rules, so the diff
can name the findings the head version brings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from analyzer.cli.args import add_build_args, add_mismatch_arg, build_options, requested_builder
from analyzer.cli.output import add_gate_args, add_output_option, write_all
from analyzer.cli.registry_args import add_registry_args
from analyzer.errors import EXIT_GATE, EXIT_OK, DockerfileMismatch, UsageError
from analyzer.i18n import _
from analyzer.render import DIFF_RENDERERS
from analyzer.render.report import github
from analyzer.review import gate
from analyzer.review.rulekit.config import Config
from analyzer.units import exact_size, human_size

if TYPE_CHECKING:  # the docker SDK loads only when an engine is needed; the matching only for a diff
    from analyzer.engine.client import Engine
    from analyzer.review.diff import DiffResult


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "diff", help="compare two versions line by line (Dockerfiles/contexts, images, or JSON reports)"
    )
    p.add_argument(
        "base", metavar="BASE", help="the version before: context, Dockerfile, image or report.json"
    )
    p.add_argument("head", metavar="HEAD", help="the version after")
    add_build_args(
        p.add_argument_group("build options", "for each side that is a context or a Dockerfile"),
        one_context=False,
    )
    p.add_argument(
        "--contents", action="store_true", help="read layer contents, so the waste rules can name new waste"
    )
    p.add_argument(
        "--max-growth", metavar="BYTES|PERCENT", help="fail (exit 1) if the image grows by more (5MB, 10%%)"
    )
    add_registry_args(p)
    add_mismatch_arg(p)
    p.add_argument(
        "--format",
        choices=sorted(DIFF_RENDERERS),
        default=None,
        help="output format (default: table; with only --output FMT=FILE outputs: none on stdout)",
    )
    add_output_option(p, "diff")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary line")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    add_gate_args(p)
    p.set_defaults(run=run)


@dataclass
class _Sides:
    """Loads sides, connecting to the engine at most once and only when a side needs it."""

    args: argparse.Namespace
    engine: Engine | None = None

    def connect(self) -> Engine:
        if self.engine is None:
            from analyzer.engine import client as engine_mod

            self.engine = engine_mod.connect()
        return self.engine

    def load(self, spec: str) -> tuple[Mapping[str, Any], Config | None]:
        from analyzer.image.transport import PREFIXES, REGISTRY, sniff

        path = Path(spec)
        if path.is_file() and path.suffix == ".json":
            return _read_report(path), None
        named = spec == "-" or spec.startswith((REGISTRY, *PREFIXES))
        if named or not path.exists() or sniff(spec) != "engine":
            return self._image(spec)
        return self._build(spec)

    def _image(self, spec: str) -> tuple[Mapping[str, Any], Config]:
        from analyzer.cli.registry_args import image_ref, registry_options
        from analyzer.contents import DEFAULT_TOP
        from analyzer.image.source import open_image
        from analyzer.image.transport import parse
        from analyzer.mapping import existing as imagemap

        where = parse(image_ref(self.args, spec), self.args.pick)
        platform = self.args.platform if where.is_file else None
        source = open_image(where, self.connect, registry_options(self.args), platform=platform)
        config = gate.overridden(gate.config_for(None, self.args.config), self.args)
        report = imagemap.image_report(source, None, None, None)
        if self.args.contents:
            report = source.with_contents(report, DEFAULT_TOP)
        return _reviewed(gate.review(report, None, config)), config

    def _build(self, spec: str) -> tuple[Mapping[str, Any], Config]:
        from analyzer.cli.progress import make_progress
        from analyzer.mapping import build as pipeline

        requested, _instance = requested_builder(self.args)
        options = build_options(self.args, spec)
        config = gate.overridden(gate.config_for(options.dockerfile, self.args.config), self.args)
        parsed = pipeline.load_dockerfile(options)
        engine = self.connect()
        if requested is None and engine.default_builder() != options.builder:
            options = build_options(self.args, spec, engine.default_builder())
            parsed = pipeline.load_dockerfile(options)
        request = pipeline.BuildRequest(options, contents=self.args.contents)
        with make_progress(sys.stderr, quiet=self.args.quiet, mode=self.args.progress) as progress:
            report = pipeline.build_report(request, parsed, engine, on_progress=progress.update)
        return _reviewed(gate.review(report, parsed, config, context_dir=options.context)), config


def _reviewed(review: gate.Review) -> Mapping[str, Any]:
    from analyzer.render.report import json as json_render

    return json_render.to_dict(review.report)


def _read_report(path: Path) -> Mapping[str, Any]:
    """A saved JSON report, size- and depth-bounded, its shapes checked before anything trusts them."""
    from analyzer.limits import MAX_REPORT_BYTES, load_json, read_regular
    from analyzer.review.diff import check_report

    try:
        data = load_json(read_regular(path, MAX_REPORT_BYTES).decode("utf-8"))
    except (OSError, ValueError) as err:  # InputLimitError, UnicodeDecodeError, JSONDecodeError
        reason = err.strerror if isinstance(err, OSError) else str(err)
        raise UsageError(f"{path}: not a readable JSON report: {reason}") from None
    try:
        check_report(data)
    except ValueError as err:
        raise UsageError(f"{path}: not a layermap JSON report (schema_version 1): {err}") from None
    return cast(Mapping[str, Any], data)


def run(args: argparse.Namespace) -> int:
    if args.max_growth is not None:
        try:
            gate.parse_growth(args.max_growth)
        except ValueError as err:
            raise UsageError(str(err)) from None
    sides = _Sides(args)
    base, _ = sides.load(args.base)
    head, head_config = sides.load(args.head)
    notes = [*_mismatches("base", args.base, base, args), *_mismatches("head", args.head, head, args)]
    try:
        from analyzer.review.diff import diff

        result = diff(base, head)
    except ValueError as err:
        raise UsageError(f"cannot compare {args.base} with {args.head}: {err}") from None
    result = replace(result, warnings=(*result.warnings, *notes))
    fail_on = args.fail_on or (head_config.fail_on if head_config else None) or gate.FAIL_ON_DEFAULT
    url = github.dockerfile_url(result.head.dockerfile, os.environ, os.getcwd())
    result = replace(result, verdict=gate.judge(result, args.max_growth, fail_on), dockerfile_url=url)
    write_all(args, DIFF_RENDERERS, lambda fmt, _colour: DIFF_RENDERERS[fmt](result))
    for warning in result.warnings:
        print(f"layermap: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(_summary(result), file=sys.stderr)
    return EXIT_OK if result.verdict is None or result.verdict.passed else EXIT_GATE


def _mismatches(name: str, spec: str, report: Mapping[str, Any], args: argparse.Namespace) -> list[str]:
    """A side whose Dockerfile clearly is not its image's stops the diff (exit 2) unless
    ``--allow-mismatch``, as ``layermap image`` does; the others' mismatches become warnings."""
    from analyzer.mapping.align.match import describe, fatal
    from analyzer.review.diff import side_mismatches

    found, entries = side_mismatches(report)
    first = fatal([m for m in found if m.in_final_image], entries)
    if first is not None and not args.allow_mismatch:
        path = (report.get("dockerfile") or {}).get("path") or spec
        raise DockerfileMismatch(
            f"{name} ({spec}): {path}:{first.line}: the Dockerfile does not match the image "
            f"({len(found)} of {entries} history entries differ); {describe(first)}. "
            "Use --allow-mismatch to compare anyway"
        )
    return [f"{name}: {describe(m)}" for m in found]


def _summary(result: DiffResult) -> str:
    changed = sum(1 for d in result.lines if d.change != "same")
    verdict = result.verdict
    gate_text = "" if verdict is None else (_("; gate passed") if verdict.passed else _("; gate FAILED"))
    text = _("{base} -> {head} ({exact}), {changed} of {lines} lines changed, {new} new findings{gate}")
    return "layermap diff: " + text.format(
        base=human_size(result.base.size),
        head=human_size(result.head.size),
        exact=exact_size(result.total_delta, signed=True),
        changed=changed,
        lines=len(result.lines),
        new=len(result.new_findings),
        gate=gate_text,
    )
