"""A hostile or broken engine, faked on a unix socket: every case ends with a documented exit code and
one line, in bounded time and memory.

The fake is a small threaded HTTP server speaking just enough of the Engine API (``/_ping``,
``/version``, ``/info``, image inspect and history); one route misbehaves per case: 500s, garbage JSON,
wrong types, an endless body, silence, a byte at a time. layermap runs as a subprocess under
``RLIMIT_AS`` (1 GiB) with ``LAYERMAP_ENGINE_TIMEOUT=2``, so a hang or a runaway read fails the test.
"""

from __future__ import annotations

import json
import resource
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

IMAGE_ID = "sha256:" + "ab" * 32
GOOD: dict[str, Any] = {
    "/_ping": "OK",
    "/version": {"ApiVersion": "1.41", "Version": "20.10.24", "MinAPIVersion": "1.12"},
    "/info": {"Driver": "overlay2", "DriverStatus": [], "DockerRootDir": "/nonexistent"},
    "/images/fake/json": {"Id": IMAGE_ID, "RootFS": {"Layers": []}, "Size": 0, "RepoTags": ["fake:1"]},
    f"/images/{IMAGE_ID}/history": [{"Id": IMAGE_ID, "CreatedBy": "/bin/sh", "Size": 0, "Created": 0}],
}


class Handler(BaseHTTPRequestHandler):
    """Answers GOOD, except on the route the server's ``mode`` names (``route:behaviour``)."""

    server: FakeEngine

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def address_string(self) -> str:
        return "fake"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = urllib.parse.unquote(self.path.split("?", 1)[0])
        path = "/" + path.split("/", 2)[2] if path.startswith("/v1.") else path
        route, _, behaviour = self.server.mode.rpartition(":")
        if path == route:
            self.misbehave(behaviour)
        elif path in GOOD:
            self.answer(200, GOOD[path])
        else:
            self.answer(404, {"message": f"no such thing: {path}"})

    do_HEAD = do_GET  # noqa: N815

    def answer(self, status: int, body: object, raw: bytes | None = None) -> None:
        data = raw if raw is not None else (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def misbehave(self, behaviour: str) -> None:
        if behaviour == "500":
            self.answer(500, {"message": "internal failure"})
        elif behaviour == "garbage":
            self.answer(200, None, raw=b'{"Id": "sha256:')
        elif behaviour == "list":
            self.answer(200, [1, 2, 3])
        elif behaviour == "wrong-types":
            self.answer(200, {"Id": 5, "RootFS": "x", "RepoTags": 7, "ApiVersion": [], "DriverStatus": 5})
        elif behaviour == "huge-length":
            self.send_response(200)
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
        elif behaviour in ("endless", "slowloris"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.stream(behaviour)
        elif behaviour == "silence":
            self.server.stopped.wait(60)

    def stream(self, behaviour: str) -> None:
        piece = b"[" if behaviour == "slowloris" else b" " * (1 << 16)
        try:
            while not self.server.stopped.is_set():
                self.wfile.write(piece)
                self.wfile.flush()
                if behaviour == "slowloris":
                    time.sleep(0.2)
        except OSError:
            return  # layermap hung up: good


class FakeEngine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, mode: str) -> None:
        self.mode = mode
        self.stopped = threading.Event()
        super().__init__(path, Handler)


@pytest.fixture
def fake_engine(tmp_path: Path) -> Iterator[tuple[Path, FakeEngine]]:
    sock = tmp_path / "engine.sock"
    server = FakeEngine(str(sock), "none")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sock, server
    server.stopped.set()
    server.shutdown()
    server.server_close()


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def layermap(sock: Path, *argv: str) -> tuple[int, str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_memory,
        env={"DOCKER_HOST": f"unix://{sock}", "LAYERMAP_ENGINE_TIMEOUT": "2", "PATH": "/usr/bin:/bin"},
    )
    return proc.returncode, proc.stderr.strip(), time.monotonic() - started


def test_the_fake_engine_answers_like_an_engine(fake_engine: tuple[Path, FakeEngine]) -> None:
    sock, _ = fake_engine
    code, err, _ = layermap(sock, "image", "fake", "-q", "--format", "json")
    assert code == 0, err


BEHAVIOURS = ("500", "garbage", "list", "wrong-types", "huge-length", "endless", "slowloris", "silence")
CASES = [
    *(("/images/fake/json", behaviour) for behaviour in BEHAVIOURS),
    *(("/version", behaviour) for behaviour in ("garbage", "list", "endless", "slowloris")),
    *((f"/images/{IMAGE_ID}/history", behaviour) for behaviour in ("500", "wrong-types", "endless")),
    ("/info", "endless"),
    ("/info", "wrong-types"),
    ("/_ping", "silence"),
]


@pytest.mark.parametrize(("route", "behaviour"), CASES)
def test_a_misbehaving_engine_is_exit_4_with_one_line_in_bounded_time(
    fake_engine: tuple[Path, FakeEngine], route: str, behaviour: str
) -> None:
    sock, server = fake_engine
    server.mode = f"{route}:{behaviour}"
    code, err, took = layermap(sock, "image", "fake", "-q")
    assert code == 4, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("layermap: ") and str(sock) in err
    assert took < 20, took
