"""dive-compatible figures: equal to the real dive 0.13 on a recorded image, and dive's known errors
reproduced on purpose (ours, from ``changes.walk``, side by side)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.contents import KB, layers

from analyzer.contents.changes import walk
from analyzer.contents.dive import dive_figures
from analyzer.contents.listing import Entry, LayerListing

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "contents" / "dive-recipe.json"


def ours(listings: list[LayerListing]) -> tuple[int, float]:
    result = walk(listings)
    wasted = result.stored_bytes - result.visible_bytes
    return wasted, result.visible_bytes / result.stored_bytes if result.stored_bytes else 1.0


def test_recorded_dive_recipe_gives_dive_s_own_numbers() -> None:
    """dive's test image (cp, mv, chmod, rm -rf) built on the local busybox, and dive 0.13's --json."""
    data = json.loads(FIXTURE.read_text())
    listings = [
        LayerListing(f"sha256:{i}", tuple(Entry._make(e) for e in layer))
        for i, layer in enumerate(data["layers"])
    ]
    figures = dive_figures(listings)
    assert figures.wasted_bytes == data["dive"]["inefficientBytes"] == 35040
    assert figures.efficiency == data["dive"]["efficiencyScore"]
    assert figures.size_bytes == data["dive"]["sizeBytes"] == sum(data["dive"]["layer_sizes"])
    assert figures.user_size_bytes == sum(data["dive"]["layer_sizes"][1:])
    # Ours: the same 5 x 7008 bytes by coincidence, but made of other files (dive counts /root/saved.txt
    # twice and misses /root/example/somefile2.txt, deleted with its directory); a lower efficiency.
    wasted, efficiency = ours(listings)
    assert (
        wasted == 35040 and efficiency == pytest.approx(0.98293, abs=1e-5) and efficiency < figures.efficiency
    )


def test_overwrite_counts_both_versions_for_dive() -> None:
    listings = layers(
        [("f", "big", KB * 512), ("f", "del", KB * 3)], [("f", "big", KB * 256, 1)], [("w", "del")]
    )
    figures = dive_figures(listings)
    assert figures.wasted_bytes == (512 + 256 + 3) * 1024  # the visible 256 KiB too
    assert figures.efficiency == 256 / 771
    assert ours(listings) == ((512 + 3) * 1024, 256 / 771)  # same efficiency: the smallest is the visible


def test_dive_takes_the_smallest_version_as_the_useful_one() -> None:
    listings = layers([("f", "grow", KB * 256)], [("f", "grow", KB * 512, 1)])
    assert dive_figures(listings).efficiency == 256 / 768
    assert ours(listings)[1] == 512 / 768


def test_a_deleted_directory_is_not_waste_for_dive() -> None:
    listings = layers(
        [("d", "r"), ("d", "r/ex"), ("f", "r/ex/1", KB), ("f", "r/ex/2", KB * 2)],
        [("d", "r"), ("w", "r/ex")],
    )
    figures = dive_figures(listings)
    assert (figures.wasted_bytes, figures.efficiency) == (0, 1.0)
    assert ours(listings) == (3 * 1024, 0.0)


def test_opaque_directories_are_ignored_by_dive() -> None:
    listings = layers([("d", "c"), ("f", "c/old", KB)], [("d", "c"), ("o", "c"), ("f", "c/new", b"n")])
    assert dive_figures(listings).wasted_bytes == 0
    assert ours(listings)[0] == 1024


def test_only_layer_zero_is_dive_s_base() -> None:
    listings = layers([("f", "base0", KB)], [("f", "base1", KB * 9)], [("f", "x", KB * 2)], [("w", "x")])
    figures = dive_figures(listings)
    assert figures.user_size_bytes == 11 * 1024
    assert figures.user_wasted_percent == 2 / 11
    assert dive_figures(layers([("f", "a", KB)])).user_wasted_percent is None  # dive prints NaN


def test_a_repeated_layer_is_empty_for_dive() -> None:
    """In a ``docker save`` the repeat is a symlink to the first copy; dive reads an empty layer."""
    first = layers([("f", "f", KB)])[0]
    middle = LayerListing("sha256:middle", first.entries)
    figures = dive_figures([first, middle, first])
    assert (figures.wasted_bytes, figures.size_bytes) == (2048, 2048)
