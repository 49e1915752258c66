"""The human formats' wording: counted nouns, one style for exact bytes, no builder named ``unknown``,
no Cache/Time columns that can only be empty, and waste charged to the line that stored it."""

from __future__ import annotations

from dataclasses import replace

from helpers.explain import explained

from analyzer.dockerfile import parse
from analyzer.model import Report
from analyzer.render.common import summary_lines
from analyzer.render.report import markdown, table
from analyzer.render.report.teaching import prediction_table
from analyzer.teaching.predict import predict
from analyzer.units import exact_size, size_with_exact


def _one_layer_base() -> Report:
    report = explained("deleted-file")
    assert report.base is not None
    return replace(report, base=replace(report.base, layer_count=1, history_count=1))


def test_counted_nouns() -> None:
    lines = summary_lines(_one_layer_base())
    assert any(line.endswith("in 1 layer, 1 history entry") for line in lines), lines
    assert not any("1 layers" in line or "1 history entries" in line for line in lines)


def test_prediction_counts_without_layer_s() -> None:
    dockerfile = parse("FROM busybox\nCOPY a /a\nENV A=1\n", path="Dockerfile")
    steps = tuple(predict(dockerfile))
    report = Report(None, None, "classic", None, None, None, (), steps, _summary(), kind="prediction")
    text = prediction_table(report)
    assert "(s)" not in text
    assert "Final image: 1 layer certain, 0 steps depend on the filesystem, 2 steps without a layer." in text


def _summary():  # type: ignore[no-untyped-def]
    from analyzer.model import Summary

    return Summary(0, 0, 0, 0, None)


def test_one_exact_bytes_style() -> None:
    assert exact_size(13_700_000, signed=True) == "+13,700,000 B"
    assert exact_size(-13_700_000, signed=True) == "-13,700,000 B"
    assert size_with_exact(8_388_608) == "8.39 MB (8,388,608 B)" and size_with_exact(20) == "20 B"
    text = " ".join(e.text for e in explained("deleted-file").explanations)
    assert " = " not in text and "(8,388,608 B)" in text


def test_existing_image_headings_and_no_empty_timing_columns() -> None:
    report = explained("deleted-file")
    steps = tuple(replace(s, cached=None, duration_s=None) for s in report.steps)
    image_report = replace(report, builder="unknown", steps=steps)
    header = next(line for line in table.render(image_report).splitlines() if line.startswith("Line"))
    assert "Cache" not in header and "Time" not in header
    built = next(line for line in table.render(report).splitlines() if line.startswith("Line"))
    assert built.split()[-2:] == ["Cache", "Time"]
    md = markdown.render(image_report)
    assert "unknown builder" not in md and "(existing image)" in md.splitlines()[0]
