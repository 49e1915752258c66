"""``layermap image docker://…`` against ``skopeo inspect --config``, and ``--contents`` from the registry
against ``--contents`` from the engine, on the same images in a local registry.

Set-up: the test registries (``scripts/dev-registry.sh``; started here, in a private state folder, and
stopped afterwards unless ``LAYERMAP_TEST_REGISTRY`` already names running ones) and the engine of
``DOCKER_HOST``. Two images are pushed: the seeded ``debian:bookworm-slim`` (one layer, ~75 MB unpacked)
and ``lmbench-registry-big`` (that plus ~250 MB of incompressible data in two layers, built here), so
memory can be compared across image sizes.

Per round, in rotating order, each process timed with GNU time (wall, peak RSS):

- ``skopeo inspect --config docker://…`` (TLS verified with the test CA);
- ``layermap image docker://… --format json`` (metadata: index, manifest, config);
- ``layermap image docker://… --contents`` (every layer blob streamed, cache off), per image;
- ``layermap image IMAGE --contents`` in the engine (its default source: the layer store when readable),
  cache off, per image;
- ``fetch``: every layer blob of the image downloaded with curl and unpacked with ``gzip -dc`` to
  /dev/null, per image: the least any tool must do to see a registry image's files (no digest checked, no
  listing), which the engine, holding the files already, does not do.

Goals: metadata ≤ 1.5× skopeo's wall time; registry ``--contents`` ≤ 1.2× the engine's, peak RSS about
the same for both image sizes. Ratios of medians of the same run are what count. A Python process needs
a fixed start-up that skopeo, a Go binary, does not, so three baselines make the metadata figure
interpretable:

- ``python``: the bare interpreter (``python -c pass``);
- ``python_floor``: the least any Python program can do for the same answer: the standard library only
  (``ssl``, ``http.client``, ``json``, ``hashlib``), one TLS connection, the manifest and the config,
  no argument parsing, no model, no report;
- ``startup``: ``layermap --version`` (the interpreter and the command line's imports).

The Python processes run with a warm bytecode cache (a private ``PYTHONPYCACHEPREFIX``, filled by the
unmeasured first round; ``PYTHONDONTWRITEBYTECODE`` is cleared for them, else nothing would be cached and
every run would compile every module from source, which installed packages never do).

    eval "$(bash scripts/dev-engine.sh env)"
    .venv/bin/python bench/bench_registry.py --runs 3 [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GNU_TIME = "/usr/bin/time"
SMALL, BIG = "debian:bookworm-slim", "lmbench-registry-big:1"
BIG_DOCKERFILE = (
    "FROM debian:bookworm-slim\n"
    "RUN head -c 150000000 /dev/urandom > /big1\n"
    "RUN head -c 100000000 /dev/urandom > /big2 && rm -rf /usr/share/doc\n"
)
GOALS = {"metadata_vs_skopeo": 1.5, "contents_vs_engine": 1.2, "rss_big_vs_small": 1.2}


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        sys.exit(f"bench: {name} not found")
    return found


@contextlib.contextmanager
def registries() -> Iterator[dict[str, str]]:
    """The test registries' variables: the running ones, or private ones started (and stopped) here."""
    if os.environ.get("LAYERMAP_TEST_REGISTRY"):
        yield dict(os.environ)
        return
    state = tempfile.mkdtemp(prefix="lmbench-registry-")
    env = {**os.environ, "LAYERMAP_REGISTRY_DIR": state}
    script = str(ROOT / "scripts" / "dev-registry.sh")
    started = subprocess.run(["bash", script, "start"], env=env, capture_output=True, text=True, check=False)
    if started.returncode != 0:
        sys.exit(f"bench: dev-registry.sh start failed: {started.stderr[-600:]}")
    try:
        for line in started.stdout.splitlines():
            if line.startswith("export ") and "=" in line:
                key, _, value = line[len("export ") :].partition("=")
                env[key] = value.strip("'\"")
        yield env
    finally:
        subprocess.run(["bash", script, "stop"], env=env, capture_output=True, check=False)
        shutil.rmtree(state, ignore_errors=True)


def prepare(client: docker.APIClient, host: str) -> dict[str, str]:
    """Push both images to ``host``; local name → registry reference."""
    try:
        client.inspect_image(BIG)
    except docker.errors.ImageNotFound:
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            data = BIG_DOCKERFILE.encode()
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        context.seek(0)
        for message in client.build(
            fileobj=context, custom_context=True, tag=BIG, rm=True, forcerm=True, decode=True
        ):
            if "error" in message:
                sys.exit(f"bench: build failed: {message['error']}")
    refs = {}
    for name, repo in ((SMALL, "lmbench/small"), (BIG, "lmbench/big")):
        client.tag(name, f"{host}/{repo}", "1")
        for message in client.push(f"{host}/{repo}", tag="1", stream=True, decode=True):
            if "error" in message:
                sys.exit(f"bench: push failed: {message['error']}")
        refs[name] = f"{host}/{repo}:1"
    return refs


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one run, from GNU time (not this big process's fork).

    CPU time is reported beside wall time: on a shared machine it says what the process itself cost."""
    with tempfile.TemporaryDirectory() as tmp:
        rss = Path(tmp) / "rss"
        start = time.perf_counter()
        done = subprocess.run(
            [GNU_TIME, "-f", "%U %S %M", "-o", str(rss), *cmd],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"bench: {' '.join(cmd)} exited {done.returncode}: {done.stderr[-600:]}")
        user, system, peak = rss.read_text().split()[-3:]
        return wall, int(peak) / 1024, float(user) + float(system)


# The floor: what a Python process needs at the least to read a manifest and its config over TLS.
FLOOR = """
import sys, json, hashlib, ssl, http.client
host, repo, tag, ca = sys.argv[1:]
connection = http.client.HTTPSConnection(host, context=ssl.create_default_context(cafile=ca))
accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
connection.request("GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": accept})
manifest = json.loads(connection.getresponse().read())
digest = manifest["config"]["digest"]
connection.request("GET", f"/v2/{repo}/blobs/{digest}")
config = connection.getresponse().read()
assert "sha256:" + hashlib.sha256(config).hexdigest() == digest
print(json.dumps(json.loads(config)["rootfs"]))
"""


def commands(refs: dict[str, str], ca: str, cert_dir: str, out: Path) -> dict[str, list[str]]:
    lm, small = tool("layermap"), refs[SMALL]
    python = str(Path(lm).parent / "python")
    host, _, rest = small.partition("/")
    repo, _, tag = rest.rpartition(":")
    quiet = ["--format", "json", "-q", "--fail-on", "never", "-o", str(out / "r.json")]
    cmds = {
        "python": [python, "-c", "pass"],
        "python_floor": [python, "-c", FLOOR, host, repo, tag, ca],
        "startup": [lm, "--version"],
        "skopeo": [tool("skopeo"), "inspect", "--config", "--cert-dir", cert_dir, f"docker://{small}"],
        "metadata": [lm, "image", f"docker://{small}", "--ca-cert", ca, *quiet],
    }
    for label, name in (("small", SMALL), ("big", BIG)):
        cmds[f"registry_{label}"] = [
            lm,
            "image",
            f"docker://{refs[name]}",
            "--ca-cert",
            ca,
            "--contents",
            *quiet,
        ]
        cmds[f"engine_{label}"] = [lm, "image", name, "--contents", *quiet]
        cmds[f"fetch_{label}"] = fetch_command(refs[name], ca, cert_dir)
    return cmds


def fetch_command(ref: str, ca: str, cert_dir: str) -> list[str]:
    """curl each layer blob of ``ref`` into ``gzip -dc`` (the layers named by ``skopeo inspect --raw``)."""
    raw = subprocess.run(
        [tool("skopeo"), "inspect", "--raw", "--cert-dir", cert_dir, f"docker://{ref}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    host, _, rest = ref.partition("/")
    repo = rest.rpartition(":")[0]
    urls = [f"https://{host}/v2/{repo}/blobs/{layer['digest']}" for layer in json.loads(raw)["layers"]]
    script = (
        'set -eo pipefail; for url in "$@"; do curl -sf --cacert "$CA" "$url" | gzip -dc >/dev/null; done'
    )
    return ["env", f"CA={ca}", "bash", "-c", script, "fetch", *urls]


def run(
    rounds: int, env: dict[str, str], cmds: dict[str, list[str]]
) -> dict[str, list[tuple[float, float, float]]]:
    env = {**env, "LAYERMAP_NO_CACHE": "1", "PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="lmbench-pyc-")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    names = list(cmds)
    for name in names:  # one unmeasured round: page cache, bytecode cache
        measure(cmds[name], env)
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            results[name].append(measure(cmds[name], env))
    return results


def summary(results: dict[str, list[tuple[float, float, float]]]) -> dict[str, Any]:
    wall = {k: statistics.median(w for w, _, _ in v) for k, v in results.items()}
    rss = {k: max(r for _, r, _ in v) for k, v in results.items()}
    cpu = {k: statistics.median(c for _, _, c in v) for k, v in results.items()}
    figures = {
        "wall_s": {k: round(v, 3) for k, v in wall.items()},
        "cpu_s": {k: round(v, 3) for k, v in cpu.items()},
        "peak_rss_mib": {k: round(v, 1) for k, v in rss.items()},
        "metadata_vs_skopeo": round(wall["metadata"] / wall["skopeo"], 2),
        "metadata_net_of_startup_vs_skopeo": round(
            max(wall["metadata"] - wall["startup"], 0) / wall["skopeo"], 2
        ),
        "python_vs_skopeo": round(wall["python"] / wall["skopeo"], 2),
        "python_floor_vs_skopeo": round(wall["python_floor"] / wall["skopeo"], 2),
        "metadata_vs_python_floor": round(wall["metadata"] / wall["python_floor"], 2),
        "contents_vs_engine": round(
            max(wall["registry_small"] / wall["engine_small"], wall["registry_big"] / wall["engine_big"]), 2
        ),
        "contents_vs_fetch": round(
            max(wall["registry_small"] / wall["fetch_small"], wall["registry_big"] / wall["fetch_big"]), 2
        ),
        "rss_big_vs_small": round(rss["registry_big"] / rss["registry_small"], 2),
    }
    figures["goals"] = {k: {"goal": g, "met": figures[k] <= g} for k, g in GOALS.items()}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    client = docker.APIClient(base_url=os.environ.get("DOCKER_HOST"), version="auto", timeout=600)
    with registries() as env, tempfile.TemporaryDirectory() as tmp:
        host, ca = env["LAYERMAP_TEST_REGISTRY"], env["LAYERMAP_TEST_REGISTRY_CA"]
        refs = prepare(client, host)
        cmds = commands(refs, ca, str(Path(ca).parent), Path(tmp))
        figures = summary(run(args.runs, env, cmds))
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
