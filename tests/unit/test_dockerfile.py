"""analyzer.dockerfile: Docker's parsing rules, one test per place dockerfile-parse 2.0.1 gets wrong.

Expected ``text`` values are what the classic builder of Docker 20.10.24 echoed as ``Step N/M : …``
for the same lines.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from analyzer.dockerfile import MAX_BYTES, load, parse, parse_build_args
from analyzer.errors import DockerfileError, UsageError
from analyzer.model import Heredoc, Instruction


def only(text: str, keyword: str, build_args: dict[str, str] | None = None) -> Instruction:
    """The single instruction with ``keyword`` in ``text``."""
    found = [ins for ins in parse(text, build_args=build_args).instructions if ins.keyword == keyword]
    assert len(found) == 1, found
    return found[0]


def spans(text: str) -> list[tuple[str, int, int]]:
    return [(ins.keyword, ins.line, ins.end_line) for ins in parse(text).instructions]


# --------------------------------------------------------------------------- dockerfile-parse bugs


def test_comment_inside_continuation_is_dropped() -> None:
    ins = only("FROM busybox\nRUN echo a \\\n# note \\\n  b\n", "RUN")
    assert (ins.line, ins.end_line, ins.text) == (2, 4, "RUN echo a   b")
    assert spans("FROM busybox\nRUN echo a \\\n# note \\\n  b\n") == [("FROM", 1, 1), ("RUN", 2, 4)]


def test_blank_lines_inside_continuation_are_joined_across() -> None:
    text = "FROM busybox\nRUN echo c \\\n    d\\\n# inner\n\n   \n  e   \\  \n\tf\nLABEL x=1\n"
    ins = only(text, "RUN")
    # Exactly what 20.10.24 echoed: escape removed, next line's indentation kept, no space added.
    assert (ins.line, ins.end_line, ins.text) == (2, 8, "RUN echo c     d  e   \tf")
    assert only(text, "LABEL").line == 9


def test_blank_line_continuation_swallows_next_instruction_like_docker() -> None:
    # Docker 20.10.24 built this as one step: `RUN echo a RUN echo b`.
    assert spans("FROM busybox\nRUN echo a \\\n# c\n\nRUN echo b\n") == [("FROM", 1, 1), ("RUN", 2, 5)]
    assert only("FROM busybox\nRUN echo a \\\n# c\n\nRUN echo b\n", "RUN").text == "RUN echo a RUN echo b"


def test_trailing_escape_on_last_line_keeps_instruction() -> None:
    ins = only("FROM busybox\nRUN echo tail \\", "RUN")
    assert (ins.line, ins.end_line, ins.text, ins.args) == (2, 2, "RUN echo tail", "echo tail")
    assert spans("FROM busybox\nRUN a \\\n") == [("FROM", 1, 1), ("RUN", 2, 2)]


def test_escaped_escape_at_end_of_line_is_not_a_continuation() -> None:
    # Docker 20.10.24 ran `RUN echo a\\` and `RUN echo b` as two steps (output `a\`): buildkit's
    # continuation regex needs a non-escape character before the final escape.
    text = "FROM busybox\nRUN echo a\\\\\nRUN echo b\n"
    assert spans(text) == [("FROM", 1, 1), ("RUN", 2, 2), ("RUN", 3, 3)]
    assert parse(text).stages[0].instructions[0].text == "RUN echo a\\\\"
    # Three escapes: Docker does not continue either (Go regexp has no look-behind).
    assert spans("FROM busybox\nRUN echo a \\\\\\\nRUN echo b\n") == [
        ("FROM", 1, 1),
        ("RUN", 2, 2),
        ("RUN", 3, 3),
    ]
    # A lone escape on a line is a continuation.
    assert spans("FROM busybox\nRUN echo a \\\n\\\n b\n") == [("FROM", 1, 1), ("RUN", 2, 4)]


def test_heredocs_are_one_instruction_with_bodies() -> None:
    text = (
        "FROM busybox\n"
        "RUN <<EOF\n"
        "FROM not-an-instruction\n"
        "# kept\n"
        "EOF\n"
        'COPY --chmod=644 <<-"A" <<B /dest/\n'
        "\tline a\n"
        "\tA\n"
        "B\n"
        "RUN echo <<'' done\n"
        "CMD true\n"
    )
    df = parse(text)
    run, copy, echo, cmd = df.stages[0].instructions
    assert (run.line, run.end_line, run.text, run.args) == (2, 5, "RUN <<EOF", "<<EOF")
    assert run.heredocs == (Heredoc("EOF", "FROM not-an-instruction\n# kept", 3, 5),)
    assert (copy.line, copy.end_line, copy.args) == (6, 9, '<<-"A" <<B /dest/')
    assert copy.flags == (("chmod", "644"),)
    assert copy.heredocs == (Heredoc("A", "\tline a", 7, 8), Heredoc("B", "", 9, 9))
    # `<<''` names no terminator: no heredoc, as in buildkit.
    assert (echo.line, echo.end_line, echo.heredocs) == (10, 10, ())
    assert (cmd.keyword, cmd.line) == ("CMD", 11)
    assert len(df.stages) == 1


def test_heredocs_only_for_run_copy_add_in_shell_form() -> None:
    assert spans("FROM busybox\nRUN cat<<EOF\nRUN true\n")[1:] == [("RUN", 2, 2), ("RUN", 3, 3)]
    assert spans('FROM busybox\nRUN ["cat", "<<EOF"]\nRUN true\n')[1:] == [("RUN", 2, 2), ("RUN", 3, 3)]
    assert spans("FROM busybox\nLABEL a=<<EOF\nRUN true\n")[1:] == [("LABEL", 2, 2), ("RUN", 3, 3)]
    assert spans("FROM busybox\nADD <<EOF /x\nbody\nEOF\n")[1:] == [("ADD", 2, 4)]


def test_unterminated_heredoc_is_an_error() -> None:
    with pytest.raises(DockerfileError) as err:
        parse("FROM busybox\nRUN <<EOF\necho\n", path="Dockerfile")
    assert str(err.value) == "Dockerfile:2: unterminated heredoc EOF"


def test_directives_only_at_top_and_escape_changes_continuation() -> None:
    text = "# syntax=docker/dockerfile:1\n#  Escape = `\n# check=skip=all\n# hi\n# escape=\\\nFROM busybox\n"
    text += "RUN echo b `\n  c\\\nRUN echo d ``\nRUN echo e\n"
    df = parse(text)
    assert df.directives == {"syntax": "docker/dockerfile:1", "escape": "`", "check": "skip=all"}
    # As 20.10.24 ran it: `RUN echo b   c\`, then `RUN echo d ``` (escaped escape), `RUN echo e`.
    assert [(i.text, i.line, i.end_line) for i in df.stages[0].instructions] == [
        ("RUN echo b   c\\", 7, 8),
        ("RUN echo d ``", 9, 9),
        ("RUN echo e", 10, 10),
    ]


def test_directive_after_blank_line_or_comment_is_a_comment() -> None:
    assert parse("\n# escape=`\nFROM busybox\n").directives == {}
    assert parse("# hello\n# escape=`\nFROM busybox\n").directives == {}
    # An unknown key ends the directive block too.
    assert parse("# foo=bar\n# escape=`\nFROM busybox\n").directives == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# escape=\\\n# escape=`\nFROM busybox\n",
            "Dockerfile:2: only one escape parser directive can be used",
        ),
        ("# escape=x\nFROM busybox\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"),
    ],
)
def test_bad_directives(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as err:
        parse(text, path="Dockerfile")
    assert str(err.value) == message


def test_from_substitutes_default_and_alternate_values() -> None:
    text = "ARG A\nARG T=latest\nARG N=${T}x\nFROM ${A:-busybox}:${T:+stable}-$N${U-none}\n"
    assert parse(text).stages[0].base == "busybox:stable-latestxnone"
    assert parse(text, build_args={"A": "debian", "T": "1"}).stages[0].base == "debian:stable-1xnone"
    with pytest.raises(DockerfileError, match=r"Dockerfile:4: invalid reference format: 'debian:-xnone'"):
        parse(text, "Dockerfile", build_args={"A": "debian", "T": ""})  # a tag cannot start with "-"
    # A --build-arg that no global ARG declares is not visible to FROM.
    assert parse("FROM ${U:-busybox}\n", build_args={"U": "debian"}).stages[0].base == "busybox"
    assert parse("ARG A='a b'\nARG B=\"x$A\"'$A'\nFROM scratch\n").global_args[1].args == "B=\"x$A\"'$A'"
    with pytest.raises(DockerfileError, match=r"invalid reference format: 'xa b\$A'"):
        parse("ARG A='a b'\nFROM \"x$A\"'$A'\n")


def test_stage_names_and_base_stage() -> None:
    text = (
        "ARG BASE=Build\n"
        "FROM --platform=linux/amd64 busybox:latest AS Build\n"
        "FROM BUILD as test\n"
        "FROM ${BASE}\n"
        "FROM 0\n"
        "FROM scratch\n"
    )
    df = parse(text)
    got = [(s.index, s.name, s.base, s.base_stage, s.line) for s in df.stages]
    assert got == [
        (0, "build", "busybox:latest", None, 2),
        (1, "test", "build", 0, 3),
        (2, None, "build", 0, 4),
        # Docker 20.10.24 tried to pull an image "0": FROM matches stage names, never indexes.
        (3, None, "0", None, 5),
        (4, None, "scratch", None, 6),
    ]
    assert df.stages[0].from_instruction.flag("platform") == "linux/amd64"
    assert df.chain("test") == [0, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM busybox AS 1x\n", 'Dockerfile:1: invalid name for build stage: "1x", name can\'t start'),
        ("FROM busybox as\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a b c\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM ${A:?needA}\n", "Dockerfile:1: A: needA"),
        ("ARG A=\nFROM ${A:?}\n", "Dockerfile:2: A: is not allowed to be empty"),
        ("FROM ${A^^}\n", "Dockerfile:1: unsupported modifier (^) in substitution in '${A^^}'"),
        ("FROM ${A:-x\n", "Dockerfile:1: syntax error: missing '}' in '${A:-x'"),
        ("FROM $UNDEFINED\n", "Dockerfile:1: base name ($UNDEFINED) should not be blank"),
        ("FROM Busybox\n", "Dockerfile:1: invalid reference format: 'Busybox'"),
        ("FROM busybox:-x\n", "Dockerfile:1: invalid reference format: 'busybox:-x'"),
    ],
)
def test_bad_from(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as err:
        parse(text, path="Dockerfile")
    assert str(err.value).startswith(message)


def test_exec_form_is_decoded() -> None:
    text = (
        "FROM busybox\n"
        'CMD ["echo", "x y"]\n'
        'ENTRYPOINT ["a"] junk\n'
        "RUN [not json]\n"
        "CMD [NaN]\n"
        'COPY ["a b", "/c/"]\n'
        'VOLUME ["/v"]\n'
        'HEALTHCHECK --interval=5s --retries=3 CMD ["true"]\n'
        "HEALTHCHECK CMD true\n"
        'LABEL x=["y"]\n'
        "SHELL []\n"
    )
    got = [(i.keyword, i.exec_form, i.exec_args) for i in parse(text).stages[0].instructions]
    assert got == [
        ("CMD", True, ("echo", "x y")),
        # Docker decodes the first JSON value only: 20.10.24 set Cmd ["echo","x"] for `CMD ["echo","x"] foo`.
        ("ENTRYPOINT", True, ("a",)),
        ("RUN", False, None),
        ("CMD", False, None),
        ("COPY", True, ("a b", "/c/")),
        ("VOLUME", True, ("/v",)),
        ("HEALTHCHECK", True, ("true",)),
        ("HEALTHCHECK", False, None),
        ("LABEL", False, None),
        ("SHELL", True, ()),
    ]


def test_exec_form_with_non_strings_is_an_error() -> None:
    with pytest.raises(DockerfileError) as err:
        parse("FROM busybox\nCMD [1, 2]\n", path="Dockerfile")
    assert (
        str(err.value)
        == "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only"
    )


def test_onbuild_inner_instruction() -> None:
    text = 'FROM busybox\nONBUILD   copy --from=x [\'a\', \\\n  "b"]\nONBUILD CMD ["sh"]\n'
    first, second = parse(text).stages[0].instructions
    assert (first.keyword, first.line, first.end_line, first.stage) == ("ONBUILD", 2, 3, 0)
    assert first.text == "ONBUILD   copy --from=x ['a',   \"b\"]"
    assert first.onbuild == Instruction(
        "COPY", 2, 3, "copy --from=x ['a',   \"b\"]", "['a',   \"b\"]", (("from", "x"),), stage=0
    )
    assert second.onbuild is not None
    assert (second.onbuild.keyword, second.onbuild.exec_args, second.exec_form) == ("CMD", ("sh",), False)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("ONBUILD from x", "FROM isn't allowed as an ONBUILD trigger"),
        ("ONBUILD MAINTAINER me", "MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("ONBUILD", "ONBUILD requires at least one argument"),
        ("ONBUILD FOO x", "unknown instruction: FOO"),
    ],
)
def test_bad_onbuild(line: str, message: str) -> None:
    with pytest.raises(DockerfileError) as err:
        parse(f"FROM busybox\n{line}\n", path="Dockerfile")
    assert str(err.value) == f"Dockerfile:2: {message}"


# --------------------------------------------------------------------------- flags, spans, args


def test_flags_are_parsed_and_args_follow_them() -> None:
    text = (
        "FROM busybox\n"
        "RUN --mount=type=cache,target=/c --mount=type=secret,id=s --network=none echo hi\n"
        'COPY --from=build --chown=1:1 --link --exclude="*.md" a /b\n'
        "ADD --checksum=sha256:abc --keep-git-dir=true https://x /y\n"
        "COPY -- --odd /dst\n"
    )
    run, copy, add, odd = parse(text).stages[0].instructions
    assert run.flags == (
        ("mount", "type=cache,target=/c"),
        ("mount", "type=secret,id=s"),
        ("network", "none"),
    )
    assert (run.args, run.flag("mount"), run.flag("security")) == ("echo hi", "type=secret,id=s", None)
    assert copy.flags == (("from", "build"), ("chown", "1:1"), ("link", ""), ("exclude", "*.md"))
    assert copy.args == "a /b"
    assert add.flags == (("checksum", "sha256:abc"), ("keep-git-dir", "true"))
    assert (odd.flags, odd.args) == ((), "--odd /dst")


def test_keywords_are_case_insensitive_and_text_is_as_written() -> None:
    text = "from busybox\nrun   echo  x   \t\n  COPY  --chown=1:1   D1 /d1  \n"
    got = [(i.keyword, i.text, i.args) for i in parse(text).instructions]
    # Texts as 20.10.24 echoed them: trimmed at both ends, inner spacing kept.
    assert got == [
        ("FROM", "from busybox", "busybox"),
        ("RUN", "run   echo  x", "echo  x"),
        ("COPY", "COPY  --chown=1:1   D1 /d1", "D1 /d1"),
    ]


def test_spans_are_one_based_and_inclusive() -> None:
    text = "\ufeff# comment\n\nFROM busybox\r\n\nENV A=1 \\\r\n  B=2\r\n# trailing\n"
    assert spans(text) == [("FROM", 3, 3), ("ENV", 5, 6)]
    assert parse(text).stages[0].instructions[0].text == "ENV A=1   B=2"


def test_global_args_and_stage_indexes() -> None:
    text = "ARG A=1\n# c\nARG B C=3\nFROM busybox\nARG A\nRUN true\nFROM busybox\nCMD x\n"
    df = parse(text, build_args={"B": "2"})
    assert [(i.text, i.line, i.stage) for i in df.global_args] == [
        ("ARG A=1", 1, None),
        ("ARG B C=3", 3, None),
    ]
    assert [(i.keyword, i.stage) for i in df.instructions] == [
        ("ARG", None),
        ("ARG", None),
        ("FROM", 0),
        ("ARG", 0),
        ("RUN", 0),
        ("FROM", 1),
        ("CMD", 1),
    ]
    assert df.build_args == {"B": "2"}
    assert df.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert (df.path, df.text) == (None, text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM busybox\n\n  foo bar \\\n  baz\n", "Dockerfile:3: unknown instruction: FOO"),
        (
            "# c\nRUN x\nFROM busybox\n",
            "Dockerfile:2: no build stage in current context: RUN before the first FROM",
        ),
        ("ARG X\n", "Dockerfile: no FROM instruction"),
        ("# only\n\n   \n", "Dockerfile: file with no instructions"),
        ("", "Dockerfile: file with no instructions"),
    ],
)
def test_invalid_dockerfiles(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as err:
        parse(text, path="Dockerfile")
    assert str(err.value) == message


# --------------------------------------------------------------------------- load


def test_load_reads_file_and_hashes_bytes(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    data = "FROM busybox\nRUN echo é\n".encode()
    path.write_bytes(data)
    df = load(path, build_args={"X": "1"})
    assert (df.path, df.sha256, df.build_args) == (str(path), hashlib.sha256(data).hexdigest(), {"X": "1"})
    assert df.stages[0].instructions[0].text == "RUN echo é"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file with no instructions"),
        (b"# just a comment\n\n", "file with no instructions"),
        (b"FROM busybox\n\0\n", "binary file (contains NUL bytes), not a Dockerfile"),
        (b"FROM busybox\nRUN \xff\n", "not UTF-8 text (byte 17)"),
        (b"FROM busybox\nFOO x\n", "unknown instruction: FOO"),
        (b"RUN x\nFROM busybox\n", "no build stage in current context: RUN before the first FROM"),
    ],
)
def test_load_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    with pytest.raises(DockerfileError) as err:
        load(path)
    assert err.value.path == str(path)
    assert err.value.message.endswith(message)


def test_load_error_lines(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM busybox\nFOO x\n")
    with pytest.raises(DockerfileError) as err:
        load(path)
    assert (str(err.value), err.value.line) == (f"{path}:2: unknown instruction: FOO", 2)


def test_load_missing_directory_and_too_large(tmp_path: Path) -> None:
    with pytest.raises(DockerfileError) as err:
        load(tmp_path / "nope")
    assert str(err.value) == f"{tmp_path / 'nope'}: no such file"
    with pytest.raises(DockerfileError) as err:
        load(tmp_path)
    assert str(err.value) == f"{tmp_path}: is a directory, not a Dockerfile"
    big = tmp_path / "Big"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: the size check must fire before any read
    with pytest.raises(DockerfileError) as err:
        load(big)
    assert str(err.value) == f"{big}: file too large ({MAX_BYTES + 1} bytes, limit {MAX_BYTES})"
    assert MAX_BYTES == 10 * 1024 * 1024
    # A device reports size 0: the bounded read still stops it.
    with pytest.raises(DockerfileError) as err:
        load("/dev/zero")
    assert str(err.value) == f"/dev/zero: file too large (over {MAX_BYTES} bytes)"


# --------------------------------------------------------------------------- build args


def test_parse_build_args(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROM_ENV", "e")
    monkeypatch.delenv("NOT_SET", raising=False)
    got = parse_build_args(["A=1", "B=", "C=x=y", "FROM_ENV", "NOT_SET", "A=2"])
    assert got == {"A": "2", "B": "", "C": "x=y", "FROM_ENV": "e"}


@pytest.mark.parametrize("bad", ["=1", "", "A B=1", " A=1"])
def test_parse_build_args_rejects_bad_names(bad: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_build_args([bad])
    assert str(err.value) == f"invalid --build-arg {bad!r}: expected NAME=VALUE or NAME"


# --------------------------------------------------------------------------- parity with BuildKit (issue 10)


def test_pattern_expansions_resolve_in_from_lines() -> None:
    """moby's own Dockerfile: `ARG X=${TARGETPLATFORM#linux/}`, refused before the lexer port."""
    text = "ARG P=linux/arm64\nARG X=${P#linux/}\nARG Y=${P/\\//-}\nFROM tools:${X%%/*}-$Y\n"
    assert parse(text).stages[0].base == "tools:arm64-linux-arm64"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM busybox\nENV name\n", "Dockerfile:2: ENV must have two arguments"),
        ("FROM busybox\nENV\n", "Dockerfile:2: ENV requires at least one argument"),
        ("FROM busybox\nLABEL a=b c\n", 'Dockerfile:2: Syntax error - can\'t find = in "c"'),
        ("FROM busybox\nONBUILD ENV x\n", "Dockerfile:2: ENV must have two arguments"),
    ],
)
def test_env_and_label_need_values(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as err:
        parse(text, "Dockerfile")
    assert str(err.value).startswith(message)
    assert parse("FROM busybox\nENV name some value\n").stages[0].instructions[0].args == "name some value"


def test_duplicate_stage_names_depend_on_the_builder() -> None:
    text = "FROM busybox AS a\nRUN one\nFROM busybox AS A\nRUN two\nFROM a\n"
    with pytest.raises(DockerfileError, match='Dockerfile:3: duplicate stage name "a"'):
        parse(text, "Dockerfile", builder="classic")
    for builder in ("buildkit", None):
        df = parse(text, "Dockerfile", builder=builder)
        assert df.warnings == ('line 3: duplicate stage name "a" (the later stage wins)',)
        assert df.stages[2].base_stage == 1  # BuildKit: the later stage of that name
        assert df.stage_index("a") == 1
        assert df.chain() == [1, 2]


@pytest.mark.parametrize(
    ("platform", "base"),
    [
        ("linux/arm64", "binaries-linux-arm64-"),
        ("linux/arm/v7", "binaries-linux-arm-v7"),
        ("amd64", "binaries-linux-amd64-"),
    ],
)
def test_buildkit_platform_args_exist_in_the_global_scope(platform: str, base: str) -> None:
    text = "FROM busybox AS binaries-linux-arm64-\nFROM busybox AS binaries-linux-arm-v7\n"
    text += "FROM busybox AS binaries-linux-amd64-\nFROM binaries-$TARGETOS-${TARGETARCH}-$TARGETVARIANT\n"
    df = parse(text, builder="buildkit", platform=platform)
    assert df.stages[3].base == base
    assert df.chain() == [df.stages[3].base_stage, 3]
    # The classic builder has no such ARGs: the name is an (invalid) image reference there.
    with pytest.raises(DockerfileError, match="invalid reference format: 'binaries---'"):
        parse(text, builder="classic")


def test_buildkit_platform_args_default_to_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import platform as stdlib_platform

    monkeypatch.setattr(stdlib_platform, "machine", lambda: "aarch64")
    text = "FROM busybox AS tools-arm64\nFROM tools-$TARGETARCH\nFROM tools-$BUILDARCH\n"
    df = parse(text, builder="buildkit")
    assert [s.base_stage for s in df.stages] == [None, 0, 0]
    # --build-arg cannot reach them unless declared; a global ARG default wins over nothing.
    assert parse("ARG TARGETOS=x\nFROM busybox:$TARGETOS\n", builder="buildkit").stages[0].base == "busybox:x"


# --------------------------------------------------------------------------- hostile input (issue 11)


def test_deep_nesting_is_a_dockerfile_error_with_its_line() -> None:
    text = "FROM busybox\nFROM " + "${A:-" * 500 + "x" + "}" * 500 + "\n"
    with pytest.raises(DockerfileError, match=r"^Dockerfile:2: substitutions nested deeper than 64 levels"):
        parse(text, "Dockerfile")


def test_huge_inputs_parse_in_one_pass() -> None:
    """Generated here, never committed: 700,000 continuation lines (9.8 MB) and a 5 MB RUN line.
    Before the fix the continuation was joined with `+=` per line (over 600 s for this input)."""
    started = time.monotonic()
    text = "FROM busybox\nRUN true" + " \\\n  && echo x" * 700_000 + "\n"
    run = parse(text).stages[0].instructions[0]
    assert (run.line, run.end_line, len(run.text)) == (2, 700_002, 8 + 12 * 700_000)
    line = "FROM busybox\nRUN echo " + "a" * 5_000_000 + "\n"
    assert parse(line).stages[0].instructions[0].end_line == 2
    assert time.monotonic() - started < 120  # a budget, not a benchmark: linear takes seconds
