"""``--explain`` on recorded measured reports of the samples: prediction vs measurement side by side,
surprises, and paragraphs that quote the measured history entry, layer and size."""

from __future__ import annotations

import json

import jsonschema
import pytest
from helpers.explain import ROOT, explained
from helpers.golden import load as load_report
from helpers.golden import names

from analyzer.dockerfile import load
from analyzer.render import RENDERERS
from analyzer.render.report.teaching import explain_text
from analyzer.teaching.explain import AS_PREDICTED, NOT_RUN, RESOLVED, WRONG, explain, pair_steps
from analyzer.teaching.predict import predict

SCHEMA = json.loads((ROOT / "analyzer" / "schema" / "report-v1.json").read_text())


@pytest.mark.parametrize("name", names())
def test_prediction_never_contradicts_a_classic_build(name: str) -> None:
    report = explained(name)
    assert len(report.explanations) == len(report.steps)
    verdicts = {e.verdict for e in report.explanations}
    assert WRONG not in verdicts
    for e in report.explanations:
        step = report.steps[e.step]
        if e.verdict == AS_PREDICTED:
            assert e.predicted == step.creates_layer
        if e.verdict == RESOLVED:
            assert e.predicted is None and step.creates_layer is not None
        # Every sample builds; only the stage after --target never runs.
        assert (e.verdict == NOT_RUN) == (step.creates_layer is None)
        assert e.verdict != NOT_RUN or not step.in_final_image


@pytest.mark.parametrize("name", names())
def test_paragraphs_quote_the_measured_entry_layer_and_size(name: str) -> None:
    report = explained(name)
    for e in report.explanations:
        step = report.steps[e.step]
        assert f"Line {step.line}" in e.text
        if step.history is not None:
            assert f"History entry #{step.history.index} " in e.text
        if step.layer is not None:
            assert f"layer #{step.layer.index} " in e.text
            assert step.layer.diff_id[:19] in e.text
            assert f"{step.layer.size} B" in e.text or f"{step.layer.size:,} B" in e.text
        elif step.history is not None:
            assert "empty_layer: true" in e.text and "no layer" in e.text


def test_deleting_makes_a_zero_byte_layer_and_says_so() -> None:
    report = explained("deleted-file")
    by_line = {report.steps[e.step].line: e for e in report.explanations}
    rm = by_line[7]
    assert report.steps[rm.step].layer is not None and report.steps[rm.step].layer.size == 0
    assert rm.surprise == "RUN rm made a 0-byte layer: deleting does not shrink the image"
    assert "whiteout" in rm.text and "Deleting does not shrink the image" in rm.text
    assert by_line[4].surprise is None  # the 8 MiB RUN: a layer with bytes is no surprise
    assert "8.39 MB (8,388,608 B)" in by_line[4].text


def test_workdir_that_creates_its_folder_is_a_surprise() -> None:
    report = explained("basics")
    by_line = {report.steps[e.step].line: e for e in report.explanations}
    assert by_line[12].verdict == RESOLVED
    assert by_line[12].surprise == "WORKDIR created a layer: the folder /app did not exist"
    assert "did not exist, so creating it made a layer" in by_line[12].text
    # Predicted "no layer" and measured none: a note, not a surprise beside the verdict "as predicted".
    assert by_line[22].verdict == AS_PREDICTED and by_line[22].surprise is None
    assert by_line[22].note == "RUN made no layer: `true` changed nothing on the filesystem"
    assert by_line[25].surprise is None and "records a port" in by_line[25].text


def test_from_says_what_was_inherited() -> None:
    report = explained("basics")
    text = report.explanations[0].text
    base = report.base
    assert base is not None and base.id is not None
    assert f"image {base.id[:19]}" in text
    assert f"its {base.layer_count} layers" in text and f"{base.size:,} B" in text
    assert f"{base.history_count} history entries (#0–#{base.history_count - 1} of the final image)" in text
    assert report.image is not None
    assert report.image.layers[0].diff_id[:19] in text


def test_onbuild_triggers_pair_with_their_declarations() -> None:
    report = explained("arg-onbuild")
    triggers = [(report.steps[e.step], e) for e in report.explanations if report.steps[e.step].trigger]
    assert [s.instruction for s, _ in triggers] == ["COPY", "RUN", "ENV"]
    assert all(s.line == 17 for s, _ in triggers)
    assert [e.predicted for _, e in triggers] == [True, None, False]
    assert (
        "the FROM ran the base image's ONBUILD trigger `COPY app.txt /opt/app/app.txt`, which copied app.txt "
        "from the build context to /opt/app/app.txt" in triggers[0][1].text
    )


def test_steps_outside_the_final_image_name_their_stage_image() -> None:
    report = explained("multi-stage")
    check = next(e for e in report.explanations if report.steps[e.step].line == 12)
    assert "of stage 1 (check)'s image" in check.text
    assert "not part of the final image" in report.explanations[0].text


def test_pairing_skips_external_triggers_and_mismatched_keywords() -> None:
    dockerfile = load(ROOT / "sample_dockerfiles" / "chain" / "Dockerfile")
    predicted = predict(dockerfile)
    measured = list(predicted)
    from dataclasses import replace

    measured.insert(1, replace(measured[0], instruction="RUN", trigger=True, text="RUN x"))
    pairs = pair_steps(measured, predicted)
    assert 1 not in pairs and pairs[0] is predicted[0] and pairs[2] is predicted[1]


def test_text_and_json_carry_the_side_by_side_view() -> None:
    report = explained("deleted-file")
    text = explain_text(report)
    assert "Prediction vs measurement" in text and "What each line did" in text
    row = next(line for line in text.splitlines() if line.startswith("!") and " 7 " in line)
    assert "depends" in row and "layer 0 B" in row and "resolved" in row
    data = json.loads(RENDERERS["json"](report))
    jsonschema.validate(data, SCHEMA)
    assert [e["line"] for e in data["explain"]] == [3, 4, 6, 7]
    assert data["explain"][3]["surprise"].startswith("RUN rm made a 0-byte layer")
    assert data["explain"][3]["predicted"] is None and data["explain"][3]["measured"] is True
    markdown = RENDERERS["markdown"](report)
    assert "**Surprises**" in markdown and "- line 7: RUN rm made a 0-byte layer" in markdown


@pytest.mark.parametrize("name", names())
def test_an_outcome_as_predicted_is_a_note_never_a_surprise(name: str) -> None:
    for e in explained(name).explanations:
        if e.verdict == AS_PREDICTED:
            assert e.surprise is None, e
        else:
            assert e.note is None, e


def test_buildkit_workdir_says_only_what_was_measured() -> None:
    """BuildKit makes a layer for every WORKDIR but /: without the files it cannot say the folder was new."""
    dockerfile = load(ROOT / "sample_dockerfiles" / "basics" / "Dockerfile")
    report = explain(load_report("basics"), dockerfile, "buildkit")
    text = next(e.text for e in report.explanations if report.steps[e.step].line == 12)
    assert "did not exist" not in text
    assert "BuildKit makes a layer for every WORKDIR but /, whether or not the folder existed" in text


def test_json_carries_the_note_of_an_as_predicted_outcome() -> None:
    data = json.loads(RENDERERS["json"](explained("basics")))
    jsonschema.validate(data, SCHEMA)
    run_true = next(e for e in data["explain"] if e["line"] == 22)
    assert run_true["surprise"] is None and run_true["note"].startswith("RUN made no layer")
