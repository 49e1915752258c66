"""One module per report format, each a pure ``render(report, options=PLAIN) -> str`` found through the
registry in ``analyzer/render/__init__.py``. Helpers, not formats: ``strata`` (the HTML strata chart's
layout) and ``teaching`` (the prediction and explain sections, and ``text_report``, how the table and
Markdown formats put a whole report together)."""
