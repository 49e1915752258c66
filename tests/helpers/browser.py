"""Debian's chromium driven by Playwright, for the browser tests of the HTML report and the lesson page.

Playwright is pointed at /usr/bin/chromium (scripts/test.sh installs it); its own browser download is
never used. Screenshots go to ``$LAYERMAP_ARTIFACTS`` (default /tmp/layermap-artifacts).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helpers.engines import no_engine

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def artifacts(folder: str = "") -> Path:
    """The screenshot folder (``folder`` below the artifacts root), created."""
    path = Path(os.environ.get("LAYERMAP_ARTIFACTS") or "/tmp/layermap-artifacts") / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless chromium; the test is skipped (or fails where engines are required) without it."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_engine("playwright is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        no_engine(f"{CHROMIUM} is missing (apt-get install chromium; scripts/test.sh does it)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def in_viewport(page: Any, selector: str) -> bool:
    """True when the element is at least partly inside the visible window."""
    return bool(
        page.eval_on_selector(
            selector,
            "el => { const r = el.getBoundingClientRect();"
            " return r.bottom > 0 && r.top < window.innerHeight && r.height > 0; }",
        )
    )
