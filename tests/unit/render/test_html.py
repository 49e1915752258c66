"""``--format html`` without a browser: one self-contained page per recorded sample build whose
strata chart has one block per layer, each linked to an element of the page (the browser test clicks
them: tests/integration/test_html_browser.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers.explain import explained
from helpers.golden import check_golden, load, names

from analyzer.cli import main
from analyzer.render.report import html
from analyzer.render.report.strata import MIN_PX, heights

ROOT = Path(__file__).resolve().parents[3]


class Page(HTMLParser):
    """Every start tag with its attributes, and which of them sit inside ``#strata-final``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.final: list[dict[str, str]] = []
        self._depth = 0  # >0 while inside #strata-final
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if self._depth or a.get("id") == "strata-final":
            if tag == "div":
                self._depth += 1
            if tag == "a":
                self.final.append(a)

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag == "div":
            self._depth -= 1

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if "id" in a}


@pytest.mark.parametrize("name", names())
def test_one_linked_block_per_layer(name: str) -> None:
    report = explained(name)
    assert report.image is not None
    page = Page(html.render(report))
    assert [int(b["data-layer"]) for b in page.final] == list(range(len(report.image.layers)))
    for block in page.final:
        assert block["href"] == "#" + block["data-line"] and block["data-line"] in page.ids
        assert int(re.search(r"height:(\d+)px", block["style"]).group(1)) >= MIN_PX  # type: ignore[union-attr]
    made = {s.layer.index: s.line for s in report.steps if s.in_final_image and s.layer is not None}
    root_from = next(s.line for s in report.steps if s.instruction == "FROM" and s.in_final_image)
    for block in page.final:
        assert block["data-line"] == f"L{made.get(int(block['data-layer']), root_from)}"


@pytest.mark.parametrize("name", names())
def test_self_contained(name: str) -> None:
    text = html.render(explained(name))
    page = Page(text)
    assert not [t for t, a in page.tags if t in ("link", "img", "iframe") or "src" in a]
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I)
    assert "@import" not in text and "url(" not in text
    assert "<style>" in text and "<script>" in text


def test_stages_view_only_for_multi_stage_builds() -> None:
    multi = Page(html.render(explained("multi-stage")))
    stages = [a for t, a in multi.tags if t == "div" and "data-stage" in a]
    assert [s["class"] for s in stages] == ["stage outside", "stage outside", "stage"]
    single = Page(html.render(explained("deleted-file")))
    assert "stages" not in single.ids


def test_explain_text_and_surprises_are_in_the_page() -> None:
    report = explained("deleted-file")
    text = html.render(report)
    for e in report.explanations:
        assert f'<p id="explain-{e.step}">' in text
    assert "RUN rm made a 0-byte layer: deleting does not shrink the image" in text
    assert text.count('<tr class="surprise">') == sum(1 for e in report.explanations if e.surprise)


def test_golden_page() -> None:
    check_golden("html/deleted-file.html", html.render(explained("deleted-file")))


def test_image_without_dockerfile_links_blocks_to_history_entries() -> None:
    report = replace(load("deleted-file"), dockerfile_path=None, steps=(), stages=(), base=None)
    page = Page(html.render(report))
    assert report.image is not None
    assert len(page.final) == len(report.image.layers)
    assert all(b["data-line"].startswith("H") and b["data-line"] in page.ids for b in page.final)


def test_prediction_page_has_no_chart_but_every_reason(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["predict", "sample_dockerfiles/basics/Dockerfile", "--format", "html", "-q"]) == 0
    text = capsys.readouterr().out
    page = Page(text)
    assert page.final == [] and "predicted only" in text
    assert "WORKDIR /app under the classic builder makes a (0-byte) layer only if" in text


def test_heights_keep_a_minimum() -> None:
    assert heights([0, 1, 1_000_000], total_px=100, min_px=8) == [8, 8, 100]
    assert heights([0, 0]) == [MIN_PX, MIN_PX]
