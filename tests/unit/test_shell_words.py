"""Word expansion as BuildKit's shell lexer does it (cases from moby/buildkit's lex_test.go behaviour)."""

from __future__ import annotations

import re

import pytest

from analyzer.shell_words import MAX_DEPTH, ExpansionError, Lexer

ENV = {"TARGETPLATFORM": "linux/arm64/v8", "P": "/usr/local/bin/tool.tar.gz", "E": "", "A": "aXbXc"}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${TARGETPLATFORM#linux/}", "arm64/v8"),  # moby's own Dockerfile
        ("${P#*/}", "usr/local/bin/tool.tar.gz"),
        ("${P##*/}", "tool.tar.gz"),
        ("${P%.*}", "/usr/local/bin/tool.tar"),
        ("${P%%.*}", "/usr/local/bin/tool"),
        ("${P%/*}", "/usr/local/bin"),
        ("${P#nomatch}", "/usr/local/bin/tool.tar.gz"),
        ("${A/X/-}", "a-bXc"),
        ("${A//X/-}", "a-b-c"),
        ("${A//?/.}", "....."),
        ("${A/b*/}", "aX"),
        ("${E:-d}", "d"),
        ("${E-d}", ""),
        ("${U-d}", "d"),
        ("${E:+x}", ""),
        ("${E+x}", "x"),
        ("${U:-${A#a}}", "XbXc"),
        ("${P#\\*}", "/usr/local/bin/tool.tar.gz"),
        ("'$A'\"$A\"$A", "$AaXbXcaXbXc"),
        ("a\\ b", "a b"),
        ("$", "$"),
        ("${A:?}", "aXbXc"),
    ],
)
def test_expansions(word: str, expected: str) -> None:
    assert Lexer(ENV).word(word) == expected


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("${}", "bad substitution"),
        ("${:x}", "bad substitution"),
        ("${A", "missing '}'"),
        ("${A:-x", "missing '}'"),
        ("${A^}", "unsupported modifier (^)"),
        ("${A:x}", "unsupported modifier (:x)"),
        ("${A/x", "missing '/'"),
        ("${E:?}", "E: is not allowed to be empty"),
        ("${U?gone}", "U: gone"),
        ("${A#\\x}", "invalid escape"),
        ("'open", "single-quote"),
        ('"open', "double-quote"),
    ],
)
def test_errors(word: str, message: str) -> None:
    with pytest.raises(ExpansionError, match=re.escape(message)):
        Lexer(ENV).word(word)


def test_nesting_is_bounded() -> None:
    ok = "${U:-" * MAX_DEPTH + "x" + "}" * MAX_DEPTH
    assert Lexer(ENV).word(ok) == "x"
    deep = "${U:-" * 500 + "x" + "}" * 500
    with pytest.raises(ExpansionError, match=f"nested deeper than {MAX_DEPTH} levels"):
        Lexer(ENV).word(deep)


def test_long_words_expand_in_one_pass() -> None:
    word = "a" * 2_000_000 + "${A#a}" + "'q'" * 100_000
    assert Lexer(ENV).word(word) == "a" * 2_000_000 + "XbXc" + "q" * 100_000
