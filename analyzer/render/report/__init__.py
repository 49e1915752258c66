"""One module per report format, each a pure ``render(report) -> str`` (``strata`` and ``teaching`` are
the HTML strata chart and the teaching sections the human formats share)."""
