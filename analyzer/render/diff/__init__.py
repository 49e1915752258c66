"""One module per ``layermap diff`` format, each a pure function of a
:class:`~analyzer.review.diff.DiffResult`."""
