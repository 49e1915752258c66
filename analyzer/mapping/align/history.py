"""Alignment by position in an image's history (BuildKit builds, or an image built by anything).

Without per-step images the final image's history is the only record. Its shape (engine-facts):
the base image's entries, then for each stage of the ``FROM <stage>`` chain, oldest first, one entry
per ONBUILD trigger of that stage's base, then one entry per instruction after FROM — except declared
ONBUILD instructions under BuildKit, which leave no entry. Global ARGs and FROM have none.

Layer or not is ``empty_layer`` in the image configuration. The CreatedBy text is a check
(``match``): when it disagrees with the position, the entry is a :class:`~analyzer.model.Mismatch`,
never "fixed"; whether that stops the report is :func:`~analyzer.mapping.align.match.fatal`'s call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from analyzer.mapping.align import match
from analyzer.mapping.align.common import error_for, events_by_line, failed_line, timed, trigger_text
from analyzer.model import (
    BaseInfo,
    BuildFailure,
    Dockerfile,
    HistoryEntry,
    Image,
    Mismatch,
    Stage,
    Step,
    StepEvent,
    StepHistory,
    StepLayer,
)


@dataclass(frozen=True)
class Planned:
    """One history entry the Dockerfile predicts, with the line it belongs to."""

    stage: int
    keyword: str
    text: str
    line: int
    end_line: int
    trigger: bool


def planned_entries(
    dockerfile: Dockerfile, chain: Sequence[int], builder: str, root_triggers: Sequence[str] = ()
) -> list[Planned]:
    """The entries the chain's stages add above the root base, in history order."""
    out: list[Planned] = []
    triggers: Sequence[str] = root_triggers
    for index in chain:
        stage = dockerfile.stages[index]
        head = stage.from_instruction
        for trig in triggers:
            keyword, text = trigger_text(trig)
            out.append(Planned(index, keyword, text, head.line, head.end_line, True))
        for inst in stage.instructions:
            if inst.keyword == "ONBUILD" and builder == "buildkit":
                continue  # BuildKit records declared ONBUILD in the config only
            out.append(Planned(index, inst.keyword, inst.text, inst.line, inst.end_line, False))
        # The next stage of the chain is built FROM this one: it runs this stage's declared triggers.
        triggers = [i.onbuild.text for i in stage.instructions if i.keyword == "ONBUILD" and i.onbuild]
    return out


def created_by_matches(keyword: str, created_by: str, builder: str) -> bool:
    """Whether a history entry's CreatedBy was written by a ``keyword`` instruction (either builder)."""
    del builder  # both builders' forms are told apart by the text itself
    return match.written_by(created_by).keyword == keyword


@dataclass(frozen=True)
class HistoryAlignment:
    steps: list[Step]
    warnings: list[str]
    base_history_count: int
    mismatches: list[Mismatch] = field(default_factory=list)
    """Entries that do not come from their position's line, in history order of the final image."""
    planned: int = 0
    """How many entries the Dockerfile makes in the final image (the denominator of ``match.fatal``)."""


def align_history(
    dockerfile: Dockerfile,
    target: str | None,
    image: Image | None,
    *,
    builder: str,
    base: BaseInfo | None,
    root_triggers: Sequence[str] = (),
    stage_images: Mapping[int, Image] | None = None,
    events: Sequence[StepEvent] = (),
    failure: BuildFailure | None = None,
) -> HistoryAlignment:
    """Steps in file order for ``image`` built from ``dockerfile`` (``image`` None: a failed build).

    ``base`` gives the base's history count; without it the base is taken as whatever precedes
    the entries the Dockerfile predicts (exact unless the base had ONBUILD triggers).
    ``stage_images`` optionally holds images of stages outside the final chain.
    """
    chain = dockerfile.chain(target)
    by_line = events_by_line(dockerfile, events)
    failed_at = failed_line(dockerfile, failure)
    notes = _Notes()
    measured: dict[int, list[Step]] = {}
    base_count = planned = 0
    if image is not None:
        base_count, planned = _map_chain(
            dockerfile, chain, image, builder, base, root_triggers, True, measured, notes
        )
    for index, stage_image in (stage_images or {}).items():
        if index not in chain:
            sub_chain = dockerfile.chain(dockerfile.stages[index].name or str(index))
            _map_chain(dockerfile, sub_chain, stage_image, builder, None, (), False, measured, notes)
    steps: list[Step] = [
        timed(
            Step(
                stage=None,
                line=a.line,
                end_line=a.end_line,
                instruction="ARG",
                text=a.text,
                creates_layer=False,
            ),
            by_line.get(a.line),
        )
        for a in dockerfile.global_args
    ]
    for stage in dockerfile.stages:
        steps.extend(_stage_steps(stage, chain, measured, by_line, failed_at, failure, builder))
    return HistoryAlignment(steps, notes.warnings, base_count, notes.mismatches, planned)


@dataclass
class _Notes:
    warnings: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)


def _map_chain(
    dockerfile: Dockerfile,
    chain: Sequence[int],
    image: Image,
    builder: str,
    base: BaseInfo | None,
    root_triggers: Sequence[str],
    in_final: bool,
    out: dict[int, list[Step]],
    notes: _Notes,
) -> tuple[int, int]:
    """Maps the chain's entries into ``out``; returns the base's entry count and the planned count."""
    planned = planned_entries(dockerfile, chain, builder, root_triggers)
    warnings = notes.warnings
    history = image.history
    base_count = len(history) - len(planned)
    if base is not None and base.history_count != base_count:
        warnings.append(
            f"the image has {len(history)} history entries; the base's {base.history_count} plus the "
            f"{len(planned)} this Dockerfile makes would be {base.history_count + len(planned)}: "
            "mapped from the top of the history"
        )
    if base_count < 0:
        warnings.append(f"the image has fewer history entries ({len(history)}) than this Dockerfile makes")
    layer_before = _layer_positions(history)
    mapped: dict[int, list[Step]] = {}
    for k, item in enumerate(planned):
        index = base_count + k
        entry = history[index] if 0 <= index < len(history) else None
        mapped.setdefault(item.stage, []).append(_step_for(item, entry, image, layer_before, in_final, notes))
    for stage, steps in mapped.items():
        out.setdefault(stage, steps)  # the final image's view of a stage wins over a stage image's
    return max(base_count, 0), len(planned)


def _layer_positions(history: Sequence[HistoryEntry]) -> list[int | None]:
    """For each entry, how many layers come before it (None once empty_layer is unknown)."""
    out: list[int | None] = []
    count: int | None = 0
    for entry in history:
        out.append(count)
        if count is not None:
            count = None if entry.empty_layer is None else count + (0 if entry.empty_layer else 1)
    return out


def _step_for(
    item: Planned,
    entry: HistoryEntry | None,
    image: Image,
    layer_before: Sequence[int | None],
    in_final: bool,
    notes: _Notes,
) -> Step:
    step = Step(
        stage=item.stage,
        line=item.line,
        end_line=item.end_line,
        instruction=item.keyword,
        text=item.text,
        trigger=item.trigger,
        in_final_image=in_final,
    )
    if entry is None:
        notes.mismatches.append(match.missing(item.text, item.line, in_final_image=in_final))
        return step
    found = match.compare(
        item.keyword, item.text, item.line, entry.index, entry.created_by, in_final_image=in_final
    )
    if found is not None:
        notes.mismatches.append(found)
    creates = None if entry.empty_layer is None else not entry.empty_layer
    layer = None
    position = layer_before[entry.index]
    if creates and position is not None and position < len(image.layers):
        layer = StepLayer(index=position, diff_id=image.layers[position].diff_id, size=entry.size)
    history = StepHistory(entry.index, entry.created_by, not creates) if creates is not None else None
    return replace(step, creates_layer=creates, history=history, layer=layer)


def _stage_steps(
    stage: Stage,
    chain: Sequence[int],
    measured: dict[int, list[Step]],
    by_line: Mapping[int, StepEvent],
    failed_at: int | None,
    failure: BuildFailure | None,
    builder: str,
) -> list[Step]:
    in_final = stage.index in chain
    head = stage.from_instruction
    from_step = Step(
        stage=stage.index,
        line=head.line,
        end_line=head.end_line,
        instruction="FROM",
        text=head.text,
        in_final_image=in_final,
        creates_layer=False,
        error=error_for(head.line, failed_at, failure),
    )
    out = [timed(from_step, by_line.get(head.line))]
    mine = measured.get(stage.index, [])
    out.extend(s for s in mine if s.trigger)
    at_line: dict[int, Step] = {}
    for s in mine:
        if not s.trigger:
            at_line.setdefault(s.line, s)  # the first, as a scan in order would find
    for inst in stage.instructions:
        found = at_line.get(inst.line)
        if found is None:
            # Not measured: a stage without an image, a failed build, or BuildKit's declared ONBUILD.
            no_entry = builder == "buildkit" and inst.keyword == "ONBUILD"
            found = Step(
                stage=stage.index,
                line=inst.line,
                end_line=inst.end_line,
                instruction=inst.keyword,
                text=inst.text,
                in_final_image=in_final,
                creates_layer=False if no_entry else None,
                error=error_for(inst.line, failed_at, failure),
            )
        out.append(timed(found, by_line.get(inst.line)))
    return out
