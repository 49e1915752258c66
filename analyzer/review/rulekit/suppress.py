"""Inline suppression: ``# layermap ignore=ID[,ID…]`` in the comment lines just above an instruction.

The parser drops comments, so this reads the Dockerfile's raw text. As with hadolint's pragma, the
comment must sit directly above the instruction (a block of consecutive comment lines counts as one);
it silences the named rules for findings on that instruction's line.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from analyzer.i18n import _

_PRAGMA = re.compile(r"^\s*#\s*layermap\s+ignore\s*=\s*(?P<ids>[\w\s,.-]+?)\s*$", re.IGNORECASE)


def inline_ignores(text: str, known_rules: Collection[str]) -> tuple[dict[int, set[str]], list[str]]:
    """Map instruction line → rule ids ignored there, plus warnings for unknown ids.

    Keys are the 1-based line right below each comment block, which is where the instruction starts.
    """
    lines = text.splitlines()
    out: dict[int, set[str]] = {}
    warnings: list[str] = []
    pending: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if stripped.startswith("#"):
            match = _PRAGMA.match(stripped)
            if match:
                ids = {i for i in re.split(r"[\s,]+", match.group("ids")) if i}
                unknown = sorted(ids - set(known_rules))
                warnings.extend(
                    _("line {line}: layermap ignore={rule}: unknown rule").format(line=number, rule=i)
                    for i in unknown
                )
                pending |= ids
            continue
        if pending and stripped:
            out[number] = pending
        pending = set()  # an instruction or a blank line ends the comment block
    return out, warnings
