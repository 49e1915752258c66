"""``add-instead-of-copy``: ADD of plain local files, where COPY does the same with no surprises.

ADD also fetches URLs and unpacks local tar archives; for anything else it is COPY with hidden
behaviour (a file that later becomes a .tar.gz would suddenly be unpacked). Sources that are URLs, git
repositories, tar archives or contain variables are left alone. The finding carries the layer's bytes
as the engine reported them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from analyzer.i18n import _
from analyzer.model import Instruction
from analyzer.review.rulekit.base import NEEDS_DOCKERFILE, Hit, Rule, RuleContext
from analyzer.review.rulekit.operands import sources

# What ADD unpacks: tar, optionally gzip/bzip2/xz-compressed (Docker detects it by content, so these
# names are the usual ones, and such a source is assumed to be meant for unpacking).
ARCHIVE = re.compile(r"\.(?:tar|tgz|tbz2?|txz|tar\.(?:gz|bz2|xz|zst)|tzst)$", re.IGNORECASE)
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@)", re.IGNORECASE)


def _plain_local(ins: Instruction) -> bool:
    srcs = sources(ins)
    if not srcs or ins.flag("checksum") is not None or ins.flag("keep-git-dir") is not None:
        return False
    return all(not (REMOTE.match(s) or ARCHIVE.search(s) or "$" in s) for s in srcs)


def check(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.dockerfile is None:
        return
    for ins in ctx.dockerfile.instructions:
        inner = ins.onbuild if ins.keyword == "ONBUILD" and ins.onbuild is not None else ins
        if inner.keyword != "ADD" or not _plain_local(inner):
            continue
        step = ctx.step_at(ins.line)
        size = step.layer.size if step is not None and step.layer is not None else None
        yield Hit(
            line=ins.line,
            end_line=ins.end_line,
            message=_("ADD of local files that are not tar archives: use COPY, which does only that"),
            bytes=size,
            evidence="history" if size is not None else "dockerfile",
        )


RULE = Rule(
    id="add-instead-of-copy",
    severity="warning",
    summary="ADD is used for plain local files, where COPY suffices.",
    check=check,
    needs=(NEEDS_DOCKERFILE,),
)
