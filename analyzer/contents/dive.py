"""dive's wasted-bytes and efficiency figures, reproduced exactly, so they can be compared with dive.

dive 0.13 (``filetree.Efficiency``, ``image.Analyze``) visits, in each layer's own file tree, the
*leaves* (entries without children in that layer) and keeps per path: how many layers had it as a
leaf, the sum of the sizes seen ("cumulative") and the smallest size seen. A whiteout counts 0 for a
file and, for a directory, the size of everything below it in the layers underneath. Then:

- ``wastedBytes`` = sum of the cumulative sizes of the paths seen in two or more layers;
- ``efficiency`` = sum of the smallest sizes / sum of the cumulative sizes;
- ``userWastedPercent`` = wastedBytes / the size of every layer but layer 0.

Where that differs from what is really wasted (``changes.py`` computes that):

1. The version still visible is counted too: a file written in 3 layers counts 3 times (dive issue
   #684); one overwritten once counts both versions (a 512 KiB file overwritten by a 256 KiB one:
   768 KiB "wasted", 512 KiB really).
2. Files removed by deleting their *directory* (``rm -rf dir``: one whiteout for ``dir``) are not
   counted unless seen in two layers; the directory's path gets the deleted size as a single visit.
3. Opaque directories (``.wh..wh..opq``) are ignored: what they hide is not counted.
4. The efficiency takes each path's *smallest* version as the useful one, not the visible one.
5. Only layer 0 is treated as the base, even when the base image has several layers.
6. Sizes are tar header sizes: symlinks count 0 (``docker history`` counts their target's length).
7. A repeated layer (same diff_id as a lower one: ``COPY`` of the same file again, a chmod back to
   the original mode) is read as empty, since ``docker save`` stores it as a symlink to its first copy.

Not reproduced: dive aborts a layer's visit when a whiteout names a path absent below (it logs an
error); such layers do not occur in images built by an engine.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

from analyzer.contents.listing import DIR, OPAQUE_KIND, WHITEOUT_KIND, LayerListing
from analyzer.contents.paths import ROOT, PathTable, Resolved, resolve


@dataclass(frozen=True)
class DiveFigures:
    """dive's ``--json`` / ``--ci`` image figures."""

    wasted_bytes: int
    """``image.inefficientBytes``."""
    efficiency: float
    """``image.efficiencyScore``."""
    size_bytes: int
    """``image.sizeBytes``: header sizes summed over every layer."""
    user_size_bytes: int
    """The same without layer 0."""

    @property
    def user_wasted_percent(self) -> float | None:
        """``userWastedPercent`` (a ratio; dive prints it ×100); None where dive shows NaN."""
        return self.wasted_bytes / self.user_size_bytes if self.user_size_bytes else None


class _Stacked:
    """dive's stacked tree of the layers below the current one, in arrays indexed by path id: whether
    the path is in it, its payload size, whether it is a directory."""

    def __init__(self, table: PathTable) -> None:
        self.table = table
        self.present = bytearray(len(table))
        self.present[ROOT] = 1
        self.size = array("q", bytes(8 * len(table)))
        self.is_dir = bytearray(len(table))
        self.is_dir[ROOT] = 1

    def add(self, node: int, size: int, is_dir: bool) -> None:
        """dive's ``AddPath``: a new node, or a new payload for an existing one (children kept); an
        intermediate node gets an empty payload."""
        if not self.present[node]:
            for parent in self.table.ancestors(node):
                if not self.present[parent]:
                    self.present[parent], self.size[parent], self.is_dir[parent] = 1, 0, 0
            self.present[node] = 1
        self.size[node], self.is_dir[node] = size, is_dir

    def remove(self, node: int) -> None:
        if not self.present[node] or node == ROOT:
            return
        for sub in self._subtree(node):
            self.present[sub] = 0

    def whiteout_size(self, node: int) -> int:
        """What dive counts for a whiteout: the sizes below a directory, 0 for anything else."""
        if not self.present[node] or not self.is_dir[node]:
            return 0
        return sum(self.size[sub] for sub in self._subtree(node))

    def _subtree(self, node: int) -> list[int]:
        out, todo = [], [node]
        present, children = self.present, self.table.children
        while todo:
            current = todo.pop()
            out.append(current)
            todo.extend(child for child in children(current) if present[child])
        return out


def dive_figures(listings: Sequence[LayerListing], resolved: Resolved | None = None) -> DiveFigures:
    """dive's figures for an image made of ``listings``, bottom layer first.

    ``resolved``: the listings' path ids when the caller has them already (:func:`paths.resolve`).
    """
    resolved = resolved or resolve(listings)
    table = resolved.table
    stacked = _Stacked(table)
    count = len(table)
    visits = array("i", bytes(4 * count))  # per path: layers that had it as a leaf, sizes summed, smallest
    cumulative = array("q", bytes(8 * count))
    smallest = array("q", bytes(8 * count))
    sizes = []
    read: set[str] = set()
    root_marker = table.find(ROOT, b"")  # an opaque marker in the root directory: the path "/"
    for listing, ids in zip(listings, resolved.ids, strict=True):
        # A repeated layer is a symlink to its first copy in a ``docker save``: dive reads the link's
        # empty body as an empty layer.
        repeated = listing.diff_id in read
        read.add(listing.diff_id)
        if repeated:
            sizes.append(0)
            continue
        kinds = listing.kinds
        leaves, implicit = _leaves(listing, ids, table, root_marker)
        for entry in leaves:
            if entry < 0:  # a directory dive made up
                node, size = ~entry, 0
            else:
                node, kind = ids[entry], kinds[entry]
                if kind == _WHITEOUT:
                    size = stacked.whiteout_size(node)
                else:
                    size = 0 if kind == _DIR else listing.sizes[entry]
            if visits[node] == 0 or size < smallest[node]:
                smallest[node] = size
            visits[node] += 1
            cumulative[node] += size
        _stack(stacked, listing, ids, implicit)
        sizes.append(sum(listing.sizes))
    wasted = sum(total for seen, total in zip(visits, cumulative, strict=True) if seen > 1)
    useful = sum(small for seen, small in zip(visits, smallest, strict=True) if seen)
    total = sum(cumulative)
    return DiveFigures(
        wasted_bytes=wasted,
        efficiency=useful / total if total else 1.0,
        size_bytes=sum(sizes),
        user_size_bytes=sum(sizes[1:]),
    )


_DIR, _WHITEOUT, _OPAQUE = ord(DIR), ord(WHITEOUT_KIND), ord(OPAQUE_KIND)


def _leaves(
    listing: LayerListing, ids: Sequence[int], table: PathTable, root_marker: int
) -> tuple[Iterator[int], list[int]]:
    """The entries without children in this layer's own tree (entry indexes; ``~id`` for a directory
    dive makes up), and the directories dive makes up (path ids).

    An opaque marker adds no node, but its directory is made if the tar did not list it (dive's
    ``AddPath`` creates intermediate nodes with an empty payload).
    """
    kinds, parents = listing.kinds, table.parent
    listed = bytearray(len(table))
    is_parent = bytearray(len(table))
    for entry, node in enumerate(ids):
        if kinds[entry] != _OPAQUE:
            listed[node] = 1
    implicit: dict[int, None] = {}  # an ordered set
    for entry, node in enumerate(ids):
        if kinds[entry] == _OPAQUE and not listed[node] and node != root_marker:
            implicit[node] = None
        parent = parents[node]
        while parent != ROOT and not is_parent[parent]:  # a known parent's own parents are known too
            is_parent[parent] = 1
            if not listed[parent]:
                implicit[parent] = None
            parent = parents[parent]
    leaves = chain(
        (entry for entry, node in enumerate(ids) if kinds[entry] != _OPAQUE and not is_parent[node]),
        [~node for node in implicit if not is_parent[node]],
    )  # made as they are read: a million entry indexes would cost more than the walk itself
    return leaves, list(implicit)


def _stack(stacked: _Stacked, listing: LayerListing, ids: Sequence[int], implicit: Sequence[int]) -> None:
    """dive's ``Stack``: whiteouts remove, everything else replaces the payload and keeps children
    (so a file that replaces a directory keeps the directory's old children, and opaque markers are
    ignored)."""
    for node in implicit:
        stacked.add(node, 0, False)
    kinds, sizes = listing.kinds, listing.sizes
    for entry, node in enumerate(ids):
        kind = kinds[entry]
        if kind == _WHITEOUT:
            stacked.remove(node)
        elif kind != _OPAQUE:
            stacked.add(node, 0 if kind == _DIR else sizes[entry], kind == _DIR)
