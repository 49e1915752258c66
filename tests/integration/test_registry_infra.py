"""The test registries themselves (scripts/dev-registry.sh), on every engine: the infrastructure that the
registry feature tests stand on, proved with the engines and skopeo, without layermap.

On each engine (``engine`` fixture) a tag of ``busybox:latest`` of our own is pushed to each registry
(after a login for the auth one), untagged, pulled back, and the manifest digest skopeo reads from the
registry over TLS verified against the test CA must be the RepoDigest the engine reports. Only tags these
tests made are removed.

Measured on Docker 20.10, 26.1 and 28.5: engines treat every 127.0.0.0/8 registry as insecure (moby adds
that range to the insecure registries unconditionally), so their own push and pull use TLS *without*
verifying the certificate, and ``/etc/docker/certs.d`` is not consulted for them. The certificate check is
therefore skopeo's (``--tls-verify=true --cert-dir``): it must fail without the CA. That the engines use
TLS at all is shown by the registries refusing plain HTTP.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.errors import DockerException, NotFound
from helpers.engines import Engine, Registry

SKOPEO_TIMEOUT = 60


@pytest.fixture(scope="module")
def skopeo() -> str:
    path = shutil.which("skopeo")
    if path is None:
        pytest.fail("skopeo is not installed (scripts/dev-registry.sh install)")
    return path


def run_skopeo(skopeo: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [skopeo, *args], capture_output=True, text=True, timeout=SKOPEO_TIMEOUT, check=False
    )


def inspect_digest(skopeo: str, registry: Registry, ref: str, *, auth: bool) -> str:
    """The manifest digest of ``ref`` in the registry, as skopeo reads it with TLS verified."""
    creds = ["--creds", f"{registry.user}:{registry.password}"] if auth else []
    done = run_skopeo(
        skopeo, "inspect", "--tls-verify=true", "--cert-dir", registry.cert_dir, *creds, f"docker://{ref}"
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["Digest"])


def stream_errors(messages: Iterator[dict[str, Any]]) -> list[str]:
    """Consume a push/pull progress stream; the errors it reported."""
    return [str(m.get("error") or m["errorDetail"]) for m in messages if "error" in m or "errorDetail" in m]


def inspect(client: docker.APIClient, ref: str) -> dict[str, Any]:
    found: dict[str, Any] = client.inspect_image(ref)  # type: ignore[no-untyped-call]
    return found


def repo_digest(client: docker.APIClient, ref: str, repository: str) -> str:
    """The digest of the engine's RepoDigest for ``repository`` (``repository@sha256:…``) of ``ref``."""
    digests = inspect(client, ref).get("RepoDigests") or []
    found = [d.split("@", 1)[1] for d in digests if d.split("@", 1)[0] == repository]
    assert len(found) == 1, f"RepoDigests of {ref} for {repository}: {digests}"
    return str(found[0])


@pytest.fixture
def own_tags(engine: Engine) -> Iterator[list[str]]:
    """Tags a test made on the engine; removed afterwards (the images they point to stay)."""
    made: list[str] = []
    yield made
    with contextlib.suppress(NotFound):
        for ref in made:
            engine.client.remove_image(ref, noprune=True)


@pytest.mark.parametrize("which", ["plain", "auth"])
def test_engine_pushes_pulls_and_skopeo_sees_the_same_digest(
    engine: Engine, registry: Registry, skopeo: str, own_tags: list[str], which: str
) -> None:
    client = engine.client
    auth = which == "auth"
    host = registry.auth_host if auth else registry.host
    repository = f"{host}/lmtest-infra-{engine.kind}"
    tag = uuid.uuid4().hex[:12]
    ref = f"{repository}:{tag}"
    auth_config = {"username": registry.user, "password": registry.password} if auth else None

    assert client.tag("busybox:latest", repository, tag)
    own_tags.append(ref)
    if auth:
        # Without credentials the auth registry refuses the push ({} : none, not the client's login).
        errors = stream_errors(client.push(repository, tag=tag, stream=True, decode=True, auth_config={}))
        assert errors and any("auth" in e.lower() or "401" in e for e in errors), errors
        answer = client.login(registry.user, registry.password, registry=host, reauth=True)
        assert answer.get("Status") == "Login Succeeded", answer
    pushing = client.push(repository, tag=tag, stream=True, decode=True, auth_config=auth_config)
    assert stream_errors(pushing) == []
    pushed = repo_digest(client, ref, repository)

    # Gone locally (only our tag), then back from the registry.
    client.remove_image(ref, noprune=True)
    own_tags.remove(ref)
    with pytest.raises(NotFound):
        inspect(client, ref)
    pulling = client.pull(repository, tag=tag, stream=True, decode=True, auth_config=auth_config)
    own_tags.append(ref)
    assert stream_errors(pulling) == []
    assert inspect(client, ref)["Id"] == inspect(client, "busybox:latest")["Id"]
    assert repo_digest(client, ref, repository) == pushed

    assert inspect_digest(skopeo, registry, ref, auth=auth) == pushed


def test_skopeo_verifies_the_registry_certificate(registry: Registry, skopeo: str, tmp_path: Path) -> None:
    """TLS is real: without the CA (an empty --cert-dir replaces the system's certs.d), skopeo refuses."""
    empty = tmp_path / "no-ca"
    empty.mkdir()
    for host in (registry.host, registry.auth_host):
        done = run_skopeo(
            skopeo, "inspect", "--tls-verify=true", "--cert-dir", str(empty), f"docker://{host}/nothing:here"
        )
        assert done.returncode != 0
        assert "certificate" in done.stderr.lower() or "x509" in done.stderr.lower(), done.stderr


def test_registries_refuse_plain_http_and_anonymous_access(registry: Registry) -> None:
    """Both speak TLS only (so the engines' pushes above went over TLS), and the auth one wants the
    password: anonymous gets 401, the generated user 200."""
    for host in (registry.host, registry.auth_host):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://{host}/v2/", timeout=10)
        assert refused.value.code == 400  # "Client sent an HTTP request to an HTTPS server."
    context = registry.ssl_context()
    with urllib.request.urlopen(f"https://{registry.host}/v2/", context=context, timeout=10) as ok:
        assert ok.status == 200
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"https://{registry.auth_host}/v2/", context=context, timeout=10)
    assert anonymous.value.code == 401
    request = urllib.request.Request(f"https://{registry.auth_host}/v2/")
    password_manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    password_manager.add_password(None, f"https://{registry.auth_host}/", registry.user, registry.password)
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), urllib.request.HTTPBasicAuthHandler(password_manager)
    )
    with opener.open(request, timeout=10) as ok:
        assert ok.status == 200


def test_engine_login_checks_the_password(engine: Engine, registry: Registry) -> None:
    """The engine's login goes to the auth registry and a wrong password is refused there.

    Measured: 20.10 reports the registry's 401. 26.1 and 28.5 then retry the insecure (loopback) registry
    over plain HTTP and report that attempt instead: "login attempt to http://HOST/v2/ failed with status:
    400 Bad Request"."""
    with pytest.raises(DockerException) as refused:
        engine.client.login(registry.user, registry.password + "x", registry=registry.auth_host, reauth=True)
    message = str(refused.value).lower()
    if engine.storage == "overlay2":
        assert "401" in message or "unauthorized" in message, message
    else:
        assert f"http://{registry.auth_host}/v2/" in message or "401" in message, message
