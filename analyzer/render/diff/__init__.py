"""One module per ``layermap diff`` format, each a pure ``render(result) -> str`` of a
:class:`~analyzer.review.diff.DiffResult`, found through the registry in ``analyzer/render/__init__.py``."""
