"""Registry credentials found as the docker CLI finds them, and the challenges a registry answers with.

Credentials (first found wins, like ``docker pull``): ``credHelpers[registry]`` → ``docker-credential-
NAME get``; else ``auths[registry].auth`` (base64 ``user:password``, or ``username``/``password``, or an
``identitytoken``); else ``credsStore`` → its helper. The file is ``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``. Docker Hub's key is ``https://index.docker.io/v1/``. Nothing is cached on disk.

Challenges: a ``401`` carries ``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` (ask ``realm`` for
a token, anonymously or with the credentials) or ``Basic realm=…`` (send the credentials each time).
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer.errors import UsageError

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HELPER_TIMEOUT = 20
_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    origin: str
    """Where they came from, for messages (``config.json auths``, ``docker-credential-pass``)."""
    identity_token: str | None = None


@dataclass(frozen=True)
class Challenge:
    scheme: str
    """``bearer`` or ``basic`` (lower case)."""
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge of a ``WWW-Authenticate`` header; None when there is none."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        m[1].lower(): m[2].replace('\\"', '"') if m[2] is not None else m[3] for m in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


def config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def _load_config() -> dict[str, Any]:
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read the docker client configuration ({exc})") from None
    return data if isinstance(data, dict) else {}


def _keys(registry: str) -> tuple[str, ...]:
    if registry in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        return (DOCKER_HUB_KEY, "docker.io", "index.docker.io", "registry-1.docker.io")
    return (registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/")


def find_credentials(registry: str) -> Credentials | None:
    """The credentials docker would use for ``registry`` (``host[:port]`` or ``docker.io``)."""
    config = _load_config()
    helpers = config.get("credHelpers") or {}
    auths = config.get("auths") or {}
    for key in _keys(registry):
        if isinstance(helpers, dict) and isinstance(helpers.get(key), str):
            return _from_helper(helpers[key], key)
    for key in _keys(registry):
        entry = auths.get(key) if isinstance(auths, dict) else None
        found = _from_auths(entry, key) if isinstance(entry, dict) else None
        if found is not None:
            return found
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        for key in _keys(registry)[:1] if registry != "docker.io" else (DOCKER_HUB_KEY,):
            return _from_helper(store, key, missing_ok=True)
    return None


def _from_auths(entry: dict[str, Any], key: str) -> Credentials | None:
    origin = f"{config_path()} auths[{key!r}]"
    token = entry.get("identitytoken")
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            raise UsageError(f"{origin}: 'auth' is not base64 of user:password") from None
        return Credentials(user, password, origin, token if isinstance(token, str) else None)
    if isinstance(entry.get("username"), str):
        return Credentials(entry["username"], str(entry.get("password") or ""), origin)
    if isinstance(token, str) and token:
        return Credentials("<token>", "", origin, token)
    return None


def _from_helper(name: str, key: str, missing_ok: bool = False) -> Credentials | None:
    import subprocess  # here: most runs need no credential helper

    program = f"docker-credential-{name}"
    try:
        done = subprocess.run(
            [program, "get"], input=key, capture_output=True, text=True, timeout=_HELPER_TIMEOUT, check=False
        )
    except FileNotFoundError:
        if missing_ok:
            return None
        raise UsageError(
            f"{config_path()} names the credential helper {program}, which is not on PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"{program} get {key}: no answer within {_HELPER_TIMEOUT} s") from None
    if done.returncode != 0:
        # "credentials not found in native keychain" is the helpers' way to say: none stored.
        if "not found" in (done.stdout + done.stderr).lower():
            return None
        raise UsageError(f"{program} get {key} failed: {(done.stderr or done.stdout).strip()[:200]}")
    try:
        data = json.loads(done.stdout)
        user, secret = str(data["Username"]), str(data["Secret"])
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{program} get {key}: the answer is not JSON with Username and Secret") from None
    if user == "<token>":  # helpers store identity tokens under this user name
        return Credentials(user, "", program, secret)
    return Credentials(user, secret, program)


def basic_header(creds: Credentials) -> str:
    raw = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
