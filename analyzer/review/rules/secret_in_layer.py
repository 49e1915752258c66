"""``secret-in-layer``: a credential-like file (private key, .env, token file, .git) in a layer.

The contents reader detects these while it reads the layers (names and headers only, never the
contents) and reports them as findings at the adding line; this rule is where they get their
configured severity, inline suppression and the gate. A file deleted by a later line is still in the
layer that added it, so it still counts.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.review.rulekit.base import NEEDS_CONTENTS, Hit, Rule, RuleContext

ID = "secret-in-layer"


def check(ctx: RuleContext) -> Iterator[Hit]:
    for found in ctx.report.findings:
        if found.rule != ID:
            continue
        extra = dict(found.extra)
        path = extra.get("path")  # the contract's field: kept beside the rules' common `paths`
        paths = tuple(extra.pop("paths", ()) or ((path,) if isinstance(path, str) else ()))
        removed = extra.get("removed_line")
        step = ctx.step_at(found.line) if found.line is not None else None
        yield Hit(
            line=found.line,
            end_line=step.end_line if step else None,
            message=found.message,
            bytes=extra.pop("bytes", None),
            evidence="contents",
            related_lines=(removed,) if isinstance(removed, int) else (),
            paths=paths,
            data=extra,
        )


RULE = Rule(
    id=ID,
    severity="error",
    summary="A credential-like file (private key, .env, token, .git) is in a layer of the image.",
    check=check,
    needs=(NEEDS_CONTENTS,),
)
