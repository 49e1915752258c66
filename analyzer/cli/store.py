"""``layermap store``: every image in the engine as one tree of layer stacks (chain IDs), shared
ancestors once, with the bytes each image holds alone or shares, checked against the layer database."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from analyzer.errors import EXIT_OK
from analyzer.render import FORMATS


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "store",
        help="the engine's images as one tree of shared layers: sizes, sharing, store vs images total",
    )
    p.add_argument(
        "--format", choices=FORMATS["store"], default="table", help="output format (default: %(default)s)"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the view to FILE (- or none: stdout)")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.cli.output import write_text
    from analyzer.cli.registry_args import connect_engine
    from analyzer.image.layerstore import check_store, read_layerdb
    from analyzer.render import STORE_RENDERERS
    from analyzer.teaching.store import StoreImage, StoreView, build_tree

    engine = connect_engine()
    info = engine.info()
    images = []
    for summary in engine.list_images():
        image = engine.image(str(summary["Id"]))
        sizes = tuple(layer.size or 0 for layer in image.layers)
        images.append(StoreImage(image.id, image.tags, image.diff_ids, sizes))
    tree = build_tree(images)
    computed = {n.chain_id: (n.diff_id, n.parent, n.size) for n in tree.nodes.values()}
    check = check_store(computed, read_layerdb(info), info.storage)
    described = {"address": info.address, "version": info.version, "storage": info.storage}
    write_text(STORE_RENDERERS[args.format](StoreView(tree, check, described)), args.output)
    if not args.quiet:
        print(
            f"layermap store: {len(tree.images)} images, {len(tree.nodes)} layers; "
            f"images total {tree.images_total} B, store {tree.store_total} B; layer database {check.state}",
            file=sys.stderr,
        )
    return EXIT_OK
