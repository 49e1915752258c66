"""Pure formatting of numbers and text for people: sizes in Docker's units, text cut to a width.

Shared by the renderers (``render/``), the review rules' messages (``review/``) and the teaching
paragraphs (``teaching/``), none of which should import another's package for a number format.

Numbers follow the run's language (:func:`analyzer.i18n.language`): English ``1.99 MB``, ``12.5%``,
``13,700,000 B``; French ``1,99 Mo``, ``12,5 %``, ``13 700 000 o`` — a decimal comma, a narrow no-break
space (U+202F) between thousands and before ``%``, and octets (o, ko, Mo, Go) for bytes, as CLDR's
French data and the French Docker documentation write them. A small function rather than Babel's
``format_decimal``: the rules are these few, and the run-time import of Babel's locale data would cost
every command its start-up time.
"""

from __future__ import annotations

from analyzer.i18n import FRENCH, language, ngettext

NNBSP = "\u202f"
"""French thousands separator and the space before ``%`` (espace fine insécable)."""
_UNITS = {"en": ("B", "kB", "MB", "GB"), "fr": ("o", "ko", "Mo", "Go")}


def decimal(text: str) -> str:
    """A number already formatted the English way (``1.99``, ``13,700``) in the run's style."""
    if language() != FRENCH:
        return text
    return text.replace(",", NNBSP).replace(".", ",")


def integer(value: int) -> str:
    """``13,700,000`` / ``13 700 000``."""
    return decimal(f"{value:,}")


def number(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals (``2.50`` / ``2,50``)."""
    return decimal(f"{value:,.{digits}f}")


def percent(ratio: float, digits: int = 1) -> str:
    """A ratio as a percentage: ``12.5%`` / ``12,5 %``."""
    text = number(ratio * 100, digits)
    return f"{text}{NNBSP}%" if language() == FRENCH else f"{text}%"


def seconds(value: float, digits: int = 2) -> str:
    """A duration: ``1.25s`` / ``1,25 s``."""
    return f"{number(value, digits)}{NNBSP}s" if language() == FRENCH else f"{value:.{digits}f}s"


def byte_unit() -> str:
    """The unit of a plain byte count: ``B`` / ``o``."""
    return _UNITS[language() if language() in _UNITS else "en"][0]


def human_size(size: int | None) -> str:
    """Bytes in Docker's decimal units (``docker history`` shows 1.98MB for 1,980,000 bytes)."""
    if size is None:
        return "-"
    units = _UNITS[language() if language() in _UNITS else "en"]
    value = float(size)
    for unit in units:
        if abs(value) < 1000 or unit == units[-1]:
            return f"{size} {unit}" if unit == units[0] else f"{decimal(f'{value:.3g}')} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def shorten(text: str, width: int = 48) -> str:
    """``text`` on one line (runs of whitespace become one space), cut to ``width`` with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def exact_size(size: int, signed: bool = False) -> str:
    """Bytes to the unit, in the one style every report uses: ``13,700,000 B`` (``+13,700,000 B``);
    French ``13 700 000 o`` (``+13 700 000 o``)."""
    sign = "+" if signed and size >= 0 else ""
    return f"{sign}{integer(size)} {byte_unit()}"


def size_with_exact(size: int) -> str:
    """``8.39 MB (8,388,608 B)``; just ``20 B`` below 1 kB, where the two are the same."""
    return exact_size(size) if abs(size) < 1000 else f"{human_size(size)} ({exact_size(size)})"


def count_of(count: int, singular: str, plural: str) -> str:
    """``1 layer`` / ``0 layers`` / ``5 layers``: the number with the right form of the noun.

    ``singular`` and ``plural`` are the English texts; they are extracted for translation as a
    plural pair (the ``count_of:2,3`` keyword in the Makefile's ``i18n`` target), and French picks its
    own form (0 and 1 are singular there: « 0 couche »).
    """
    return f"{integer(count)} {ngettext(singular, plural, count)}"
