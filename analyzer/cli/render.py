"""``layermap render FILE|-``: a JSON that layermap wrote (a ``build``/``image``/``predict`` report, a
``diff`` or a ``layers`` JSON), written again in any format of its kind — build once, render many.

The kind is found from the content (a report has ``schema_version`` and ``steps``; the others say their
``kind``), the JSON is read back into the model by :mod:`analyzer.render.read` and written through the
one renderer registry. Nothing is measured and no rule runs again, so the exit code is 0 whatever the
findings; ``--fail-on SEVERITY`` judges the findings the file carries (a diff: its new findings), exit 1
when one is at that level or worse. No engine, no docker SDK, no HTTP client is imported.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from analyzer.cli.output import add_output_option, write_all
from analyzer.errors import EXIT_GATE, EXIT_OK, UsageError
from analyzer.i18n import _
from analyzer.render import FORMATS

FAIL_ON = ("error", "warning", "never")
ALL_FORMATS = sorted({fmt for kind in ("report", "diff", "layers") for fmt in FORMATS[kind]})


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "render",
        help="write a saved JSON (report, diff or layers) in another format, without measuring again",
        description="Read a JSON that layermap wrote (build, image or predict report; diff; layers) and "
        "write it in any format of its kind. No engine is needed and no rule runs again.",
    )
    p.add_argument("file", metavar="FILE|-", help="the JSON to render (- reads stdin)")
    p.add_argument(
        "--format",
        choices=ALL_FORMATS,
        default=None,
        help="output format (default: table); a report takes "
        + ", ".join(FORMATS["report"])
        + "; a diff or layers JSON takes "
        + ", ".join(FORMATS["diff"]),
    )
    add_output_option(p, "rendering")
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="exit 1 when the file's findings (a diff: its new findings) reach this severity; default: "
        "exit 0, render judges nothing",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no summary line (a gate verdict is always printed)"
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(run=run)


def read_json(spec: str) -> object:
    """The parsed JSON of ``spec`` (``-``: stdin), size- and depth-bounded; UsageError when it is not."""
    from analyzer.limits import MAX_REPORT_BYTES, InputLimitError, load_json, read_regular

    try:
        if spec == "-":
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None:
                raise UsageError(_("cannot read stdin: it is closed"))
            data = stream.read(MAX_REPORT_BYTES + 1)
            if len(data) > MAX_REPORT_BYTES:
                raise InputLimitError(f"larger than {MAX_REPORT_BYTES} bytes")
        else:
            data = read_regular(spec, MAX_REPORT_BYTES)
        return load_json(data.decode("utf-8"))
    except (OSError, ValueError) as err:  # InputLimitError, UnicodeDecodeError, JSONDecodeError
        reason = (err.strerror or str(err)) if isinstance(err, OSError) else str(err)
        raise UsageError(
            _("{path}: not a readable JSON file: {reason}").format(path=spec, reason=reason)
        ) from None


def dockerfile_text(data: object) -> str | None:
    """The Dockerfile the report names, read again when it is still the one measured (same sha256), for
    the views that show it (annotated, HTML); None when it is gone or changed."""
    import hashlib

    from analyzer.limits import MAX_REPORT_BYTES, read_regular

    if not isinstance(data, dict) or not isinstance(data.get("dockerfile"), dict):
        return None
    path, digest = data["dockerfile"].get("path"), data["dockerfile"].get("sha256")
    if not isinstance(path, str) or not isinstance(digest, str):
        return None
    try:
        raw = read_regular(Path(path), MAX_REPORT_BYTES)
        if hashlib.sha256(raw).hexdigest() != digest.removeprefix("sha256:"):
            return None
        return raw.decode("utf-8")
    except (OSError, ValueError):
        return None


def run(args: argparse.Namespace) -> int:
    from analyzer.render import read

    data = read_json(args.file)
    try:
        kind = read.kind_of(data)
    except ValueError as err:
        raise UsageError(
            _("{path}: not a layermap JSON: {reason}").format(path=args.file, reason=err)
        ) from None
    formats = FORMATS[kind]
    wanted = [args.format] if args.format else []
    wanted += [v.partition("=")[0] for v in args.output or [] if "=" in v]
    for fmt in wanted:
        if fmt in ALL_FORMATS and fmt not in formats:
            raise UsageError(
                _("{path}: a {kind} JSON has no {fmt} format (choose from {formats})").format(
                    path=args.file, kind=kind, fmt=fmt, formats=", ".join(formats)
                )
            )
    try:
        if kind == "report":
            return _report(read.read_report(data, dockerfile_text(data)), args)
        if kind == "diff":
            return _diff(read.read_diff(data), args)
        view = read.read_layers(data)
    except ValueError as err:
        raise UsageError(
            _("{path}: not a valid layermap {kind} JSON: {reason}").format(
                path=args.file, kind=kind, reason=err
            )
        ) from None
    if args.fail_on:
        raise UsageError(_("--fail-on: a layers JSON has no findings to judge"))
    from analyzer.render import LAYERS_RENDERERS

    write_all(args, formats, lambda fmt, _colour: LAYERS_RENDERERS[fmt](view))
    return EXIT_OK


def _report(report: Any, args: argparse.Namespace) -> int:
    from analyzer.cli.output import emit

    if not args.fail_on:
        emit(report, args)
        return EXIT_OK
    from analyzer.render.report import findings as findings_text
    from analyzer.review import gate

    marked = tuple(
        replace(f, extra={**f.extra, "fails_gate": gate.fails(f.severity, args.fail_on)})
        for f in report.findings
    )
    report = replace(report, findings=marked)
    failing = tuple(f for f in marked if f.extra["fails_gate"])
    verdict = gate.Verdict(args.fail_on, not failing, failing, (), None)
    emit(report, args)
    print(gate.summary_line(verdict, len(marked)), file=sys.stderr)
    for line in findings_text.gate_lines(failing, report.dockerfile_path):
        print(line, file=sys.stderr)
    return EXIT_OK if verdict.passed else EXIT_GATE


def _diff(result: Any, args: argparse.Namespace) -> int:
    from analyzer.render import DIFF_RENDERERS

    code = EXIT_OK
    if args.fail_on:
        from analyzer.review import gate

        verdict = gate.judge(result, result.verdict.max_growth if result.verdict else None, args.fail_on)
        result = replace(result, verdict=verdict)
        code = EXIT_OK if verdict.passed else EXIT_GATE
    write_all(args, FORMATS["diff"], lambda fmt, _colour: DIFF_RENDERERS[fmt](result))
    for warning in result.warnings:
        print("layermap: " + _("warning: {warning}").format(warning=warning), file=sys.stderr)
    if result.verdict is not None and not result.verdict.passed:
        for reason in result.verdict.reasons:
            print("layermap: " + _("gate FAILED: {reason}").format(reason=reason), file=sys.stderr)
    return code
