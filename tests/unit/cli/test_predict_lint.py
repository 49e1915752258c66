"""``layermap predict`` as a linter: the Dockerfile as docker build takes it (CONTEXT, ``-f``, a path,
``-`` for stdin), the Dockerfile-only rules, the gate, and ``--ignore`` / ``--error`` on every command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from analyzer.cli import main

LINTED = """FROM busybox:latest
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
ADD app.py /app/
"""
CLEAN = "FROM busybox:latest\nRUN true\n"


class _Stdin(io.TextIOWrapper):
    def __init__(self, data: bytes, tty: bool = False) -> None:
        super().__init__(io.BytesIO(data))
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(LINTED)
    (tmp_path / "Dockerfile.clean").write_text(CLEAN)
    return tmp_path


def findings(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> list[tuple[str, str, int]]:
    assert main(["predict", *argv, "--format", "json", "-q"]) == code
    out = capsys.readouterr().out
    return [(f["rule"], f["severity"], f["line"]) for f in json.loads(out)["findings"]]


EXPECTED = [("cache-busting-copy", "warning", 3), ("add-instead-of-copy", "warning", 5)]


def test_a_context_folder_a_dockerfile_and_dash_f(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert findings(capsys, str(ctx)) == EXPECTED
    assert findings(capsys, str(ctx / "Dockerfile")) == EXPECTED
    assert findings(capsys, str(ctx), "-f", str(ctx / "Dockerfile")) == EXPECTED
    assert findings(capsys, str(ctx), "-f", str(ctx / "Dockerfile.clean")) == []


def test_no_argument_is_the_current_folder(
    ctx: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ctx)
    assert findings(capsys) == EXPECTED
    assert findings(capsys, "-f", "Dockerfile.clean") == []


@pytest.mark.parametrize("argv", [["-"], ["-f", "-"]])
def test_stdin(
    argv: list[str], ctx: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ctx)
    monkeypatch.setattr("sys.stdin", _Stdin(LINTED.encode()))
    assert main(["predict", *argv, "--format", "github", "-q"]) == 0
    out = capsys.readouterr().out
    assert "::warning file=-,line=3,endLine=3,title=layermap cache-busting-copy::" in out
    assert "::warning file=-,line=5,endLine=5,title=layermap add-instead-of-copy::" in out


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (_Stdin(b"FROM a\x00\n"), "-: binary file"),
        (_Stdin(b"FROM \xff\n"), "-: not UTF-8 text"),
        (_Stdin(b"", tty=True), "-: stdin is a terminal"),
        (_Stdin(b""), "no instructions"),
    ],
)
def test_bad_stdin_is_exit_2(
    stdin: _Stdin, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", stdin)
    assert main(["predict", "-"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_dash_f_needs_a_folder(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(ctx / "Dockerfile"), "-f", "x"]) == 2
    assert "is not a folder; give a context folder" in capsys.readouterr().err


def test_the_gate_and_the_rule_flags(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert findings(capsys, str(ctx), "--fail-on", "warning", code=1) == EXPECTED
    err = capsys.readouterr().err
    assert findings(capsys, str(ctx), "--ignore", "cache-busting-copy") == [EXPECTED[1]]
    assert findings(capsys, str(ctx), "--error", "add-instead-of-copy", code=1) == [
        EXPECTED[0],
        ("add-instead-of-copy", "error", 5),
    ]
    assert findings(capsys, str(ctx), "--info", "add-instead-of-copy", "--info", "cache-busting-copy") == [
        ("cache-busting-copy", "info", 3),
        ("add-instead-of-copy", "info", 5),
    ]
    assert err == ""  # -q before: nothing


def test_the_gate_line_names_the_failing_findings(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(ctx), "--error", "cache-busting-copy", "--format", "sarif", "-q"]) == 1
    captured = capsys.readouterr()
    results = json.loads(captured.out)["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"cache-busting-copy", "add-instead-of-copy"}
    assert captured.err.splitlines() == [
        "layermap: gate FAILED (--fail-on error): line 3 cache-busting-copy",
        f"layermap: {ctx / 'Dockerfile'}:3: error cache-busting-copy: copies the whole build context before "
        "the install on line 4: any edit to any file reruns every later step of the stage; copy only the "
        "dependency manifests first and the rest after the install",
    ]


@pytest.mark.parametrize("flag", ["--ignore", "--error", "--warning"])
def test_an_unknown_rule_is_exit_2(flag: str, ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(ctx), flag, "DL3008"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"layermap: {flag} DL3008: no such rule (rules: add-instead-of-copy, ")
    assert "\n" not in err


def test_rule_flags_reach_the_image_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = Path(__file__).resolve().parents[2] / "fixtures" / "archives" / "docker-small.tar"
    (tmp_path / "gate.toml").write_text("max_image_size = 1\n")
    argv = ["image", str(archive), "--config", str(tmp_path / "gate.toml"), "--format", "json", "-q"]

    def rules(*extra: str, code: int) -> set[tuple[str, str]]:
        assert main([*argv, *extra]) == code
        return {(f["rule"], f["severity"]) for f in json.loads(capsys.readouterr().out)["findings"]}

    assert ("image-over-budget", "error") in rules(code=1)
    assert "image-over-budget" not in {r for r, _ in rules("--ignore", "image-over-budget", code=0)}
    assert ("image-over-budget", "warning") in rules("--warning", "image-over-budget", code=0)


BUILDKIT_FLAGS = """FROM busybox:latest
RUN --mount=type=cache,target=/c --network=none true
COPY --chmod=755 --link a /a
COPY --chown=1 a /b
ONBUILD RUN --mount=type=secret,id=x true
"""


def test_a_buildkit_only_flag_under_the_classic_builder_is_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_text(BUILDKIT_FLAGS)
    assert findings(capsys, str(tmp_path), "--classic", code=1) == [
        ("buildkit-only", "error", 2),
        ("buildkit-only", "error", 3),
    ]
    assert main(["predict", str(tmp_path), "--classic", "--format", "github", "-q"]) == 1
    out = capsys.readouterr().out
    assert (
        "line=2,endLine=2,title=layermap buildkit-only::RUN --mount, --network: only BuildKit has these"
        in out
    )
    assert (
        "COPY --chmod, --link: only BuildKit has these flags; the classic builder stops here (the --chmod"
        in out
    )
    assert findings(capsys, str(tmp_path), "--buildkit") == []
