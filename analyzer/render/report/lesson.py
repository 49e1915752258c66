"""``--format lesson``: one image taken apart in the order of the course "Les images Docker — analyse
d'une récupération" — what the pull fetched, ``docker image history`` with the empty-layer truth, the
``inspect`` config, the layer store and its chain IDs, the ``docker save`` archive, the files of each
layer, and the Dockerfile line → layer map.

Each section gives the command a student types and the part of its output it explains, filled with this
image's real ids and sizes (only what the report knows: what it does not know is said, never invented).
A separate format rather than more sections of ``--format html``: the review page is for reading
findings fast, the lesson is long, ordered for a class and starts from the pull. Both share the shell,
the chart, the annotated Dockerfile, the findings and the file browser (``html.py``, ``sections.py``,
``filetree.py``); the store and archive sections are in ``lesson_store.py``.
"""

from __future__ import annotations

from html import escape

from analyzer.i18n import N_, _
from analyzer.model import Image, Layer, Report
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.common import layer_indexes
from analyzer.render.report import html
from analyzer.render.report.filetree import browser_section
from analyzer.render.report.lesson_store import archive_section, store_section
from analyzer.render.report.sections import findings_section, largest_files_section, rich, waste_section
from analyzer.teaching.explain import short_digest
from analyzer.units import count_of, human_size

NOT_KNOWN = N_("not known for this source")


def image_ref(report: Report) -> str:
    """What a student would type to name the image: its first tag, else the short id."""
    if report.image is None:
        return "IMAGE"
    return report.image.tags[0] if report.image.tags else short_digest(report.image.id).split(":")[-1]


def section(anchor: str, number: int, title: str, command: str, body: str) -> str:
    """One step of the lesson: the heading, the command to type, the explanation."""
    cmd = "".join(f"$ {escape(c)}\n" for c in command.splitlines())
    return (
        f'<section id="lesson-{anchor}"><h2><span class="step-no">{number}.</span> {escape(title)}</h2>'
        f'<pre class="cmd">{cmd.rstrip()}</pre>{body}</section>'
    )


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    """The lesson page (without an image: the prediction or failure, as the HTML page shows it)."""
    if report.image is None:
        return html.render(report)
    image = report.image
    ref = image_ref(report)
    sections = [
        _intro(report),
        _pull_section(report, image),
        _history_section(report, image, ref),
        _inspect_section(image, ref),
        store_section(report, image, 4),
        archive_section(report, image, ref, 5),
        _files_section(report, ref),
        _map_section(report),
        findings_section(report),
        waste_section(report),
    ]
    return html.page(report, _("layermap lesson"), sections, css_class="report lesson")


def _intro(report: Report) -> str:
    title = _("The strata of an image")
    text = _(
        "An image is a stack of "
        "read-only layers (the strata on the left, oldest at the bottom) plus a JSON configuration that "
        "lists them and records how each was made. The sections below follow the course: fetch the image, "
        "read its history, inspect its configuration, find its layers on disk, save it to a tar, look at "
        "the files of each layer, and map each Dockerfile line to the layer it made. Every id and size "
        "on this page was measured on this image."
    )
    return f'<section id="lesson-intro"><h2>{escape(title)}</h2><p>{escape(text)}</p></section>'


# --------------------------------------------------------------------------- 1. pull


def _blob_cells(layer: Layer) -> tuple[str, str]:
    """Compressed size and blob digest, when the source recorded them (optional model fields)."""
    compressed = getattr(layer, "compressed_size", None)
    digest = getattr(layer, "blob_digest", None)
    size = human_size(compressed) if isinstance(compressed, int) else _(NOT_KNOWN)
    blob = f'<span class="digest">{escape(digest)}</span>' if isinstance(digest, str) else _(NOT_KNOWN)
    return size, blob


def _pull_section(report: Report, image: Image) -> str:
    base_count = report.base.layer_count if report.base is not None else len(image.layers)
    ref = report.base.ref if report.base is not None else image_ref(report)
    rows = []
    for layer in image.layers[:base_count]:
        compressed, blob = _blob_cells(layer)
        rows.append(
            f"<tr><td>#{layer.index}</td><td>{blob}</td><td>{compressed}</td>"
            f'<td class="digest">{escape(layer.diff_id)}</td><td>{human_size(layer.size)}</td></tr>'
        )
    names = (
        _("Layer"),
        _("Blob digest (what was downloaded)"),
        _("Compressed"),
        _("diff_id (after unpacking)"),
        _("Unpacked size"),
    )
    head = "<tr>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    own = len(image.layers) - base_count
    own_layers = count_of(own, "layer", "layers")
    built = (
        "<p>"
        + _(
            "The other {layers} of this image were never pulled: the build made them here. "
            "<code>docker push</code> would upload them the same way, compressed."
        ).format(layers=own_layers)
        + "</p>"
        if report.base is not None and own > 0
        else ""
    )
    base_layers = count_of(base_count, "layer", "layers")
    text = _(
        "<code>docker pull</code> downloads the manifest, the configuration and each layer as a "
        "compressed tar (a <i>blob</i>), named by the digest of the compressed bytes. Each line "
        "<code>&lt;id&gt;: Pull complete</code> of its output is one blob; the id is the first 12 hex "
        "digits of the blob digest. Once unpacked, the engine knows a layer by its <i>diff_id</i>, the "
        "digest of the uncompressed tar: the two digests differ. {ref} has {layers}:"
    ).format(ref=escape(ref), layers=base_layers)
    body = f"<p>{text}</p><table>{head}{''.join(rows)}</table>{built}"
    return section("pull", 1, _("What the pull fetched"), f"docker pull {ref}", body)


# --------------------------------------------------------------------------- 2. history


def _history_section(report: Report, image: Image, ref: str) -> str:
    rows = []
    zero_layers = 0
    for entry, layer in zip(image.history, layer_indexes(image), strict=True):
        if entry.empty_layer is None:
            truth = "?"
        elif entry.empty_layer:
            truth = _("no layer (empty_layer)")
        else:
            truth = _("layer #{index}").format(index=layer)
            zero_layers += entry.size == 0
        cls = ' class="surprise"' if entry.empty_layer is False and entry.size == 0 else ""
        shown = (
            "&lt;missing&gt;" if not entry.image_id else escape(short_digest(entry.image_id).split(":")[-1])
        )
        rows.append(
            f"<tr{cls}><td>{entry.index}</td><td>{shown}</td>"
            f"<td><code>{escape(' '.join(entry.created_by.split())[:90])}</code></td>"
            f"<td>{_docker_size(entry.size)}</td><td>{truth}</td></tr>"
        )
    truth_head = escape(_("Layer? (config)"))
    head = f"<tr><th>#</th><th>IMAGE</th><th>CREATED BY</th><th>SIZE</th><th>{truth_head}</th></tr>"
    empty = sum(1 for e in image.history if e.empty_layer)
    zero_entries = count_of(zero_layers, "entry shows", "entries show")
    zero_note = (
        " "
        + _(
            "Here {entries} 0B and yet made a layer (highlighted): a layer of 0 bytes is still a layer."
        ).format(entries=zero_entries)
        if zero_layers
        else ""
    )
    text = _(
        "One entry per instruction that ran, newest first on screen (oldest first here). "
        "<code>SIZE</code> is the bytes the layer adds, but it reads <code>0B</code> both for an entry "
        "that made no layer and for a layer of 0 bytes: only the configuration's <code>empty_layer</code> "
        "tells them apart. This image: {entries}, {empty} without a layer, {layers}.{zero_note} "
        "<code>&lt;missing&gt;</code> in the IMAGE column means the engine has no local image for that "
        "step (a pulled base, or a BuildKit build)."
    ).format(
        entries=count_of(len(image.history), "entry", "entries"),
        empty=empty,
        layers=count_of(len(image.layers), "layer", "layers"),
        zero_note=zero_note,
    )
    body = f"<p>{text}</p><table>{head}{''.join(rows)}</table>"
    return section("history", 2, "docker image history", f"docker image history --no-trunc {ref}", body)


def _docker_size(size: int) -> str:
    """The SIZE column as the docker CLI prints it (``0B``, ``8.39MB``)."""
    return human_size(size).replace(" ", "")


# --------------------------------------------------------------------------- 3. inspect


def _inspect_section(image: Image, ref: str) -> str:
    diff_ids = "".join(f"  {escape(layer.diff_id)}\n" for layer in image.layers)
    made = sum(1 for e in image.history if e.empty_layer is False)
    intro = _(
        "<code>RootFS.Layers</code> lists the diff_ids, bottom layer first: the image <i>is</i> this "
        "list plus its configuration. The image id {id} is the "
        "digest of the configuration JSON, which also holds <code>history</code>: one entry per step, "
        'with <code>"empty_layer": true</code> on those that made no layer.'
    ).format(id=f'<span class="digest">{escape(image.id)}</span>')
    rule = _(
        "The rule to check: history entries without <code>empty_layer</code> = "
        "{made}, layers in <code>RootFS.Layers</code> = {layers}. "
        "The i-th such entry made the i-th layer."
    ).format(made=made, layers=len(image.layers))
    body = f'<p>{intro}</p><pre class="out">[\n{diff_ids}]</pre><p>{rule}</p>'
    command = f"docker image inspect --format '{{{{json .RootFS.Layers}}}}' {ref}"
    return section("inspect", 3, _("docker image inspect: the configuration"), command, body)


# --------------------------------------------------------------------------- 6, 7


def _files_section(report: Report, ref: str) -> str:
    browser = browser_section(report)
    if not browser:
        body = (
            "<p>"
            + _(
                "This page was made without <code>--contents</code>, so it holds no file listing. "
                "Make it again with <code>layermap build … --contents --format lesson</code> to browse every "
                "layer's files here, or list one layer's tar from the saved archive (section 5)."
            )
            + "</p>"
        )
    else:
        # The browser without its own section heading: the lesson's heading names it.
        body = browser.removeprefix('<section id="browser">').removesuffix("</section>")
        body = body.split("</h2>", 1)[1] if body.startswith("<h2>") else body
        body += largest_files_section(report)
    command = f"dive {ref}"
    return section("files", 6, _("The files of each layer"), command, body)


def _map_section(report: Report) -> str:
    paragraphs = "".join(f"<li>{rich(e.text)}</li>" for e in report.explanations)
    explained = f"<h3>{escape(_('What each line did'))}</h3><ul>{paragraphs}</ul>" if paragraphs else ""
    listing = (
        html.dockerfile_section(report).removeprefix('<section id="dockerfile">').removesuffix("</section>")
    )
    if report.dockerfile_text is None:
        text = _(
            "Without the Dockerfile, the history is the only record of the steps: each entry that made "
            "a layer is linked from its block in the strata."
        )
        body = f"<p>{escape(text)}</p>{listing}"
        return section("map", 7, _("History entry → layer"), f"layermap image {image_ref(report)}", body)
    text = _(
        "Each instruction of the Dockerfile adds one history entry (except FROM); only those that "
        "change the filesystem add a layer. The gutter shows the layer each line made and its size; "
        "click a block of the strata to find its line."
    )
    body = f"<p>{escape(text)}</p>{listing}{_stages(report)}{explained}"
    path = report.dockerfile_path or "Dockerfile"
    return section(
        "map", 7, _("Dockerfile line → layer"), f"layermap build {path} --contents --format lesson", body
    )


def _stages(report: Report) -> str:
    """Multi-stage builds: each stage's own column (the same view as ``--format html``)."""
    view = html.stages_section(report)
    heading = escape(_("Stages"))
    return view.replace(f'<section id="stages"><h2>{heading}</h2>', f"<h3>{heading}</h3>").removesuffix(
        "</section>"
    )
