"""Shared options and output for the subcommands: formats, ``-o FILE``, warnings, the summary line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Collection
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from analyzer.errors import EXIT_GATE, EXIT_OK, UsageError
from analyzer.i18n import _
from analyzer.mapping.align.match import describe
from analyzer.model import Report
from analyzer.render import RENDERERS, RenderOptions
from analyzer.render.report import findings, github
from analyzer.review import gate
from analyzer.units import human_size


def add_output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=sorted(RENDERERS),
        default=None,
        help="output format (default: table; with only --output FMT=FILE outputs: none on stdout)",
    )
    add_output_option(parser, "report")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress and no summary line (a gate verdict is always printed)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def add_output_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``-o FILE`` (the ``--format`` output) and repeatable ``--output FMT=FILE`` (any format, several in
    one run; ``FMT=-`` is stdout). The two are one option, so ``-o FILE`` keeps its meaning."""
    parser.add_argument(
        "-o",
        "--output",
        action="append",
        metavar="FILE|FMT=FILE",
        help=f"write the {what} to FILE in --format (- or none: stdout); FMT=FILE writes it in FMT too "
        "(repeatable: several formats from one run; FMT=- is stdout, and only one output may be stdout)",
    )


def outputs(args: argparse.Namespace, formats: Collection[str]) -> list[tuple[str, str]]:
    """The (format, file) pairs to write, ``-`` for stdout, in the order given.

    ``-o FILE`` (a value whose part before ``=`` is no format) is ``--format``'s output; ``FMT=FILE``
    adds one. With no plain ``-o``, ``--format`` goes to stdout unless only ``FMT=FILE`` outputs were
    given and ``--format`` was not (then nothing is written to stdout). UsageError for an unknown format,
    two plain files, or two outputs on stdout."""
    given: list[str] = list(getattr(args, "output", None) or [])
    fmt = args.format or formats_default(formats)
    pairs: list[tuple[str, str]] = []
    plain: list[str] = []
    for value in given:
        name, sep, path = value.partition("=")
        if sep and name in formats and path:
            pairs.append((name, path))
        elif sep and name.isidentifier() and name.lower() == name and "/" not in name and name not in formats:
            raise UsageError(
                _("--output {value}: unknown format {name} (choose from {formats})").format(
                    value=value, name=name, formats=", ".join(formats)
                )
            )
        else:
            plain.append(value)
    if len(plain) > 1:
        raise UsageError(
            _("-o FILE given twice ({files}); use FMT=FILE for more outputs").format(files=", ".join(plain))
        )
    if plain:
        pairs.insert(0, (fmt, plain[0]))
    elif args.format is not None or not pairs:
        pairs.insert(0, (fmt, "-"))
    if sum(1 for _f, path in pairs if path == "-") > 1:
        raise UsageError(_("only one output may be stdout (-)"))
    files = [path for _f, path in pairs if path != "-"]
    for path in files:
        if files.count(path) > 1:
            raise UsageError(_("{path}: two outputs would write the same file").format(path=path))
    return pairs


def formats_default(formats: Collection[str]) -> str:
    return "table" if "table" in formats else next(iter(formats))


def output_formats(args: argparse.Namespace) -> set[str]:
    """Every format this run writes (before any check): what the teaching steps look at."""
    found = {args.format or "table"}
    for value in getattr(args, "output", None) or []:
        name, sep, _path = value.partition("=")
        if sep:
            found.add(name)
    return found


def write_all(
    args: argparse.Namespace, formats: Collection[str], render: Callable[[str, bool], str]
) -> list[str]:
    """Render and write every output of :func:`outputs`; ``render(fmt, colour)``. The formats written."""
    pairs = outputs(args, formats)
    for fmt, path in pairs:
        write_text(render(fmt, path == "-" and _colour_ok()), path)
    return [fmt for fmt, _path in pairs]


def add_gate_args(parser: argparse.ArgumentParser) -> None:
    """``--fail-on`` and ``--config``: the review rules and the CI gate (exit 1 when it fails)."""
    parser.add_argument(
        "--fail-on",
        choices=gate.FAIL_ON,
        help="fail (exit 1) on findings of this severity or worse; default: the config's fail_on, else error",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="gate configuration (default: .layermap.toml, else pyproject.toml's [tool.layermap], "
        "beside the Dockerfile)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="RULE",
        help="do not report this rule (repeatable; added to the configuration's ignore list)",
    )
    for level in ("error", "warning", "info"):
        parser.add_argument(
            f"--{level}",
            action="append",
            default=[],
            metavar="RULE",
            dest=f"as_{level}",
            help=f"report this rule as {'an' if level != 'warning' else 'a'} {level} (repeatable; over the "
            "configuration's severity table)",
        )


def finish(review: gate.Review, args: argparse.Namespace) -> int:
    """Write the reviewed report, then the gate's verdict on stderr; the exit code comes from it.

    The verdict is printed even with ``-q``: a pre-commit hook or a CI step that fails must say why,
    one line per failing finding (``FILE:LINE: severity rule: message``)."""
    emit(review.report, args)
    verdict = review.verdict
    print(gate.summary_line(verdict, len(review.report.findings)), file=sys.stderr)
    for line in findings.gate_lines(verdict.failing, review.report.dockerfile_path):
        print(line, file=sys.stderr)
    return EXIT_OK if verdict.passed else EXIT_GATE


def write_text(text: str, output: str | None) -> None:
    """The report to ``-o FILE`` or stdout (no ``-o``, or ``-o -``), as UTF-8 that is always valid.

    Names and history text from an image may hold bytes that are not UTF-8 (surrogate escapes once
    decoded): they are written as ``\\udcXX`` (``backslashreplace``), never as the raw bytes. The output
    stays valid UTF-8 for CI logs, browsers and JSON parsers, JSON stays valid (``\\udcff`` is a JSON
    escape, so ``layermap diff`` reads the same string back), and the byte is still visible. The text
    is encoded before the file is opened, so a failure never leaves an empty report behind.
    """
    if output and output != "-":
        data = text.encode("utf-8", "backslashreplace")
        try:
            Path(output).write_bytes(data)
        except OSError as err:
            raise UsageError(
                _("{path}: cannot write the report: {reason}").format(path=output, reason=err.strerror)
            ) from None
    else:
        _write(sys.stdout, text)


def emit(report: Report, args: argparse.Namespace) -> None:
    """Render ``report`` in ``--format``, then warnings and the summary line on stderr.

    In GitHub Actions the findings also go to stderr as workflow commands (annotations on the pull
    request), whatever the format, and Markdown links findings to the Dockerfile's lines.
    """
    report = replace(
        report, dockerfile_url=github.dockerfile_url(report.dockerfile_path, os.environ, os.getcwd())
    )
    written = write_all(
        args, RENDERERS, lambda fmt, colour: RENDERERS[fmt](report, RenderOptions(colour=colour))
    )
    for warning in report.warnings:
        print("layermap: " + _("warning: {warning}").format(warning=warning), file=sys.stderr)
    for mismatch in report.mismatches:
        print("layermap: " + _("warning: {warning}").format(warning=describe(mismatch)), file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true" and "github" not in written:
        sys.stderr.write(github.render(report))
    if not args.quiet:
        print(summary_line(report), file=sys.stderr)


def _colour_ok() -> bool:
    """ANSI colours only for a terminal reader on stdout: not to a file, a pipe, NO_COLOR or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout is not None and sys.stdout.isatty()  # None: stdout closed (>&-)


def _write(stream: TextIO | None, text: str) -> None:
    """``text`` to stdout in its encoding (unencodable characters backslash-escaped, see write_text).

    A reader that went away (``layermap … | head``) is not an error of the analysis: the rest is
    dropped and the exit code stands. Stdout closed (``>&-``) or failing (``/dev/full``) is exit 2:
    the report the user asked for does not exist.
    """
    if stream is None:
        raise UsageError(_("cannot write the report: stdout is closed"))
    try:
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # a text-only stream (tests capture stdout this way)
            stream.write(text)
        else:
            stream.flush()
            buffer.write(text.encode(stream.encoding or "utf-8", "backslashreplace"))
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError) as err:  # ENOSPC, EBADF, a closed file object
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise UsageError(_("cannot write the report to stdout: {reason}").format(reason=reason)) from None


def summary_line(report: Report) -> str:
    s = report.summary
    if report.kind == "prediction":
        known = [st.creates_layer for st in report.steps if st.in_final_image and st.stage is not None]
        text = _(
            "predicted {steps} steps ({builder} builder): {layers} layers, {depend} depend, "
            "{without} without a layer"
        )
        return "layermap: " + text.format(
            steps=len(report.steps),
            builder=report.builder,
            layers=known.count(True),
            depend=known.count(None),
            without=known.count(False),
        )
    if report.image is None:
        return "layermap: " + _("{steps} steps mapped; no final image").format(steps=len(report.steps))
    if report.dockerfile_path is None:
        empty = sum(1 for entry in report.image.history if entry.empty_layer)
        text = _("{entries} history entries ({empty} without a layer), {layers} layers, {size}")
        return "layermap: " + text.format(
            entries=len(report.image.history),
            empty=empty,
            layers=len(report.image.layers),
            size=human_size(report.image.size),
        )
    text = _("{steps} steps, {layers} layers ({added_layers} added), {size} (base {base}, added {added})")
    return "layermap: " + text.format(
        steps=len(report.steps),
        layers=len(report.image.layers),
        added_layers=s.layers_added,
        size=human_size(s.final_size),
        base=human_size(s.base_size),
        added=human_size(s.added_size),
    )
