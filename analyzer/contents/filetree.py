"""The file browser's data (``--contents``, HTML views): every layer's changes and the aggregated
filesystem with the versions a later layer hid, capped so a page stays small on big images.

Layers are applied bottom-up with the overlay rules ``changes.py`` follows (a whiteout deletes a path
and what is below it, an opaque marker hides what lower layers put in its directory, a new entry replaces
whatever was at its path). Unlike ``changes.walk`` this keeps every changed path, not only the largest;
then each layer keeps its :data:`LAYER_CAP` largest changes and the aggregated view its
:data:`FINAL_CAP` largest paths, hidden versions first (they are what the browser is for).
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Sequence

from analyzer.contents.listing import DIR, OPAQUE_KIND, WHITEOUT_KIND, LayerListing
from analyzer.contents.paths import ROOT, Resolved, resolve
from analyzer.model import FileTree, FinalEntry, LayerTree, StoredVersion, TreeEntry

LAYER_CAP = 2000
"""Changes shown per layer (the largest); the rest are counted and summed."""
FINAL_CAP = 5000
"""Paths shown in the aggregated view."""

ADDED, MODIFIED, DELETED = "added", "modified", "deleted"


_DIR, _WHITEOUT, _OPAQUE = ord(DIR), ord(WHITEOUT_KIND), ord(OPAQUE_KIND)
_CHANGES = (ADDED, MODIFIED, DELETED)
_HOWS = ("", "overwritten", DELETED)
_OVERWRITTEN, _DELETED = 1, 2  # indexes in _CHANGES and _HOWS


def file_tree(
    listings: Sequence[LayerListing],
    layer_cap: int = LAYER_CAP,
    final_cap: int = FINAL_CAP,
    resolved: Resolved | None = None,
) -> FileTree:
    """The browser's data for ``listings`` (the final image's layers, bottom first).

    ``resolved``: the listings' path ids when the caller has them already (:func:`paths.resolve`).
    """
    resolved = resolved or resolve(listings)
    walker = _Tree(resolved)
    capped = tuple(
        walker.apply(index, listing, ids).capped(index, walker, listing, layer_cap)
        for index, (listing, ids) in enumerate(zip(listings, resolved.ids, strict=True))
    )
    final, total = walker.final(final_cap)
    return FileTree(capped, final, total, layer_cap, final_cap)


class _Changes:
    """What one layer changed, in columns: path id, kind, change, size, and the entry (for its link)."""

    def __init__(self) -> None:
        self.node = array("i")
        self.kind = bytearray()
        self.change = bytearray()
        self.size = array("q")
        self.entry = array("i")  # -1: no link (whiteouts and opaque markers)

    def add(self, node: int, kind: int, change: int, size: int, entry: int) -> None:
        self.node.append(node)
        self.kind.append(kind)
        self.change.append(change)
        self.size.append(size)
        self.entry.append(entry)

    def capped(self, index: int, tree: _Tree, listing: LayerListing, cap: int) -> LayerTree:
        """The ``cap`` largest changes, deletions first, by path among equals."""
        path, change, size = tree.table.path, self.change, self.size
        kept = heapq.nsmallest(
            cap,
            range(len(self.node)),
            key=lambda k: (change[k] != _DELETED, -size[k], path(self.node[k])),
        )
        entries = [
            TreeEntry(
                path(self.node[k]),
                chr(self.kind[k]),
                _CHANGES[change[k]],
                size[k],
                listing.link(self.entry[k]) if self.entry[k] >= 0 else "",
            )
            for k in kept
        ]
        omitted = sum(size) - sum(e.size for e in entries)
        return LayerTree(index, tuple(sorted(entries, key=lambda e: e.path)), len(self.node), omitted)


class _Tree:
    """The filesystem being built, in arrays indexed by path id.

    Per path: whether it is visible, whether its directory lists it (almost always the same; a file
    that replaced a directory is visible but no longer listed, and survives its parent's removal),
    its kind, the entry that wrote it (for its link) and its latest stored version. Versions are
    arrays too, each pointing to the one it hid.
    """

    def __init__(self, resolved: Resolved) -> None:
        table = self.table = resolved.table
        self.listings = resolved.listings
        count = len(table)
        self.visible = bytearray(count)
        self.linked = bytearray(count)
        self.kind = bytearray(count)
        self.source_layer = array("i", [-1]) * count
        self.source_entry = array("i", [-1]) * count
        self.head = array("i", [-1]) * count
        # Versions: (layer, size), and once hidden the layer that hid it and how; prev: the older one.
        self.v_layer = array("i")
        self.v_size = array("q")
        self.v_hidden = array("i")
        self.v_how = bytearray()
        self.v_prev = array("i")
        # Gone: paths removed while non-directories, with what they were then (in removal order).
        self.gone_node = array("i")
        self.gone_head = array("i")
        self.gone_kind = bytearray()
        self.gone_layer = array("i")
        self.gone_entry = array("i")
        self.root_marker = table.find(ROOT, b"")  # an opaque marker in the root directory: "/"

    def apply(self, index: int, listing: LayerListing, ids: Sequence[int]) -> _Changes:
        out = _Changes()
        opaque = []
        kinds = listing.kinds
        for entry in range(len(listing)):
            kind, node = kinds[entry], ids[entry]
            if kind == _OPAQUE:
                opaque.append(node)
            elif kind == _WHITEOUT:
                if self.visible[node]:
                    freed = self._remove(node, index, _DELETED)
                    out.add(node, kind, _DELETED, freed, -1)
            else:
                change = self._put(listing, index, entry, node, kind)
                if change is not None:
                    out.add(node, kind, change, listing.docker_size(entry), entry)
        for node in opaque:
            directory = ROOT if node == self.root_marker else node
            names = sorted((self.table.name(c), c) for c in self.table.children(directory) if self.linked[c])
            freed = sum(self._remove(c, index, _DELETED) for _, c in names if self._layer_of(c) < index)
            out.add(node, _OPAQUE, _DELETED, freed, -1)
        return out

    def _layer_of(self, node: int) -> int:
        return self.v_layer[self.head[node]] if self.visible[node] else -1

    def _version(self, layer: int, size: int, prev: int) -> int:
        self.v_layer.append(layer)
        self.v_size.append(size)
        self.v_hidden.append(-1)
        self.v_how.append(0)
        self.v_prev.append(prev)
        return len(self.v_prev) - 1

    def _show(self, node: int, kind: int, layer: int, entry: int, head: int) -> None:
        self.visible[node] = 1
        self.kind[node] = kind
        self.source_layer[node], self.source_entry[node] = layer, entry
        self.head[node] = head

    def _put(self, listing: LayerListing, index: int, entry: int, node: int, kind: int) -> int | None:
        self._parents(node, index)
        existing = self.visible[node]
        if existing and self.kind[node] == _DIR and kind == _DIR:
            return None  # listed again (its mtime changed): not a change of its own
        prev = -1
        change = 0
        if existing:
            change = 1
            if self.kind[node] == _DIR:
                self._remove(node, index, _OVERWRITTEN)
            else:
                prev = self.head[node]
                self.v_hidden[prev], self.v_how[prev] = index, _OVERWRITTEN
        self._show(node, kind, index, entry, self._version(index, listing.docker_size(entry), prev))
        return change

    def _parents(self, node: int, index: int) -> None:
        parent = self.table.parent[node]
        self.linked[node] = 1
        if parent != ROOT and not self.visible[parent]:
            self._parents(parent, index)
            self._show(parent, _DIR, index, -1, self._version(index, 0, -1))

    def _remove(self, node: int, index: int, how: int) -> int:
        """Hide ``node`` and everything below it; returns the bytes that stay stored but hidden."""
        was_visible = self.visible[node]
        self.visible[node] = 0
        self.linked[node] = 0
        if not was_visible:
            return 0
        freed = 0
        names = sorted((self.table.name(c), c) for c in self.table.children(node) if self.linked[c])
        for _, child in names:
            self.linked[child] = 0  # the directory's listing goes with it
        for _, child in names:
            freed += self._remove(child, index, how)
        head = self.head[node]
        self.v_hidden[head], self.v_how[head] = index, how
        if self.kind[node] != _DIR:
            self.gone_node.append(node)
            self.gone_head.append(head)
            self.gone_kind.append(self.kind[node])
            self.gone_layer.append(self.source_layer[node])
            self.gone_entry.append(self.source_entry[node])
            freed += self.v_size[head]
        return freed

    def final(self, cap: int) -> tuple[tuple[FinalEntry, ...], int]:
        """The ``cap`` first paths of the aggregated view (hidden versions first, then the largest),
        and how many there are."""
        visible, kind = self.visible, self.kind
        shown = array("i", (node for node in range(len(visible)) if visible[node] and kind[node] != _DIR))
        path = self.table.path

        def key(item: int) -> tuple[bool, int, str]:
            if item < len(shown):
                node = shown[item]
                return True, -self._total(self.head[node]), path(node)
            gone = item - len(shown)
            return False, -self._total(self.gone_head[gone]), path(self.gone_node[gone])

        total = len(shown) + len(self.gone_node)
        kept = heapq.nsmallest(cap, range(total), key=key)
        return tuple(self._entry(item, shown) for item in kept), total

    def _total(self, head: int) -> int:
        total = 0
        while head >= 0:
            total += self.v_size[head]
            head = self.v_prev[head]
        return total

    def _entry(self, item: int, shown: Sequence[int]) -> FinalEntry:
        if item < len(shown):
            node = shown[item]
            head, kind, layer, entry, visible = (
                self.head[node],
                self.kind[node],
                self.source_layer[node],
                self.source_entry[node],
                True,
            )
        else:
            gone = item - len(shown)
            node, head, kind = self.gone_node[gone], self.gone_head[gone], self.gone_kind[gone]
            layer, entry, visible = self.gone_layer[gone], self.gone_entry[gone], False
        versions = []
        while head >= 0:
            hidden = self.v_hidden[head]
            how = _HOWS[self.v_how[head]]
            versions.append(
                StoredVersion(self.v_layer[head], self.v_size[head], hidden if hidden >= 0 else None, how)
            )
            head = self.v_prev[head]
        link = self.listings[layer].link(entry) if entry >= 0 else ""
        return FinalEntry(self.table.path(node), chr(kind), tuple(reversed(versions)), visible, link)
