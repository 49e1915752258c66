"""``layermap samples DIR`` writes exactly the repository's sample folders, and never overwrites silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.cli import main

SAMPLES = Path(__file__).resolve().parents[3] / "sample_dockerfiles"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_every_sample_file_byte_for_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["samples", str(tmp_path / "out")]) == 0
    written = _files(tmp_path / "out")
    assert written == _files(SAMPLES)
    assert "basics/Dockerfile" in written and "deleted-file/Dockerfile.fixed" in written
    assert "wrote 7 samples" in capsys.readouterr().err


def test_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["samples", str(tmp_path)]) == 0
    (tmp_path / "basics" / "Dockerfile").write_text("FROM scratch\n")
    capsys.readouterr()
    assert main(["samples", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "basics" / "Dockerfile").read_text() == "FROM scratch\n"
    assert main(["samples", "--force", "-q", str(tmp_path)]) == 0
    assert (tmp_path / "basics" / "Dockerfile").read_bytes() == (
        SAMPLES / "basics" / "Dockerfile"
    ).read_bytes()


def test_a_file_as_dir_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["samples", str(target)]) == 2
    assert capsys.readouterr().err.strip() == f"layermap: {target}: not a directory"
