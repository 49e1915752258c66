"""``layermap render`` and ``--output FMT=FILE``: build once, write many formats, engine-free."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.model import Finding, Report
from analyzer.render import FORMATS, RENDERERS
from analyzer.render.report.json import to_dict
from tests.helpers import golden

ROOT = golden.HERE.parents[2]
SAMPLE = ROOT / "sample_dockerfiles" / "basics" / "Dockerfile"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _saved(tmp_path: Path, report: Report, name: str = "report.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(to_dict(report)))
    return path


@pytest.fixture
def basics(monkeypatch: pytest.MonkeyPatch) -> Report:
    """The golden basics report; the working directory is the repository, so its Dockerfile path resolves."""
    monkeypatch.chdir(ROOT)
    report = golden.load("basics")
    assert report.dockerfile_path is not None
    data = (ROOT / report.dockerfile_path).read_bytes()  # the sample as it is now (it changed since)
    return replace(report, dockerfile_text=data.decode(), dockerfile_sha256=hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("fmt", FORMATS["report"])
def test_render_writes_what_the_run_would_have_written(
    fmt: str, basics: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = _saved(tmp_path, basics)
    code, out, err = run(capsys, "render", str(saved), "--format", fmt, "-q", "--lang", "en")
    assert code == 0, err
    assert out == RENDERERS[fmt](basics)


def test_a_changed_dockerfile_is_not_shown_as_the_measured_one(
    basics: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The annotated view reads the Dockerfile again only while its sha256 is the report's."""
    moved = replace(basics, dockerfile_sha256="sha256:" + "0" * 64)
    saved = _saved(tmp_path, moved)
    code, out, _err = run(capsys, "render", str(saved), "--format", "annotated", "-q", "--lang", "en")
    assert code == 0
    assert out == RENDERERS["annotated"](replace(moved, dockerfile_text=None))
    assert out != RENDERERS["annotated"](moved)


def test_a_closed_stdin_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", None)
    code, _out, err = run(capsys, "render", "-", "--lang", "en")
    assert code == 2 and "stdin" in err and "Traceback" not in err


def test_render_reads_stdin(
    basics: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.dumps(to_dict(basics)).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _err = run(capsys, "render", "-", "--format", "markdown", "-q", "--lang", "en")
    assert code == 0
    assert out == RENDERERS["markdown"](basics)


def test_several_outputs_in_one_render(
    basics: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = _saved(tmp_path, basics)
    sarif, html = tmp_path / "r.sarif", tmp_path / "r.html"
    code, out, _err = run(
        capsys, "render", str(saved), "--output", f"sarif={sarif}", "--output", f"html={html}", "-q"
    )
    assert code == 0
    assert out == ""  # only FMT=FILE outputs: nothing on stdout
    assert sarif.read_text() == RENDERERS["sarif"](basics)
    assert html.read_text() == RENDERERS["html"](basics)


def test_format_and_file_outputs_together(
    basics: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = _saved(tmp_path, basics)
    table = tmp_path / "t.txt"
    code, out, _err = run(
        capsys, "render", str(saved), "--format", "json", "-o", str(table), "--output", "markdown=-", "-q"
    )
    assert code == 0
    assert json.loads(table.read_text())["schema_version"] == 1  # -o FILE is --format's output
    assert out == RENDERERS["markdown"](basics)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--output", "json=-", "--output", "table=-"], "only one output may be stdout"),
        (["--output", "yaml=x.yaml"], "unknown format yaml"),
        (["-o", "a.txt", "-o", "b.txt"], "-o FILE given twice"),
        (["-o", "a.txt", "--output", "json=a.txt"], "two outputs would write the same file"),
    ],
)
def test_bad_outputs_are_one_line_and_exit_2(
    argv: list[str], message: str, basics: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = _saved(tmp_path, basics)
    code, _out, err = run(capsys, "render", str(saved), *argv, "--lang", "en")
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a readable JSON file"),
        ('{"kind": "store"}', "cannot be rendered"),
        ('{"schema_version": 1, "steps": [{"line": "x"}]}', "steps[0].line"),
        ('{"schema_version": 1, "steps": [], "builder": "classic"}', "summary"),
        ("[" * 5000 + "]" * 5000, "nested"),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, out, err = run(capsys, "render", str(bad), "--lang", "en")
    assert code == 2
    assert out == ""
    assert message in err and str(bad) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_missing_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "render", str(tmp_path / "none.json"), "--lang", "en")
    assert code == 2 and "No such file" in err


def test_a_format_of_another_kind_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layers = tmp_path / "layers.json"
    layers.write_text(
        '{"schema_version": 1, "kind": "layers", "image": {"id": "sha256:a", "tags": []},'
        ' "state": "no-engine", "note": "n", "layers": []}'
    )
    code, _out, err = run(capsys, "render", str(layers), "--format", "sarif", "--lang", "en")
    assert code == 2 and "a layers JSON has no sarif format" in err
    code, out, _err = run(capsys, "render", str(layers), "--format", "markdown", "--lang", "en")
    assert code == 0 and "sha256:a" in out


def _with_findings(report: Report) -> Report:
    return replace(
        report,
        findings=(
            Finding("apt-cache", "warning", 4, "apt lists left in the layer", {"fails_gate": False}),
            Finding("secret-in-layer", "error", 6, "a key file", {"fails_gate": True}),
        ),
    )


def test_render_judges_nothing_unless_asked(
    basics: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = _saved(tmp_path, _with_findings(basics))
    code, _out, err = run(capsys, "render", str(saved), "--format", "json", "-q")
    assert code == 0
    assert "gate" not in err
    code, _out, err = run(capsys, "render", str(saved), "--format", "json", "-q", "--fail-on", "error")
    assert code == 1
    assert "secret-in-layer" in err and ":6:" in err
    code, out, err = run(capsys, "render", str(saved), "--format", "json", "-q", "--fail-on", "never")
    assert code == 0
    assert all(f["fails_gate"] is False for f in json.loads(out)["findings"])


def test_predict_writes_several_formats_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The files written in one run are what ``render`` writes from its JSON."""
    report, sarif, table = tmp_path / "r.json", tmp_path / "r.sarif", tmp_path / "r.txt"
    code, out, err = run(
        capsys,
        "predict",
        str(SAMPLE),
        "--output",
        f"json={report}",
        "--output",
        f"sarif={sarif}",
        "--output",
        f"table={table}",
        "-q",
    )
    assert code == 0, err
    assert out == ""
    assert json.loads(report.read_text())["steps"]
    code, out, _err = run(capsys, "render", str(report), "--format", "sarif", "-q")
    assert code == 0 and out == sarif.read_text()
    code, out, _err = run(capsys, "render", str(report), "-q")
    assert code == 0 and out == table.read_text()


def test_predict_format_still_goes_to_stdout_beside_file_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    code, out, _err = run(
        capsys, "predict", str(SAMPLE), "--format", "markdown", "--output", f"json={report}", "-q"
    )
    assert code == 0
    assert out.startswith("#") and json.loads(report.read_text())["schema_version"] == 1


def test_a_bad_output_stops_predict_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "predict", str(SAMPLE), "--output", "json=-", "--output", "sarif=-")
    assert code == 2 and out == "" and "only one output" in err


def test_render_does_not_import_the_docker_sdk_or_requests(basics: Report, tmp_path: Path) -> None:
    saved = _saved(tmp_path, basics)
    code = (
        "import sys; from analyzer.cli import main; "
        f"rc = main(['render', {str(saved)!r}, '--format', 'html', '-o', '/dev/null', '-q']); "
        "print(rc, 'docker' in sys.modules, 'requests' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60, cwd=ROOT
    )
    assert done.stdout.split() == ["0", "False", "False"], done.stderr


def test_the_example_workflow_builds_the_head_once_for_json_and_sarif() -> None:
    import shlex

    from analyzer.cli import parser
    from analyzer.cli.output import outputs

    text = (ROOT / "examples" / "github-actions" / "layermap.yml").read_text()
    builds = [
        line for line in text.replace("\\\n", " ").splitlines() if line.strip().startswith("layermap build")
    ]
    head = [line for line in builds if "RUNNER_TEMP" not in line]
    assert len(head) == 1, builds
    args = parser("build").parse_args(shlex.split(head[0].strip())[1:])
    assert sorted(outputs(args, RENDERERS)) == [("json", "head.json"), ("sarif", "layermap.sarif")]


def test_diff_writes_several_formats_and_render_reads_its_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _saved(tmp_path, golden.load("basics"), "base.json")
    head = _saved(tmp_path, golden.load("cache-busting"), "head.json")
    saved = tmp_path / "diff.json"
    code, out, err = run(
        capsys,
        "diff",
        str(base),
        str(head),
        "--allow-mismatch",
        "--output",
        f"json={saved}",
        "--output",
        "table=-",
    )
    assert code == 0, err
    assert "Line" in out or "line" in out
    code, again, _err = run(capsys, "render", str(saved), "--format", "table", "-q")
    assert code == 0
    assert again == out


def test_a_run_with_a_json_output_is_english_and_render_translates_later(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "r.json"
    code, out, _err = run(capsys, "predict", str(SAMPLE), "--lang", "fr", "--format", "table", "-q")
    assert code == 0 and "Prédiction" in out
    code, out, _err = run(
        capsys, "predict", str(SAMPLE), "--lang", "fr", "--format", "table", "--output", f"json={saved}", "-q"
    )
    assert code == 0 and "Prédiction" not in out and "Prediction" in out
    code, out, _err = run(capsys, "render", str(saved), "--lang", "fr", "-q")
    assert code == 0 and "Prédiction" in out
