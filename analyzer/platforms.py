"""Platforms as BuildKit names them (``os/arch[/variant]``) and its automatic platform ARGs.

Under BuildKit, ``TARGETPLATFORM``, ``TARGETOS``, ``TARGETARCH``, ``TARGETVARIANT`` and their ``BUILD…``
twins exist in the global scope, so ``FROM tools-$TARGETOS`` resolves without any ``ARG``. The target
is ``--platform``, else the engine's platform, else this machine's; the build platform is this
machine's (the engine's when it runs here, as layermap's private engines do).
"""

from __future__ import annotations

import platform as _platform

# uname machine names → Go's GOARCH (and variant), as containerd's platforms package normalizes them.
_ARCHES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armv8l": ("arm64", ""),
    "armv7l": ("arm", "v7"),
    "armhf": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "armel": ("arm", "v6"),
    "i386": ("386", ""),
    "i686": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
}


def normalize(spec: str) -> tuple[str, str, str]:
    """``os/arch[/variant]`` (or just ``arch``) → (os, arch, variant), lower-case, Go's names."""
    parts = spec.strip().lower().split("/")
    os_name = parts[0] if len(parts) > 1 else "linux"
    arch = parts[1] if len(parts) > 1 else parts[0]
    variant = parts[2] if len(parts) > 2 else ""
    arch, default_variant = _ARCHES.get(arch, (arch, ""))
    if arch == "arm64" and variant == "v8":
        variant = ""  # containerd drops arm64's default variant
    return os_name, arch, variant or default_variant


def machine() -> str:
    """This machine's platform (Linux containers: the os is always ``linux``)."""
    os_name, arch, variant = normalize(f"linux/{_platform.machine() or 'amd64'}")
    return "/".join(p for p in (os_name, arch, variant) if p)


def platform_args(target: str | None, build: str | None = None) -> dict[str, str]:
    """BuildKit's automatic ARGs for a ``target`` platform (None: this machine's)."""
    out: dict[str, str] = {}
    for prefix, spec in (("TARGET", target or machine()), ("BUILD", build or machine())):
        os_name, arch, variant = normalize(spec)
        out[f"{prefix}PLATFORM"] = "/".join(p for p in (os_name, arch, variant) if p)
        out[f"{prefix}OS"], out[f"{prefix}ARCH"], out[f"{prefix}VARIANT"] = os_name, arch, variant
    return out
