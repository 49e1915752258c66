"""The lesson's disk sections: the engine's layer store with its chain IDs, and what a ``docker save``
of this image contains — both derived from the report's ids, never read from a save.

Measured facts they rest on (shared/notes/engine-facts.md): the overlay2 store names each
``layerdb/sha256/`` folder by chain ID; the containerd store has no layerdb; Docker before 25 saves the
legacy layout (``<v1 id>/layer.tar`` folders, ``<image id>.json``), Docker 25 and later an OCI layout
(``blobs/sha256/``, ``index.json``) that keeps the legacy ``manifest.json``; a layer repeated in an image
is stored once.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape

from analyzer.i18n import _
from analyzer.image.layerstore import CONTAINERD, CONTAINERD_NOTE
from analyzer.model import Image, Report
from analyzer.units import count_of, human_size

OCI_SAVE_SINCE = 25
"""First Docker major version whose ``docker save`` writes an OCI layout."""


def _section(anchor: str, number: int, title: str, command: str, body: str) -> str:
    from analyzer.render.report.lesson import section  # here: lesson imports this module

    return section(anchor, number, title, command, body)


def _hex(digest: str) -> str:
    return digest.partition(":")[2] or digest


# --------------------------------------------------------------------------- 4. layer store


def store_section(report: Report, image: Image, number: int) -> str:
    """Where the engine keeps the layers, and the chain IDs that name them."""
    engine = report.engine
    root = (engine.data_root if engine else None) or "/var/lib/docker"
    driver = engine.storage if engine and engine.storage != CONTAINERD else "overlay2"
    folder = f"{root}/image/{driver}/layerdb/sha256"
    db = {e.index: e for e in report.layerdb.entries} if report.layerdb is not None else {}
    rows = []
    for layer in image.layers:
        how = _("= its diff_id") if layer.index == 0 else f'sha256(chain #{layer.index - 1} + " " + diff_id)'
        entry = db.get(layer.index)
        cache = (entry.cache_id or "")[:12] if entry else ""
        rows.append(
            f'<tr><td>#{layer.index}</td><td class="digest">{escape(layer.diff_id)}</td>'
            f'<td class="digest">{escape(layer.chain_id)}</td><td>{escape(how)}</td>'
            f'<td class="digest">{escape(cache) or "-"}</td></tr>'
        )
    names = (_("Layer"), "diff_id", _("chain ID"), _("computed as"), "cache-id")
    head = "<tr>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    listing = "".join(f"{_hex(c)}\n" for c in sorted({la.chain_id for la in image.layers}))
    state = (
        " " + escape(_("The folders were read and checked: {state}.").format(state=report.layerdb.state))
        if report.layerdb
        else ""
    )
    if engine is not None and engine.storage == CONTAINERD:
        intro = f"<p>{escape(_(CONTAINERD_NOTE))}</p>"
    else:
        text = _(
            "The engine names each folder of its layer database by <i>chain ID</i>, not by diff_id: "
            "the same layer on top of different parents is a different filesystem. Each folder holds "
            "<code>diff</code> (the diff_id), <code>parent</code> (the chain ID below), <code>size</code> "
            "and <code>cache-id</code>, the folder under <code>{folder}</code> "
            "with the unpacked files.{state} Among the names <code>ls</code> prints (other images' "
            "layers too) are this image's:"
        ).format(folder=f"{escape(root)}/{escape(driver)}/", state=state)
        intro = f'<p>{text}</p><pre class="out">{escape(listing)}</pre>'
    body = f"{intro}<table>{head}{''.join(rows)}</table>"
    top = _hex(image.layers[-1].chain_id) if image.layers else "CHAIN_ID"
    command = f"sudo ls {folder}/\nsudo cat {folder}/{top}/diff"
    return _section("store", number, _("The layer store and its chain IDs"), command, body)


# --------------------------------------------------------------------------- 5. docker save


def _major(report: Report) -> int | None:
    if report.engine is None:
        return None
    head = report.engine.version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def archive_section(report: Report, image: Image, ref: str, number: int) -> str:
    """What ``docker save`` of this image writes, file by file."""
    major = _major(report)
    repeated = [d for d, n in Counter(image.diff_ids).items() if n > 1]
    twice = count_of(len(repeated), "layer appears", "layers appear")
    once = _(
        "{layers} twice in this image: the archive stores it once and links the second place to the first."
    )
    dup = " " + escape(once.format(layers=twice)) if repeated else ""
    if major is not None and major < OCI_SAVE_SINCE:
        files, manifest, intro = _legacy(report, image)
    else:
        files, manifest, intro = _oci(report, image, major)
    body = (
        f"<p>{intro}{dup}</p>"
        f'<pre class="out">{escape(files)}</pre>'
        + "<p>"
        + _(
            "<code>manifest.json</code> ties them together: the configuration, the tags, and the layer "
            "files bottom first (the order of <code>RootFS.Layers</code>):"
        )
        + "</p>"
        + f'<pre class="out">{escape(manifest)}</pre>'
    )
    command = f"docker save {ref} -o image.tar\ntar -tvf image.tar\ntar -xOf image.tar manifest.json"
    return _section("save", number, _("docker save: the archive"), command, body)


def _legacy(report: Report, image: Image) -> tuple[str, str, str]:
    config = f"{_hex(image.id)}.json"
    lines = [f"{config}   " + _("the configuration (its sha256 is the image id)"), "manifest.json"]
    if image.tags:
        lines.append("repositories")
    for layer in image.layers:
        lines.append(
            f"<v1 id {layer.index}>/layer.tar   "
            + _("layer #{index}: the uncompressed tar, sha256 = {digest}…, {size} of files").format(
                index=layer.index, digest=layer.diff_id[:19], size=human_size(layer.size)
            )
        )
        lines.append(f"<v1 id {layer.index}>/json, VERSION   " + _("legacy metadata"))
    layers = [f"<v1 id {la.index}>/layer.tar" for la in image.layers]
    manifest = json.dumps([{"Config": config, "RepoTags": list(image.tags), "Layers": layers}], indent=1)
    version = report.engine.version if report.engine else "?"
    intro = _(
        "Docker {version} writes the legacy layout: the configuration as <code>{config}</code>, "
        "and one folder per layer holding its uncompressed tar. The folder names are legacy v1 ids the "
        "engine computes while saving; they are not in the configuration, so they are shown as "
        "&lt;v1 id N&gt;."
    ).format(version=escape(version), config=config)
    return "\n".join(lines), manifest, intro


def _oci(report: Report, image: Image, major: int | None) -> tuple[str, str, str]:
    containerd = report.engine is not None and report.engine.storage == CONTAINERD
    names = []
    for layer in image.layers:
        blob = getattr(layer, "blob_digest", None)
        if containerd:
            name = (
                f"blobs/sha256/{_hex(blob)}"
                if isinstance(blob, str)
                else "blobs/sha256/<" + _("blob of layer {index}").format(index=layer.index) + ">"
            )
        else:
            name = f"blobs/sha256/{_hex(layer.diff_id)}"
        names.append(name)
    config = "blobs/sha256/<config digest>" if containerd else f"blobs/sha256/{_hex(image.id)}"
    lines = [
        "oci-layout",
        "index.json   " + _("entry point: the manifest's digest"),
        "manifest.json   " + _("legacy index"),
    ]
    lines.append(f"{config}   " + _("the configuration"))
    lines.append("blobs/sha256/<manifest digest>   " + _("the manifest: config and layer digests"))
    kind = _("compressed (gzip) blob") if containerd else _("uncompressed tar, named by its diff_id")
    lines.extend(
        f"{name}   " + _("layer #{index}: {kind}").format(index=i, kind=kind) for i, name in enumerate(names)
    )
    manifest = json.dumps([{"Config": config, "RepoTags": list(image.tags), "Layers": names}], indent=1)
    who = f"Docker {escape(report.engine.version)}" if report.engine else _("Docker 25 and later")
    intro = _(
        "{who} writes an OCI image layout: every file is a blob under <code>blobs/sha256/</code>, named "
        "by the digest of its bytes."
    ).format(who=who)
    intro += " " + (
        _(
            "On the containerd image store the layers stay compressed, so their names are the blob "
            "digests (shown only when this report knows them)."
        )
        if containerd
        else _("On the overlay2 store the layers are the uncompressed tars, so each name is the diff_id.")
    )
    if major is None:
        intro += " " + _("Docker 24 and earlier write the legacy layout instead (folders with layer.tar).")
    return "\n".join(lines), manifest, intro
