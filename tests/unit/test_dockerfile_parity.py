"""layermap's Dockerfile parser against BuildKit's own (the ``dockerfile`` package: BuildKit's Go parser
with Python bindings): the same instructions, line spans, texts and heredocs, on every Dockerfile in
the repository and on generated ones (hypothesis).

The generated run is fixed for CI (derandomized, ``LAYERMAP_FUZZ_EXAMPLES`` examples, default 200); a
longer run is one command:

    LAYERMAP_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/unit/test_dockerfile_parity.py -q
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dockerfile as buildkit
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.dockerfile import KEYWORDS, parse
from analyzer.errors import DockerfileError
from analyzer.model import Heredoc

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("LAYERMAP_FUZZ_EXAMPLES", "200"))


def _repo_dockerfiles() -> list[tuple[str, str]]:
    """Every Dockerfile file under sample_dockerfiles/, analyzer/samples/ and tests/fixtures/, and the
    Dockerfiles that recorded fixtures embed (their ``dockerfile`` field)."""
    out: list[tuple[str, str]] = []
    for top in ("sample_dockerfiles", "analyzer/samples", "tests/fixtures"):
        for path in sorted((ROOT / top).rglob("*")):
            name = path.name.lower()
            if path.is_file() and (name.startswith("dockerfile") or name.endswith(".dockerfile")):
                out.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
            elif path.is_file() and name.endswith(".json") and path.stat().st_size < 5_000_000:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and isinstance(data.get("dockerfile"), str):
                    out.append((str(path.relative_to(ROOT)), data["dockerfile"]))
    return out


def _theirs(text: str) -> list[tuple[Any, ...]] | None:
    try:
        commands = buildkit.parse_string(text)
    except buildkit.GoParseError:
        return None
    if any(c.cmd.upper() not in KEYWORDS for c in commands):
        return None  # BuildKit's next stage (instructions.Parse) refuses an unknown instruction
    out = []
    for c in commands:
        # BuildKit's `original` carries the heredoc bodies after the instruction's first line.
        first = c.original.split("\n", 1)[0] if c.heredocs else c.original
        docs = tuple((h.name, h.content) for h in c.heredocs)
        out.append((c.cmd.upper(), c.start_line, c.end_line, first, docs))
    return out


def _ours(text: str) -> list[tuple[Any, ...]] | None:
    try:
        df = parse(text)
    except DockerfileError:
        return None
    return [
        (
            i.keyword,
            i.line,
            i.end_line,
            i.text,
            tuple((h.delimiter, _content(h)) for h in i.heredocs),
        )
        for i in df.instructions
    ]


def _content(doc: Heredoc) -> str:
    """BuildKit's heredoc content: every body line ended by a newline (no lines: empty)."""
    return "".join(line + "\n" for line in doc.body.split("\n")) if doc.end_line > doc.line else ""


REPO = _repo_dockerfiles()


def test_the_repository_has_dockerfiles_to_compare() -> None:
    assert len(REPO) >= 20
    assert sum(_theirs(text) is not None for _, text in REPO) >= 20


@pytest.mark.parametrize(("name", "text"), REPO, ids=[name for name, _ in REPO])
def test_repository_dockerfiles_parse_as_buildkit_parses_them(name: str, text: str) -> None:
    assert _ours(text) == _theirs(text)


# ---------------------------------------------------------------------------------------- generated

_WORD = st.text(alphabet="abcxyz019_-./:=", min_size=1, max_size=6)
_EXPANSION = st.sampled_from(
    [
        "$A",
        "${A}",
        "${A:-d}",
        "${A-d}",
        "${A:+x}",
        "${A#a}",
        "${A##*/}",
        "${A%.b}",
        "${A%%.*}",
        "${A/a/b}",
        "${A//a/b}",
        "'$A q'",
        '"$A q"',
    ]
)
_ARGS = st.lists(st.one_of(_WORD, _EXPANSION), min_size=1, max_size=4).map(" ".join)


@st.composite
def _instruction(draw: st.DrawFn, escape: str) -> str:
    kind = draw(
        st.sampled_from(["RUN", "run", "ENV", "LABEL", "CMD", "COPY", "ARG", "WORKDIR", "heredoc", "json"])
    )
    args = draw(_ARGS)
    if kind == "json":
        words = draw(st.lists(_WORD, min_size=1, max_size=3))
        return draw(st.sampled_from(["CMD", "ENTRYPOINT", "RUN"])) + " " + json.dumps(words)
    if kind == "heredoc":
        chomp = draw(st.booleans())
        body = draw(st.lists(_ARGS, max_size=3))
        indent = "\t" if chomp else ""
        lines = "".join(f"{indent}{line}\n" for line in body)
        return f"RUN <<{'-' if chomp else ''}EOT\n{lines}{indent}EOT"
    if kind in ("ENV", "LABEL"):
        return f'{kind} k={draw(_WORD)} v="{args}"'
    parts = [f"{kind} {args}"]
    for _ in range(draw(st.integers(0, 3))):  # continuation lines, with comments and blank lines between
        filler = draw(st.sampled_from(["", "# note", "  # indented note", "   "]))
        parts.append(f" {escape}\n" + (filler + "\n" if filler else "") + f"  {draw(_ARGS)}")
    return "".join(parts)


@st.composite
def _dockerfile(draw: st.DrawFn) -> str:
    escape = draw(st.sampled_from(["\\", "`"]))
    head = "# escape=`\n" if escape == "`" else ""
    body = draw(st.lists(_instruction(escape), min_size=1, max_size=6))
    blank = draw(st.sampled_from(["\n", "\n\n", "\n# comment\n"]))
    return head + "ARG A=a.b/c\nFROM busybox AS base\n" + blank.join(body) + "\n"


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_dockerfile())
def test_generated_dockerfiles_parse_as_buildkit_parses_them(text: str) -> None:
    assert _ours(text) == _theirs(text)
