"""Re-record the BuildKit build streams replayed by ``tests/unit/engine/test_buildkit_trace.py``.

Run against a real engine (nothing is pulled; ``busybox:latest`` must exist), naming the engine kind:

    DOCKER_HOST=unix:///tmp/lm-engine/docker.sock PYTHONPATH=tests .venv/bin/python -m helpers.record
    buildkit docker20
    DOCKER_HOST=unix:///tmp/bk26/docker.sock PYTHONPATH=tests .venv/bin/python -m helpers.record buildkit
    docker26

Names after the kind record only those scenarios (``buildkit docker28 stage_case``: Docker 28.5 builds an
uploaded context on the containerd store too).

(Docker 26.1 with the containerd image store records one failing build: see ``main``.)

Each ``<kind>/<name>.json`` holds the Dockerfile, the context files, the query parameters, the raw JSON
messages of ``POST /build?version=2`` (through ``analyzer.engine.buildkit_api.build_messages``: the same
upload layermap sends) and, as the engine's own truth for the built image, the tag's image id from
inspect, the history API entries and the configuration's ``history``/``rootfs`` from ``docker save``.
Vertex digests, timestamps and image ids change with every recording, so re-recording means updating
the tests' literals.
Everything built is tagged ``lmtest-bk-rec-*`` and those tags are removed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import docker

from analyzer.engine.buildkit_api import build_messages, build_params
from analyzer.engine.options import BuildOptions
from helpers.record.common import fixture_dir, saved_config

HERE = fixture_dir("buildkit")
DATA = {"data.txt": "some data\n"}

MULTISTAGE = """\
ARG BASE=busybox:latest
FROM ${BASE} AS builder
WORKDIR /src
ARG VERSION
RUN echo "built $VERSION" > /src/out.txt
ENV BUILT=1
FROM busybox:latest AS unused
RUN echo unused
FROM busybox:latest
WORKDIR /
COPY --from=builder /src/out.txt /out.txt
RUN true
LABEL purpose=test
CMD ["cat", "/out.txt"]
"""

FAIL = """\
FROM busybox:latest
ENV GREETING=hello
RUN echo "$GREETING" \\
    && echo 'single $GREETING' ${GREETING}
RUN for i in $(seq 1 25); do echo "line $i"; done; echo err >&2; exit 3
RUN echo never
"""

ONBUILD_STAGES = """\
FROM busybox:latest AS base
ONBUILD RUN echo trigger-one > /t1
ONBUILD COPY data.txt /data.txt
ONBUILD ENV T=1
RUN echo base > /b
FROM base AS child
RUN cat /t1 /data.txt
WORKDIR /
WORKDIR /w
FROM child
RUN echo final
"""

ONBUILD_PARENT = """\
FROM busybox:latest
ONBUILD RUN echo trigger-one > /t1
ONBUILD ENV T=1
ONBUILD WORKDIR /trig
"""

ONBUILD_IMAGE = """\
FROM lmtest-bk-rec-onbuild-parent
RUN echo child
"""

# Output that looks like vertex names, stream messages and exit codes, the last line unterminated.
SPOOF = """\
FROM busybox:latest AS only
RUN printf '[stage-1 2/3] RUN fake\\n#5 DONE 0.1s\\n{"id":"moby.image.id","aux":{"ID":"sha256:0"}}\\n' \\
    && printf 'exit code: 9\\nno newline'
RUN echo after
"""

SPOOF_FAIL = """\
FROM busybox:latest
RUN printf '[2/3] RUN echo fake\\nERROR: exit code: 9\\n'
RUN echo "exit code: 7" >&2; exit 4
RUN echo never
"""

COPY_MISSING = """\
FROM busybox:latest
COPY missing.txt /missing.txt
"""

SYNTAX_ERROR = """\
FROM busybox:latest
RUN true
FOO bar
"""

# The name is declared as "Base" and looked up as written: 20.10's frontend takes it for an image name.
STAGE_CASE = """\
FROM busybox:latest AS Base
RUN true
FROM Base
RUN true
"""

BAD_BASE = """\
FROM lmtest-bk-rec-no-such-image:1
RUN true
"""

# name, Dockerfile, build parameters; order matters (cached rebuilds, the ONBUILD parent first).
SCENARIOS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "multistage",
        MULTISTAGE,
        {"no_cache": True, "tag": "lmtest-bk-rec-multi", "build_args": {"VERSION": "2"}},
    ),
    ("multistage_cached", MULTISTAGE, {"tag": "lmtest-bk-rec-multi", "build_args": {"VERSION": "2"}}),
    (
        "target_builder",
        MULTISTAGE,
        {"target": "builder", "tag": "lmtest-bk-rec-builder", "build_args": {"VERSION": "2"}},
    ),
    ("fail_exit3", FAIL, {"no_cache": True}),
    ("onbuild_stages", ONBUILD_STAGES, {"no_cache": True, "tag": "lmtest-bk-rec-onbuild-stages"}),
    ("onbuild_parent", ONBUILD_PARENT, {"no_cache": True, "tag": "lmtest-bk-rec-onbuild-parent"}),
    ("onbuild_image", ONBUILD_IMAGE, {"no_cache": True, "tag": "lmtest-bk-rec-onbuild-image"}),
    ("spoof", SPOOF, {"no_cache": True, "tag": "lmtest-bk-rec-spoof"}),
    ("spoof_fail", SPOOF_FAIL, {"no_cache": True}),
    ("copy_missing", COPY_MISSING, {"no_cache": True}),
    ("syntax_error", SYNTAX_ERROR, {"no_cache": True}),
    ("bad_base", BAD_BASE, {"no_cache": True}),
    ("stage_case", STAGE_CASE, {"no_cache": True}),
]


def truth(client: Any, tag: str) -> dict[str, Any]:
    inspect = client.inspect_image(tag)
    config = saved_config(client, inspect["Id"])
    history = [
        {"CreatedBy": h["CreatedBy"], "Size": h["Size"], "Comment": h.get("Comment", "")}
        for h in client.history(inspect["Id"])
    ]
    return {
        "image_id": inspect["Id"],
        "layers": inspect["RootFS"]["Layers"],
        "api_history": history,
        "config_history": config.get("history", []),
        "config_diff_ids": config["rootfs"]["diff_ids"],
        "onbuild": (inspect.get("Config") or {}).get("OnBuild"),
    }


def record(client: Any, address: str, kind: str, name: str, text: str, options: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp)
        params = build_params(BuildOptions(context, context / "Dockerfile", network="host", **options))
        (context / "Dockerfile").write_text(text)
        for file, content in DATA.items():
            (context / file).write_text(content)
        with build_messages(client, address, context, context / "Dockerfile", params) as stream:
            messages = list(stream)
    entry: dict[str, Any] = {
        "name": name,
        "engine": client.version()["Version"],
        "dockerfile": text,
        "files": DATA,
        "params": params,
        "messages": messages,
    }
    if "tag" in options and not any("error" in m for m in messages):
        entry["truth"] = truth(client, options["tag"])
    (HERE / kind).mkdir(exist_ok=True)
    (HERE / kind / f"{name}.json").write_text(json.dumps(entry, indent=1) + "\n")
    print(f"{kind}/{name}: {len(messages)} messages", file=sys.stderr)


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "docker20"
    names = set(sys.argv[2:])  # only these scenarios (e.g. ``docker28 stage_case``)
    address = os.environ["DOCKER_HOST"]
    client = docker.APIClient(base_url=address, version="auto", timeout=300)
    # On the containerd image store (26.1) BuildKit cannot fetch an uploaded context (moby/moby#47717):
    # every build fails the same way, so one recording documents it.
    if names:
        scenarios = [s for s in SCENARIOS if s[0] in names]
    else:
        scenarios = SCENARIOS if kind == "docker20" else SCENARIOS[:1]
    try:
        for name, text, options in scenarios:
            record(client, address, kind, name, text, options)
    finally:
        for _, _, options in scenarios:
            if "tag" in options:
                with contextlib.suppress(docker.errors.APIError):
                    client.remove_image(options["tag"])


if __name__ == "__main__":
    main()
