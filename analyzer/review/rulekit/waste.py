"""Helpers shared by the rules over ``--contents`` waste pairs (deleted, overwritten, copy-up)."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import _
from analyzer.model import WastePair
from analyzer.review.rulekit.base import Hit, RuleContext
from analyzer.review.rulekit.evidence import Contents
from analyzer.units import human_size

SHOWN_PATHS = 3


def worst_lines(contents: Contents, count: int = 3) -> tuple[int, ...]:
    """Lines whose added bytes are wasted the most, worst first (base-image bytes have no line)."""
    wasted: dict[int, int] = {}
    for pair in contents.pairs:
        if pair.added_line is not None:
            wasted[pair.added_line] = wasted.get(pair.added_line, 0) + pair.bytes
    return tuple(sorted(wasted, key=lambda line: -wasted[line])[:count])


def shown(paths: tuple[str, ...], count: int | None = None) -> str:
    """A few paths for a message; the finding's ``paths`` field has the rest."""
    head = ", ".join(paths[:SHOWN_PATHS])
    more = max(count or 0, len(paths)) - min(len(paths), SHOWN_PATHS)
    return _("{paths} and {n} more").format(paths=head, n=more) if more > 0 else head


def pair_hits(
    ctx: RuleContext, kinds: tuple[str, ...], at_added_line: bool, base: bool = False
) -> Iterator[Hit]:
    """One hit per waste pair of ``kinds``, at the adding (or removing) line.

    ``base`` selects the pairs whose bytes came with the base image (no adding line): those sit at the
    line that removed them, the only line of this Dockerfile involved; the other rules skip them.
    """
    if ctx.contents is None:
        return
    for pair in ctx.contents.pairs:
        if pair.kind not in kinds or pair.bytes <= 0 or (pair.added_line is None) is not base:
            continue
        line = pair.removed_line if base or not at_added_line else pair.added_line
        other = None if base else (pair.removed_line if at_added_line else pair.added_line)
        if line is None:
            continue  # no Dockerfile line involved (an image mapped without one)
        step = ctx.step_at(line)
        yield Hit(
            line=line,
            end_line=step.end_line if step else None,
            message=_message(pair),
            bytes=pair.bytes,
            evidence="contents",
            related_lines=(other,) if other is not None else (),
            paths=pair.paths,
            data={"kind": pair.kind, "path_count": pair.path_count or len(pair.paths)},
        )


def _message(pair: WastePair) -> str:
    size = human_size(pair.bytes)
    what = shown(pair.paths, pair.path_count)
    if pair.added_line is None:
        if pair.kind == "deleted":
            text = _(
                "this line deletes {size} of the base image's files ({what}); "
                "the base's layers still ship the old versions"
            )
        elif pair.kind == "overwritten":
            text = _(
                "this line replaces {size} of the base image's files ({what}); "
                "the base's layers still ship the old versions"
            )
        else:
            text = _(
                "this line copies up {size} of the base image's files ({what}); "
                "the base's layers still ship the old versions"
            )
        return text.format(size=size, what=what)
    if pair.kind == "deleted":
        return _(
            "{size} added by this line ({what}) are deleted by line {line} but still ship "
            "in this line's layer: delete them in the same RUN that creates them"
        ).format(size=size, what=what, line=pair.removed_line)
    if pair.kind == "overwritten":
        return _(
            "{size} added by this line ({what}) are overwritten by line {line}; the hidden "
            "copies still ship in this line's layer"
        ).format(size=size, what=what, line=pair.removed_line)
    return _(
        "this line copies {size} first added by line {line} ({what}) into a new layer "
        "(a chmod/chown or hard link of a lower file copies the whole file): set the mode or owner "
        "where the files are added (COPY --chmod/--chown, or in line {line}'s RUN)"
    ).format(size=size, what=what, line=pair.added_line)
