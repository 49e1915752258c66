"""``--format html``: one self-contained page — the annotated Dockerfile, a labelled strata chart of the
final image (each block linked to its line), a per-stage view for multi-stage builds, the findings with
their fix, and with ``--contents`` the waste pairs, each line's largest files and a file browser per
layer; then the explain text.

Everything is inline (CSS and JS from ``assets/``, read at render time); the page fetches nothing, so it
works offline and from an e-mail attachment. Without JS the blocks still work as ``#L12`` links.
:func:`page` is the shell ``--format lesson`` fills with its own sections.
"""

from __future__ import annotations

from html import escape
from importlib import resources

from analyzer import __version__
from analyzer.i18n import _, language
from analyzer.model import Report, Step
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.layers.layerdb import layerdb_rows
from analyzer.render.report import findings
from analyzer.render.report.annotated import gutter
from analyzer.render.report.filetree import browser_section
from analyzer.render.report.sections import findings_section, largest_files_section, rich, waste_section
from analyzer.render.report.strata import MIN_PX, Block, final_blocks, hue_of, stage_columns
from analyzer.render.report.teaching import VERDICTS, layer_word, measured_word
from analyzer.units import count_of, human_size


def _asset(name: str) -> str:
    return resources.files("analyzer.render").joinpath(f"assets/{name}").read_text(encoding="utf-8")


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    """The whole page."""
    report = findings.with_mismatches(report)
    sections = [
        dockerfile_section(report),
        stages_section(report),
        findings_section(report),
        waste_section(report),
        largest_files_section(report),
        browser_section(report),
        explain_section(report),
        layerdb_section(report),
    ]
    return page(report, "layermap", sections)


def page(report: Report, kind: str, sections: list[str], css_class: str = "report") -> str:
    """The self-contained page: header, the strata chart beside ``sections``, inline CSS and JS."""
    name = report.dockerfile_path or (report.image.id[:19] if report.image else _("report"))
    title = f"{kind} — {name}"
    body = "\n".join(part for part in sections if part)
    return f"""<!DOCTYPE html>
<html lang="{language()}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="layermap {escape(__version__)}">
<title>{escape(title)}</title>
<style>
{_asset("report.css")}
</style>
</head>
<body class="{css_class}">
{_header(report)}
<main>
<div class="chart-col">{_final_chart(report)}</div>
<div class="content">
{body}
</div>
</main>
<script>
{_asset("report.js")}
{_asset("filetree.js") if report.file_tree is not None else ""}
</script>
</body>
</html>
"""


def _header(report: Report) -> str:
    s = report.summary
    what = escape(report.dockerfile_path or _("image"))
    lines = [f"<h1>layermap: <code>{what}</code></h1>"]
    if report.kind == "prediction":
        text = _("Prediction for the {builder} builder, without an engine.")
        lines.append(f"<p>{escape(text.format(builder=report.builder))}</p>")
    if report.image is not None:
        tags = f" ({escape(', '.join(report.image.tags))})" if report.image.tags else ""
        # The template is escaped before the (already escaped) HTML values go in.
        text = escape(_("Image {id}{tags}: {size} in {layers}, {entries}.")).format(
            id=f"<span class='digest'>{escape(report.image.id)}</span>",
            tags=tags,
            size=human_size(s.final_size),
            layers=count_of(len(report.image.layers), "layer", "layers"),
            entries=count_of(len(report.image.history), "history entry", "history entries"),
        )
        lines.append(f"<p>{text}</p>")
    if report.base is not None and report.image is not None:
        text = _(
            "Base {ref}: {size} in {layers}; added by this Dockerfile: {added} in {added_layers}."
        ).format(
            ref=report.base.ref,
            size=human_size(s.base_size),
            layers=count_of(report.base.layer_count, "layer", "layers"),
            added=human_size(s.added_size),
            added_layers=count_of(s.layers_added, "layer", "layers"),
        )
        lines.append(f"<p>{escape(text)}</p>")
    if report.engine is not None:
        e = report.engine
        text = _("Engine {version} (API {api}, {storage}).").format(
            version=e.version, api=e.api_version, storage=e.storage
        )
        lines.append(f"<p>{escape(text)}</p>")
    return "<header>" + "\n".join(lines) + "</header>"


# --------------------------------------------------------------------------- charts


def _block(block: Block, css: str) -> str:
    zero = " zero" if block.size == 0 else ""
    base = block.base or not block.colour.startswith("h")
    colour = "base" if base else "hue"
    hue = "" if base else f";--h:{block.colour[1:]}"
    attrs = f' data-line="{block.anchor}" href="#{block.anchor}"' if block.anchor else ""
    layer = f' data-layer="{block.layer}"' if block.layer is not None else ""
    title = block.label + (f"\n{block.diff_id}" if block.diff_id else "")
    return (
        f'<a class="{css} {colour}{zero}"{attrs}{layer} title="{escape(title)}" '
        f'style="height:{block.height}px{hue}"><span class="label">{escape(block.short)}</span></a>'
    )


def _final_chart(report: Report) -> str:
    blocks = final_blocks(report)
    if not blocks:
        note = _("predicted only: no image was built") if report.kind == "prediction" else _("no final image")
        title = _("Final image")
        return f'<h2>{title}</h2><p class="legend">{note}</p>'
    base = [b for b in blocks if b.base]
    own = [b for b in blocks if not b.base]
    parts = []
    ref = report.base.ref if report.base else _("the base image")
    if base:
        parts.append(
            '<div class="group base-group">' + "".join(_block(b, "stratum") for b in base) + "</div>"
        )
    if own:
        cls = "group apart" if base else "group"
        parts.append(f'<div class="{cls}">' + "".join(_block(b, "stratum") for b in own) + "</div>")
    legend = escape(
        _(
            "{layers}, oldest at the bottom; heights ∝ size (min {px}px, hatched = 0 bytes); "
            "one colour per Dockerfile line"
        ).format(layers=count_of(len(blocks), "layer", "layers"), px=MIN_PX)
        + (_("; grey, set apart below: inherited from {ref}").format(ref=ref) if base else "")
        + _(". Click a block to see its line.")
    )
    title = _("Final image")
    return (
        f'<h2>{escape(title)}</h2><div class="strata" id="strata-final">'
        + "".join(parts)
        + f'</div><p class="legend">{legend}</p>'
    )


def stages_section(report: Report) -> str:
    if len(report.stages) < 2 or report.image is None and not any(s.layer for s in report.steps):
        return ""
    columns = []
    for info, blocks in stage_columns(report):
        name = escape(info.name or _("stage {n}").format(n=info.index))
        where = _("in the final image") if info.in_final_image else _("not in the final image")
        size = sum(b.size for b in blocks)
        inner = "".join(_block(b, "stage-block stratum") for b in blocks)
        cls = "stage" if info.in_final_image else "stage outside"
        columns.append(
            f'<div class="{cls}" data-stage="{info.index}"><div class="strata">{inner}</div>'
            f"<p><b>{name}</b><br>FROM {escape(info.from_)}<br>{human_size(size)}, {where}</p></div>"
        )
    head = f'<section id="stages"><h2>{_("Stages")}</h2><div class="stages">'
    return head + "".join(columns) + "</div></section>"


# --------------------------------------------------------------------------- annotated Dockerfile


def _line_item(anchor: str, number: str, text: str, cls: str, step: Step | None, report: Report) -> str:
    size, bar, mark, bar_cls = "", "", "", "nobar"
    scale = report.image.size if report.image and report.image.size else 0
    surprises = {report.steps[e.step].line for e in report.explanations if e.surprise}
    if step is not None:
        g = gutter(report, step, scale, step.line in surprises and not step.trigger)
        size, mark = escape(g.size), ("!" if g.surprise else "")
        if g.fill is not None:
            width = max(g.fill * 100, 2.0) if g.fill > 0 else 0.0
            if step.instruction == "FROM" and not step.trigger:
                bar = f'<span class="base" style="width:{width:.1f}%"></span>'
            else:
                bar = f'<span class="hue" style="width:{width:.1f}%;--h:{hue_of(step.line)}"></span>'
            bar_cls = "bar"
        cls += " layer" if g.layer else ""
        cls += " failed" if g.failed else ""
        cls += "" if step.in_final_image else " outside"
    ident = f' id="{anchor}"' if anchor else ""
    return (
        f'<li{ident} class="{cls.strip()}"><span class="size">{size}</span>'
        f'<span class="{bar_cls}">{bar}</span>'
        f'<span class="mark">{mark}</span><span class="num">{number}</span>'
        f'<span class="text">{escape(text)}</span></li>'
    )


def dockerfile_section(report: Report) -> str:
    items: list[str] = []
    if report.dockerfile_text is not None:
        first: dict[int, Step] = {}
        triggers: dict[int, list[Step]] = {}
        for step in report.steps:
            if step.trigger:
                triggers.setdefault(step.line, []).append(step)
            else:
                first.setdefault(step.line, step)
        for number, text in enumerate(report.dockerfile_text.splitlines(), start=1):
            cls = "comment" if text.lstrip().startswith("#") else ""
            items.append(_line_item(f"L{number}", str(number), text, cls, first.get(number), report))
            items.extend(
                _line_item("", "↳", f"ONBUILD {t.text}", "trigger", t, report)
                for t in triggers.get(number, [])
            )
        heading = "Dockerfile"
    elif report.image is not None:
        items = [_history_item(report, index) for index in range(len(report.image.history))]
        heading = _("Image history (no Dockerfile given)")
    else:
        return ""
    return (
        f'<section id="dockerfile"><h2>{heading}</h2><ol class="dockerfile code">'
        + "".join(items)
        + "</ol></section>"
    )


def _history_item(report: Report, index: int) -> str:
    assert report.image is not None
    entry = report.image.history[index]
    made = entry.empty_layer is False
    size = human_size(entry.size) if made else ("·" if entry.empty_layer else "-")
    cls = "layer" if made else ""
    return (
        f'<li id="H{index}" class="{cls}"><span class="size">{size}</span><span class="nobar"></span>'
        f'<span class="mark"></span><span class="num">{index}</span>'
        f'<span class="text">{escape(" ".join(entry.created_by.split()))}</span></li>'
    )


# --------------------------------------------------------------------------- explain, layerdb


def _prediction_section(report: Report) -> str:
    body = "".join(
        f'<tr><td><a data-line="L{s.line}" href="#L{s.line}">{s.line}</a></td>'
        f"<td><code>{escape(s.text)}</code></td><td>{layer_word(s.creates_layer)}</td>"
        f"<td>{rich(s.reason or '')}</td></tr>"
        for s in report.steps
    )
    head = "<tr>" + "".join(f"<th>{n}</th>" for n in (_("Line"), _("Instruction"), _("Predicted"), _("Why")))
    head += "</tr>"
    title = _("Prediction")
    return f'<section id="explain"><h2>{title}</h2><table>{head}{body}</table></section>'


def explain_section(report: Report) -> str:
    if report.kind == "prediction":
        return _prediction_section(report)
    if not report.explanations:
        return ""
    rows: list[str] = []
    paragraphs: list[str] = []
    for e in report.explanations:
        step = report.steps[e.step]
        cls = ' class="surprise"' if e.surprise else ""
        if e.surprise:
            note = f'<span class="surprise-note">{rich(e.surprise)}</span>'
        else:
            note = f'<span class="plain-note">{rich(e.note)}</span>' if e.note else ""
        rows.append(
            f'<tr{cls}><td><a data-line="L{step.line}" href="#L{step.line}">{step.line}</a></td>'
            f"<td><code>{escape(step.text[:70])}</code></td><td>{layer_word(e.predicted)}</td>"
            f"<td>{escape(measured_word(step))}</td><td>{escape(_(VERDICTS.get(e.verdict, e.verdict)))}</td>"
            f"<td>{note}</td></tr>"
        )
        paragraphs.append(f'<p id="explain-{e.step}">{rich(e.text)}</p>')
    names = (_("Line"), _("Instruction"), _("Predicted"), _("Measured"), _("Verdict"), _("Note"))
    head = "<tr>" + "".join(f"<th>{n}</th>" for n in names) + "</tr>"
    return (
        f'<section id="explain" class="explain"><h2>{_("Prediction vs measurement")}</h2>'
        f"<table>{head}{''.join(rows)}</table><h2>{_('What each line did')}</h2>"
        f"{''.join(paragraphs)}</section>"
    )


def layerdb_section(report: Report) -> str:
    db = report.layerdb
    if db is None:
        return ""
    head = "".join(
        f"<th>{h}</th>" for h in ("#", "diff_id", _("chain ID (computed)"), _("Size"), "cache-id", "layerdb")
    )
    rows = "".join(
        "<tr>" + "".join(f'<td class="digest">{escape(c)}</td>' for c in row) + "</tr>"
        for row in layerdb_rows(db)
    )
    title = _("Layer database ({state})").format(state=db.state)
    return (
        f'<section id="layerdb"><h2>{escape(title)}</h2>'
        f"<table><tr>{head}</tr>{rows}</table>"
        f"<p>{rich(_(db.note))}</p></section>"
    )
