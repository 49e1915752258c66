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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analyzer.contents.listing import DIR, OPAQUE_KIND, WHITEOUT_KIND, Entry, LayerListing


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
    """dive's stacked tree of the layers below the current one: nodes by path (``""`` is the root),
    each ``[size, is_dir, child paths or None]``, so a lookup is one dict probe."""

    def __init__(self) -> None:
        self.nodes: dict[str, list[Any]] = {"": [0, True, None]}

    def add(self, path: str, size: int, is_dir: bool) -> None:
        """dive's ``AddPath``: a new node, or a new payload for an existing one (children kept)."""
        node = self.nodes.get(path)
        if node is not None:
            node[0], node[1] = size, is_dir
            return
        parent = path.rpartition("/")[0]
        if parent not in self.nodes:
            self.add(parent, 0, False)  # an intermediate node gets an empty payload
        siblings: set[str] | None = self.nodes[parent][2]
        if siblings is None:
            siblings = self.nodes[parent][2] = set()
        siblings.add(path)
        self.nodes[path] = [size, is_dir, None]

    def remove(self, path: str) -> None:
        node = self.nodes.get(path)
        if node is None or not path:
            return
        self.nodes[path.rpartition("/")[0]][2].discard(path)
        for sub in self._subtree(path):
            del self.nodes[sub]

    def whiteout_size(self, path: str) -> int:
        """What dive counts for a whiteout: the sizes below a directory, 0 for anything else."""
        node = self.nodes.get(path)
        if node is None or not node[1]:
            return 0
        return sum(self.nodes[sub][0] for sub in self._subtree(path))

    def _subtree(self, path: str) -> list[str]:
        out, todo = [], [path]
        while todo:
            current = todo.pop()
            out.append(current)
            children = self.nodes[current][2]
            if children:
                todo.extend(children)
        return out


def dive_figures(listings: Sequence[LayerListing]) -> DiveFigures:
    """dive's figures for an image made of ``listings``, bottom layer first."""
    stacked = _Stacked()
    seen: dict[str, list[int]] = {}  # path -> [visits, cumulative, smallest]
    sizes = []
    read: set[str] = set()
    for listing in listings:
        # A repeated layer is a symlink to its first copy in a ``docker save``: dive reads the link's
        # empty body as an empty layer.
        entries = () if listing.diff_id in read else listing.entries
        read.add(listing.diff_id)
        leaves, implicit = _leaves(entries)
        for entry in leaves:
            kind = entry.kind
            if kind == WHITEOUT_KIND:
                size = stacked.whiteout_size(entry.path)
            else:
                size = 0 if kind == DIR else entry.size
            item = seen.get(entry.path)
            if item is None:
                seen[entry.path] = [1, size, size]
            else:
                item[0] += 1
                item[1] += size
                if size < item[2]:
                    item[2] = size
        _stack(stacked, entries, implicit)
        sizes.append(sum(entry.size for entry in entries))
    wasted = sum(item[1] for item in seen.values() if item[0] > 1)
    smallest = sum(item[2] for item in seen.values())
    cumulative = sum(item[1] for item in seen.values())
    return DiveFigures(
        wasted_bytes=wasted,
        efficiency=smallest / cumulative if cumulative else 1.0,
        size_bytes=sum(sizes),
        user_size_bytes=sum(sizes[1:]),
    )


def _size(entry: Entry) -> int:
    return 0 if entry.kind == DIR else entry.size


def _leaves(entries: Sequence[Entry]) -> tuple[list[Entry], Sequence[str]]:
    """The entries without children in this layer's own tree, and the directories dive makes up.

    An opaque marker adds no node, but its directory is made if the tar did not list it (dive's
    ``AddPath`` creates intermediate nodes with an empty payload).
    """
    listed = {entry.path for entry in entries if entry.kind != OPAQUE_KIND}
    parents: set[str] = set()
    implicit: dict[str, None] = {}  # an ordered set
    for entry in entries:
        if entry.kind == OPAQUE_KIND and entry.path not in listed and entry.path != "/":
            implicit[entry.path] = None
        parent = entry.path.rpartition("/")[0]
        while parent and parent not in parents:  # a known parent's own parents are known too
            parents.add(parent)
            if parent not in listed:
                implicit[parent] = None
            parent = parent.rpartition("/")[0]
    leaves = [e for e in entries if e.kind != OPAQUE_KIND and e.path not in parents]
    leaves.extend(Entry(path, "c", 0, 0, "") for path in implicit if path not in parents)
    return leaves, list(implicit)


def _stack(stacked: _Stacked, entries: Sequence[Entry], implicit: Sequence[str]) -> None:
    """dive's ``Stack``: whiteouts remove, everything else replaces the payload and keeps children
    (so a file that replaces a directory keeps the directory's old children, and opaque markers are
    ignored)."""
    for path in implicit:
        stacked.add(path, 0, False)
    nodes = stacked.nodes
    for entry in entries:
        kind = entry.kind
        if kind == WHITEOUT_KIND:
            stacked.remove(entry.path)
        elif kind != OPAQUE_KIND:
            node = nodes.get(entry.path)
            if node is None:
                stacked.add(entry.path, _size(entry), kind == DIR)
            else:  # most paths of a layer exist below already (its directories): a new payload
                node[0], node[1] = _size(entry), kind == DIR
