"""HTTP/1.1 for the registry client on the standard library: one kept-alive connection per origin,
redirects, proxies from the environment.

Why not ``requests``: it (with urllib3, charset_normalizer, idna and http.cookiejar) costs a ``docker://``
run more start-up time than the three requests it makes; the read side of the distribution API needs
GET (and one POST for an OAuth token), TLS verified with a chosen CA bundle, streamed bodies and
connection reuse, which ``http.client`` and ``ssl`` give.

- Connections: one per ``(scheme, host)``, reused while the server keeps it open; a request on a reused
  connection the server has meanwhile closed is sent once more on a new one. A response not read to its
  end closes its connection (its unread bytes would otherwise be taken for the next answer).
- Timeouts: ``connect`` for the TCP connect and TLS handshake, ``read`` for every later socket read.
- Redirects (301, 302, 303, 307, 308; a blob is often served from another host) are followed up to
  ``MAX_REDIRECTS``; ``Authorization`` is dropped when the host changes, as ``requests`` and Go do.
- Proxies: ``https_proxy``/``http_proxy`` (either case) unless ``no_proxy`` lists the host (a name, a
  ``.domain`` suffix or ``*``); loopback is never proxied (Go's rule, so Docker's). HTTPS goes through a
  ``CONNECT`` tunnel; credentials in the proxy URL are sent as ``Proxy-Authorization``.
- No ``Accept-Encoding`` is sent, so bodies arrive as stored (a blob's bytes are what its digest names).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
from typing import Any
from urllib.parse import unquote, urlencode, urljoin, urlsplit

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DRAIN_LIMIT = 1 << 16
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class Response:
    """A response whose body is read as a stream (``read``), then ``close``d."""

    def __init__(
        self, url: str, raw: http.client.HTTPResponse, owner: Transport, key: tuple[str, str]
    ) -> None:
        self.url = url
        self.status_code = raw.status
        self.headers = raw.headers
        self._raw = raw
        self._owner = owner
        self._key = key

    def read(self, n: int | None = None) -> bytes:
        return self._raw.read(n)

    def json(self) -> Any:
        return json.loads(self.read(8 << 20))

    def close(self) -> None:
        """Keep the connection when the body was read (or is small enough to read now), else close it."""
        raw = self._raw
        if not raw.isclosed():
            try:
                if raw.length is not None and raw.length <= _DRAIN_LIMIT:
                    raw.read()
            except (OSError, http.client.HTTPException):
                pass
        if not raw.isclosed():
            raw.close()
            self._owner.drop(self._key)

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Transport:
    """Connections by origin, all verified with one SSL context."""

    def __init__(self, verify: str | bool, user_agent: str) -> None:
        self._verify = verify
        self._context: ssl.SSLContext | None = None
        self._user_agent = user_agent
        self._connections: dict[tuple[str, str], http.client.HTTPConnection] = {}

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def drop(self, key: tuple[str, str]) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        timeout: tuple[float, float],
        body: bytes | None = None,
    ) -> Response:
        """Send, following redirects; the caller closes the response."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._once(method, url, headers, timeout, body)
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            response.close()
            target = urljoin(url, location)
            if urlsplit(target).netloc != urlsplit(url).netloc:
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, body = "GET", None
            url = target
        raise http.client.HTTPException(f"more than {MAX_REDIRECTS} redirects")

    def _once(
        self, method: str, url: str, headers: dict[str, str], timeout: tuple[float, float], body: bytes | None
    ) -> Response:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        all_headers = {"User-Agent": self._user_agent, **headers}
        if body is not None:
            all_headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            connection, reused, via_proxy = self._connection(key, parts.hostname or "", timeout)
            try:
                connection.request(method, url if via_proxy else path, body=body, headers=all_headers)
                raw = connection.getresponse()
            except _STALE:
                self.drop(key)
                if reused and attempt == 1:
                    continue  # the server closed the idle connection: once more on a new one
                raise
            except BaseException:
                self.drop(key)
                raise
            return Response(url, raw, self, key)
        raise AssertionError("unreachable")

    def _connection(
        self, key: tuple[str, str], hostname: str, timeout: tuple[float, float]
    ) -> tuple[http.client.HTTPConnection, bool, bool]:
        """(connection, whether it was used before, whether requests go to an HTTP proxy)."""
        scheme, netloc = key
        proxy = _proxy_for(scheme, hostname)
        connection = self._connections.get(key)
        if connection is not None and connection.sock is not None:
            connection.sock.settimeout(timeout[1])
            return connection, True, proxy is not None and scheme == "http"
        if connection is not None:
            connection.close()
        connection = self._new(scheme, netloc, proxy, timeout[0])
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(timeout[1])
        self._connections[key] = connection
        return connection, False, proxy is not None and scheme == "http"

    def _new(
        self, scheme: str, netloc: str, proxy: str | None, connect_timeout: float
    ) -> http.client.HTTPConnection:
        if proxy is None:
            if scheme == "https":
                return http.client.HTTPSConnection(netloc, timeout=connect_timeout, context=self.context())
            return http.client.HTTPConnection(netloc, timeout=connect_timeout)
        proxied = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        proxy_headers = {}
        if proxied.username is not None:
            secret = f"{unquote(proxied.username)}:{unquote(proxied.password or '')}".encode()
            proxy_headers["Proxy-Authorization"] = "Basic " + base64.b64encode(secret).decode("ascii")
        if scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                proxied.netloc.rpartition("@")[2], timeout=connect_timeout, context=self.context()
            )
            connection.set_tunnel(netloc, headers=proxy_headers)
            return connection
        connection = http.client.HTTPConnection(proxied.netloc.rpartition("@")[2], timeout=connect_timeout)
        return connection

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            verify = self._verify
            if verify is True:
                try:
                    import certifi  # what requests used when the system has no CA file

                    verify = certifi.where()
                except ImportError:
                    verify = False
            self._context = (
                ssl.create_default_context(cafile=verify)
                if isinstance(verify, str)
                else ssl.create_default_context()
            )
        return self._context


def query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _proxy_for(scheme: str, hostname: str) -> str | None:
    proxy = os.environ.get(f"{scheme}_proxy") or os.environ.get(f"{scheme.upper()}_PROXY")
    if not proxy or _loopback(hostname):
        return None
    no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        entry = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
        if entry == "*" or (
            entry and (hostname == entry.lstrip(".") or hostname.endswith("." + entry.lstrip(".")))
        ):
            return None
    return proxy


def _loopback(hostname: str) -> bool:
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False
