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
from analyzer.i18n import N_, _, ngettext
from analyzer.model import Dockerfile, Explanation, Instruction, Report, Step
from analyzer.teaching.predict import BUILDERS, BUILDKIT, CLASSIC, predict
from analyzer.units import human_size, shorten, size_with_exact

AS_PREDICTED = "as predicted"
WRONG = "wrong"
RESOLVED = "resolved"
NOT_RUN = "not run"
CHANGES_THE_CONFIG = N_("changes the config")

# What a config-only instruction changes (kept short: the paragraph quotes the instruction too).
_CONFIG_EFFECT = {
    "ARG": N_("declares a build argument for the steps after it"),
    "ENV": N_("sets environment variables for later steps and for containers"),
    "LABEL": N_("adds labels to the image config"),
    "USER": N_("sets the user later steps and containers run as"),
    "VOLUME": N_("declares a volume: containers get a fresh mount there"),
    "EXPOSE": N_("records a port in the config, which opens nothing"),
    "CMD": N_("sets the default command of containers"),
    "ENTRYPOINT": N_("sets the entrypoint of containers"),
    "HEALTHCHECK": N_("sets the health check of containers"),
    "SHELL": N_("sets the shell for later shell-form commands"),
    "STOPSIGNAL": N_("sets the signal that stops containers"),
    "MAINTAINER": N_("records the author"),
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
    reason = guess.reason or "" if guess else _("not predicted: an ONBUILD trigger of an external base image")
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
        if step.error is None:
            return None
        return _("line {line} failed: {message}").format(line=step.line, message=step.error.message)
    kw, made = step.instruction, step.creates_layer
    size = step.layer.size if step.layer else None
    if verdict == WRONG:
        if made:
            return _(
                "{kw} made a layer, predicted no layer: the prediction's assumption did not hold here"
            ).format(kw=kw)
        return _(
            "{kw} made no layer, predicted a layer: the prediction's assumption did not hold here"
        ).format(kw=kw)
    if kw == "WORKDIR" and verdict == RESOLVED:
        path = _workdir_path(step, ins)
        if builder == BUILDKIT and made:
            return _(
                "WORKDIR made a layer: BuildKit makes one for every WORKDIR but /, here for {path}"
            ).format(path=path)
        if made:
            return _("WORKDIR created a layer: the folder {path} did not exist").format(path=path)
        return _("WORKDIR made no layer: the folder {path} already existed").format(path=path)
    if kw == "RUN" and made is False:
        return _("RUN made no layer: `{command}` changed nothing on the filesystem").format(
            command=shorten(_command(step, ins), 40)
        )
    if made and size == 0:
        if kw == "RUN" and _deletes(step):
            return _("RUN rm made a 0-byte layer: deleting does not shrink the image")
        return _(
            "{kw} made a 0-byte layer: a layer all the same (it changed the filesystem, added no bytes)"
        ).format(kw=kw)
    return None


def paragraph(report: Report, step: Step, ins: Instruction | None, builder: str = CLASSIC) -> str:
    """What the step did, which history entry records it and which layer holds its bytes."""
    if step.stage is None:
        return _(
            "Line {line} `{text}` declares a build argument before the first FROM: it can only "
            "be used in FROM lines. No history entry records it and it adds no layer."
        ).format(line=step.line, text=step.text)
    if step.instruction == "FROM" and not step.trigger:
        return _from_paragraph(report, step)
    if step.trigger:
        head = _("Line {line}: the FROM ran the base image's ONBUILD trigger `{text}`, which").format(
            line=step.line, text=step.text
        )
    else:
        head = _("Line {line} `{text}`").format(line=step.line, text=shorten(step.text, 80))
    if step.error is not None:
        code = (
            _(" (exit code {code})").format(code=step.error.exit_code)
            if step.error.exit_code is not None
            else ""
        )
        return _("{head} failed: {message}{code}. The build stopped here: no history entry.").format(
            head=head, message=step.error.message, code=code
        )
    if step.history is None:
        if step.instruction == "ONBUILD":
            return _(
                "{head} stored a trigger in the image config; this builder records no history entry for it."
            ).format(head=head)
        return _("{head} did not run (the build stopped before it, or its stage was not built).").format(
            head=head
        )
    body = _action(step, ins, builder) + " " + _records(report, step)
    return f"{head} {body}{_cache_note(step)}"


def _action(step: Step, ins: Instruction | None, builder: str) -> str:
    """What the instruction did to the filesystem or the config, per the measured outcome."""
    kw, made = step.instruction, step.creates_layer
    size = step.layer.size if step.layer else None
    if kw == "RUN":
        if not made:
            return _("ran its command in a temporary container; it changed no file, so no layer was kept.")
        if size == 0:
            extra = (
                _(
                    " Deleting does not shrink the image: the files stay in the layer that added them, this "
                    "one only holds whiteout markers."
                )
                if _deletes(step)
                else ""
            )
            return _("ran its command in a temporary container; it changed files but added no bytes.") + extra
        return _(
            "ran its command in a temporary container; the files it added or changed became a new layer."
        )
    if kw in ("COPY", "ADD"):
        return _copy_action(step, ins)
    if kw == "WORKDIR":
        return _workdir_action(step, ins, builder)
    if kw == "ONBUILD":
        return _(
            "stored a trigger in the image config's OnBuild list: it runs when a build starts FROM this."
        )
    effect = _(_CONFIG_EFFECT.get(kw, CHANGES_THE_CONFIG))
    return _("changed only the image config: it {effect}.").format(effect=effect)


def _workdir_action(step: Step, ins: Instruction | None, builder: str) -> str:
    """Classic makes a layer only when it creates the folder; BuildKit makes one for every WORKDIR but
    ``/`` (engine-facts), so there the layer alone says nothing about the folder: its files do."""
    path = _workdir_path(step, ins)
    if not step.creates_layer:
        return _(
            "made {path} the working directory; the folder already existed, so only the config changed."
        ).format(path=path)
    if builder != BUILDKIT:
        return _(
            "made {path} the working directory; the folder did not exist, so creating it made a layer."
        ).format(path=path)
    files = step.files
    if files is None:
        return _(
            "made {path} the working directory. BuildKit makes a layer for every WORKDIR but /, whether or "
            "not the folder existed (run with --contents to see whether this one created it)."
        ).format(path=path)
    if files.added:
        return _(
            "made {path} the working directory; the folder did not exist, so BuildKit created it in a "
            "new layer."
        ).format(path=path)
    return _(
        "made {path} the working directory; the folder already existed, and BuildKit still made a layer "
        "(it makes one for every WORKDIR but /): it holds no new file."
    ).format(path=path)


def _copy_action(step: Step, ins: Instruction | None) -> str:
    args = ins.exec_args if ins and ins.exec_form and ins.exec_args else (ins.args.split() if ins else ())
    dest = args[-1] if len(args) >= 2 else "?"
    sources = ", ".join(args[:-1]) if len(args) >= 2 else "?"
    origin = ins.flag("from") if ins else None
    where = _("stage/image {origin}").format(origin=origin) if origin else _("the build context")
    if step.instruction == "COPY":
        text = _("copied {sources} from {where} to {dest}; those files make up a new layer.")
    else:
        text = _("added {sources} from {where} to {dest}; those files make up a new layer.")
    return text.format(sources=sources, where=where, dest=dest)


def _records(report: Report, step: Step) -> str:
    """Which history entry and which layer, with the measured size."""
    hist = step.history
    assert hist is not None  # callers check
    if step.in_final_image:
        image = _("the final image")
    else:
        image = _("{stage}'s image").format(stage=_stage_label(report, step.stage))
    text = _("History entry #{index} of {image} records it").format(index=hist.index, image=image)
    if step.layer is None:
        note = "empty_layer: true" if hist.empty_layer else _("no layer found")
        return _("{text} ({note}): no layer.").format(text=text, note=note)
    return _("{text}, and layer #{index} holds the change: diff_id {diff}, {size}.").format(
        text=text, index=step.layer.index, diff=short_digest(step.layer.diff_id), size=_bytes(step.layer.size)
    )


def _from_paragraph(report: Report, step: Step) -> str:
    info = report.stages[step.stage] if step.stage is not None and step.stage < len(report.stages) else None
    ref = info.from_ if info else step.text.split()[1]
    head = _("Line {line} `{text}` starts {stage}").format(
        line=step.line, text=step.text, stage=_stage_label(report, step.stage)
    )
    tail = "" if step.in_final_image else _(" This stage is not part of the final image.")
    if ref.lower() == "scratch":
        return (
            _("{head} from an empty filesystem: nothing is inherited. FROM adds no history entry.").format(
                head=head
            )
            + tail
        )
    layers, size = step.inherited_layers, step.inherited_size
    base = report.base if step.in_final_image and report.base and report.base.ref == ref else None
    ident = _(" (image {id})").format(id=short_digest(base.id)) if base and base.id else ""
    if layers is None:
        got = _("its layers")
    else:
        got = ngettext("its {n} layer ({size})", "its {n} layers ({size})", layers).format(
            n=layers, size=_bytes(size)
        )
    text = _("{head} from {base}: it inherits {what}").format(head=head, base=f"{ref}{ident}", what=got)
    if base is not None:
        count = base.history_count
        text += ngettext(
            " and {n} history entry (#0–#{last} of the final image)",
            " and {n} history entries (#0–#{last} of the final image)",
            count,
        ).format(n=count, last=count - 1)
    text += _inherited_layers(report, step)
    return text + _(". FROM itself adds no history entry and no layer.") + tail


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
    shown = items if len(items) <= 4 else [*items[:3], "… " + _("{n} more").format(n=len(items) - 3)]
    return _(" — layer {layers}").format(layers=", ".join(shown))


# --------------------------------------------------------------------------- small helpers


def _stage_label(report: Report, stage: int | None) -> str:
    if stage is None or stage >= len(report.stages):
        return _("the stage")
    name = report.stages[stage].name
    if name:
        return _("stage {n} ({name})").format(n=stage, name=name)
    return _("stage {n}").format(n=stage)


def _cache_note(step: Step) -> str:
    return _(" The builder reused it from its cache.") if step.cached else ""


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
        return _("size unknown")
    return size_with_exact(size)
