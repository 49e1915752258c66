"""Map every Dockerfile instruction to the history entry and layer it produced (pure functions).

Every rule about which history entry belongs to which line lives here. The rules (engine-facts):

- A stage image's history is its base image's history, then one entry per ONBUILD trigger of the base,
  then one entry per instruction after FROM (classic builder: declared ONBUILD too; BuildKit: not).
  FROM and global ARGs have no entry of their own.
- Classic builder: every instruction after FROM (and every trigger) makes one image whose ``Parent`` is
  the previous step's. A step created a layer exactly when its image has more ``rootfs`` layers than its
  parent: that is the truth, and the config's ``empty_layer`` is only cross-checked against it.
- A size of 0 never by itself means "no layer" (``RUN rm`` makes a 0-byte layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from analyzer.mapping.align.common import (
    error_for,
    events_by_line,
    failed_line,
    timed,
    trigger_text,
)
from analyzer.model import (
    BaseInfo,
    BuildFailure,
    Dockerfile,
    HistoryEntry,
    ImageLink,
    Instruction,
    Stage,
    Step,
    StepEvent,
    StepHistory,
    StepLayer,
)


@dataclass(frozen=True)
class StageBuild:
    """What the engine holds for one built stage (inputs to :func:`align_classic`)."""

    index: int
    """Stage index in the Dockerfile."""
    base: BaseInfo
    """The image the stage was built FROM (``id`` None for ``scratch``)."""
    triggers: tuple[str, ...]
    """The base's ONBUILD triggers, run at the FROM line."""
    links: tuple[ImageLink, ...]
    """The Parent chain of the stage's top image, oldest first: the base (if any), then one per step."""
    history: tuple[HistoryEntry, ...]
    """The history of the stage's top image."""
    complete: bool = True
    """False for the stage whose build failed (``links`` then end at the last step that succeeded)."""


@dataclass
class _Ctx:
    warnings: list[str] = field(default_factory=list)


def built_stages(dockerfile: Dockerfile, target: str | None) -> list[int]:
    """Stages the classic builder runs: every stage up to and including the target, in order."""
    return list(range(dockerfile.stage_index(target) + 1))


def align_classic(
    dockerfile: Dockerfile,
    target: str | None,
    stages: Sequence[StageBuild],
    events: Sequence[StepEvent],
    failure: BuildFailure | None = None,
) -> tuple[list[Step], list[str]]:
    """Steps for a classic build, file order; also returns alignment warnings."""
    ctx = _Ctx()
    final = set(dockerfile.chain(target))
    by_index = {s.index: s for s in stages}
    by_line = events_by_line(dockerfile, events)
    failed_at = failed_line(dockerfile, failure)
    steps: list[Step] = [
        timed(
            Step(
                stage=None,
                line=a.line,
                end_line=a.end_line,
                instruction="ARG",
                text=a.text,
                in_final_image=True,
                creates_layer=False,
            ),
            by_line.get(a.line),
        )
        for a in dockerfile.global_args
    ]
    for stage in dockerfile.stages:
        build = by_index.get(stage.index)
        steps.extend(_stage_steps(stage, build, stage.index in final, by_line, failed_at, failure, ctx))
    return steps, ctx.warnings


def _stage_steps(
    stage: Stage,
    build: StageBuild | None,
    in_final: bool,
    by_line: dict[int, StepEvent],
    failed_line: int | None,
    failure: BuildFailure | None,
    ctx: _Ctx,
) -> list[Step]:
    head = stage.from_instruction
    from_step = timed(
        Step(
            stage=stage.index,
            line=head.line,
            end_line=head.end_line,
            instruction="FROM",
            text=head.text,
            in_final_image=in_final,
            creates_layer=False,
            history=None,
            layer=None,
            image_id=build.base.id if build else None,
            inherited_size=build.base.size if build else None,
            inherited_layers=build.base.layer_count if build else None,
            error=error_for(head.line, failed_line, failure),
        ),
        by_line.get(head.line),
    )
    if build is None:
        return [
            from_step,
            *(_unexecuted(stage, i, in_final, failed_line, failure) for i in stage.instructions),
        ]
    items: list[tuple[Instruction | None, str, str, int, int]] = [
        (None, *trigger_text(trig), head.line, head.end_line) for trig in build.triggers
    ]
    items.extend((i, i.keyword, i.text, i.line, i.end_line) for i in stage.instructions)
    return [from_step, *_measured(stage, build, items, in_final, by_line, failed_line, failure, ctx)]


def _unexecuted(
    stage: Stage, inst: Instruction, in_final: bool, failed_line: int | None, failure: BuildFailure | None
) -> Step:
    return Step(
        stage=stage.index,
        line=inst.line,
        end_line=inst.end_line,
        instruction=inst.keyword,
        text=inst.text,
        in_final_image=in_final,
        creates_layer=None,
        error=error_for(inst.line, failed_line, failure),
    )


def _measured(
    stage: Stage,
    build: StageBuild,
    items: list[tuple[Instruction | None, str, str, int, int]],
    in_final: bool,
    by_line: dict[int, StepEvent],
    failed_line: int | None,
    failure: BuildFailure | None,
    ctx: _Ctx,
) -> list[Step]:
    links = list(build.links)
    done = _steps_done(build, len(items))
    # The chain holds one image per executed step, preceded by the base image unless FROM scratch.
    offset = len(links) - done
    base_layers = len(links[offset - 1].diff_ids) if offset >= 1 else 0
    if offset not in (0, 1):
        ctx.warnings.append(
            f"stage {stage.index}: expected {done} step images above the base, the Parent chain has "
            f"{len(links)}; layer data for this stage may be incomplete"
        )
    first_history = len(build.history) - done
    out: list[Step] = []
    prev_layers = base_layers
    for k, (inst, kw, text, line, end) in enumerate(items):
        trigger = inst is None
        if k >= done:
            out.append(
                Step(
                    stage=stage.index,
                    line=line,
                    end_line=end,
                    instruction=kw,
                    text=text,
                    trigger=trigger,
                    in_final_image=in_final,
                    creates_layer=None,
                    error=None if trigger else error_for(line, failed_line, failure),
                )
            )
            continue
        link = links[offset + k] if 0 <= offset + k < len(links) else None
        entry = _history_at(build.history, first_history + k)
        layers_now = len(link.diff_ids) if link else None
        creates = layers_now > prev_layers if layers_now is not None else None
        _cross_check(stage, line, kw, creates, entry, ctx)
        layer = None
        if creates and link is not None:
            size = entry.size if entry else 0
            layer = StepLayer(index=len(link.diff_ids) - 1, diff_id=link.diff_ids[-1], size=size)
        measured = Step(
            stage=stage.index,
            line=line,
            end_line=end,
            instruction=kw,
            text=text,
            trigger=trigger,
            in_final_image=in_final,
            creates_layer=creates,
            history=StepHistory(entry.index, entry.created_by, not creates) if entry else None,
            layer=layer,
            image_id=link.id if link else None,
        )
        # Triggers run inside the FROM step: they have no timing of their own.
        out.append(measured if trigger else timed(measured, by_line.get(line)))
        if layers_now is not None:
            prev_layers = layers_now
    return out


def _steps_done(build: StageBuild, planned: int) -> int:
    if build.complete:
        return planned
    has_base = build.base.id is not None
    return max(0, len(build.links) - (1 if has_base else 0))


def _history_at(history: tuple[HistoryEntry, ...], index: int) -> HistoryEntry | None:
    return history[index] if 0 <= index < len(history) else None


def _cross_check(
    stage: Stage, line: int, keyword: str, creates: bool | None, entry: HistoryEntry | None, ctx: _Ctx
) -> None:
    if entry is None:
        ctx.warnings.append(f"line {line}: no history entry found for {keyword} (stage {stage.index})")
        return
    if creates is not None and entry.empty_layer is not None and entry.empty_layer == creates:
        ctx.warnings.append(
            f"line {line}: the image config says empty_layer={entry.empty_layer} for history entry "
            f"{entry.index} but the step image {'added' if creates else 'did not add'} a layer"
        )
    if (
        keyword not in ("RUN",)
        and keyword not in entry.created_by.upper()
        and "#(NOP)" in entry.created_by.upper()
    ):
        ctx.warnings.append(
            f"line {line}: history entry {entry.index} reads {entry.created_by[:60]!r}, expected {keyword}"
        )
