"""``layermap store`` as an indented tree of chain IDs, then each image's bytes alone and shared."""

from __future__ import annotations

from analyzer.i18n import _
from analyzer.render.store.common import image_names
from analyzer.teaching.store import EXPLAIN, StoreView
from analyzer.units import byte_unit, human_size


def render(view: StoreView) -> str:
    tree, check, engine = view.tree, view.check, view.engine
    names = image_names(tree)
    title = _("Layer store of {address} ({storage}): {layers} layers, {images} images").format(
        address=engine.get("address"),
        storage=engine.get("storage"),
        layers=len(tree.nodes),
        images=len(tree.images),
    )
    lines = [title, ""]
    for node in tree.nodes.values():
        indent = "  " * node.depth
        shared = _("shared by {n}").format(n=len(node.images)) if len(node.images) > 1 else _("1 image")
        lines.append(f"{indent}{node.chain_id[7:19]}  {human_size(node.size):>9}  ({shared})")
        lines.extend(f"{indent}  └─ {names[i]}" for i in node.tops)
    image, size, alone, shared_word = _("image"), _("size"), _("alone"), _("shared")
    lines += ["", f"{image:40} {size:>10} {alone:>10} {shared_word:>10}"]
    for im in tree.images:
        lines.append(
            f"{names[im.id][:40]:40} {human_size(im.size):>10} {human_size(im.alone):>10} "
            f"{human_size(im.shared):>10}"
        )
    figures = [
        (_("sum of image sizes (docker images):"), tree.images_total),
        (_("the store holds (each layer once):"), tree.store_total),
        (_("saved by sharing:"), tree.saved),
    ]
    width = max(len(label) for label, _value in figures)
    lines.append("")
    lines += [f"{label:{width}} {human_size(value)} ({value} {byte_unit()})" for label, value in figures]
    lines.append(_("layer database: {state}: {note}").format(state=check.state, note=_(check.note)))
    lines += [f"  {p}" for p in check.problems[:20]]
    lines += ["", _(EXPLAIN)]
    return "\n".join(lines) + "\n"
