"""The cheap empty_layer rule: exact from history sizes and layer count, or no answer."""

from __future__ import annotations

from analyzer.image.config import infer_empty_layers
from analyzer.model import HistoryEntry


def entries(*rows: tuple[str, int]) -> list[HistoryEntry]:
    return [HistoryEntry(index=i, created_by=c, empty_layer=None, size=s) for i, (c, s) in enumerate(rows)]


def flags(result: tuple[HistoryEntry, ...] | None) -> list[bool | None] | None:
    return None if result is None else [e.empty_layer for e in result]


def test_sizes_and_metadata_decide_everything() -> None:
    history = entries(("/bin/sh -c #(nop) ADD file:1 in / ", 5), ('/bin/sh -c #(nop)  CMD ["sh"]', 0))
    assert flags(infer_empty_layers(history, 1)) == [False, True]


def test_zero_byte_entries_are_layers_when_the_count_says_so() -> None:
    history = entries(("ADD file:1 in /", 5), ("/bin/sh -c rm /x", 0), ("WORKDIR /new", 0), ("ENV A=1", 0))
    assert flags(infer_empty_layers(history, 3)) == [False, False, False, True]


def test_zero_byte_entries_are_empty_when_no_layer_is_left() -> None:
    history = entries(("ADD file:1 in /", 5), ("/bin/sh -c true", 0), ("/bin/sh -c #(nop) WORKDIR /tmp", 0))
    assert flags(infer_empty_layers(history, 1)) == [False, True, True]


def test_ambiguous_counts_give_no_answer() -> None:
    history = entries(("ADD file:1 in /", 5), ("/bin/sh -c true", 0), ("/bin/sh -c rm /x", 0))
    assert infer_empty_layers(history, 2) is None


def test_more_sized_entries_than_layers_is_no_answer() -> None:
    history = entries(("ADD file:1 in /", 5), ("RUN x # buildkit", 7))
    assert infer_empty_layers(history, 1) is None
