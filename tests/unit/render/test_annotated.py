"""``--format annotated`` against golden files: every recorded sample build (explained) and the
``predict`` view of every sample on both builders; colours only when asked for (TTY, no NO_COLOR)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from helpers.explain import explained
from helpers.golden import check_golden, names

from analyzer.cli import main
from analyzer.render import RenderOptions
from analyzer.render.report import annotated
from analyzer.render.report.annotated import BAR_WIDTH, bar

ROOT = Path(__file__).resolve().parents[3]

SAMPLES = sorted(p.parent.name for p in (ROOT / "sample_dockerfiles").glob("*/Dockerfile"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("name", names())
def test_measured_build_matches_golden(name: str) -> None:
    check_golden(f"annotated/{name}.txt", annotated.render(explained(name)))


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
@pytest.mark.parametrize("sample", SAMPLES)
def test_prediction_matches_golden(
    sample: str, builder: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    path = f"sample_dockerfiles/{sample}/Dockerfile"
    assert main(["predict", path, f"--{builder}", "--format", "annotated", "-q"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out  # captured stdout is not a terminal
    check_golden(f"annotated/predict-{sample}-{builder}.txt", out)


def test_colour_golden_and_plain_text_underneath() -> None:
    report = explained("deleted-file")
    coloured = annotated.render(report, RenderOptions(colour=True))
    check_golden("annotated/deleted-file.ansi.txt", coloured)
    assert "\x1b[36m" in coloured and "\x1b[1m" in coloured
    assert ANSI.sub("", coloured) == annotated.render(report)


def test_every_line_of_the_dockerfile_appears_as_written() -> None:
    report = explained("arg-onbuild")
    assert report.dockerfile_text is not None
    out = annotated.render(report).splitlines()
    written = report.dockerfile_text.splitlines()
    numbered = [line for line in out if re.search(r"[│┆]\s*\d+(  |$)", line)]
    assert len(numbered) == len(written)
    for number, (line, text) in enumerate(zip(numbered, written, strict=True), start=1):
        assert re.search(rf"[│┆]\s*{number}(  |$)", line) and line.endswith(text.rstrip())
    assert sum("↳  ONBUILD" in line for line in out) == 3


@pytest.mark.parametrize(
    ("fill", "expected"),
    [(None, ""), (0.0, ""), (1e-9, "▏"), (0.5, "█" * 8), (1.0, "█" * BAR_WIDTH), (3 / 128, "▍")],
)
def test_bar(fill: float | None, expected: str) -> None:
    assert bar(fill) == expected.ljust(BAR_WIDTH)


def test_outside_the_final_image_is_drawn_light() -> None:
    assert bar(0.5, in_image=False) == ("░" * 8).ljust(BAR_WIDTH)


@pytest.mark.parametrize(
    ("tty", "no_color", "coloured"), [(True, None, True), (True, "1", False), (False, None, False)]
)
def test_cli_colours_only_on_a_tty_without_no_color(
    tty: bool,
    no_color: str | None,
    coloured: bool,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    if no_color is not None:
        monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    assert main(["predict", "sample_dockerfiles/basics/Dockerfile", "--format", "annotated", "-q"]) == 0
    assert ("\x1b[" in capsys.readouterr().out) is coloured


def test_an_existing_image_names_no_unknown_builder() -> None:
    from dataclasses import replace

    report = replace(explained("deleted-file"), builder="unknown")
    text = annotated.render(report)
    assert "unknown builder" not in text and "(existing image)" in text.splitlines()[0]


def test_the_legend_says_what_the_mark_means() -> None:
    text = annotated.render(explained("deleted-file"))
    assert any(line.startswith(" ") and " ! " in line for line in text.splitlines())
    assert "# ! marks a surprise: the line did not do what `layermap predict` said it would" in text
