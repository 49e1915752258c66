"""Manifests and blobs from one repository of an OCI distribution registry, read-only, every byte
checked against its digest.

HTTPS first, verified with ``--ca-cert``, else the docker convention ``/etc/docker/certs.d/HOST/ca.crt``
(``LAYERMAP_CERTS_D`` names another folder), else ``SSL_CERT_FILE``, else the system's CA bundle. Plain
HTTP only where Docker allows it without configuration (localhost, 127.0.0.0/8, ::1) or for a host given
with ``--insecure-registry``, and only after HTTPS could not connect.

A ``401`` is answered once per challenge (bearer token, anonymous or with the credentials docker would
use; or basic). ``429`` and ``5xx`` are retried, honouring ``Retry-After``, at most ``RETRIES`` times
and never past the total time budget; a stalled read fails after the read timeout. Errors carry the
contract's exit codes: unknown name, refused authentication, wrong digest → 2; unreachable, 5xx, too
many requests → 4.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import os
import queue
import ssl
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from analyzer import __version__
from analyzer.errors import EXIT_ENGINE, EXIT_USAGE, LayermapError
from analyzer.image.distribution import auth
from analyzer.image.distribution.reference import Reference, plain_http_allowed

TIMEOUT_ENV = "LAYERMAP_REGISTRY_TIMEOUT"
CERTS_D_ENV = "LAYERMAP_CERTS_D"
RETRIES = 4
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_CHUNK = 1 << 16
_FETCH = 1 << 20
_AHEAD = 4


class RegistryError(LayermapError):
    """The registry refused or does not have what was asked (exit 2)."""

    exit_code = EXIT_USAGE


class RegistryUnavailable(LayermapError):
    """The registry could not be reached, or kept failing (exit 4)."""

    exit_code = EXIT_ENGINE


@dataclass(frozen=True)
class Options:
    ca_cert: str | None = None
    insecure: tuple[str, ...] = ()
    platform: str | None = None
    """``os/arch[/variant]`` to pick from a multi-platform index (None: the default platform)."""
    read_timeout: float = field(default_factory=lambda: float(os.environ.get(TIMEOUT_ENV) or 30))
    """Seconds a read may stall; the whole exchange gets ``4 ×`` this (retries included)."""


class RegistryClient:
    """One repository of one registry (``ref.host``/``ref.repository``)."""

    def __init__(self, ref: Reference, options: Options | None = None) -> None:
        self.ref = ref
        self.options = options or Options()
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"layermap/{__version__}"
        # Passed on every request: a session-level value loses to REQUESTS_CA_BUNDLE in requests.
        self._verify = _ca_bundle(ref.host, self.options.ca_cert)
        self._scheme = "https"
        self._connected = False
        self._authorization: str | None = None
        self.tried: list[str] = []
        """What was tried to authenticate, for messages."""

    @property
    def base(self) -> str:
        return f"{self._scheme}://{self.ref.host}/v2/{self.ref.repository}"

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------ reading

    def manifest(self, selector: str, accept: tuple[str, ...]) -> tuple[bytes, str, str]:
        """``(body, media type, digest)`` of the manifest or index named by a tag or digest."""
        what = f"manifest {self.ref.repository}:{selector}" if ":" not in selector else f"manifest {selector}"
        with self._get(f"/manifests/{selector}", what, {"Accept": ", ".join(accept)}) as response:
            body = _read_small(response, what)
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            expected = (
                selector if selector.startswith("sha256:") else response.headers.get("Docker-Content-Digest")
            )
            if expected and expected.startswith("sha256:") and expected != digest:
                raise RegistryError(f"{self._where()}: the {what} has digest {digest}, expected {expected}")
            media = response.headers.get("Content-Type", "").split(";")[0].strip()
            return body, media, digest

    def blob(self, digest: str, what: str) -> bytes:
        """A small blob (a config), verified."""
        with self._get(f"/blobs/{digest}", what) as response:
            body = _read_small(response, what)
        found = "sha256:" + hashlib.sha256(body).hexdigest()
        if found != digest:
            raise RegistryError(f"{self._where()}: the {what} {digest} has digest {found}: refusing it")
        return body

    @contextlib.contextmanager
    def open_blob(self, digest: str, size: int | None, what: str) -> Iterator[VerifiedStream]:
        """A large blob as a file object, hashed as it is read; a wrong digest or size raises at its end."""
        with self._get(f"/blobs/{digest}", what) as response:
            yield VerifiedStream(response, digest, size, f"{self._where()}: the {what} {digest}")

    # ------------------------------------------------------------------ requests

    @contextlib.contextmanager
    def _get(
        self, path: str, what: str, headers: dict[str, str] | None = None
    ) -> Iterator[requests.Response]:
        deadline = time.monotonic() + 4 * self.options.read_timeout
        attempt = 0
        answered_challenge = False
        while True:
            response = self._send(path, headers or {}, deadline)
            if response.status_code == 401 and not answered_challenge:
                response.close()
                self._authenticate(response)
                answered_challenge = True
                continue
            if response.status_code in _RETRY_STATUS and attempt < RETRIES:
                attempt += 1
                _pause(response, deadline, f"{self._where()}: {what}")
                continue
            break
        try:
            self._check(response, what)
            yield response
        finally:
            response.close()

    def _send(self, path: str, headers: dict[str, str], deadline: float) -> requests.Response:
        if self._authorization:
            headers = {**headers, "Authorization": self._authorization}
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RegistryUnavailable(
                    f"{self._where()}: no answer within {4 * self.options.read_timeout:.0f} s"
                )
            timeout = (min(10.0, left), min(self.options.read_timeout, left))
            try:
                response = self._session.get(
                    self.base + path, headers=headers, stream=True, timeout=timeout, verify=self._verify
                )
            except requests.exceptions.RequestException as exc:
                if self._fall_back_to_http(exc):
                    continue
                raise RegistryUnavailable(
                    f"cannot reach the registry {self._where()}: {_reason(exc)}"
                ) from None
            self._connected = True
            return response

    def _fall_back_to_http(self, exc: Exception) -> bool:
        """Docker retries in plain HTTP a registry it may talk HTTP to, when HTTPS did not connect."""
        if self._connected or self._scheme == "http":
            return False
        if not isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ConnectionError):
            return False
        if not plain_http_allowed(self.ref.host, self.options.insecure):
            return False
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return False  # a TLS registry whose CA we lack: say so rather than try HTTP

        self._scheme = "http"
        return True

    def _authenticate(self, response: requests.Response) -> None:
        challenge = auth.parse_challenge(response.headers.get("WWW-Authenticate", ""))
        creds = auth.find_credentials(self.ref.registry)
        who = f"the credentials of {creds.origin} (user {creds.username!r})" if creds else "anonymous access"
        if challenge is None or challenge.scheme not in ("bearer", "basic"):
            self.tried.append(who)
            raise RegistryError(
                f"{self._where()}: 401 without a usable WWW-Authenticate challenge; tried {who}"
            )
        if challenge.scheme == "basic":
            self.tried.append(f"basic auth with {who}")
            if creds is None:
                raise RegistryError(
                    f"{self._where()}: the registry asks for a user and password (basic auth) and none is "
                    f"stored for {self.ref.registry} in {auth.config_path()} "
                    f"(docker login {self.ref.registry})"
                )
            self._authorization = auth.basic_header(creds)
            return
        self._authorization = "Bearer " + self._token(challenge, creds, who)

    def _token(self, challenge: auth.Challenge, creds: auth.Credentials | None, who: str) -> str:
        realm = challenge.params.get("realm")
        if not realm:
            raise RegistryError(f"{self._where()}: a Bearer challenge without realm")
        self.tried.append(f"a token from {realm} with {who}")
        params = {"service": challenge.params.get("service", "")}
        params["scope"] = challenge.params.get("scope") or f"repository:{self.ref.repository}:pull"
        if creds is not None and creds.identity_token:
            return self._oauth_token(realm, params, creds.identity_token)
        basic = (creds.username, creds.password) if creds else None
        try:
            answer = self._session.get(
                realm, params=params, auth=basic, timeout=(10, self.options.read_timeout), verify=self._verify
            )
        except requests.exceptions.RequestException as exc:
            raise RegistryUnavailable(f"cannot reach the token service {realm}: {_reason(exc)}") from None
        return self._token_from(answer, realm)

    def _oauth_token(self, realm: str, params: dict[str, str], refresh: str) -> str:
        data = {**params, "grant_type": "refresh_token", "refresh_token": refresh, "client_id": "layermap"}
        try:
            answer = self._session.post(
                realm, data=data, timeout=(10, self.options.read_timeout), verify=self._verify
            )
        except requests.exceptions.RequestException as exc:
            raise RegistryUnavailable(f"cannot reach the token service {realm}: {_reason(exc)}") from None
        return self._token_from(answer, realm)

    def _token_from(self, answer: requests.Response, realm: str) -> str:
        with answer:
            if answer.status_code in (401, 403):
                raise RegistryError(f"{self._where()}: authentication refused; tried {'; '.join(self.tried)}")
            if answer.status_code >= 500 or answer.status_code == 429:
                raise RegistryUnavailable(f"the token service {realm} answered {answer.status_code}")
            try:
                data = answer.json()
                return str(data.get("token") or data["access_token"])
            except (ValueError, KeyError, AttributeError):
                raise RegistryError(f"the token service {realm} answered without a token") from None

    def _check(self, response: requests.Response, what: str) -> None:
        status = response.status_code
        if status < 300:
            return
        detail = _error_detail(response)
        if status == 401:
            raise RegistryError(
                f"{self._where()}: authentication refused for {what}; tried {'; '.join(self.tried)}"
            )
        if status == 403:
            raise RegistryError(
                f"{self._where()}: access to {what} denied (403{detail}); "
                f"tried {'; '.join(self.tried) or 'anonymous access'}"
            )
        if status == 404:
            raise RegistryError(f"{self._where()}: no {what} (404{detail})")
        if status in _RETRY_STATUS:
            raise RegistryUnavailable(
                f"{self._where()}: {what}: still {status} after {RETRIES} retries{detail}"
            )
        raise RegistryError(f"{self._where()}: {what}: unexpected answer {status}{detail}")

    def _where(self) -> str:
        return f"{self._scheme}://{self.ref.host}/{self.ref.repository}"


class VerifiedStream:
    """A blob's body as a read-only binary stream; the digest and size are checked at the end."""

    def __init__(self, response: requests.Response, digest: str, size: int | None, label: str) -> None:
        self._raw = response.raw
        self._sha = hashlib.sha256()
        self._digest = digest
        self._size = size
        self._label = label
        self.count = 0
        self._done = False
        self._buffer = b""
        self._offset = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            data = self._buffer[self._offset :] + self._fetch(None)
            self._buffer, self._offset = b"", 0
            return data
        if self._offset >= len(self._buffer):
            if n >= _FETCH:  # a large read (the blob's chunks): straight from the connection, no copy
                self._buffer, self._offset = b"", 0
                return self._fetch(n)
            if self._done:
                return b""
            # A small read (sniffing, a decompressor's few KiB): fetch a large piece, slice from it.
            self._buffer, self._offset = self._fetch(_FETCH), 0
        elif self._offset + n > len(self._buffer) and not self._done:
            self._buffer = self._buffer[self._offset :] + self._fetch(max(n, _FETCH))
            self._offset = 0
        data = self._buffer[self._offset : self._offset + n]
        self._offset += len(data)
        return data

    def chunks(self, size: int = _FETCH, ahead: int = _AHEAD) -> Generator[bytes, None, None]:
        """The rest of the body in pieces of up to ``size`` bytes, read on a thread up to ``ahead`` pieces
        before they are asked for: receiving, TLS and the blob's hash (all of which release the GIL) run
        while the caller decompresses and parses. Memory: at most ``ahead + 1`` pieces. The digest is
        checked after the last piece; an error on the thread is raised here."""
        rest = self._buffer[self._offset :]
        self._buffer, self._offset = b"", 0
        if rest:
            yield rest
        if self._done:
            return
        pieces: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=ahead)
        stop = threading.Event()

        def put(item: bytes | BaseException) -> None:
            while not stop.is_set():
                with contextlib.suppress(queue.Full):
                    pieces.put(item, timeout=0.5)
                    return

        def pump() -> None:
            try:
                while not stop.is_set():
                    data = self._fetch(size)
                    put(data)
                    if not data:
                        return
            except BaseException as exc:  # handed to the reader, which raises it
                put(exc)

        thread = threading.Thread(target=pump, name="layermap-blob", daemon=True)
        thread.start()
        finished = False
        try:
            while True:
                item = pieces.get()
                if isinstance(item, BaseException):
                    raise item
                if not item:
                    finished = True
                    return
                yield item
        finally:
            stop.set()
            if finished:
                thread.join()
            # else the thread may be waiting on the network: it ends at its read timeout or when the
            # connection is closed; it touches nothing but this stream.

    def _fetch(self, n: int | None) -> bytes:
        if self._done:
            return b""
        try:
            data = bytes(self._raw.read(n, decode_content=False))
        except Exception as exc:  # urllib3's timeouts and protocol errors: the connection is gone
            raise RegistryUnavailable(f"{self._label}: the download stopped: {_reason(exc)}") from None
        if data:
            self._sha.update(data)
            self.count += len(data)
        if not data or n is None:
            self._finish()
        return data

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        while self.read(_FETCH):
            pass

    def _finish(self) -> None:
        self._done = True
        found = "sha256:" + self._sha.hexdigest()
        if self._size is not None and self.count != self._size:
            raise RegistryError(f"{self._label}: {self.count} bytes received, the manifest says {self._size}")
        if found != self._digest:
            raise RegistryError(f"{self._label} has digest {found}: refusing it")


def _read_small(response: requests.Response, what: str, limit: int = 8 << 20) -> bytes:
    try:
        body = response.raw.read(limit + 1, decode_content=True)
    except Exception as exc:  # urllib3's timeouts and protocol errors: the connection is gone
        raise RegistryUnavailable(f"reading the {what}: {_reason(exc)}") from None
    if len(body) > limit:
        raise RegistryError(f"the {what} is larger than {limit >> 20} MiB: not a manifest or config")
    return bytes(body)


def _pause(response: requests.Response, deadline: float, what: str) -> None:
    status = response.status_code
    wait = _retry_after(response.headers.get("Retry-After"))
    response.close()
    if time.monotonic() + wait > deadline:
        raise RegistryUnavailable(f"{what}: {status}, and Retry-After ({wait:.0f} s) is past the time budget")
    time.sleep(wait)


def _retry_after(value: str | None, default: float = 1.0) -> float:
    if not value:
        return default
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def _error_detail(response: requests.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        return f": {first.get('code')} {first.get('message')}".rstrip()
    except (ValueError, AttributeError, IndexError, TypeError):
        return ""


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "its TLS certificate is untrusted (give its CA: --ca-cert or /etc/docker/certs.d/HOST/ca.crt)"
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in text.lower():
        return "timed out"
    if "Connection refused" in text:
        return "connection refused"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _ca_bundle(host: str, ca_cert: str | None) -> str | bool:
    if ca_cert:
        if not Path(ca_cert).is_file():
            raise RegistryError(f"--ca-cert {ca_cert}: no such file")
        return ca_cert
    certs_d = Path(os.environ.get(CERTS_D_ENV) or "/etc/docker/certs.d") / host / "ca.crt"
    if certs_d.is_file():
        return str(certs_d)
    if os.environ.get("SSL_CERT_FILE") and Path(os.environ["SSL_CERT_FILE"]).is_file():
        return os.environ["SSL_CERT_FILE"]
    system = ssl.get_default_verify_paths().openssl_cafile
    return system if system and Path(system).is_file() else True
