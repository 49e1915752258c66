"""``cache-busting-copy``: the whole build context is copied before a dependency install.

Any change to any file of the context (a comment in the app's code) then invalidates that COPY and every
step after it, so the slow install runs again on each rebuild. The finding carries what the later steps
of the stage measured: the bytes of their layers (rebuilt and re-pushed) and their build time.
Spotting the install is a matter of the RUN's text, so no byte count is claimed for that part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from analyzer.i18n import _, ngettext
from analyzer.model import Instruction, Stage
from analyzer.review.rulekit.base import NEEDS_DOCKERFILE, Hit, Rule, RuleContext
from analyzer.review.rulekit.operands import copies_whole_context
from analyzer.units import human_size, seconds

# A package manager's install/fetch subcommand, or a script named like an installer (install-deps.sh).
INSTALL = re.compile(
    r"\b(?:pip3?|npm|yarn|pnpm|bundle|gem|composer|poetry|pipenv|uv|cargo|mvn|gradle|dotnet|go)\b"
    r"[^;&|\n]*?\b(?:install|ci|sync|fetch|restore|download|dependency:\S+)\b"
    r"|\b[\w./-]*(?:install|deps|dependencies)[\w.-]*\.sh\b"
)


def _installs_after(stage: Stage, copy: Instruction) -> tuple[int, ...]:
    return tuple(
        ins.line
        for ins in stage.instructions
        if ins.line > copy.line and ins.keyword == "RUN" and INSTALL.search(ins.args)
    )


def check(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.dockerfile is None:
        return
    for stage in ctx.dockerfile.stages:
        copy = next((i for i in stage.instructions if copies_whole_context(i)), None)
        installs = _installs_after(stage, copy) if copy is not None else ()
        if copy is None or not installs:
            continue
        later = [s for s in ctx.report.steps if s.stage == stage.index and s.line > copy.line]
        sized = [s.layer.size for s in later if s.layer is not None]
        # Build time only when every later step really ran: a cache hit's duration says nothing.
        ran = all(s.cached is False and s.duration_s is not None for s in later)
        timed = [s.duration_s for s in later if s.duration_s is not None] if ran and later else []
        layers = ngettext("{n} layer", "{n} layers", len(sized)).format(n=len(sized))
        cost = [_("{size} in {layers}").format(size=human_size(sum(sized)), layers=layers)] if sized else []
        cost += [_("{seconds} to build").format(seconds=seconds(sum(timed), 1))] if timed else []
        costs = f" ({', '.join(cost)})" if cost else ""
        yield Hit(
            line=copy.line,
            end_line=copy.end_line,
            message=_(
                "copies the whole build context before the install on line {line}: any edit to "
                "any file reruns every later step of the stage{costs}; "
                "copy only the dependency manifests first and the rest after the install"
            ).format(line=installs[0], costs=costs),
            bytes=sum(sized) if sized else None,
            evidence="history" if sized else "dockerfile",
            related_lines=installs,
            data={"rebuilt_seconds": round(sum(timed), 3)} if timed else {},
        )


RULE = Rule(
    id="cache-busting-copy",
    severity="warning",
    summary="The whole build context is copied before a dependency install, so every edit reruns it.",
    check=check,
    needs=(NEEDS_DOCKERFILE,),
)
