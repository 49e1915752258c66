"""Re-record the real ``docker save`` archives used by ``tests/unit/image/test_archive*.py``.

Run against a real Docker 20.10 engine with the classic builder (nothing is pulled; ``busybox:latest``
must exist, see scripts/dev-engine.sh):

    DOCKER_HOST=unix:///tmp/lm-engine/docker.sock PYTHONPATH=tests .venv/bin/python -m helpers.record archives

It writes, next to itself:

- ``docker-small.tar``: ``docker save lmtest-archive:small``, an image ``FROM scratch`` with COPY, ENV,
  WORKDIR, ONBUILD and LABEL lines; its last COPY repeats the first one, so the save holds a duplicate
  layer written as a symlink to the first copy.
- ``docker-two.tar``: one save of two images (``lmtest-archive:small`` and ``lmtest-archive:child``, built
  ``FROM`` the first, which runs its ONBUILD trigger): two ``manifest.json`` entries sharing layers.
- ``layer-links.tar``: one layer tar taken out of a save of an image built ``FROM busybox:latest`` whose
  RUN makes a hard link, a symlink, a whiteout and an opaque directory (the whole save would be 2 MB).
- ``engine.json``: what the engine itself says about each image: id, tags, ``RootFS.Layers``, the
  history API's per-entry ``Size`` (oldest first), ``empty_layer`` from the saved config, ONBUILD.

Docker 20.10 cannot write the OCI save format; the OCI tests convert ``docker-small.tar`` instead.
Image ids change with every recording; the tests read them from ``engine.json``. Everything built here is
tagged ``lmtest-archive:*`` and untagged at the end (the daemon keeps the untagged step images as cache).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import docker

from helpers.record.common import fixture_dir

HERE = fixture_dir("archives")

SMALL = """\
FROM scratch
COPY hello.txt /hello.txt
ENV GREETING=hi
COPY dir /opt/dir
WORKDIR /work
COPY hello.txt /hello.txt
ONBUILD ENV CHILD=1
LABEL purpose=layermap-archive-fixture
"""

CHILD = """\
FROM lmtest-archive:small
COPY extra.txt /extra.txt
"""

# The second RUN removes /d, which the first RUN made, and re-creates it: an opaque directory.
LINKS = """\
FROM busybox:latest
RUN mkdir /d && echo old > /d/old
RUN echo abc > /a && ln /a /b && ln -s /a /c && rm /bin/ls \\
 && rm -r /d && mkdir /d && echo z > /d/z
"""


def write_context(root: Path, dockerfile: str) -> None:
    (root / "Dockerfile").write_text(dockerfile)
    (root / "hello.txt").write_text("hello\n")
    (root / "extra.txt").write_text("extra\n")
    (root / "dir").mkdir()
    (root / "dir" / "data.bin").write_bytes(b"abc")
    (root / "dir" / "link").symlink_to("../hello.txt")


def build(client: docker.APIClient, dockerfile: str, tag: str) -> None:
    with tempfile.TemporaryDirectory(prefix="lm-archive-ctx-") as ctx:
        write_context(Path(ctx), dockerfile)
        for msg in client.build(path=ctx, tag=tag, rm=True, forcerm=True, decode=True):
            if "error" in msg:
                raise SystemExit(f"build of {tag} failed: {msg['error']}")


def save(tags: list[str], dest: Path) -> None:
    # The CLI, because the SDK's get_image saves one name only.
    subprocess.run(["docker", "save", "-o", str(dest), *tags], check=True)


def saved_configs(archive: Path) -> dict[str, dict[str, Any]]:
    """RepoTag → image config, read from the save with plain tarfile (independently of layermap)."""
    out: dict[str, dict[str, Any]] = {}
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        for entry in manifest:
            config = json.load(tar.extractfile(entry["Config"]))  # type: ignore[arg-type]
            for tag in entry["RepoTags"]:
                out[tag] = config
    return out


def describe(client: docker.APIClient, tag: str, config: dict[str, Any]) -> dict[str, Any]:
    inspect = client.inspect_image(tag)
    sizes = [entry["Size"] for entry in reversed(client.history(tag))]
    history = config["history"]
    assert len(sizes) == len(history), (tag, sizes, history)
    return {
        "id": inspect["Id"],
        "repo_tags": inspect["RepoTags"],
        "diff_ids": inspect["RootFS"]["Layers"],
        "size": inspect["Size"],
        "onbuild": (inspect["Config"] or {}).get("OnBuild") or [],
        "history": [
            {"created_by": h.get("created_by", ""), "empty_layer": bool(h.get("empty_layer")), "size": s}
            for h, s in zip(history, sizes, strict=True)
        ],
    }


def extract_top_layer(archive: Path, dest: Path) -> str:
    """Copy the image's last layer tar out of a save; return its manifest path."""
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        name = manifest[0]["Layers"][-1]
        member = tar.extractfile(name)
        assert member is not None
        dest.write_bytes(member.read())
    return str(name)


def main() -> None:
    client = docker.APIClient(version="auto", **docker.utils.kwargs_from_env())
    tags = ["lmtest-archive:small", "lmtest-archive:child", "lmtest-archive:links"]
    try:
        build(client, SMALL, tags[0])
        build(client, CHILD, tags[1])
        build(client, LINKS, tags[2])
        save(tags[:1], HERE / "docker-small.tar")
        save(tags[:2], HERE / "docker-two.tar")
        with tempfile.TemporaryDirectory(prefix="lm-archive-save-") as tmp:
            links_save = Path(tmp) / "links.tar"
            save(tags[2:], links_save)
            configs = saved_configs(HERE / "docker-two.tar") | saved_configs(links_save)
            extract_top_layer(links_save, HERE / "layer-links.tar")
        version = client.version()
        record = {
            "engine": f"Docker Engine {version['Version']} ({client.info()['Driver']}), classic builder",
            "dockerfiles": {"small": SMALL, "child": CHILD, "links": LINKS},
            "images": {tag: describe(client, tag, configs[tag]) for tag in tags},
        }
        (HERE / "engine.json").write_text(json.dumps(record, indent=2) + "\n")
    finally:
        for tag in reversed(tags):
            untag(client, tag)


def untag(client: docker.APIClient, tag: str) -> None:
    try:
        client.remove_image(tag)
    except docker.errors.APIError as exc:  # a build that failed before tagging
        print(f"could not untag {tag}: {exc}")


if __name__ == "__main__":
    main()
