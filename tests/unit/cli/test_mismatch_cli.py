"""``layermap image ARCHIVE --dockerfile F`` and ``layermap diff`` when F is not the image's Dockerfile.

The archive is a real ``docker save`` (classic builder) with the Dockerfile it was built from recorded
beside it (tests/fixtures/archives/engine.json): the right file maps with no mismatch, a wrong one
stops with exit 2 naming the first mismatching line and entry, an edited line is a warning in the JSON
``mismatches`` and in every human format.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from helpers.archives import ARCHIVES, engine_record
from helpers.build_map import SCHEMA

from analyzer.cli import main

SMALL = str(ARCHIVES / "docker-small.tar")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def dockerfile(tmp_path: Path, name: str, edit: tuple[str, str] | None = None) -> str:
    text = engine_record()["dockerfiles"][name]
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    path = tmp_path / f"{name}.Dockerfile"
    path.write_text(text)
    return str(path)


NEAR = ("WORKDIR /work", "WORKDIR /srv")  # line 5 of the small image's Dockerfile


def test_right_file_has_no_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "image", SMALL, "--dockerfile", dockerfile(tmp_path, "small"), "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["mismatches"] == []
    assert "dockerfile-mismatch" not in err


def test_wrong_file_exits_2_naming_the_first_mismatching_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = dockerfile(tmp_path, "links")
    code, out, err = run(capsys, "image", SMALL, "--dockerfile", wrong, "--format", "json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"layermap: {wrong}:2: this Dockerfile does not match the image")
    assert "history entry 5 was written by another instruction" in err
    assert "expected 'RUN mkdir /d && echo old > /d/old'" in err
    assert "--allow-mismatch" in err


def test_allow_mismatch_maps_and_reports_every_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = dockerfile(tmp_path, "links")
    code, out, _ = run(capsys, "image", SMALL, "--dockerfile", wrong, "--format", "json", "--allow-mismatch")
    assert code == 0
    jsonschema.validate(json.loads(out), SCHEMA)
    mismatches = json.loads(out)["mismatches"]
    assert [(m["code"], m["severity"], m["line"], m["history_index"]) for m in mismatches] == [
        ("instruction", "error", 2, 5),
        ("instruction", "error", 3, 6),
    ]
    assert mismatches[1]["found"] == "/bin/sh -c #(nop)  LABEL purpose=layermap-archive-fixture"
    # The contract's structured warnings: each mismatch with its line and entry, then the plain notes.
    warnings = json.loads(out)["warnings"]
    assert [(w["code"], w["line"], w["history_index"]) for w in warnings[:2]] == [
        ("mismatch-instruction", 2, 5),
        ("mismatch-instruction", 3, 6),
    ]
    assert warnings[1]["message"] == mismatches[1]["message"]
    assert all(w["code"] == "note" and w["line"] is None for w in warnings[2:])
    assert mismatches[1]["expected"].startswith("RUN echo abc > /a")


def test_near_miss_is_a_warning_in_json_and_every_human_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    near = dockerfile(tmp_path, "small", NEAR)
    code, out, err = run(capsys, "image", SMALL, "--dockerfile", near, "--format", "json")
    assert code == 0
    jsonschema.validate(json.loads(out), SCHEMA)
    assert json.loads(out)["mismatches"] == [
        {
            "code": "arguments",
            "severity": "warning",
            "line": 5,
            "history_index": 3,
            "expected": "WORKDIR /srv",
            "found": "/bin/sh -c #(nop) WORKDIR /work",
            "in_final_image": True,
            "message": "line 5: history entry 3 has other arguments: expected 'WORKDIR /srv', "
            "found '/bin/sh -c #(nop) WORKDIR /work'",
        }
    ]
    assert "layermap: warning: line 5: history entry 3 has other arguments" in err
    found = "/bin/sh -c #(nop) WORKDIR /work"
    for fmt in ("table", "markdown", "annotated", "html", "github"):
        code, out, _ = run(capsys, "image", SMALL, "--dockerfile", near, "--format", fmt)
        assert code == 0
        assert "dockerfile-mismatch" in out, fmt
        assert found in out.replace("&#x27;", "'").replace("\n          ", " "), fmt
    code, out, _ = run(capsys, "image", SMALL, "--dockerfile", near, "--format", "sarif")
    run_ = json.loads(out)["runs"][0]
    result = next(r for r in run_["results"] if r["ruleId"] == "dockerfile-mismatch")
    assert result["level"] == "warning"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    assert result["properties"] == {
        "code": "arguments",
        "history_index": 3,
        "expected": "WORKDIR /srv",
        "found": found,
    }
    rule = run_["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == "dockerfile-mismatch" and "does not come from" in rule["shortDescription"]["text"]


def test_github_annotation_for_a_near_miss(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    near = dockerfile(tmp_path, "small", NEAR)
    _, out, _ = run(capsys, "image", SMALL, "--dockerfile", near, "--format", "github")
    line = next(x for x in out.splitlines() if "dockerfile-mismatch" in x)
    assert line.startswith(f"::warning file={near},line=5,endLine=5,title=layermap dockerfile-mismatch::")


def test_diff_side_that_does_not_match_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = dockerfile(tmp_path, "links")
    code, out, _ = run(capsys, "image", SMALL, "--dockerfile", wrong, "--format", "json", "--allow-mismatch")
    assert code == 0
    mismatched = tmp_path / "wrong.json"
    mismatched.write_text(out)
    code, out, _ = run(
        capsys, "image", SMALL, "--dockerfile", dockerfile(tmp_path, "small"), "--format", "json"
    )
    right = tmp_path / "right.json"
    right.write_text(out)
    code, out, err = run(capsys, "diff", str(right), str(mismatched))
    assert code == 2 and out == ""
    assert err.startswith(
        f"layermap: head ({mismatched}): {wrong}:2: the Dockerfile does not match the image"
    )
    code, out, err = run(capsys, "diff", str(right), str(mismatched), "--allow-mismatch")
    assert code == 0
    note = "head: line 2: history entry 5 was written by another instruction"
    assert f"layermap: warning: {note}" in err
    assert f"Warning: {note}" in out
    code, out, err = run(
        capsys, "diff", str(right), str(mismatched), "--allow-mismatch", "--format", "markdown"
    )
    assert "#### Warnings" in out and f"- {note}" in out
    code, out, err = run(capsys, "diff", str(right), str(mismatched), "--allow-mismatch", "--format", "json")
    assert any(w.startswith(note) for w in json.loads(out)["warnings"])


def test_diff_side_with_a_near_miss_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    near = dockerfile(tmp_path, "small", NEAR)
    _, out, _ = run(capsys, "image", SMALL, "--dockerfile", near, "--format", "json")
    side = tmp_path / "near.json"
    side.write_text(out)
    code, _, err = run(capsys, "diff", str(side), str(side), "--format", "json")
    assert code == 0
    assert "layermap: warning: base: line 5: history entry 3 has other arguments" in err


def test_diff_refuses_a_malformed_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "image", SMALL, "--format", "json")
    data = json.loads(out)
    data["mismatches"] = [{"code": "bogus", "line": 1, "expected": "x"}]
    side = tmp_path / "bad.json"
    side.write_text(json.dumps(data))
    code, _, err = run(capsys, "diff", str(side), str(side))
    assert code == 2
    assert "mismatches[0].code" in err


def test_pull_with_a_wrong_dockerfile_exits_2_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = dockerfile(tmp_path, "links")
    code, out, err = run(capsys, "pull", SMALL, "--dockerfile", wrong, "--no-engine", "--format", "json")
    assert code == 2 and out == ""
    assert err.startswith(f"layermap: {wrong}:2: this Dockerfile does not match the image")
    code, out, err = run(
        capsys, "pull", SMALL, "--dockerfile", wrong, "--no-engine", "--format", "json", "--allow-mismatch"
    )
    assert code == 0, err
    code, _, err = run(
        capsys,
        "pull",
        SMALL,
        "--dockerfile",
        dockerfile(tmp_path, "small"),
        "--no-engine",
        "--format",
        "json",
    )
    assert code == 0, err
