"""``layermap layers`` as text: the image, its layer count, then the layer database table."""

from __future__ import annotations

from analyzer.model import LayersView
from analyzer.render.layers.layerdb import image_title, layerdb_text


def render(view: LayersView) -> str:
    layers = len(view.image.layers)
    count = f"{layers} layer" + ("" if layers == 1 else "s")
    return f"Image {image_title(view.image)}: {count}\n\n{layerdb_text(view.layerdb)}\n"
