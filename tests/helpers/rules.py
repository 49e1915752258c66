"""Builders for rule tests: a report as a classic build would map it, from a Dockerfile and layer sizes.

``make_report(text, {line: size})`` parses the Dockerfile and gives every instruction a step; the lines
named in ``sizes`` made a layer of that many bytes (in the final image when their stage reaches it),
the rest made none. No engine, no alignment: just the shape the rules read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analyzer.dockerfile import parse
from analyzer.mapping.align import stage_infos, summarize
from analyzer.model import (
    BaseInfo,
    Dockerfile,
    Finding,
    HistoryEntry,
    Image,
    Layer,
    Report,
    Step,
    StepHistory,
    StepLayer,
)
from analyzer.review.rulekit.config import Config
from analyzer.review.rulekit.evidence import BuildContextInfo, Contents
from analyzer.review.rules import RuleContext

BASE_SIZE = 1_985_472


def digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def _steps(df: Dockerfile, sizes: Mapping[int, int], durations: Mapping[int, float]) -> list[Step]:
    final = set(df.chain(None))
    steps: list[Step] = []
    layer = history = 1  # the base: one history entry, one layer
    for ins in df.instructions:
        in_final = ins.stage in final
        if ins.stage is None or ins.keyword == "FROM":
            steps.append(
                Step(
                    ins.stage,
                    ins.line,
                    ins.end_line,
                    ins.keyword,
                    ins.text,
                    in_final_image=in_final,
                    creates_layer=False,
                    inherited_size=BASE_SIZE if ins.keyword == "FROM" else None,
                )
            )
            continue
        size = sizes.get(ins.line)
        step_layer = StepLayer(layer, digest(f"layer{ins.line}"), size) if size is not None else None
        steps.append(
            Step(
                ins.stage,
                ins.line,
                ins.end_line,
                ins.keyword,
                ins.text,
                in_final_image=in_final,
                creates_layer=size is not None,
                history=StepHistory(history, ins.text, size is None),
                layer=step_layer,
                duration_s=durations.get(ins.line),
                cached=False,
            )
        )
        history += 1
        layer += size is not None
    return steps  # fmt: skip


def make_report(
    text: str,
    sizes: Mapping[int, int] | None = None,
    *,
    durations: Mapping[int, float] | None = None,
    findings: Sequence[Finding] = (),
) -> tuple[Report, Dockerfile]:
    df = parse(text, path="Dockerfile")
    steps = _steps(df, sizes or {}, durations or {})
    final = [s for s in steps if s.in_final_image and s.layer is not None]
    layers = [Layer(0, digest("base"), digest("base"), BASE_SIZE)]
    layers += [
        Layer(i + 1, s.layer.diff_id, digest(f"chain{i}"), s.layer.size)
        for i, s in enumerate(final)
        if s.layer
    ]
    history = tuple(HistoryEntry(i, "x", False, 0) for i in range(len(layers)))
    image = Image(
        digest("image"), ("t:1",), BASE_SIZE + sum(la.size or 0 for la in layers[1:]), history, tuple(layers)
    )
    base = BaseInfo("busybox:latest", digest("busybox"), 1, 1, BASE_SIZE)
    report = Report(
        "Dockerfile",
        df.sha256,
        "classic",
        None,
        image,
        base,
        stage_infos(df, None),
        tuple(steps),
        summarize(image, base, steps),
        findings=tuple(findings),
    )
    return report, df  # fmt: skip


def context(
    text: str,
    sizes: Mapping[int, int] | None = None,
    *,
    config: Config | None = None,
    contents: Contents | None = None,
    build_context: BuildContextInfo | None = None,
    durations: Mapping[int, float] | None = None,
    findings: Sequence[Finding] = (),
) -> RuleContext:
    report, df = make_report(text, sizes, durations=durations, findings=findings)
    return RuleContext(report, df, config or Config(), contents, build_context)


@dataclass(frozen=True)
class ReportWithContents(Report):
    """A report carrying ``--contents`` data as the contract's JSON shape (``waste``)."""

    waste: object = None


@dataclass(frozen=True)
class StepWithFiles(Step):
    """A step carrying ``--contents`` ``files`` as the contract's JSON shape."""

    files: object = None
