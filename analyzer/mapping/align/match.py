"""Does a history entry come from the Dockerfile instruction its position gives it? (pure)

Both builders write ``CreatedBy`` in known forms (engine-facts):

- classic: metadata as ``/bin/sh -c #(nop)  ENV A=1`` (the prefix is the current ``SHELL``), COPY/ADD as
  ``#(nop) COPY file:<hash> in <dest> ``, RUN as the command line itself (``/bin/sh -c …`` or the exec
  words), preceded by ``|N K=V …`` when build args are in scope;
- BuildKit: the keyword first — ``RUN /bin/sh -c … # buildkit`` (same ``|N`` prefix), ``COPY src… dest
  # buildkit``, ``ENV A=1``, ``WORKDIR /src``, ``LABEL k=v``, ``CMD ["a" "b"]`` …

:func:`written_by` reads which instruction wrote an entry; :func:`compare` says whether it is the
expected one (``instruction`` mismatch: another instruction wrote it) and, when it is, whether the
arguments that survive into ``CreatedBy`` agree (``arguments`` mismatch: a near miss — an edited
line, a stale file). Words holding ``$`` are compared only where their expansion cannot matter.
:func:`fatal` decides when the Dockerfile is clearly not the image's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from analyzer.i18n import _
from analyzer.model import Mismatch, MismatchCode

KEYWORDS = frozenset(
    {
        *("FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT"),
        *("VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"),
    }
)
BUILDKIT_SUFFIX = "# buildkit"
_NOP_RE = re.compile(r"#\(nop\)\s*([A-Za-z]+)\b\s?(.*)", re.S)
_WORD_RE = re.compile(r"""(?:[^\s'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""", re.S)
_FLAG_RE = re.compile(r"^--[A-Za-z][\w-]*(?:=\S*)?\s+")
# name=value words as written: a value quoted whole, or unquoted without spaces.
_RAW_PAIR_RE = re.compile(r"""(?:^|\s)([^\s="']+)=("[^"]*"|'[^']*'|[^\s"']*)(?=\s|$)""")


@dataclass(frozen=True)
class Written:
    """What a ``CreatedBy`` says about the instruction that wrote it."""

    keyword: str
    """The instruction; ``RUN`` for an unmarked command line (classic RUN, or a base image's import)."""
    body: str
    """What follows the keyword, the ``#(nop)`` marker and BuildKit's ``# buildkit`` suffix removed."""


def written_by(created_by: str) -> Written:
    """The instruction a history entry's ``CreatedBy`` comes from, in either builder's form."""
    text = created_by.strip()
    if text.endswith(BUILDKIT_SUFFIX):
        text = text[: -len(BUILDKIT_SUFFIX)].rstrip()
    if nop := _NOP_RE.search(text):
        return Written(nop[1].upper(), nop[2].strip())
    first, _, rest = text.partition(" ")
    if first in KEYWORDS:
        return Written(first, rest.strip())
    return Written("RUN", text)


def compare(
    keyword: str, text: str, line: int, history_index: int, created_by: str, *, in_final_image: bool = True
) -> Mismatch | None:
    """None when the entry can come from the instruction ``text`` (keyword ``keyword``), else why not."""
    found = written_by(created_by)

    def mismatch(code: MismatchCode) -> Mismatch:
        return Mismatch(code, line, history_index, text, created_by, in_final_image)

    if found.keyword != keyword:
        return mismatch("instruction")
    args, exec_args = _arguments(keyword, text)
    if not _arguments_agree(keyword, args, exec_args, found.body):
        return mismatch("arguments")
    return None


def missing(text: str, line: int, *, in_final_image: bool = True) -> Mismatch:
    """The image has no history entry where the instruction's would be."""
    return Mismatch("missing", line, None, text, None, in_final_image)


def fatal(mismatches: tuple[Mismatch, ...] | list[Mismatch], entries: int) -> Mismatch | None:
    """The first mismatch that says the Dockerfile is not the image's, else None.

    Clear cases: an entry another instruction wrote (``instruction``), an instruction with no entry
    (``missing``), or arguments that differ on most of the ``entries`` the Dockerfile makes — at least
    two of them: one edited line stays a near miss, even in a file of one instruction.
    """
    for m in mismatches:
        if m.code in ("instruction", "missing"):
            return m
    if len(mismatches) >= 2 and 2 * len(mismatches) > entries:
        return mismatches[0]
    return None


def makes_entry(
    instruction: str, trigger: bool, stage: int | None, has_history: bool, creates_layer: bool | None
) -> bool:
    """Whether a report step stands for a history entry the Dockerfile makes (the ``entries`` of
    :func:`fatal`): not a global ARG, not FROM, not BuildKit's declared ONBUILD (no entry, no layer)."""
    if stage is None or (instruction == "FROM" and not trigger):
        return False
    return not (instruction == "ONBUILD" and not has_history and creates_layer is False)


def describe(m: Mismatch) -> str:
    """One line: the Dockerfile line, the entry, what was expected and what was found."""
    expected = _short(m.expected)
    if m.code == "missing" or m.found is None:
        return _("line {line}: no history entry for {expected}").format(line=m.line, expected=repr(expected))
    other = m.code == "instruction"
    # fmt: off
    text = _(
        "line {line}: history entry {index} was written by another instruction: "
        "expected {expected}, found {found}"
    ) if other else _(
        "line {line}: history entry {index} has other arguments: expected {expected}, found {found}"
    )
    # fmt: on
    found = repr(_short(m.found))
    return text.format(line=m.line, index=m.history_index, expected=repr(expected), found=found)


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------- arguments


def _arguments(keyword: str, text: str) -> tuple[str, list[str] | None]:
    """What follows the keyword and its ``--flags``; the decoded words of an exec form."""
    rest = text.strip()
    if rest.upper().startswith(keyword):
        rest = rest[len(keyword) :].strip()
    while flag := _FLAG_RE.match(rest):
        rest = rest[flag.end() :]
    exec_args = None
    if rest.startswith("["):
        try:
            decoded = json.loads(rest)
        except ValueError:
            decoded = None
        if isinstance(decoded, list) and all(isinstance(w, str) for w in decoded):
            exec_args = decoded
    return rest, exec_args


def _flat(text: str) -> str:
    return " ".join(text.split())


def _unquote(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


def _words(args: str) -> list[str]:
    return [_unquote(w) for w in _WORD_RE.findall(args)]


def _arguments_agree(keyword: str, args: str, exec_args: list[str] | None, body: str) -> bool:
    check = _CHECKS.get(keyword)
    if check is None or "<<" in args:  # heredocs: CreatedBy holds what the builder made of them
        return True
    return check(args, exec_args, _flat(body))


def _run(args: str, exec_args: list[str] | None, body: str) -> bool:
    # Both builders end CreatedBy with the command as written (after the shell and any |N K=V).
    command = " ".join(exec_args) if exec_args is not None else args
    return body.endswith(_flat(command))


def _copy(args: str, exec_args: list[str] | None, body: str) -> bool:
    words = exec_args if exec_args is not None else _words(args)
    if not words or "$" in words[-1]:
        return True
    # classic: "file:<hash> in <dest>"; BuildKit: "<src>… <dest>".
    return body.endswith(_flat(words[-1]))


def _names(args: str, exec_args: list[str] | None, body: str) -> bool:
    """ARG (and ENV, LABEL): every name the instruction sets appears as a name in CreatedBy (an ARG's
    value may be the ``--build-arg`` one, or absent)."""
    del exec_args
    words = _words(args)
    if not words:
        return True
    names = [words[0]] if "=" not in words[0] and len(words) > 1 else [w.split("=", 1)[0] for w in words]
    names = [n.replace('"', "").replace("'", "") for n in names]
    tokens = body.split()
    return all("$" in n or any(t == n or t.startswith(n + "=") for t in tokens) for n in names if n)


def _pairs(args: str, exec_args: list[str] | None, body: str) -> bool:
    """ENV, LABEL: every name, and every ``name=value`` whose value needs no expansion or escape, as
    both builders write it (``A=hello world``: the quotes removed)."""
    if not _names(args, exec_args, body):
        return False
    if "=" not in args.split(None, 1)[0]:
        return True  # the legacy ``ENV name value…`` form: the value is the rest of the line
    for name, value in _RAW_PAIR_RE.findall(args):
        value = _unquote(value)
        if any(c in name + value for c in "$\\\"'"):
            continue
        if f" {name}={_flat(value)} " not in f" {body} ":
            return False
    return True


def _exact(args: str, exec_args: list[str] | None, body: str) -> bool:
    """USER, STOPSIGNAL: the value itself (unless a variable decides it)."""
    del exec_args
    value = _flat(_unquote(args.strip()))
    return "$" in value or body == value


def _workdir(args: str, exec_args: list[str] | None, body: str) -> bool:
    """WORKDIR: both builders write the path resolved against the previous one (``a`` → ``/src/a``)."""
    del exec_args
    value = _flat(_unquote(args.strip()))
    if "$" in value:
        return True
    value, body = value.rstrip("/") or "/", body.rstrip("/") or "/"
    relative = value.lstrip("./")
    return body == value or (not value.startswith("/") and (not relative or body.endswith("/" + relative)))


def _command(args: str, exec_args: list[str] | None, body: str) -> bool:
    """CMD, ENTRYPOINT: Go's %q of the words, ``["a" "b"]`` (the shell form's last word is the line)."""
    last = exec_args[-1] if exec_args else args
    if exec_args is not None and not exec_args:
        return True
    return _flat(_go_quote(last)) in body


def _ports(args: str, exec_args: list[str] | None, body: str) -> bool:
    """EXPOSE: every port (its first number; the protocol and a range's end aside) appears."""
    del exec_args
    ports = [re.split(r"[/-]", w)[0] for w in _words(args)]
    return all("$" in p or re.search(rf"(?<![\w.]){re.escape(p)}(?![\w.])", body) for p in ports)


def _paths(args: str, exec_args: list[str] | None, body: str) -> bool:
    """VOLUME: every path appears (``VOLUME [/a /b]`` in CreatedBy)."""
    paths = exec_args if exec_args is not None else _words(args)
    return all("$" in p or re.search(rf"(?<![^\s\[]){re.escape(p)}(?=[\s\]]|$)", body) for p in paths)


def _onbuild(args: str, exec_args: list[str] | None, body: str) -> bool:
    del exec_args
    inner = args.split(None, 1)
    return not inner or body.upper().startswith(inner[0].upper())


def _go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` for the characters Dockerfiles hold."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_CHECKS = {
    "RUN": _run,
    "COPY": _copy,
    "ADD": _copy,
    "ENV": _pairs,
    "LABEL": _pairs,
    "ARG": _names,
    "WORKDIR": _workdir,
    "USER": _exact,
    "STOPSIGNAL": _exact,
    "CMD": _command,
    "ENTRYPOINT": _command,
    "EXPOSE": _ports,
    "VOLUME": _paths,
    "ONBUILD": _onbuild,
}

__all__ = ["Written", "compare", "describe", "fatal", "makes_entry", "missing", "written_by"]
