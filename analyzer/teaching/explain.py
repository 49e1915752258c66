"""``--explain``: set ``predict``'s answer beside what the build measured, and say in plain words what
every step did — to the filesystem or to the config, which history entry records it, which layer holds
its bytes, and for FROM what was inherited.

Pure: it reads a measured :class:`Report` and the parsed Dockerfile and returns one
:class:`Explanation` per step. Every number in the text comes from the report (the image config's
``empty_layer``, ``rootfs.diff_ids`` and the history sizes); nothing is assumed about what a command
does beyond what its layer shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from analyzer.dockerfile import parse
from analyzer.errors import LayermapError
from analyzer.model import Dockerfile, Explanation, Instruction, Report, Step
from analyzer.teaching.predict import BUILDERS, BUILDKIT, CLASSIC, predict
from analyzer.units import human_size, shorten, size_with_exact

AS_PREDICTED = "as predicted"
WRONG = "wrong"
RESOLVED = "resolved"
NOT_RUN = "not run"

# What a config-only instruction changes (kept short: the paragraph quotes the instruction too).
_CONFIG_EFFECT = {
    "ARG": "declares a build argument for the steps after it",
    "ENV": "sets environment variables for later steps and for containers",
    "LABEL": "adds labels to the image config",
    "USER": "sets the user later steps and containers run as",
    "VOLUME": "declares a volume: containers get a fresh mount there",
    "EXPOSE": "records a port in the config, which opens nothing",
    "CMD": "sets the default command of containers",
    "ENTRYPOINT": "sets the entrypoint of containers",
    "HEALTHCHECK": "sets the health check of containers",
    "SHELL": "sets the shell for later shell-form commands",
    "STOPSIGNAL": "sets the signal that stops containers",
    "MAINTAINER": "records the author",
}


def explain(report: Report, dockerfile: Dockerfile, builder: str, target: str | None = None) -> Report:
    """``report`` with ``explanations`` (one per step) and the Dockerfile text filled in."""
    builder = builder if builder in BUILDERS else CLASSIC
    predicted = predict(dockerfile, builder, target)
    pairs = pair_steps(report.steps, predicted)
    instructions = {ins.line: ins for ins in dockerfile.instructions}
    out = tuple(
        _explain_step(
            report,
            builder,
            index,
            step,
            pairs.get(index),
            _trigger_instruction(step) if step.trigger else instructions.get(step.line),
        )
        for index, step in enumerate(report.steps)
    )
    return replace(report, explanations=out, dockerfile_text=dockerfile.text)


def _trigger_instruction(step: Step) -> Instruction | None:
    """A trigger's own instruction (its line is the FROM's): parsed from its text alone."""
    try:
        return parse(f"FROM scratch\n{step.text}\n").stages[0].instructions[0]
    except (LayermapError, IndexError):
        return None


def pair_steps(measured: Sequence[Step], predicted: Sequence[Step]) -> dict[int, Step]:
    """Index of each measured step → its predicted step, matched by line and, for the ONBUILD triggers
    that share a FROM line, by their order there (an external base's triggers have no prediction)."""
    by_key: dict[tuple[int, bool], list[Step]] = defaultdict(list)
    for step in predicted:
        by_key[(step.line, step.trigger)].append(step)
    seen: dict[tuple[int, bool], int] = defaultdict(int)
    out: dict[int, Step] = {}
    for index, step in enumerate(measured):
        key = (step.line, step.trigger)
        position = seen[key]
        seen[key] += 1
        candidates = by_key.get(key, [])
        if position < len(candidates) and candidates[position].instruction == step.instruction:
            out[index] = candidates[position]
    return out


# --------------------------------------------------------------------------- one step


def _explain_step(
    report: Report, builder: str, index: int, step: Step, guess: Step | None, ins: Instruction | None
) -> Explanation:
    predicted = guess.creates_layer if guess else None
    reason = guess.reason or "" if guess else "not predicted: an ONBUILD trigger of an external base image"
    verdict = _verdict(step, guess)
    remark = _surprise(builder, step, verdict, predicted, ins)
    # An outcome the prediction already gave is no surprise: the remark stays, as a plain note.
    expected = verdict == AS_PREDICTED
    return Explanation(
        step=index,
        predicted=predicted,
        reason=reason,
        verdict=verdict,
        surprise=None if expected else remark,
        text=paragraph(report, step, ins, builder),
        note=remark if expected else None,
    )


def _verdict(step: Step, guess: Step | None) -> str:
    if step.error is not None or (step.creates_layer is None and step.history is None):
        return NOT_RUN
    if guess is None or guess.creates_layer is None:
        return RESOLVED
    return AS_PREDICTED if guess.creates_layer == step.creates_layer else WRONG


def _surprise(
    builder: str, step: Step, verdict: str, predicted: bool | None, ins: Instruction | None
) -> str | None:
    """The remark on the outcome: a wrong prediction, an outcome that "depends" resolved, a 0-byte layer."""
    if verdict == NOT_RUN:
        return f"line {step.line} failed: {step.error.message}" if step.error else None
    kw, made = step.instruction, step.creates_layer
    size = step.layer.size if step.layer else None
    if verdict == WRONG:
        said = "a layer" if predicted else "no layer"
        got = "made a layer" if made else "made no layer"
        return f"{kw} {got}, predicted {said}: the prediction's assumption did not hold here"
    if kw == "WORKDIR" and verdict == RESOLVED:
        path = _workdir_path(step, ins)
        if builder == BUILDKIT and made:
            return f"WORKDIR made a layer: BuildKit makes one for every WORKDIR but /, here for {path}"
        if made:
            return f"WORKDIR created a layer: the folder {path} did not exist"
        return f"WORKDIR made no layer: the folder {path} already existed"
    if kw == "RUN" and made is False:
        return f"RUN made no layer: `{shorten(_command(step, ins), 40)}` changed nothing on the filesystem"
    if made and size == 0:
        if kw == "RUN" and _deletes(step):
            return "RUN rm made a 0-byte layer: deleting does not shrink the image"
        return f"{kw} made a 0-byte layer: a layer all the same (it changed the filesystem, added no bytes)"
    return None


def paragraph(report: Report, step: Step, ins: Instruction | None, builder: str = CLASSIC) -> str:
    """What the step did, which history entry records it and which layer holds its bytes."""
    if step.stage is None:
        return (
            f"Line {step.line} `{step.text}` declares a build argument before the first FROM: it can only "
            "be used in FROM lines. No history entry records it and it adds no layer."
        )
    if step.instruction == "FROM" and not step.trigger:
        return _from_paragraph(report, step)
    head = f"Line {step.line}"
    if step.trigger:
        head += f": the FROM ran the base image's ONBUILD trigger `{step.text}`, which"
    else:
        head += f" `{shorten(step.text, 80)}`"
    if step.error is not None:
        code = f" (exit code {step.error.exit_code})" if step.error.exit_code is not None else ""
        return f"{head} failed: {step.error.message}{code}. The build stopped here: no history entry."
    if step.history is None:
        if step.instruction == "ONBUILD":
            return (
                f"{head} stored a trigger in the image config; this builder records no history entry for it."
            )
        return f"{head} did not run (the build stopped before it, or its stage was not built)."
    body = _action(step, ins, builder) + " " + _records(report, step)
    return f"{head} {body}{_cache_note(step)}"


def _action(step: Step, ins: Instruction | None, builder: str) -> str:
    """What the instruction did to the filesystem or the config, per the measured outcome."""
    kw, made = step.instruction, step.creates_layer
    size = step.layer.size if step.layer else None
    if kw == "RUN":
        if not made:
            return "ran its command in a temporary container; it changed no file, so no layer was kept."
        if size == 0:
            extra = (
                " Deleting does not shrink the image: the files stay in the layer that added them, this "
                "one only holds whiteout markers."
                if _deletes(step)
                else ""
            )
            return f"ran its command in a temporary container; it changed files but added no bytes.{extra}"
        return "ran its command in a temporary container; the files it added or changed became a new layer."
    if kw in ("COPY", "ADD"):
        return _copy_action(step, ins)
    if kw == "WORKDIR":
        return _workdir_action(step, ins, builder)
    if kw == "ONBUILD":
        return "stored a trigger in the image config's OnBuild list: it runs when a build starts FROM this."
    return f"changed only the image config: it {_CONFIG_EFFECT.get(kw, 'changes the config')}."


def _workdir_action(step: Step, ins: Instruction | None, builder: str) -> str:
    """Classic makes a layer only when it creates the folder; BuildKit makes one for every WORKDIR but
    ``/`` (engine-facts), so there the layer alone says nothing about the folder: its files do."""
    path = _workdir_path(step, ins)
    if not step.creates_layer:
        return f"made {path} the working directory; the folder already existed, so only the config changed."
    if builder != BUILDKIT:
        return f"made {path} the working directory; the folder did not exist, so creating it made a layer."
    files = step.files
    if files is None:
        return (
            f"made {path} the working directory. BuildKit makes a layer for every WORKDIR but /, whether or "
            "not the folder existed (run with --contents to see whether this one created it)."
        )
    if files.added:
        return (
            f"made {path} the working directory; the folder did not exist, so BuildKit created it in a "
            "new layer."
        )
    return (
        f"made {path} the working directory; the folder already existed, and BuildKit still made a layer "
        "(it makes one for every WORKDIR but /): it holds no new file."
    )


def _copy_action(step: Step, ins: Instruction | None) -> str:
    args = ins.exec_args if ins and ins.exec_form and ins.exec_args else (ins.args.split() if ins else ())
    dest = args[-1] if len(args) >= 2 else "?"
    sources = ", ".join(args[:-1]) if len(args) >= 2 else "?"
    origin = ins.flag("from") if ins else None
    where = f"stage/image {origin}" if origin else "the build context"
    verb = "copied" if step.instruction == "COPY" else "added"
    return f"{verb} {sources} from {where} to {dest}; those files make up a new layer."


def _records(report: Report, step: Step) -> str:
    """Which history entry and which layer, with the measured size."""
    hist = step.history
    assert hist is not None  # callers check
    image = "the final image" if step.in_final_image else f"{_stage_label(report, step.stage)}'s image"
    text = f"History entry #{hist.index} of {image} records it"
    if step.layer is None:
        note = "empty_layer: true" if hist.empty_layer else "no layer found"
        return f"{text} ({note}): no layer."
    diff = short_digest(step.layer.diff_id)
    return (
        f"{text}, and layer #{step.layer.index} holds the change: diff_id {diff}, {_bytes(step.layer.size)}."
    )


def _from_paragraph(report: Report, step: Step) -> str:
    info = report.stages[step.stage] if step.stage is not None and step.stage < len(report.stages) else None
    ref = info.from_ if info else step.text.split()[1]
    head = f"Line {step.line} `{step.text}` starts {_stage_label(report, step.stage)}"
    tail = "" if step.in_final_image else " This stage is not part of the final image."
    if ref.lower() == "scratch":
        return f"{head} from an empty filesystem: nothing is inherited. FROM adds no history entry.{tail}"
    layers, size = step.inherited_layers, step.inherited_size
    base = report.base if step.in_final_image and report.base and report.base.ref == ref else None
    ident = f" (image {short_digest(base.id)})" if base and base.id else ""
    what = f"{ref}{ident}"
    if layers is None:
        got = "its layers"
    else:
        got = f"its {layers} layer{'s' if layers != 1 else ''} ({_bytes(size)})"
    text = f"{head} from {what}: it inherits {got}"
    if base is not None:
        text += f" and {base.history_count} history entries (#0–#{base.history_count - 1} of the final image)"
    listed = _inherited_layers(report, step)
    text += f"{listed}. FROM itself adds no history entry and no layer.{tail}"
    return text


def _inherited_layers(report: Report, step: Step) -> str:
    """``: layer #0 sha256:… (1.99 MB), …`` for the final chain's FROM (the layers are the image's own)."""
    count = step.inherited_layers
    if report.image is None or not step.in_final_image or not count or count > len(report.image.layers):
        return ""
    items = [
        f"#{la.index} {short_digest(la.diff_id)}"
        + (f" ({human_size(la.size)})" if la.size is not None else "")
        for la in report.image.layers[:count]
    ]
    shown = items if len(items) <= 4 else [*items[:3], f"… {len(items) - 3} more"]
    return " — layer " + ", ".join(shown)


# --------------------------------------------------------------------------- small helpers


def _stage_label(report: Report, stage: int | None) -> str:
    if stage is None or stage >= len(report.stages):
        return "the stage"
    name = report.stages[stage].name
    return f"stage {stage} ({name})" if name else f"stage {stage}"


def _cache_note(step: Step) -> str:
    return " The builder reused it from its cache." if step.cached else ""


def _command(step: Step, ins: Instruction | None) -> str:
    if step.trigger or ins is None:
        return step.text.split(None, 1)[1] if " " in step.text else step.text
    return " ".join(ins.exec_args) if ins.exec_form and ins.exec_args else ins.args


def _deletes(step: Step) -> bool:
    words = step.text.replace("&&", " ").replace(";", " ").split()
    return "rm" in words or "rmdir" in words


def _workdir_path(step: Step, ins: Instruction | None) -> str:
    return (ins.args if ins else step.text.split(None, 1)[-1]).strip()


def short_digest(digest: str | None) -> str:
    """``sha256:`` and the first 12 hex digits, like the docker CLI shows ids."""
    if not digest:
        return "-"
    algo, _, hexa = digest.partition(":")
    return f"{algo}:{hexa[:12]}" if hexa else digest[:12]


def _bytes(size: int | None) -> str:
    if size is None:
        return "size unknown"
    return size_with_exact(size)
