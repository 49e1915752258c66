"""Alignment by history position (BuildKit, existing images) on recorded-shape data."""

from __future__ import annotations

from helpers.align import BUSYBOX, DOCKERFILE, digest, events, hist, stages

from analyzer.dockerfile import parse
from analyzer.mapping.align import align_classic
from analyzer.mapping.align.history import align_history, created_by_matches, planned_entries
from analyzer.model import BaseInfo, BuildFailure, Image, Layer


def final_image() -> Image:
    final = stages()[-1]
    diff_ids = final.links[-1].diff_ids
    return Image(
        id=digest("f2"),
        tags=(),
        size=1985650,
        history=final.history,
        layers=tuple(Layer(i, d, d) for i, d in enumerate(diff_ids)),
    )


def key(step: object) -> tuple[object, ...]:
    return tuple(
        getattr(step, f) for f in ("line", "instruction", "trigger", "creates_layer", "history", "layer")
    )


def test_position_alignment_agrees_with_the_classic_chain_on_the_final_image() -> None:
    df = parse(DOCKERFILE)
    classic, _ = align_classic(df, None, stages(), events())
    result = align_history(df, None, final_image(), builder="classic", base=BUSYBOX)
    assert result.warnings == []
    assert result.base_history_count == 3
    final_classic = [key(s) for s in classic if s.in_final_image]
    final_history = [key(s) for s in result.steps if s.in_final_image]
    assert final_history == final_classic
    unused = [s for s in result.steps if s.stage == 1]
    assert [(s.instruction, s.creates_layer, s.in_final_image) for s in unused] == [
        ("FROM", False, False),
        ("RUN", None, False),
    ]


def test_without_base_info_the_base_is_what_precedes_the_dockerfile_entries() -> None:
    df = parse(DOCKERFILE)
    result = align_history(df, None, final_image(), builder="classic", base=None)
    assert result.base_history_count == 3 and result.warnings == []


def test_buildkit_declared_onbuild_has_no_entry_and_runs_as_trigger() -> None:
    df = parse("FROM busybox:latest AS p\nONBUILD RUN echo t > /t\nENV A=1\nFROM p\nCOPY f /f\n")
    planned = planned_entries(df, df.chain(None), "buildkit")
    assert [(p.keyword, p.line, p.trigger) for p in planned] == [
        ("ENV", 3, False),
        ("RUN", 4, True),
        ("COPY", 5, False),
    ]
    layers = (*(digest(f"bb{i}") for i in range(2)), digest("t"), digest("f"))
    image = Image(
        id=digest("img"),
        tags=(),
        size=10,
        history=hist(
            ("ADD file:1 in /", False, 1982256),
            ("/bin/busybox --install -s /bin", False, 3216),
            ('CMD ["sh"]', True, 0),
            ("ENV A=1", True, 0),
            ("RUN /bin/sh -c echo t > /t # buildkit", False, 2),
            ("COPY f /f # buildkit", False, 3),
        ),
        layers=tuple(Layer(i, d, d) for i, d in enumerate(layers)),
    )
    result = align_history(df, None, image, builder="buildkit", base=BUSYBOX)
    assert result.warnings == []
    got = [
        (s.line, s.instruction, s.trigger, s.creates_layer, s.layer.index if s.layer else None)
        for s in result.steps
    ]
    assert got == [
        (1, "FROM", False, False, None),
        (2, "ONBUILD", False, False, None),
        (3, "ENV", False, False, None),
        (4, "FROM", False, False, None),
        (4, "RUN", True, True, 2),
        (5, "COPY", False, True, 3),
    ]
    onbuild = result.steps[1]
    assert onbuild.history is None


def test_base_count_disagreement_is_a_warning() -> None:
    df = parse(DOCKERFILE)
    wrong = BaseInfo(ref="busybox:latest", id=None, history_count=2, layer_count=2, size=0)
    result = align_history(df, None, final_image(), builder="classic", base=wrong)
    assert len(result.warnings) == 1 and "history entries" in result.warnings[0]


def test_created_by_text_mismatch_is_reported() -> None:
    df = parse("FROM busybox:latest\nENV A=1\n")
    image = Image(
        id=digest("x"),
        tags=(),
        size=0,
        history=hist(*(("/bin/busybox", False, 1), ("/bin/sh -c #(nop)  LABEL a=b", True, 0))),
        layers=(Layer(0, digest("l"), digest("l")),),
    )
    result = align_history(df, None, image, builder="classic", base=None)
    assert [(m.code, m.line, m.history_index) for m in result.mismatches] == [("instruction", 2, 1)]
    assert result.mismatches[0].found == "/bin/sh -c #(nop)  LABEL a=b"


def test_failed_build_without_image_keeps_timing_and_error() -> None:
    df = parse("FROM busybox:latest\nRUN echo a\nRUN exit 3\n")
    failure = BuildFailure(message="exit code: 3", exit_code=3, step_number=3)
    result = align_history(
        df, None, None, builder="buildkit", base=None, events=events()[:3], failure=failure
    )
    assert [(s.line, s.creates_layer, s.error is not None) for s in result.steps] == [
        (1, False, False),
        (2, None, False),
        (3, None, True),
    ]
    assert result.steps[1].duration_s == 0.5


def test_created_by_matches_both_builders() -> None:
    assert created_by_matches("RUN", "/bin/sh -c apt-get update", "classic")
    assert not created_by_matches("RUN", "/bin/sh -c #(nop)  ENV A=1", "classic")
    assert created_by_matches("ENV", "/bin/sh -c #(nop)  ENV A=1", "classic")
    assert created_by_matches("COPY", "/bin/sh -c #(nop) COPY file:abc in /x ", "classic")
    assert created_by_matches("RUN", "RUN /bin/sh -c true # buildkit", "buildkit")
    assert created_by_matches("EXPOSE", "EXPOSE map[80/tcp:{}]", "buildkit")
    assert not created_by_matches("COPY", "ENV A=1", "buildkit")
