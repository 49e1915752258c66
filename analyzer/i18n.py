"""The language of every human-facing text: ``_()`` and ``ngettext()`` bound once per run.

English is the source language (the text in the code); French comes from the gettext catalog
``analyzer/locale/fr/LC_MESSAGES/layermap.mo`` (compiled from ``layermap.po`` by ``make i18n``).

:func:`use` is called once by the CLI with the chosen language (``--lang``, else the locale, see
:func:`choose`). Nothing is loaded before a text is asked for: in English ``_`` returns its argument and
``gettext`` is never imported, so ``layermap predict``'s start-up pays nothing; in French the catalog is
read on the first ``_()`` call.

Texts built at import time (tables of phrases) are marked with :func:`N_` for extraction and
translated where they are used: ``_(PHRASES[key])``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # gettext is imported only when a catalog is read
    from gettext import NullTranslations

DOMAIN = "layermap"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
ENGLISH = "en"
FRENCH = "fr"
LANGUAGES = (ENGLISH, FRENCH)
"""What ``--lang`` accepts; English is the text in the code."""

# gettext's order (GNU gettext and Python's gettext.find): the first of these that is set wins.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_language = ENGLISH
_catalog: NullTranslations | None = None


def choose(explicit: str | None, environ: Mapping[str, str]) -> str:
    """``--lang`` when given, else the first supported language the locale names, else English.

    ``LANGUAGE`` may list several (``de:fr``): the first one layermap has wins, as with gettext.
    ``C`` and ``POSIX`` mean English.
    """
    if explicit:
        return explicit
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "")
        if not value:
            continue
        for item in value.split(":"):
            lang = item.split(".")[0].split("@")[0].split("_")[0].lower()
            if lang in ("c", "posix"):
                return ENGLISH
            if lang in LANGUAGES:
                return lang
        return ENGLISH
    return ENGLISH


def use(language: str) -> None:
    """Bind ``_`` and ``ngettext`` to ``language`` (one of :data:`LANGUAGES`) for the rest of the run."""
    global _language, _catalog
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    _language = language
    _catalog = None


def language() -> str:
    """The language texts are written in now (``en`` or ``fr``)."""
    return _language


def _translations() -> NullTranslations:
    global _catalog
    if _catalog is None:
        import gettext

        _catalog = gettext.translation(DOMAIN, LOCALE_DIR, languages=[_language], fallback=True)
    return _catalog


def _(message: str) -> str:
    """``message`` in the run's language."""
    if _language == ENGLISH:
        return message
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` (English: 1 is singular; French: 0 and 1 are), in the run's language."""
    if _language == ENGLISH:
        return singular if n == 1 else plural
    return _translations().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for extraction without translating it (translated later, where used)."""
    return message
