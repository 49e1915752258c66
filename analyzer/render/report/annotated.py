"""``--format annotated``: the Dockerfile as written, with a gutter like a coverage report — the size
of the layer each line made (or what FROM inherited) and a bar proportional to the final image.

Gutter: size, bar, a mark, the line number. The mark is the severity of the line's most severe finding
(``E`` error, ``W`` warning, ``i`` info; the findings are listed, with that legend, under the footer),
else ``!`` where ``--explain`` found a surprise. ONBUILD triggers run
by a FROM get an extra ``↳`` row under it. Bars are shares of the final image (steps of stages outside
it are drawn with a light shade); a non-zero layer always gets at least a sliver. A ``predict`` report
shows ``layer`` / ``no`` / ``depends`` instead of sizes. ``RenderOptions(colour=True)`` adds ANSI colours
(the CLI asks for them only on a TTY without ``NO_COLOR``); the text is otherwise identical.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from analyzer.i18n import _
from analyzer.model import Report, Step
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.common import builder_label
from analyzer.render.report import findings
from analyzer.units import count_of, human_size

BAR_WIDTH = 16
_EIGHTHS = " ▏▎▍▌▋▊▉"
_RESET, _DIM, _BOLD = "\033[0m", "\033[2m", "\033[1m"
_CYAN, _YELLOW, _RED, _MAGENTA = "\033[36m", "\033[33m", "\033[31m", "\033[35m"
_MARK_COLOURS = {"E": _RED, "W": _YELLOW, "i": _CYAN}


@dataclass(frozen=True)
class Gutter:
    """One gutter: the size text, how full the bar is (0..1, None: no bar), the marks."""

    size: str
    fill: float | None
    in_image: bool = True
    surprise: bool = False
    failed: bool = False
    layer: bool = False
    finding: str | None = None
    """The mark of the line's most severe finding (``E``, ``W``, ``i``); it wins over ``!``."""


def bar(fill: float | None, in_image: bool = True, width: int = BAR_WIDTH) -> str:
    """A bar of eighth blocks; any non-zero fill shows at least one eighth."""
    if fill is None:
        return " " * width
    eighths = max(1, round(min(fill, 1.0) * width * 8)) if fill > 0 else 0
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    if not in_image:
        text = "░" * len(text)
    return text.ljust(width)


def _scale(report: Report) -> int:
    """Full bar width: the final image, or a larger single size (a big layer of an earlier stage)."""
    sizes = [s.layer.size for s in report.steps if s.layer] + [s.inherited_size or 0 for s in report.steps]
    return max([report.image.size if report.image else 0, *sizes])


def gutter(report: Report, step: Step, scale: int, surprise: bool) -> Gutter:
    """What the gutter shows for one step."""
    kw = step.instruction
    if step.error is not None:
        return Gutter(_("FAILED"), None, step.in_final_image, surprise, failed=True)
    if kw == "FROM" and not step.trigger and step.stage is not None:
        size = step.inherited_size
        if size is None:
            return Gutter(_("base"), None, step.in_final_image, surprise)
        return Gutter(human_size(size), size / scale if scale else 0.0, step.in_final_image, surprise)
    if report.kind == "prediction":
        word = {True: _("layer"), False: _("no"), None: _("depends")}[step.creates_layer]
        return Gutter(word, None, step.in_final_image, surprise, layer=bool(step.creates_layer))
    if step.layer is not None:
        fill = step.layer.size / scale if scale else 0.0
        return Gutter(human_size(step.layer.size), fill, step.in_final_image, surprise, layer=True)
    if step.creates_layer is None:
        return Gutter("-", None, step.in_final_image, surprise)
    return Gutter("·", None, step.in_final_image, surprise)


def _paint(text: str, *codes: str, colour: bool) -> str:
    return f"{''.join(codes)}{text}{_RESET}" if colour and codes and text.strip() else text


def gutter_text(g: Gutter | None, colour: bool) -> str:
    """``    size bar              ! `` (empty gutter for comments, blanks and continuation lines)."""
    if g is None:
        return " " * (9 + BAR_WIDTH + 3)
    size = f"{g.size:>8}"
    bar_text = bar(g.fill, g.in_image)
    mark = g.finding or ("!" if g.surprise else " ")
    if colour:
        size = _paint(size, _RED if g.failed else (_BOLD if g.layer else _DIM), colour=True)
        bar_text = _paint(bar_text, _CYAN if g.in_image else _DIM, colour=True)
        mark = _paint(mark, _MARK_COLOURS.get(mark, _MAGENTA), colour=True)
    return f"{size} {bar_text} {mark} "


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    """The annotated Dockerfile (or, without one, the image history annotated the same way)."""
    report = findings.with_mismatches(report)
    head, colour = _header(report), options.colour
    if report.dockerfile_text is None:
        body = _history_lines(report, colour)
    else:
        body = _dockerfile_lines(report, colour)
    return "\n".join([head, *body, _footer(report), *findings.annotated_list(report)]) + "\n"


def _dockerfile_lines(report: Report, colour: bool) -> list[str]:
    assert report.dockerfile_text is not None
    scale = _scale(report)
    surprises = {e.step for e in report.explanations if e.surprise}
    marks = findings.marks_by_line(report.findings)
    by_line: dict[int, list[tuple[int, Step]]] = defaultdict(list)
    for index, step in enumerate(report.steps):
        by_line[step.line].append((index, step))
    covered = {n for s in report.steps for n in range(s.line + 1, s.end_line + 1)}
    out = []
    for number, text in enumerate(report.dockerfile_text.splitlines(), start=1):
        steps = by_line.get(number, [])
        own = [(i, s) for i, s in steps if not s.trigger]
        g = gutter(report, own[0][1], scale, own[0][0] in surprises) if own else None
        if number in marks:
            g = (
                replace(g, finding=marks[number])
                if g is not None
                else Gutter("", None, finding=marks[number])
            )
        sep = "┆" if number in covered else "│"
        line_text = _paint(text, _DIM, colour=colour) if text.lstrip().startswith("#") else text
        out.append(f"{gutter_text(g, colour)}{sep}{number:>4}  {line_text}".rstrip())
        for i, trig in (pair for pair in steps if pair[1].trigger):
            tg = gutter(report, trig, scale, i in surprises)
            out.append(f"{gutter_text(tg, colour)}│   ↳  ONBUILD {trig.text}".rstrip())
    return out


def _history_lines(report: Report, colour: bool) -> list[str]:
    if report.image is None:
        return [_("(no Dockerfile and no image: nothing to annotate)")]
    scale = _scale(report)
    out = []
    layer_at = 0
    for entry in report.image.history:
        if entry.empty_layer is False:
            layer = report.image.layers[layer_at] if layer_at < len(report.image.layers) else None
            size = layer.size if layer and layer.size is not None else entry.size
            g = Gutter(human_size(size), size / scale if scale else 0.0, layer=True)
            layer_at += 1
        else:
            g = Gutter("·" if entry.empty_layer else "-", None)
        out.append(f"{gutter_text(g, colour)}│{entry.index:>4}  {' '.join(entry.created_by.split())}")
    return out


def _header(report: Report) -> str:
    what = report.dockerfile_path or (report.image.id[:19] if report.image else _("report"))
    if report.kind == "prediction":
        return "# layermap predict: " + _("{what} ({builder}) — gutter: layer / no / depends").format(
            what=what, builder=builder_label(report)
        )
    scale = human_size(_scale(report))
    legend = "# layermap: " + _(
        "{what} ({builder}) — gutter: layer size, bar ∝ size (full = {scale})"
    ).format(what=what, builder=builder_label(report), scale=scale)
    if any(e.surprise for e in report.explanations):
        legend += "\n# " + _("! marks a surprise: the line did not do what `layermap predict` said it would")
    return legend


def _footer(report: Report) -> str:
    s = report.summary
    if report.image is None:
        return "# " + (
            _("predicted without an engine") if report.kind == "prediction" else _("no image measured")
        )
    return "# " + _("final image {size} in {layers}; base {base}, added {added} in {added_layers}").format(
        size=human_size(s.final_size),
        layers=count_of(len(report.image.layers), "layer", "layers"),
        base=human_size(s.base_size),
        added=human_size(s.added_size),
        added_layers=count_of(s.layers_added, "layer", "layers"),
    )
