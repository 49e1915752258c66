"""``Report.kind``: set by each producer, required, read by the renderers instead of guessing.

The producers run without an engine: ``predict`` on a sample, an existing image from a saved archive
(with and without its Dockerfile). The JSON report is unchanged by the kind (schema_version 1).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from analyzer.dockerfile import load, parse
from analyzer.image.source import open_image
from analyzer.mapping.existing import image_report
from analyzer.model import Report, Summary
from analyzer.render.report import json as json_render
from analyzer.render.report import table
from analyzer.teaching.predict import prediction_report

FIXTURES = Path(__file__).parents[1] / "fixtures"
ARCHIVE = str(FIXTURES / "archives" / "docker-small.tar")
SMALL = json.loads((FIXTURES / "archives" / "engine.json").read_text())["dockerfiles"]["small"]
BASICS = Path(__file__).parents[2] / "sample_dockerfiles" / "basics" / "Dockerfile"


def no_engine() -> None:
    raise AssertionError("an archive needs no engine")


def test_predict_makes_a_prediction_report() -> None:
    report = prediction_report(load(BASICS), "Dockerfile", "buildkit")
    assert report.kind == "prediction" and report.builder == "buildkit"
    assert report.image is None and report.engine is None


def test_an_existing_image_is_an_image_report_with_or_without_its_dockerfile() -> None:
    source = open_image(ARCHIVE, no_engine)  # type: ignore[arg-type]
    assert image_report(source, None, None, None).kind == "image"
    mapped = image_report(source, parse(SMALL, path="Dockerfile"), None, "Dockerfile")
    assert mapped.kind == "image" and mapped.steps


def test_the_kind_is_required_and_keyword_only() -> None:
    with pytest.raises(TypeError, match="kind"):
        Report(None, None, "unknown", None, None, None, (), (), Summary(0, 0, 0, 0, None))  # type: ignore[call-arg]
    fields = Report.__dataclass_fields__["kind"]
    assert fields.kw_only is True


def test_renderers_follow_the_kind_not_the_shape_of_the_report() -> None:
    predicted = prediction_report(load(BASICS), "Dockerfile")
    assert table.render(predicted).startswith("Prediction for the classic builder")
    # The same steps (every one with a reason, nothing measured) declared a build: a measured table.
    as_build = replace(predicted, kind="build")
    assert not table.render(as_build).startswith("Prediction for")


def test_the_json_report_does_not_carry_the_kind() -> None:
    report = prediction_report(load(BASICS), "Dockerfile")
    data = json_render.to_dict(report)
    assert "kind" not in data and data["schema_version"] == 1
    assert json_render.to_dict(replace(report, kind="build")) == data
