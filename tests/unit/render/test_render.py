"""Renderers on a report assembled from recorded-shape engine data."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
from helpers.align import BUSYBOX, DOCKERFILE, digest, events, stages

from analyzer.dockerfile import parse
from analyzer.mapping.align import align_classic, stage_infos, summarize
from analyzer.model import EngineInfo, Image, Layer, Report
from analyzer.render.report import json as json_render
from analyzer.render.report import markdown, table
from analyzer.units import human_size

SCHEMA = json.loads(resources.files("analyzer").joinpath("schema/report-v1.json").read_text())


def report() -> Report:
    df = parse(DOCKERFILE, path="Dockerfile")
    built = stages()
    steps, warnings = align_classic(df, None, built, events())
    final = built[-1]
    diff_ids = final.links[-1].diff_ids
    image = Image(
        id=digest("f2"),
        tags=("demo:1",),
        size=1985650,
        history=final.history,
        layers=tuple(Layer(i, d, digest(f"chain{i}"), None) for i, d in enumerate(diff_ids)),
    )
    return Report(
        kind="build",
        dockerfile_path="Dockerfile",
        dockerfile_sha256=df.sha256,
        builder="classic",
        engine=EngineInfo(version="20.10.24", api_version="1.41", storage="overlay2", address="unix:///x"),
        image=image,
        base=BUSYBOX,
        stages=stage_infos(df, None),
        steps=tuple(steps),
        summary=summarize(image, BUSYBOX, steps),
        warnings=tuple(warnings),
    )


def test_json_follows_the_schema_and_contract_fields() -> None:
    data = json.loads(json_render.render(report()))
    jsonschema.validate(data, SCHEMA)
    assert data["schema_version"] == 1 and data["builder"] == "classic"
    assert data["engine"] == {"version": "20.10.24", "api_version": "1.41", "storage": "overlay2"}
    assert data["image"]["layer_count"] == 5 and data["image"]["history_count"] == 8
    assert data["summary"] == {
        "final_size": 1985650,
        "base_size": 1985472,
        "added_size": 178,
        "layers_added": 3,
        "largest_step_line": 10,
    }
    copy = data["steps"][-1]
    assert copy["layer"] == {"index": 4, "diff_id": digest("copy"), "size": 169}
    assert copy["history"]["index"] == 7 and copy["history"]["empty_layer"] is False
    assert [s["trigger"] for s in data["steps"]].count(True) == 1
    assert data["stages"][1] == {
        "index": 1,
        "name": "unused",
        "from": "busybox:latest",
        "line": 4,
        "in_final_image": False,
    }


def test_json_warnings_are_structured_notes_after_the_mismatches() -> None:
    from dataclasses import replace

    noted = replace(report(), warnings=("sizes are compressed", "[WARNING]: Empty line"))
    data = json.loads(json_render.render(noted))
    jsonschema.validate(data, SCHEMA)
    assert data["mismatches"] == []
    assert data["warnings"] == [
        {"code": "note", "line": None, "history_index": None, "message": "sizes are compressed"},
        {
            "code": "note",
            "line": None,
            "history_index": None,
            "message": "[WARNING]: Empty line",
        },
    ]


def test_schema_rejects_a_broken_report() -> None:
    data = json.loads(json_render.render(report()))
    data["steps"][2]["layer"]["diff_id"] = "not-a-digest"
    try:
        jsonschema.validate(data, SCHEMA)
    except jsonschema.ValidationError as err:
        assert "not-a-digest" in str(err.message)
    else:
        raise AssertionError("the schema accepted an invalid diff_id")


def test_table_shows_layers_sizes_and_stage_headers() -> None:
    text = table.render(report())
    assert "Stage 1 unused: FROM busybox:latest  (not in the final image)" in text
    copy_row = next(line for line in text.splitlines() if line.startswith("10 "))
    assert "COPY Dockerfile /df" in copy_row and "yes" in copy_row and "169 B" in copy_row
    assert "1.99 MB" in copy_row  # cumulative: base + every layer so far
    trigger = next(line for line in text.splitlines() if "onbuild> RUN echo trig" in line)
    assert trigger.split()[0] == "9" and "5 B" in trigger
    assert "Added by this Dockerfile: 178 B in 3 layers" in text


def test_markdown_has_one_table_per_stage() -> None:
    text = markdown.render(report())
    assert text.count("| Line ") == 5  # global args + four stages
    assert "#### Stage 3: FROM b" in text


def test_human_size_matches_docker_units() -> None:
    assert [human_size(n) for n in (0, 999, 1000, 1982256, 74_000_000, 1_500_000_000)] == [
        "0 B",
        "999 B",
        "1 kB",
        "1.98 MB",
        "74 MB",
        "1.5 GB",
    ]
