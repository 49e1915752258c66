"""Flags shared by the commands that read an existing image (``image``, ``layers``, ``diff``, ``pull``):
which source, which image of an archive, which platform, which CAs, which registries may be plain HTTP.

The image argument itself is parsed by ``analyzer/image/transport.py`` (``docker-daemon:``,
``docker://``, ``docker-archive:``, ``oci-archive:``, ``oci:``, ``-`` for stdin, or a bare name)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.engine.client import Engine
    from analyzer.image.distribution.client import Options
    from analyzer.image.source import ImageSource

TRANSPORT = "docker://"
SOURCE_HELP = (
    "the image: a name in the engine, TRANSPORT:REF (docker-daemon:, docker://, docker-archive:, "
    "oci-archive:, oci:), an archive or OCI layout path, or - for an archive on stdin"
)


def add_registry_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "image source (docker-daemon:REF, docker://REF, docker-archive:PATH[:REF], oci-archive:PATH[:REF], "
        "oci:DIR[:REF], - for an archive on stdin)"
    )
    g.add_argument(
        "--image",
        dest="pick",
        metavar="REF",
        help="which image of an archive or OCI layout holding several (tag, name or id prefix); "
        "the same as PATH:REF",
    )
    g.add_argument(
        "--source",
        choices=("auto", "registry"),
        default="auto",
        help="registry: read a bare REGISTRY/REPO:TAG from its registry, not the engine",
    )
    if "--platform" not in p._option_string_actions:  # diff's build flags have it: same meaning, one flag
        g.add_argument(
            "--platform",
            metavar="OS/ARCH[/VARIANT]",
            help="which image of a multi-platform index (registry, OCI layout or archive)",
        )
    g.add_argument("--ca-cert", metavar="FILE", help="CA bundle to verify the registry's TLS certificate")
    g.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="allow plain HTTP to this registry (loopback registries are always allowed, as in Docker)",
    )


def open_source(args: argparse.Namespace, arg: str) -> ImageSource:
    """The image ``arg`` names, with the flags above applied (the engine connected only if needed)."""
    from analyzer.image.source import open_image
    from analyzer.image.transport import parse

    where = parse(image_ref(args, arg), getattr(args, "pick", None))
    platform = getattr(args, "platform", None)  # a registry reads it from registry_options
    return open_image(
        where, connect_engine, registry_options(args), platform=None if where.kind == "registry" else platform
    )


def image_ref(args: argparse.Namespace, ref: str) -> str:
    """``ref`` as a ``docker://`` reference when ``--source registry`` asks for the registry."""
    if getattr(args, "source", "auto") == "registry" and not ref.startswith(TRANSPORT):
        return TRANSPORT + ref
    return ref


def registry_options(args: argparse.Namespace) -> Options:
    from analyzer.image.distribution.client import Options

    return Options(
        ca_cert=getattr(args, "ca_cert", None),
        insecure=tuple(getattr(args, "insecure_registry", None) or ()),
        platform=getattr(args, "platform", None),
    )


def connect_engine() -> Engine:
    """The engine, connected only when a source needs one (the docker SDK is not loaded otherwise)."""
    from analyzer.engine import client as engine_mod

    return engine_mod.connect()
