"""Docker's word expansion, as BuildKit's shell lexer (``frontend/dockerfile/shell/lex.go``) does it.

Quotes are removed; ``$V``, ``${V}``, ``${V:-w}``, ``${V-w}``, ``${V:+w}``, ``${V+w}``, ``${V:?m}``,
``${V?m}``, the Dockerfile 1.7+ pattern forms ``${V#p}``, ``${V##p}``, ``${V%p}``, ``${V%%p}``,
``${V/p/r}`` and ``${V//p/r}`` (``*`` and ``?`` wildcards, no brackets); an undeclared variable is
empty. Work is linear in the word's length, and ``${…}`` nesting is bounded by :data:`MAX_DEPTH`
(BuildKit recurses without a limit; so deep a word is never a real Dockerfile).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

MAX_DEPTH = 64
"""Deepest ``${…}`` nesting accepted inside a word."""

_SPECIAL = frozenset("@*#?-$!0")


class ExpansionError(Exception):
    """A word that cannot be expanded; the message is BuildKit's where it has one."""


@functools.lru_cache(maxsize=64)
def _plain(escape: str, stop: str) -> re.Pattern[str]:
    """A run of characters needing no attention (so long words are scanned by the regex engine)."""
    return re.compile("[^" + re.escape("$'\"" + escape + stop) + "]+")


class Lexer:
    """Expands words against ``env`` with ``escape`` as the escape token."""

    def __init__(self, env: Mapping[str, str], escape: str = "\\") -> None:
        self.env, self.escape = env, escape
        self.text, self.pos, self.depth = "", 0, 0

    def word(self, text: str) -> str:
        self.text, self.pos, self.depth = text, 0, 0
        return self._until("", raw=False)

    def _until(self, stop: str, *, raw: bool) -> str:
        """Up to ``stop`` (consumed; "" = the end). ``raw``: escape tokens are kept (patterns)."""
        out: list[str] = []
        text, n, plain = self.text, len(self.text), _plain(self.escape, stop)
        while self.pos < n:
            if match := plain.match(text, self.pos):
                out.append(match[0])
                self.pos = match.end()
                continue
            ch = text[self.pos]
            if stop and ch == stop:
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
            elif ch == "'":
                out.append(self._single())
            elif ch == '"':
                out.append(self._double(raw))
            else:  # the escape token
                self.pos += 1
                if raw:
                    out.append(ch)
                if self.pos >= n:
                    break
                out.append(text[self.pos])
                self.pos += 1
        if stop:
            raise ExpansionError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out)

    def _single(self) -> str:
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            raise ExpansionError("unexpected end of statement while looking for matching single-quote")
        value = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return value

    def _double(self, raw: bool) -> str:
        out: list[str] = []
        text, n, plain = self.text, len(self.text), _plain(self.escape, "")
        self.pos += 1
        while True:
            if self.pos >= n:
                raise ExpansionError("unexpected end of statement while looking for matching double-quote")
            if match := plain.match(text, self.pos):
                out.append(match[0])
                self.pos = match.end()
                continue
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
                continue
            self.pos += 1
            if ch == self.escape:
                if raw:
                    out.append(ch)
                if self.pos >= n:
                    continue
                if text[self.pos] in ('"', "$", self.escape):
                    ch = text[self.pos]
                    self.pos += 1
            out.append(ch)

    def _name(self) -> str:
        text, start = self.text, self.pos
        if start < len(text) and text[start].isdecimal():
            while self.pos < len(text) and text[self.pos].isdecimal():
                self.pos += 1
            return text[start : self.pos]
        if start < len(text) and text[start] in _SPECIAL:
            self.pos += 1
            return text[start]
        while self.pos < len(text) and (text[self.pos].isalnum() or text[self.pos] == "_"):
            self.pos += 1
        return text[start : self.pos]

    def _dollar(self) -> str:
        self.pos += 1
        if not self.text.startswith("{", self.pos):
            name = self._name()
            return self.env.get(name, "") if name else "$"
        self.pos += 1
        if self.pos >= len(self.text):
            raise ExpansionError("syntax error: missing '}'")
        if self.text[self.pos] in "{}:":
            raise ExpansionError("syntax error: bad substitution")
        name = self._name()
        op = self._next()
        if op == "}":
            return self.env.get(name, "")
        colon = op == ":"
        if colon:
            op = self._next()
        if op == "/" and not colon:
            return self._replace(name)
        word = self._nested("}", raw=op in "#%" and op != "")
        if op not in ("-", "+", "?", "#", "%") or op == "":
            raise ExpansionError(f"unsupported modifier ({':' if colon else ''}{op}) in substitution")
        return self._modify(name, op, colon, word)

    def _next(self) -> str:
        ch = self.text[self.pos : self.pos + 1]
        self.pos += len(ch)
        return ch

    def _nested(self, stop: str, *, raw: bool) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpansionError(f"substitutions nested deeper than {MAX_DEPTH} levels")
        try:
            return self._until(stop, raw=raw)
        except ExpansionError:
            if self.pos >= len(self.text):
                raise ExpansionError(f"syntax error: missing '{stop}'") from None
            raise
        finally:
            self.depth -= 1

    def _modify(self, name: str, op: str, colon: bool, word: str) -> str:
        value = self.env.get(name)
        unset = value is None or (colon and value == "")
        if op == "-":
            return word if unset else (value or "")
        if op == "+":
            return "" if unset else word
        if op == "?":
            if value is None:
                raise ExpansionError(f"{name}: {word or 'is not allowed to be unset'}")
            if unset:
                raise ExpansionError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        greedy = word.startswith(op)
        pattern = word[1:] if greedy else word
        if op == "#":
            return _trim_prefix(pattern, value or "", greedy)
        reversed_pattern = "".join(reversed(_pattern_tokens(pattern)))
        return _trim_prefix(reversed_pattern, (value or "")[::-1], greedy)[::-1]

    def _replace(self, name: str) -> str:
        replace_all = self.text.startswith("/", self.pos)
        self.pos += replace_all
        pattern = self._nested("/", raw=True)
        replacement = self._nested("}", raw=True)
        value = self.env.get(name, "")
        regex = _pattern_regex(pattern, greedy=True)
        return regex.sub(lambda _m: replacement, value, count=0 if replace_all else 1)


def _pattern_tokens(pattern: str) -> list[str]:
    """The pattern in tokens, an escape kept with the character it escapes (to reverse it)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        step = 2 if pattern[i] == "\\" and i + 1 < len(pattern) else 1
        out.append(pattern[i : i + step])
        i += step
    return out


def _pattern_regex(pattern: str, *, greedy: bool) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        tok = pattern[i]
        i += 1
        if tok == "*":
            out.append(".*" if greedy else ".*?")
        elif tok == "?":
            out.append(".")
        elif tok == "\\":
            if i < len(pattern) and pattern[i] in "}/":
                continue  # escaped only for the ${} syntax, not part of the pattern
            nxt = pattern[i : i + 1]
            i += 1
            if nxt not in ("*", "?", "\\"):
                raise ExpansionError(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{nxt}'")
            out.append(re.escape(nxt))
        else:
            out.append(re.escape(tok))
    return re.compile("".join(out))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _pattern_regex(pattern, greedy=greedy).match(value)
    return value[match.end() :] if match else value
