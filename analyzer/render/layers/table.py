"""``layermap layers`` as text: the image, its layer count, then the layer database table."""

from __future__ import annotations

from analyzer.i18n import _
from analyzer.model import LayersView
from analyzer.render.layers.layerdb import image_title, layerdb_text
from analyzer.units import count_of


def render(view: LayersView) -> str:
    count = count_of(len(view.image.layers), "layer", "layers")
    head = _("Image {image}: {layers}").format(image=image_title(view.image), layers=count)
    return f"{head}\n\n{layerdb_text(view.layerdb)}\n"
