"""The file browser's data (``--contents``, HTML views): every layer's changes and the aggregated
filesystem with the versions a later layer hid, capped so a page stays small on big images.

Layers are applied bottom-up with the overlay rules ``changes.py`` follows (a whiteout deletes a path
and what is below it, an opaque marker hides what lower layers put in its directory, a new entry replaces
whatever was at its path). Unlike ``changes.walk`` this keeps every changed path, not only the largest;
then each layer keeps its :data:`LAYER_CAP` largest changes and the aggregated view its
:data:`FINAL_CAP` largest paths, hidden versions first (they are what the browser is for).
"""

from __future__ import annotations

from collections.abc import Sequence

from analyzer.contents.listing import DIR, OPAQUE_KIND, WHITEOUT_KIND, Entry, LayerListing, docker_size
from analyzer.model import FileTree, FinalEntry, LayerTree, StoredVersion, TreeEntry

LAYER_CAP = 2000
"""Changes shown per layer (the largest); the rest are counted and summed."""
FINAL_CAP = 5000
"""Paths shown in the aggregated view."""

ADDED, MODIFIED, DELETED = "added", "modified", "deleted"


class _Version:
    __slots__ = ("hidden_by", "how", "layer", "size")

    def __init__(self, layer: int, size: int) -> None:
        self.layer, self.size = layer, size
        self.hidden_by: int | None = None
        self.how = ""

    def hide(self, layer: int, how: str) -> None:
        self.hidden_by, self.how = layer, how


class _Path:
    """A path of the filesystem being built: its kind, link and every version stored for it."""

    __slots__ = ("kind", "link", "versions")

    def __init__(self, kind: str, link: str, versions: list[_Version]) -> None:
        self.kind, self.link, self.versions = kind, link, versions


def file_tree(
    listings: Sequence[LayerListing], layer_cap: int = LAYER_CAP, final_cap: int = FINAL_CAP
) -> FileTree:
    """The browser's data for ``listings`` (the final image's layers, bottom first)."""
    walker = _Tree()
    layers = [walker.apply(index, listing) for index, listing in enumerate(listings)]
    capped = tuple(_cap_layer(index, changes, layer_cap) for index, changes in enumerate(layers))
    final = walker.final()
    final.sort(key=lambda e: (e.visible, -sum(v.size for v in e.versions), e.path))
    return FileTree(capped, tuple(final[:final_cap]), len(final), layer_cap, final_cap)


def _cap_layer(index: int, changes: list[TreeEntry], cap: int) -> LayerTree:
    ordered = sorted(changes, key=lambda e: (e.change != DELETED, -e.size, e.path))
    kept = ordered[:cap]
    omitted = sum(e.size for e in ordered[cap:])
    return LayerTree(index, tuple(sorted(kept, key=lambda e: e.path)), len(changes), omitted)


class _Tree:
    def __init__(self) -> None:
        self.visible: dict[str, _Path] = {}
        self.children: dict[str, set[str]] = {"": set()}
        self.gone: list[FinalEntry] = []

    def apply(self, index: int, listing: LayerListing) -> list[TreeEntry]:
        out: list[TreeEntry] = []
        opaque = []
        for entry in listing.entries:
            if entry.kind == OPAQUE_KIND:
                opaque.append(entry.path)
            elif entry.kind == WHITEOUT_KIND:
                if entry.path in self.visible:
                    freed = self._remove(entry.path, index, DELETED)
                    out.append(TreeEntry(entry.path, WHITEOUT_KIND, DELETED, freed))
            else:
                change = self._put(entry, index)
                if change is not None:
                    out.append(TreeEntry(entry.path, entry.kind, change, docker_size(entry), entry.link))
        for path in opaque:
            freed = sum(
                self._remove(f"{path.rstrip('/')}/{name}", index, DELETED)
                for name in sorted(self.children.get(path.rstrip("/"), set()))
                if self._layer_of(f"{path.rstrip('/')}/{name}") < index
            )
            out.append(TreeEntry(path, OPAQUE_KIND, DELETED, freed))
        return out

    def _layer_of(self, path: str) -> int:
        node = self.visible.get(path)
        return node.versions[-1].layer if node else -1

    def _put(self, entry: Entry, index: int) -> str | None:
        path = entry.path
        self._parents(path, index)
        existing = self.visible.get(path)
        if existing is not None and existing.kind == DIR and entry.kind == DIR:
            return None  # listed again (its mtime changed): not a change of its own
        versions: list[_Version] = []
        change = ADDED
        if existing is not None:
            change = MODIFIED
            if existing.kind == DIR:
                self._remove(path, index, "overwritten")
            else:
                versions = existing.versions
                versions[-1].hide(index, "overwritten")
        versions.append(_Version(index, docker_size(entry)))
        self.visible[path] = _Path(entry.kind, entry.link, versions)
        if entry.kind == DIR:
            self.children.setdefault(path, set())
        return change

    def _parents(self, path: str, index: int) -> None:
        parent, _, name = path.rpartition("/")
        self.children.setdefault(parent, set()).add(name)
        if parent and parent not in self.visible:
            self._parents(parent, index)
            self.visible[parent] = _Path(DIR, "", [_Version(index, 0)])
            self.children.setdefault(parent, set())

    def _remove(self, path: str, index: int, how: str) -> int:
        """Hide ``path`` and everything below it; returns the bytes that stay stored but hidden."""
        node = self.visible.pop(path, None)
        parent, _, name = path.rpartition("/")
        self.children.get(parent, set()).discard(name)
        if node is None:
            return 0
        freed = 0
        for child in sorted(self.children.pop(path, set())):
            freed += self._remove(f"{path}/{child}", index, how)
        node.versions[-1].hide(index, how)
        if node.kind != DIR:
            self.gone.append(_final(path, node, visible=False))
            freed += node.versions[-1].size
        return freed

    def final(self) -> list[FinalEntry]:
        shown = [_final(path, node, True) for path, node in self.visible.items() if node.kind != DIR]
        return shown + self.gone


def _final(path: str, node: _Path, visible: bool) -> FinalEntry:
    versions = tuple(StoredVersion(v.layer, v.size, v.hidden_by, v.how) for v in node.versions)
    return FinalEntry(path, node.kind, versions, visible, node.link)
