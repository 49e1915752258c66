"""Fixtures for tests that need a real Docker engine.

The engine comes from the environment, like the docker SDK's ``from_env()`` (``DOCKER_HOST``, TLS
variables). ``bash scripts/test.sh`` starts a private engine, seeds ``busybox:latest`` and
``debian:bookworm-slim`` and sets ``LAYERMAP_TEST_ENGINE=required``: then a missing engine fails every
integration test instead of skipping it. ``LAYERMAP_TEST_TCP_HOST`` names the same engine over
``tcp://127.0.0.1:PORT``.

Everything under tests/integration is marked ``integration`` automatically. After each integration test
the engine must hold no more containers than before (``forcerm``, Ctrl-C handling…); leftovers fail the
test and are removed. A test that keeps a container on purpose is marked ``leaves_containers``.

``saved_config(client, image_id)`` reads an image configuration independently of layermap, through
``docker save`` (the only API that returns ``history[].empty_layer``).

Three engines. ``scripts/test.sh`` runs Docker 20.10 (overlay2 store; ``DOCKER_HOST``, also named by
``LAYERMAP_TEST_ENGINE_20``), Docker 26.1 (``LAYERMAP_TEST_ENGINE_26``) and Docker 28.5
(``LAYERMAP_TEST_ENGINE_28``), both with the containerd image store, plus the buildx CLI plugin
(``LAYERMAP_BUILDX``, 0.13, with ``LAYERMAP_DOCKER_CLI`` and ``DOCKER_CONFIG``: the session's defaults). The
fixtures above all use the 20.10 engine. A test opts into running on all three by taking the ``engine``
fixture, parametrized with the ids ``docker20``, ``docker26`` and ``docker28``: it points ``DOCKER_HOST`` at
that engine for the test (monkeypatch), and ``LAYERMAP_BUILDX`` / ``LAYERMAP_DOCKER_CLI`` / ``DOCKER_CONFIG``
at that engine's own buildx plugin, client and client config when it has them
(``LAYERMAP_TEST_BUILDX_26``/``_28``, ``LAYERMAP_TEST_DOCKER_CLI_26``/``_28``,
``LAYERMAP_TEST_DOCKER_CONFIG_26``/``_28``; 28.5 comes with buildx 0.29), and gives an :class:`Engine`
(``.kind``, ``.url``, ``.client``, ``.storage`` = ``"overlay2"`` / ``"containerd"``, ``.buildx``,
``.version``, ``.api_version``, ``.docker_cli``, ``.docker_config``). An engine that is not there (or is not
the version its id says) skips the test, or fails it under ``LAYERMAP_TEST_ENGINE=required``.

Two registries. ``scripts/test.sh`` also starts two image registries on 127.0.0.1 (scripts/dev-registry.sh):
one TLS, anonymous (``LAYERMAP_TEST_REGISTRY``), one TLS with basic auth (``LAYERMAP_TEST_REGISTRY_AUTH``,
``LAYERMAP_TEST_REGISTRY_USER``, ``LAYERMAP_TEST_REGISTRY_PASSWORD``), both with a certificate from the CA
``LAYERMAP_TEST_REGISTRY_CA``. The ``registry`` fixture gives them as a :class:`Registry`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import ssl
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.errors import DockerException
from helpers.engines import Engine, Registry, no_engine

HERE = Path(__file__).resolve().parent
SEEDED_IMAGES = ("busybox:latest", "debian:bookworm-slim")
# The engine the session started with: the `engine` fixture changes DOCKER_HOST during a test, and the
# session fixtures below must keep meaning the default (20.10) engine whenever they are first used.
START_DOCKER_HOST = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def api_client(base_url: str | None = None, timeout: int = 120) -> docker.APIClient:
    """A low-level client for DOCKER_HOST (TLS variables honoured), or for ``base_url``."""
    kwargs: dict[str, Any] = docker.utils.kwargs_from_env()
    if base_url is not None:
        kwargs["base_url"] = base_url
        if not base_url.startswith("tcp://"):
            kwargs.pop("tls", None)
    return docker.APIClient(version="auto", timeout=timeout, **kwargs)


# --------------------------------------------------------------------------------------------------
# markers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "leaves_containers: the test keeps containers on purpose (no leftover check)"
    )
    # The Ctrl-C tests send SIGINT to this process and to the layermap processes they start. A shell
    # without job control starts a background command (`bash .ci/run &`, nohup) with SIGINT ignored,
    # which Python and every child then inherit: those tests would fail for the way CI was launched.
    # Python's own handler here makes the children start with the default action again (exec resets
    # handled signals, not ignored ones).
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)


# --------------------------------------------------------------------------------------------------
# engine


@pytest.fixture(scope="session")
def engine_url() -> str:
    """The engine address the tests use (DOCKER_HOST, default unix socket); fails/skips if none answers."""
    url = START_DOCKER_HOST
    try:
        client = api_client(url, timeout=10)
        client.ping()
        client.close()
    except (DockerException, OSError) as exc:  # connection refused, no socket, bad TLS…
        no_engine(f"no Docker engine answers at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def docker_client(engine_url: str) -> Iterator[docker.APIClient]:
    """``docker.APIClient`` for the test engine (API version negotiated)."""
    client = api_client(engine_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def tcp_engine_url(docker_client: docker.APIClient) -> str:
    """``LAYERMAP_TEST_TCP_HOST``: the same engine over ``tcp://127.0.0.1:PORT``.

    Fails (or skips) if unset or dead."""
    url = os.environ.get("LAYERMAP_TEST_TCP_HOST", "")
    if not url:
        no_engine("LAYERMAP_TEST_TCP_HOST is not set (scripts/test.sh sets it)")
    try:
        client = api_client(url, timeout=10)
        client.ping()
        client.close()
    except (DockerException, OSError) as exc:
        no_engine(f"no Docker engine answers at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def tcp_docker_client(tcp_engine_url: str) -> Iterator[docker.APIClient]:
    """``docker.APIClient`` for the test engine over tcp."""
    client = api_client(tcp_engine_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def seeded_images(docker_client: docker.APIClient) -> dict[str, str]:
    """Tag → image id of the seeded base images; fails if one is missing (run scripts/dev-engine.sh seed)."""
    ids: dict[str, str] = {}
    missing = []
    for ref in SEEDED_IMAGES:
        found = _image_id(docker_client, ref)
        if found is None:
            missing.append(ref)
        else:
            ids[ref] = found
    if missing:
        pytest.fail(
            f"base images {', '.join(missing)} missing from the engine (run: scripts/dev-engine.sh seed)"
        )
    return ids


def _image_id(client: docker.APIClient, ref: str) -> str | None:
    try:
        return str(client.inspect_image(ref)["Id"])
    except DockerException:
        return None


# --------------------------------------------------------------------------------------------------
# both engines


ENGINE_KINDS = ("docker20", "docker26", "docker28")
_ENGINE_VARIABLE = {kind: f"LAYERMAP_TEST_ENGINE_{kind[-2:]}" for kind in ENGINE_KINDS}
_ENGINE_VERSION = {"docker20": "20.10.", "docker26": "26.", "docker28": "28."}
# Each engine's own client tools (scripts/test.sh sets them for the engines that come with their own:
# LAYERMAP_TEST_BUILDX_28 …); an engine without them uses the session's (LAYERMAP_BUILDX …).
_CLIENT_VARIABLES = {
    "buildx": "LAYERMAP_BUILDX",
    "docker_cli": "LAYERMAP_DOCKER_CLI",
    "docker_config": "DOCKER_CONFIG",
}
_ENGINE_CLIENT_VARIABLE = {"buildx": "BUILDX", "docker_cli": "DOCKER_CLI", "docker_config": "DOCKER_CONFIG"}


def engine_storage(info: dict[str, Any]) -> str:
    """``"containerd"`` for the containerd image store, else the graph driver's name (``docker info``)."""
    for pair in info.get("DriverStatus") or []:
        if list(pair) == ["driver-type", "io.containerd.snapshotter.v1"]:
            return "containerd"
    return str(info.get("Driver", ""))


def engine_address(kind: str) -> str | None:
    """Where the test engine of ``kind`` is said to be (None: nowhere)."""
    url = os.environ.get(_ENGINE_VARIABLE[kind], "").strip()
    if url:
        return url
    return START_DOCKER_HOST if kind == "docker20" else None


def engine_client_setting(kind: str, what: str) -> str | None:
    """This engine's own ``what`` (``buildx``, ``docker_cli``, ``docker_config``), else the session's.

    ``LAYERMAP_TEST_BUILDX_28`` etc. first, then ``LAYERMAP_BUILDX`` / ``LAYERMAP_DOCKER_CLI`` /
    ``DOCKER_CONFIG``. Binaries must be executable and the config a folder, else None."""
    value = os.environ.get(f"LAYERMAP_TEST_{_ENGINE_CLIENT_VARIABLE[what]}_{kind[-2:]}", "").strip()
    value = value or os.environ.get(_CLIENT_VARIABLES[what], "").strip()
    if not value:
        return None
    if what == "docker_config":
        return value if os.path.isdir(value) else None
    return value if os.access(value, os.X_OK) else None


def buildx_binary(kind: str = "docker20") -> str | None:
    return engine_client_setting(kind, "buildx")


class _Engines:
    """Connects to each kind of engine once per session; remembers why one is not available."""

    def __init__(self) -> None:
        self._found: dict[str, Engine | str] = {}

    def get(self, kind: str) -> Engine | str:
        if kind not in self._found:
            self._found[kind] = self._connect(kind)
        return self._found[kind]

    @staticmethod
    def _connect(kind: str) -> Engine | str:
        url = engine_address(kind)
        if url is None:
            return (
                f"{_ENGINE_VARIABLE[kind]} is not set: no {kind} engine (scripts/test.sh starts one; or "
                f"LAYERMAP_ENGINE_KIND={kind} scripts/dev-engine.sh start, and set it to the DOCKER_HOST "
                "that `env` prints)"
            )
        try:
            client = api_client(url)
            version = client.version()
            info = client.info()
        except (DockerException, OSError) as exc:
            return f"no {kind} engine answers at {url} ({_ENGINE_VARIABLE[kind]}): {exc}"
        if not str(version.get("Version", "")).startswith(_ENGINE_VERSION[kind]):
            client.close()
            return f"the engine at {url} is Docker {version.get('Version')}, not {kind}"
        return Engine(
            kind=kind,
            url=url,
            client=client,
            storage=engine_storage(info),
            buildx=buildx_binary(kind),
            version=str(version["Version"]),
            api_version=str(version["ApiVersion"]),
            root_dir=str(info["DockerRootDir"]),
            docker_cli=engine_client_setting(kind, "docker_cli"),
            docker_config=engine_client_setting(kind, "docker_config"),
        )

    def close(self) -> None:
        for found in self._found.values():
            if isinstance(found, Engine):
                found.client.close()


@pytest.fixture(scope="session")
def engines() -> Iterator[_Engines]:
    """Session registry behind the ``engine`` fixture: ``engines.get(kind) -> Engine | reason``."""
    registry = _Engines()
    yield registry
    registry.close()


@pytest.fixture(params=ENGINE_KINDS, ids=list(ENGINE_KINDS))
def engine(request: pytest.FixtureRequest, engines: _Engines, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """Each test engine in turn (ids ``docker20``, ``docker26``, ``docker28``), with ``DOCKER_HOST``
    pointing at it and ``LAYERMAP_BUILDX`` / ``LAYERMAP_DOCKER_CLI`` / ``DOCKER_CONFIG`` at its own buildx,
    client and client config (when known).

    Skips, or fails under ``LAYERMAP_TEST_ENGINE=required``, when that engine is not available.
    """
    found = engines.get(request.param)
    if isinstance(found, str):
        no_engine(found)
    monkeypatch.setenv("DOCKER_HOST", found.url)
    for what, variable in _CLIENT_VARIABLES.items():
        value = getattr(found, what)
        if value is not None:
            monkeypatch.setenv(variable, value)
    if not found.url.startswith("tcp://"):
        for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return found


@pytest.fixture(autouse=True)
def no_leftover_containers(request: pytest.FixtureRequest) -> Iterator[None]:
    """After an integration test, the engine holds no container that the test created and left.

    The engine is the test's ``engine`` when it takes that fixture, else the default one.
    """
    if request.node.get_closest_marker("integration") is None or request.node.get_closest_marker(
        "leaves_containers"
    ):
        yield
        return
    # (A test module may define a fixture of its own named "engine": only ours is parametrized by kind.)
    callspec = getattr(request.node, "callspec", None)
    kind = callspec.params.get("engine") if callspec is not None else None
    found = request.getfixturevalue("engine") if kind in ENGINE_KINDS else None
    if isinstance(found, Engine):
        client: docker.APIClient = found.client
    else:
        client = request.getfixturevalue("docker_client")
    before = {c["Id"] for c in client.containers(all=True)}
    yield
    left = [c for c in client.containers(all=True) if c["Id"] not in before]
    for c in left:
        with contextlib.suppress(DockerException):
            client.remove_container(c["Id"], force=True, v=True)
    if left:
        desc = ", ".join(
            f"{c['Id'][:12]} ({c.get('Image')}: {c.get('Command')}, {c.get('Status')})" for c in left
        )
        pytest.fail(f"test left {len(left)} container(s) behind: {desc}", pytrace=False)


# --------------------------------------------------------------------------------------------------
# registries

_REGISTRY_VARIABLES = (
    "LAYERMAP_TEST_REGISTRY",
    "LAYERMAP_TEST_REGISTRY_AUTH",
    "LAYERMAP_TEST_REGISTRY_USER",
    "LAYERMAP_TEST_REGISTRY_PASSWORD",
    "LAYERMAP_TEST_REGISTRY_CA",
)


def _registry_answers(host: str, context: ssl.SSLContext, expected: int) -> str | None:
    """None when ``GET https://host/v2/`` answers ``expected`` (200 anonymous, 401 auth), else why not."""
    try:
        with urllib.request.urlopen(f"https://{host}/v2/", context=context, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ssl.SSLError) as exc:  # refused, TLS failure, timeout
        return f"https://{host}/v2/ does not answer: {exc}"
    return None if status == expected else f"https://{host}/v2/ answered {status}, not {expected}"


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The two test registries: ``.host`` (anonymous), ``.auth_host`` with ``.user`` / ``.password``,
    ``.ca`` (and ``.cert_dir``, ``.ssl_context()``).

    Fails under ``LAYERMAP_TEST_ENGINE=required`` (scripts/test.sh), skips otherwise, when a variable is
    missing or a registry does not answer over TLS verified against the CA."""
    values = {name: os.environ.get(name, "").strip() for name in _REGISTRY_VARIABLES}
    missing = [name for name, value in values.items() if not value]
    if missing:
        no_engine(
            f"{', '.join(missing)} not set: no test registry (scripts/test.sh starts them; or "
            'scripts/dev-registry.sh start and eval "$(scripts/dev-registry.sh env)")'
        )
    if not os.path.isfile(values["LAYERMAP_TEST_REGISTRY_CA"]):
        no_engine(f"LAYERMAP_TEST_REGISTRY_CA={values['LAYERMAP_TEST_REGISTRY_CA']} is not a file")
    found = Registry(
        host=values["LAYERMAP_TEST_REGISTRY"],
        auth_host=values["LAYERMAP_TEST_REGISTRY_AUTH"],
        user=values["LAYERMAP_TEST_REGISTRY_USER"],
        password=values["LAYERMAP_TEST_REGISTRY_PASSWORD"],
        ca=values["LAYERMAP_TEST_REGISTRY_CA"],
    )
    context = found.ssl_context()
    for host, expected in ((found.host, 200), (found.auth_host, 401)):
        problem = _registry_answers(host, context, expected)
        if problem is not None:
            no_engine(problem)
    return found


# --------------------------------------------------------------------------------------------------
# independent reading of an image


def read_saved_image(client: docker.APIClient, image: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``docker save`` IMAGE and return ``(config, manifest_entry)`` from the archive.

    The archive is streamed to a temp file (the daemon prepares the whole export first: keep images in
    tests small). ``manifest_entry`` is the image's entry of ``manifest.json`` (Config, RepoTags, Layers).
    """
    with tempfile.TemporaryFile(prefix="layermap-save-") as tmp:
        for chunk in client.get_image(image, chunk_size=1 << 20):
            tmp.write(chunk)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp, mode="r:") as tar:
            manifest = _read_json(tar, "manifest.json")
            if not isinstance(manifest, list) or len(manifest) != 1:
                raise AssertionError(f"docker save {image}: expected one manifest entry, got {manifest!r}")
            entry: dict[str, Any] = manifest[0]
            config: dict[str, Any] = _read_json(tar, entry["Config"])
    return config, entry


def _read_json(tar: tarfile.TarFile, name: str) -> Any:
    member = tar.extractfile(name)
    if member is None:
        raise AssertionError(f"{name} is not a regular file in the saved archive")
    with member:
        return json.load(member)


@pytest.fixture(scope="session")
def saved_config() -> Callable[[docker.APIClient, str], dict[str, Any]]:
    """``saved_config(client, image_id) -> dict``: the image configuration as ``docker save`` writes it.

    Use it to check ``history[i].get("empty_layer", False)`` and ``rootfs["diff_ids"]``.
    """

    def _saved_config(client: docker.APIClient, image_id: str) -> dict[str, Any]:
        return read_saved_image(client, image_id)[0]

    return _saved_config


# --------------------------------------------------------------------------------------------------
# containers


def run_container(
    client: docker.APIClient,
    image: str,
    command: list[str],
    *,
    network_mode: str = "none",
    timeout: int = 120,
) -> tuple[int, str]:
    """Run ``command`` in a new container of ``image``; return (exit code, stdout+stderr).

    Always removes the container."""
    host_config = client.create_host_config(network_mode=network_mode)
    container = client.create_container(image, command=command, host_config=host_config)
    cid = container["Id"]
    try:
        client.start(cid)
        status = client.wait(cid, timeout=timeout)
        output = client.logs(cid, stdout=True, stderr=True).decode("utf-8", "replace")
        return int(status["StatusCode"]), output
    finally:
        client.remove_container(cid, force=True, v=True)


@pytest.fixture(scope="session")
def run_in_container() -> Callable[..., tuple[int, str]]:
    """``run_in_container(client, image, [cmd…], network_mode="none") -> (exit_code, output)``."""
    return run_container


# --------------------------------------------------------------------------------------------------
# plain builds (without layermap), for comparisons


def plain_classic_build(
    client: docker.APIClient,
    context: str | os.PathLike[str],
    dockerfile: str | None = None,
    *,
    buildargs: dict[str, str] | None = None,
    target: str | None = None,
    nocache: bool = True,
    network_mode: str = "host",
    tag: str | None = None,
) -> str:
    """Build ``context`` with the classic builder through the SDK; return the final image id.

    Raises AssertionError with the tail of the output if the build fails. Intermediate containers are
    always removed (``forcerm``).
    """
    final_id = None
    lines: list[str] = []
    for msg in client.build(
        path=str(context),
        dockerfile=dockerfile,
        buildargs=buildargs,
        target=target,
        nocache=nocache,
        network_mode=network_mode,
        tag=tag,
        rm=True,
        forcerm=True,
        decode=True,
    ):
        if "stream" in msg:
            lines.append(msg["stream"])
        if "error" in msg:
            tail = "".join(lines)[-2000:]
            raise AssertionError(f"build of {context} failed: {msg['error']}\n{tail}")
        aux = msg.get("aux")
        if isinstance(aux, dict) and "ID" in aux:
            final_id = aux["ID"]  # one per stage: the last one is the image
    if final_id is None:
        raise AssertionError(f"build of {context} produced no image id:\n{''.join(lines)[-2000:]}")
    return final_id


@pytest.fixture(scope="session")
def classic_build() -> Callable[..., str]:
    """A plain SDK build without layermap, for comparisons.

    ``classic_build(client, context, dockerfile=None, buildargs=…, target=…) -> image id``."""
    return plain_classic_build
