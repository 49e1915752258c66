"""``layermap image docker://…`` against the test registries: the per-line map read from the registry
(no engine, no pull) equals the map of the same image read from the engine and from its ``docker save``,
on every engine; skopeo checks the manifest digest and the compressed sizes independently; the auth
registry needs the credentials docker would use.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.errors import NotFound
from helpers.engines import Engine, Registry

from analyzer.cli import main

DOCKERFILE = """\
FROM busybox:latest
ENV GREETING=hello
COPY data.txt /data/data.txt
RUN echo "$GREETING" > /data/made.txt && mkdir -p /data/more && cp /data/data.txt /data/more/
WORKDIR /data
COPY secret.env /data/.env
CMD ["cat", "/data/made.txt"]
"""


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ctx"
    folder.mkdir()
    (folder / "Dockerfile").write_text(DOCKERFILE)
    (folder / "data.txt").write_bytes(b"layermap registry test\n" * 400)
    (folder / "secret.env").write_text("API_KEY=abcdef0123456789abcdef0123\n")
    return folder


def _context_tar(folder: Path) -> io.BytesIO:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    out.seek(0)
    return out


def build_and_push(
    client: docker.APIClient, folder: Path, ref: str, auth: dict[str, str] | None = None
) -> str:
    """Build ``folder`` with the engine's default builder API (classic), tag ``ref``, push; the image id."""
    repository, tag = ref.rsplit(":", 1)
    messages = list(
        client.build(
            fileobj=_context_tar(folder), custom_context=True, tag=ref, decode=True, rm=True, forcerm=True
        )
    )
    errors = [m for m in messages if "error" in m]
    assert not errors, errors
    pushed = list(client.push(repository, tag=tag, stream=True, decode=True, auth_config=auth))
    assert not [m for m in pushed if "error" in m], pushed
    return str(client.inspect_image(ref)["Id"])


@pytest.fixture
def own_refs(engine: Engine) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for ref in made:
        with contextlib.suppress(NotFound):
            engine.client.remove_image(ref, force=True)


def layermap_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any] | None, str]:
    code = main([*argv, "--format", "json", "-q"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def final_map(report: dict[str, Any], sizes: bool) -> list[tuple[Any, ...]]:
    return [
        (
            s["line"],
            s["instruction"],
            s["creates_layer"],
            s["history"],
            s["layer"] if sizes or s["layer"] is None else {**s["layer"], "size": None},
            s.get("files"),
        )
        for s in report["steps"]
        if s["in_final_image"]
    ]


def skopeo(registry: Registry, *args: str) -> Any:
    tool = shutil.which("skopeo")
    assert tool is not None, "skopeo is not installed"
    done = subprocess.run(
        [tool, *args, "--tls-verify=true", "--cert-dir", registry.cert_dir],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_registry_map_equals_engine_and_save_maps(
    engine: Engine,
    registry: Registry,
    context_dir: Path,
    own_refs: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref = f"{registry.host}/lmtest-reg-{engine.kind}:{uuid.uuid4().hex[:10]}"
    own_refs.append(ref)
    image_id = build_and_push(engine.client, context_dir, ref)
    dockerfile = str(context_dir / "Dockerfile")
    common = ["--dockerfile", dockerfile, "--contents", "--fail-on", "never"]

    code, remote, err = layermap_json(capsys, "image", f"docker://{ref}", "--ca-cert", registry.ca, *common)
    assert code == 0, err
    code, local, err = layermap_json(capsys, "image", ref, *common)
    assert code == 0, err
    saved = tmp_path / "saved.tar"
    with saved.open("wb") as out:
        for chunk in engine.client.get_image(ref, chunk_size=1 << 20):
            out.write(chunk)
    code, archived, err = layermap_json(capsys, "image", str(saved), *common)
    assert code == 0, err
    assert remote is not None and local is not None and archived is not None

    # The config is the same document everywhere: registry and archive name the image by its digest;
    # so does overlay2, while the containerd store's image id is its manifest (or index) digest.
    assert remote["image"]["id"] == archived["image"]["id"]
    assert local["image"]["id"] == image_id
    if engine.storage == "overlay2":
        assert remote["image"]["id"] == image_id
    assert remote["image"]["diff_ids"] == local["image"]["diff_ids"]
    assert final_map(remote, sizes=True) == final_map(archived, sizes=True)
    # The containerd store reports snapshot disk usage as sizes: only the layers must agree there.
    overlay = engine.storage == "overlay2"
    assert final_map(remote, sizes=overlay) == final_map(local, sizes=overlay)
    assert [f["path"] for f in remote["findings"] if f["rule"] == "secret-in-layer"] == ["/data/.env"]

    # skopeo, independently: the manifest's layer digests and sizes are the report's blobs.
    manifest = skopeo(registry, "inspect", "--raw", f"docker://{ref}")
    if "manifests" in manifest:  # an index (containerd store pushes): the linux/amd64 entry
        chosen = next(
            m for m in manifest["manifests"] if m.get("platform", {}).get("architecture") == "amd64"
        )
        manifest = skopeo(
            registry, "inspect", "--raw", f"docker://{ref.rsplit(':', 1)[0]}@{chosen['digest']}"
        )
    layers = remote["image"]["layers"]
    assert [la["blob_digest"] for la in layers] == [la["digest"] for la in manifest["layers"]]
    assert [la["compressed_size"] for la in layers] == [la["size"] for la in manifest["layers"]]


def test_metadata_only_is_three_requests_and_says_sizes_are_unknown(
    engine: Engine,
    registry: Registry,
    context_dir: Path,
    own_refs: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref = f"{registry.host}/lmtest-reg-meta-{engine.kind}:{uuid.uuid4().hex[:10]}"
    own_refs.append(ref)
    build_and_push(engine.client, context_dir, ref)
    code = main(
        ["image", f"docker://{ref}", "--ca-cert", registry.ca, "--format", "json", "--fail-on", "never"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert all(la["size"] is None for la in report["image"]["layers"])
    assert "layer sizes unknown" in err


def test_auth_registry_uses_docker_credentials(
    engine: Engine,
    registry: Registry,
    context_dir: Path,
    own_refs: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref = f"{registry.auth_host}/lmtest-reg-auth-{engine.kind}:{uuid.uuid4().hex[:10]}"
    own_refs.append(ref)
    auth = {"username": registry.user, "password": registry.password}
    engine.client.login(registry.user, registry.password, registry=registry.auth_host, reauth=True)
    build_and_push(engine.client, context_dir, ref, auth)
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    argv = [
        "image",
        f"docker://{ref}",
        "--ca-cert",
        registry.ca,
        "--format",
        "json",
        "-q",
        "-o",
        str(tmp_path / "r"),
    ]

    assert main(argv) == 2
    assert "basic auth" in capsys.readouterr().err
    secret = base64.b64encode(f"{registry.user}:{registry.password}x".encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {registry.auth_host: {"auth": secret}}}))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "authentication refused" in err and registry.user in err
    secret = base64.b64encode(f"{registry.user}:{registry.password}".encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {registry.auth_host: {"auth": secret}}}))
    assert main(argv) in (0, 1)
    assert json.loads((tmp_path / "r").read_text())["image"]["layer_count"] == 4


def test_certificate_trust_follows_certs_d(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No CA for the host: exit 4 naming --ca-cert (never plain HTTP); its CA as certs.d/HOST/ca.crt:
    trusted (the registry then says the tag is unknown: exit 2)."""
    certs_d = tmp_path / "certs.d"
    certs_d.mkdir()
    monkeypatch.setenv("LAYERMAP_CERTS_D", str(certs_d))
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent")
    assert main(["image", f"docker://{registry.host}/nothing:here"]) == 4
    assert "--ca-cert" in capsys.readouterr().err
    (certs_d / registry.host).mkdir()
    shutil.copy(registry.ca, certs_d / registry.host / "ca.crt")
    assert main(["image", f"docker://{registry.host}/nothing:here"]) == 2
    assert "404" in capsys.readouterr().err


def test_unknown_tag_is_exit_2(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["image", f"docker://{registry.host}/lmtest-none/x:nope", "--ca-cert", registry.ca]) == 2
    assert "404" in capsys.readouterr().err
