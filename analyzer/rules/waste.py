"""Helpers shared by the rules over ``--contents`` waste pairs (deleted, overwritten, copy-up)."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.render.common import human_size
from analyzer.rules.base import Hit, RuleContext
from analyzer.rules.evidence import Contents, WastePair

SHOWN_PATHS = 3


def worst_lines(contents: Contents, count: int = 3) -> tuple[int, ...]:
    """Lines whose added bytes are wasted the most, worst first."""
    wasted: dict[int, int] = {}
    for pair in contents.pairs:
        wasted[pair.added_line] = wasted.get(pair.added_line, 0) + pair.bytes
    return tuple(sorted(wasted, key=lambda line: -wasted[line])[:count])


def shown(paths: tuple[str, ...]) -> str:
    """A few paths for a message; the finding's ``paths`` field has them all."""
    head = ", ".join(paths[:SHOWN_PATHS])
    more = len(paths) - SHOWN_PATHS
    return f"{head} and {more} more" if more > 0 else head


def pair_hits(ctx: RuleContext, kind: str, at_added_line: bool) -> Iterator[Hit]:
    """One hit per waste pair of ``kind``, located at the adding or at the removing line."""
    if ctx.contents is None:
        return
    for pair in ctx.contents.pairs:
        if pair.kind != kind or pair.bytes <= 0:
            continue
        line = pair.added_line if at_added_line else pair.removed_line
        other = pair.removed_line if at_added_line else pair.added_line
        step = ctx.step_at(line)
        yield Hit(
            line=line,
            end_line=step.end_line if step else None,
            message=_message(pair),
            bytes=pair.bytes,
            evidence="contents",
            related_lines=(other,),
            paths=pair.paths,
        )


def _message(pair: WastePair) -> str:
    size = human_size(pair.bytes)
    what = shown(pair.paths)
    if pair.kind == "deleted":
        return (
            f"{size} added by this line ({what}) are deleted by line {pair.removed_line} but still ship "
            "in this line's layer: delete them in the same RUN that creates them"
        )
    if pair.kind == "overwritten":
        return (
            f"{size} added by this line ({what}) are overwritten by line {pair.removed_line}; the hidden "
            "copies still ship in this line's layer"
        )
    return (
        f"this line copies {size} first added by line {pair.added_line} ({what}) into a new layer "
        "(a chmod/chown or hard link of a lower file copies the whole file): set the mode or owner "
        f"where the files are added (COPY --chmod/--chown, or in line {pair.added_line}'s RUN)"
    )
