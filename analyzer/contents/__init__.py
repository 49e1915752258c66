"""Layer contents (``--contents``): per-step file changes, wasted space attributed to the lines that
stored and removed it, and secret-looking files left in layers.

Public API:

- :func:`engine_contents` / :func:`archive_contents` — a report with ``files``, ``waste`` and
  ``secret-in-layer`` findings added, its image's layers read from the engine or from an archive;
- :func:`~analyzer.contents.report.add_contents` — the same from listings already at hand (pure).

Modules: ``tarstream`` (streaming tar headers) over ``feeds`` (byte sources); ``listing`` (one layer's
normalised entries, packed in columns, and secret hits: what is cached); ``secrets`` (the rules);
``fetch`` (cache → layer store → export or archive); ``localstore`` (overlay2 ``tar-split.json.gz``);
``cache`` (per diff_id, on disk); ``paths`` (every path as an integer id, so the walks below keep the
filesystem in arrays); ``changes`` (layers applied in order: what each changed, what got hidden, as
``records``); ``filetree`` (the file browser's data); ``waste`` (pairs and efficiency); ``dive`` (dive
0.13's figures, reproduced for comparison); ``report`` (into the Report).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from analyzer.contents.cache import ListingCache
from analyzer.contents.fetch import Exporter, archive_listings, engine_listings
from analyzer.contents.report import add_contents
from analyzer.model import Report

DEFAULT_TOP = 10


def engine_contents(
    report: Report, engine: Exporter, top_n: int = DEFAULT_TOP, cache: ListingCache | None = None
) -> Report:
    """``report`` with contents read from the engine that holds its image (unchanged without one)."""
    if report.image is None:
        return report
    with _bulk():
        listings = engine_listings(engine, report.image, cache or ListingCache.from_env())
        return add_contents(report, listings, top_n)


def archive_contents(
    report: Report, path: str | Path, top_n: int = DEFAULT_TOP, cache: ListingCache | None = None
) -> Report:
    """``report`` with contents read from the archive or OCI layout its image came from."""
    if report.image is None:
        return report
    with _bulk():
        listings = archive_listings(path, report.image, cache or ListingCache.from_env())
        return add_contents(report, listings, top_n)


@contextmanager
def _bulk() -> Iterator[None]:
    """No cyclic garbage collection while listings are built: they are hundreds of thousands of
    small acyclic objects, which the collector would otherwise scan again and again for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


__all__ = ["DEFAULT_TOP", "ListingCache", "add_contents", "archive_contents", "engine_contents"]
