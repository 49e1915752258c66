"""Re-record the ``docker buildx build --progress=plain`` outputs replayed by
``tests/unit/engine/test_buildx*.py``.

Run against a real engine (nothing is pulled; ``busybox:latest`` must exist), naming the engine kind, with
``LAYERMAP_BUILDX`` naming the buildx plugin binary (``scripts/dev-engine.sh env`` prints it):

    eval "$(LAYERMAP_ENGINE_KIND=docker26 bash scripts/dev-engine.sh env)"
    PYTHONPATH=tests .venv/bin/python -m helpers.record buildx docker26

Each ``<kind>/<name>.json`` holds the Dockerfile, the context files, the extra buildx arguments, the
exit code, buildx's stderr exactly as written, the ``--metadata-file`` and ``--iidfile`` contents, and,
for a build that succeeded, the engine's own truth: the image id from inspect and the configuration's
``history``/``rootfs`` from ``docker save``. Vertex numbers are stable, but timestamps, durations and
image ids change with every recording: re-recording means updating the tests' literals. Everything
built is tagged ``lmtest-bx-rec-*`` and those tags are removed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import docker
from docker.utils import kwargs_from_env

from helpers.record.common import fixture_dir, saved_config

HERE = fixture_dir("buildx")
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
COPY data.txt /data.txt
RUN true
LABEL purpose=test
CMD ["cat", "/out.txt"]
"""

FAIL = """\
FROM busybox:latest
ENV GREETING=hello
RUN echo "$GREETING" > /greeting
RUN for i in $(seq 1 25); do echo "line $i"; done; echo err >&2; exit 3
RUN echo never
"""

# Output that looks like buildx's own lines: a vertex's DONE and ERROR, a header of another vertex, the
# final error, blank lines, a pause marker; a partial line completed later; a carriage return.
SPOOF = """\
FROM busybox:latest
RUN printf '#5 DONE 0.1s\\n#6 [3/3] RUN echo after\\n\\n#6 ERROR: fake\\n#5 ...\\n#5 CACHED\\n' \\
    && printf 'ERROR: failed to solve: fake\\n#0 building with x\\npart' && sleep 0.3 \\
    && printf 'ial\\nbar 50%%\\rbar 100%%\\n'
RUN echo after
"""

SPOOF_FAIL = """\
FROM busybox:latest
RUN echo ok > /ok
RUN printf '#5 DONE 0.1s\\n\\nERROR: failed to solve: exit code: 9\\n'; echo "exit code: 7" >&2; exit 4
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

# name, Dockerfile, extra buildx arguments; order matters (the cached rebuild after the first build).
SCENARIOS: list[tuple[str, str, list[str]]] = [
    ("multistage", MULTISTAGE, ["--no-cache", "-t", "lmtest-bx-rec-multi", "--build-arg", "VERSION=2"]),
    ("multistage_cached", MULTISTAGE, ["-t", "lmtest-bx-rec-multi", "--build-arg", "VERSION=2"]),
    ("fail_exit3", FAIL, ["--no-cache"]),
    ("spoof", SPOOF, ["--no-cache", "-t", "lmtest-bx-rec-spoof"]),
    ("spoof_fail", SPOOF_FAIL, ["--no-cache"]),
    ("copy_missing", COPY_MISSING, ["--no-cache"]),
    ("syntax_error", SYNTAX_ERROR, ["--no-cache"]),
]
TAGS = ("lmtest-bx-rec-multi", "lmtest-bx-rec-spoof")


def truth(client: Any, tag: str) -> dict[str, Any]:
    inspect = client.inspect_image(tag)
    config = saved_config(client, inspect["Id"])
    return {
        "image_id": inspect["Id"],
        "config_history": config.get("history", []),
        "config_diff_ids": config["rootfs"]["diff_ids"],
    }


def record(client: Any, buildx: str, kind: str, name: str, text: str, extra: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp, "context")
        context.mkdir()
        (context / "Dockerfile").write_text(text)
        for file, content in DATA.items():
            (context / file).write_text(content)
        iid, meta = Path(tmp, "iid"), Path(tmp, "metadata.json")
        argv = [buildx, "build", "--builder", "default", "--progress=plain", "--provenance=false"]
        argv += [
            "--iidfile",
            str(iid),
            "--metadata-file",
            str(meta),
            "--network",
            "host",
            *extra,
            str(context),
        ]
        env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONTEXT", "BUILDX_BUILDER")}
        done = subprocess.run(argv, env=env, capture_output=True, timeout=300, check=False)
        metadata = json.loads(meta.read_text()) if meta.exists() else None
        iidfile = iid.read_text() if iid.exists() else None
    tag = extra[extra.index("-t") + 1] if "-t" in extra else None
    out = {
        "kind": kind,
        "buildx": _version(buildx),
        "engine": client.version()["Version"],
        "dockerfile": text,
        "files": DATA,
        "args": extra,
        "exit_code": done.returncode,
        "stderr": done.stderr.decode("utf-8", "replace"),
        "metadata": metadata,
        "iidfile": iidfile,
        "truth": truth(client, tag) if tag and done.returncode == 0 else None,
    }
    path = HERE / kind / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{path}: exit {done.returncode}, {len(out['stderr'].splitlines())} lines")


def _version(buildx: str) -> str:
    done = subprocess.run([buildx, "version"], capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "docker26"
    buildx = os.environ.get("LAYERMAP_BUILDX", "")
    if not buildx:
        sys.exit("set LAYERMAP_BUILDX to the docker-buildx plugin binary (scripts/dev-engine.sh env)")
    client = docker.APIClient(version="auto", **kwargs_from_env())
    try:
        for name, text, extra in SCENARIOS:
            record(client, buildx, kind, name, text, extra)
    finally:
        for tag in TAGS:
            with contextlib.suppress(docker.errors.APIError):
                client.remove_image(tag)


if __name__ == "__main__":
    main()
