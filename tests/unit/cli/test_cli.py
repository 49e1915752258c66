"""CLI exit codes and one-line errors for bad input (no engine needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analyzer import __version__
from analyzer.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    address = f"unix://{tmp_path}/no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", address)
    return address


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"layermap {__version__}"


def test_python_dash_m_behaves_the_same() -> None:
    proc = subprocess.run([sys.executable, "-m", "analyzer", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"layermap {__version__}"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "no instructions"),
        (b"# only a comment\n\n", "no instructions"),
        (b"FROM busybox\x00\nRUN true\n", "binary"),
        (b"FROM busybox\nFETCH x\n", ":2: unknown instruction: FETCH"),
        (b"RUN true\nFROM busybox\n", ":1:"),
    ],
)
def test_bad_dockerfile_exit_2_before_any_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: str, content: bytes, expected: str
) -> None:
    (tmp_path / "Dockerfile").write_bytes(content)
    code, out, err = run(capsys, "build", str(tmp_path))
    assert code == 2 and out == ""
    line = one_line(err)
    assert str(tmp_path / "Dockerfile") in line and expected in line


def test_oversized_dockerfile(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: str) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"FROM busybox\n" + b"# padding\n" * 1_100_000)
    code, _, err = run(capsys, "build", str(tmp_path))
    assert code == 2 and "10" in one_line(err)


def test_missing_context(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: str) -> None:
    code, _, err = run(capsys, "build", str(tmp_path / "nowhere"))
    assert code == 2 and "nowhere" in one_line(err)


def test_missing_dockerfile_in_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: str
) -> None:
    code, _, err = run(capsys, "build", str(tmp_path))
    assert code == 2 and str(tmp_path / "Dockerfile") in one_line(err)


@pytest.mark.parametrize("bad", ["=value", "has space=1"])
def test_bad_build_arg(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: str, bad: str) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    code, _, err = run(capsys, "build", str(tmp_path), "--build-arg", bad)
    assert code == 2 and bad in one_line(err)


def test_unknown_target(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: str) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox AS one\nFROM one AS two\n")
    code, _, err = run(capsys, "build", str(tmp_path), "--target", "three")
    assert code == 2 and "three" in one_line(err) and "one, two" in err


def test_dockerfile_path_as_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: str
) -> None:
    df = tmp_path / "app.Dockerfile"
    df.write_text("FROM busybox\n")
    code, _, err = run(capsys, "build", str(df))
    assert code == 4  # parsed fine, so the next thing is the engine, which is absent here
    assert no_engine in one_line(err)


def test_no_engine_exit_4_names_address_and_remedy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: str
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    code, out, err = run(capsys, "build", str(tmp_path))
    assert code == 4 and out == ""
    line = one_line(err)
    assert no_engine in line and "dev-engine.sh start" in line


def test_bad_flag_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build", ".", "--format", "yaml"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
