"""analyzer.teaching.predict: the static layer prediction, per builder, on small inline Dockerfiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.dockerfile import load, parse
from analyzer.model import Step
from analyzer.teaching.predict import BUILDERS, predict, predicted_history_count

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted(ROOT.glob("sample_dockerfiles/*/Dockerfile*"))


def steps(text: str, builder: str = "classic", target: str | None = None) -> list[Step]:
    return predict(parse(text), builder, target)


def at(text: str, line: int, builder: str = "classic") -> Step:
    """The single non-trigger step starting at ``line``."""
    found = [s for s in steps(text, builder) if s.line == line and not s.trigger]
    assert len(found) == 1, found
    return found[0]


def layers(text: str, builder: str = "classic") -> list[bool | None]:
    """creates_layer of every step after the first FROM line, in order."""
    return [s.creates_layer for s in steps(text, builder)[1:]]


# --------------------------------------------------------------------------- every instruction kind

METADATA = [
    "ARG V=1",
    "ENV A=1",
    "LABEL a=b",
    "USER nobody",
    "VOLUME /data",
    "EXPOSE 80",
    'CMD ["sh"]',
    "ENTRYPOINT sh",
    "HEALTHCHECK CMD true",
    'SHELL ["/bin/sh", "-c"]',
    "STOPSIGNAL SIGTERM",
    "MAINTAINER me",
]


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("line", METADATA)
def test_config_only_instructions_make_no_layer(builder: str, line: str) -> None:
    step = at(f"FROM busybox\n{line}\n", 2, builder)
    assert step.creates_layer is False
    assert "only changes the image config" in (step.reason or "")
    assert "empty_layer" in (step.reason or "")


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("line", ["COPY a /a", "COPY --from=busybox /bin/sh /sh", "ADD a /a", "ADD a.tar /"])
def test_copy_and_add_always_make_a_layer(builder: str, line: str) -> None:
    step = at(f"FROM busybox\n{line}\n", 2, builder)
    assert step.creates_layer is True
    assert "always makes a layer" in (step.reason or "")


def test_run_depends_under_classic_and_is_a_layer_under_buildkit() -> None:
    text = "FROM busybox\nRUN apk add curl\nRUN true\n"
    assert layers(text, "classic") == [None, False]
    assert layers(text, "buildkit") == [True, True]
    assert "depends" in (at(text, 2).reason or "")
    assert "BuildKit always snapshots a RUN" in (at(text, 3, "buildkit").reason or "")


@pytest.mark.parametrize("builder", BUILDERS)
def test_from_inherits_and_makes_no_layer(builder: str) -> None:
    out = steps("FROM busybox:latest AS a\nFROM a\nFROM scratch\n", builder)
    assert [(s.instruction, s.stage, s.creates_layer) for s in out] == [
        ("FROM", 0, False),
        ("FROM", 1, False),
        ("FROM", 2, False),
    ]
    assert "inherits the base image's layers" in (out[0].reason or "")
    assert "ONBUILD triggers" in (out[0].reason or "")  # an external base's triggers are unknown
    assert "every layer of stage a" in (out[1].reason or "")
    assert "empty filesystem" in (out[2].reason or "")


@pytest.mark.parametrize("builder", BUILDERS)
def test_global_args_have_no_entry(builder: str) -> None:
    out = steps("ARG BASE=busybox\nARG X\nFROM $BASE\nARG X\n", builder)
    assert [(s.stage, s.instruction, s.creates_layer) for s in out] == [
        (None, "ARG", False),
        (None, "ARG", False),
        (0, "FROM", False),
        (0, "ARG", False),
    ]
    assert "global ARG" in (out[0].reason or "") and "no history entry" in (out[0].reason or "")
    assert "global" not in (out[3].reason or "")


def test_step_shape_follows_the_dockerfile() -> None:
    text = "FROM busybox\nRUN echo a \\\n  b > /f\nCOPY x /x\n"
    out = steps(text)
    assert [(s.line, s.end_line, s.instruction, s.text) for s in out] == [
        (1, 1, "FROM", "FROM busybox"),
        (2, 3, "RUN", "RUN echo a   b > /f"),
        (4, 4, "COPY", "COPY x /x"),
    ]
    assert all(s.history is None and s.layer is None and s.image_id is None for s in out)
    assert all(s.cached is None and s.duration_s is None and s.error is None for s in out)


def test_unknown_builder_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown builder"):
        predict(parse("FROM busybox\n"), "kaniko")
    with pytest.raises(ValueError):
        predicted_history_count(parse("FROM busybox\n"), "podman")


def test_predict_is_pure() -> None:
    df = parse("FROM busybox AS a\nWORKDIR /app\nONBUILD RUN true\nFROM a\nWORKDIR /app\n")
    assert predict(df) == predict(df)
    assert predict(df, "buildkit") == predict(df, "buildkit")


# --------------------------------------------------------------------------- WORKDIR


def test_classic_workdir_root_is_never_a_layer() -> None:
    assert layers("FROM busybox\nWORKDIR /\nWORKDIR //\nWORKDIR /tmp/..\n") == [False, False, False]
    assert "never a layer" in (at("FROM busybox\nWORKDIR /\n", 2).reason or "")


def test_classic_workdir_of_unknown_base_folder_depends() -> None:
    # Not even /tmp is claimed: the base image is unknown (FROM scratch has no /tmp).
    assert layers("FROM busybox\nWORKDIR /tmp\nWORKDIR /app\n") == [None, None]
    assert "depends" in (at("FROM busybox\nWORKDIR /tmp\n", 2).reason or "")


def test_classic_workdir_made_earlier_by_workdir_is_no_layer() -> None:
    text = "FROM busybox\nWORKDIR /app/src\nWORKDIR /app\nWORKDIR src/\nWORKDIR ../src/.\n"
    assert layers(text) == [None, False, False, False]
    assert "ensured by WORKDIR at line 2" in (at(text, 3).reason or "")


@pytest.mark.parametrize("between", ["RUN mkdir -p /x", "COPY a /x", "ADD a /x"])
def test_classic_workdir_knowledge_ends_at_a_filesystem_step(between: str) -> None:
    # Any RUN, COPY or ADD could delete or replace the folder: no longer certain.
    assert layers(f"FROM busybox\nWORKDIR /app\n{between}\nWORKDIR /app\n")[-1] is None


def test_classic_workdir_into_a_copy_destination_folder() -> None:
    text = "FROM busybox\nCOPY a b /srv/app/\nWORKDIR /srv/app\nWORKDIR /srv\nWORKDIR /srv/other\n"
    assert layers(text) == [True, False, False, None]
    assert "ensured by COPY at line 2" in (at(text, 3).reason or "")
    # Without a trailing slash the destination may be a file: nothing learned.
    assert layers("FROM busybox\nCOPY a /srv/app\nWORKDIR /srv/app\n") == [True, None]
    assert layers('FROM busybox\nCOPY ["a", "/srv/app/"]\nWORKDIR /srv/app\n') == [True, False]


def test_classic_workdir_on_scratch_is_certain_until_something_is_added() -> None:
    text = (
        "FROM scratch\nWORKDIR /app\nWORKDIR /app\nWORKDIR sub\nWORKDIR ..\nWORKDIR /\n"
        "COPY a /data/\nWORKDIR /data\nWORKDIR /new\n"
    )
    assert layers(text) == [True, False, True, False, False, True, False, None]
    assert "empty FROM scratch filesystem" in (at(text, 2).reason or "")


def test_classic_relative_or_variable_workdir_depends() -> None:
    assert layers("FROM busybox\nWORKDIR app\n") == [None]
    assert "working directory" in (at("FROM busybox\nWORKDIR app\n", 2).reason or "")
    assert layers("FROM busybox\nENV D=/x\nWORKDIR $D\n") == [False, None]
    assert "variable" in (at("FROM busybox\nWORKDIR ${D}\n", 2).reason or "")
    # After an unknown WORKDIR the working directory is unknown too.
    assert layers("FROM scratch\nWORKDIR $D\nWORKDIR x\n") == [None, None]


def test_workdir_knowledge_carries_into_child_stages() -> None:
    text = "FROM busybox AS a\nWORKDIR /app\nFROM a\nWORKDIR /app\nWORKDIR rel\n"
    assert layers(text) == [None, False, False, None]
    assert at(text, 5).creates_layer is None  # /app/rel: new or not depends on the base


def test_buildkit_workdir_is_a_layer_except_root() -> None:
    text = "FROM busybox\nWORKDIR /app\nWORKDIR /app\nWORKDIR /\nWORKDIR sub\nWORKDIR ..\n"
    assert layers(text, "buildkit") == [True, True, False, True, False]  # `..` from /sub is /
    assert "except for /" in (at(text, 2, "buildkit").reason or "")


def test_buildkit_workdir_that_might_be_root_depends() -> None:
    # The base's working directory is unknown: `..` or `$D` could resolve to /.
    assert layers("FROM busybox\nWORKDIR ..\nWORKDIR $D\nWORKDIR .\n", "buildkit") == [None, None, None]
    # A relative path without `..` never resolves to /, whatever the base's working directory.
    assert layers("FROM busybox\nWORKDIR sub/dir\n", "buildkit") == [True]
    assert layers("FROM scratch\nWORKDIR ..\n", "buildkit") == [False]


# --------------------------------------------------------------------------- RUN no-ops (classic)

NOOPS = [
    "RUN true",
    "RUN :",
    "RUN exit",
    "RUN exit 0",
    "RUN /bin/true",
    "RUN echo hello world",
    'RUN echo "a b" $HOME ${X}',
    "RUN true && echo done; : || exit 0",
    'RUN ["true"]',
    'RUN ["echo", "x > y"]',
    "RUN true \\\n && echo continued",
]
NOT_NOOPS = [
    "RUN rm -f /x",
    "RUN echo hi > /f",
    "RUN echo hi>/f",
    "RUN echo hi >> /f",
    "RUN echo hi | tee /f",
    'RUN echo "a > b"',  # harmless, but any `>` is refused: conservative
    "RUN echo $(touch /f)",
    "RUN echo `touch /f`",
    "RUN true & touch /f",
    "RUN true && touch /f",
    "RUN (true)",
    "RUN exit 1",
    "RUN X=1 true",
    "RUN echo 'unbalanced",
    "RUN truex",
    "RUN true ;; echo",
    'RUN ["sh", "-c", "true"]',
    "RUN --network=none true",
    "RUN <<EOF\ntrue\nEOF",
]


@pytest.mark.parametrize("line", NOOPS)
def test_classic_noop_run_is_no_layer(line: str) -> None:
    step = at(f"FROM busybox\n{line}\n", 2)
    assert step.creates_layer is False, step.reason
    assert "writes no file" in (step.reason or "")
    assert "VOLUME" in (step.reason or "")  # the one thing the base image could still change


@pytest.mark.parametrize("line", NOT_NOOPS)
def test_classic_other_run_depends(line: str) -> None:
    step = at(f"FROM busybox\n{line}\n", 2)
    assert step.creates_layer is None, step.reason
    assert "depends" in (step.reason or "")


@pytest.mark.parametrize("line", NOOPS + NOT_NOOPS)
def test_buildkit_run_is_always_a_layer(line: str) -> None:
    assert at(f"FROM busybox\n{line}\n", 2, "buildkit").creates_layer is True


def test_classic_run_after_volume_depends_until_a_run() -> None:
    text = "FROM busybox\nVOLUME /v\nRUN true\nRUN true\n"
    assert layers(text) == [False, None, False]
    assert "VOLUME (line 2)" in (at(text, 3).reason or "")
    # COPY does not start a container: the mount point is still pending after it.
    assert layers("FROM busybox\nVOLUME /v\nCOPY a /a\nRUN true\n") == [False, True, None]
    # Inherited from an in-file parent stage.
    assert layers("FROM busybox AS a\nVOLUME /v\nFROM a\nRUN true\n") == [False, False, None]


def test_classic_run_after_shell_only_claims_exec_form() -> None:
    text = 'FROM busybox\nSHELL ["/bin/bash", "-c"]\nRUN true\nRUN ["true"]\n'
    assert layers(text) == [False, None, False]


# --------------------------------------------------------------------------- ONBUILD


def test_declared_onbuild_per_builder() -> None:
    text = "FROM busybox\nONBUILD RUN touch /x\n"
    classic, buildkit = at(text, 2, "classic"), at(text, 2, "buildkit")
    assert classic.creates_layer is False and buildkit.creates_layer is False
    assert "empty_layer" in (classic.reason or "")
    assert "BuildKit leaves no history entry" in (buildkit.reason or "")
    assert predicted_history_count(parse(text), "classic") == 1
    assert predicted_history_count(parse(text), "buildkit") == 0


@pytest.mark.parametrize("builder", BUILDERS)
def test_triggers_of_an_in_file_stage_run_at_the_child_from(builder: str) -> None:
    text = (
        "FROM busybox AS tool\nONBUILD COPY a /a\nONBUILD RUN true\nONBUILD ENV X=1\n"
        "FROM tool AS app\nRUN echo hi > /f\n"
    )
    out = [s for s in steps(text, builder) if s.stage == 1]
    assert [(s.line, s.instruction, s.trigger, s.text) for s in out] == [
        (5, "FROM", False, "FROM tool AS app"),
        (5, "COPY", True, "COPY a /a"),
        (5, "RUN", True, "RUN true"),
        (5, "ENV", True, "ENV X=1"),
        (6, "RUN", False, "RUN echo hi > /f"),
    ]
    expected_run = builder == "buildkit"
    assert [s.creates_layer for s in out[1:4]] == [True, expected_run, False]
    assert "3 ONBUILD triggers declared there (the next steps)" in (out[0].reason or "")
    assert "declared at line 3" in (out[2].reason or "")
    # Triggers are consumed: a grandchild stage does not run them again.
    assert not [s for s in steps(text + "FROM app\n", builder) if s.stage == 2 and s.trigger]


def test_trigger_sees_the_state_of_the_parent() -> None:
    text = "FROM busybox AS tool\nWORKDIR /app\nONBUILD WORKDIR /app\nFROM tool\n"
    trig = [s for s in steps(text) if s.trigger]
    assert [(s.instruction, s.creates_layer) for s in trig] == [("WORKDIR", False)]


# --------------------------------------------------------------------------- stages


def test_classic_multi_stage_in_and_out_of_the_final_image() -> None:
    text = "FROM busybox AS a\nRUN true\nFROM busybox AS b\nCOPY --from=a /x /x\nFROM b AS c\nRUN true\n"
    out = steps(text, "classic", target="b")
    assert [(s.stage, s.in_final_image) for s in out] == [(0, False), (0, False), (1, True), (1, True)] + [
        (2, False),
        (2, False),
    ]
    assert "builds every stage up to the target (b)" in (out[1].reason or "")
    assert "not built at all" in (out[5].reason or "")
    assert "final image" not in (out[3].reason or "")
    # Default target: the last stage and its FROM chain.
    assert [s.in_final_image for s in steps(text)] == [False, False, True, True, True, True]


def test_buildkit_builds_only_what_the_target_needs() -> None:
    text = (
        "FROM busybox AS unused\nRUN true\n"
        "FROM busybox AS byname\nRUN true\n"
        "FROM busybox AS bynumber\nRUN true\n"
        "FROM busybox AS mounted\nRUN true\n"
        "FROM busybox AS viadep\nRUN true\n"
        "FROM viadep AS parent\nRUN true\n"
        "FROM parent\nCOPY --from=ByName /x /x\nCOPY --from=2 /y /y\n"
        "RUN --mount=type=bind,from=mounted,target=/m true\n"
    )
    reasons = {s.stage: s.reason or "" for s in steps(text, "buildkit") if s.instruction == "RUN"}
    assert "does not build it at all" in reasons[0]
    for stage in (1, 2, 3):
        assert "built because the target needs files from it" in reasons[stage]
    assert all("final image" not in reasons[stage] for stage in (4, 5, 6))
    # Under the classic builder every stage up to the target is built.
    classic = {s.stage: s.reason or "" for s in steps(text, "classic") if s.instruction == "RUN"}
    assert "builds every stage up to the last stage" in classic[0]


def test_buildkit_unexpanded_from_may_need_any_earlier_stage() -> None:
    text = "FROM busybox AS a\nRUN true\nFROM busybox\nARG S=a\nCOPY --from=$S /x /x\n"
    assert "needs files from it" in (at(text, 2, "buildkit").reason or "")


def test_predicted_history_count() -> None:
    text = (
        "ARG X=1\nFROM busybox AS tool\nENV A=1\nONBUILD RUN true\nONBUILD ENV B=2\n"
        "FROM busybox AS other\nRUN true\nRUN true\n"
        "FROM tool\nRUN true\nCMD sh\n"
    )
    df = parse(text)
    # classic: tool (3) + two triggers + 2 instructions; BuildKit: the declared ONBUILDs make no entry.
    assert predicted_history_count(df, "classic") == 7
    assert predicted_history_count(df, "buildkit") == 5
    assert predicted_history_count(df, "classic", target="other") == 2
    assert predicted_history_count(df, "buildkit", target="tool") == 1


# --------------------------------------------------------------------------- samples


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT / "sample_dockerfiles")))
def test_every_step_of_every_sample_has_a_reason(path: Path, builder: str) -> None:
    df = load(path)
    out = predict(df, builder)
    assert all(s.reason and s.reason.strip() for s in out)
    non_trigger = [(s.line, s.instruction) for s in out if not s.trigger]
    assert non_trigger == [(i.line, i.keyword) for i in df.instructions]
    if builder == "buildkit":
        assert all(s.creates_layer is not None for s in out if s.instruction != "WORKDIR")


def test_basics_sample_classic_prediction() -> None:
    out = predict(load(ROOT / "sample_dockerfiles/basics/Dockerfile"))
    got = {s.line: s.creates_layer for s in out}
    # WORKDIR /app and /tmp depend on busybox; COPY/ADD certain; the first RUN depends; `RUN true` none.
    assert [got[n] for n in (12, 14, 16, 17, 19, 22)] == [None, None, True, True, None, False]
    assert predicted_history_count(load(ROOT / "sample_dockerfiles/basics/Dockerfile")) == 18
