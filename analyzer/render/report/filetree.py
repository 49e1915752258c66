"""The HTML file browser (``--contents``): each layer's changes as a collapsible tree, and the image's
filesystem as a container sees it with the versions a later layer hid, each linked to the line that
made the layer.

The data is embedded once, compressed: JSON → zlib (deflate) → base64 in an inert ``<script>`` element,
expanded by ``assets/filetree.js`` with the browser's ``DecompressionStream`` when the reader opens the
browser, so a 24,000-file image adds a few hundred kB to the page rather than megabytes of markup. The
bounds (:data:`~analyzer.contents.filetree.LAYER_CAP` changes per layer,
:data:`~analyzer.contents.filetree.FINAL_CAP` paths in the whole-image view) are stated on the page.
"""

from __future__ import annotations

import base64
import json
import zlib
from html import escape
from typing import Any

from analyzer.i18n import _, language
from analyzer.model import FileTree, Report
from analyzer.units import human_size, integer


def layer_lines(report: Report) -> dict[int, int]:
    """Final-image layer index → the line that made it."""
    return {s.layer.index: s.line for s in report.steps if s.in_final_image and s.layer is not None}


def tree_data(report: Report, tree: FileTree) -> dict[str, Any]:
    """What ``filetree.js`` reads: short keys and arrays, since the page carries it for every layer."""
    lines = layer_lines(report)
    layers = [
        {
            "i": lt.layer,
            "line": lines.get(lt.layer),
            "total": lt.total,
            "omitted": lt.total - len(lt.entries),
            "omitted_bytes": lt.omitted_bytes,
            "e": [[e.path, e.kind, e.change, e.size, e.link] for e in lt.entries],
        }
        for lt in tree.layers
    ]
    final = [
        [f.path, f.kind, int(f.visible), f.link, [[v.layer, v.size, v.hidden_by, v.how] for v in f.versions]]
        for f in tree.final
    ]
    return {
        "layers": layers,
        "lines": {str(k): v for k, v in lines.items()},
        "final": {"total": tree.final_total, "e": final},
        "caps": [tree.layer_cap, tree.final_cap],
        "base": _("base") if report.dockerfile_text is not None else "",
        "t": texts(),
    }


def texts() -> dict[str, Any]:
    """The browser's sentences and number style in the page's language; ``{name}`` placeholders are
    filled by ``filetree.js`` (the catalog checks keep them the same in every language)."""
    fr = language() == "fr"
    return {
        "units": ["o", "ko", "Mo", "Go"] if fr else ["B", "kB", "MB", "GB"],
        "decimal": "," if fr else ".",
        "whiteout": _("whiteout: hides {size} stored below"),
        "opaque": _("opaque directory: hides {size} stored below"),
        "layer": _("layer #{index}"),
        "layer_line": _("layer #{index} (line {line})"),
        "stored": _("{size} still stored in {layer}, {how} by {by}"),
        "from": _("from {layer}"),
        "gone": _("gone"),
        "how": {"deleted": _("deleted"), "overwritten": _("overwritten")},
        "whole": _("Whole image: {shown} of {total} paths shown."),
        "changes": _("{layer}: {shown} of {total} changes shown."),
        "changes_omitted": _(
            "{layer}: {shown} of {total} changes shown ({omitted} smaller ones, {size}, left out)."
        ),
        "failed": _("The file listing could not be expanded: {error}"),
    }


def pack(data: dict[str, Any]) -> str:
    """JSON, zlib-compressed (what ``DecompressionStream("deflate")`` reads), base64."""
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def browser_section(report: Report) -> str:
    """The section, or ``""`` without ``--contents``."""
    tree = report.file_tree
    if tree is None:
        return ""
    lines = layer_lines(report)
    whole = escape(_("Whole image"))
    tabs = [f'<button type="button" class="tree-tab" data-tree="final">{whole}</button>']
    for lt in tree.layers:
        line = lines.get(lt.layer)
        # Without a Dockerfile no layer has a line, and none is known to be the base's.
        origin = (
            _("line {line}").format(line=line) + " · "
            if line is not None
            else (_("base") + " · " if report.dockerfile_text else "")
        )
        size = human_size(sum(e.size for e in lt.entries if e.change != "deleted") + lt.omitted_bytes)
        tabs.append(
            f'<button type="button" class="tree-tab" data-tree="{lt.layer}">'
            f"#{lt.layer} · {escape(origin)}{size}</button>"
        )
    layer_cap, final_cap = tree.layer_cap, tree.final_cap
    legend = _(
        "Each layer is a tar of changes to the layers below it. <b>+</b> added, <b>~</b> modified (the "
        "layer stores a whole new copy), <b>−</b> deleted: the layer holds only a <i>whiteout</i>, an empty "
        "marker file named <code>.wh.NAME</code> that hides <code>NAME</code> from the layers below (an "
        "opaque marker <code>.wh..wh..opq</code> hides a whole directory); the bytes stay in the layer that "
        "stored them. The whole-image view is what a container sees, with the versions that later layers "
        "hid (struck through) still counted: the image ships them. Click a file to see the line that made "
        "its layer. Shown: at most {layer_cap} changes per layer (the largest) and {final_cap} paths "
        "in the whole-image view (hidden versions first)."
    ).format(layer_cap=integer(layer_cap), final_cap=integer(final_cap))
    title, choose = escape(_("Files of each layer")), escape(_("Choose a layer above."))
    return (
        f'<section id="browser"><h2>{title}</h2>'
        f'<p class="legend">{legend}</p><div class="tree-tabs">{"".join(tabs)}</div>'
        '<div id="tree-view" class="tree-view" aria-live="polite">'
        f'<p class="legend">{choose}</p></div>'
        f'<script type="application/octet-stream" id="filetree-data">{pack(tree_data(report, tree))}</script>'
        "</section>"
    )
