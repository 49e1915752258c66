"""Each rule that reads the Dockerfile and the layer sizes: fires where it should, silent where not."""

from __future__ import annotations

from dataclasses import replace

from helpers.rules import context

from analyzer.review.rulekit.base import SEVERITIES, Hit
from analyzer.review.rulekit.config import Config
from analyzer.review.rulekit.evidence import BuildContextInfo
from analyzer.review.rules import BY_ID, RULES, RuleContext, evaluate


def hits(rule: str, ctx: RuleContext) -> list[Hit]:
    return list(BY_ID[rule].check(ctx))


def test_registry_ids_are_unique_with_known_severities_and_summaries() -> None:
    assert len(BY_ID) == len(RULES)
    for rule in RULES:
        assert rule.severity in SEVERITIES, rule.id
        assert rule.summary.endswith("."), rule.id


# --------------------------------------------------------------------------- cache-busting-copy

CACHE_BUST = """FROM busybox:latest
WORKDIR /app
COPY . .
RUN sh install-deps.sh
CMD ["sh", "app.sh"]
"""
CACHE_GOOD = """FROM busybox:latest
WORKDIR /app
COPY requirements.txt install-deps.sh ./
RUN sh install-deps.sh
COPY . .
CMD ["sh", "app.sh"]
"""


def test_cache_busting_fires_on_whole_context_copy_before_install() -> None:
    ctx = context(CACHE_BUST, {2: 0, 3: 300, 4: 786_432}, durations={4: 3.2, 5: 0.1})
    (hit,) = hits("cache-busting-copy", ctx)
    assert (hit.line, hit.related_lines) == (3, (4,))
    assert hit.bytes == 786_432 and hit.evidence == "history"
    assert hit.data["rebuilt_seconds"] == 3.3
    assert "line 4" in hit.message and "(786 kB in 1 layer, 3.3s to build)" in hit.message


def test_cache_busting_reports_no_time_when_the_later_steps_came_from_the_cache() -> None:
    ctx = context(CACHE_BUST, {2: 0, 3: 300, 4: 786_432}, durations={4: 0.01, 5: 0.01})
    steps = tuple(replace(s, cached=True) if s.line > 3 else s for s in ctx.report.steps)
    cached = replace(ctx, report=replace(ctx.report, steps=steps))
    (hit,) = hits("cache-busting-copy", cached)
    assert "rebuilt_seconds" not in hit.data and "(786 kB in 1 layer)" in hit.message


def test_cache_busting_silent_when_install_comes_first() -> None:
    assert hits("cache-busting-copy", context(CACHE_GOOD, {2: 0, 3: 300, 4: 786_432, 5: 800})) == []


def test_cache_busting_recognises_package_managers_and_exec_form() -> None:
    text = 'FROM python:3\nCOPY [".", "/src"]\nRUN pip install --no-cache-dir -r /src/requirements.txt\n'
    assert [h.line for h in hits("cache-busting-copy", context(text, {2: 10, 3: 10}))] == [2]
    npm = "FROM node\nCOPY ./ /app/\nRUN cd /app && npm ci\n"
    assert [h.line for h in hits("cache-busting-copy", context(npm, {2: 10, 3: 10}))] == [2]


def test_cache_busting_silent_for_copy_from_another_stage_or_no_install() -> None:
    text = "FROM busybox AS b\nRUN true\nFROM busybox\nCOPY --from=b . .\nRUN npm ci\n"
    assert hits("cache-busting-copy", context(text)) == []
    assert hits("cache-busting-copy", context("FROM busybox\nCOPY . .\nRUN ls\n")) == []


# --------------------------------------------------------------------------- add-instead-of-copy


def test_add_of_plain_files_fires_with_the_layer_bytes() -> None:
    ctx = context("FROM busybox\nADD notes.txt /app/notes.txt\n", {2: 56})
    (hit,) = hits("add-instead-of-copy", ctx)
    assert (hit.line, hit.bytes, hit.evidence) == (2, 56, "history")


def test_add_silent_for_archives_urls_variables_and_copy() -> None:
    text = """FROM busybox
ADD rootfs.tar.gz /
ADD https://example.org/x.txt /x.txt
ADD --checksum=sha256:abc https://example.org/y /y
ADD $SRC /z
ADD git@github.com:o/r.git /r
COPY notes.txt /n
"""
    assert hits("add-instead-of-copy", context(text)) == []


def test_add_inside_onbuild_fires_at_the_onbuild_line() -> None:
    assert [h.line for h in hits("add-instead-of-copy", context("FROM busybox\nONBUILD ADD a.txt /a\n"))] == [
        2
    ]


# --------------------------------------------------------------------------- tiny-layers

TINY = """FROM busybox
WORKDIR /app
COPY hello.txt /app/
ADD notes.txt /app/
ENV A=1
RUN echo hi > /app/greeting.txt
RUN dd if=/dev/zero of=/big bs=1k count=100
"""


def test_tiny_layers_fires_on_a_run_of_three_or_more() -> None:
    (hit,) = hits("tiny-layers", context(TINY, {2: 0, 3: 30, 4: 56, 6: 20, 7: 102_400}))
    assert (hit.line, hit.related_lines, hit.bytes) == (2, (3, 4, 6), 106)
    assert hit.data["layers"] == 4


def test_tiny_layers_silent_when_a_big_layer_breaks_the_run() -> None:
    assert hits("tiny-layers", context(TINY, {2: 0, 3: 30, 4: 9000, 6: 20, 7: 5})) == []


# --------------------------------------------------------------------------- budgets

BIG = 'FROM debian:bookworm-slim\nRUN apt-get update\nRUN echo small > /s\nCMD ["sh"]\n'


def budget(**thresholds: float) -> Config:
    return Config(thresholds=thresholds)


def test_layer_over_budget_names_the_line() -> None:
    ctx = context(BIG, {2: 21_000_000, 3: 6}, config=budget(max_layer_size=10_000_000))
    (hit,) = hits("layer-over-budget", ctx)
    assert (hit.line, hit.bytes, hit.data["threshold"]) == (2, 21_000_000, 10_000_000)
    assert "21 MB is over max_layer_size (10 MB)" in hit.message


def test_layer_budget_silent_at_or_under_the_limit() -> None:
    assert hits("layer-over-budget", context(BIG, {2: 10_000_000}, config=budget(max_layer_size=1e7))) == []


def test_image_and_added_budgets_point_at_the_largest_lines() -> None:
    ctx = context(BIG, {2: 21_000_000, 3: 6}, config=budget(max_image_size=20e6, max_added_size=20e6))
    (image,) = hits("image-over-budget", ctx)
    (added,) = hits("added-over-budget", ctx)
    assert image.line is None and image.bytes == 21_000_006 + 1_985_472 and image.related_lines == (2, 3)
    assert added.bytes == 21_000_006 and added.related_lines == (2, 3)
    loose = context(BIG, {2: 21_000_000}, config=budget(max_image_size=30e6, max_added_size=30e6))
    assert hits("image-over-budget", loose) == [] and hits("added-over-budget", loose) == []


def test_too_many_layers() -> None:
    (hit,) = hits("too-many-layers", context(BIG, {2: 1, 3: 1}, config=budget(max_layers=2)))
    assert hit.data == {"threshold": 2, "layers": 3} and hit.related_lines == (2, 3)
    assert hits("too-many-layers", context(BIG, {2: 1, 3: 1}, config=budget(max_layers=3))) == []


def test_budget_rules_are_skipped_until_their_threshold_is_set() -> None:
    evaluation = evaluate(context(BIG, {2: 21_000_000}))
    skipped = {s.rule: s.reason for s in evaluation.skipped}
    assert skipped["layer-over-budget"] == "max_layer_size is not set"
    assert skipped["deleted-later"] == "needs --contents (layer file data)"
    assert skipped["large-context"] == "needs the build context (layermap build)"
    assert not any(f.rule.endswith("over-budget") for f in evaluation.findings)


# --------------------------------------------------------------------------- large-context


def test_large_context_without_dockerignore_fires_with_the_context_bytes() -> None:
    info = BuildContextInfo("ctx", False, 12_000_000, 3)
    (hit,) = hits("large-context", context("FROM busybox\nCOPY . .\n", build_context=info))
    assert (hit.line, hit.bytes, hit.evidence, hit.data["files"]) == (None, 12_000_000, "context", 3)


def test_large_context_silent_with_dockerignore_or_small_context() -> None:
    with_ignore = BuildContextInfo("ctx", True, None, None)
    small = BuildContextInfo("ctx", False, 9_000_000, 3)
    assert hits("large-context", context("FROM busybox\n", build_context=with_ignore)) == []
    assert hits("large-context", context("FROM busybox\n", build_context=small)) == []
