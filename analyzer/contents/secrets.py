"""Which files in a layer look like credentials: by name, and for a few names by their first bytes.

A name alone decides for files that exist only to hold secrets (``.git-credentials``, ``.env``, cloud
credential files). Names that are only *suspicious* (``*.pem``, ``.npmrc``) are confirmed by a pattern
in the first bytes: a PEM private-key header, or an auth-token / password key in a config file. Only
those candidates are ever opened, only up to :attr:`Candidate.head_bytes`, and nothing read is kept or
printed: the verdict is the rule's label.

The rules are versioned (:data:`RULES_VERSION`): cached per-layer results are redone when they change.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from analyzer.i18n import N_

RULES_VERSION = 1

_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PUTTY_KEY = re.compile(rb"^PuTTY-User-Key-File-\d+:")
_NPM_TOKEN = re.compile(rb"(?m)^[ \t]*[^#;\s]*(?:_authToken|_auth|_password)[ \t]*=[ \t]*\S")
_PYPI_PASSWORD = re.compile(rb"(?mi)^[ \t]*password[ \t]*[=:][ \t]*\S")
_NETRC_PASSWORD = re.compile(rb"(?m)(?:^|\s)password\s+\S")
_DOCKER_AUTH = re.compile(rb'"(?:auth|identitytoken)"\s*:\s*"[^"]')
_KUBE_SECRET = re.compile(rb"(?m)^\s*(?:token|client-key-data|password)\s*:\s*\S")

_KEY_NAMES = frozenset(
    ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity")
)
_KEY_SUFFIXES = (".pem", ".key", ".p8", ".pk8", ".ppk")
_SSH_PUBLIC = frozenset(("known_hosts", "known_hosts.old", "authorized_keys", "authorized_keys2", "config"))
_ENV_EXAMPLES = (".example", ".sample", ".template", ".dist", ".defaults")

# Files whose name alone says they hold credentials: (path suffix, label).
_BY_SUFFIX = (
    ("/.git-credentials", N_("git credential store")),
    ("/.aws/credentials", N_("AWS credentials file")),
    ("/.config/gcloud/credentials.db", N_("gcloud credentials")),
    ("/.config/gcloud/access_tokens.db", N_("gcloud access tokens")),
    ("/.config/gcloud/application_default_credentials.json", N_("Google application default credentials")),
    ("/.azure/accessTokens.json", N_("Azure CLI access tokens")),
    ("/.azure/msal_token_cache.json", N_("Azure CLI token cache")),
    ("/.pgpass", N_("PostgreSQL password file")),
    ("/.vault-token", N_("Vault token")),
)

# Files that are secrets only if their content says so: (path suffix, label, pattern, bytes to read).
_BY_CONTENT = (
    ("/.npmrc", N_(".npmrc with a registry auth token"), _NPM_TOKEN, 64 << 10),
    ("/.pypirc", N_(".pypirc with a password"), _PYPI_PASSWORD, 64 << 10),
    ("/.netrc", N_(".netrc with a password"), _NETRC_PASSWORD, 64 << 10),
    ("/.docker/config.json", N_("Docker config with registry credentials"), _DOCKER_AUTH, 256 << 10),
    ("/.kube/config", N_("kubeconfig with credentials"), _KUBE_SECRET, 256 << 10),
)
_KEY_HEAD = 8 << 10  # PEM bundles may start with "Bag Attributes" lines before the key header


class Candidate(NamedTuple):
    """A file that is, or may be, a secret."""

    label: str
    """What it is, for the finding's message (``"private key"``, ``"AWS credentials file"``…)."""
    head_bytes: int
    """0: the name decides. Otherwise read this many first bytes and :func:`confirm` them."""


def candidate(path: str) -> Candidate | None:
    """The rule a regular file at ``path`` falls under, if any (pure; looks at the name only)."""
    name = path[path.rfind("/") + 1 :]
    rules = _BY_NAME.get(name)  # one dict probe for most files: this runs for every file of an image
    if rules is not None:
        for suffix, found in rules:
            if path.endswith(suffix):
                return found
    if name.startswith(".env") and (name == ".env" or (name[4] == "." and not name.endswith(_ENV_EXAMPLES))):
        return Candidate(N_("dotenv file"), 0)
    if name in _KEY_NAMES or name.endswith(_KEY_SUFFIXES):
        return Candidate(N_("private key"), _KEY_HEAD)
    if "/.ssh/" in path and not name.endswith(".pub") and name not in _SSH_PUBLIC:
        return Candidate(N_("private key"), _KEY_HEAD)
    return None


def _by_name() -> dict[str, list[tuple[str, Candidate]]]:
    table: dict[str, list[tuple[str, Candidate]]] = {}
    rules = [(suffix, Candidate(label, 0)) for suffix, label in _BY_SUFFIX]
    rules += [(suffix, Candidate(label, size)) for suffix, label, _, size in _BY_CONTENT]
    for suffix, found in rules:
        table.setdefault(suffix.rsplit("/", 1)[-1], []).append((suffix, found))
    return table


_BY_NAME = _by_name()


def confirm(path: str, found: Candidate, head: bytes) -> bool:
    """Whether the first bytes of a content-checked candidate confirm it."""
    if found.head_bytes == 0:
        return True
    for suffix, _, pattern, _ in _BY_CONTENT:
        if path.endswith(suffix):
            return pattern.search(head) is not None
    return _PRIVATE_KEY.search(head) is not None or _PUTTY_KEY.search(head) is not None


def git_dir(path: str) -> str | None:
    """The ``.git`` directory ``path`` is (or is inside of), else None: a repository's history and
    config (remote URLs with tokens, credentials helpers) shipped in the image."""
    if path.endswith("/.git"):
        return path
    index = path.find("/.git/")
    return path[: index + 5] if index >= 0 else None
