"""``layermap completion``: scripts generated from the real parser, completing in a real bash; and every
option of every command has a help text."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer.cli import main, parser


def script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["layermap", "pre"], ["predict"]),
        (["layermap", "com"], ["completion"]),
        (["layermap", "build", "--progress", ""], ["auto", "plain", "tty", "quiet"]),
        (["layermap", "predict", "--cl"], ["--classic"]),
        (["layermap", "predict", "--format", "gi"], ["github", "gitlab"]),
        (["layermap", "image", "--pla"], ["--platform"]),
    ],
)
def test_bash_completes_commands_flags_and_choices(
    words: list[str], expected: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "layermap.bash").write_text(script("bash", capsys))
    line = " ".join(words)
    program = (
        f"source {tmp_path / 'layermap.bash'}; COMP_WORDS=({' '.join(repr(w) for w in words)}); "
        f"COMP_CWORD={len(words) - 1}; COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}; _shtab_layermap; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    assert sorted(done.stdout.split()) == sorted(expected)


@pytest.mark.parametrize("shell", ["zsh", "tcsh"])
def test_other_shells_get_a_script_naming_every_command(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = script(shell, capsys)
    for command in ("build", "image", "predict", "layers", "diff", "pull", "store", "samples", "completion"):
        assert command in text


def test_an_unknown_shell_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["completion", "fish"])
    assert exit_info.value.code == 2 and "invalid choice: 'fish'" in capsys.readouterr().err


def test_every_option_and_argument_has_help() -> None:
    top = parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {' '.join(action.option_strings) or action.dest}"
        for name, command in sub.choices.items()
        for action in command._actions
        if action.dest != "help" and not action.help
    ]
    assert missing == []
