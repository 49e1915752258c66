"""``--explain`` and ``--layers`` for ``build`` and ``image``: the flags and the step that adds the
explanations, the Dockerfile text and the layer database view to a finished report."""

from __future__ import annotations

import argparse
from dataclasses import replace

from analyzer.i18n import _
from analyzer.model import Dockerfile, Report


def add_teaching_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--explain",
        action="store_true",
        help="prediction vs measurement per line, surprises, and what each line did in plain words",
    )
    parser.add_argument(
        "--layers",
        action="store_true",
        help="the layer database view: diff_id, computed chain ID, size, the engine's layerdb folder",
    )


def enrich(report: Report, dockerfile: Dockerfile | None, args: argparse.Namespace, builder: str) -> Report:
    """``report`` plus what the flags (and the HTML format, which always explains) ask for."""
    from analyzer.cli.output import output_formats
    from analyzer.errors import UsageError

    if dockerfile is None and args.explain:
        raise UsageError(_("--explain needs --dockerfile: the lines to explain"))
    if dockerfile is not None:
        report = replace(report, dockerfile_text=dockerfile.text)
        if args.explain or output_formats(args) & {"html", "lesson"}:
            from analyzer.teaching.explain import explain

            report = explain(report, dockerfile, builder, getattr(args, "target", None))
    if args.layers and report.image is not None:
        from analyzer.image.layerstore import layer_db

        report = replace(report, layerdb=layer_db(report.image, report.engine))
    return report


def written_by(report: Report) -> str:
    """The builder whose rules to predict with: the build's, or the one that wrote the image's history."""
    if report.builder in ("classic", "buildkit"):
        return report.builder
    from analyzer.mapping.existing import history_writer

    writer = history_writer(report.image) if report.image is not None else "unknown"
    return "buildkit" if writer == "buildkit" else "classic"
