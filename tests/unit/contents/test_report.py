"""``--contents`` in the report: files per step, waste pairs by line, secret findings, and how the
JSON (against the schema), table and Markdown show them."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
from helpers.contents import KB, MTIME, PEM_KEY, layers

from analyzer.cli import main
from analyzer.contents import add_contents
from analyzer.model import (
    BaseInfo,
    FileChange,
    HistoryEntry,
    Image,
    Layer,
    Report,
    StageInfo,
    Step,
    StepHistory,
    StepLayer,
    Summary,
)
from analyzer.render.report import json as json_render
from analyzer.render.report import markdown, table

SCHEMA = json.loads(resources.files("analyzer").joinpath("schema/report-v1.json").read_text())
LISTINGS = layers(
    [("d", "bin"), ("f", "bin/sh", KB * 8)],
    [("d", "root"), ("d", "root/.ssh"), ("f", "root/.ssh/id_rsa", PEM_KEY), ("f", "data", KB * 4)],
    [("d", "root"), ("w", "root/.ssh")],
    [("f", "data", KB * 4, MTIME)],  # chmod: a copy-up
)
SIZES = [8192, len(PEM_KEY) + 4096, 0, 4096]


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def step(line: int, text: str, layer: int | None, history: int) -> Step:
    keyword = text.split()[0]
    return Step(
        stage=0,
        line=line,
        end_line=line,
        instruction=keyword,
        text=text,
        creates_layer=keyword not in ("FROM", "ENV") if keyword != "FROM" else False,
        history=None if keyword == "FROM" else StepHistory(history, text, layer is None),
        layer=None if layer is None else StepLayer(layer, digest(layer), SIZES[layer]),
    )


def report() -> Report:
    texts = ["base", "RUN add", "RUN rm -rf /root/.ssh", "ENV A=1", "RUN chmod 600 /data"]
    history = tuple(
        HistoryEntry(i, t, t.startswith("ENV"), 0 if t.startswith("ENV") else SIZES[min(i, 3)])
        for i, t in enumerate(texts)
    )
    image = Image(
        digest(99), ("t:1",), sum(SIZES), history, tuple(Layer(i, digest(i), digest(i)) for i in range(4))
    )
    steps = (
        step(1, "FROM busybox", None, 0),
        step(2, "RUN add", 1, 1),
        step(3, "RUN rm -rf /root/.ssh", 2, 2),
        step(4, "ENV A=1", None, 3),
        step(5, "RUN chmod 600 /data", 3, 4),
    )
    return Report(
        kind="build",
        dockerfile_path="Dockerfile",
        dockerfile_sha256="0" * 64,
        builder="classic",
        engine=None,
        image=image,
        base=BaseInfo("busybox", None, 1, 1, 8192),
        stages=(StageInfo(0, None, "busybox", 1, True),),
        steps=steps,
        summary=Summary(sum(SIZES), 8192, sum(SIZES) - 8192, 3, 2),
    )


def test_files_waste_and_secrets_are_attached_by_layer_index() -> None:
    out = add_contents(report(), LISTINGS, top_n=2)
    files = {s.line: s.files for s in out.steps}
    assert files[1] is None and files[4] is None
    assert files[2] is not None and (files[2].added, files[2].bytes_added) == (4, SIZES[1])
    assert files[2].top == (
        FileChange("/data", 4096, "added"),
        FileChange("/root/.ssh/id_rsa", len(PEM_KEY), "added"),
    )
    assert files[3] is not None and (files[3].deleted, files[3].top[0].change) == (1, "deleted")
    assert files[5] is not None and files[5].modified == 1
    assert out.waste is not None
    pairs = {(p.added_line, p.removed_line, p.kind): (p.bytes, p.paths) for p in out.waste.pairs}
    assert pairs == {
        (2, 5, "copy-up"): (4096, ("/data",)),
        (2, 3, "deleted"): (len(PEM_KEY), ("/root/.ssh/id_rsa",)),
    }
    assert out.waste.wasted_bytes == 4096 + len(PEM_KEY)
    assert out.waste.user_wasted_percent == out.waste.wasted_bytes / (len(PEM_KEY) + 8192)
    (secret,) = out.findings
    assert (secret.rule, secret.severity, secret.line) == ("secret-in-layer", "error", 2)
    assert dict(secret.extra) == {"path": "/root/.ssh/id_rsa", "layer": 1, "removed_line": 3}
    assert "line 3 deletes or replaces it, but the layer still ships it" in secret.message


def test_json_has_the_optional_fields_only_with_contents_and_follows_the_schema() -> None:
    plain = json.loads(json_render.render(report()))
    assert "waste" not in plain and all("files" not in s for s in plain["steps"])
    data = json.loads(json_render.render(add_contents(report(), LISTINGS)))
    jsonschema.validate(data, SCHEMA)
    assert [s["files"] is None for s in data["steps"]] == [True, False, False, True, False]
    assert data["waste"]["pairs"][0] == {
        "added_line": 2,
        "removed_line": 5,
        "bytes": 4096,
        "kind": "copy-up",
        "paths": ["/data"],
        "path_count": 1,
        "added_layer": 1,
        "removed_layer": 3,
    }
    assert set(data["waste"]["dive_compatible"]) == {"wasted_bytes", "efficiency", "user_wasted_percent"}
    assert data["findings"][0]["path"] == "/root/.ssh/id_rsa" and "BEGIN" not in json.dumps(data)


def test_table_and_markdown_gain_the_contents_columns_and_waste_lines() -> None:
    assert "Wasted by this line" not in table.render(report())
    text = table.render(add_contents(report(), LISTINGS))
    header = next(line for line in text.splitlines() if line.startswith("Line"))
    assert header.split()[-6:] == ["Added", "files", "Wasted", "by", "this", "line"]
    rows = [ln for ln in text.splitlines() if ln[:1].isdigit() and "% " in ln]
    cells = {ln.split()[0]: ln.split("%")[-1].split() for ln in rows}
    # The bytes a line stored that later lines hid are charged to it, as the waste findings do: line 2
    # stored both versions, lines 3 and 5 only hid them.
    assert cells == {"2": ["4", "4.19", "kB"], "3": ["0", "(1", "del)"], "5": ["0", "(1", "mod)"]}
    assert (
        "Wasted: 4.19 kB stored but hidden by later lines (efficiency 74.57%; dive would report 8.19 kB"
        in text
    )
    assert "  line 2 -> line 5: 4.1 kB copy-up (/data)\n  line 2 -> line 3: 95 B deleted" in text
    md = markdown.render(add_contents(report(), LISTINGS))
    assert "| Added files   | Wasted by this line   |" in md
    assert (
        "| 4             | 4.19 kB               |" in md
        and "| 0 (1 mod)     |                       |" in md
    )
    assert "  - line 2 -> line 5: 4.1 kB copy-up (/data)" in md


@pytest.mark.parametrize("command", ["image", "build"])
def test_files_needs_contents(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "whatever", "--files", "3"]) == 2
    assert "--files N needs --contents" in capsys.readouterr().err
