"""``large-context``: a build context over ``max_context_size`` (default 10 MB) without ``.dockerignore``.

Every build sends the whole folder to the engine, and a whole-context COPY puts all of it (``.git``,
build output, local virtualenvs) into a layer. The bytes are the regular files of the context folder
as measured on disk before the build.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import _, ngettext
from analyzer.review.rulekit.base import NEEDS_CONTEXT, Hit, Rule, RuleContext
from analyzer.review.rules.budgets import threshold
from analyzer.units import human_size

KEY = "max_context_size"


def check(ctx: RuleContext) -> Iterator[Hit]:
    info = ctx.build_context
    limit = threshold(ctx, KEY)
    if info is None or info.bytes is None or info.bytes <= limit:
        return
    yield Hit(
        line=None,
        message=_(
            "the build context {path} is {size} in {files} (over {key}, {limit}) and has no .dockerignore: "
            "all of it is sent to the engine on every build"
        ).format(
            path=info.path,
            size=human_size(info.bytes),
            files=ngettext("{n} file", "{n} files", info.files or 0).format(n=info.files),
            key=KEY,
            limit=human_size(int(limit)),
        ),
        bytes=info.bytes,
        evidence="context",
        data={"threshold": int(limit), "files": info.files},
    )


RULE = Rule(
    id="large-context",
    severity="warning",
    summary="The build context is large and has no .dockerignore.",
    check=check,
    needs=(NEEDS_CONTEXT, KEY),
)
