"""Flags shared by the commands that read an image from a registry (``image``, ``layers``, ``diff``,
``pull``): which source, which platform, which CAs, which registries may be plain HTTP."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.engine.client import Engine
    from analyzer.image.distribution.client import Options

TRANSPORT = "docker://"


def add_registry_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("registry (docker://REGISTRY/REPO:TAG|@DIGEST)")
    g.add_argument(
        "--source",
        choices=("auto", "registry"),
        default="auto",
        help="registry: read a bare REGISTRY/REPO:TAG from its registry, not the engine",
    )
    g.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="which image of a multi-platform index")
    g.add_argument("--ca-cert", metavar="FILE", help="CA bundle to verify the registry's TLS certificate")
    g.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="allow plain HTTP to this registry (loopback registries are always allowed, as in Docker)",
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
