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
from helpers.lesson import deleted_file_with_contents

from analyzer.cli import main
from analyzer.render.report import html
from analyzer.render.report.strata import MIN_PX, heights, hue_of

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
    assert (
        main(["predict", "sample_dockerfiles/basics/Dockerfile", "--classic", "--format", "html", "-q"]) == 0
    )
    text = capsys.readouterr().out
    page = Page(text)
    assert page.final == [] and "predicted only" in text
    assert "WORKDIR /app under the classic builder makes a (0-byte) layer only if" in text


def test_heights_keep_a_minimum() -> None:
    assert heights([0, 1, 1_000_000], total_px=100, min_px=8) == [8, 8, 100]
    assert heights([0, 0]) == [MIN_PX, MIN_PX]


# --------------------------------------------------------------------------- issue 14


def _unpack(text: str) -> dict[str, object]:
    import base64
    import json
    import zlib

    found = re.search(r'<script type="application/octet-stream" id="filetree-data">([^<]*)</script>', text)
    assert found is not None
    data = json.loads(zlib.decompress(base64.b64decode(found.group(1))))
    assert isinstance(data, dict)
    return data


def test_findings_waste_and_files_are_in_the_page() -> None:
    report = deleted_file_with_contents()
    text = html.render(report)
    page = Page(text)
    finding = next(a for t, a in page.tags if t == "li" and a.get("id") == "finding-0")
    assert finding["data-line"] == "L4" and "secret-in-layer" in text
    assert "Never copy the secret into the image" in text  # the fix
    waste = text[text.index('<section id="waste">') :]
    assert (
        '<td><a data-line="L4" href="#L4">line 4</a></td><td><a data-line="L7" href="#L7">line 7</a>' in waste
    )
    assert "<code>/data/blob</code>" in text[text.index('<section id="files">') :]
    data = _unpack(text)
    layers = data["layers"]
    assert isinstance(layers, list)
    assert [la["line"] for la in layers] == [None, None, 4, 7]
    assert ["/data/blob", "w", "deleted", 8192, ""] in layers[3]["e"]
    final = data["final"]
    assert isinstance(final, dict)
    assert ["/data/blob", "f", 0, "", [[2, 8192, 3, "deleted"]]] in final["e"]


def test_without_contents_no_browser_and_no_filetree_script() -> None:
    text = html.render(explained("deleted-file"))
    assert 'id="browser"' not in text and "DecompressionStream" not in text


def test_strata_are_labelled_and_coloured_by_line_without_repeats() -> None:
    report = explained("basics")
    page = Page(html.render(report))
    own = [b for b in page.final if "base" not in b["class"]]
    hues = [re.search(r"--h:(\d+)", b["style"]).group(1) for b in own]  # type: ignore[union-attr]
    made = {s.line for s in report.steps if s.layer is not None and s.in_final_image}
    assert len(set(hues)) == len(own) == len(made)
    assert len({hue_of(line) for line in range(1, 200)}) == 199  # no two lines of a long file share one
    text = html.render(report)
    assert '<span class="label">L12 WORKDIR /app · 0 B</span>' in text
    assert text.count('<span class="label">base · ') == report.base.layer_count  # type: ignore[union-attr]


def test_print_and_dark_styles() -> None:
    text = html.render(explained("basics"))
    assert "@media print" in text and "prefers-color-scheme: dark" in text


def test_backticks_are_code_and_as_predicted_rows_are_not_surprises() -> None:
    report = explained("basics")
    text = html.render(report)
    assert (
        "`"
        not in text[
            text.index('<section id="explain"') : text.index("</section>", text.index('id="explain"'))
        ]
    )
    assert "<code>true</code> changed nothing on the filesystem" in text
    for row in re.findall(r"<tr[^>]*>.*?</tr>", text):
        assert not ("as predicted" in row and "surprise" in row), row


def test_predicted_buildkit_page_draws_no_layer_for_a_stage_never_built(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    argv = [
        "predict",
        "sample_dockerfiles/multi-stage/Dockerfile",
        "--buildkit",
        "--format",
        "html",
    ]
    assert main([*argv, "-q"]) == 0
    page = Page(capsys.readouterr().out)
    classes = {
        a["id"]: a.get("class", "") for t, a in page.tags if t == "li" and a.get("id", "").startswith("L")
    }
    # Stage "check" (lines 11-13) is not needed by the final stage: BuildKit never builds it.
    assert all("layer" not in classes[f"L{n}"].split() for n in (12, 13))
    assert "layer" in classes["L16"].split() and "layer" in classes["L5"].split()
