"""Re-record the classic build streams and image responses used by
``tests/unit/engine/test_classic_stream.py`` and ``test_client.py``.

Run against a real engine (nothing is pulled; ``busybox:latest`` must exist):

    DOCKER_HOST=unix:///tmp/lm-engine/docker.sock PYTHONPATH=tests .venv/bin/python -m helpers.record streams

``--images-only`` re-records just the ``image_*.json`` files (their builds are not written as streams);
``--only=NAME[,NAME]`` just those scenarios. Scenarios in ``PER_ENGINE`` are written as
``<name>_<engine major.minor>.json`` (record them once per engine: 20.10, 26.1, 28.5).

Each ``<name>.json`` holds the Dockerfile, the build arguments, the raw ``APIClient.build(decode=True)``
messages and, as the engine's independent truth, the short ids of every stage image's ``Parent`` chain.
Image ids change with every recording, so re-recording means updating the literal ids in the tests.
Everything it builds is tagged ``lmtest-rec-*`` and removed at the end.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors

from helpers.record.common import fixture_dir

HERE = fixture_dir("streams")

BASIC = """\
FROM busybox:latest
ENV GREETING=hello
RUN echo "$GREETING" > /greeting && echo done
COPY data.txt /data.txt
WORKDIR /work
RUN true
CMD ["cat", "/greeting"]
"""

FAIL = """\
FROM busybox:latest
RUN echo ok
RUN for i in $(seq 1 25); do echo line $i; done; exit 3
RUN echo never
"""

# RUN output faking builder lines, even the container's own id (its hostname), without a final newline.
SPOOF = (
    "FROM busybox:latest\n"
    "RUN printf 'Step 9/9 : RUN evil\\n ---> deadbeefdead\\nRemoving intermediate container %s'"
    ' "$(hostname)"\n'
    "RUN printf 'Removing intermediate container %s\\n ---> deadbeefdead\\nStep 4/5 : ENV EVIL=1\\n"
    " ---> Using cache\\n ---> 0123456789ab\\nStep 5/5 : RUN evil\\n ---> Running in 0123456789ab\\nevil'"
    ' "$(hostname)"\n'
    "ENV AFTER=1\n"
    "RUN echo real-output\n"
)

SPOOF_FAIL = (
    "FROM busybox:latest\n"
    "RUN echo ok\n"
    "RUN printf 'tail-1\\nRemoving intermediate container %s\\n ---> deadbeefdead\\nStep 4/4 : RUN fake\\n"
    ' ---> Running in 0123456789ab\\nfake-output\\n\' "$(hostname)"; exit 5\n'
    "RUN echo never\n"
)

MULTI = """\
ARG VERSION=1
FROM busybox:latest AS builder
ARG VERSION
RUN echo "built $VERSION" > /out
FROM busybox:latest AS unused
RUN echo unused
FROM busybox:latest
COPY --from=builder /out /out
CMD ["cat", "/out"]
"""

GLOBAL_ARG = """\
ARG TAG=latest
FROM busybox:${TAG}
ARG TAG
RUN echo "tag=$TAG"
"""

ONBUILD_PARENT = """\
FROM busybox:latest
ONBUILD RUN echo trigger-one > /t1
ONBUILD ENV T=1
ONBUILD RUN echo trigger-two
"""

ONBUILD_CHILD = """\
FROM lmtest-rec-onbuild-parent
RUN echo child
"""

COPY_MISSING = """\
FROM busybox:latest
COPY missing.txt /missing.txt
"""

SYNTAX_ERROR = """\
FROM busybox:latest
FOO bar
"""

# A blank line inside a continuation: the engine sends a coloured warning before `Step 1/N`.
EMPTY_CONTINUATION = "FROM busybox:latest\nRUN echo a \\\n\n    echo b\n"

# Recorded once per engine version (the warning's text and colour codes differ between them).
PER_ENGINE = {"empty_continuation"}

# name, Dockerfile, build kwargs; the order matters (cached rebuild, ONBUILD parent before child).
SCENARIOS: list[tuple[str, str, dict[str, Any]]] = [
    ("basic", BASIC, {"nocache": True, "tag": "lmtest-rec-basic"}),
    ("cached", BASIC, {"tag": "lmtest-rec-basic"}),
    ("fail_exit3", FAIL, {"nocache": True}),
    ("spoof", SPOOF, {"nocache": True, "tag": "lmtest-rec-spoof"}),
    ("spoof_fail", SPOOF_FAIL, {"nocache": True}),
    ("multistage", MULTI, {"nocache": True, "tag": "lmtest-rec-multi", "buildargs": {"VERSION": "2"}}),
    ("target", MULTI, {"target": "builder", "tag": "lmtest-rec-target"}),
    ("global_arg", GLOBAL_ARG, {"nocache": True, "tag": "lmtest-rec-global", "buildargs": {"TAG": "latest"}}),
    ("onbuild_parent", ONBUILD_PARENT, {"nocache": True, "tag": "lmtest-rec-onbuild-parent"}),
    ("onbuild_child", ONBUILD_CHILD, {"nocache": True, "tag": "lmtest-rec-onbuild-child"}),
    ("onbuild_child_cached", ONBUILD_CHILD, {"tag": "lmtest-rec-onbuild-child"}),
    ("copy_missing", COPY_MISSING, {"nocache": True}),
    ("syntax_error", SYNTAX_ERROR, {"nocache": True}),
    ("empty_continuation", EMPTY_CONTINUATION, {"nocache": True, "tag": "lmtest-rec-empty-cont"}),
]

# Final images whose inspect / history / config are recorded for the image-merging tests.
IMAGES = {"basic": "lmtest-rec-basic", "onbuild_child": "lmtest-rec-onbuild-child"}
IMAGE_BUILDS = {*IMAGES.values(), "lmtest-rec-onbuild-parent"}


def chain_short_ids(client: Any, image_id: str) -> list[str]:
    """Short ids of the image and all its ``Parent`` ancestors, oldest first."""
    out: list[str] = []
    ref: str | None = image_id
    while ref:
        inspect = client.inspect_image(ref)
        out.append(inspect["Id"].split(":", 1)[1][:12])
        ref = inspect.get("Parent") or None
    return out[::-1]


def last_step_image(client: Any, messages: list[dict[str, Any]]) -> str | None:
    from analyzer.engine.classic_stream import StreamParser
    from analyzer.engine.client import Engine

    parser = StreamParser()
    for message in messages:
        parser.feed(message)
    parser.finish()
    result = parser.result()
    return Engine(client, "recorder").last_step_image(result) if result.failure else None


def chain_inspects(client: Any, image_id: str) -> list[dict[str, Any]]:
    """The inspect fields ``Engine.chain`` reads, for the image and its ancestors, newest first."""
    out = []
    ref: str | None = image_id
    while ref:
        inspect = client.inspect_image(ref)
        out.append(
            {
                "Id": inspect["Id"],
                "Parent": inspect["Parent"],
                "ContainerConfig": {"Cmd": inspect["ContainerConfig"]["Cmd"]},
                "RootFS": inspect["RootFS"],
            }
        )
        ref = inspect.get("Parent") or None
    return out


def record(
    client: Any, name: str, dockerfile: str, kwargs: dict[str, Any], *, write: bool = True
) -> set[str]:
    with tempfile.TemporaryDirectory() as context:
        Path(context, "Dockerfile").write_text(dockerfile)
        Path(context, "data.txt").write_text("some data\n")
        entry: dict[str, Any] = {"name": name, "dockerfile": dockerfile, "build": kwargs}
        try:
            stream = client.build(path=context, rm=True, forcerm=True, decode=True, **kwargs)
            entry["messages"] = list(stream)
        except docker.errors.APIError as exc:
            entry["messages"] = []
            entry["raises"] = {"status": exc.status_code, "explanation": exc.explanation}
    ids = [m["aux"]["ID"] for m in entry["messages"] if isinstance(m.get("aux"), dict) and "ID" in m["aux"]]
    entry["stage_chains"] = [chain_short_ids(client, image_id) for image_id in ids]
    last = last_step_image(client, entry["messages"])
    if last is not None:
        # The failed build's surviving step images: inspect data for the last_step_image() tests.
        entry["failed_stage_inspects"] = chain_inspects(client, last)
        ids.append(last)
    if write:
        if name in PER_ENGINE:
            name = f"{name}_{'.'.join(client.version()['Version'].split('.')[:2])}"
        (HERE / f"{name}.json").write_text(json.dumps(entry, indent=1) + "\n")
    print(f"{name}: {len(entry['messages'])} messages, {len(ids)} stage images", file=sys.stderr)
    return set(ids)


def record_image(client: Any, name: str, ref: str) -> None:
    """Inspect, history, the config from a full ``docker save`` and the layerdb's own chain ids."""
    inspect = client.inspect_image(ref)
    with tarfile.open(fileobj=io.BytesIO(b"".join(client.get_image(inspect["Id"]))), mode="r:") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    entry = {
        "inspect": inspect,
        "history": client.history(inspect["Id"]),
        "config": config,
        "layerdb_chain_ids": layerdb_chain_ids(client, inspect["RootFS"]["Layers"]),
    }
    (HERE / f"image_{name}.json").write_text(json.dumps(entry, indent=1) + "\n")


def layerdb_chain_ids(client: Any, diff_ids: list[str]) -> list[str] | None:
    """Chain ids as the engine's layer store names them: the directory whose ``diff`` and ``parent`` match."""
    info = client.info()
    root = Path(info["DockerRootDir"], "image", info["Driver"], "layerdb", "sha256")
    if not root.is_dir():
        return None
    by_link = {}
    for layer in root.iterdir():
        parent = layer / "parent"
        key = (parent.read_text().strip() if parent.exists() else None, (layer / "diff").read_text().strip())
        by_link[key] = f"sha256:{layer.name}"
    out: list[str] = []
    for diff_id in diff_ids:
        out.append(by_link[(out[-1] if out else None, diff_id)])
    return out


def main() -> None:
    client = docker.APIClient(version="auto", **docker.utils.kwargs_from_env())
    made: set[str] = set()
    started = time.time() - 1
    images_only = "--images-only" in sys.argv
    only = next((arg.split("=", 1)[1].split(",") for arg in sys.argv if arg.startswith("--only=")), None)
    try:
        for name, dockerfile, kwargs in SCENARIOS:
            if images_only and kwargs.get("tag") not in IMAGE_BUILDS:
                continue
            if only is not None and name not in only:
                continue
            made |= record(client, name, dockerfile, kwargs, write=not images_only)
        for name, ref in IMAGES.items():
            if only is None or name in only:
                record_image(client, name, ref)
    finally:
        tags = [kwargs["tag"] for _name, _dockerfile, kwargs in reversed(SCENARIOS) if "tag" in kwargs]
        for ref in [*dict.fromkeys(tags), *made]:
            remove_own(client, ref, started)


def remove_own(client: Any, ref: str, since: float) -> None:
    """Remove an image this run made: never one older than the run or tagged outside ``lmtest-``."""
    try:
        inspect = client.inspect_image(ref)
    except docker.errors.NotFound:
        return
    foreign = [tag for tag in inspect.get("RepoTags") or () if not tag.startswith("lmtest-")]
    created = datetime.fromisoformat(inspect["Created"][:26].rstrip("Z") + "+00:00").timestamp()
    if foreign or created < since:
        return  # e.g. a failed build's last good image can be the base itself
    try:
        client.remove_image(ref, force=True)
    except docker.errors.APIError as exc:
        print(f"could not remove {ref}: {exc.explanation}", file=sys.stderr)


if __name__ == "__main__":
    main()
