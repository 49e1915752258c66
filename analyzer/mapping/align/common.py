"""Helpers shared by the classic and the history-position alignment (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from analyzer.model import (
    BaseInfo,
    BuildFailure,
    Dockerfile,
    EngineInfo,
    Image,
    Instruction,
    StageInfo,
    Step,
    StepError,
    StepEvent,
    Summary,
)


def step_numbers(dockerfile: Dockerfile) -> dict[int, Instruction]:
    """Classic ``Step N/M`` numbers: global ARGs, then each stage's FROM and body, in file order."""
    return dict(enumerate(dockerfile.instructions, start=1))


def events_by_line(dockerfile: Dockerfile, events: Sequence[StepEvent]) -> dict[int, StepEvent]:
    numbers = step_numbers(dockerfile)
    return {numbers[e.number].line: e for e in events if e.number in numbers}


def trigger_text(trigger: str) -> tuple[str, str]:
    keyword = trigger.split(None, 1)[0].upper() if trigger.strip() else "?"
    return keyword, trigger


def failed_line(dockerfile: Dockerfile, failure: BuildFailure | None) -> int | None:
    if failure is None or failure.step_number is None:
        return None
    inst = step_numbers(dockerfile).get(failure.step_number)
    return inst.line if inst else None


def timed(step: Step, event: StepEvent | None) -> Step:
    if event is None:
        return step
    return replace(step, cached=event.cached, duration_s=event.duration_s)


def error_for(line: int, failed_line: int | None, failure: BuildFailure | None) -> StepError | None:
    if failure is None or failed_line is None or line != failed_line:
        return None
    return StepError(message=failure.message, exit_code=failure.exit_code)


# --------------------------------------------------------------------------- stages, base, summary


def stage_infos(dockerfile: Dockerfile, target: str | None) -> tuple[StageInfo, ...]:
    final = set(dockerfile.chain(target))
    return tuple(
        StageInfo(index=s.index, name=s.name, from_=s.base, line=s.line, in_final_image=s.index in final)
        for s in dockerfile.stages
    )


def summarize(image: Image | None, base: BaseInfo | None, steps: Sequence[Step]) -> Summary:
    """Final size, inherited size, bytes and layers added, and the line of the largest layer."""
    final_size = image.size if image else 0
    base_size = base.size if base else 0
    base_layers = base.layer_count if base else 0
    final_steps = [s for s in steps if s.in_final_image and s.layer is not None]
    largest = max(final_steps, key=lambda s: s.layer.size if s.layer else 0, default=None)
    return Summary(
        final_size=final_size,
        base_size=base_size,
        added_size=final_size - base_size if image else 0,
        layers_added=(len(image.layers) - base_layers) if image else 0,
        largest_step_line=largest.line if largest else None,
    )


def size_notes(engine: EngineInfo | None) -> tuple[str, ...]:
    """Say which sizes the report shows when the engine does not count bytes like overlay2."""
    if engine is None or engine.storage != "containerd":
        return ()
    return (
        "containerd image store: layer sizes are the engine's snapshot disk usage and the image and "
        "base sizes its compressed size, so they do not add up as byte counts do on overlay2",
    )
