"""Command-line flags shared by the subcommands that build or read a Dockerfile, and what they become.

:func:`add_build_args` gives ``build`` and ``diff`` (which builds each side that is a context) the same
build flags, and :func:`build_options` turns them into the one
:class:`~analyzer.engine.options.BuildOptions` every builder takes. :func:`add_image_args` gives
``image`` the flags that say how its Dockerfile was built. Light to import: nothing here loads the
docker SDK.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analyzer.engine.options import BUILDERS, BuildOptions
from analyzer.errors import UsageError
from analyzer.i18n import _

__all__ = ["add_build_args", "add_image_args", "add_mismatch_arg", "build_options", "resolve_context"]


def add_build_args(parser: argparse._ActionsContainer, *, one_context: bool = True) -> None:
    """The ``docker build`` flags layermap passes on to the builder.

    ``one_context=False`` (``diff``: two contexts) leaves out ``-f`` and ``-t``: each side names its
    own Dockerfile, and one tag cannot name two images.
    """
    if one_context:
        parser.add_argument(
            "-f",
            "--file",
            dest="dockerfile",
            metavar="DOCKERFILE",
            help="Dockerfile path (default: CONTEXT/Dockerfile)",
        )
    parser.add_argument(
        "--builder",
        choices=BUILDERS,
        default="classic",
        help="classic: the legacy builder, one image per step; buildkit: BuildKit, through the Engine API or "
        "buildx (default: %(default)s)",
    )
    _add_stage_args(parser, "the stage to build (default: the last one)")
    parser.add_argument("--network", metavar="MODE", help="network for RUN steps (e.g. host)")
    parser.add_argument(
        "--no-cache", action="store_true", help="run every step again, ignoring the build cache"
    )
    parser.add_argument(
        "--platform", metavar="P", help="target platform, e.g. linux/amd64 (default: the engine's)"
    )
    if one_context:
        parser.add_argument("-t", "--tag", metavar="TAG", help="name the built image")


def add_image_args(parser: argparse._ActionsContainer) -> None:
    """``--dockerfile`` and how it was built (``--build-arg``, ``--target``), for mapping an image."""
    parser.add_argument("--dockerfile", metavar="FILE", help="the Dockerfile the image was built from")
    add_mismatch_arg(parser)
    _add_stage_args(parser, "the stage the image was built to (default: the last one)")


def add_mismatch_arg(parser: argparse._ActionsContainer) -> None:
    """``--allow-mismatch``: map even when the image's history shows another Dockerfile (exit 2 otherwise)."""
    parser.add_argument(
        "--allow-mismatch",
        action="store_true",
        help="map even when the image's history shows it was not built from this Dockerfile "
        "(the differences stay in the report as mismatches)",
    )


def _add_stage_args(parser: argparse._ActionsContainer, target_help: str) -> None:
    parser.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="K=V",
        dest="build_args",
        help="a build argument (repeatable); a bare K takes its value from the environment, as in docker",
    )
    parser.add_argument("--target", metavar="STAGE", help=target_help)


def build_options(args: argparse.Namespace, context: str) -> BuildOptions:
    """The options for building ``context`` with the flags of :func:`add_build_args` in ``args``.

    Raises UsageError for a missing context or a malformed ``--build-arg``.
    """
    from analyzer.dockerfile import parse_build_args  # loads the Dockerfile parser: not at start-up

    folder, dockerfile = resolve_context(context, getattr(args, "dockerfile", None))
    return BuildOptions(
        context=folder,
        dockerfile=dockerfile,
        builder=args.builder,
        build_args=parse_build_args(args.build_args),
        target=args.target,
        network=args.network,
        no_cache=args.no_cache,
        platform=args.platform,
        tag=getattr(args, "tag", None),
    )


def resolve_context(context: str, dockerfile: str | None) -> tuple[Path, Path]:
    """CONTEXT may be a Dockerfile path: then its folder is the context (like ``docker build -f``)."""
    path = Path(context)
    if not path.exists():
        raise UsageError(_("{path}: no such file or directory").format(path=context))
    if path.is_file():
        if dockerfile is not None:
            raise UsageError(
                _("{path} is a file; give a folder as CONTEXT when using -f").format(path=context)
            )
        return path.parent, path
    df = Path(dockerfile) if dockerfile is not None else path / "Dockerfile"
    return path, df
