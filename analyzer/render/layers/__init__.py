"""One module per ``layermap layers`` format, each a pure ``render(view: LayersView) -> str``.

``layerdb`` holds the layer database table in text and Markdown, shared with the report's ``--layers``
section; ``json`` also gives that section's JSON (``layerdb_dict``)."""
