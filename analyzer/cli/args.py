"""Command-line flags shared by the subcommands that build or read a Dockerfile, and what they become.

:func:`add_build_args` gives ``build`` and ``diff`` (which builds each side that is a context) the same
build flags, and :func:`build_options` turns them into the one
:class:`~analyzer.engine.options.BuildOptions` every builder takes. :func:`add_image_args` gives
``image`` the flags that say how its Dockerfile was built. Light to import: nothing here loads the
docker SDK.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from analyzer.engine.options import BUILDERS, Builder, BuildOptions, env_builder
from analyzer.errors import UsageError
from analyzer.i18n import _

__all__ = [
    "PROGRESS",
    "add_build_args",
    "add_builder_args",
    "add_image_args",
    "add_mismatch_arg",
    "build_options",
    "requested_builder",
    "resolve_context",
]

PROGRESS = ("auto", "plain", "tty", "quiet")
"""``--progress`` values, as ``docker build`` takes them."""


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
    add_builder_args(parser)
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
    parser.add_argument(
        "--pull", action="store_true", help="always fetch a newer version of the base images (default: off)"
    )
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="K=V",
        dest="labels",
        help="set a label on the built image (repeatable)",
    )
    parser.add_argument(
        "--add-host",
        action="append",
        default=[],
        metavar="HOST:IP",
        dest="extra_hosts",
        help="add a line to /etc/hosts of RUN steps (repeatable)",
    )
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="id=ID[,src=PATH|,env=VAR]",
        dest="secrets",
        help="a secret for RUN --mount=type=secret (repeatable; BuildKit, through buildx)",
    )
    parser.add_argument(
        "--ssh",
        action="append",
        default=[],
        metavar="default|ID[=SOCKET|KEY]",
        help="an SSH agent or keys for RUN --mount=type=ssh (repeatable; BuildKit, through buildx)",
    )
    parser.add_argument(
        "--progress",
        choices=PROGRESS,
        default="auto",
        help="how build progress shows on stderr: auto (tty on a terminal, else plain), plain (one line "
        "per step), tty (a live line), quiet (none, like -q) (default: %(default)s)",
    )


def add_builder_args(parser: argparse._ActionsContainer, *, engine: bool = True) -> None:
    """``--classic`` / ``--buildkit`` and ``--builder NAME``, as docker and buildx spell them.

    ``engine=False`` (``predict``): no builder instance to name, only the builder whose rules apply.
    """
    where = "the engine's default (BuildKit on Docker 23.0+)" if engine else "BuildKit, as docker 23.0+"
    kind = parser.add_mutually_exclusive_group() if isinstance(parser, argparse.ArgumentParser) else parser
    kind.add_argument(
        "--classic",
        dest="builder_kind",
        action="store_const",
        const="classic",
        help=f"the legacy builder, one image per step (default: DOCKER_BUILDKIT, else {where})",
    )
    kind.add_argument(
        "--buildkit",
        dest="builder_kind",
        action="store_const",
        const="buildkit",
        help="BuildKit, through the Engine API or buildx" if engine else "BuildKit's rules",
    )
    instance = (
        "a buildx builder instance (docker buildx ls): BuildKit through buildx, the image loaded into "
        "the engine; "
    )
    parser.add_argument(
        "--builder",
        metavar="NAME" if engine else "classic|buildkit",
        dest="builder_name",
        help=(instance if engine else "")
        + "classic and buildkit still mean --classic and --buildkit (deprecated)",
    )


def requested_builder(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> tuple[Builder | None, str | None]:
    """The builder the command line or ``DOCKER_BUILDKIT`` asks for, None when the engine decides, and
    the buildx builder instance ``--builder NAME`` names. Warns on stderr about the old
    ``--builder classic|buildkit``; raises UsageError for conflicting flags or a bad DOCKER_BUILDKIT."""
    kind: Builder | None = getattr(args, "builder_kind", None)
    name: str | None = getattr(args, "builder_name", None)
    if name in BUILDERS:
        old: Builder = name
        print(
            f"layermap: warning: --builder {old} is deprecated (--builder names a buildx builder "
            f"instance, as in buildx); use --{old}",
            file=sys.stderr,
        )
        if kind is not None and kind != old:
            raise UsageError(f"--{kind} and --builder {old} ask for different builders; give one")
        return old, None
    if name is not None:
        if not name.strip() or name.startswith("-"):
            raise UsageError(f"--builder {name!r}: not a builder instance name (docker buildx ls)")
        if kind == "classic":
            raise UsageError(f"--classic and --builder {name}: a buildx builder instance is BuildKit")
        return "buildkit", name
    if kind is not None:
        return kind, None
    try:
        return env_builder(os.environ if env is None else env), None
    except ValueError as err:
        raise UsageError(str(err)) from None


def add_image_args(parser: argparse._ActionsContainer) -> None:
    """``--dockerfile`` and how it was built (``--build-arg``, ``--target``), for mapping an image."""
    parser.add_argument(
        "-f", "--dockerfile", metavar="FILE", help="the Dockerfile the image was built from (maps each line)"
    )
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


def build_options(args: argparse.Namespace, context: str, builder: Builder | None = None) -> BuildOptions:
    """The options for building ``context`` with the flags of :func:`add_build_args` in ``args``;
    ``builder`` overrides the requested one (the engine's default, once known). Without either the
    options say BuildKit, the default of current engines, until the engine is asked.

    Raises UsageError for a missing context, a malformed ``--build-arg``, ``--label`` or ``--add-host``,
    or a flag the classic builder cannot honour.
    """
    from analyzer.dockerfile import parse_build_args  # loads the Dockerfile parser: not at start-up

    folder, dockerfile = resolve_context(context, getattr(args, "dockerfile", None))
    requested, instance = requested_builder(args)
    chosen: Builder = builder or requested or "buildkit"
    options = BuildOptions(
        context=folder,
        dockerfile=dockerfile,
        builder=chosen,
        build_args=parse_build_args(args.build_args),
        target=args.target,
        network=args.network,
        no_cache=args.no_cache,
        platform=args.platform,
        tag=getattr(args, "tag", None),
        buildx_builder=instance,
        pull=args.pull,
        labels=_labels(args.labels),
        extra_hosts=tuple(_host(value) for value in args.extra_hosts),
        secrets=tuple(_secret(value) for value in args.secrets),
        ssh=tuple(_ssh(value) for value in args.ssh),
    )
    refused = options.classic_refusals() if chosen == "classic" else []
    if refused:
        how = "--classic" if requested == "classic" else "the classic builder (the engine's default)"
        verb = "needs" if len(refused) == 1 else "need"
        raise UsageError(f"{' and '.join(refused)} {verb} BuildKit, which {how} is not; use --buildkit")
    return options


def _labels(values: list[str]) -> dict[str, str]:
    labels = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not key.strip():
            raise UsageError(f"--label {value!r}: use KEY=VALUE")
        labels[key] = text if sep else ""  # docker: a bare KEY is an empty label
    return labels


def _host(value: str) -> str:
    """``HOST:IP`` (docker also takes ``HOST=IP``; IPv6 addresses hold colons)."""
    host, sep, address = value.partition("=") if "=" in value else value.partition(":")
    if not sep or not host.strip() or not address.strip() or any(c.isspace() for c in value):
        raise UsageError(f"--add-host {value!r}: use HOST:IP (for example db:10.0.0.5)")
    return f"{host}:{address}"


def _secret(value: str) -> str:
    fields = dict(part.partition("=")[::2] for part in value.split(","))
    if not fields.get("id"):
        raise UsageError(f"--secret {value!r}: use id=ID[,src=PATH|,env=VAR]")
    src = fields.get("src") or fields.get("source")
    if src and not Path(src).is_file():
        raise UsageError(f"--secret {value}: {src}: no such file")
    return value


def _ssh(value: str) -> str:
    if not value.strip() or any(c.isspace() for c in value.partition("=")[0]):
        raise UsageError(f"--ssh {value!r}: use default or ID[=SOCKET|KEY[,KEY...]]")
    return value


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
