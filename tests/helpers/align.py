"""Shared test helpers (moved from test_align.py)."""

from __future__ import annotations

import hashlib

from analyzer.mapping.align import StageBuild
from analyzer.model import BaseInfo, HistoryEntry, ImageLink, StepEvent

DOCKERFILE = """\
ARG X=1
FROM busybox:latest AS a
RUN echo a > /a
FROM busybox:latest AS unused
RUN echo u > /u
FROM a AS b
ONBUILD RUN echo trig > /t
ENV Y=2
FROM b
COPY Dockerfile /df
"""


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def hist(*entries: tuple[str, bool, int]) -> tuple[HistoryEntry, ...]:
    return tuple(
        HistoryEntry(index=i, created_by=by, empty_layer=empty, size=size)
        for i, (by, empty, size) in enumerate(entries)
    )


BUSYBOX_HISTORY = (
    ("/bin/sh -c #(nop) COPY file:4a28 in /bin/busybox ", False, 1982256),
    ("/bin/busybox --install -s /bin", False, 3216),
    ('/bin/sh -c #(nop)  CMD ["sh"]', True, 0),
)


L_BB = (digest("bb0"), digest("bb1"))


BUSYBOX = BaseInfo(ref="busybox:latest", id=digest("busybox"), history_count=3, layer_count=2, size=1985472)


def link(name: str, parent: str | None, layers: tuple[str, ...]) -> ImageLink:
    return ImageLink(id=digest(name), parent=digest(parent) if parent else None, diff_ids=layers)


def stages() -> list[StageBuild]:
    a_layers = (*L_BB, digest("a-run"))
    a = StageBuild(
        index=0,
        base=BUSYBOX,
        triggers=(),
        links=(link("busybox", None, L_BB), link("a1", "busybox", a_layers)),
        history=hist(*BUSYBOX_HISTORY, ("/bin/sh -c echo a > /a", False, 2)),
    )
    unused = StageBuild(
        index=1,
        base=BUSYBOX,
        triggers=(),
        links=(link("busybox", None, L_BB), link("u1", "busybox", (*L_BB, digest("u-run")))),
        history=hist(*BUSYBOX_HISTORY, ("/bin/sh -c echo u > /u", False, 2)),
    )
    a_hist = (*BUSYBOX_HISTORY, ("/bin/sh -c echo a > /a", False, 2))
    b_hist = (
        *a_hist,
        ("/bin/sh -c #(nop)  ONBUILD RUN echo trig > /t", True, 0),
        ("/bin/sh -c #(nop)  ENV Y=2", True, 0),
    )
    b = StageBuild(
        index=2,
        base=BaseInfo(ref="a", id=digest("a1"), history_count=4, layer_count=3, size=1985474),
        triggers=(),
        links=(link("a1", "busybox", a_layers), link("b1", "a1", a_layers), link("b2", "b1", a_layers)),
        history=hist(*b_hist),
    )
    final_layers = (*a_layers, digest("trig"), digest("copy"))
    final = StageBuild(
        index=3,
        base=BaseInfo(ref="b", id=digest("b2"), history_count=6, layer_count=3, size=1985474),
        triggers=("RUN echo trig > /t",),
        links=(
            link("b2", "b1", a_layers),
            link("f1", "b2", final_layers[:4]),
            link("f2", "f1", final_layers),
        ),
        history=hist(
            *b_hist,
            ("/bin/sh -c echo trig > /t", False, 5),
            ("/bin/sh -c #(nop) COPY file:e68b in /df ", False, 169),
        ),
    )
    return [a, unused, b, final]


def events() -> list[StepEvent]:
    return [StepEvent(number=n, total=10, text="", cached=False, duration_s=0.5) for n in range(1, 11)]
