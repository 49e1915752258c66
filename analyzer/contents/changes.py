"""Apply layer listings one over the other, as the engine does, and record what each layer changed.

The result per layer: files added, modified and deleted, bytes added, the largest changes; and for the
whole image every stored file version that is no longer visible (a :class:`Removal`: which layer
stored it, which layer hid it, how). Pure: listings in, records out; memory grows with the number of
paths, never with bytes.

Overlay semantics followed (moby ``pkg/archive`` ``UnpackLayer``): a whiteout ``.wh.x`` deletes ``x``
from the lower layers; an opaque marker hides everything the lower layers had below its directory but
keeps what the same layer wrote there (so markers are applied at the end of their layer); a
non-directory replaces whatever was at its path, a directory replaces a non-directory. A hard link
shares its target's bytes: they are wasted only when the last visible name goes. A lower file
rewritten with the same size and mtime (chmod, chown, or a hard link made to it) is a *copy-up*: the
engine duplicated the whole file into the new layer.

The filesystem is kept in arrays indexed by path id (``paths.py``), not as objects per path: a layer of
a million files costs tens of megabytes, not hundreds.
"""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from collections.abc import Collection, Sequence

from analyzer.contents.listing import DIR, FILE, HARDLINK, OPAQUE_KIND, WHITEOUT_KIND, LayerListing
from analyzer.contents.paths import MISSING, ROOT, PathTable, Resolved, resolve
from analyzer.contents.records import (
    ADDED,
    COPY_UP,
    DELETED,
    MODIFIED,
    OVERWRITTEN,
    LayerChanges,
    Removal,
    TopEntry,
    WalkResult,
)

__all__ = ["LayerChanges", "Removal", "TopEntry", "WalkResult", "walk"]


_FILE, _HARDLINK, _DIR = ord(FILE), ord(HARDLINK), ord(DIR)
_WHITEOUT, _OPAQUE = ord(WHITEOUT_KIND), ord(OPAQUE_KIND)
_ABSENT, _LEAF, _DIRECTORY = 0, 1, 2  # a path's state: not there, there without children, a directory


def walk(
    listings: Sequence[LayerListing],
    top_n: int = 10,
    watch: Collection[tuple[int, str]] = (),
    resolved: Resolved | None = None,
) -> WalkResult:
    """Apply ``listings`` bottom-up; ``watch`` names (layer, path) pairs whose removal to report.

    ``resolved``: the listings' path ids when the caller has them already (:func:`paths.resolve`).
    """
    resolved = resolved or resolve(listings)
    counts = Counter(listing.diff_id for listing in listings)
    repeated = {diff_id for diff_id, count in counts.items() if count > 1}
    state = _Walker(resolved.table, top_n, set(watch), repeated)
    for index, listing in enumerate(listings):
        state.apply_layer(index, listing, resolved.ids[index])
    removals = state.removals()
    wasted = sum(r.size for r in removals)
    return WalkResult(state.layers, removals, state.stored, state.stored - wasted, state.removed_at)


class _Walker:
    """The filesystem being built, in arrays indexed by path id: each path's state, the layer that
    last wrote it, its stored content (a *blob*, shared by hard-linked names and by the copies of a
    repeated layer, which is stored once) and its place among its directory's entries."""

    def __init__(self, table: PathTable, top_n: int, watch: set[tuple[int, str]], repeated: set[str]) -> None:
        count = len(table)
        self.table = table
        self.state = bytearray(count)
        self.state[ROOT] = _DIRECTORY
        self.node_layer = array("i", [-1]) * count
        self.node_blob = array("i", [-1]) * count
        self.seq = array("i", bytes(4 * count))
        """When the path last appeared in its directory: entries are visited in that order."""
        self._next_seq = 0
        # Blobs: a stored content, by index.
        self.blob_layer = array("i")
        self.blob_size = array("q")
        self.blob_mtime = array("d")
        self.blob_names = array("i")
        """Visible names of the content; 0: wasted."""
        self.blob_hidden: dict[int, tuple[int, int, str]] = {}
        """(path id, layer, kind) of the removal that last left a blob without a visible name."""
        self.hidden: list[int] = []
        self.top_n = top_n
        self.watch = watch
        self.watched = {node: path for _, path in watch if (node := table.lookup(path)) != MISSING}
        self.repeated = repeated
        self.shared: dict[tuple[str, int], int] = {}  # (diff_id, path id) of repeated layers' files
        self.diff_id = ""
        self.repeat = False
        self.layers: list[LayerChanges] = []
        self.removed_at: dict[tuple[int, str], int] = {}
        self.stored = 0
        self.layer = 0
        self.now = LayerChanges()
        self._order = 0
        self._floor: float = -1  # a new entry must be larger to enter this layer's top list

    def apply_layer(self, index: int, listing: LayerListing, ids: Sequence[int]) -> None:
        self.layer, self.now, self.diff_id = index, LayerChanges(), listing.diff_id
        self.repeat = listing.diff_id in self.repeated
        self._floor = -1 if self.top_n > 0 else float("inf")
        self.layers.append(self.now)
        opaque: list[int] = []
        kinds, sizes, mtimes = listing.kinds, listing.sizes, listing.mtimes
        state, parents = self.state, self.table.parent
        for entry in range(len(listing)):
            kind, node = kinds[entry], ids[entry]
            if kind == _OPAQUE:
                opaque.append(node)
                continue
            parent = parents[node]
            if state[parent] != _DIRECTORY:
                self._parent(parent)
            if kind == _FILE and not state[node] and not self.repeat:  # most entries: kept short
                size, now = sizes[entry], self.now
                self._insert(node, _LEAF, self._new_blob(size, mtimes[entry]))
                self.stored += size
                now.payload += size
                now.bytes_added += size
                now.added += 1
                if size > self._floor:
                    self._top(size, node, ADDED)
            else:
                self._apply(listing, entry, node, kind)
        for node in opaque:
            if state[node] == _DIRECTORY:
                self._hide_lower(node)

    # ------------------------------------------------------------------ entries

    def _apply(self, listing: LayerListing, entry: int, node: int, kind: int) -> None:
        existing = self.state[node]
        if kind == _WHITEOUT:
            if existing and self.node_layer[node] < self.layer:
                freed = self._remove(node, DELETED)
                self.now.deleted += 1
                self._top(freed, node, DELETED)
            return
        if kind == _DIR and existing == _DIRECTORY:
            self.node_layer[node] = self.layer  # listed again (its mtime changed): not a change of its own
            return
        replaced: list[int] = []
        if existing:
            kind_of = COPY_UP if self._is_copy_up(node, listing, entry) else OVERWRITTEN
            self._remove(node, kind_of, replaced)
            self.now.modified += 1
        else:
            self.now.added += 1
        self._put(listing, entry, node, kind, replaced)
        size = listing.docker_size(entry)
        self.now.bytes_added += size
        if kind != _DIR:
            self._top(size, node, MODIFIED if existing else ADDED)

    def _put(self, listing: LayerListing, entry: int, node: int, kind: int, replaced: list[int]) -> None:
        """Write the entry at ``node``; ``replaced``: the paths of what was there, removed only now
        (a hard link may name a path of what it replaces, as the engine still sees it)."""
        blob = -1
        if kind == _FILE:
            blob = self._blob(listing, entry, node)
        elif kind == _HARDLINK:
            target = self.table.lookup(listing.link(entry))
            if target != MISSING and self.state[target] and self.node_blob[target] >= 0:
                blob = self.node_blob[target]
                self.blob_names[blob] += 1
        for gone in replaced:
            self.state[gone] = _ABSENT
        self._insert(node, _DIRECTORY if kind == _DIR else _LEAF, blob, keep_place=bool(replaced))

    def _insert(self, node: int, state: int, blob: int, keep_place: bool = False) -> None:
        """Make ``node`` a path of the current layer; a new one goes after its directory's entries, a
        replaced one keeps its place."""
        self.state[node] = state
        self.node_layer[node] = self.layer
        self.node_blob[node] = blob
        if not keep_place:
            self._next_seq += 1
            self.seq[node] = self._next_seq

    def _new_blob(self, size: int, mtime: float) -> int:
        self.blob_layer.append(self.layer)
        self.blob_size.append(size)
        self.blob_mtime.append(mtime)
        self.blob_names.append(1)
        return len(self.blob_names) - 1

    def _blob(self, listing: LayerListing, entry: int, node: int) -> int:
        """A new stored content, or for a repeated layer the one its first copy stored (a registry
        and ``docker save`` keep a repeated layer once, so its files cost nothing more)."""
        if self.repeat:
            blob = self.shared.get((self.diff_id, node))
            if blob is not None:
                self.blob_names[blob] += 1
                return blob
        size = listing.sizes[entry]
        blob = self._new_blob(size, listing.mtimes[entry])
        self.stored += size
        self.now.payload += size
        if self.repeat:
            self.shared[(self.diff_id, node)] = blob
        return blob

    def removals(self) -> list[Removal]:
        """Each stored content without a visible name at the end, charged to its last removal."""
        out = []
        for blob in self.hidden:
            if self.blob_names[blob] == 0:
                node, layer, kind = self.blob_hidden[blob]
                size, added = self.blob_size[blob], self.blob_layer[blob]
                out.append(Removal(self.table.path(node), size, added, layer, kind))
        out.sort(key=lambda r: (r.removed_layer, r.path))
        return out

    def _top(self, size: int, node: int, change: str) -> None:
        top = self.now.top
        self._order += 1
        if len(top) < self.top_n:
            heapq.heappush(top, (size, -self._order, self.table.path(node), change))
        elif top and size > top[0][0]:  # equal sizes: the earlier entry stays
            heapq.heapreplace(top, (size, -self._order, self.table.path(node), change))
        if len(top) >= self.top_n:
            self._floor = top[0][0] if top else float("inf")  # smaller entries cannot get in

    # ------------------------------------------------------------------ tree

    def _parent(self, parent: int) -> None:
        """Make the directory ``parent`` and its own parents where missing, as the engine would (a
        file where a directory must be is replaced by the directory)."""
        for node in [*self.table.ancestors(parent), parent]:
            existing = self.state[node]
            if existing != _DIRECTORY:
                if existing:
                    self._remove(node, OVERWRITTEN)
                self._insert(node, _DIRECTORY, -1, keep_place=bool(existing))

    def _children(self, node: int) -> list[int]:
        """The entries of the directory ``node``, in the order they appeared in it."""
        state = self.state
        return sorted((c for c in self.table.children(node) if state[c]), key=self.seq.__getitem__)

    def _remove(self, node: int, kind: str, later: list[int] | None = None) -> int:
        """Hide ``node`` and everything below it; returns the bytes that became wasted. The paths
        leave the tree now, or are put in ``later`` for the caller to take out."""
        freed = 0
        todo = [node]
        state, node_blob, names = self.state, self.node_blob, self.blob_names
        while todo:
            current = todo.pop()
            if state[current] == _DIRECTORY:
                todo.extend(self._children(current))
            if later is None:
                state[current] = _ABSENT
            else:
                later.append(current)
            if self.watched and current in self.watched:
                self._note_watched(current, self.watched[current])
            blob = node_blob[current]
            if blob < 0:
                continue
            names[blob] -= 1
            if names[blob] == 0:
                if blob not in self.blob_hidden:
                    self.hidden.append(blob)
                self.blob_hidden[blob] = (current, self.layer, kind)
                freed += self.blob_size[blob]
        return freed

    def _note_watched(self, node: int, path: str) -> None:
        for layer in range(self.node_layer[node], -1, -1):
            if (layer, path) in self.watch and (layer, path) not in self.removed_at:
                self.removed_at[(layer, path)] = self.layer
                return

    def _hide_lower(self, directory: int) -> None:
        """An opaque marker: drop what lower layers put below ``directory``, keep this layer's entries."""
        for child in self._children(directory):
            if self.node_layer[child] < self.layer:
                freed = self._remove(child, DELETED)
                self.now.deleted += 1
                self._top(freed, child, DELETED)
            elif self.state[child] == _DIRECTORY:
                self._hide_lower(child)

    def _is_copy_up(self, node: int, listing: LayerListing, entry: int) -> bool:
        """The same bytes written again by a metadata change: same size and mtime (chmod and chown
        keep the mtime; a rewrite of the content almost never does)."""
        blob = self.node_blob[node]
        return (
            listing.kinds[entry] == _FILE
            and blob >= 0
            and self.state[node] == _LEAF
            and self.blob_size[blob] == listing.sizes[entry]
            and self.blob_mtime[blob] == listing.mtimes[entry]
        )
