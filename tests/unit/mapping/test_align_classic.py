"""align_classic on engine data shaped like a real classic build (Parent chains, histories)."""

from __future__ import annotations

from helpers.align import BUSYBOX, BUSYBOX_HISTORY, DOCKERFILE, L_BB, digest, events, hist, link, stages

from analyzer.dockerfile import parse
from analyzer.mapping.align import StageBuild, align_classic, stage_infos, summarize
from analyzer.model import BaseInfo, BuildFailure


def test_every_line_maps_to_its_history_entry_and_layer() -> None:
    df = parse(DOCKERFILE)
    steps, warnings = align_classic(df, None, stages(), events())
    assert warnings == []
    got = [
        (
            s.line,
            s.instruction,
            s.trigger,
            s.in_final_image,
            s.creates_layer,
            s.history.index if s.history else None,
            s.layer.index if s.layer else None,
        )
        for s in steps
    ]
    assert got == [
        (1, "ARG", False, True, False, None, None),
        (2, "FROM", False, True, False, None, None),
        (3, "RUN", False, True, True, 3, 2),
        (4, "FROM", False, False, False, None, None),
        (5, "RUN", False, False, True, 3, 2),
        (6, "FROM", False, True, False, None, None),
        (7, "ONBUILD", False, True, False, 4, None),
        (8, "ENV", False, True, False, 5, None),
        (9, "FROM", False, True, False, None, None),
        (9, "RUN", True, True, True, 6, 3),
        (10, "COPY", False, True, True, 7, 4),
    ]
    copy = steps[-1]
    assert copy.layer is not None and copy.layer.diff_id == digest("copy") and copy.layer.size == 169
    assert copy.image_id == digest("f2")
    assert steps[-2].duration_s is None  # triggers run inside the FROM step: no timing of their own
    assert steps[1].inherited_size == 1985472 and steps[1].inherited_layers == 2


def test_zero_byte_layer_is_still_a_layer() -> None:
    df = parse("FROM busybox:latest\nRUN rm /etc/hostname\nRUN true\n")
    after_rm = (*L_BB, digest("whiteout"))
    build = StageBuild(
        index=0,
        base=BUSYBOX,
        triggers=(),
        links=(
            link("busybox", None, L_BB),
            link("rm", "busybox", after_rm),
            link("true", "rm", after_rm),
        ),
        history=hist(
            *BUSYBOX_HISTORY, ("/bin/sh -c rm /etc/hostname", False, 0), ("/bin/sh -c true", True, 0)
        ),
    )
    steps, warnings = align_classic(df, None, [build], [])
    assert warnings == []
    rm, true = steps[1], steps[2]
    assert rm.creates_layer is True and rm.layer is not None and rm.layer.size == 0
    assert rm.layer.diff_id == digest("whiteout")
    assert true.creates_layer is False and true.layer is None and true.history is not None
    assert true.history.empty_layer is True


def test_config_disagreement_is_reported_not_guessed() -> None:
    df = parse("FROM busybox:latest\nRUN true\n")
    build = StageBuild(
        index=0,
        base=BUSYBOX,
        triggers=(),
        links=(link("busybox", None, L_BB), link("t", "busybox", L_BB)),
        history=hist(*BUSYBOX_HISTORY, ("/bin/sh -c true", False, 0)),  # config claims a layer
    )
    steps, warnings = align_classic(df, None, [build], [])
    assert steps[1].creates_layer is False  # the layer count is the truth
    assert len(warnings) == 1 and "line 2" in warnings[0] and "empty_layer=False" in warnings[0]


def test_failed_build_keeps_the_steps_that_ran() -> None:
    df = parse('FROM busybox:latest\nENV A=1\nRUN echo x > /x\nRUN exit 3\nCMD ["sh"]\n')
    layers = (*L_BB, digest("x"))
    build = StageBuild(
        index=0,
        base=BUSYBOX,
        triggers=(),
        links=(link("busybox", None, L_BB), link("env", "busybox", L_BB), link("x", "env", layers)),
        history=hist(
            *BUSYBOX_HISTORY, ("/bin/sh -c #(nop)  ENV A=1", True, 0), ("/bin/sh -c echo x > /x", False, 2)
        ),
        complete=False,
    )
    failure = BuildFailure(message="returned a non-zero code: 3", exit_code=3, step_number=4)
    steps, _ = align_classic(df, None, [build], [], failure)
    assert [(s.line, s.creates_layer) for s in steps] == [
        (1, False),
        (2, False),
        (3, True),
        (4, None),
        (5, None),
    ]
    assert steps[3].error is not None and steps[3].error.exit_code == 3
    assert all(s.error is None for s in steps if s.line != 4)
    assert steps[2].history is not None and steps[2].history.index == 4


def test_from_scratch_has_no_base_link() -> None:
    df = parse("FROM scratch\nCOPY a /a\nENV A=1\n")
    build = StageBuild(
        index=0,
        base=BaseInfo(ref="scratch", id=None, history_count=0, layer_count=0, size=0),
        triggers=(),
        links=(link("c", None, (digest("a"),)), link("e", "c", (digest("a"),))),
        history=hist(
            ("/bin/sh -c #(nop) COPY file:1 in /a ", False, 3), ("/bin/sh -c #(nop)  ENV A=1", True, 0)
        ),
    )
    steps, warnings = align_classic(df, None, [build], [])
    assert warnings == []
    assert [(s.creates_layer, s.layer.index if s.layer else None) for s in steps[1:]] == [
        (True, 0),
        (False, None),
    ]


def test_target_limits_the_final_chain_and_summary() -> None:
    df = parse(DOCKERFILE)
    infos = stage_infos(df, "b")
    assert [i.in_final_image for i in infos] == [True, False, True, False]
    steps, _ = align_classic(df, "b", stages()[:3], events()[:8])
    assert [s.creates_layer for s in steps if s.line in (9, 10)] == [False, None]
    summary = summarize(None, BUSYBOX, steps)
    assert summary.final_size == 0 and summary.largest_step_line == 3
