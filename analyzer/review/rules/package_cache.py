"""``package-cache``: a package manager's cache or index left in a layer of the final image.

apt's lists (``apt-get update``) and downloaded archives, pip's, npm's, yarn's and apk's caches are only
needed while installing; left in the layer they ship with every pull. Measured with ``--contents`` from
the files each line's layer holds (the step's largest-files listing, so the bytes are a lower bound:
"at least"). Without contents the layer sizes cannot tell a cache from the packages, so the rule is
skipped rather than guessing from the RUN text.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.i18n import N_, _
from analyzer.model import FileChange
from analyzer.review.rulekit.base import NEEDS_CONTENTS, Hit, Rule, RuleContext
from analyzer.review.rulekit.waste import shown
from analyzer.units import human_size

# (name, path fragment, how to avoid it). Fragments match anywhere in the path so every user's home
# (/root/.cache/pip, /home/app/.cache/pip) counts.
CACHES: tuple[tuple[str, str, str], ...] = (
    (N_("apt package lists"), "/var/lib/apt/lists/", N_("rm -rf /var/lib/apt/lists/* in the same RUN")),
    (N_("apt cache (/var/cache/apt)"), "/var/cache/apt/", N_("apt-get clean in the same RUN")),
    (N_("pip cache"), "/.cache/pip/", "pip install --no-cache-dir"),
    (N_("npm cache"), "/.npm/_cacache/", N_("npm cache clean --force in the same RUN")),
    (N_("yarn cache"), "/.cache/yarn/", N_("yarn cache clean in the same RUN")),
    (N_("apk cache"), "/var/cache/apk/", "apk add --no-cache"),
    (N_("dnf/yum cache"), "/var/cache/dnf/", N_("dnf clean all in the same RUN")),
    (N_("dnf/yum cache"), "/var/cache/yum/", N_("yum clean all in the same RUN")),
)


def _classify(files: tuple[FileChange, ...]) -> dict[str, tuple[int, list[str], str]]:
    """Cache name → (bytes, paths, advice) among the files the layer adds or modifies."""
    found: dict[str, tuple[int, list[str], str]] = {}
    for entry in files:
        if entry.change == "deleted":
            continue
        for name, fragment, advice in CACHES:
            if fragment in entry.path:
                size, paths, _advice = found.get(name, (0, [], advice))
                found[name] = (size + entry.size, [*paths, entry.path], advice)
                break
    return found


def check(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.contents is None:
        return
    for step, files in ctx.contents.top_files:
        if not step.in_final_image:
            continue  # a builder stage's cache never reaches the image
        for name, (size, paths, advice) in _classify(files).items():
            if size <= 0:
                continue
            yield Hit(
                line=step.line,
                end_line=step.end_line,
                message=_(
                    "this line leaves at least {size} of {cache} in its layer ({paths}): {advice}"
                ).format(size=human_size(size), cache=_(name), paths=shown(tuple(paths)), advice=_(advice)),
                bytes=size,
                evidence="contents",
                paths=tuple(paths),
                data={"cache": name},
            )


RULE = Rule(
    id="package-cache",
    severity="warning",
    summary="A package manager's cache or index (apt lists, pip, npm, yarn, apk) is left in a layer.",
    check=check,
    needs=(NEEDS_CONTENTS,),
)
