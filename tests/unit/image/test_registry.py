"""analyzer.image.registry and analyzer.image.distribution against a fake registry on loopback.

The fake is a small threaded HTTP server speaking the distribution API's read side (manifests, blobs,
a token endpoint) over plain HTTP on 127.0.0.1, so the client's HTTPS attempt fails and it falls back
to HTTP as Docker does for loopback registries. Each test scripts its misbehaviour: wrong bytes, 401,
404, 429 with Retry-After, a stalled body. The image it serves is generated here: two layers (gzip and
zstd), a config with an empty history entry, a multi-platform index.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import zstandard

from analyzer.cli import main
from analyzer.image.distribution.auth import find_credentials, parse_challenge
from analyzer.image.distribution.client import Options, RegistryError, RegistryUnavailable
from analyzer.image.distribution.reference import parse, plain_http_allowed
from analyzer.image.registry import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, open_registry

REPO = "team/app"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer_tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1700000000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@dataclass
class FakeImage:
    tars: list[bytes]
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    layer_digests: list[str] = field(default_factory=list)
    manifest_digest: str = ""
    index_digest: str = ""


def make_image(
    base_files: dict[str, bytes] | None = None, base_gzip: Callable[[bytes], bytes] | None = None
) -> FakeImage:
    """``base_files``/``base_gzip``: another first layer, or another way to gzip it."""
    tars = [
        _layer_tar(base_files or {"etc/os-release": b"fake\n", "bin/tool": b"x" * 3000}),
        _layer_tar({"app/main.py": b"print('hi')\n", "app/.env": b"API_KEY=abcdef0123456789abcdef\n"}),
    ]
    gz = base_gzip or (lambda data: gzip.compress(data, mtime=0))
    compressed = [gz(tars[0]), zstandard.ZstdCompressor().compress(tars[1])]
    image = FakeImage(tars)
    image.config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["python", "main.py"]},
        "rootfs": {"type": "layers", "diff_ids": [_sha(t) for t in tars]},
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
            {"created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True},
            {"created_by": "COPY app /app # buildkit", "comment": "buildkit.dockerfile.v0"},
        ],
    }
    config = json.dumps(image.config).encode()
    image.blobs[_sha(config)] = config
    layers = []
    for blob, kind in zip(compressed, ("tar+gzip", "tar+zstd"), strict=True):
        image.blobs[_sha(blob)] = blob
        image.layer_digests.append(_sha(blob))
        layers.append(
            {
                "mediaType": f"application/vnd.oci.image.layer.v1.{kind}",
                "digest": _sha(blob),
                "size": len(blob),
            }
        )
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _sha(config),
                "size": len(config),
            },
            "layers": layers,
        }
    ).encode()
    image.manifest_digest = _sha(manifest)
    other = json.dumps(
        {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": {}, "layers": []}
    ).encode()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": DOCKER_MANIFEST,
                    "digest": _sha(other),
                    "size": len(other),
                    "platform": {"os": "linux", "architecture": "arm64"},
                },
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": _sha(manifest),
                    "size": len(manifest),
                    "platform": {"os": "linux", "architecture": "amd64"},
                },
            ],
        }
    ).encode()
    image.index_digest = _sha(index)
    image.manifests = {
        _sha(manifest): (OCI_MANIFEST, manifest),
        _sha(other): (DOCKER_MANIFEST, other),
        _sha(index): (OCI_INDEX, index),
        "v1": (OCI_INDEX, index),
    }
    return image


@dataclass
class Behaviour:
    """What the fake does beyond serving the image."""

    auth: str | None = None  # None, "bearer" or "basic"
    user: str = "alice"
    password: str = "s3cret"
    scripted: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    """path → responses served (and consumed) before the real one."""
    stall: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    """(path, Authorization header) of every request."""
    peers: list[int] = field(default_factory=list)
    """The client's port of every request (one port: one kept-alive connection)."""
    redirect_blobs: str | None = None
    """Answer blob requests with a 307 to this origin's ``/storage/DIGEST`` (as registries with a CDN do)."""


class FakeRegistry:
    def __init__(self, image: FakeImage, behaviour: Behaviour) -> None:
        self.image, self.behaviour = image, behaviour
        handler = _handler(self)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ref(self, selector: str = ":v1") -> str:
        return f"docker://{self.host}/{REPO}{selector}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(fake: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real registries: the client may reuse a connection

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            b = fake.behaviour
            path = self.path.split("?")[0]
            b.requests.append((self.path, self.headers.get("Authorization", "")))
            b.peers.append(self.client_address[1])
            if path == "/token":
                return self._token()
            if path.startswith("/storage/"):
                return self._send(200, fake.image.blobs[path[len("/storage/") :]])
            if b.scripted.get(path):
                status, headers, body = b.scripted[path].pop(0)
                return self._send(status, body, headers)
            if not self._authorized():
                return
            self._serve(path)

        def _token(self) -> None:
            b = fake.behaviour
            if self.headers.get("Authorization") not in (None, _basic(b.user, b.password)):
                return self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
            who = "user" if self.headers.get("Authorization") else "anon"
            self._send(
                200, json.dumps({"token": f"tok-{who}"}).encode(), {"Content-Type": "application/json"}
            )

        def _authorized(self) -> bool:
            b = fake.behaviour
            given = self.headers.get("Authorization", "")
            if b.auth == "bearer" and not given.startswith("Bearer tok-"):
                realm = f"http://{fake.host}/token"
                challenge = f'Bearer realm="{realm}",service="fake",scope="repository:{REPO}:pull"'
                self._send(401, b"{}", {"WWW-Authenticate": challenge})
                return False
            if b.auth == "basic" and given != _basic(b.user, b.password):
                self._send(401, b"{}", {"WWW-Authenticate": 'Basic realm="fake"'})
                return False
            return True

        def _serve(self, path: str) -> None:
            b, image = fake.behaviour, fake.image
            prefix = f"/v2/{REPO}/"
            if not path.startswith(prefix):
                return self._send(
                    404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}'
                )
            kind, _, key = path[len(prefix) :].partition("/")
            if kind == "blobs" and b.redirect_blobs and key in image.blobs:
                return self._send(307, b"", {"Location": f"{b.redirect_blobs}/storage/{key}"})
            if kind == "manifests" and key in image.manifests:
                media, body = image.manifests[key]
                headers = {"Content-Type": media, "Docker-Content-Digest": _sha(body)}
            elif kind == "blobs" and key in image.blobs:
                body, headers = image.blobs[key], {"Content-Type": "application/octet-stream"}
            else:
                return self._send(
                    404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
                )
            if key in b.corrupt:
                body = body[:-1] + bytes([body[-1] ^ 1])
            if key in b.stall:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:10])
                self.wfile.flush()
                time.sleep(5)
                return
            self._send(200, body, headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def image() -> FakeImage:
    return make_image()


@pytest.fixture
def behaviour() -> Behaviour:
    return Behaviour()


@pytest.fixture
def fake(
    image: FakeImage, behaviour: Behaviour, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeRegistry]:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")  # no engine: the machine's platform is used
    monkeypatch.setenv("LAYERMAP_NO_CACHE", "1")
    monkeypatch.setenv("LAYERMAP_REGISTRY_TIMEOUT", "1.5")
    registry = FakeRegistry(image, behaviour)
    yield registry
    registry.close()


AMD64 = Options(platform="linux/amd64")


# ---------------------------------------------------------------------- references and auth


def test_reference_parsing_follows_docker() -> None:
    hub = parse("docker://python:3.9")
    assert (hub.registry, hub.host, hub.repository, hub.tag, hub.digest) == (
        "docker.io",
        "registry-1.docker.io",
        "library/python",
        "3.9",
        None,
    )
    local = parse(f"docker://localhost:5000/a/b@sha256:{'a' * 64}")
    assert (local.registry, local.repository, local.tag, local.digest) == (
        "localhost:5000",
        "a/b",
        None,
        "sha256:" + "a" * 64,
    )
    assert parse("docker://ghcr.io/o/r").tag == "latest"
    assert parse("docker://user/repo:1").repository == "user/repo"
    for bad in ("docker://UPPER/x", "docker://x@sha256:12", "docker://x:bad tag"):
        with pytest.raises(Exception) as err:
            parse(bad)
        assert getattr(err.value, "exit_code", None) == 2


def test_plain_http_only_on_loopback_or_when_listed() -> None:
    assert plain_http_allowed("localhost:5000")
    assert plain_http_allowed("127.0.0.5:5000")
    assert plain_http_allowed("[::1]:5000")
    assert not plain_http_allowed("registry.example:5000")
    assert plain_http_allowed("registry.example:5000", ("registry.example:5000",))


def test_bearer_challenge_parsing() -> None:
    found = parse_challenge(
        'Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"'
    )
    assert found is not None
    assert (found.scheme, found.params) == (
        "bearer",
        {"realm": "https://auth.example/token", "service": "reg", "scope": "repository:a/b:pull"},
    )


def _write_config(tmp_path: Path, data: dict[str, Any]) -> None:
    folder = Path(os.environ["DOCKER_CONFIG"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(data))


def _fake_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: str, secret: str) -> Path:
    """A ``docker-credential-test`` on PATH that logs the server it was asked about."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "helper.log"
    script = bindir / "docker-credential-test"
    answer = json.dumps({"ServerURL": "x", "Username": user, "Secret": secret})
    script.write_text(f"#!/bin/sh\n[ \"$1\" = get ] || exit 1\ncat >> {log}\necho '{answer}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return log


# ---------------------------------------------------------------------- reading an image


def test_index_manifest_config_in_three_requests(
    fake: FakeRegistry, image: FakeImage, behaviour: Behaviour
) -> None:
    source = open_registry(fake.ref(), AMD64)
    assert source.engine is None
    assert source.remote.index_digest == image.index_digest
    assert source.remote.manifest_digest == image.manifest_digest
    assert source.image.id == _sha(json.dumps(image.config).encode())
    # Identity: the id is the config digest; the manifest and index digests as served.
    assert source.image.config_digest == source.image.id
    assert source.image.manifest_digest == image.manifest_digest
    assert source.image.index_digest == image.index_digest
    assert [la.diff_id for la in source.image.layers] == image.config["rootfs"]["diff_ids"]
    assert [la.blob_digest for la in source.image.layers] == image.layer_digests
    assert [la.compressed_size for la in source.image.layers] == [
        len(image.blobs[d]) for d in image.layer_digests
    ]
    assert [la.size for la in source.image.layers] == [None, None]
    assert [h.empty_layer for h in source.image.history] == [False, True, False]
    assert [path for path, _ in behaviour.requests] == [
        f"/v2/{REPO}/manifests/v1",
        f"/v2/{REPO}/manifests/{image.manifest_digest}",
        f"/v2/{REPO}/blobs/{source.image.id}",
    ]


def test_platform_missing_from_the_index_is_exit_2(fake: FakeRegistry) -> None:
    with pytest.raises(
        RegistryError, match=r"no manifest for platform linux/s390x .*linux/arm64, linux/amd64"
    ):
        open_registry(fake.ref(), Options(platform="linux/s390x"))


def test_by_digest_skips_the_tag(fake: FakeRegistry, image: FakeImage) -> None:
    source = open_registry(fake.ref("@" + image.manifest_digest), AMD64)
    assert source.remote.index_digest is None
    assert source.remote.manifest_digest == image.manifest_digest
    assert (source.image.manifest_digest, source.image.index_digest) == (image.manifest_digest, None)


@pytest.mark.parametrize("which", ["manifest", "config", "index"])
def test_wrong_digest_served_is_exit_2_naming_it(
    fake: FakeRegistry, image: FakeImage, behaviour: Behaviour, which: str
) -> None:
    key = {
        "manifest": image.manifest_digest,
        "config": _sha(json.dumps(image.config).encode()),
        "index": "v1",
    }[which]
    behaviour.corrupt.add(key)
    with pytest.raises(RegistryError) as err:
        open_registry(fake.ref(), AMD64)
    assert err.value.exit_code == 2
    assert "digest" in err.value.message
    if which != "index":
        assert key in err.value.message


def test_wrong_layer_blob_is_exit_2_and_no_map(
    fake: FakeRegistry, image: FakeImage, behaviour: Behaviour, capsys: pytest.CaptureFixture[str]
) -> None:
    behaviour.corrupt.add(image.layer_digests[1])
    code = main(["image", fake.ref(), "--platform", "linux/amd64", "--contents", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert image.layer_digests[1] in err and "Traceback" not in err


def test_contents_streams_both_compressions_and_fills_sizes(
    fake: FakeRegistry, image: FakeImage, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["image", fake.ref(), "--platform", "linux/amd64", "--contents", "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 1  # the .env file is a secret: the default gate fails on it
    report = json.loads(out)
    sizes = [len(b"fake\n") + 3000, len(b"print('hi')\n") + len(b"API_KEY=abcdef0123456789abcdef\n")]
    assert [la["size"] for la in report["image"]["layers"]] == sizes
    assert report["image"]["size"] == sum(sizes)
    assert [la["blob_digest"] for la in report["image"]["layers"]] == image.layer_digests
    assert [h["size"] for h in report["image"]["history"]] == [sizes[0], 0, sizes[1]]
    assert any(f["rule"] == "secret-in-layer" and f["path"] == "/app/.env" for f in report["findings"])


def test_404_is_exit_2(fake: FakeRegistry, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["image", fake.ref(":nope")]) == 2
    assert "MANIFEST_UNKNOWN" in capsys.readouterr().err
    assert main(["image", f"docker://{fake.host}/other/repo:v1"]) == 2
    assert "NAME_UNKNOWN" in capsys.readouterr().err


def test_429_then_200_honours_retry_after(fake: FakeRegistry, behaviour: Behaviour) -> None:
    path = f"/v2/{REPO}/manifests/v1"
    behaviour.scripted[path] = [(429, {"Retry-After": "1"}, b"slow down")]
    started = time.monotonic()
    source = open_registry(fake.ref(), AMD64)
    assert time.monotonic() - started >= 1.0
    assert source.remote.manifest_digest
    assert [p for p, _ in behaviour.requests].count(path) == 2


def test_5xx_forever_is_exit_4_after_bounded_retries(fake: FakeRegistry, behaviour: Behaviour) -> None:
    path = f"/v2/{REPO}/manifests/v1"
    behaviour.scripted[path] = [(503, {"Retry-After": "0"}, b"down")] * 20
    with pytest.raises(RegistryUnavailable, match="503"):
        open_registry(fake.ref(), AMD64)
    assert [p for p, _ in behaviour.requests].count(path) == 5


def test_retry_after_past_the_budget_is_exit_4_at_once(fake: FakeRegistry, behaviour: Behaviour) -> None:
    behaviour.scripted[f"/v2/{REPO}/manifests/v1"] = [(429, {"Retry-After": "3600"}, b"")]
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="Retry-After"):
        open_registry(fake.ref(), AMD64)
    assert time.monotonic() - started < 2


def test_stalled_connection_is_exit_4_within_bounded_time(
    fake: FakeRegistry, image: FakeImage, behaviour: Behaviour, capsys: pytest.CaptureFixture[str]
) -> None:
    behaviour.stall.add(image.layer_digests[0])
    started = time.monotonic()
    code = main(["image", fake.ref(), "--platform", "linux/amd64", "--contents"])
    assert code == 4
    assert time.monotonic() - started < 4 * 1.5 + 1
    assert "timed out" in capsys.readouterr().err


def test_unreachable_registry_is_exit_4(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAYERMAP_REGISTRY_TIMEOUT", "2")
    assert main(["image", "docker://127.0.0.1:9/x/y:1"]) == 4
    assert "cannot reach the registry" in capsys.readouterr().err


def test_anonymous_bearer_token_flow(fake: FakeRegistry, behaviour: Behaviour) -> None:
    behaviour.auth = "bearer"
    open_registry(fake.ref(), AMD64)
    tokens = [p for p, _ in behaviour.requests if p.startswith("/token")]
    assert tokens == [f"/token?service=fake&scope=repository%3A{REPO.replace('/', '%2F')}%3Apull"]
    assert all(a == "Bearer tok-anon" for p, a in behaviour.requests[2:] if p.startswith("/v2/"))


def test_bearer_with_auths_credentials(fake: FakeRegistry, behaviour: Behaviour, tmp_path: Path) -> None:
    behaviour.auth = "bearer"
    _write_config(tmp_path, {"auths": {fake.host: {"auth": base64.b64encode(b"alice:s3cret").decode()}}})
    open_registry(fake.ref(), AMD64)
    assert any(a == "Bearer tok-user" for _, a in behaviour.requests)


def test_basic_auth_refused_is_exit_2_naming_what_was_tried(
    fake: FakeRegistry, behaviour: Behaviour, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    behaviour.auth = "basic"
    assert main(["image", fake.ref()]) == 2
    assert "none is stored" in capsys.readouterr().err
    _write_config(tmp_path, {"auths": {fake.host: {"username": "alice", "password": "wrong"}}})
    assert main(["image", fake.ref()]) == 2
    err = capsys.readouterr().err
    assert "authentication refused" in err and "user 'alice'" in err and "config.json auths" in err


def test_credential_helper(
    fake: FakeRegistry, behaviour: Behaviour, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    behaviour.auth = "basic"
    log = _fake_helper(tmp_path, monkeypatch, "alice", "s3cret")
    _write_config(tmp_path, {"credHelpers": {fake.host: "test"}})
    open_registry(fake.ref(), AMD64)
    assert log.read_text() == fake.host
    creds = find_credentials(fake.host)
    assert creds is not None and (creds.username, creds.origin) == ("alice", "docker-credential-test")


def test_creds_store_is_used_when_no_auths_entry(
    fake: FakeRegistry, behaviour: Behaviour, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    behaviour.auth = "bearer"
    _fake_helper(tmp_path, monkeypatch, "alice", "s3cret")
    _write_config(tmp_path, {"credsStore": "test"})
    open_registry(fake.ref(), AMD64)
    assert any(a == "Bearer tok-user" for _, a in behaviour.requests)


def test_registry_path_does_not_import_the_docker_sdk(fake: FakeRegistry) -> None:
    import subprocess

    code = (
        "import sys; from analyzer.cli import main; "
        f"rc = main(['image', '{fake.ref()}', '--platform', 'linux/amd64', '-o', '/dev/null']); "
        "print(rc, 'docker' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.stdout.split() == ["0", "False"], done.stderr


# ---------------------------------------------------------------------- requests and connections


def test_metadata_is_three_requests_on_one_connection(fake: FakeRegistry, behaviour: Behaviour) -> None:
    open_registry(fake.ref(), AMD64)
    assert len(behaviour.requests) == 3
    assert len(set(behaviour.peers)) == 1


def test_contents_reuses_the_token_and_connects_once_more(
    fake: FakeRegistry, image: FakeImage, behaviour: Behaviour
) -> None:
    behaviour.auth = "bearer"
    code = main(["image", fake.ref(), "--platform", "linux/amd64", "--contents", "-o", os.devnull])
    assert code == 1  # the .env secret
    paths = [path for path, _ in behaviour.requests]
    assert [p for p in paths if p.startswith("/token")] == [paths[1]]  # one token for the whole run
    assert paths[2:] == [
        f"/v2/{REPO}/manifests/v1",
        f"/v2/{REPO}/manifests/{image.manifest_digest}",
        f"/v2/{REPO}/blobs/{_sha(json.dumps(image.config).encode())}",
        *(f"/v2/{REPO}/blobs/{d}" for d in image.layer_digests),
    ]
    assert all(a == "Bearer tok-anon" for _, a in behaviour.requests[2:])
    # the manifests on one connection, the blobs on a second (the first was closed once the map was made)
    blob_peers = behaviour.peers[-len(image.layer_digests) :]
    assert len(set(blob_peers)) == 1
    assert len(set(behaviour.peers[2:5])) == 1


def test_redirected_blob_is_followed_without_the_token_on_another_host(
    fake: FakeRegistry, image: FakeImage, behaviour: Behaviour
) -> None:
    behaviour.auth = "bearer"
    behaviour.redirect_blobs = f"http://localhost:{fake.host.rsplit(':', 1)[1]}"
    source = open_registry(fake.ref(), AMD64)
    assert source.image.id == _sha(json.dumps(image.config).encode())
    storage = [(p, a) for p, a in behaviour.requests if p.startswith("/storage/")]
    assert storage == [(f"/storage/{source.image.id}", "")]


# ---------------------------------------------------------------------- layer blobs


def _contents_report(fake: FakeRegistry, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["image", fake.ref(), "--platform", "linux/amd64", "--contents", "--format", "json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else {"err": err})


BIG_FILES = {"data/zeros": bytes(5 << 20), "data/random": os.urandom(3 << 20), "etc/os-release": b"x\n"}


@pytest.mark.parametrize(
    "gz",
    [
        pytest.param(lambda data: gzip.compress(data, mtime=0), id="one-member"),
        pytest.param(
            lambda data: (
                gzip.compress(data[: len(data) // 3], mtime=0) + gzip.compress(data[len(data) // 3 :])
            ),
            id="two-members",
        ),
    ],
)
def test_large_gzip_layers_are_read_in_bounded_pieces(
    behaviour: Behaviour,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    gz: Callable[[bytes], bytes],
) -> None:
    """8 MiB unpacked (5 MiB of zeros: 1 MiB pieces out of a few KiB in; 3 MiB incompressible), one or
    two gzip members: every file listed, both digests verified."""
    image = make_image(BIG_FILES, gz)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    monkeypatch.setenv("LAYERMAP_NO_CACHE", "1")
    fake = FakeRegistry(image, behaviour)
    try:
        code, report = _contents_report(fake, capsys)
    finally:
        fake.close()
    assert code == 1, report  # the .env secret of the second layer
    assert report["image"]["layers"][0]["size"] == (5 << 20) + (3 << 20) + 2
    assert report["image"]["layers"][0]["blob_digest"] == image.layer_digests[0]


@pytest.mark.parametrize("damage", ["truncated", "bad-crc", "trailing-garbage"])
def test_damaged_gzip_is_exit_2_even_when_its_digest_matches(
    behaviour: Behaviour,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: str,
) -> None:
    """The registry serves exactly the bytes the manifest names, but they are no valid gzip."""

    def broken(data: bytes) -> bytes:
        good = gzip.compress(data, mtime=0)
        if damage == "truncated":
            return good[: len(good) // 2]
        if damage == "bad-crc":
            return good[:-8] + bytes([good[-8] ^ 1]) + good[-7:]
        return good + b"not gzip"

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    monkeypatch.setenv("LAYERMAP_NO_CACHE", "1")
    image = make_image(BIG_FILES, broken)
    fake = FakeRegistry(image, behaviour)
    try:
        code, report = _contents_report(fake, capsys)
    finally:
        fake.close()
    assert code == 2
    assert "is not a readable layer" in report["err"] and image.layer_digests[0] in report["err"]
    assert "Traceback" not in report["err"]


def test_the_engine_is_asked_for_its_platform_only_for_an_index(
    fake: FakeRegistry, image: FakeImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    import analyzer.image.registry as registry_mod

    asked: list[bool] = []

    def engine_platform() -> str:
        asked.append(True)
        return "linux/amd64"

    monkeypatch.setattr(registry_mod, "_engine_platform", engine_platform)
    assert open_registry(fake.ref("@" + image.manifest_digest)).remote.platform == "linux/amd64"
    assert asked == []  # a plain manifest: no platform to choose, no round trip to the engine
    assert open_registry(fake.ref()).remote.index_digest == image.index_digest
    assert asked == [True]
