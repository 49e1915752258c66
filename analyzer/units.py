"""Pure formatting of numbers and text for people: sizes in Docker's units, text cut to a width.

Shared by the renderers (``render/``), the review rules' messages (``review/``) and the teaching
paragraphs (``teaching/``), none of which should import another's package for a number format.
"""

from __future__ import annotations


def human_size(size: int | None) -> str:
    """Bytes in Docker's decimal units (``docker history`` shows 1.98MB for 1,980,000 bytes)."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def shorten(text: str, width: int = 48) -> str:
    """``text`` on one line (runs of whitespace become one space), cut to ``width`` with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
