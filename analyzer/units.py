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


def exact_size(size: int, signed: bool = False) -> str:
    """Bytes to the unit, in the one style every report uses: ``13,700,000 B`` (``+13,700,000 B``)."""
    return f"{size:+,d} B" if signed else f"{size:,d} B"


def size_with_exact(size: int) -> str:
    """``8.39 MB (8,388,608 B)``; just ``20 B`` below 1 kB, where the two are the same."""
    return exact_size(size) if abs(size) < 1000 else f"{human_size(size)} ({exact_size(size)})"


def count_of(count: int, singular: str, plural: str) -> str:
    """``1 layer`` / ``0 layers`` / ``5 layers``: the number with the right form of the noun."""
    return f"{count} {singular if count == 1 else plural}"
