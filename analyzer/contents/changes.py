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
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Collection, Iterator, Sequence

from analyzer.contents.listing import (
    DIR,
    FILE,
    HARDLINK,
    OPAQUE_KIND,
    WHITEOUT_KIND,
    Entry,
    LayerListing,
    docker_size,
)
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


class _Blob:
    """A stored file content, shared by the names hard-linked to it (and by the copies of a repeated
    layer, which is stored once)."""

    __slots__ = ("hidden", "layer", "mtime", "names", "size")

    def __init__(self, layer: int, size: int, mtime: float) -> None:
        self.layer, self.size, self.mtime, self.names = layer, size, mtime, 1
        self.hidden: tuple[str, int, str] | None = None
        """(path, layer, kind) of the removal that last left it without a visible name."""


class _Node:
    __slots__ = ("blob", "children", "layer")

    def __init__(self, layer: int, children: dict[str, _Node] | None, blob: _Blob | None = None) -> None:
        self.layer, self.children, self.blob = layer, children, blob


def walk(
    listings: Sequence[LayerListing], top_n: int = 10, watch: Collection[tuple[int, str]] = ()
) -> WalkResult:
    """Apply ``listings`` bottom-up; ``watch`` names (layer, path) pairs whose removal to report."""
    counts = Counter(listing.diff_id for listing in listings)
    repeated = {diff_id for diff_id, count in counts.items() if count > 1}
    state = _Walker(top_n, set(watch), repeated)
    for index, listing in enumerate(listings):
        state.apply_layer(index, listing)
    removals = state.removals()
    wasted = sum(r.size for r in removals)
    return WalkResult(state.layers, removals, state.stored, state.stored - wasted, state.removed_at)


class _Walker:
    def __init__(self, top_n: int, watch: set[tuple[int, str]], repeated: set[str]) -> None:
        self.root = _Node(-1, {})
        self.top_n = top_n
        self.watch = watch
        self.watched_paths = {path for _, path in watch}
        self.repeated = repeated
        self.shared: dict[tuple[str, str], _Blob] = {}  # (diff_id, path) of repeated layers' files
        self.diff_id = ""
        self.repeat = False
        self.layers: list[LayerChanges] = []
        self.hidden: list[_Blob] = []
        self.removed_at: dict[tuple[int, str], int] = {}
        self.stored = 0
        self.layer = 0
        self.now = LayerChanges()
        self._order = 0
        self._parent_cache: tuple[str, dict[str, _Node]] | None = None
        self._floor: float = -1  # a new entry must be larger to enter this layer's top list

    def apply_layer(self, index: int, listing: LayerListing) -> None:
        self.layer, self.now, self.diff_id = index, LayerChanges(), listing.diff_id
        self.repeat = listing.diff_id in self.repeated
        self._floor = -1 if self.top_n > 0 else float("inf")
        self.layers.append(self.now)
        self._parent_cache = None
        opaque: list[str] = []
        for entry in listing.entries:
            if entry.kind == OPAQUE_KIND:
                opaque.append(entry.path)
            else:
                self._apply(entry)
        for path in opaque:
            node = self._lookup(path)
            if node is not None and node.children is not None:
                self._hide_lower(node, path)

    # ------------------------------------------------------------------ entries

    def _apply(self, entry: Entry) -> None:
        path, kind = entry.path, entry.kind
        parent_path, _, name = path.rpartition("/")
        children = self._parent(parent_path)
        existing = children.get(name)
        if existing is None and kind == FILE and not self.repeat:  # most entries: kept short
            size, now = entry.size, self.now
            children[name] = _Node(self.layer, None, _Blob(self.layer, size, entry.mtime))
            self.stored += size
            now.payload += size
            now.bytes_added += size
            now.added += 1
            if size > self._floor:
                self._top(size, path, ADDED)
            return
        if kind == WHITEOUT_KIND:
            if existing is not None and existing.layer < self.layer:
                del children[name]
                freed = self._remove(existing, path, DELETED)
                self.now.deleted += 1
                self._top(freed, path, DELETED)
            return
        if kind == DIR and existing is not None and existing.children is not None:
            existing.layer = self.layer  # listed again (its mtime changed): not a change of its own
            return
        if existing is not None:
            self._remove(existing, path, COPY_UP if _is_copy_up(existing, entry) else OVERWRITTEN)
            self.now.modified += 1
        else:
            self.now.added += 1
        children[name] = self._node_for(entry)
        size = docker_size(entry)
        self.now.bytes_added += size
        if kind != DIR:
            self._top(size, path, MODIFIED if existing is not None else ADDED)

    def _node_for(self, entry: Entry) -> _Node:
        if entry.kind == DIR:
            return _Node(self.layer, {})
        blob = None
        if entry.kind == FILE:
            blob = self._blob(entry)
        elif entry.kind == HARDLINK:
            target = self._lookup(entry.link)
            if target is not None and target.blob is not None:
                blob = target.blob
                blob.names += 1
        return _Node(self.layer, None, blob)

    def _blob(self, entry: Entry) -> _Blob:
        """A new stored content, or for a repeated layer the one its first copy stored (a registry
        and ``docker save`` keep a repeated layer once, so its files cost nothing more)."""
        if self.repeat:
            blob = self.shared.get((self.diff_id, entry.path))
            if blob is not None:
                blob.names += 1
                return blob
        blob = _Blob(self.layer, entry.size, entry.mtime)
        self.stored += entry.size
        self.now.payload += entry.size
        if self.repeat:
            self.shared[(self.diff_id, entry.path)] = blob
        return blob

    def removals(self) -> list[Removal]:
        """Each stored content without a visible name at the end, charged to its last removal."""
        out = [
            Removal(blob.hidden[0], blob.size, blob.layer, blob.hidden[1], blob.hidden[2])
            for blob in self.hidden
            if blob.names == 0 and blob.hidden is not None
        ]
        out.sort(key=lambda r: (r.removed_layer, r.path))
        return out

    def _top(self, size: int, path: str, change: str) -> None:
        top = self.now.top
        self._order += 1
        if len(top) < self.top_n:
            heapq.heappush(top, (size, -self._order, path, change))
        elif top and size > top[0][0]:  # equal sizes: the earlier entry stays
            heapq.heapreplace(top, (size, -self._order, path, change))
        if len(top) >= self.top_n:
            self._floor = top[0][0] if top else float("inf")  # smaller entries cannot get in

    # ------------------------------------------------------------------ tree

    def _parent(self, path: str) -> dict[str, _Node]:
        """The entries of the directory at ``path`` (``""`` is the root), made when missing, as the
        engine would."""
        cached = self._parent_cache
        if cached is not None and cached[0] == path:
            return cached[1]
        node = self.root
        walked = ""
        for name in path.split("/")[1:]:
            walked = f"{walked}/{name}"
            assert node.children is not None
            child = node.children.get(name)
            if child is None or child.children is None:
                if child is not None:  # a file where a directory must be: the directory replaces it
                    self._remove(child, walked, OVERWRITTEN)
                child = node.children[name] = _Node(self.layer, {})
            node = child
        assert node.children is not None
        self._parent_cache = (path, node.children)
        return node.children

    def _lookup(self, path: str) -> _Node | None:
        node: _Node | None = self.root
        for name in path.split("/")[1:]:
            if node is None or node.children is None:
                return None
            node = node.children.get(name)
        return node

    def _remove(self, node: _Node, path: str, kind: str) -> int:
        """Hide ``node`` and everything below it; returns the bytes that became wasted."""
        self._parent_cache = None
        freed = 0
        for sub_path, sub in _subtree(node, path):
            if self.watched_paths and sub_path in self.watched_paths:
                self._note_watched(sub, sub_path)
            blob = sub.blob
            if blob is None:
                continue
            blob.names -= 1
            if blob.names == 0:
                if blob.hidden is None:
                    self.hidden.append(blob)
                blob.hidden = (sub_path, self.layer, kind)
                freed += blob.size
        return freed

    def _note_watched(self, node: _Node, path: str) -> None:
        for layer in range(node.layer, -1, -1):
            if (layer, path) in self.watch and (layer, path) not in self.removed_at:
                self.removed_at[(layer, path)] = self.layer
                return

    def _hide_lower(self, directory: _Node, path: str) -> None:
        """An opaque marker: drop what lower layers put below ``directory``, keep this layer's entries."""
        assert directory.children is not None
        for name, child in list(directory.children.items()):
            child_path = f"{path.rstrip('/')}/{name}"
            if child.layer < self.layer:
                del directory.children[name]
                freed = self._remove(child, child_path, DELETED)
                self.now.deleted += 1
                self._top(freed, child_path, DELETED)
            elif child.children is not None:
                self._hide_lower(child, child_path)


def _subtree(node: _Node, path: str) -> Iterator[tuple[str, _Node]]:
    todo = [(path, node)]
    while todo:
        current_path, current = todo.pop()
        yield current_path, current
        if current.children:
            todo.extend((f"{current_path}/{name}", child) for name, child in current.children.items())


def _is_copy_up(existing: _Node, entry: Entry) -> bool:
    """The same bytes written again by a metadata change: same size and mtime (chmod and chown keep
    the mtime; a rewrite of the content almost never does)."""
    blob = existing.blob
    return (
        entry.kind == FILE
        and blob is not None
        and existing.children is None
        and blob.size == entry.size
        and blob.mtime == entry.mtime
    )
