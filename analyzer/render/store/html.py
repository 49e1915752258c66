"""``layermap store --format html``: one self-contained page, the tree drawn; clicking a node lights up
the images that share it."""

from __future__ import annotations

import html

from analyzer.i18n import _, language
from analyzer.render.store.common import image_names
from analyzer.teaching.store import EXPLAIN, Node, StoreTree, StoreView
from analyzer.units import human_size

_CSS = """
body{font:16px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
.wrap{display:flex;gap:2em;align-items:flex-start}
ul.tree,ul.tree ul{list-style:none;padding-left:1.6em;margin:0;border-left:2px solid #ccd}
ul.tree{border:none;padding:0}
.node{display:inline-block;margin:.2em 0;padding:.2em .6em;border:2px solid #88a;border-radius:6px;
cursor:pointer;background:#f4f4ff;font-family:ui-monospace,monospace}
.node.sel{background:#ffd54f;border-color:#c90}.node.path{background:#ffe9a8}
.leaf{display:inline-block;margin-left:.5em;padding:.1em .5em;border-radius:4px;background:#dfe;
font-size:.9em}
.images{min-width:20em}.img{padding:.3em .6em;margin:.2em 0;border-radius:6px;background:#eee;cursor:pointer}
.img.hl{background:#ffd54f;font-weight:bold}
table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:right}td:first-child{text-align:left}
"""

_JS = """
const imgs=[...document.querySelectorAll('.img')], nodes=[...document.querySelectorAll('.node')];
function clear(){nodes.forEach(n=>n.classList.remove('sel','path'));
 imgs.forEach(i=>i.classList.remove('hl'));}
nodes.forEach(n=>n.addEventListener('click',()=>{clear();n.classList.add('sel');
 const ids=n.dataset.images.split(' ');
 imgs.forEach(i=>{if(ids.includes(i.dataset.id))i.classList.add('hl')});}));
imgs.forEach(i=>i.addEventListener('click',()=>{clear();i.classList.add('hl');
 nodes.forEach(n=>{if(n.dataset.images.split(' ').includes(i.dataset.id))n.classList.add('path')});}));
"""


def _node_html(tree: StoreTree, node: Node, names: dict[str, str]) -> str:
    label = f"{node.chain_id[7:19]} · {human_size(node.size)} · ×{len(node.images)}"
    leaves = "".join(f'<span class="leaf">{html.escape(names[i])}</span>' for i in node.tops)
    kids = "".join(_node_html(tree, tree.nodes[c], names) for c in node.children)
    inner = f"<ul>{kids}</ul>" if kids else ""
    title = html.escape(f"chain ID {node.chain_id}\ndiff_id {node.diff_id}\n{node.size} bytes")
    data = html.escape(" ".join(node.images))
    return f'<li><span class="node" title="{title}" data-images="{data}">{label}</span>{leaves}{inner}</li>'


def render(view: StoreView) -> str:
    tree, check, engine = view.tree, view.check, view.engine
    names = image_names(tree)
    roots = "".join(_node_html(tree, tree.nodes[r], names) for r in tree.roots)
    rows = "".join(
        f'<tr class="img" data-id="{html.escape(i.id)}"><td>{html.escape(names[i.id])}</td>'
        f"<td>{human_size(i.size)}</td><td>{human_size(i.alone)}</td><td>{human_size(i.shared)}</td></tr>"
        for i in tree.images
    )
    totals = _(
        "Sum of image sizes (docker images): <b>{images}</b>; the store holds <b>{store}</b>; "
        "sharing saves <b>{saved}</b>."
    ).format(
        images=human_size(tree.images_total), store=human_size(tree.store_total), saved=human_size(tree.saved)
    )
    where = html.escape(f"{engine.get('address')} ({engine.get('storage')})")
    title = html.escape(_("The layer store of {where}")).format(where=where)
    head = "".join(f"<th>{html.escape(n)}</th>" for n in (_("image"), _("size"), _("alone"), _("shared")))
    database = _("layer database: {state} — {note}").format(state=check.state, note=_(check.note))
    return (
        f"<!doctype html><html lang='{language()}'><head><meta charset='utf-8'><title>layermap store</title>"
        f"<style>{_CSS}</style></head><body><h1>{title}</h1><p>{html.escape(_(EXPLAIN))}</p><p>{totals}</p>"
        f'<div class="wrap"><ul class="tree">{roots}</ul><div class="images"><table><tr>{head}</tr>'
        f"{rows}</table></div></div>"
        f"<p><small>{html.escape(database)}</small></p>"
        f"<script>{_JS}</script></body></html>\n"
    )
