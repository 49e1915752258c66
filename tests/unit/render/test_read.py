"""analyzer/render/read.py: a JSON layermap wrote, read back into the model, renders as the original did."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from analyzer.image.layerstore import layer_db
from analyzer.model import LayersView, Report
from analyzer.render import DIFF_RENDERERS, FORMATS, LAYERS_RENDERERS, RENDERERS
from analyzer.render.diff.json import to_dict as diff_dict
from analyzer.render.read import kind_of, read_diff, read_layers, read_report
from analyzer.render.report.json import to_dict
from analyzer.review.diff import diff
from analyzer.teaching.predict import prediction_report
from tests.helpers import golden

NAMES = golden.names()
ROOT = golden.HERE.parents[2]


def _loaded(name: str) -> Report:
    """A golden report with its Dockerfile's text, as the annotated and HTML views get it."""
    report = golden.load(name)
    assert report.dockerfile_path is not None
    return replace(report, dockerfile_text=(ROOT / report.dockerfile_path).read_text())


def _saved(report: Report) -> Any:
    return json.loads(json.dumps(to_dict(report)))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fmt", FORMATS["report"])
def test_every_golden_report_renders_the_same_from_its_json(name: str, fmt: str) -> None:
    report = _loaded(name)
    back = read_report(_saved(report), report.dockerfile_text)
    assert back.kind == report.kind
    assert RENDERERS[fmt](back) == RENDERERS[fmt](report)


@pytest.mark.parametrize("name", NAMES)
def test_without_the_dockerfile_only_the_views_that_show_it_differ(name: str) -> None:
    """The JSON does not hold the Dockerfile's text: annotated and HTML then show what a report without
    one shows (the CLI reads it again from dockerfile.path when its sha256 still matches)."""
    report = _loaded(name)
    back = read_report(_saved(report))
    bare = replace(report, dockerfile_text=None)
    for fmt in FORMATS["report"]:
        assert RENDERERS[fmt](back) == RENDERERS[fmt](bare), fmt
    assert RENDERERS["annotated"](back) != RENDERERS["annotated"](report)
    assert RENDERERS["html"](back) != RENDERERS["html"](report)


SAMPLES = ROOT / "sample_dockerfiles"


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir() if (p / "Dockerfile").is_file()))
def test_a_prediction_reads_back_as_a_prediction(sample: str, builder: str) -> None:
    from analyzer.dockerfile import load

    path = SAMPLES / sample / "Dockerfile"
    report = prediction_report(load(path, builder=builder), str(path), builder)
    back = read_report(_saved(report), report.dockerfile_text)
    assert back.kind == "prediction"
    for fmt in FORMATS["report"]:
        assert RENDERERS[fmt](back) == RENDERERS[fmt](report), fmt


def test_an_image_report_reads_back_as_an_image_report() -> None:
    report = replace(golden.load("basics"), kind="image", builder="unknown", engine=None)
    assert read_report(_saved(report)).kind == "image"


def test_a_diff_renders_the_same_from_its_json_but_for_trigger_marks() -> None:
    base, head = golden.load("basics"), golden.load("arg-onbuild")
    result = diff(to_dict(base), to_dict(head))
    back = read_diff(json.loads(json.dumps(diff_dict(result))))
    for fmt in FORMATS["diff"]:
        if fmt == "json":
            assert DIFF_RENDERERS[fmt](back) == DIFF_RENDERERS[fmt](result)
    # A diff JSON does not say which lines are ONBUILD triggers: the table shows them without "onbuild> ".
    plain = replace(
        result,
        lines=tuple(
            replace(
                d,
                base=replace(d.base, trigger=False) if d.base else None,
                head=replace(d.head, trigger=False) if d.head else None,
            )
            for d in result.lines
        ),
    )
    assert any(d.shown.trigger for d in result.lines)
    for fmt in FORMATS["diff"]:
        assert DIFF_RENDERERS[fmt](back) == DIFF_RENDERERS[fmt](plain), fmt


def test_a_layers_view_renders_the_same_from_its_json() -> None:
    image = golden.load("basics").image
    assert image is not None
    view = LayersView(image, layer_db(image, None))
    back = read_layers(json.loads(LAYERS_RENDERERS["json"](view)))
    for fmt in FORMATS["layers"]:
        assert LAYERS_RENDERERS[fmt](back) == LAYERS_RENDERERS[fmt](view), fmt


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"schema_version": 1, "steps": []}, "report"),
        ({"schema_version": 1, "kind": "diff"}, "diff"),
        ({"schema_version": 1, "kind": "layers"}, "layers"),
    ],
)
def test_the_kind_comes_from_the_content(data: object, kind: str) -> None:
    assert kind_of(data) == kind


@pytest.mark.parametrize("data", [[], "x", {"kind": "store"}, {"schema_version": 1}])
def test_what_is_no_layermap_json_is_refused(data: object) -> None:
    with pytest.raises(ValueError):
        kind_of(data)


def _tampered(path: list[Any], value: object) -> Any:
    data = _saved(golden.load("multi-stage"))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (["summary", "final_size"], "big", "summary.final_size"),
        (["steps", 0, "end_line"], None, "steps[0].end_line"),
        (["stages", 0, "from"], 3, "stages[0].from"),
        (["image", "layers", 0, "diff_id"], [], "image.layers[0].diff_id"),
        (["image", "tags"], [1], "image.tags"),
        (["steps", 1, "cached"], "yes", "steps[1].cached"),
        (["summary", "added_size"], 1 << 70, "summary.added_size"),
        (["findings"], [{"rule": "r", "severity": "error", "line": 1, "message": 5}], "findings[0].message"),
        (["steps", 0, "inherited_size"], True, "steps[0].inherited_size"),
        (["steps", 1, "stage"], 9, "steps[1].stage"),
    ],
)
def test_a_tampered_report_is_one_error_naming_the_field(path: list[Any], value: object, named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        read_report(_tampered(path, value))


def test_an_explanation_must_point_at_a_step() -> None:
    data = _saved(golden.load("basics"))
    data["explain"] = [
        {"step": 99, "predicted": True, "reason": "", "verdict": "", "surprise": None, "text": ""}
    ]
    with pytest.raises(ValueError, match="explain"):
        read_report(data)


@pytest.mark.parametrize(
    "data",
    [
        {"schema_version": 2, "kind": "diff"},
        {"schema_version": 1, "kind": "diff", "base": {}, "head": {}, "lines": [{"change": "moved"}]},
        {"schema_version": 1, "kind": "layers", "image": {"id": 3}},
        {"schema_version": 1, "kind": "layers"},
    ],
)
def test_a_bad_diff_or_layers_json_is_a_value_error(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        (read_diff if data["kind"] == "diff" else read_layers)(data)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:2]):
            out += _leaves(item, (*path, i))
    return out


@pytest.mark.parametrize("hostile", [None, "x", -1, [], True])
def test_any_field_damaged_is_refused_or_renders(hostile: object) -> None:
    """Each field of a report replaced by a wrong value: read_report refuses it (ValueError) or every
    text format renders it; nothing else is raised (the CLI turns ValueError into exit 2)."""
    saved = _saved(golden.load("multi-stage"))
    for path in _leaves(saved):
        data = json.loads(json.dumps(saved))
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = hostile
        try:
            report = read_report(data)
        except ValueError:
            continue
        for fmt in ("table", "markdown", "annotated", "sarif"):
            RENDERERS[fmt](report)
