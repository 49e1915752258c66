"""``layermap layers``: an image's layers as the engine's layer database stores them — diff_id, the
chain ID computed here, size, and the ``layerdb/sha256/<chainID>`` folder checked against them."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from analyzer.cli.registry_args import SOURCE_HELP, add_registry_args, open_source
from analyzer.errors import EXIT_OK
from analyzer.render import FORMATS


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "layers", help="an image's layers: diff_id, computed chain ID, size, and the engine's layerdb folder"
    )
    p.add_argument(
        "image",
        metavar="IMAGE|TRANSPORT:REF|ARCHIVE|OCI_DIR|-",
        help=SOURCE_HELP,
    )
    add_registry_args(p)
    p.add_argument(
        "--format", choices=FORMATS["layers"], default="table", help="output format (default: %(default)s)"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the view to FILE (- or none: stdout)")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.cli.output import write_text
    from analyzer.image.layerstore import layer_db
    from analyzer.model import LayersView
    from analyzer.render import LAYERS_RENDERERS

    source = open_source(args, args.image)
    info = source.engine.info() if source.engine else None
    db = layer_db(source.image, info)
    write_text(LAYERS_RENDERERS[args.format](LayersView(source.image, db)), args.output)
    if not args.quiet:
        print(f"layermap: layer database {db.state} ({len(db.entries)} computed chain IDs)", file=sys.stderr)
    return EXIT_OK
