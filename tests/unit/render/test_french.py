"""The human formats in French: golden outputs of the ``basics`` sample in each, and the table's
structure checked word by word (French headers, summary and units, no English left)."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape

import pytest
from helpers.explain import explained
from helpers.golden import check_golden
from helpers.lesson import deleted_file_with_contents

from analyzer import i18n
from analyzer.render import RENDERERS
from analyzer.render.report import table

HUMAN_FORMATS = ("table", "markdown", "annotated", "html", "lesson")


@pytest.fixture(autouse=True)
def french() -> Iterator[None]:
    i18n.use(i18n.FRENCH)
    yield
    i18n.use(i18n.ENGLISH)


@pytest.mark.parametrize("fmt", HUMAN_FORMATS)
def test_basics_golden_in_french(fmt: str) -> None:
    ext = {"markdown": "md", "html": "html", "lesson": "html"}.get(fmt, "txt")
    check_golden(f"fr/basics.{fmt}.{ext}", RENDERERS[fmt](explained("basics")))


def test_table_in_french() -> None:
    text = table.render(explained("basics"))
    header = next(line for line in text.splitlines() if line.startswith("Ligne"))
    assert header.split() == [
        "Ligne",
        "Instruction",
        "Couche",
        "Taille",
        "Cumul",
        "%",
        "image",
        "Cache",
        "Durée",
    ]
    assert "Image finale sha256:2fdc1bdb9ed3 : 1,99 Mo en 7 couches, 21 entrées d'historique" in text
    assert "Base busybox:latest : 1,99 Mo en 2 couches, 3 entrées d'historique" in text
    assert "Ajouté par ce Dockerfile : 106 o en 5 couches" in text
    assert "Plus grosse étape : ligne 17 ADD notes.txt /app/notes.txt (56 o)" in text
    assert "Prédiction et mesure" in text and "Ce qu'a fait chaque ligne" in text
    # None of the report's own English phrases is left (Dockerfile lines quoted in it aside).
    phrases = (
        "Final image",
        "Added by",
        "history entr",
        " MB",
        " kB",
        "as predicted",
        "no layer",
        "made a layer",
    )
    for phrase in phrases:
        assert phrase not in text, phrase


def test_lesson_page_is_french() -> None:
    page = unescape(RENDERERS["lesson"](deleted_file_with_contents()))
    assert '<html lang="fr">' in page
    for heading in (
        "Les strates d'une image",
        "Ce que le pull a récupéré",
        "docker image inspect : la configuration",
        "Le magasin de couches et ses chain IDs",
        "docker save : l'archive",
        "Les fichiers de chaque couche",
        "Ligne du Dockerfile → couche",
        "Constats",
    ):
        assert heading in page, heading
    # The file browser's sentences and units travel with its data, in French.
    assert "Image entière" in page
    assert "The strata of an image" not in page and "Files of each layer" not in page


def test_html_sections_in_french() -> None:
    page = unescape(RENDERERS["html"](deleted_file_with_contents()))
    for heading in (
        "Espace gaspillé",
        "Plus gros fichiers par ligne",
        "Fichiers de chaque couche",
        "Image finale",
    ):
        assert heading in page, heading
    for english in ("Wasted space", "Largest files per line", "Files of each layer", "Final image"):
        assert english not in page, english
