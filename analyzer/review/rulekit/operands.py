"""Source operands of COPY/ADD as written (shared by the rules that look at them)."""

from __future__ import annotations

from analyzer.model import Instruction

WHOLE_CONTEXT = frozenset({".", "./", "*", "./*", "./."})


def sources(ins: Instruction) -> tuple[str, ...]:
    """The source operands of a COPY/ADD (everything but the destination); () for heredoc forms."""
    if ins.heredocs:
        return ()
    words = list(ins.exec_args) if ins.exec_form and ins.exec_args is not None else ins.args.split()
    return tuple(words[:-1])


def copies_whole_context(ins: Instruction) -> bool:
    """A COPY/ADD from the build context (no ``--from``) of the context's root."""
    if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None:
        return False
    return any(src in WHOLE_CONTEXT for src in sources(ins))
