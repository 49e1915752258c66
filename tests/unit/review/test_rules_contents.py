"""Rules over ``--contents`` data: waste pairs, per-step largest files, secrets, efficiency.

The data is built in the contract's JSON shape (``waste.pairs``, step ``files.top``) and read through
``contents_of``, the one adapter between the report and the rules.
"""

from __future__ import annotations

from dataclasses import replace

from helpers.rules import ReportWithContents, StepWithFiles, context, make_report

from analyzer.model import Finding
from analyzer.review.rulekit.base import Hit
from analyzer.review.rulekit.config import Config
from analyzer.review.rulekit.evidence import Contents, TopFile, WastePair, contents_of
from analyzer.review.rules import BY_ID, RuleContext, evaluate

DELETED = """FROM busybox:latest
RUN mkdir -p /data \\
 && dd if=/dev/urandom of=/data/blob bs=1M count=8
RUN wc -c /data/blob
RUN rm /data/blob
"""
SIZES = {2: 8_388_608, 5: 0}


def hits(rule: str, ctx: RuleContext) -> list[Hit]:
    return list(BY_ID[rule].check(ctx))


def waste(*pairs: WastePair, wasted: int | None = None, efficiency: float = 0.5) -> Contents:
    total = sum(p.bytes for p in pairs) if wasted is None else wasted
    return Contents(total, efficiency, pairs, ())


BLOB = WastePair(2, 5, 8_388_608, "deleted", ("/data/blob",))


def test_deleted_later_fires_at_the_adding_line_with_the_removing_line() -> None:
    (hit,) = hits("deleted-later", context(DELETED, SIZES, contents=waste(BLOB)))
    assert (hit.line, hit.end_line, hit.related_lines) == (2, 3, (5,))
    assert (hit.bytes, hit.evidence, hit.paths) == (8_388_608, "contents", ("/data/blob",))
    assert "deleted by line 5" in hit.message and "/data/blob" in hit.message


def test_deleted_later_silent_without_pairs_and_skipped_without_contents() -> None:
    assert hits("deleted-later", context(DELETED, SIZES, contents=waste())) == []
    skipped = {s.rule for s in evaluate(context(DELETED, SIZES)).skipped}
    assert {"deleted-later", "overwritten-later", "copy-up", "package-cache"} <= skipped


def test_overwritten_and_copy_up_pick_their_own_kind_and_location() -> None:
    pairs = (
        WastePair(2, 4, 1000, "overwritten", ("/etc/a",)),
        WastePair(2, 5, 3000, "copy-up", ("/data/blob",)),
    )
    ctx = context(DELETED, SIZES, contents=waste(*pairs))
    (over,) = hits("overwritten-later", ctx)
    (up,) = hits("copy-up", ctx)
    assert (over.line, over.related_lines, over.bytes) == (2, (4,), 1000)
    assert (up.line, up.related_lines, up.bytes) == (5, (2,), 3000)
    assert "copies 3 kB first added by line 2" in up.message
    assert hits("deleted-later", ctx) == []


APT = """FROM debian:bookworm-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends less
CMD ["less", "--version"]
"""
LISTS = (
    TopFile(
        "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
        9_000_000,
        "added",
    ),
    TopFile("/var/lib/apt/lists/security_Packages", 400_000, "added"),
    TopFile("/usr/bin/less", 180_000, "added"),
)


def with_top(ctx: RuleContext, line: int, top: tuple[TopFile, ...]) -> RuleContext:
    step = next(s for s in ctx.report.steps if s.line == line)
    return replace(ctx, contents=Contents(0, 1.0, (), ((step, top),)))


def test_package_cache_fires_with_the_measured_bytes_of_cache_files() -> None:
    ctx = with_top(context(APT, {2: 21_000_000}), 2, LISTS)
    (hit,) = hits("package-cache", ctx)
    assert (hit.line, hit.end_line, hit.bytes, hit.evidence) == (2, 3, 9_400_000, "contents")
    assert hit.paths == tuple(f.path for f in LISTS[:2])
    assert "at least 9.4 MB of apt package lists" in hit.message
    assert "rm -rf /var/lib/apt/lists/*" in hit.message


def test_package_cache_silent_for_clean_layers_deleted_entries_and_other_stages() -> None:
    clean = (TopFile("/usr/bin/less", 180_000, "added"), TopFile("/var/lib/apt/lists/x", 0, "deleted"))
    assert hits("package-cache", with_top(context(APT, {2: 1_170_000}), 2, clean)) == []
    staged = "FROM debian AS build\nRUN pip install x\nFROM busybox\nCOPY --from=build /x /x\n"
    pip = (TopFile("/root/.cache/pip/http/abc", 5_000_000, "added"),)
    assert hits("package-cache", with_top(context(staged, {2: 6_000_000, 4: 10}), 2, pip)) == []


def test_package_cache_knows_pip_npm_apk_in_any_home() -> None:
    top = (
        TopFile("/home/app/.cache/pip/wheels/x.whl", 2000, "added"),
        TopFile("/root/.npm/_cacache/content-v2/sha512/ab", 3000, "added"),
        TopFile("/var/cache/apk/APKINDEX.tar.gz", 4000, "modified"),
    )
    found = {
        h.data["cache"]: h.bytes for h in hits("package-cache", with_top(context(APT, {2: 9000}), 2, top))
    }
    assert found == {"pip cache": 2000, "npm cache": 3000, "apk cache": 4000}


SECRET = Finding("secret-in-layer", "error", 2, "a private key was added here", {"path": "/root/.ssh/id_rsa"})


def test_secret_findings_get_configured_severity_and_the_gate_fields() -> None:
    ctx = context(
        DELETED,
        SIZES,
        contents=waste(),
        findings=[SECRET],
        config=Config(severities={"secret-in-layer": "warning"}),
    )
    (found,) = [f for f in evaluate(ctx).findings if f.rule == "secret-in-layer"]
    assert (found.severity, found.line, found.extra["paths"], found.extra["end_line"]) == (
        "warning",
        2,
        ["/root/.ssh/id_rsa"],
        3,
    )
    assert found.extra["path"] == "/root/.ssh/id_rsa"  # the contract's field survives the gate


def test_secret_findings_kept_as_they_are_when_the_rule_cannot_run() -> None:
    ctx = context(DELETED, SIZES, findings=[SECRET])
    assert [f for f in evaluate(ctx).findings if f.rule == "secret-in-layer"] == [SECRET]


def test_efficiency_and_wasted_bytes_thresholds() -> None:
    config = Config(thresholds={"min_efficiency": 0.9, "max_wasted_bytes": 1_000_000})
    ctx = context(DELETED, SIZES, contents=waste(BLOB, efficiency=0.19), config=config)
    (eff,) = hits("low-efficiency", ctx)
    (wasted,) = hits("wasted-bytes", ctx)
    assert eff.related_lines == (2,) and eff.data["efficiency"] == 0.19 and "19.0%" in eff.message
    assert wasted.bytes == 8_388_608 and wasted.related_lines == (2,)
    fine = replace(ctx, contents=waste(efficiency=0.99))
    assert hits("low-efficiency", fine) == [] and hits("wasted-bytes", fine) == []


def test_contents_of_reads_the_contract_shape_from_objects_or_mappings() -> None:
    report, _ = make_report(APT, {2: 21_000_000})
    assert contents_of(report) is None
    files = {"added": 3, "top": [{"path": LISTS[0].path, "size": 9_000_000, "change": "added"}]}
    steps = tuple(StepWithFiles(**{**s.__dict__, "files": files}) if s.line == 2 else s for s in report.steps)
    pair = {"added_line": 2, "removed_line": 4, "bytes": 10, "kind": "deleted", "paths": ["/a"]}
    rich = ReportWithContents(
        **{
            **report.__dict__,
            "steps": steps,
            "waste": {"wasted_bytes": 10, "efficiency": 0.9, "pairs": [pair]},
        }
    )
    contents = contents_of(rich)
    assert contents is not None
    assert contents.pairs == (WastePair(2, 4, 10, "deleted", ("/a",)),)
    assert (contents.wasted_bytes, contents.efficiency) == (10, 0.9)
    ((step, top),) = contents.top_files
    assert step.line == 2 and top == (LISTS[0],)


def test_base_image_bytes_removed_by_a_line_are_reported_at_that_line() -> None:
    base = WastePair(None, 5, 4096, "deleted", ("/bin/vi",), path_count=40)
    status = WastePair(None, 2, 70_000, "overwritten", ("/var/lib/dpkg/status",))
    ctx = context(DELETED, SIZES, contents=waste(base, status))
    assert hits("deleted-later", ctx) == [] and hits("overwritten-later", ctx) == []
    first, second = hits("base-image-waste", ctx)
    assert (first.line, first.related_lines, first.data) == (5, (), {"kind": "deleted", "path_count": 40})
    assert "deletes 4.1 kB of the base image's files (/bin/vi and 39 more)" in first.message
    assert (second.line, second.data["kind"]) == (2, "overwritten") and "replaces 70 kB" in second.message
    unmapped = WastePair(None, None, 4096, "deleted", ("/x",))
    assert hits("base-image-waste", context(DELETED, SIZES, contents=waste(unmapped))) == []


def test_secret_findings_follow_off_ignore_and_inline_comments_even_when_the_rule_cannot_run() -> None:
    off = context(DELETED, SIZES, findings=[SECRET], config=Config(severities={"secret-in-layer": "off"}))
    ignored = context(DELETED, SIZES, findings=[SECRET], config=Config(ignore=frozenset({"secret-in-layer"})))
    assert [f for f in evaluate(off).findings if f.rule == "secret-in-layer"] == []
    assert [f for f in evaluate(ignored).findings if f.rule == "secret-in-layer"] == []
    commented = DELETED.replace("RUN mkdir", "# layermap ignore=secret-in-layer\nRUN mkdir")
    moved = replace(SECRET, line=3)  # the RUN moved one line down under the comment
    ctx = context(commented, {3: 8_388_608}, findings=[moved])
    assert [f for f in evaluate(ctx).findings if f.rule == "secret-in-layer"] == []
