"""``layermap samples DIR``: write the sample Dockerfiles and their build contexts, for installed users.

The samples ship inside the package (``analyzer/samples``, the repository's ``sample_dockerfiles``), so
``pip install layermap`` users get the same material as a clone: each sample is a folder with a
Dockerfile (some with variants), its context files and a README on what it teaches.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.errors import EXIT_OK, UsageError
from analyzer.i18n import _

if TYPE_CHECKING:
    from importlib.abc import Traversable


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "samples",
        help="write the sample Dockerfiles and contexts into DIR (then e.g. layermap predict DIR/basics)",
        description="Write the sample Dockerfiles, their build contexts and READMEs into DIR.",
    )
    p.add_argument("directory", metavar="DIR", help="where to write the samples (created if missing)")
    p.add_argument("--force", action="store_true", help="overwrite sample files that already exist in DIR")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from importlib import resources  # not at start-up: only this command reads the package's files

    root = resources.files("analyzer").joinpath("samples")
    if not root.is_dir():
        raise UsageError(_("this installation of layermap has no samples (analyzer/samples is missing)"))
    target = Path(args.directory)
    if target.exists() and not target.is_dir():
        raise UsageError(_("{path}: not a directory").format(path=target))
    files = list(_walk(root, Path()))
    clashes = [rel for rel, _source in files if (target / rel).exists()]
    if clashes and not args.force:
        raise UsageError(
            _("{path} already exists ({n} sample files do); use --force").format(
                path=target / clashes[0], n=len(clashes)
            )
        )
    for rel, source in files:
        out = target / rel
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(source.read_bytes())
        except OSError as err:
            raise UsageError(
                _("{path}: cannot write: {reason}").format(path=out, reason=err.strerror)
            ) from None
    samples = sorted({rel.parts[0] for rel, _source in files})
    if not args.quiet:
        wrote = _("wrote {n} samples to {path}: {names}").format(
            n=len(samples), path=target, names=", ".join(samples)
        )
        print(f"layermap: {wrote}", file=sys.stderr)
    return EXIT_OK


def _walk(folder: Traversable, rel: Path) -> list[tuple[Path, Traversable]]:
    out: list[tuple[Path, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            out.extend(_walk(entry, rel / entry.name))
        else:
            out.append((rel / entry.name, entry))
    return out
