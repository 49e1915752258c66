"""The layer database table (diff_id, computed chain ID, size, cache-id, what the folder said) as text
and Markdown: the body of ``layermap layers`` and the ``--layers`` section of the text reports."""

from __future__ import annotations

import textwrap

from tabulate import tabulate

from analyzer.i18n import N_, _
from analyzer.model import Image, LayerDb
from analyzer.units import human_size

WRAP = 100
HEADERS = ["#", "diff_id", N_("chain ID (computed)"), N_("Size"), "cache-id", "layerdb"]


def headers() -> list[str]:
    return [_(h) for h in HEADERS]


def image_title(image: Image) -> str:
    """The image's short id and its tags, as the view's title names it."""
    return f"{image.id[:19]}" + (f" ({', '.join(image.tags)})" if image.tags else "")


def layerdb_rows(db: LayerDb) -> list[list[str]]:
    rows = []
    for entry in db.entries:
        if entry.folder is None:
            found = "-" if not entry.problems else _("missing")
        else:
            found = _("ok") if not entry.problems else "; ".join(entry.problems)
        rows.append(
            [
                str(entry.index),
                entry.diff_id,
                entry.chain_id,
                human_size(entry.size),
                (entry.cache_id or "")[:12],
                found,
            ]
        )
    return rows


def layerdb_text(db: LayerDb) -> str:
    body = tabulate(layerdb_rows(db), headers=headers(), tablefmt="simple", disable_numparse=True)
    title = _("Layer database ({state})").format(state=db.state)
    return f"{title}\n{body}\n\n" + textwrap.fill(_(db.note), WRAP)


def layerdb_markdown(db: LayerDb) -> str:
    body = tabulate(layerdb_rows(db), headers=headers(), tablefmt="github", disable_numparse=True)
    title = _("Layer database ({state})").format(state=db.state)
    return f"#### {title}\n\n{body}\n\n{_(db.note)}"
