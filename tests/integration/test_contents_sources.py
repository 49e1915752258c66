"""``--contents`` on a real engine: secrets left in layers, and the same report whichever way the
layers are read (export, the overlay2 layer store's tar-split data, the cache, a saved archive)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from helpers.dive import Report, layermap

from analyzer.contents.cache import ListingCache
from analyzer.contents.fetch import engine_listings
from analyzer.engine.client import Engine, connect

# Made at run time: a file that looks like a private key must not sit in the repository.
FAKE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEgcmVhbCBrZXk=\n-----END OPENSSH PRIVATE KEY-----\n"
TOKEN = "npm_notARealTokenButLooksLikeOne"
DOCKERFILE = """\
FROM busybox:latest
COPY id_ed25519 /root/.ssh/id_ed25519
COPY cert.pem /etc/cert.pem
COPY npmrc /root/.npmrc
RUN echo 'registry=x' > /root/.npmrc.bak
RUN mkdir -p /src/.git && echo '[core]' > /src/.git/config && echo 'SECRET=1' > /src/.env
RUN rm -rf /root/.ssh /root/.npmrc /src/.git
RUN cp /etc/cert.pem /etc/cert2.pem
"""
TAG = "lmtest-contents-secrets"


@pytest.fixture(scope="module")
def secrets_image(
    tmp_path_factory: pytest.TempPathFactory, docker_client: docker.APIClient, seeded_images: dict[str, str]
) -> Iterator[Path]:
    """The Dockerfile's folder; the image is built (tagged) by the first test and removed at the end."""
    context = tmp_path_factory.mktemp("secrets")
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "id_ed25519").write_text(FAKE_KEY)
    (context / "npmrc").write_text(f"//registry.example/:_authToken={TOKEN}\n")
    (context / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    yield context
    with contextlib.suppress(docker.errors.APIError):
        docker_client.remove_image(TAG)


@pytest.fixture
def built(capsys: pytest.CaptureFixture[str], tmp_path: Path, secrets_image: Path) -> Report:
    return layermap(
        capsys, "build", str(secrets_image), "-t", TAG, tmp=tmp_path, env={"LAYERMAP_NO_CACHE": "1"}
    )


def secret_path(finding: dict[str, Any]) -> str:
    """The contract's ``path``; the review gate passes it on as ``paths`` (one item)."""
    path = finding["path"] if "path" in finding else finding["paths"][0]
    assert isinstance(path, str)
    return path


def secret_findings(report: Report) -> list[tuple[Any, ...]]:
    return sorted(
        (f["line"], secret_path(f), f.get("removed_line"), f["layer"])
        for f in report["findings"]
        if f["rule"] == "secret-in-layer"
    )


def test_secrets_are_reported_at_the_adding_line_even_when_deleted(built: Report) -> None:
    layer_of = {s["line"]: s["layer"]["index"] for s in built["steps"] if s["layer"] is not None}
    assert secret_findings(built) == [
        (2, "/root/.ssh/id_ed25519", 7, layer_of[2]),
        (4, "/root/.npmrc", 7, layer_of[4]),
        (6, "/src/.env", None, layer_of[6]),
        (6, "/src/.git", 7, layer_of[6]),
    ]
    text = json.dumps(built)
    assert "bm90IGEgcmVhbCBrZXk=" not in text and TOKEN not in text  # names only, never contents
    key = next(
        f
        for f in built["findings"]
        if f["rule"] == "secret-in-layer" and secret_path(f).endswith("id_ed25519")
    )
    assert key["severity"] == "error"
    where = f"is stored in layer {layer_of[2]} (added by line 2); line 7 deletes or replaces it"
    assert key["message"].startswith(f"private key /root/.ssh/id_ed25519 {where}")


def test_export_and_layer_store_give_the_same_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, built: Report
) -> None:
    no_cache = {"LAYERMAP_NO_CACHE": "1"}
    exported = layermap(
        capsys, "image", TAG, tmp=tmp_path, env={**no_cache, "LAYERMAP_CONTENTS_SOURCE": "export"}
    )
    local = layermap(
        capsys, "image", TAG, tmp=tmp_path, env={**no_cache, "LAYERMAP_CONTENTS_SOURCE": "layerdb"}
    )
    assert exported == local
    # Without a Dockerfile there are no lines (and no base to measure the user's share against).
    unlined = ("added_line", "removed_line")
    assert [{k: v for k, v in p.items() if k not in unlined} for p in exported["waste"]["pairs"]] == [
        {k: v for k, v in p.items() if k not in unlined} for p in built["waste"]["pairs"]
    ]
    for key in ("wasted_bytes", "efficiency", "dive_compatible"):
        assert exported["waste"][key] == built["waste"][key]
    assert secret_findings(exported) == sorted(
        (None, p, None, layer) for _, p, _, layer in secret_findings(built)
    )


def test_the_cache_skips_the_engine_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, built: Report
) -> None:
    engine = connect()
    image = engine.image(TAG)
    cache = ListingCache(tmp_path / "c")
    first = engine_listings(engine, image, cache, via="export")
    assert cache.misses == len(set(image.diff_ids)) and cache.hits == 0
    counting = _NoExport(engine)
    again = engine_listings(counting, image, ListingCache(tmp_path / "c"), via="export")
    assert again == first
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "LAYERMAP_CONTENTS_SOURCE": "export"}
    cold = layermap(capsys, "image", TAG, "--dockerfile", str(_dockerfile(tmp_path)), tmp=tmp_path, env=env)
    warm = layermap(capsys, "image", TAG, "--dockerfile", str(_dockerfile(tmp_path)), tmp=tmp_path, env=env)
    assert cold == warm and cold["waste"] == built["waste"]
    assert len(list((tmp_path / "xdg" / "layermap" / "contents" / "v1").iterdir())) == len(
        set(image.diff_ids)
    )


def test_a_saved_archive_gives_the_same_contents(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, built: Report, docker_client: docker.APIClient
) -> None:
    archive = tmp_path / "saved.tar"
    with archive.open("wb") as out:
        for chunk in docker_client.get_image(TAG):
            out.write(chunk)
    env = {"LAYERMAP_NO_CACHE": "1"}
    from_archive = layermap(
        capsys, "image", str(archive), "--dockerfile", str(_dockerfile(tmp_path)), tmp=tmp_path, env=env
    )
    assert from_archive["waste"] == built["waste"]
    assert [s.get("files") for s in from_archive["steps"]] == [s.get("files") for s in built["steps"]]
    assert secret_findings(from_archive) == secret_findings(built)


def _dockerfile(tmp_path: Path) -> Path:
    path = tmp_path / "Dockerfile.secrets"
    path.write_text(DOCKERFILE)
    return path


class _NoExport:
    """The engine, except that an export fails the test (everything must come from the cache)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def info(self) -> Any:
        return self._engine.info()

    def export(self, image_id: str) -> Iterator[bytes]:
        raise AssertionError("exported although every layer was cached")
