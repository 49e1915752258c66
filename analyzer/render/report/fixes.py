"""How to fix what each review rule finds, in one or two sentences a student can act on.

Kept beside the renderers (not in the rules) because it is teaching text for human-facing pages; a
rule without an entry here simply shows no fix.
"""

from __future__ import annotations

from analyzer.i18n import N_, _

FIXES: dict[str, str] = {
    "add-instead-of-copy": N_(
        "Use `COPY` for local files; keep `ADD` for what only it does (a URL, a tar to unpack)."
    ),
    "added-over-budget": N_(
        "Remove what this Dockerfile adds but the image does not need, or raise the budget."
    ),
    "base-image-waste": N_("Choose a smaller base image, or build your own base without the hidden files."),
    "buildkit-only": N_(
        "Build with BuildKit (`--buildkit`, `DOCKER_BUILDKIT=1`, the default from Docker 23.0), or drop the "
        "flag for the classic builder."
    ),
    "cache-busting-copy": N_(
        "Copy only the dependency files first (`COPY requirements.txt .`), install, then `COPY . .`: "
        "a code change then no longer re-runs the install."
    ),
    "large-context": N_(
        "Add a `.dockerignore` that leaves out what the build does not need (`.git`, build output)."
    ),
    "copy-up": N_(
        "Set owner and mode while copying (`COPY --chown=… --chmod=…`) instead of a later `chown`/`chmod`, "
        "which stores the whole file again."
    ),
    "deleted-later": N_(
        "Delete the files in the same `RUN` that creates them (`… && rm …`), or build them in another stage "
        "and `COPY --from` only the result."
    ),
    "low-efficiency": N_(
        "Remove files in the line that adds them, not in a later line; see the waste pairs."
    ),
    "image-over-budget": N_(
        "Use a smaller base or a multi-stage build that copies only what runs; or raise the budget."
    ),
    "too-many-layers": N_("Join consecutive `RUN` lines with `&&`, or copy files in fewer `COPY` lines."),
    "layer-over-budget": N_("Split out or remove what this line adds, or raise the budget."),
    "overwritten-later": N_(
        "Write the file once, in its final form, instead of replacing it in a later line."
    ),
    "package-cache": N_(
        "Clean the package cache in the same `RUN` as the install "
        "(`apt-get … && rm -rf /var/lib/apt/lists/*`)."
    ),
    "tiny-layers": N_(
        "Join these small steps into one line: each extra layer costs a download and a lookup."
    ),
    "wasted-bytes": N_("Remove files in the line that adds them, not in a later line; see the waste pairs."),
    "secret-in-layer": N_(
        "Never copy the secret into the image: add it to `.dockerignore`, and pass secrets at build time "
        "with `RUN --mount=type=secret`. Deleting it later does not help: the layer that added it still "
        "ships it."
    ),
}


def fix_for(rule: str) -> str:
    """The fix sentence for ``rule``, or ``""``."""
    fix = FIXES.get(rule)
    return _(fix) if fix else ""
