"""What ``docker build`` refuses before building, checked for ``predict`` (which builds nothing): a
``--target`` that names no stage, heredocs the classic builder cannot read, and ``.dockerignore``
patterns the engine rejects. Each problem is one line and exit 2, never a confident prediction."""

from __future__ import annotations

from pathlib import Path

from analyzer.errors import DockerfileError, UsageError
from analyzer.i18n import _
from analyzer.model import Dockerfile


def validate(dockerfile: Dockerfile, builder: str, target: str | None) -> None:
    """Raise the error ``docker build`` would give for this Dockerfile, builder and target."""
    if target is not None and not any(stage.name == target.lower() for stage in dockerfile.stages):
        # Docker selects a target by stage name only: `--target 0` is "failed to reach build target".
        names = ", ".join(s.name for s in dockerfile.stages if s.name) or "none"
        raise UsageError(
            _("--target {target}: no stage of that name (stage names: {names})").format(
                target=target, names=names
            )
        )
    if builder == "classic" and "syntax" not in dockerfile.directives:
        heredoc = next((ins for ins in dockerfile.instructions if ins.heredocs), None)
        if heredoc is not None:
            raise DockerfileError(
                _(
                    "heredocs need BuildKit (or a `# syntax=` directive): the classic builder "
                    "of Docker 20.10 reads the body lines as instructions"
                ),
                dockerfile.path,
                heredoc.line,
            )
    if dockerfile.path is not None:
        check_dockerignore(Path(dockerfile.path).parent / ".dockerignore")


def check_dockerignore(path: Path) -> None:
    """Each pattern must be valid for Go's ``filepath.Match`` (what the engine and the CLI use)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(_("cannot read {path}: {reason}").format(path=path, reason=err)) from None
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern = line[1:].strip() if line.startswith("!") else line
        if not _valid_pattern(pattern):
            raise DockerfileError(f"syntax error in pattern {pattern!r}", str(path), number)


def _valid_pattern(pattern: str) -> bool:
    """Go's filepath.Match syntax on Linux: ``\\`` escapes one character; ``[…]`` is closed, non-empty,
    its ranges complete."""
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                return False
            i += 2
        elif ch == "[":
            end = _class_end(pattern, i + 1)
            if end < 0:
                return False
            i = end + 1
        else:
            i += 1
    return True


def _class_end(pattern: str, i: int) -> int:
    """Index of the ``]`` closing a class that starts at ``i`` (after ``[``), or -1 when malformed."""
    n = len(pattern)
    if i < n and pattern[i] == "^":
        i += 1
    first = True
    while i < n:
        if pattern[i] == "]" and not first:
            return i
        lo, i = _class_char(pattern, i)
        if lo is None:
            return -1
        if i < n and pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
            if hi is None or hi < lo:
                return -1
        first = False
    return -1


def _class_char(pattern: str, i: int) -> tuple[str | None, int]:
    if i >= len(pattern) or pattern[i] in "-]":
        return None, i
    if pattern[i] == "\\":
        return (pattern[i + 1], i + 2) if i + 1 < len(pattern) else (None, i)
    return pattern[i], i + 1
