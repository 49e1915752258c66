"""``--contents``: add per-step file changes, attributed waste and secret findings to a report.

Lines are attached through the steps' layer indexes (``step.layer.index`` in the final image), so a
base image's layers, or every layer of an image mapped without a Dockerfile, carry no line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from analyzer.contents import waste as waste_mod
from analyzer.contents.changes import walk
from analyzer.contents.dive import dive_figures
from analyzer.contents.filetree import file_tree
from analyzer.contents.listing import LayerListing
from analyzer.contents.paths import resolve
from analyzer.contents.records import LayerChanges
from analyzer.i18n import _
from analyzer.model import FileChange, FileSummary, Finding, Report

SECRET_RULE = "secret-in-layer"


def add_contents(report: Report, listings: Sequence[LayerListing], top_n: int = 10) -> Report:
    """``report`` with ``files`` on its final-image steps, ``waste`` and secret findings.

    ``listings`` are the final image's layers, bottom first (one per ``rootfs.diff_ids`` entry).
    """
    line_of = {
        step.layer.index: step.line for step in report.steps if step.in_final_image and step.layer is not None
    }
    watch = {(index, hit.path) for index, listing in enumerate(listings) for hit in listing.secrets}
    resolved = resolve(listings)  # path ids, shared by the three walks below
    walked = walk(listings, top_n, watch, resolved)
    base_layers = report.base.layer_count if report.base is not None else None
    waste = waste_mod.summarize(walked, dive_figures(listings, resolved), line_of, base_layers)
    steps = tuple(
        replace(step, files=_summary(walked.layers[step.layer.index]))
        if step.in_final_image and step.layer is not None and step.layer.index < len(walked.layers)
        else step
        for step in report.steps
    )
    findings = _secret_findings(listings, line_of, walked.removed_at)
    tree = file_tree(listings, resolved=resolved)
    return replace(report, steps=steps, waste=waste, findings=(*report.findings, *findings), file_tree=tree)


def _summary(changes: LayerChanges) -> FileSummary:
    return FileSummary(
        added=changes.added,
        modified=changes.modified,
        deleted=changes.deleted,
        bytes_added=changes.bytes_added,
        top=tuple(FileChange(t.path, t.size, t.change) for t in changes.largest()),
    )


def _secret_findings(
    listings: Sequence[LayerListing], line_of: Mapping[int, int], removed_at: Mapping[tuple[int, str], int]
) -> list[Finding]:
    out = []
    for index, listing in enumerate(listings):
        line = line_of.get(index)
        for hit in listing.secrets:
            where = (
                _("added by line {line}").format(line=line) if line is not None else _("from the base image")
            )
            message = _("{what} {path} is stored in layer {layer} ({where})").format(
                what=_(hit.label), path=hit.path, layer=index, where=where
            )
            extra: dict[str, object] = {"path": hit.path, "layer": index}
            removed = removed_at.get((index, hit.path))
            if removed is not None:
                by = line_of.get(removed)
                extra["removed_line"] = by
                message += (
                    _("; line {line} deletes or replaces it, but the layer still ships it").format(line=by)
                    if by is not None
                    else _(
                        "; layer {removed} deletes or replaces it, but layer {layer} still ships it"
                    ).format(removed=removed, layer=index)
                )
            out.append(Finding(SECRET_RULE, "error", line, message, extra))
    return out
