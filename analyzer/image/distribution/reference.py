"""Image references as Docker reads them: ``[REGISTRY/]REPO[:TAG][@DIGEST]``.

The first path component is a registry host when it contains a ``.`` or a ``:`` or is ``localhost``;
otherwise the image is on Docker Hub, whose API lives at ``registry-1.docker.io`` and whose one-word
repositories are under ``library/``. Without a tag or digest the tag is ``latest``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzer.errors import UsageError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
TRANSPORT = "docker://"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REPO = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


@dataclass(frozen=True)
class Reference:
    """A parsed reference; ``tag`` or ``digest`` (or both: the digest wins, as in Docker)."""

    registry: str
    """As written (``docker.io`` for Docker Hub), the key of ``config.json`` ``auths``."""
    repository: str
    tag: str | None
    digest: str | None

    @property
    def host(self) -> str:
        """Where the API answers (``host[:port]``)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def selector(self) -> str:
        """What goes after ``/manifests/``: the digest, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def is_registry_ref(arg: str) -> bool:
    """True for ``docker://…`` (the skopeo transport syntax)."""
    return arg.startswith(TRANSPORT)


def parse(arg: str) -> Reference:
    """Parse ``docker://REGISTRY/REPO[:TAG|@DIGEST]`` or the same without the transport."""
    text = arg.removeprefix(TRANSPORT).strip()
    if text.startswith("//"):
        text = text[2:]
    name, digest = text.split("@", 1) if "@" in text else (text, None)
    if digest is not None and not _DIGEST.match(digest):
        raise UsageError(f"{arg}: {digest!r} is not a sha256 digest (sha256: and 64 hex digits)")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.match(tag):
            raise UsageError(f"{arg}: {tag!r} is not a valid tag")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not _REPO.match(repository):
        raise UsageError(f"{arg}: {repository!r} is not a valid repository name (lower case, a-z0-9._-/)")
    return Reference(registry, repository, tag if tag or digest else "latest", digest)


def plain_http_allowed(host: str, insecure: tuple[str, ...] = ()) -> bool:
    """Docker talks plain HTTP to a registry only on loopback (``localhost``, 127.0.0.0/8, ``::1``) or
    when the user listed it (``--insecure-registry``, here ``--insecure-registry HOST[:PORT]``)."""
    if host in insecure:
        return True
    hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    hostname = hostname.strip("[]")
    if hostname == "localhost":
        return True
    import ipaddress  # here: only a plain-HTTP fallback asks

    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
