"""The languages: the French catalog is complete and consistent with the code, the locale and ``--lang``
choose the language, numbers follow it, and JSON never changes with it."""

from __future__ import annotations

import ast
import gettext
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from analyzer import i18n
from analyzer.cli import main
from analyzer.units import count_of, exact_size, human_size, percent, size_with_exact

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "analyzer" / "locale" / "fr" / "LC_MESSAGES" / "layermap.po"
MO = PO.with_suffix(".mo")
BASICS = str(ROOT / "sample_dockerfiles" / "basics" / "Dockerfile")
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


@pytest.fixture(autouse=True)
def english_after() -> Iterator[None]:
    """main() binds the language for the rest of the process: every test here leaves it English."""
    yield
    i18n.use(i18n.ENGLISH)


def _keywords() -> dict[str, tuple[int, ...] | None]:
    """The Makefile's ``I18N_KEYWORDS`` (``-k name:1,2``), so the test extracts as ``make i18n`` does."""
    line = next(ln for ln in (ROOT / "Makefile").read_text().splitlines() if ln.startswith("I18N_KEYWORDS"))
    keywords: dict[str, tuple[int, ...] | None] = {}
    for spec in re.findall(r"-k (\S+)", line):
        name, _, args = spec.partition(":")
        keywords[name] = tuple(int(a) for a in args.split(",")) if args else None
    return keywords


def _extracted() -> set[str | tuple[str, ...]]:
    messages = extract_from_dir(
        str(ROOT),
        method_map=[("analyzer/**.py", "python")],
        keywords=_keywords(),
        comment_tags=(),
        strip_comment_tags=True,
    )
    return {msg[2] if isinstance(msg[2], str) else tuple(msg[2]) for msg in messages}


def _catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as handle:
        return read_po(handle)


def test_every_text_in_the_code_has_a_french_translation() -> None:
    catalog = _catalog()
    extracted = _extracted()
    assert len(extracted) > 300, "the extraction found too few texts: are the keywords right?"
    missing, fuzzy, empty = [], [], []
    for msgid in extracted:
        key = msgid if isinstance(msgid, str) else msgid[0]
        message = catalog.get(key)
        if message is None:
            missing.append(msgid)
        elif message.fuzzy:
            fuzzy.append(msgid)
        elif not message.string or any(
            not form for form in message.string if isinstance(message.string, tuple)
        ):
            empty.append(msgid)
    assert not missing, f"texts without an entry in {PO.name} (run `make i18n`, then translate): {missing}"
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy}"
    assert not empty, f"empty translations: {empty}"


def test_no_text_escapes_extraction() -> None:
    """Every literal given to ``_``, ``N_``, ``ngettext`` or ``count_of`` anywhere in the code, f-strings
    and nested calls included (where an extractor may not look), has its entry in the catalog."""
    catalog = _catalog()
    keywords = _keywords()
    missing = []
    for path in sorted((ROOT / "analyzer").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in keywords
            ):
                continue
            spec = keywords[node.func.id]
            index = spec[0] - 1 if spec else 0
            if len(node.args) > index and isinstance(node.args[index], ast.Constant):
                text = node.args[index].value
                if isinstance(text, str) and catalog.get(text) is None:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text[:50]!r}")
    assert not missing, "texts the catalog lacks (take _() out of the f-string, then `make i18n`): " + str(
        missing
    )


def test_no_function_shadows_the_translation_function() -> None:
    """A function that assigns ``_`` (``for _, x in …``) makes it local: its ``_("…")`` calls would fail."""
    shadowing = []
    for path in sorted((ROOT / "analyzer").rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            nodes = list(ast.walk(fn))
            assigns = any(
                isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) for n in nodes
            )
            calls = any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in nodes
            )
            if assigns and calls:
                shadowing.append(f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name}")
    assert not shadowing, shadowing


def test_placeholders_are_the_same_in_french() -> None:
    bad = []
    for message in _catalog():
        if not message.id:
            continue
        if isinstance(message.id, str):
            if sorted(PLACEHOLDER.findall(message.id)) != sorted(PLACEHOLDER.findall(str(message.string))):
                bad.append(message.id)
            continue
        # Plurals: the French plural has the English plural's placeholders; the singular may leave the
        # count out (« le déclencheur » for 1) but may add none.
        singular, plural = message.id
        allowed = set(PLACEHOLDER.findall(singular)) | set(PLACEHOLDER.findall(plural))
        one, many = message.string
        if set(PLACEHOLDER.findall(many)) != set(PLACEHOLDER.findall(plural)):
            bad.append(plural)
        if not set(PLACEHOLDER.findall(one)) <= allowed:
            bad.append(singular)
    assert not bad, f"placeholders differ between msgid and msgstr: {bad}"


def test_shipped_mo_is_the_compiled_po() -> None:
    """The committed .mo says what the .po says (`make i18n` recompiles it)."""
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for message in _catalog():
        if not message.id:
            continue
        if isinstance(message.id, str):
            if compiled.gettext(message.id) != message.string:
                stale.append(message.id)
        elif (compiled.ngettext(message.id[0], message.id[1], 1), compiled.ngettext(*message.id, 2)) != tuple(
            message.string
        ):
            stale.append(message.id[0])
    assert not stale, f"{MO.name} is older than {PO.name} (run `make i18n`): {stale[:5]}"


# --------------------------------------------------------------------------- choosing the language


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        (None, {}, "en"),
        (None, {"LANG": "fr_FR.UTF-8"}, "fr"),
        (None, {"LANG": "fr_CA.UTF-8"}, "fr"),
        (None, {"LANG": "C"}, "en"),
        (None, {"LANG": "C.UTF-8"}, "en"),
        (None, {"LANG": "POSIX"}, "en"),
        (None, {"LANG": "de_DE.UTF-8"}, "en"),
        (None, {"LC_ALL": "C", "LANG": "fr_FR.UTF-8"}, "en"),
        (None, {"LC_MESSAGES": "fr_FR.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
        (None, {"LANGUAGE": "de:fr", "LANG": "en_US.UTF-8"}, "fr"),
        (None, {"LANGUAGE": "", "LC_ALL": "fr_BE.UTF-8@euro"}, "fr"),
        ("en", {"LANG": "fr_FR.UTF-8"}, "en"),
        ("fr", {"LANG": "C"}, "fr"),
    ],
)
def test_choose(explicit: str | None, environ: dict[str, str], expected: str) -> None:
    assert i18n.choose(explicit, environ) == expected


def _predict(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], *args: str
) -> str:
    for name in i18n.LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)  # predict's builder: BuildKit, docker's default
    assert (
        main([*args, "predict", BASICS] if args and args[0] == "--lang" else ["predict", BASICS, *args]) == 0
    )
    return capsys.readouterr().out


def test_lang_fr_from_the_locale(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = _predict(monkeypatch, capsys, {"LANG": "fr_FR.UTF-8"})
    assert "Prédiction pour le builder buildkit (sans moteur)" in out
    assert "Ligne" in out and "Pourquoi" in out and "pas de couche" in out
    assert "no layer" not in out


def test_lang_option_wins_over_the_locale(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    after = _predict(monkeypatch, capsys, {"LANG": "fr_FR.UTF-8"}, "--lang", "en")
    assert "Prediction for the buildkit builder (no engine)" in after
    assert "couche" not in after
    before_command = _predict(monkeypatch, capsys, {"LANG": "C"}, "--lang", "fr")
    assert "Prédiction pour le builder buildkit" in before_command


def test_c_and_posix_are_english(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for locale in ("C", "POSIX", "C.UTF-8"):
        out = _predict(monkeypatch, capsys, {"LC_ALL": locale, "LANG": "fr_FR.UTF-8"})
        assert "Prediction for the buildkit builder" in out, locale


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_is_the_same_in_french(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    english = _predict(monkeypatch, capsys, {"LANG": "C"}, "--format", fmt)
    french = _predict(monkeypatch, capsys, {"LANG": "fr_FR.UTF-8"}, "--format", fmt, "--lang", "fr")
    assert french == english
    assert "couche" not in french and json.loads(french)


# --------------------------------------------------------------------------- numbers


def test_french_numbers() -> None:
    i18n.use(i18n.FRENCH)
    nnbsp = "\u202f"
    assert human_size(1_980_000) == "1,98 Mo"
    assert human_size(4_210) == "4,21 ko"
    assert human_size(20) == "20 o"
    assert exact_size(13_700_000) == f"13{nnbsp}700{nnbsp}000 o"
    assert exact_size(1_200, signed=True) == f"+1{nnbsp}200 o"
    assert size_with_exact(8_388_608) == f"8,39 Mo (8{nnbsp}388{nnbsp}608 o)"
    assert percent(0.125) == f"12,5{nnbsp}%"
    assert count_of(0, "layer", "layers") == "0 couche"
    assert count_of(1, "layer", "layers") == "1 couche"
    assert count_of(2, "layer", "layers") == "2 couches"


def test_english_numbers_unchanged() -> None:
    assert human_size(1_980_000) == "1.98 MB"
    assert exact_size(13_700_000) == "13,700,000 B"
    assert percent(0.125) == "12.5%"
    assert count_of(0, "layer", "layers") == "0 layers"


def test_english_reads_no_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """English is the text in the code: no catalog is opened for it."""
    monkeypatch.setattr(gettext, "translation", _fail)
    i18n.use(i18n.ENGLISH)
    assert i18n._("Line") == "Line"
    assert i18n.ngettext("layer", "layers", 2) == "layers"


def _fail(*args: object, **kwargs: object) -> io.BytesIO:
    raise AssertionError("gettext.translation called for English")
