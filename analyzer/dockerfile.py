"""Read a Dockerfile into the :mod:`analyzer.model` types, following Docker's own parser rules.

This is the only module that imports ``dockerfile_parse``, and uses it only to unquote heredoc
delimiters: its ``structure`` is wrong on comments and blank lines inside continuations, a trailing
escape at EOF, ``\\\\`` at end of line, heredocs, directives, ``${V:-x}``, stage names, exec form and
ONBUILD. The tokenizer below follows moby/buildkit ``frontend/dockerfile/parser`` instead, and its
``text`` was checked against what the classic builder of Docker 20.10.24 echoes as ``Step N/M``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from typing import NoReturn

from dockerfile_parse.util import WordSplitter  # type: ignore[import-untyped]

from analyzer import reference
from analyzer.errors import DockerfileError, UsageError
from analyzer.i18n import _
from analyzer.model import Dockerfile, Heredoc, Instruction, Stage
from analyzer.platforms import platform_args
from analyzer.shell_words import ExpansionError, Lexer

MAX_BYTES = 10 * 1024 * 1024

KEYWORDS = frozenset(
    {
        *("FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT"),
        *("VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"),
    }
)
_EXEC_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"})
# BuildKit reads heredocs only for these (and for them behind ONBUILD).
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_DIRECTIVE_RE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$", re.ASCII)
_HEREDOC_RE = re.compile(r"^(\d*)<<(-?)([^<]*)$")
# A raw shell word (quotes and `\` escapes kept, as buildkit scans a line for heredocs).
_RAW_WORD_RE = re.compile(r"""(?:[^\s'"\\]|\\.|\\\Z|'[^']*(?:'|\Z)|"(?:[^"\\]|\\.)*(?:"|\Z))+""", re.S)
_STAGE_NAME_RE = re.compile(r"^[a-z][a-z0-9\-_.]*$")
BUILDERS = (None, "classic", "buildkit")


class _Error(Exception):
    """A syntax error at a line; :func:`parse` turns it into a DockerfileError with the path."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# --------------------------------------------------------------------------- public API


def load(
    path: str | os.PathLike[str],
    build_args: Mapping[str, str] | None = None,
    builder: str | None = None,
    platform: str | None = None,
) -> Dockerfile:
    """Read and parse the Dockerfile at ``path``; every problem is a DockerfileError naming it.

    ``builder`` (``classic``, ``buildkit``, None: not known yet) decides what is builder-dependent: a
    duplicate stage name (an error for the classic builder, a warning for BuildKit and when unknown) and
    BuildKit's automatic platform ARGs (``TARGETOS`` …, from ``platform``, else this machine's)."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
        if stat.S_ISDIR(info.st_mode):
            raise DockerfileError(_("is a directory, not a Dockerfile"), name)
        if stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):  # open() would wait for a writer
            raise DockerfileError(_("a FIFO or socket, not a regular file"), name)
        # Checked before reading so a huge file is never loaded; the bounded read covers a file
        # that grows meanwhile and devices or pipes, whose st_size is 0.
        if info.st_size > MAX_BYTES:
            raise DockerfileError(
                _("file too large ({size} bytes, limit {limit})").format(size=info.st_size, limit=MAX_BYTES),
                name,
            )
        with open(name, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise DockerfileError(_("file too large (over {limit} bytes)").format(limit=MAX_BYTES), name)
    except FileNotFoundError:
        raise DockerfileError(_("no such file"), name) from None
    except OSError as err:
        raise DockerfileError(_("cannot read: {reason}").format(reason=err.strerror or err), name) from None
    if b"\0" in data:
        raise DockerfileError(_("binary file (contains NUL bytes), not a Dockerfile"), name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DockerfileError(_("not UTF-8 text (byte {byte})").format(byte=err.start), name) from None
    return _parse(text, name, build_args, hashlib.sha256(data).hexdigest(), (builder, platform))


def parse(
    text: str,
    path: str | None = None,
    build_args: Mapping[str, str] | None = None,
    builder: str | None = None,
    platform: str | None = None,
) -> Dockerfile:
    """Parse Dockerfile ``text`` (see :func:`load`); ``sha256`` is the digest of its UTF-8 encoding."""
    return _parse(
        text, path, build_args, hashlib.sha256(text.encode("utf-8")).hexdigest(), (builder, platform)
    )


def resolve(dockerfile: Dockerfile, builder: str, platform: str | None = None) -> Dockerfile:
    """The same Dockerfile resolved for ``builder`` once it is known (e.g. read from an image)."""
    return _parse(
        dockerfile.text, dockerfile.path, dockerfile.build_args, dockerfile.sha256, (builder, platform)
    )


def check_target(dockerfile: Dockerfile, target: str | None) -> None:
    """``--target`` must name a stage of ``dockerfile`` (UsageError naming the stages otherwise)."""
    if target is None:
        return
    try:
        dockerfile.stage_index(target)
    except KeyError:
        names = ", ".join(s.name or str(s.index) for s in dockerfile.stages)
        raise UsageError(f"--target {target}: no such stage (stages: {names})") from None


def parse_build_args(pairs: list[str]) -> dict[str, str]:
    """``--build-arg`` values to a dict, as the docker CLI reads them (a later one wins)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not key or key != key.strip() or any(ch.isspace() for ch in key):
            raise UsageError(
                _("invalid --build-arg {pair}: expected NAME=VALUE or NAME").format(pair=repr(pair))
            )
        if eq:
            out[key] = value
        elif key in os.environ:
            # Like docker: a bare NAME takes its value from the environment, else is ignored.
            out[key] = os.environ[key]
    return out


def _parse(
    text: str,
    path: str | None,
    build_args: Mapping[str, str] | None,
    sha: str,
    target: tuple[str | None, str | None],
) -> Dockerfile:
    args = dict(build_args or {})
    builder, platform = target
    if builder not in BUILDERS:
        raise UsageError(f"unknown builder {builder!r}")
    warnings: list[str] = []
    try:
        lines = _physical_lines(text)
        directives, escape = _directives(lines)
        instructions = list(_instructions(lines, escape))
        if not instructions:
            raise _Error("file with no instructions")
        auto = platform_args(platform) if builder == "buildkit" else {}
        global_args, stages = _stages(instructions, args, escape, (builder, auto, warnings))
    except _Error as err:
        raise DockerfileError(err.message, path, err.line) from None
    return Dockerfile(path, sha, text, directives, global_args, stages, args, tuple(warnings))


# --------------------------------------------------------------------------- lines


def _physical_lines(text: str) -> list[str]:
    # Docker splits on \n only and trims any trailing \r (CRLF files); str.splitlines would also
    # split on \v, \f and Unicode separators, shifting line numbers.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    return lines


def _directives(lines: list[str]) -> tuple[dict[str, str], str]:
    """Parser directives: only leading ``# key=value`` lines; the first other line ends them."""
    found: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        match = _DIRECTIVE_RE.match(line.lstrip())
        if match is None or match[1].lower() not in _DIRECTIVES:
            break
        key = match[1].lower()
        if key in found:
            raise _Error(f"only one {key} parser directive can be used", number)
        if key == "escape" and match[2] not in ("\\", "`"):
            raise _Error(f"invalid escape token '{match[2]}' does not match ` or \\", number)
        found[key] = match[2]
    return found, found.get("escape", "\\")


def _continuation(escape: str) -> re.Pattern[str]:
    # Docker (buildkit parser, vendored in 20.10.24 too): the escape token as the last
    # non-blank character continues the line *unless* another escape token precedes it, so
    # `RUN echo a\\` ends the instruction. Like Docker, `\\\` (escaped escape + escape) is
    # not a continuation either: Go's regexp has no look-behind to tell the two apart.
    e = re.escape(escape)
    return re.compile(rf"([^{e}]){e}[ \t]*\Z|^{e}[ \t]*\Z")


class _Reader:
    """A cursor over the physical lines: yields logical lines and consumes heredoc bodies."""

    def __init__(self, lines: list[str], escape: str) -> None:
        self.lines = lines
        self.pos = 0
        self.cont = _continuation(escape)

    def _next(self) -> str | None:
        if self.pos >= len(self.lines):
            return None
        self.pos += 1
        return self.lines[self.pos - 1]

    def logical(self) -> tuple[int, int, str] | None:
        """(first line, last line, joined text) of the next instruction, or None at EOF."""
        while (raw := self._next()) is not None:
            start = self.pos
            first = raw.lstrip()
            head, more = self._trim("" if first.startswith("#") else first)
            if not more and not head:
                continue
            pieces = [head]  # joined once at the end: `+=` per line is quadratic
            while more and (raw := self._next()) is not None:
                # Docker drops comment lines and skips blank lines inside a continuation (it
                # joins across them, with a deprecation warning for the blank ones).
                if raw.lstrip().startswith("#") or not raw.strip():
                    continue
                piece, more = self._trim(raw)
                pieces.append(piece)
            # A trailing escape on the last line still ends here: Docker keeps the instruction.
            return start, self.pos, "".join(pieces).strip()
        return None

    def _trim(self, line: str) -> tuple[str, bool]:
        # Removing the escape (and blanks after it) and nothing else is how Docker joins: the
        # next line's leading whitespace is kept and no space is added.
        match = self.cont.search(line)
        if match is None:
            return line, False
        return line[: match.start()] + (match[1] or ""), True

    def heredoc(self, name: str, chomp: bool, line: int) -> Heredoc:
        """Consume one heredoc body up to its terminator (``<<-``: leading tabs ignored)."""
        body: list[str] = []
        while (raw := self._next()) is not None:
            if (raw.lstrip("\t") if chomp else raw) == name:
                # An empty body has no first line: `line` is then the terminator's.
                return Heredoc(name, "\n".join(body), self.pos - len(body), self.pos)
            body.append(raw)
        raise _Error(f"unterminated heredoc {name}", line)


# --------------------------------------------------------------------------- instructions


def _instructions(lines: list[str], escape: str) -> Iterator[Instruction]:
    reader = _Reader(lines, escape)
    stage = -1
    while (found := reader.logical()) is not None:
        start, end, text = found
        stage += text.split(None, 1)[0].upper() == "FROM"
        ins = _instruction(text, start, end, stage if stage >= 0 else None)
        target = ins.onbuild or ins
        if target.keyword in _HEREDOC_KEYWORDS and not target.exec_form:
            docs = tuple(reader.heredoc(name, chomp, start) for name, chomp in _heredoc_names(text))
            if docs:
                ins = _with_heredocs(ins, docs)
        yield ins


def _with_heredocs(ins: Instruction, docs: tuple[Heredoc, ...]) -> Instruction:
    end = docs[-1].end_line
    inner = ins.onbuild and dataclasses.replace(ins.onbuild, end_line=end, heredocs=docs)
    return dataclasses.replace(ins, end_line=end, heredocs=docs, onbuild=inner)


def _instruction(text: str, line: int, end_line: int, stage: int | None) -> Instruction:
    words = text.split(None, 1)
    keyword = words[0].upper()
    if keyword not in KEYWORDS:
        raise _Error(f"unknown instruction: {keyword}", line)
    args, flags = _split_flags(words[1] if len(words) > 1 else "")
    if keyword in ("ENV", "LABEL"):
        _check_name_values(keyword, words[1] if len(words) > 1 else "", line)
    onbuild = None
    if keyword == "ONBUILD":
        onbuild = _trigger(args, line, end_line, stage)
    exec_args = _exec_args(keyword, args, line)
    return Instruction(
        keyword, line, end_line, text, args, flags, exec_args is not None, exec_args, (), onbuild, stage
    )


def _check_name_values(keyword: str, rest: str, line: int) -> None:
    """BuildKit's parseNameVal: ``KEY name value`` (old form) or only ``name=value`` words."""
    words = _RAW_WORD_RE.findall(rest)
    if not words:
        raise _Error(f"{keyword} requires at least one argument", line)
    if "=" not in words[0]:
        if len(rest.split(None, 1)) < 2:
            raise _Error(f"{keyword} must have two arguments", line)
        return
    bad = next((word for word in words if "=" not in word), None)
    if bad is not None:
        raise _Error(f'Syntax error - can\'t find = in "{bad}". Must be of the form: name=value', line)


def _trigger(args: str, line: int, end_line: int, stage: int | None) -> Instruction:
    if not args:
        raise _Error("ONBUILD requires at least one argument", line)
    inner = args.split(None, 1)[0].upper()
    if inner == "ONBUILD":
        raise _Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", line)
    if inner in ("FROM", "MAINTAINER"):
        raise _Error(f"{inner} isn't allowed as an ONBUILD trigger", line)
    return _instruction(args, line, end_line, stage)


def _split_flags(rest: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Leading ``--name[=value]`` words (quotes and ``\\`` consumed, as Docker does); ``--`` ends them."""
    flags: list[tuple[str, str]] = []
    pos = 0
    while True:
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
        if not rest.startswith("--", pos):
            return rest[pos:], tuple(flags)
        word, pos = _flag_word(rest, pos)
        if word == "--":
            return rest[pos:].lstrip(), tuple(flags)
        name, _, value = word[2:].partition("=")
        flags.append((name, value))


def _flag_word(text: str, pos: int) -> tuple[str, int]:
    word: list[str] = []
    quote: str | None = None
    while pos < len(text) and (quote is not None or not text[pos].isspace()):
        ch = text[pos]
        pos += 1
        if ch == quote:
            quote = None
        elif quote is None and ch in "'\"":
            quote = ch
        elif ch == "\\":
            if pos < len(text):
                word.append(text[pos])
                pos += 1
        else:
            word.append(ch)
    return "".join(word), pos


def _exec_args(keyword: str, args: str, line: int) -> tuple[str, ...] | None:
    if keyword == "HEALTHCHECK":
        parts = args.split(None, 1)
        args = parts[1] if len(parts) == 2 else ""
    elif keyword not in _EXEC_KEYWORDS:
        return None
    if not args.startswith("["):
        return None
    try:
        # Docker decodes only the first JSON value (json.Decoder), so `CMD ["a"] junk` is still
        # exec form; invalid JSON (NaN included) falls back to shell form.
        value, _ = json.JSONDecoder(parse_constant=_reject).raw_decode(args)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Error("when using JSON array syntax, arrays must be comprised of strings only", line)
    return tuple(value)


def _reject(name: str) -> NoReturn:
    raise ValueError(name)


def _heredoc_names(text: str) -> Iterator[tuple[str, bool]]:
    # BuildKit splits the whole line into shell words (quotes kept, escape always `\`) and takes
    # each word that is `[n]<<[-]WORD`; WORD with its quotes removed names the terminator.
    for word in _RAW_WORD_RE.findall(text) if "<<" in text else ():
        match = _HEREDOC_RE.match(word)
        name = _heredoc_name(match[3]) if match else None
        if match and name:
            yield name, match[2] == "-"


@functools.lru_cache(maxsize=256)  # delimiters repeat; WordSplitter is slow pure Python
def _heredoc_name(word: str) -> str | None:
    if not any(ch in word for ch in "'\"\\"):
        return word
    # `<<"EOF"` or `<<E\OF`: the terminator is the word with quotes and escapes removed.
    names = [str(name) for name in WordSplitter(word).split()]
    return names[0] if len(names) == 1 else None


# --------------------------------------------------------------------------- stages

_Context = tuple[str | None, Mapping[str, str], list[str]]
"""The builder (None: unknown), BuildKit's automatic platform ARGs, and warnings found on the way."""


def _stages(
    instructions: list[Instruction], build_args: Mapping[str, str], escape: str, ctx: _Context
) -> tuple[tuple[Instruction, ...], tuple[Stage, ...]]:
    global_args: list[Instruction] = []
    groups: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            groups.append([ins])
        elif groups:
            groups[-1].append(ins)
        elif ins.keyword == "ARG":
            global_args.append(ins)
        else:
            raise _Error(f"no build stage in current context: {ins.keyword} before the first FROM", ins.line)
    if not groups:
        raise _Error("no FROM instruction")
    env = _global_env(global_args, build_args, escape, ctx[1])
    stages: list[Stage] = []
    for group in groups:
        stages.append(_stage(len(stages), group, stages, env, escape, ctx))
    return tuple(global_args), tuple(stages)


def _stage(
    index: int,
    group: list[Instruction],
    earlier: list[Stage],
    env: dict[str, str],
    escape: str,
    ctx: _Context,
) -> Stage:
    head = group[0]
    words = head.args.split()
    if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
        raise _Error("FROM requires either one or three arguments", head.line)
    name = words[2].lower() if len(words) == 3 else None
    if name is not None and not _STAGE_NAME_RE.match(name):
        raise _Error(
            f'invalid name for build stage: "{words[2]}", name can\'t start with a number or contain symbols',
            head.line,
        )
    if name is not None and any(stage.name == name for stage in earlier):
        # The classic builder refuses it; BuildKit warns (lint DuplicateStageName) and the later wins.
        if ctx[0] == "classic":
            raise _Error(f'duplicate stage name "{name}"', head.line)
        ctx[2].append(f'line {head.line}: duplicate stage name "{name}" (the later stage wins)')
    base = _expand(words[0], env, escape, head.line)
    # Docker looks the base up among earlier stage *names* only, case-insensitively: `FROM 0`
    # is an image called "0" (checked on 20.10.24: it tries to pull it), not stage 0.
    parent = next((stage for stage in reversed(earlier) if stage.name == base.lower()), None)
    if parent is not None:
        base = parent.name or base
    else:
        _check_reference(base, words[0], head.line)
    return Stage(index, name, base, parent.index if parent else None, head, tuple(group[1:]))


def _check_reference(base: str, written: str, line: int) -> None:
    """What both builders refuse before pulling anything (exit 2 here, not an engine error)."""
    if not base:
        raise _Error(f"base name ({written}) should not be blank", line)
    if not reference.is_valid(base):
        raise _Error(f"invalid reference format: {base!r} (from {written!r})", line)


def _global_env(
    args: list[Instruction], build_args: Mapping[str, str], escape: str, auto: Mapping[str, str]
) -> dict[str, str]:
    """What FROM lines can see: BuildKit's platform ARGs, global ARG defaults, ``--build-arg`` values."""
    env: dict[str, str] = dict(auto)
    for ins in args:
        for word in _RAW_WORD_RE.findall(ins.args):
            key, eq, value = word.partition("=")
            if key in build_args:
                env[key] = build_args[key]
            elif eq:
                # A default can use the global ARGs declared before it (`ARG B=${A}:latest`).
                env[key] = _expand(value, env, escape, ins.line)
    return env


def _expand(word: str, env: Mapping[str, str], escape: str, line: int) -> str:
    try:
        return Lexer(env, escape).word(word)
    except ExpansionError as err:
        raise _Error(f"{err} in {word[:200]!r}", line) from None
