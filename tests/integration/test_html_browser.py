"""The HTML report of every sample in a real headless browser (Debian's chromium, driven by Playwright).

Why Playwright over the DevTools protocol by hand or selenium + chromedriver: it reports console
messages, uncaught page errors and every network request as events, checks visibility and scrolls
like a user, and its Python package carries its own driver, so the only system package needed is
``chromium`` (scripts/test.sh installs it). It is pointed at /usr/bin/chromium: Playwright's own
browser download is never used (nothing but package registries is reachable).

Per sample: build it with ``layermap build --format html``, open the file, and check that the page
loads without a console error or a request leaving the file, that the strata chart has one block per
layer of the image (as ``docker inspect`` counts them), and that clicking each block highlights its
Dockerfile line and scrolls it into the viewport. A screenshot of each page goes to
``$LAYERMAP_ARTIFACTS`` (default /tmp/layermap-artifacts) for a human look.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from helpers.browser import artifacts, chromium, in_viewport

from analyzer.cli import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(p.relative_to(ROOT) for p in (ROOT / "sample_dockerfiles").glob("*/Dockerfile*"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.mark.parametrize("dockerfile", SAMPLES, ids=[f"{p.parent.name}-{p.name}" for p in SAMPLES])
def test_html_report_in_a_browser(
    dockerfile: Path,
    browser: Any,
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    report = tmp_path / "report.html"
    argv = ["build", str(dockerfile), "--network", "host", "--format", "html", "-o", str(report), "-q"]
    assert main(argv) == 0
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(r.url))
    try:
        page.goto(report.as_uri(), wait_until="load")
        image_id = page.locator("header .digest").inner_text()  # an untagged build: its id is on the page
        layers = docker_client.inspect_image(image_id)["RootFS"]["Layers"]
        blocks = page.locator("#strata-final a.stratum")
        assert blocks.count() == len(layers)
        for index in range(blocks.count()):
            block = blocks.nth(index)
            assert block.get_attribute("data-layer") == str(index)
            line = block.get_attribute("data-line")
            block.click()
            assert "highlight" in (page.get_attribute(f"#{line}", "class") or "")
            assert in_viewport(page, f"#{line}"), f"block {index}: line {line} not scrolled into view"
            assert page.locator("ol.dockerfile li.highlight").count() == 1
        page.screenshot(
            path=str(artifacts() / f"html-{dockerfile.parent.name}-{dockerfile.name}.png"), full_page=True
        )
        assert problems == []
    finally:
        page.close()
