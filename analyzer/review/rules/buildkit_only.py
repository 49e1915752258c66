"""``buildkit-only``: a flag only BuildKit knows, in a Dockerfile meant for the classic builder.

The classic builder refuses these flags before building (``the --mount option requires BuildKit``), so
``docker build`` with ``DOCKER_BUILDKIT=0`` (or an engine whose default is the classic builder) stops at
that line. The rule runs when the report says the classic builder (``predict --classic``, a classic
build); under BuildKit, and for an existing image, every flag is fine. Heredocs are refused by
``predict`` itself (exit 2), as the engine refuses them.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.review.rulekit.base import NEEDS_DOCKERFILE, Hit, Rule, RuleContext

BUILDKIT_FLAGS: dict[str, tuple[str, ...]] = {
    "RUN": ("mount", "network", "security"),
    "COPY": ("chmod", "link", "parents", "exclude"),
    "ADD": ("chmod", "link", "parents", "exclude", "checksum", "keep-git-dir"),
}
"""Per instruction, the flags the classic builder rejects (``--chown`` and ``--from`` it knows)."""


def check(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.dockerfile is None or ctx.report.builder != "classic":
        return
    # ONBUILD triggers are left out: they run (and fail) in the build of a child image, not here.
    for ins in ctx.dockerfile.instructions:
        known = BUILDKIT_FLAGS.get(ins.keyword, ())
        used = list(dict.fromkeys(name for name, _ in ins.flags if name in known))
        if not used:
            continue
        flags = ", ".join(f"--{name}" for name in used)
        these = "this flag" if len(used) == 1 else "these flags"
        yield Hit(
            line=ins.line,
            end_line=ins.end_line,
            message=f"{ins.keyword} {flags}: only BuildKit has {these}; the classic builder stops here "
            f"(the --{used[0]} option requires BuildKit)",
        )


RULE = Rule(
    id="buildkit-only",
    severity="error",
    summary="A flag only BuildKit knows (RUN --mount, COPY --chmod, …) where the classic builder builds.",
    check=check,
    needs=(NEEDS_DOCKERFILE,),
)
