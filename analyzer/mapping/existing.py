"""``layermap image``: map an image that already exists — in the engine, a saved archive or an OCI
layout — optionally against the Dockerfile it was built from.

Without a build there are no per-step images, so lines are aligned by position in the history
(``align.history``) and layer-or-not comes from the image configuration's ``empty_layer``: from the
archive, the engine's local image store, the cheap exact rule on sizes and layer counts, or — only
when none of those answers — an export of the image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from analyzer.errors import DockerfileMismatch, ImageNotFound
from analyzer.image.source import ImageSource
from analyzer.mapping.align import match
from analyzer.mapping.align.common import size_notes, stage_infos, summarize
from analyzer.mapping.align.history import align_history
from analyzer.model import (
    BaseInfo,
    BuildFailure,
    Dockerfile,
    EngineInfo,
    Image,
    Report,
    ReportKind,
    Step,
    StepEvent,
)

if TYPE_CHECKING:  # the docker SDK loads only when an engine is used (not for a registry)
    from analyzer.engine.client import Engine

BUILDKIT_COMMENT = "buildkit.dockerfile.v0"


def history_writer(image: Image) -> str:
    """Which builder wrote the history: ``buildkit``, ``classic`` or ``unknown`` (e.g. imported)."""
    if any(
        entry.comment == BUILDKIT_COMMENT or entry.created_by.endswith("# buildkit")
        for entry in image.history
    ):
        return "buildkit"
    if any("#(nop)" in entry.created_by for entry in image.history):
        return "classic"
    return "unknown"


def image_platform(image: Image) -> str | None:
    """``os/arch[/variant]`` from the image configuration, None when it was not read."""
    config = image.config or {}
    parts = [str(config.get(key) or "") for key in ("os", "architecture", "variant")]
    return "/".join(p for p in parts if p) if parts[0] and parts[1] else None


def _base(
    dockerfile: Dockerfile, target: str | None, engine: Engine | None
) -> tuple[BaseInfo | None, tuple[str, ...]]:
    """The root base of the final chain, when the engine has it (its ONBUILD triggers ran at FROM)."""
    root = dockerfile.stages[dockerfile.chain(target)[0]]
    if root.base.lower() == "scratch":
        return BaseInfo(ref="scratch", id=None, history_count=0, layer_count=0, size=0), ()
    if engine is None:
        return None, ()
    try:
        base = engine.image(root.base)
    except ImageNotFound:
        return None, ()
    info = BaseInfo(root.base, base.id, len(base.history), len(base.layers), base.size)
    return info, base.onbuild


def image_report(
    source: ImageSource,
    dockerfile: Dockerfile | None,
    target: str | None,
    shown_path: str | None,
    *,
    allow_mismatch: bool = False,
) -> Report:
    """The report for an existing image; per-line when a Dockerfile is given, per-entry otherwise.

    Raises :class:`DockerfileMismatch` when the history shows the Dockerfile is not the image's
    (:func:`check_mismatches`), unless ``allow_mismatch``.
    """
    image = source.image
    engine_info: EngineInfo | None = source.engine.info() if source.engine else None
    if dockerfile is None:
        return Report(
            kind="image",
            dockerfile_path=None,
            dockerfile_sha256=None,
            builder="unknown",
            engine=engine_info,
            image=image,
            base=None,
            stages=(),
            steps=(),
            summary=summarize(image, None, ()),
            warnings=(*size_notes(engine_info), *source.notes),
        )
    writer = history_writer(image)
    if writer == "buildkit":
        # BuildKit's platform ARGs took the image's own platform (FROM tools-$TARGETOS).
        from analyzer.dockerfile import resolve

        dockerfile = resolve(dockerfile, "buildkit", image_platform(image))
    report = history_report(
        dockerfile,
        target,
        image,
        source.engine,
        shown_path,
        kind="image",
        builder="unknown",
        history_builder="buildkit" if writer == "buildkit" else "classic",
    )
    if not allow_mismatch:
        check_mismatches(report, shown_path)
    return replace(report, warnings=(*report.warnings, *source.notes))


def check_mismatches(report: Report, shown_path: str | None) -> None:
    """Raise :class:`DockerfileMismatch` naming the first line and entry past the threshold
    (:func:`match.fatal`: another instruction's entry, no entry, or most lines differing)."""
    planned = sum(
        match.makes_entry(s.instruction, s.trigger, s.stage, s.history is not None, s.creates_layer)
        for s in report.steps
        if s.in_final_image
    )
    first = match.fatal([m for m in report.mismatches if m.in_final_image], planned)
    if first is None:
        return
    count = len(report.mismatches)
    raise DockerfileMismatch(
        f"{shown_path or 'Dockerfile'}:{first.line}: this Dockerfile does not match the image "
        f"({count} of {planned} history entries differ); {match.describe(first)}. "
        "Give the Dockerfile the image was built from, or --allow-mismatch to map it anyway"
    )


def history_report(
    dockerfile: Dockerfile,
    target: str | None,
    image: Image | None,
    engine: Engine | None,
    shown_path: str | None,
    *,
    kind: ReportKind,
    builder: str,
    history_builder: str,
    events: Sequence[StepEvent] = (),
    failure: BuildFailure | None = None,
    stage_images: Mapping[int, Image] | None = None,
) -> Report:
    """A per-line report aligned by history position (BuildKit builds and existing images).

    ``kind`` is the report's (``build`` or ``image``); ``builder`` is what the report says;
    ``history_builder`` which builder's history rules apply.
    """
    base, triggers = _base(dockerfile, target, engine)
    result = align_history(
        dockerfile,
        target,
        image,
        builder=history_builder,
        base=base,
        root_triggers=triggers,
        stage_images=stage_images,
        events=events,
        failure=failure,
    )
    if base is None and image is not None:
        base = _inferred_base(image, result.base_history_count)
    steps = _with_inherited(result.steps, base) if base is not None else result.steps
    info = engine.info() if engine else None
    return Report(
        kind=kind,
        dockerfile_path=shown_path,
        dockerfile_sha256=dockerfile.sha256,
        builder=builder,
        engine=info,
        image=image,
        base=base,
        stages=stage_infos(dockerfile, target),
        steps=tuple(steps),
        summary=summarize(image, base, steps),
        warnings=(*size_notes(info), *dockerfile.warnings, *result.warnings),
        mismatches=tuple(result.mismatches),
    )


def _inferred_base(image: Image, base_count: int) -> BaseInfo:
    """The base as the entries below the Dockerfile's: its layers and their sizes."""
    layers = sum(1 for entry in image.history[:base_count] if entry.empty_layer is False)
    size = sum(layer.size or 0 for layer in image.layers[:layers])
    return BaseInfo(
        ref="(base entries of the image)", id=None, history_count=base_count, layer_count=layers, size=size
    )


def _with_inherited(steps: list[Step], base: BaseInfo) -> list[Step]:
    """FROM rows of the final chain show what they inherit: the base, then each earlier chain stage."""
    out = []
    size, layers, root = base.size, base.layer_count, True
    for step in steps:
        if step.instruction == "FROM" and not step.trigger and step.in_final_image and step.stage is not None:
            image_id = base.id if root else None
            step = replace(step, inherited_size=size, inherited_layers=layers, image_id=image_id)
            root = False
        elif step.in_final_image and step.layer is not None:
            size, layers = size + step.layer.size, layers + 1
        out.append(step)
    return out


__all__ = ["history_writer", "image_report"]
