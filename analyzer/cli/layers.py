"""``layermap layers``: an image's layers as the engine's layer database stores them — diff_id, the
chain ID computed here, size, and the ``layerdb/sha256/<chainID>`` folder checked against them."""

from __future__ import annotations

import argparse
import json
from typing import Any

from analyzer.errors import EXIT_OK

FORMATS = ("table", "json", "markdown")


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "layers", help="an image's layers: diff_id, computed chain ID, size, and the engine's layerdb folder"
    )
    p.add_argument("image", metavar="IMAGE|ARCHIVE.tar|OCI_DIR")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("-o", "--output", metavar="FILE", help="write the view to FILE")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from analyzer.cli.output import write_text
    from analyzer.engine import client as engine_mod
    from analyzer.image.archive import is_archive_path
    from analyzer.image.layerstore import layer_db
    from analyzer.image.source import open_image
    from analyzer.render.report import teaching

    source = open_image(args.image, is_archive_path(args.image), engine_mod.connect)
    info = source.engine.info() if source.engine else None
    db = layer_db(source.image, info)
    image = source.image
    title = f"{image.id[:19]}" + (f" ({', '.join(image.tags)})" if image.tags else "")
    if args.format == "json":
        data = {"schema_version": 1, "kind": "layers", "image": {"id": image.id, "tags": list(image.tags)}}
        text = json.dumps({**data, **teaching.layerdb_dict(db)}, indent=2) + "\n"
    elif args.format == "markdown":
        text = f"### layermap layers: `{title}`\n\n{teaching.layerdb_markdown(db)}\n"
    else:
        count = f"{len(image.layers)} layer" + ("" if len(image.layers) == 1 else "s")
        text = f"Image {title}: {count}\n\n{teaching.layerdb_text(db)}\n"
    write_text(text, args.output)
    if not args.quiet:
        print(f"layermap: layer database {db.state} ({len(db.entries)} computed chain IDs)", file=sys.stderr)
    return EXIT_OK
