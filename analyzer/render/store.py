"""``layermap store`` formats: an indented tree (table), JSON (``kind: "store"``) and a self-contained
HTML page a teacher can project (the tree drawn; click a node to light up the images sharing it)."""

from __future__ import annotations

import html
import json
from typing import Any

from analyzer import __version__
from analyzer.image.layerstore import StoreCheck
from analyzer.render.common import human_size
from analyzer.teaching.store import EXPLAIN, Node, StoreTree


def _names(tree: StoreTree) -> dict[str, str]:
    return {im.id: (im.tags[0] if im.tags else im.id.split(":", 1)[-1][:12]) for im in tree.images}


def to_dict(tree: StoreTree, check: StoreCheck, engine: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "kind": "store",
        "tool": {"name": "layermap", "version": __version__},
        "engine": engine,
        "nodes": [
            {
                "chain_id": n.chain_id,
                "diff_id": n.diff_id,
                "parent": n.parent,
                "depth": n.depth,
                "size": n.size,
                "images": list(n.images),
                "tops": list(n.tops),
            }
            for n in tree.nodes.values()
        ],
        "images": [
            {
                "id": i.id,
                "tags": list(i.tags),
                "size": i.size,
                "alone": i.alone,
                "shared": i.shared,
                "top": i.top,
            }
            for i in tree.images
        ],
        "totals": {"store": tree.store_total, "images": tree.images_total, "saved": tree.saved},
        "layerdb": {
            "state": check.state,
            "note": check.note,
            "problems": list(check.problems),
            "unreferenced": [{"chain_id": u.chain_id, "size": u.size} for u in check.unreferenced],
        },
    }


def render_json(tree: StoreTree, check: StoreCheck, engine: dict[str, Any]) -> str:
    return json.dumps(to_dict(tree, check, engine), indent=2) + "\n"


def render_table(tree: StoreTree, check: StoreCheck, engine: dict[str, Any]) -> str:
    names = _names(tree)
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


def render_html(tree: StoreTree, check: StoreCheck, engine: dict[str, Any]) -> str:
    names = _names(tree)
    roots = "".join(_node_html(tree, tree.nodes[r], names) for r in tree.roots)
    rows = "".join(
        f'<tr class="img" data-id="{html.escape(i.id)}"><td>{html.escape(names[i.id])}</td>'
        f"<td>{human_size(i.size)}</td><td>{human_size(i.alone)}</td><td>{human_size(i.shared)}</td></tr>"
        for i in tree.images
    )
    totals = (
        f"<p>Sum of image sizes (docker images): <b>{human_size(tree.images_total)}</b>; the store holds "
        f"<b>{human_size(tree.store_total)}</b>; sharing saves <b>{human_size(tree.saved)}</b>.</p>"
    )
    where = html.escape(f"{engine.get('address')} ({engine.get('storage')})")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>layermap store</title><style>{_CSS}</style>"
        f"</head><body><h1>The layer store of {where}</h1><p>{html.escape(EXPLAIN)}</p>{totals}"
        f'<div class="wrap"><ul class="tree">{roots}</ul><div class="images"><table><tr><th>image</th>'
        f"<th>size</th><th>alone</th><th>shared</th></tr>{rows}</table></div></div>"
        f"<p><small>layer database: {html.escape(check.state)} — {html.escape(check.note)}</small></p>"
        f"<script>{_JS}</script></body></html>\n"
    )


FORMATS = {"table": render_table, "json": render_json, "html": render_html}
