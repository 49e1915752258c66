"""``layermap completion bash|zsh|tcsh``: a shell completion script for every command, flag and choice.

The script is generated from the same argparse parser the command line uses (with shtab, a kept
library), so it can never list a flag that does not exist; paths complete as files or folders where a
file or a folder is expected. Nothing runs at start-up: the script is static, and shtab is imported only
by this command.

    layermap completion bash > ~/.local/share/bash-completion/completions/layermap
    layermap completion zsh > "${fpath[1]}/_layermap"
"""

from __future__ import annotations

import argparse
from typing import Any

from analyzer.errors import EXIT_OK

SHELLS = ("bash", "zsh", "tcsh")
_FILES = {"dockerfile", "config", "output", "ca_cert", "secrets"}
"""Options whose value is a file path (completed as files)."""
_FOLDERS = {"context", "directory"}


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or tcsh) for every command and flag",
        description="Print a completion script for SHELL; see README (Install) for where to put it.",
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import shtab

    from analyzer.cli import parser

    top = parser()
    for action in _all_actions(top):
        dest = getattr(action, "dest", "")
        if dest in _FILES:
            action.complete = shtab.FILE  # type: ignore[attr-defined]
        elif dest in _FOLDERS:
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
    print(shtab.complete(top, shell=args.shell), end="")
    return EXIT_OK


def _all_actions(top: argparse.ArgumentParser) -> list[argparse.Action]:
    found = list(top._actions)
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.extend(_all_actions(child))
    return found
