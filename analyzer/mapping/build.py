"""Wiring from a build request to a :class:`Report`: parse, build, read the engine, align.

This is the only place that sequences engine calls; ``align`` stays pure and ``cli`` stays thin.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.contents import DEFAULT_TOP, engine_contents
from analyzer.dockerfile import check_target, load, resolve
from analyzer.engine.options import BuildOptions, ProgressCallback
from analyzer.errors import BuildFailed, ImageNotFound
from analyzer.mapping import align
from analyzer.mapping.align.common import size_notes
from analyzer.model import BaseInfo, BuildResult, Dockerfile, Image, ImageLink, Report, Stage, Step

if TYPE_CHECKING:  # the docker SDK loads only when an engine is used (not for a registry)
    from analyzer.engine.client import Engine

SCRATCH = "scratch"


@dataclass(frozen=True)
class BuildRequest:
    """What ``layermap build`` (or a built side of ``layermap diff``) was asked to do."""

    options: BuildOptions
    """What to build, with which builder."""
    contents: bool = False
    """Also read the layers' contents (files, waste, secrets) once the build succeeded."""
    files: int = DEFAULT_TOP
    """``--files N``: the largest changes listed per step."""


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_dockerfile(options: BuildOptions) -> Dockerfile:
    """The Dockerfile ``options`` build, parsed with their build args; ``--target`` must name a stage.

    Called before connecting, so a bad Dockerfile is reported without an engine."""
    dockerfile = load(options.dockerfile, options.build_args, options.builder, options.platform)
    check_target(dockerfile, options.target)
    return dockerfile


def build_report(
    request: BuildRequest,
    dockerfile: Dockerfile,
    engine: Engine,
    on_progress: ProgressCallback | None = None,
) -> Report:
    """Build, read every stage's images back from the engine, and align them with the Dockerfile.

    Raises :class:`BuildFailed` carrying the partial report when a step fails.
    """
    options = request.options
    if options.builder == "buildkit":
        report = _buildkit_report(options, dockerfile, engine, on_progress)
        return engine_contents(report, engine, top_n=request.files) if request.contents else report
    result = engine.build_classic(options, on_progress)
    report = assemble(dockerfile, options.target, result, engine, _display_path(options.dockerfile))
    if result.failure is not None:
        raise _failed(report, result, options.dockerfile)
    if request.contents:
        report = engine_contents(report, engine, top_n=request.files)
    return report


def _buildkit_report(
    options: BuildOptions,
    dockerfile: Dockerfile,
    engine: Engine,
    on_progress: ProgressCallback | None,
) -> Report:
    """BuildKit keeps no step images: align by position in the final image's history."""
    from analyzer.mapping.existing import history_report

    # BuildKit's platform ARGs (FROM tools-$TARGETOS) follow --platform, else the engine's platform.
    dockerfile = resolve(dockerfile, "buildkit", options.platform or engine.platform())
    result = engine.build_buildkit(dockerfile, options, on_progress)
    image = _image_with_config(engine, result.image_id) if result.image_id else None
    stage_images = _buildkit_stage_images(options, dockerfile, engine, result) if image else {}
    report = history_report(
        dockerfile,
        options.target,
        image,
        engine,
        _display_path(options.dockerfile),
        kind="build",
        builder="buildkit",
        history_builder="buildkit",
        events=result.steps,
        failure=result.failure,
        stage_images=stage_images,
    )
    if result.failure is not None:
        raise _failed(report, result, options.dockerfile)
    return report


def _image_with_config(engine: Engine, image_id: str) -> Image:
    image = engine.image(image_id)
    if any(entry.empty_layer is None for entry in image.history):
        image = engine.image(image_id, need_config=True)  # neither local nor cheap: export once
    return image


def _buildkit_stage_images(
    options: BuildOptions, dockerfile: Dockerfile, engine: Engine, result: BuildResult
) -> dict[int, Image]:
    """Images of the named stages outside the final chain that the build ran.

    BuildKit exports only the target; building each such stage as the target again is a full cache
    hit (measured on 20.10) and gives its image, so its lines get layer data too.
    """
    chain = set(dockerfile.chain(options.target))
    numbers = align.step_numbers(dockerfile)
    ran = {numbers[e.number].stage for e in result.steps if e.number in numbers}
    out: dict[int, Image] = {}
    for stage in dockerfile.stages:
        if stage.index in chain or stage.index not in ran or stage.name is None:
            continue
        # Untagged: the tag, if any, names the target's image.
        again = engine.build_buildkit(dockerfile, replace(options, target=stage.name, tag=None))
        if again.image_id is not None:
            out[stage.index] = _image_with_config(engine, again.image_id)
    return out


def _failed(report: Report, result: BuildResult, path: Path) -> BuildFailed:
    failure = result.failure
    assert failure is not None
    where = _failed_where(report.steps, path)
    tail = "".join(f"\n  | {line}" for line in failure.output_tail)
    return BuildFailed(f"{where}: {failure.message}{tail}", result=report)


def _failed_where(steps: tuple[Step, ...], path: Path) -> str:
    failed = next((s for s in steps if s.error is not None), None)
    return f"{path}:{failed.line}" if failed else str(path)


def assemble(
    dockerfile: Dockerfile, target: str | None, result: BuildResult, engine: Engine, shown_path: str
) -> Report:
    """Collect what the engine holds for each built stage and align it (also used for failed builds)."""
    stage_builds = _stage_builds(dockerfile, target, result, engine)
    steps, warnings = align.align_classic(dockerfile, target, stage_builds, result.steps, result.failure)
    final = engine.image(result.image_id) if result.image_id else None
    chain = dockerfile.chain(target)
    by_index = {b.index: b for b in stage_builds}
    root = by_index.get(chain[0])
    base = root.base if root else None
    info = engine.info()
    return Report(
        kind="build",
        dockerfile_path=shown_path,
        dockerfile_sha256=dockerfile.sha256,
        builder="classic",
        engine=info,
        image=final,
        base=base,
        stages=align.stage_infos(dockerfile, target),
        steps=tuple(steps),
        summary=align.summarize(final, base, steps),
        warnings=(*size_notes(info), *result.warnings, *warnings),
    )


def _stage_builds(
    dockerfile: Dockerfile, target: str | None, result: BuildResult, engine: Engine
) -> list[align.StageBuild]:
    tops = list(result.stage_image_ids)
    failed_stage = _failed_stage(dockerfile, result)
    out: list[align.StageBuild] = []
    tops_by_stage: dict[int, str] = {}
    for position, index in enumerate(align.built_stages(dockerfile, target)):
        stage = dockerfile.stages[index]
        complete = position < len(tops)
        if not complete and index != failed_stage:
            break
        try:
            base_image = _base_image(engine, stage, tops_by_stage)
        except ImageNotFound:
            break  # the FROM itself failed: nothing of this stage was built
        triggers = base_image.onbuild if base_image else ()
        base = _base_info(stage, base_image)
        top = tops[position] if complete else engine.last_step_image(result)
        planned = len(triggers) + len(stage.instructions)
        links = _from_base(engine.chain(top, planned + 1), base.id) if top else ()
        history = engine.image(top).history if top else ()
        if complete:
            tops_by_stage[index] = tops[position]
        out.append(align.StageBuild(index, base, tuple(triggers), links, history, complete))
        if not complete:
            break
    return out


def _from_base(links: list[ImageLink], base_id: str | None) -> tuple[ImageLink, ...]:
    """The chain from the stage's base up (a partial stage's chain may reach below its base)."""
    ids = [link.id for link in links]
    return tuple(links[ids.index(base_id) :]) if base_id in ids else tuple(links)


def _failed_stage(dockerfile: Dockerfile, result: BuildResult) -> int | None:
    if result.failure is None:
        return None
    number = result.failure.step_number
    inst = align.step_numbers(dockerfile).get(number) if number is not None else None
    if inst is None or inst.stage is None:
        return len(result.stage_image_ids)
    return inst.stage


def _base_image(engine: Engine, stage: Stage, tops_by_stage: dict[int, str]) -> Image | None:
    if stage.base_stage is not None:
        return engine.image(tops_by_stage[stage.base_stage])
    if stage.base.lower() == SCRATCH:
        return None
    return engine.image(stage.base)


def _base_info(stage: Stage, image: Image | None) -> BaseInfo:
    if image is None:
        return BaseInfo(ref=stage.base, id=None, history_count=0, layer_count=0, size=0)
    return BaseInfo(
        ref=stage.base,
        id=image.id,
        history_count=len(image.history),
        layer_count=len(image.layers),
        size=image.size,
    )
