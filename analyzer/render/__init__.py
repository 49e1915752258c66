"""Renderers: each is a pure ``render(report) -> str``."""

from __future__ import annotations

from collections.abc import Callable

from analyzer.model import Report
from analyzer.render import annotated, github, html, markdown, sarif, table
from analyzer.render import json as json_render

RENDERERS: dict[str, Callable[[Report], str]] = {
    "table": table.render,
    "json": json_render.render,
    "markdown": markdown.render,
    "annotated": annotated.render,
    "html": html.render,
    "sarif": sarif.render,
    "github": github.render,
}
