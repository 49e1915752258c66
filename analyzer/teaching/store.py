"""The engine's layer store as one tree (pure): every image's layer stack, shared ancestors once.

A layer is stored per *stack*, named by its chain ID (the diff_id of every layer from the bottom up to
it, hashed together): two images built ``FROM`` the same base share the base's chain IDs, so the base
is stored once, however many images use it. The store is therefore a tree: a node per chain ID, its
parent the chain ID below, each image a leaf hanging from its top layer. ``docker images`` shows each
image's full size, counting a shared base once per image; the disk holds every node once (what
``docker system df`` reports as the images' total). The difference is what sharing saves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analyzer.i18n import N_
from analyzer.image.config import chain_ids
from analyzer.image.layerstore import StoreCheck

EXPLAIN = N_(
    "Each node is a stack of layers, named by its chain ID; its parent is the stack below. An image is "
    "a path from a root to its top node, so images built on the same base share that path and the disk "
    "holds it once. 'alone' is what removing only that image would free; 'shared' is held with others. "
    "docker images shows each image's whole size (shared layers counted again for every image); the "
    "store total counts each node once — docker system df's figure."
)


@dataclass(frozen=True)
class StoreImage:
    """An image as the tree needs it."""

    id: str
    tags: tuple[str, ...]
    diff_ids: tuple[str, ...]
    sizes: tuple[int, ...]
    """Per layer, the bytes the layer store holds for it (``docker history`` size)."""


@dataclass(frozen=True)
class Node:
    chain_id: str
    diff_id: str
    parent: str | None
    depth: int
    size: int
    images: tuple[str, ...]
    """Ids of the images whose stack includes this node (they share it)."""
    tops: tuple[str, ...]
    """Ids of the images whose top layer this is (the leaves hanging here)."""
    children: tuple[str, ...]


@dataclass(frozen=True)
class ImageShare:
    id: str
    tags: tuple[str, ...]
    size: int
    """The image's full size (every layer of its stack)."""
    alone: int
    """Bytes of nodes no other image uses."""
    shared: int
    top: str | None
    """Its top chain ID (None: an image without layers)."""


@dataclass(frozen=True)
class StoreTree:
    nodes: dict[str, Node]
    """By chain ID, in tree order (parents before children)."""
    roots: tuple[str, ...]
    images: tuple[ImageShare, ...]

    @property
    def store_total(self) -> int:
        """What the disk holds: every node once."""
        return sum(node.size for node in self.nodes.values())

    @property
    def images_total(self) -> int:
        """The sum of the images' sizes, as ``docker images`` lists them."""
        return sum(image.size for image in self.images)

    @property
    def saved(self) -> int:
        return self.images_total - self.store_total


def build_tree(images: Sequence[StoreImage]) -> StoreTree:
    """One tree for all ``images``; a node's size is taken from the first image that has it."""
    users: dict[str, list[str]] = {}
    tops: dict[str, list[str]] = {}
    info: dict[str, tuple[str, str | None, int, int]] = {}
    for image in images:
        chain = chain_ids(list(image.diff_ids))
        for depth, (chain_id, diff_id, size) in enumerate(
            zip(chain, image.diff_ids, image.sizes, strict=True)
        ):
            info.setdefault(chain_id, (diff_id, chain[depth - 1] if depth else None, depth, size))
            users.setdefault(chain_id, [])
            if image.id not in users[chain_id]:
                users[chain_id].append(image.id)
        if chain:
            tops.setdefault(chain[-1], []).append(image.id)
    children: dict[str | None, list[str]] = {}
    for chain_id, (_, parent, _, _) in info.items():
        children.setdefault(parent, []).append(chain_id)
    nodes: dict[str, Node] = {}
    stack = sorted(children.get(None, []), key=lambda c: (-len(users[c]), c))
    _walk(stack, info, users, tops, children, nodes)
    shares = tuple(_share(image, users) for image in images)
    return StoreTree(nodes, tuple(sorted(children.get(None, []), key=lambda c: (-len(users[c]), c))), shares)


def _walk(
    stack: list[str],
    info: dict[str, tuple[str, str | None, int, int]],
    users: dict[str, list[str]],
    tops: dict[str, list[str]],
    children: dict[str | None, list[str]],
    nodes: dict[str, Node],
) -> None:
    """Depth-first, most shared first: parents before children."""
    todo = list(reversed(stack))
    while todo:
        chain_id = todo.pop()
        diff_id, parent, depth, size = info[chain_id]
        kids = sorted(children.get(chain_id, []), key=lambda c: (-len(users[c]), c))
        nodes[chain_id] = Node(
            chain_id,
            diff_id,
            parent,
            depth,
            size,
            tuple(users[chain_id]),
            tuple(tops.get(chain_id, ())),
            tuple(kids),
        )
        todo.extend(reversed(kids))


def _share(image: StoreImage, users: dict[str, list[str]]) -> ImageShare:
    chain = chain_ids(list(image.diff_ids))
    alone = sum(size for c, size in zip(chain, image.sizes, strict=True) if users[c] == [image.id])
    total = sum(image.sizes)
    return ImageShare(image.id, image.tags, total, alone, total - alone, chain[-1] if chain else None)


@dataclass(frozen=True)
class StoreView:
    """What ``layermap store`` renders: the tree, the layer database's check of it, the engine."""

    tree: StoreTree
    check: StoreCheck
    engine: dict[str, Any]
    """``address``, ``version`` and ``storage`` of the engine whose store this is."""
