"""The connected engine: :func:`connect`, and :class:`Engine` for reading images and starting builds.

``Engine`` reads images (inspect, history, the configuration from an export), classic ``Parent``
chains and exports, through the docker SDK's low-level ``APIClient``, translating every SDK / transport
error into the project's errors at this boundary: callers never see a docker exception. Its two build
entry points take one :class:`~analyzer.engine.options.BuildOptions`: ``build_classic`` runs
:mod:`analyzer.engine.classic` (SDK ``build``), ``build_buildkit`` chooses between
:mod:`analyzer.engine.buildkit_api` (which POSTs ``/build`` itself, through the same client's session)
and :mod:`analyzer.engine.buildx` (a ``docker buildx build`` subprocess aimed at the same engine).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from analyzer.engine import classic
from analyzer.engine.classic_stream import command_matches, failing_stage_steps
from analyzer.engine.context import Endpoint
from analyzer.engine.context import resolve as resolve_endpoint
from analyzer.engine.options import Builder, BuildOptions, ProgressCallback, default_builder, env_builder
from analyzer.engine.sdk import (
    TRANSPORT_ERRORS,
    answer_seconds,
    bound_answers,
    docker,
    engine_error,
    error_reason,
    kwargs_from_env,
    response_of,
)
from analyzer.errors import EngineError, ImageNotFound, UsageError
from analyzer.i18n import N_, _
from analyzer.image import identity
from analyzer.image.config import ChunkReader, config_from_save, id_hex, image_from_engine, json_object
from analyzer.image.layerstore import CONTENT_STORE, is_local
from analyzer.model import BuildResult, Dockerfile, EngineInfo, Image, ImageLink

__all__ = ["Engine", "connect"]

START_HINT = N_(
    "is Docker running? Point layermap at an engine with DOCKER_HOST, --context NAME or DOCKER_CONTEXT"
)
# In a clone of the repository, a private throw-away engine is one command away.
_DEV_ENGINE = Path(__file__).resolve().parents[2] / "scripts" / "dev-engine.sh"
_CONNECT_TIMEOUT = 10
_REQUEST_TIMEOUT = 300  # export (docker save) prepares the whole tar before its first byte
MINIMUM_API = "1.24"
_EXPORT_CHUNK = 1 << 20


def connect(base_url: str | None = None, context: str | None = None) -> Engine:
    """Connect like the docker CLI (DOCKER_HOST with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, else the Docker
    context: ``context``, DOCKER_CONTEXT or the current one), then ping."""
    endpoint = Endpoint(base_url, "given") if base_url else resolve_endpoint(context=context)
    address = endpoint.address
    try:
        kwargs = _client_kwargs(endpoint)  # TLS files are checked here
        # No request yet (version="auto" would read /version whole in the constructor): bound the
        # answers first, then negotiate the API version as "auto" does.
        timeout = min(_CONNECT_TIMEOUT, answer_seconds())
        client = docker.APIClient(version=MINIMUM_API, timeout=timeout, **kwargs)  # type: ignore[arg-type]
        bound_answers(client)
        negotiating: Any = client  # private SDK members: what version="auto" itself calls
        negotiating._version = str(negotiating._retrieve_server_version())
        client.ping()
    except (*TRANSPORT_ERRORS, ValueError, TypeError, KeyError) as exc:  # also answers of the wrong shape
        reason = error_reason(exc)
        if isinstance(exc, docker.errors.TLSParameterError):
            where = os.environ.get("DOCKER_CERT_PATH") or "~/.docker"
            reason = f"TLS is on but {where} lacks ca.pem, cert.pem or key.pem"
        elif "paramiko" in reason:  # the SDK's ssh:// transport needs it (layermap's ssh extra)
            reason = "ssh:// needs the paramiko package (pip install 'layermap[ssh]')"
        # A context's address is named with the context, so the user knows where it came from.
        where = f"{address} (from {endpoint.origin})" if endpoint.origin.startswith("context ") else address
        text = _("cannot reach the Docker engine at {where}: {reason}; {hint}")
        raise EngineError(text.format(where=where, reason=reason, hint=_hint())) from None
    negotiating.timeout = answer_seconds()  # per read: a silent engine is given up on after this
    return Engine(client, address)


def _client_kwargs(endpoint: Endpoint) -> dict[str, Any]:
    """DOCKER_HOST takes its TLS settings from the environment, a context from its own TLS folder."""
    if not endpoint.origin.startswith("context "):
        kwargs: dict[str, Any] = dict(kwargs_from_env())
    else:
        kwargs = {}
        if endpoint.tls_dir is not None:
            ca, cert, key = (endpoint.tls_dir / name for name in ("ca.pem", "cert.pem", "key.pem"))
            kwargs["tls"] = docker.tls.TLSConfig(
                client_cert=(str(cert), str(key)) if cert.is_file() and key.is_file() else None,
                ca_cert=str(ca) if ca.is_file() else None,
                verify=not endpoint.skip_tls_verify and ca.is_file(),
            )
    kwargs["base_url"] = endpoint.address
    return kwargs


def _hint() -> str:
    if _DEV_ENGINE.is_file():
        return _("{hint}, or start a private one: bash {script} start").format(
            hint=_(START_HINT), script=_DEV_ENGINE
        )
    return _(START_HINT)


class Engine:
    """A connected engine. ``client`` is a ``docker.APIClient`` (or a test double with its methods)."""

    def __init__(self, client: Any, address: str) -> None:
        self._client = client
        self.address = address
        self._info: EngineInfo | None = None
        self._driver: str | None = None
        self._images: dict[str, Image] = {}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()

    def info(self) -> EngineInfo:
        """Version, API version, storage (``containerd`` for the containerd image store), data root."""
        if self._info is None:
            with self._errors("describe itself"):  # the parsing too: a malformed answer is EngineError
                version, info = self._client.version(), self._client.info()
                status = {str(k): str(v) for k, v in info.get("DriverStatus") or []}
                self._driver = str(info.get("Driver") or "")
                # Engine 24+ with the containerd image store reports its snapshotter here.
                containerd = status.get("driver-type") == "io.containerd.snapshotter.v1"
                root = info.get("DockerRootDir")
                self._info = EngineInfo(
                    version=str(version.get("Version", "")),
                    api_version=str(version.get("ApiVersion", "")),
                    storage="containerd" if containerd else self._driver,
                    address=self.address,
                    data_root=root if isinstance(root, str) and root else None,
                )
        return self._info

    def default_builder(self, env: Mapping[str, str] | None = None) -> Builder:
        """The builder ``docker build`` would use against this engine (see ``options.default_builder``).

        Raises UsageError for a malformed ``DOCKER_BUILDKIT``."""
        env = os.environ if env is None else env
        try:
            forced = env_builder(env)
        except ValueError as err:
            raise UsageError(str(err)) from None
        if forced is not None:
            return forced
        with self._errors("describe itself"):
            version = self._client.version()
        engine_version, os_type = str(version.get("Version", "")), str(version.get("Os", ""))
        return default_builder(env, engine_version, os_type, self._ping_builder())

    def _ping_builder(self) -> str | None:
        """The ``Builder-Version`` header of ``/_ping`` (``1`` classic, ``2`` BuildKit), None if absent."""
        client: Any = self._client
        try:
            response = client._get(client._url("/_ping"))
            value = response.headers.get("Builder-Version")
        except Exception:  # noqa: BLE001 - a test double or an old engine: no announcement
            return None
        return str(value) if value else None

    def platform(self) -> str | None:
        """The engine's own ``os/arch`` (BuildKit's default target platform), None if it does not say."""
        with self._errors("describe itself"):
            version = self._client.version()
        os_name, arch = version.get("Os"), version.get("Arch")
        return f"{os_name}/{arch}" if os_name and arch else None

    # ------------------------------------------------------------------ errors

    @contextlib.contextmanager
    def _patient(self) -> Iterator[None]:
        """The long read timeout for a request started here (an export's first byte comes late)."""
        previous = getattr(self._client, "timeout", None)
        self._client.timeout = _REQUEST_TIMEOUT
        try:
            yield
        finally:
            self._client.timeout = previous

    @contextlib.contextmanager
    def _errors(self, what: str, ref: str | None = None) -> Iterator[None]:
        """Translate SDK and transport errors raised while doing ``what``."""
        try:
            yield
        except docker.errors.NotFound as exc:
            if ref is not None:
                raise ImageNotFound(f"image not found: {ref}") from None
            raise engine_error(self.address, what, exc) from None
        except TRANSPORT_ERRORS as exc:
            raise engine_error(self.address, what, exc) from None
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
            # An answer of the wrong shape (a list for an object, a number for a string): the engine
            # (or what pretends to be one) is not speaking the Engine API.
            reason = f"malformed answer ({type(exc).__name__}: {exc})"[:200]
            raise EngineError(f"the Docker engine at {self.address} could not {what}: {reason}") from None

    # ------------------------------------------------------------------ build

    def build_classic(
        self, options: BuildOptions, on_progress: ProgressCallback | None = None
    ) -> BuildResult:
        """Build with the classic builder; a failing step is data (``result.failure``), not an error."""
        return classic.build_classic(self._client, self.address, options, on_progress)

    def build_buildkit(
        self, dockerfile: Dockerfile, options: BuildOptions, on_progress: ProgressCallback | None = None
    ) -> BuildResult:
        """Build with BuildKit; ``dockerfile`` is ``options.dockerfile`` as parsed. A failing step is data
        (``result.failure``).

        Through the Engine API (:mod:`analyzer.engine.buildkit_api`) where the engine builds an uploaded
        context (overlay2 store), else through ``docker buildx build`` (:mod:`analyzer.engine.buildx`): on
        the containerd image store, or when the engine refuses the upload. ``LAYERMAP_BUILDKIT=api|buildx``
        forces one path.
        """
        from analyzer.engine import buildx
        from analyzer.engine.buildkit_api import build_buildkit

        forced = buildx.forced_path()
        why = "its containerd image store cannot build an uploaded context, moby/moby#47717"
        if options.needs_session:
            named = [f for f, on in (("--secret", options.secrets), ("--ssh", options.ssh)) if on]
            flags = " and ".join(named) or f"--builder {options.buildx_builder}"
            why = f"{flags} {'need' if len(named) > 1 else 'needs'} a BuildKit session"
            if forced == "api":
                raise UsageError(f"{why}, which {buildx.PATH_VARIABLE}=api cannot hold; use buildx")
        elif forced == "buildx":
            why = f"{buildx.PATH_VARIABLE}=buildx"
        elif forced == "api" or self.info().storage != "containerd":
            try:
                return build_buildkit(self._client, self.address, dockerfile, options, on_progress)
            except EngineError as exc:
                # Nothing was built yet (the context never reached BuildKit): buildx can try.
                if forced == "api" or not buildx.upload_refused(exc):
                    raise
                why = "it refused the uploaded context, moby/moby#47717"
        tool = buildx.require_buildx(self.address, why)
        # A builder instance other than the engine's loads the image: on the classic store its id is the
        # config digest; the containerd store knows it by its manifest digest, as for the default builder.
        by_config = options.buildx_builder is not None and self.info().storage != "containerd"
        return buildx.build_with_buildx(
            tool, self.address, dockerfile, options, on_progress, by_config=by_config
        )

    def last_step_image(self, result: BuildResult) -> str | None:
        """Full id of the last image the failing stage committed, or None.

        The candidate is the short id printed after the step before the failure (text, so possibly
        spoofed); it is accepted only if its ``Parent`` chain has one image per step done since the
        stage's FROM, reaches the FROM's image, and every link's command matches its step's keyword.
        """
        done = failing_stage_steps(result)
        if not done or done[-1].short_id is None or done[0].short_id is None:
            return None
        try:
            links = self.chain(done[-1].short_id, len(done))
        except (EngineError, ImageNotFound):
            return None
        if len(links) != len(done):
            return None
        for link, step in zip(links, done, strict=True):
            if step.short_id is None or not id_hex(link.id).startswith(step.short_id):
                return None
            if step is not done[0] and not command_matches(step.text, link.created_by):
                return None
        return links[-1].id

    # ------------------------------------------------------------------ images

    def image_exists(self, ref: str) -> bool:
        try:
            with self._errors("inspect an image", ref):
                self._client.inspect_image(ref)
        except ImageNotFound:
            return False
        return True

    def list_images(self) -> list[dict[str, Any]]:
        """``docker images``: one summary per image (``Id``, ``RepoTags``, ``RepoDigests``, ``Size``)."""
        with self._errors("list images"):
            return [dict(summary) for summary in self._client.images()]

    def repo_digests(self, ref: str) -> tuple[str, ...]:
        """``REPO@sha256:…`` names the image was pulled or pushed by (its manifest digests)."""
        with self._errors("inspect an image", ref):
            return tuple(self._client.inspect_image(ref).get("RepoDigests") or ())

    def image(self, ref: str, *, need_config: bool = False) -> Image:
        """Inspect + history (+ the configuration when cheap, or when ``need_config``).

        Remembered for the life of this Engine (one layermap run): a build's report asks for the
        same base and stage images several times, and an image id names immutable content.
        """
        cached = self._images.get(ref)
        if cached is not None and (cached.config is not None or not need_config):
            return cached
        with self._errors("inspect an image", ref):
            inspect = self._client.inspect_image(ref)
            history = self._client.history(inspect["Id"])
            image_id = str(inspect["Id"])
        config = self._local_config(image_id)
        if config is None and need_config:
            config = self.save_config(image_id)
        with self._errors("inspect an image"):  # an answer of the wrong shape is EngineError
            image = image_from_engine(inspect, history, config)
            found = identity.of_engine(inspect, self.info().storage, self._content_store())
        image = replace(
            image,
            config_digest=found.config_digest,
            manifest_digest=found.manifest_digest,
            index_digest=found.index_digest,
        )
        self._images[ref] = self._images[image.id] = image
        return image

    def _content_store(self) -> Path | None:
        """containerd's ``blobs/sha256`` folder, when the engine uses the containerd store on this machine."""
        info = self.info()
        if info.storage != "containerd" or not info.data_root or not is_local(self.address):
            return None
        return Path(info.data_root, CONTENT_STORE)

    def _local_config(self, image_id: str) -> dict[str, Any] | None:
        """The config from the engine's own image store, when this machine can read it (local overlay2)."""
        info = self.info()
        if not info.data_root or not self._driver or info.storage == "containerd":
            return None
        path = Path(info.data_root, "image", self._driver, "imagedb", "content", "sha256", id_hex(image_id))
        try:
            data = path.read_bytes()
        except OSError:
            return None
        # The hash proves this is the engine's file and not a look-alike path on another machine.
        if hashlib.sha256(data).hexdigest() != id_hex(image_id):
            return None
        return json_object(data)

    def save_config(self, image_id: str) -> dict[str, Any]:
        """The image configuration read from an export (``docker save``), stopping once it is found."""
        with self._errors("inspect an image", image_id):
            full_id = str(self._client.inspect_image(image_id)["Id"])
        with self._errors("export an image"), self._patient():
            chunks = self._client.get_image(full_id)
            response = response_of(chunks)
            try:
                config = config_from_save(io.BufferedReader(ChunkReader(chunks)), full_id)
            finally:
                with contextlib.suppress(Exception):
                    response.close()
        if config is None:
            raise EngineError(f"the export of {full_id} from {self.address} has no image configuration")
        return config

    def export(self, image_id: str, chunk_size: int = _EXPORT_CHUNK) -> Iterator[bytes]:
        """The image as ``docker save`` writes it, as a lazy stream of byte chunks.

        Nothing is asked of the engine before the first chunk is wanted; closing the generator closes
        the connection (stop early once the wanted layers went by). Errors, also mid-stream, are
        EngineError.
        """
        with self._errors("export an image", image_id), self._patient():
            chunks = self._client.get_image(image_id, chunk_size=chunk_size)
            response = response_of(chunks)
            try:
                yield from chunks
            finally:
                with contextlib.suppress(Exception):
                    if response is not None:
                        response.close()

    def chain(self, image_id: str, depth: int) -> list[ImageLink]:
        """Up to ``depth`` images of the ``Parent`` chain ending at ``image_id``, oldest first."""
        links: list[ImageLink] = []
        ref: str | None = image_id
        while ref and len(links) < depth:
            with self._errors("inspect an image", ref):
                inspect = self._client.inspect_image(ref)
                cmd = (inspect.get("ContainerConfig") or {}).get("Cmd")
                # Engines 25+ dropped ContainerConfig: the history API's newest entry says the same.
                created_by = " ".join(cmd) if cmd else self._top_created_by(inspect["Id"])
            links.append(
                ImageLink(
                    id=inspect["Id"],
                    parent=inspect.get("Parent") or None,
                    diff_ids=tuple((inspect.get("RootFS") or {}).get("Layers") or ()),
                    created_by=created_by,
                )
            )
            ref = links[-1].parent
        return links[::-1]

    def _top_created_by(self, image_id: str) -> str:
        history = self._client.history(image_id)
        return str(history[0].get("CreatedBy") or "") if history else ""
