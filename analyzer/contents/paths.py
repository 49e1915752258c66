"""Every path of an image's layers as a small integer, so the applied filesystem is a few arrays.

The analyses (``changes``, ``filetree``, ``dive``) apply layers one over the other and keep state per
path. Keyed by path strings that state costs a string, a dict slot and an object per path: some 300
bytes each, 300 MB for a million files. Here a path is an id (the root is 0) in a :class:`PathTable`:
its parent id, its last name (bytes in one shared buffer) and its place in a hash table, all in
``array`` columns, about 30 bytes per path; the analyses keep their state in arrays indexed by id.

:func:`resolve` gives each listing's entries their ids, once, for all the analyses of one run.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from analyzer.contents.listing import LayerListing

ROOT = 0
MISSING = _EMPTY = -1
_DIR_CACHE = 1 << 16  # directory paths remembered by path(); cleared when full


class PathTable:
    """Paths as ids: ``(parent id, name)`` pairs in an open-addressing hash table over arrays.

    Names are compared as UTF-8 bytes (``surrogatepass``, as listings store them), so two paths are
    the same id exactly when their strings are equal.
    """

    def __init__(self) -> None:
        self.parent = array("i", [_EMPTY])
        """Per id, its parent's id (-1 for the root)."""
        self._bounds = array("Q", [0, 0])  # id's name is _names[_bounds[id] : _bounds[id + 1]]
        self._names = bytearray()
        self._first_child: array[int] | None = None  # made when children() is first asked
        self._next_sibling = array("i")
        self._slots = array("i", [_EMPTY]) * 1024
        self._mask = 1023
        self._dirs: dict[int, str] = {ROOT: ""}

    def __len__(self) -> int:
        return len(self.parent)

    def child(self, parent: int, name: bytes) -> int:
        """The id of ``name`` in ``parent``, added when new."""
        slots, mask, parents = self._slots, self._mask, self.parent
        slot = hash((parent, name)) & mask
        while True:
            found = slots[slot]
            if found == _EMPTY:
                break
            if parents[found] == parent and self.name_bytes(found) == name:
                return found
            slot = (slot + 1) & mask
        new = len(parents)
        slots[slot] = new
        parents.append(parent)
        self._names += name
        self._bounds.append(len(self._names))
        self._first_child = None
        if 2 * len(parents) > mask:
            self._grow()
        return new

    def find(self, parent: int, name: bytes) -> int:
        """The id of ``name`` in ``parent``, or -1 when no listing has that path."""
        slots, mask = self._slots, self._mask
        slot = hash((parent, name)) & mask
        while True:
            found = slots[slot]
            if found == _EMPTY:
                return _EMPTY
            if self.parent[found] == parent and self.name_bytes(found) == name:
                return found
            slot = (slot + 1) & mask

    def lookup(self, path: str) -> int:
        """The id of an absolute path (``""`` is the root), or -1 when no listing has it."""
        node = ROOT
        if path:
            for name in path.split("/")[1:]:
                node = self.find(node, name.encode("utf-8", "surrogatepass"))
                if node == _EMPTY:
                    break
        return node

    def _grow(self) -> None:
        size = 2 * (self._mask + 1)
        mask = size - 1
        slots = array("i", [_EMPTY]) * size
        for node in range(1, len(self.parent)):  # hashes are made again: keeping them costs 8 bytes a path
            slot = hash((self.parent[node], self.name_bytes(node))) & mask
            while slots[slot] != _EMPTY:
                slot = (slot + 1) & mask
            slots[slot] = node
        self._slots, self._mask = slots, mask

    def directory(self, path: str) -> int:
        """The id of a directory path (``""`` is the root; ``"/usr/bin"``), its parents added too."""
        node = ROOT
        if path:
            for name in path.split("/")[1:]:
                node = self.child(node, name.encode("utf-8", "surrogatepass"))
        return node

    def name_bytes(self, node: int) -> bytes:
        return bytes(self._names[self._bounds[node] : self._bounds[node + 1]])

    def name(self, node: int) -> str:
        return self._names[self._bounds[node] : self._bounds[node + 1]].decode("utf-8", "surrogatepass")

    def path(self, node: int) -> str:
        """``/usr/bin/env`` (the root is ``""``)."""
        if node == ROOT:
            return ""
        parent = self.parent[node]
        prefix = self._dirs.get(parent)
        if prefix is None:
            prefix = self.path(parent)
            if len(self._dirs) >= _DIR_CACHE:
                self._dirs = {ROOT: ""}
            self._dirs[parent] = prefix
        return f"{prefix}/{self.name(node)}"

    def children(self, node: int) -> Iterator[int]:
        """Every id whose parent is ``node``, present or not in any state (newest first)."""
        if self._first_child is None:
            self._link_children()
        assert self._first_child is not None
        sibling, first = self._next_sibling, self._first_child
        child = first[node]
        while child != _EMPTY:
            yield child
            child = sibling[child]

    def _link_children(self) -> None:
        """Each id's first child and next sibling, made in one pass when a walk first needs to visit a
        directory's entries (most images never remove a directory: then they are never made)."""
        count = len(self.parent)
        first = array("i", [_EMPTY]) * count
        sibling = array("i", [_EMPTY]) * count
        parents = self.parent
        for node in range(1, count):
            parent = parents[node]
            sibling[node] = first[parent]
            first[parent] = node
        self._first_child, self._next_sibling = first, sibling

    def ancestors(self, node: int) -> list[int]:
        """``node``'s parents, the root first, without ``node`` itself."""
        out = []
        parent = self.parent[node]
        while parent != _EMPTY:
            out.append(parent)
            parent = self.parent[parent]
        out.reverse()
        return out


@dataclass
class Resolved:
    """An image's listings with the id of every entry's path (``ids[layer][entry]``)."""

    table: PathTable
    listings: Sequence[LayerListing]
    ids: list[array[int]]


def resolve(listings: Sequence[LayerListing], table: PathTable | None = None) -> Resolved:
    """Give every entry of ``listings`` its path id (a listing repeated in the image is done once)."""
    table = table or PathTable()
    done: dict[int, array[int]] = {}
    ids = []
    for listing in listings:
        known = done.get(id(listing))
        if known is None:
            known = done[id(listing)] = _resolve_one(table, listing)
        ids.append(known)
    return Resolved(table, listings, ids)


def _resolve_one(table: PathTable, listing: LayerListing) -> array[int]:
    dirs = [table.directory(path) for path in listing.dirs]
    parents = listing.parents
    name_bytes, child = listing.name_bytes, table.child
    out = array("i", bytes(4 * len(listing)))
    for index in range(len(listing)):
        out[index] = child(dirs[parents[index]], name_bytes(index))
    return out
