"""``python -m helpers.record NAME [ARGS...]``: run one fixture recorder (see ``helpers/record``)."""

from __future__ import annotations

import importlib
import sys

from helpers.record import RECORDERS


def run(argv: list[str]) -> None:
    if not argv or argv[0] not in RECORDERS:
        sys.exit(f"usage: python -m helpers.record {{{','.join(RECORDERS)}}} [ARGS...]")
    sys.argv = [f"helpers.record.{argv[0]}", *argv[1:]]
    importlib.import_module(f"helpers.record.{argv[0]}").main()


if __name__ == "__main__":
    run(sys.argv[1:])
