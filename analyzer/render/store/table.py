"""``layermap store`` as an indented tree of chain IDs, then each image's bytes alone and shared."""

from __future__ import annotations

from analyzer.render.store.common import image_names
from analyzer.teaching.store import EXPLAIN, StoreView
from analyzer.units import human_size


def render(view: StoreView) -> str:
    tree, check, engine = view.tree, view.check, view.engine
    names = image_names(tree)
    lines = [
        f"Layer store of {engine.get('address')} ({engine.get('storage')}): {len(tree.nodes)} layers, "
        f"{len(tree.images)} images",
        "",
    ]
    for node in tree.nodes.values():
        indent = "  " * node.depth
        shared = f"shared by {len(node.images)}" if len(node.images) > 1 else "1 image"
        lines.append(f"{indent}{node.chain_id[7:19]}  {human_size(node.size):>9}  ({shared})")
        lines.extend(f"{indent}  └─ {names[i]}" for i in node.tops)
    lines += ["", f"{'image':40} {'size':>10} {'alone':>10} {'shared':>10}"]
    for im in tree.images:
        lines.append(
            f"{names[im.id][:40]:40} {human_size(im.size):>10} {human_size(im.alone):>10} "
            f"{human_size(im.shared):>10}"
        )
    lines += [
        "",
        f"sum of image sizes (docker images): {human_size(tree.images_total)} ({tree.images_total} B)",
        f"the store holds (each layer once):  {human_size(tree.store_total)} ({tree.store_total} B)",
        f"saved by sharing:                   {human_size(tree.saved)} ({tree.saved} B)",
        f"layer database: {check.state}: {check.note}",
    ]
    lines += [f"  {p}" for p in check.problems[:20]]
    lines += ["", EXPLAIN]
    return "\n".join(lines) + "\n"
