"""``layermap diff`` over JSON reports: line matching, the byte invariant, layers, new findings, gate."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers.rules import make_report
from markdown_it import MarkdownIt

from analyzer.cli import main
from analyzer.model import Finding
from analyzer.render.diff import json as diff_json
from analyzer.render.diff import markdown as diff_markdown
from analyzer.render.diff import table as diff_table
from analyzer.render.report import json as json_render
from analyzer.review.diff import diff
from analyzer.review.gate import judge, parse_growth

SCHEMA = json.loads(resources.files("analyzer").joinpath("schema/diff-v1.json").read_text())

DIRTY = """FROM busybox:latest
RUN mkdir -p /data \\
 && dd if=/dev/urandom of=/data/blob bs=1M count=8
RUN wc -c /data/blob
RUN rm /data/blob
"""
FIXED = """FROM busybox:latest
RUN mkdir -p /data \\
 && dd if=/dev/urandom of=/data/blob bs=1M count=8 \\
 && wc -c /data/blob \\
 && rm /data/blob
"""


def report(text: str, sizes: dict[int, int], findings: tuple[Finding, ...] = ()) -> dict[str, Any]:
    return json_render.to_dict(make_report(text, sizes, findings=findings)[0])


def invariant(data: dict[str, Any]) -> None:
    assert sum(line["delta"] for line in data["lines"]) + data["base_delta"] == data["total_delta"]


def test_lines_matched_by_text_then_position() -> None:
    result = diff(report(DIRTY, {2: 8_388_608, 5: 0}), report(FIXED, {2: 0}))
    got = [
        (d.base.line if d.base else None, d.head.line if d.head else None, d.change, d.delta)
        for d in result.lines
    ]
    assert got == [
        (1, 1, "same", 0),
        (2, 2, "changed", -8_388_608),
        (4, None, "removed", 0),
        (5, None, "removed", 0),
    ]
    assert result.total_delta == -8_388_608 and result.base_delta == 0
    data = diff_json.to_dict(result)
    jsonschema.validate(data, SCHEMA)
    invariant(data)
    assert (
        data["lines"][1]["base_text"].startswith("RUN mkdir") and "rm /data/blob" in data["lines"][1]["text"]
    )


def test_moved_lines_keep_their_partner_and_the_rest_pair_by_keyword() -> None:
    base = "FROM busybox\nCOPY a /a\nRUN make\nCOPY b /b\n"
    head = "FROM busybox\nCOPY b /b\nCOPY a /a\nRUN make\nRUN extra\n"
    result = diff(report(base, {2: 10, 3: 100, 4: 20}), report(head, {2: 20, 3: 10, 4: 150, 5: 5}))
    got = [(d.base.line if d.base else None, d.head.line if d.head else None, d.change) for d in result.lines]
    assert got == [(1, 1, "same"), (4, 2, "same"), (2, 3, "same"), (3, 4, "changed"), (None, 5, "added")]
    invariant(diff_json.to_dict(result))


def test_layers_added_and_removed_by_diff_id() -> None:
    result = diff(report(DIRTY, {2: 8_388_608, 5: 0}), report(FIXED, {2: 0}))
    # make_report names layers by line: line 2's layer has the same diff_id on both sides
    assert [(n, s) for _, s, n in result.layers_removed] == [(5, 0)]
    assert result.layers_added == ()


def test_new_findings_are_those_without_a_match_at_the_paired_base_line() -> None:
    old = Finding("tiny-layers", "info", 2, "x")
    same_rule_moved = Finding("tiny-layers", "info", 3, "x")
    fresh = Finding("layer-over-budget", "error", 3, "big")
    image_wide = Finding("image-over-budget", "error", None, "big")
    base = report("FROM busybox\nRUN a\n", {2: 1}, (old, image_wide))
    head = report("FROM busybox\nCOPY x /x\nRUN a\n", {2: 1, 3: 1}, (same_rule_moved, fresh, image_wide))
    result = diff(base, head)
    assert [f["rule"] for f in result.new_findings] == ["layer-over-budget"]
    verdict = judge(result, None, "error")
    assert not verdict.passed and verdict.reasons == ("new error finding layer-over-budget at line 3",)
    assert judge(result, None, "never").passed


@pytest.mark.parametrize(
    ("limit", "passed"), [("9MB", True), ("8MB", False), ("8388608", True), ("430%", True), ("420%", False)]
)
def test_max_growth_in_bytes_or_percent_of_the_base(limit: str, passed: bool) -> None:
    # FIXED -> DIRTY grows by 8,388,608 B on a 1,985,472 B image (422%)
    result = diff(report(FIXED, {2: 0}), report(DIRTY, {2: 8_388_608, 5: 0}))
    assert judge(result, limit, "never").passed is passed


def test_bad_growth() -> None:
    for bad in ("lots", "-5%", "x%"):
        with pytest.raises(ValueError, match="--max-growth"):
            parse_growth(bad)


def test_image_only_sides_use_history_entries() -> None:
    base, head = report(DIRTY, {2: 8_388_608, 5: 0}), report(FIXED, {2: 0})
    for side, name in ((base, "a"), (head, "b")):
        side["steps"], side["dockerfile"] = [], None
        added = side["image"]["size"] - side["base"]["size"]
        side["image"]["history"] = [
            {"index": 0, "created_by": "/bin/sh -c #(nop) COPY file:x in / ", "size": side["base"]["size"]},
            {"index": 1, "created_by": f"/bin/sh -c make {name}", "size": added},
        ]
        for index, entry in enumerate(side["image"]["history"]):
            entry["layer_index"] = index
    result = diff(base, head)
    assert [(d.base.entry if d.base else None, d.change) for d in result.lines] == [
        (0, "same"),
        (1, "changed"),
    ]
    assert result.lines[1].shown.instruction == "RUN" and result.lines[0].shown.instruction == "COPY"
    data = diff_json.to_dict(result)
    invariant(data)
    assert data["lines"][1]["head_line"] is None and data["lines"][1]["head_entry"] == 1
    assert "#1" in diff_table.render(result)


def test_unaccounted_bytes_are_a_warning_not_a_silent_error() -> None:
    head = report(FIXED, {2: 0})
    head["image"]["size"] += 5
    assert "do not add up" in diff(report(FIXED, {2: 0}), head).warnings[0]


def test_markdown_renders_with_its_table_and_links() -> None:
    result = diff(report(DIRTY, {2: 8_388_608, 5: 0}), report(FIXED, {2: 0}))
    from dataclasses import replace

    result = replace(result, verdict=judge(result, "1MB", "error"), dockerfile_url="https://x/D")
    html = MarkdownIt("commonmark").enable("table").render(diff_markdown.render(result))
    assert html.count("<table>") == 1 and html.count("<tr>") == 4  # header + changed + 2 removed
    assert '<a href="https://x/D#L2">2</a>' in html
    assert "1 unchanged line not shown." in html and "gate passed" in html


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_cli_on_json_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write(tmp_path, "base.json", report(FIXED, {2: 0}))
    head = write(tmp_path, "head.json", report(DIRTY, {2: 8_388_608, 5: 0}))
    assert main(["diff", base, head, "--format", "json", "--max-growth", "5MB"]) == 1
    out, err = capsys.readouterr()
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["gate"]["passed"] is False and data["total_delta"] == 8_388_608
    assert "gate FAILED" in err
    assert main(["diff", base, head, "-q"]) == 0
    assert "Total: 1.99 MB -> 10.4 MB (+8.39 MB, +8,388,608 B)" in capsys.readouterr().out


def test_cli_rejects_bad_sides_and_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.json", report(FIXED, {2: 0}))
    bad = write(tmp_path, "bad.json", {"kind": "diff"})
    assert main(["diff", bad, good]) == 2
    assert "not a layermap JSON report" in capsys.readouterr().err
    assert main(["diff", good, good, "--max-growth", "lots"]) == 2
    assert "--max-growth: expected" in capsys.readouterr().err
    failed = report(FIXED, {2: 0})
    failed["image"] = None
    assert main(["diff", good, write(tmp_path, "failed.json", failed)]) == 2
    assert "has no final image" in capsys.readouterr().err


def test_diff_in_french(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write(tmp_path, "base.json", report(FIXED, {2: 0}))
    head = write(tmp_path, "head.json", report(DIRTY, {2: 8_388_608, 5: 0}))
    try:
        assert main(["diff", base, head, "-q", "--lang", "fr"]) == 0
        out = capsys.readouterr().out
        assert "Total : 1,99 Mo -> 10,4 Mo (+8,39 Mo, +8\u202f388\u202f608 o)" in out
        assert "Écart" in out and "identique" in out and "Delta" not in out
        assert main(["diff", base, head, "--format", "json", "--lang", "fr"]) == 0
        french_json = capsys.readouterr().out
        assert main(["diff", base, head, "--format", "json", "--lang", "en"]) == 0
        assert capsys.readouterr().out == french_json
    finally:
        from analyzer import i18n

        i18n.use(i18n.ENGLISH)
