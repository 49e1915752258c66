"""``layermap store`` formats: an indented tree (table), JSON (``kind: "store"``) and a self-contained
HTML page a teacher can project (the tree drawn; click a node to light up the images sharing it). Each is
``render(view)`` of a :class:`~analyzer.teaching.store.StoreView`."""
