"""The renderer registry (``analyzer/render/__init__.py``): every kind × format resolves, unknown names
raise ``KeyError``, modules load only on first use, and every report renderer takes the whole report."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from analyzer.dockerfile import load
from analyzer.model import Image, Layer, LayerDb, LayerDbEntry, LayersView
from analyzer.render import (
    DIFF_RENDERERS,
    FORMATS,
    LAYERS_RENDERERS,
    PLAIN,
    PULL_RENDERERS,
    RENDERERS,
    STORE_RENDERERS,
    RenderOptions,
    module_of,
    renderer,
)
from analyzer.teaching.predict import prediction_report

ROOT = Path(__file__).parents[3]
PAIRS = [(kind, fmt) for kind, formats in FORMATS.items() for fmt in formats]


@pytest.mark.parametrize(("kind", "fmt"), PAIRS)
def test_every_kind_and_format_resolves_to_its_modules_render(kind: str, fmt: str) -> None:
    found = renderer(kind, fmt)
    assert found.__module__ == module_of(kind, fmt) == f"analyzer.render.{kind}.{fmt}"
    assert found.__name__ == "render"
    views = {"report": RENDERERS, "diff": DIFF_RENDERERS, "layers": LAYERS_RENDERERS}
    view = {**views, "pull": PULL_RENDERERS, "store": STORE_RENDERERS}[kind]
    assert view[fmt] is found


def test_the_typed_views_list_the_formats_of_their_kind_in_order() -> None:
    assert list(RENDERERS) == [
        "table", "json", "markdown", "annotated", "html", "lesson", "sarif", "github", "gitlab", "junit"
    ]  # fmt: skip
    assert list(DIFF_RENDERERS) == list(LAYERS_RENDERERS) == ["table", "json", "markdown"]
    assert len(RENDERERS) == 10 and "yaml" not in RENDERERS and "html" not in DIFF_RENDERERS
    assert list(PULL_RENDERERS) == ["table", "json", "markdown"] and list(STORE_RENDERERS) == [
        "table",
        "json",
        "html",
    ]


@pytest.mark.parametrize(
    ("kind", "fmt"), [("report", "yaml"), ("diff", "html"), ("layers", "sarif"), ("image", "json"), ("", "")]
)
def test_unknown_kinds_and_formats_raise_key_error(kind: str, fmt: str) -> None:
    with pytest.raises(KeyError):
        renderer(kind, fmt)
    with pytest.raises(KeyError):
        module_of(kind, fmt)


def test_unknown_format_through_a_view_raises_key_error() -> None:
    for view in (RENDERERS, DIFF_RENDERERS, LAYERS_RENDERERS):
        with pytest.raises(KeyError):
            view["yaml"]


def loaded_after(code: str) -> set[str]:
    """The ``analyzer.render`` modules loaded after running ``code`` in a fresh interpreter."""
    script = textwrap.dedent(code) + textwrap.dedent(
        """
        import sys
        print("\\n".join(m for m in sys.modules if m.startswith("analyzer.render")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_importing_the_registry_imports_no_renderer() -> None:
    loaded = loaded_after("import analyzer.render")
    assert loaded == {"analyzer.render"}


def test_json_loads_the_json_renderer_and_not_the_html_one() -> None:
    loaded = loaded_after(
        """
        import contextlib, io
        from analyzer.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["predict", "sample_dockerfiles/basics/Dockerfile", "--format", "json", "-q"]) == 0
        """
    )
    assert "analyzer.render.report.json" in loaded
    assert "analyzer.render.report.html" not in loaded
    assert not {m for m in loaded if m.startswith(("analyzer.render.diff.", "analyzer.render.layers.t"))}


def test_every_report_renderer_takes_the_report_and_options() -> None:
    report = prediction_report(load(ROOT / "sample_dockerfiles" / "basics" / "Dockerfile"), "Dockerfile")
    for fmt in RENDERERS:
        render = RENDERERS[fmt]
        params = list(inspect.signature(render).parameters.values())
        assert [p.name for p in params] == ["report", "options"] and params[1].default is PLAIN
        assert render(report) == render(report, RenderOptions(colour=False))
    assert "\x1b[" in RENDERERS["annotated"](report, RenderOptions(colour=True))


def test_layers_renderers_take_the_view() -> None:
    image = Image(
        "sha256:" + "a" * 64, ("t:1",), 6, (), (Layer(0, "sha256:" + "b" * 64, "sha256:" + "b" * 64, 6),)
    )
    entry = LayerDbEntry(0, image.layers[0].diff_id, image.layers[0].chain_id, 6)
    view = LayersView(image, LayerDb("no-engine", "Read from an archive.", (entry,)))
    assert LAYERS_RENDERERS["table"](view).startswith("Image sha256:aaaaaaaaaaaa (t:1): 1 layer\n\n")
    assert LAYERS_RENDERERS["markdown"](view).startswith("### layermap layers: `sha256:aaaaaaaaaaaa (t:1)`")
    assert '"kind": "layers"' in LAYERS_RENDERERS["json"](view)
