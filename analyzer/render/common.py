"""Helpers shared by the human-readable renderers (table, markdown)."""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.i18n import N_, _
from analyzer.model import Image, Report, Step
from analyzer.units import count_of, human_size, seconds, shorten


def layer_indexes(image: Image) -> list[int | None]:
    """For each history entry, the index of the layer it made (None: empty, or not known)."""
    out: list[int | None] = []
    count: int | None = 0
    for entry in image.history:
        if count is None or entry.empty_layer is None:
            count = None
            out.append(None)
        elif entry.empty_layer:
            out.append(None)
        else:
            out.append(count)
            count += 1
    return out


def layer_cell(step: Step) -> str:
    if step.instruction == "FROM" and not step.trigger:
        base = _("base")
        return base if step.inherited_layers is None else f"{base} ({step.inherited_layers})"
    if step.creates_layer is None:
        return "?"
    return _("yes") if step.creates_layer else _("no")


def cached_cell(step: Step) -> str:
    return "" if step.cached is None else (_("cached") if step.cached else _("ran"))


def time_cell(step: Step) -> str:
    return "" if step.duration_s is None else seconds(step.duration_s)


@dataclass(frozen=True)
class Row:
    """One display row with sizes already accumulated per stage."""

    step: Step
    size: int | None
    cumulative: int | None
    share: float | None


def rows(report: Report) -> list[Row]:
    """Display rows; cumulative sizes restart at each FROM with the inherited size."""
    out: list[Row] = []
    total = report.image.size if report.image else 0
    cumulative: int | None = None
    for step in report.steps:
        if step.instruction == "FROM" and not step.trigger:
            cumulative = step.inherited_size
            out.append(Row(step, step.inherited_size, cumulative, None))
            continue
        size = step.layer.size if step.layer else None
        if cumulative is not None and size is not None:
            cumulative += size
        share = size / total if (total and size is not None and step.in_final_image) else None
        out.append(Row(step, size, cumulative if step.stage is not None else None, share))
    return out


def instruction_cell(step: Step, width: int = 48) -> str:
    prefix = "onbuild> " if step.trigger else ""
    return prefix + shorten(step.text, width - len(prefix))


def lines_cell(step: Step) -> str:
    return str(step.line) if step.end_line == step.line else f"{step.line}-{step.end_line}"


def summary_lines(report: Report) -> list[str]:
    """The plain-text summary under the table."""
    s = report.summary
    out: list[str] = []
    if report.image is not None:
        tags = f" ({', '.join(report.image.tags)})" if report.image.tags else ""
        config = report.image.config_digest
        # Where the id is not the config digest (containerd store: a manifest or index), name both.
        tags += f" [config {config[:19]}]" if config and config != report.image.id else ""
        out.append(
            _("Final image {id}{tags}: {size} in {layers}, {entries}").format(
                id=report.image.id[:19],
                tags=tags,
                size=human_size(s.final_size),
                layers=count_of(len(report.image.layers), "layer", "layers"),
                entries=count_of(len(report.image.history), "history entry", "history entries"),
            )
        )
    if report.base is not None:
        out.append(
            _("Base {ref}: {size} in {layers}, {entries}").format(
                ref=report.base.ref,
                size=human_size(s.base_size),
                layers=count_of(report.base.layer_count, "layer", "layers"),
                entries=count_of(report.base.history_count, "history entry", "history entries"),
            )
        )
    if report.image is not None and report.dockerfile_path is not None:
        out.append(
            _("Added by this Dockerfile: {size} in {layers}").format(
                size=human_size(s.added_size), layers=count_of(s.layers_added, "layer", "layers")
            )
        )
    largest = next((st for st in report.steps if st.line == s.largest_step_line and st.layer), None)
    if largest is not None and largest.layer is not None:
        out.append(
            _("Largest step: line {line} {text} ({size})").format(
                line=largest.line, text=shorten(largest.text, 40), size=human_size(largest.layer.size)
            )
        )
    out.extend(failed_line(st.line, st.error.message, st.error.exit_code) for st in report.steps if st.error)
    return out


def failed_line(line: int, message: str, exit_code: int | None) -> str:
    """``FAILED at line 12: … (exit code 1)``."""
    text = _("FAILED at line {line}: {message}").format(line=line, message=message)
    return text + (_(" (exit code {code})").format(code=exit_code) if exit_code is not None else "")


# Finding.severity is a JSON value (never translated); the human formats show it in words.
SEVERITY_WORDS = {"error": N_("error"), "warning": N_("warning"), "info": N_("info")}


def severity_word(severity: str) -> str:
    """``error`` / ``erreur``…"""
    return _(SEVERITY_WORDS.get(severity, severity))


def builder_label(report: Report) -> str:
    """``classic builder`` / ``buildkit builder``; an image read as it is says so instead of naming an
    ``unknown`` builder."""
    if report.builder == "classic":
        return _("classic builder")
    if report.builder == "buildkit":
        return _("buildkit builder")
    return _("existing image")
