"""Per-layer listings cached on disk, keyed by diff_id, so a layer is read from the engine only once.

A diff_id is the sha256 of the layer's tar, so a listing stored under it can never go stale; only
layermap's own format and secret rules can change, and both are part of the file
(``$XDG_CACHE_HOME/layermap/contents/v1/<hex>.json.z``, zlib-compressed JSON). Anything unreadable or
from another format is a miss. The cache is best-effort: a read-only or full disk only costs speed.

``LAYERMAP_NO_CACHE=1`` turns it off; ``XDG_CACHE_HOME`` moves it (tests point it at a temp dir).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zlib
from collections.abc import Mapping
from pathlib import Path

from analyzer.contents.listing import Entry, LayerListing, SecretHit
from analyzer.contents.secrets import RULES_VERSION
from analyzer.limits import MAX_CACHE_ENTRY, MAX_MEMBER_SIZE, load_json, read_regular

FORMAT = 1
_TRUE = {"1", "yes", "true", "on"}


def cache_root(env: Mapping[str, str] | None = None) -> Path | None:
    """Where listings live, or None when caching is off."""
    env = os.environ if env is None else env
    if env.get("LAYERMAP_NO_CACHE", "").strip().lower() in _TRUE:
        return None
    base = env.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"  # the XDG spec ignores relative
    return root / "layermap" / "contents" / f"v{FORMAT}"


class ListingCache:
    """Get and put :class:`LayerListing` by diff_id; a cache with ``root=None`` holds nothing."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_env(cls) -> ListingCache:
        return cls(cache_root())

    def _path(self, diff_id: str) -> Path | None:
        hex_id = diff_id.split(":", 1)[-1]
        if self.root is None or not hex_id.isalnum():
            return None
        return self.root / f"{hex_id}.json.z"

    def get(self, diff_id: str) -> LayerListing | None:
        path = self._path(diff_id)
        listing = _load(path, diff_id) if path is not None else None
        if listing is None:
            self.misses += 1
        else:
            self.hits += 1
        return listing

    def put(self, listing: LayerListing) -> None:
        path = self._path(listing.diff_id)
        if path is None:
            return
        data = {
            "format": FORMAT,
            "rules": RULES_VERSION,
            "diff_id": listing.diff_id,
            "entries": [list(entry) for entry in listing.entries],
            "secrets": [list(hit) for hit in listing.secrets],
        }
        blob = zlib.compress(json.dumps(data, separators=(",", ":")).encode("utf-8", "surrogateescape"), 1)
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(blob)
                os.replace(tmp, path)  # atomic: a reader never sees half a file
            except OSError:
                os.unlink(tmp)
                raise


def _load(path: Path, diff_id: str) -> LayerListing | None:
    """The listing in ``path``, or None (a miss, rebuilt and rewritten) for anything but a good entry:
    decompression stops at MAX_CACHE_ENTRY (a zlib bomb costs nothing), nesting is bounded and every
    entry's fields are checked, so a tampered cache can slow layermap down but never feed it."""
    try:
        raw = read_regular(path, MAX_CACHE_ENTRY)
        inflater = zlib.decompressobj()
        text = inflater.decompress(raw, MAX_CACHE_ENTRY)
        if inflater.unconsumed_tail or not inflater.eof:
            return None
        data = load_json(text.decode("utf-8", "surrogateescape"), limit=8)
    except (OSError, ValueError, zlib.error):  # InputLimitError is a ValueError
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("rules") != RULES_VERSION
        or data.get("diff_id") != diff_id
    ):
        return None
    try:
        entries = tuple(Entry._make(item) for item in data["entries"])
        hits = tuple(SecretHit._make(item) for item in data["secrets"])
    except (KeyError, TypeError):
        return None
    if not all(map(_good_entry, entries)) or not all(type(p) is str and type(x) is str for p, x in hits):
        return None
    return LayerListing(diff_id, entries, hits)


_KINDS = frozenset("fhldwoc")


def _good_entry(entry: Entry) -> bool:
    path, kind, size, mtime, link = entry
    return (
        type(path) is str
        and type(kind) is str
        and kind in _KINDS
        and type(size) is int
        and 0 <= size <= MAX_MEMBER_SIZE
        and type(mtime) in (int, float)
        and type(link) is str
    )
