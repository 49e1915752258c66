"""``layermap layers`` as Markdown: a heading naming the image, then the layer database table."""

from __future__ import annotations

from analyzer.model import LayersView
from analyzer.render.layers.layerdb import image_title, layerdb_markdown


def render(view: LayersView) -> str:
    return f"### layermap layers: `{image_title(view.image)}`\n\n{layerdb_markdown(view.layerdb)}\n"
