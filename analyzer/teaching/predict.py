"""Predict, without an engine, which Dockerfile lines will create a layer (``layermap predict``).

One :class:`~analyzer.model.Step` per instruction in file order: global ARGs (stage None,
``in_final_image`` True as in the measured map), each FROM, each instruction, plus the ONBUILD triggers
a ``FROM <stage>`` runs when that stage is in this file (``trigger`` True, at the FROM line, like the
measured map). ``creates_layer`` is True / False, or None when it depends on what the step does to the
filesystem; every step carries a plain-language ``reason``. ``history``/``layer`` stay None.

Triggers of an in-file stage run at the child's FROM and are consumed there (a grandchild does not run
them again): measured on the classic builder of 20.10.24; BuildKit 0.8 (20.10) reads them from the
stage's config the same way, but newer BuildKit releases changed this more than once
(moby/buildkit#5486, docker/buildx#2887), so BuildKit trigger steps are the 20.10 behaviour.

The rules per builder are engine-facts' table ("Which instructions create a layer"). On top of them,
these refinements are claimed statically, each with its reason:

- Classic ``WORKDIR /`` (or a relative path resolving to ``/``): no layer, ``/`` always exists.
- Classic ``WORKDIR D`` where D (or a folder below it) was created earlier in this stage or its
  in-file parent stages by a WORKDIR, or by a ``COPY … D/`` into a folder, with no RUN, COPY or ADD
  since (any of them could delete or replace the folder; the COPY keeps only its own destination):
  no layer. No other folder is assumed to exist in an unknown base, not even ``/tmp``.
- Classic ``WORKDIR D`` on a ``FROM scratch`` filesystem that nothing but WORKDIR has touched yet:
  a layer when D is new (the filesystem holds exactly the folders the WORKDIRs made).
- Classic RUN whose shell-form command is only ``true``, ``:``, ``exit``/``exit 0`` or ``echo …``
  (joined by ``&&``, ``||`` or ``;``), with no redirection, pipe, background ``&``, subshell, command
  substitution or heredoc; exec form ``["true", …]`` or ``["echo", …]``: no layer. Why: those are
  shell builtins (or the standard binaries) that write no file, and a non-interactive ``/bin/sh -c``
  writes nothing itself. Not claimed after a SHELL instruction in this file (an unknown shell could
  write), nor after a VOLUME with no RUN since (the container creates a missing mount point, which
  lands in the RUN's layer).
- BuildKit ``WORKDIR`` makes a layer for any folder but ``/``; a relative path without ``..`` can
  never resolve to ``/``, so that is claimed even when the base's working directory is unknown.

Not knowable without the base image (documented, never guessed): the base's ONBUILD triggers (a FROM
of an external image may run some: they are not listed and :func:`predicted_history_count` counts
none), its working directory (a relative classic WORKDIR then depends), and its declared VOLUMEs. The
last one is the one assumption behind the RUN no-op claim: a base image whose VOLUME folder does not
exist (``FROM busybox`` + ``VOLUME /new``, with no RUN after it) makes the child's first ``RUN true``
add that mount point as a layer (checked on Docker 20.10.24). The reason text says so.

Stages: ``in_final_image`` is membership in ``dockerfile.chain(target)``. The classic builder builds
every stage up to the target; BuildKit builds only the stages the target needs (its FROM chain, its
``COPY --from`` and ``RUN --mount=from=`` sources, transitively). Stages nobody builds are still
predicted, with that said in the reason.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from analyzer.i18n import N_, _, ngettext
from analyzer.mapping.align.common import stage_infos, summarize
from analyzer.model import Dockerfile, Instruction, Report, Stage, Step

CLASSIC = "classic"
BUILDKIT = "buildkit"
BUILDERS = (CLASSIC, BUILDKIT)

# What each config-only instruction changes, for the reason text.
_METADATA = {
    "ARG": N_("declares a build argument"),
    "ENV": N_("sets environment variables"),
    "LABEL": N_("adds labels"),
    "USER": N_("sets the user that later steps and containers run as"),
    "VOLUME": N_("declares a volume"),
    "EXPOSE": N_("documents a port"),
    "CMD": N_("sets the default command"),
    "ENTRYPOINT": N_("sets the entrypoint"),
    "HEALTHCHECK": N_("sets the health check"),
    "SHELL": N_("sets the shell for later shell-form commands"),
    "STOPSIGNAL": N_("sets the stop signal"),
    "MAINTAINER": N_("records the author"),
}
_EMPTY_ENTRY = N_("a history entry with empty_layer, no layer")

# Shell builtins (and the standard binaries of the same name) that write no file. `exit` is handled
# apart: only with no argument or 0 (any other code fails the build, so there is no image to predict).
_NOOP_COMMANDS = frozenset({"true", ":", "echo", "/bin/true", "/usr/bin/true", "/bin/echo", "/usr/bin/echo"})
_EXEC_NOOPS = frozenset({"true", "echo", "/bin/true", "/usr/bin/true", "/bin/echo", "/usr/bin/echo"})
_SEPARATORS = frozenset({"&&", "||", ";"})
# Anything that can run another command or write a file: redirection, a pipe `|`, a background `&`,
# subshells, `$(…)`, backticks, newlines (a heredoc or a second command line). Checked on the raw text,
# so a quoted `>` is refused too: conservative, never wrong.
_UNSAFE_SHELL = re.compile(r"[<>()`\n]|\$\(|(?<!&)&(?!&)|(?<!\|)\|(?!\|)")
# Characters that make a path depend on expansion or unquoting, which is not done here.
_UNRESOLVED = re.compile(r"[$\"'`\\]")


@dataclass
class _State:
    """What is certain about one stage's filesystem at a point of its build (both builders)."""

    cwd: str | None
    """The working directory; None when it comes from an unknown base image."""
    dirs: dict[str, str] = field(default_factory=lambda: {"/": _("always")})
    """Folders certain to exist → what made them (for the reason text)."""
    complete: bool = False
    """True: ``dirs`` is the whole filesystem (FROM scratch, only WORKDIR so far)."""
    volume: Instruction | None = None
    """A VOLUME with no RUN since: the next RUN may create its mount point."""
    shell: Instruction | None = None
    """A SHELL instruction of this file in effect."""

    def copy(self) -> _State:
        return _State(self.cwd, dict(self.dirs), self.complete, self.volume, self.shell)


# --------------------------------------------------------------------------- public API


def predict(dockerfile: Dockerfile, builder: str = CLASSIC, target: str | None = None) -> list[Step]:
    """One predicted Step per instruction (and per known ONBUILD trigger), in file order."""
    _check_builder(builder)
    chain = set(dockerfile.chain(target))
    built = _built_stages(dockerfile, builder, target)
    steps = [_global_arg(ins) for ins in dockerfile.global_args]
    states: dict[int, _State] = {}
    for stage in dockerfile.stages:
        note = _stage_note(stage.index, chain, built, builder, target)
        made = _stage_steps(dockerfile, stage, builder, stage.index in chain, note, states)
        if stage.index not in built:
            # A stage the builder never builds makes no layer, whatever its lines would do.
            made = [replace(step, creates_layer=False) for step in made]
        steps.extend(made)
    return steps


def prediction_report(
    dockerfile: Dockerfile, shown_path: str | None, builder: str = CLASSIC, target: str | None = None
) -> Report:
    """The ``layermap predict`` report: the predicted steps, no engine, no image (``kind`` prediction)."""
    steps = tuple(predict(dockerfile, builder, target))
    return Report(
        kind="prediction",
        dockerfile_path=shown_path,
        dockerfile_sha256=dockerfile.sha256,
        builder=builder,
        engine=None,
        image=None,
        base=None,
        stages=stage_infos(dockerfile, target),
        steps=steps,
        summary=summarize(None, None, steps),
        dockerfile_text=dockerfile.text,
    )


def predicted_history_count(dockerfile: Dockerfile, builder: str = CLASSIC, target: str | None = None) -> int:
    """History entries this Dockerfile adds on top of the base image's, for the final image.

    Per stage of the target's FROM chain: the ONBUILD triggers of an in-file parent stage, then every
    instruction after FROM, except declared ONBUILD under BuildKit. The triggers of an external base
    image are unknown without it and count 0: add ``len(config.OnBuild)`` of that image to correct.
    """
    _check_builder(builder)
    total = 0
    for index in dockerfile.chain(target):
        stage = dockerfile.stages[index]
        total += len(_triggers(dockerfile, stage))
        total += sum(builder == CLASSIC or ins.keyword != "ONBUILD" for ins in stage.instructions)
    return total


def _check_builder(builder: str) -> None:
    if builder not in BUILDERS:
        raise ValueError(f"unknown builder {builder!r} (expected one of {', '.join(BUILDERS)})")


# --------------------------------------------------------------------------- stages


def _built_stages(dockerfile: Dockerfile, builder: str, target: str | None) -> set[int]:
    last = dockerfile.stage_index(target)
    if builder == CLASSIC:
        return set(range(last + 1))
    # BuildKit solves only the graph the target needs.
    seen: set[int] = set()
    todo = [last]
    while todo:
        index = todo.pop()
        if index not in seen:
            seen.add(index)
            todo.extend(_stage_deps(dockerfile, dockerfile.stages[index]))
    return seen


def _stage_deps(dockerfile: Dockerfile, stage: Stage) -> set[int]:
    """Stages this stage reads from: its FROM stage and ``--from`` sources (BuildKit's graph)."""
    deps = {stage.base_stage} if stage.base_stage is not None else set()
    for ins in stage.instructions:
        for ref in _from_refs(ins):
            if "$" in ref:
                # An unexpanded `--from=${X}` could name any earlier stage: assume it needs them all.
                deps.update(range(stage.index))
            elif (found := _stage_by_ref(dockerfile, ref)) is not None:
                deps.add(found)
    return deps


def _from_refs(ins: Instruction) -> Iterator[str]:
    if ins.keyword == "COPY" and (ref := ins.flag("from")):
        yield ref
    if ins.keyword == "RUN":
        for name, value in ins.flags:
            for option in value.split(",") if name == "mount" else ():
                key, _, ref = option.partition("=")
                if key.strip() == "from" and ref:
                    yield ref.strip()


def _stage_by_ref(dockerfile: Dockerfile, ref: str) -> int | None:
    # `--from` takes a stage name (case-insensitive) or a stage number; anything else is an image.
    for stage in dockerfile.stages:
        if stage.name == ref.lower() or (ref.isdigit() and int(ref) == stage.index):
            return stage.index
    return None


def _stage_note(index: int, chain: set[int], built: set[int], builder: str, target: str | None) -> str:
    if index in chain:
        return ""
    if index not in built and builder == BUILDKIT:
        return " — " + _(
            "stage not needed by the target: BuildKit does not build it at all: no layer, "
            "not in the final image"
        )
    if index not in built:
        return " — " + _("stage after the target: not built at all: no layer, not in the final image")
    if builder == BUILDKIT:
        return " — " + _(
            "stage built because the target needs files from it (COPY --from or RUN --mount), "
            "but not part of the final image"
        )
    head = _("the last stage") if target is None else _("the target ({target})").format(target=target)
    return " — " + _(
        "stage built (the classic builder builds every stage up to {head}), not in the final image"
    ).format(head=head)


def _triggers(dockerfile: Dockerfile, stage: Stage) -> list[Instruction]:
    """The ONBUILD triggers the FROM of ``stage`` runs, when its base is a stage of this file."""
    if stage.base_stage is None:
        return []
    parent = dockerfile.stages[stage.base_stage]
    return [ins.onbuild for ins in parent.instructions if ins.onbuild is not None]


def _initial_state(stage: Stage, states: dict[int, _State]) -> _State:
    if stage.base_stage is not None:
        # Stages are predicted in file order and a FROM can only name an earlier stage.
        return states[stage.base_stage].copy()
    if stage.base == "scratch":
        return _State(cwd="/", complete=True)
    return _State(cwd=None)


# --------------------------------------------------------------------------- steps


def _global_arg(ins: Instruction) -> Step:
    # in_final_image True like the measured map (mapping/align/), though no history entry records it.
    return Step(
        stage=None,
        line=ins.line,
        end_line=ins.end_line,
        instruction=ins.keyword,
        text=ins.text,
        in_final_image=True,
        creates_layer=False,
        reason=_("global ARG (before the first FROM): no history entry, no layer; it only feeds FROM lines"),
    )


def _stage_steps(
    dockerfile: Dockerfile, stage: Stage, builder: str, in_final: bool, note: str, states: dict[int, _State]
) -> list[Step]:
    state = _initial_state(stage, states)
    triggers = _triggers(dockerfile, stage)
    head = stage.from_instruction
    out = [_step(head, in_final, False, _from_reason(dockerfile, stage, len(triggers)) + note)]
    for trig in triggers:
        creates, why = _decide(trig, builder, state)
        origin = _("ONBUILD trigger declared at line {line}, run by this FROM: ").format(line=trig.line)
        out.append(_step(trig, in_final, creates, origin + why + note, at=head))
        _advance(trig, state)
    for ins in stage.instructions:
        creates, why = _decide(ins, builder, state)
        out.append(_step(ins, in_final, creates, why + note))
        _advance(ins, state)
    states[stage.index] = state
    return out


def _step(
    ins: Instruction, in_final: bool, creates: bool | None, reason: str, at: Instruction | None = None
) -> Step:
    """A predicted step; ``at``: the FROM line a trigger runs at (the trigger keeps its own text)."""
    where = at or ins
    return Step(
        stage=where.stage,
        line=where.line,
        end_line=where.end_line,
        instruction=ins.keyword,
        text=ins.text,
        trigger=at is not None,
        in_final_image=in_final,
        creates_layer=creates,
        reason=reason,
    )


def _from_reason(dockerfile: Dockerfile, stage: Stage, triggers: int) -> str:
    if stage.base_stage is not None:
        parent = dockerfile.stages[stage.base_stage]
        label = parent.name or _("stage {n}").format(n=parent.index)
        why = _(
            "FROM {label}: inherits every layer of stage {label} (line {line}), no layer of its own"
        ).format(label=label, line=parent.line)
        if triggers:
            why += ngettext(
                "; it first runs the {n} ONBUILD trigger declared there (the next step)",
                "; it first runs the {n} ONBUILD triggers declared there (the next steps)",
                triggers,
            ).format(n=triggers)
        return why
    if stage.base == "scratch":
        return _("FROM scratch: starts from an empty filesystem, no layer")
    return _(
        "FROM {base}: inherits the base image's layers, no layer of its own (ONBUILD triggers "
        "of that image, if it has any, run here: they are not known without the image)"
    ).format(base=stage.base)


# --------------------------------------------------------------------------- rules


def _decide(ins: Instruction, builder: str, state: _State) -> tuple[bool | None, str]:
    """(creates_layer, reason) for one instruction, given what is known before it runs."""
    kw = ins.keyword
    if kw == "ONBUILD":
        if builder == BUILDKIT:
            return (
                False,
                _("ONBUILD under BuildKit leaves no history entry and no layer (only the image config)"),
            )
        return False, _("ONBUILD only stores a trigger in the image config: {entry}").format(
            entry=_(_EMPTY_ENTRY)
        )
    if kw in _METADATA:
        why = _("{kw} only changes the image config ({effect}): {entry}").format(
            kw=kw, effect=_(_METADATA[kw]), entry=_(_EMPTY_ENTRY)
        )
        if kw == "VOLUME" and builder == CLASSIC:
            why += _("; the classic builder's next RUN creates the folder if it is missing")
        return False, why
    if kw in ("COPY", "ADD"):
        return True, _("{kw} always makes a layer, even of an empty folder or of files already there").format(
            kw=kw
        )
    if kw == "WORKDIR":
        return _workdir_buildkit(ins, state) if builder == BUILDKIT else _workdir_classic(ins, state)
    if kw == "RUN" and builder == BUILDKIT:
        return True, _("BuildKit always snapshots a RUN: a layer, even for `RUN true`")
    if kw == "RUN":
        return _run_classic(ins, state)
    return None, _("{kw}: no rule known for this instruction: depends").format(kw=kw)


def _workdir_classic(ins: Instruction, state: _State) -> tuple[bool | None, str]:
    path = _workdir_path(ins, state.cwd)
    if path is None:
        return None, _workdir_unknown(ins, state)
    if path == "/":
        return False, _("WORKDIR /: never a layer, / always exists")
    if path in state.dirs:
        return False, _("WORKDIR {path}: the folder already exists ({why}): no layer").format(
            path=path, why=state.dirs[path]
        )
    if state.complete:
        return True, _(
            "WORKDIR {path}: new folder on the empty FROM scratch filesystem: a 0-byte layer"
        ).format(path=path)
    return None, _(
        "WORKDIR {path} under the classic builder makes a (0-byte) layer only if the folder does not "
        "exist yet (the base image or an earlier RUN, COPY or ADD may have made it): depends"
    ).format(path=path)


def _workdir_unknown(ins: Instruction, state: _State) -> str:
    if _UNRESOLVED.search(ins.args):
        return _("WORKDIR with a variable or quotes, which layermap does not expand: depends")
    return _("relative WORKDIR on top of the base image's working directory, unknown without it: depends")


def _workdir_buildkit(ins: Instruction, state: _State) -> tuple[bool | None, str]:
    path = _workdir_path(ins, state.cwd)
    if path == "/":
        return False, _("WORKDIR /: never a layer")
    if path is not None or _never_root(ins.args):
        return True, _(
            "BuildKit always creates the WORKDIR folder: a layer (empty if it existed), except for /"
        )
    return (
        None,
        _("BuildKit makes a WORKDIR layer unless the path is /, which it may be here (unexpanded): depends"),
    )


def _run_classic(ins: Instruction, state: _State) -> tuple[bool | None, str]:
    depends = _(
        "RUN under the classic builder makes a layer only if the command changes the filesystem: depends"
    )
    if state.volume is not None:
        return None, _(
            "RUN after VOLUME (line {line}): the container creates the volume's folder if it "
            "is missing, which would be a layer. {depends}"
        ).format(line=state.volume.line, depends=depends)
    if not _is_noop(ins, shell_changed=state.shell is not None):
        return None, depends
    how = _("a standard tool that only prints") if ins.exec_form else _("shell builtins, no redirection")
    return False, _(
        "`{command}` writes no file ({how}): under the classic builder, no layer (unless the base "
        "image declares a VOLUME whose folder is missing: the first RUN then adds it)"
    ).format(command=ins.args, how=how)


def _is_noop(ins: Instruction, shell_changed: bool) -> bool:
    """True when the RUN certainly writes no file (see the module docstring for the exact list)."""
    if ins.flags or ins.heredocs:
        return False
    if ins.exec_form:
        argv = ins.exec_args or ()
        return bool(argv) and argv[0] in _EXEC_NOOPS
    if shell_changed or _UNSAFE_SHELL.search(ins.args):
        return False
    try:
        lexer = shlex.shlex(ins.args, posix=True, punctuation_chars=";&|")
        words = list(lexer)
    except ValueError:  # unbalanced quotes
        return False
    commands: list[list[str]] = [[]]
    for word in words:
        if word in _SEPARATORS:
            commands.append([])
        elif not word.strip(";&|"):
            return False  # another operator (`;;`, `&&&`…): not a plain list of commands
        else:
            commands[-1].append(word)
    return all(_noop_command(cmd) for cmd in commands)


def _noop_command(words: list[str]) -> bool:
    if not words:
        return False
    if words[0] == "exit":
        return words[1:] in ([], ["0"])
    return words[0] in _NOOP_COMMANDS


def _advance(ins: Instruction, state: _State) -> None:
    """Update what is known after ``ins`` ran (same for both builders: it is about the filesystem)."""
    kw = ins.keyword
    if kw == "WORKDIR":
        path = _workdir_path(ins, state.cwd)
        state.cwd = path
        if path is None:
            state.complete = False  # an unknown folder now exists
        else:
            _add_dirs(state, path, _("ensured by WORKDIR at line {line}").format(line=ins.line))
    elif kw in ("RUN", "COPY", "ADD"):
        # Any of them can delete or replace a folder: forget all but `/` (and a COPY's destination).
        state.dirs = {"/": _("always")}
        state.complete = False
        if kw == "RUN":
            state.volume = None  # its container created any missing mount point
        if kw == "COPY" and (dest := _copy_folder(ins, state.cwd)) is not None:
            _add_dirs(state, dest, _("ensured by COPY at line {line}").format(line=ins.line))
    elif kw == "VOLUME":
        state.volume = ins
    elif kw == "SHELL":
        state.shell = ins


def _add_dirs(state: _State, path: str, origin: str) -> None:
    # mkdir -p: every parent of the folder exists too.
    while path not in state.dirs:
        state.dirs[path] = origin
        path = posixpath.dirname(path)


def _workdir_path(ins: Instruction, cwd: str | None) -> str | None:
    """The absolute folder a WORKDIR selects, or None when it can't be known statically."""
    return _resolve(ins.args.strip(), cwd)


def _copy_folder(ins: Instruction, cwd: str | None) -> str | None:
    """The destination of a COPY into a folder (``… /dest/``), else None."""
    args = ins.exec_args if ins.exec_form and ins.exec_args else tuple(ins.args.split())
    if len(args) < 2 or not args[-1].endswith("/"):
        return None
    return _resolve(args[-1], cwd)


def _resolve(raw: str, cwd: str | None) -> str | None:
    if not raw or _UNRESOLVED.search(raw):
        return None
    if not raw.startswith("/"):
        if cwd is None:
            return None
        raw = posixpath.join(cwd, raw)
    path = posixpath.normpath(raw)
    # normpath keeps a leading `//` (POSIX allows it to mean something else); Docker does not.
    return "/" + path.lstrip("/")


def _never_root(raw: str) -> bool:
    """True when a relative path joined to any folder can't give ``/`` (no ``..``, not just ``.``)."""
    parts = [part for part in raw.strip().split("/") if part not in ("", ".")]
    return (
        not raw.strip().startswith("/") and bool(parts) and ".." not in parts and not _UNRESOLVED.search(raw)
    )
