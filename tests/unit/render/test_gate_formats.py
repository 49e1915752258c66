"""Pull-request formats: the Markdown report renders to HTML with its tables intact, annotations escape."""

from __future__ import annotations

import re

from helpers.rules import make_report
from markdown_it import MarkdownIt

from analyzer.model import Finding, Report
from analyzer.render.report import github, markdown
from analyzer.review.gate import review
from analyzer.review.rulekit.config import Config

TEXT = """FROM debian:bookworm-slim
RUN apt-get update \\
 && apt-get install -y less
ADD notes.txt /notes|x.txt
CMD ["less"]
"""
URL = "https://github.com/o/r/blob/abc123/sample/Dockerfile"


def reviewed(url: str | None = None) -> Report:
    report, df = make_report(TEXT, {2: 21_000_000, 4: 56})
    star = Finding("from-elsewhere", "warning", 2, "lists left in /var/lib/apt/lists/* | see _docs_")
    report = Report(**{**report.__dict__, "findings": (star,), "dockerfile_url": url})
    config = Config(thresholds={"max_layer_size": 10_000_000, "max_image_size": 5_000_000})
    return review(report, df, config).report


def html_of(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


def table_rows(html: str, header: str) -> list[list[str]]:
    """The cells of the HTML table whose header row contains ``header``."""
    for table in re.findall(r"<table>.*?</table>", html, re.S):
        if header in table:
            rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
            return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows]
    raise AssertionError(f"no table with {header!r}")


def test_markdown_findings_table_renders_with_links_and_escapes() -> None:
    html = html_of(markdown.render(reviewed(URL)))
    rows = table_rows(html, "Severity")
    assert rows[0] == ["Severity", "Rule", "Where", "Bytes", "Finding"]
    assert len(rows) == 1 + 4  # layer-over-budget, from-elsewhere, add-instead-of-copy, image-over-budget
    cells = {re.sub("<[^>]+>", "", r[1]): r for r in rows[1:]}
    layer = cells["layer-over-budget"]
    assert layer[2] == f'<a href="{URL}#L2-L3">lines 2-3</a>'
    assert layer[3] == "21 MB" and "over max_layer_size" in layer[4]
    assert (
        cells["from-elsewhere"][4] == "lists left in /var/lib/apt/lists/* | see _docs_"
    )  # literal, not markup
    assert cells["image-over-budget"][2] == f'image (see <a href="{URL}#L2">2</a>, <a href="{URL}#L4">4</a>)'
    assert "gate <strong>failed</strong> (2 at the fail-on level)" in html


def test_markdown_per_line_table_stays_intact() -> None:
    html = html_of(markdown.render(reviewed()))
    rows = table_rows(html, "Instruction")
    assert all(len(row) == len(rows[0]) for row in rows)
    assert any("ADD notes.txt /notes|x.txt" in "".join(row) for row in rows)
    assert "<a href" not in html  # no CI environment: plain line numbers


def test_markdown_without_findings_has_no_findings_table() -> None:
    report, _ = make_report(TEXT, {2: 1000, 4: 56})
    assert "#### Findings" not in markdown.render(report)


def test_github_annotations_escape_and_locate() -> None:
    out = github.render(reviewed()).splitlines()
    assert out[0] == (
        "::error file=Dockerfile,line=2,endLine=3,title=layermap layer-over-budget::"
        "this line's layer: 21 MB is over max_layer_size (10 MB)"
    )
    assert out[-1].startswith("::error file=Dockerfile,title=layermap image-over-budget::")
    finding = Finding("x", "info", 7, "100% done\nnext", {"end_line": 7})
    assert github.annotation(finding, "a,b:c/Dockerfile") == (
        "::notice file=a%2Cb%3Ac/Dockerfile,line=7,endLine=7,title=layermap x::100%25 done%0Anext"
    )


def test_dockerfile_url_from_the_actions_environment() -> None:
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_SHA": "abc123",
        "GITHUB_WORKSPACE": "/w/r",
    }
    assert github.dockerfile_url("sample/Dockerfile", env, "/w/r") == URL
    assert github.dockerfile_url("Dockerfile", env, "/w/r/sample") == URL
    assert github.dockerfile_url("../x/Dockerfile", env, "/w/r") is None
    assert github.dockerfile_url("Dockerfile", {}, "/w") is None
    other = {"LAYERMAP_SOURCE_URL": "https://git.example/o/r/-/blob/abc/"}
    assert github.dockerfile_url("Dockerfile", other, "/w") == "https://git.example/o/r/-/blob/abc/Dockerfile"
