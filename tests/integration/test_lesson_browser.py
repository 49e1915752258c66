"""``--format lesson`` (with ``--contents``) of every sample in a real headless browser: Debian's
chromium driven by Playwright, as in test_html_browser.py (why Playwright: it reports console messages,
page errors and every request as events, and needs no browser download).

Per sample, built for real, in English and in French (``--lang fr``): the page loads with no console
error and no request leaving the file; every block of the strata highlights its line; the file browser
expands its compressed listing and a file of a line's layer highlights that line; a finding highlights
the line it blames. Screenshots of each page (``-fr`` for the French ones, and of one page in the dark
scheme) go to ``$LAYERMAP_ARTIFACTS/lesson`` (default /tmp/layermap-artifacts/lesson). The basics
sample's claim about ``WORKDIR /tmp`` is checked on both engines' seeded busybox.
"""

from __future__ import annotations

import json
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


def highlighted(page: Any, line: str) -> bool:
    classes = (page.get_attribute(f"#{line}", "class") or "").split()
    return "highlight" in classes and page.locator("ol.dockerfile li.highlight").count() == 1


def open_page(browser: Any, path: Path, scheme: str = "light") -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems


def check_strata(page: Any, layers: int) -> None:
    blocks = page.locator("#strata-final a.stratum")
    assert blocks.count() == layers
    for index in range(layers):
        block = blocks.nth(index)
        line = block.get_attribute("data-line")
        block.click()
        assert highlighted(page, line), f"block {index}: line {line}"
        assert in_viewport(page, f"#{line}")


def check_tree(page: Any, lines: dict[str, int]) -> int:
    """Open each layer a line made; click its first file: that line lights up. Returns files clicked."""
    clicked = 0
    for layer, line in lines.items():
        page.click(f'.tree-tab[data-tree="{layer}"]')
        page.wait_for_selector("#tree-view ul.tree")
        page.evaluate("document.querySelectorAll('#tree-view details').forEach(d => { d.open = true; })")
        nodes = page.locator(f'#tree-view li.file[data-line="L{line}"]')
        if nodes.count() == 0:
            continue  # a layer of 0 changes (WORKDIR of an existing folder under BuildKit)
        nodes.first.click()
        assert highlighted(page, f"L{line}"), f"tree node of layer {layer}"
        clicked += 1
    page.click('.tree-tab[data-tree="final"]')
    page.wait_for_selector("#tree-view ul.tree")
    return clicked


@pytest.mark.parametrize("dockerfile", SAMPLES, ids=[f"{p.parent.name}-{p.name}" for p in SAMPLES])
def test_lesson_page_in_a_browser(
    dockerfile: Path,
    browser: Any,
    docker_client: docker.APIClient,
    seeded_images: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    data = tmp_path / "report.json"
    common = ["build", str(dockerfile), "--network", "host", "--contents", "-q"]
    assert main([*common, "--format", "json", "-o", str(data)]) in (0, 1)
    report = json.loads(data.read_text())
    layers = docker_client.inspect_image(report["image"]["id"])["RootFS"]["Layers"]
    for lang in ("en", "fr"):
        out = tmp_path / f"lesson-{lang}.html"
        # 1: a failed gate
        assert main([*common, "--lang", lang, "--format", "lesson", "-o", str(out)]) in (0, 1)
        check_lesson(browser, out, dockerfile, report, len(layers), lang)


def check_lesson(browser: Any, out: Path, dockerfile: Path, report: Any, layers: int, lang: str) -> None:
    page, problems = open_page(browser, out)
    try:
        assert page.get_attribute("html", "lang") == lang
        first = page.locator("#lesson-intro h2").inner_text()
        assert first == {"en": "The strata of an image", "fr": "Les strates d'une image"}[lang]
        check_strata(page, layers)
        made = {
            str(s["layer"]["index"]): s["line"]
            for s in report["steps"]
            if s.get("layer") and s["in_final_image"] and s["files"]["added"] + s["files"]["modified"]
        }
        assert check_tree(page, made) == len(made) > 0
        findings = page.locator("#findings li.finding[data-line]")
        with_line = [f for f in report["findings"] if f.get("line") is not None]
        assert findings.count() == len(with_line)
        if with_line:
            findings.first.click()
            assert highlighted(page, f"L{with_line[0]['line']}")
        suffix = "" if lang == "en" else f"-{lang}"
        name = f"lesson-{dockerfile.parent.name}-{dockerfile.name}{suffix}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky chart stays beside the page's top
        page.screenshot(path=str(artifacts("lesson") / name), full_page=True)
        assert problems == []
    finally:
        page.close()


def test_dark_scheme_page(
    browser: Any, seeded_images: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "lesson.html"
    dockerfile = "sample_dockerfiles/deleted-file/Dockerfile"
    assert main(["build", dockerfile, "--contents", "--format", "lesson", "-o", str(out), "-q"]) == 0
    page, problems = open_page(browser, out, scheme="dark")
    try:
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(20, 23, 28)"
        page.click('.tree-tab[data-tree="final"]')
        page.wait_for_selector("#tree-view li.gone")  # the deleted 8 MiB: gone, still stored
        assert page.locator("#tree-view li.gone").first.is_visible()  # its folder opens by itself
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts("lesson") / "lesson-deleted-file-dark.png"), full_page=True)
        assert problems == []
    finally:
        page.close()


def test_basics_workdir_tmp_comment_holds_on_both_seeds(
    engine: Any,
    seeded_images: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sample says: no layer where the base has /tmp, which both engines' seeded busybox has."""
    monkeypatch.chdir(ROOT)
    # The comment is about the classic builder (BuildKit always makes the WORKDIR layer).
    assert main(["build", "sample_dockerfiles/basics/Dockerfile", "--classic", "--format", "json", "-q"]) == 0
    steps = {s["line"]: s for s in json.loads(capsys.readouterr().out)["steps"]}
    assert steps[14]["text"] == "WORKDIR /tmp" and steps[14]["creates_layer"] is False
    assert steps[12]["text"] == "WORKDIR /app" and steps[12]["creates_layer"] is True
