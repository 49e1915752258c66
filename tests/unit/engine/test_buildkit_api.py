"""``analyzer.engine.buildkit_api.build_buildkit`` against a fake ``APIClient``: the upload (GNU tar,
.dockerignore, a Dockerfile outside the context), the query parameters, recorded streams split at any
byte, and the translation of HTTP / transport errors, Ctrl-C and streams that end early."""

from __future__ import annotations

import hashlib
import io
import json
import random
import tarfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from analyzer.dockerfile import parse
from analyzer.engine.buildkit_api import build_buildkit, build_params
from analyzer.engine.options import BuildOptions, BuildProgress
from analyzer.errors import DockerfileError, EngineError, UsageError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "buildkit" / "docker20"
ADDRESS = "unix:///fake/docker.sock"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())  # type: ignore[no-any-return]


class FakeResponse:
    def __init__(self, status: int, chunks: list[bytes], fail_after: BaseException | None = None) -> None:
        self.status_code = status
        self.chunks = chunks
        self.fail_after = fail_after
        self.closed = False
        self.reason = "Internal Server Error"
        self.text = b"".join(chunks).decode()

    def iter_content(self, chunk_size: int | None = None) -> Iterator[bytes]:
        assert chunk_size is None  # as the daemon flushes them, not in fixed blocks
        yield from self.chunks
        if self.fail_after is not None:
            raise self.fail_after

    def json(self) -> Any:
        return json.loads(self.text)

    def close(self) -> None:
        self.closed = True


class FakeClient:
    """Just what ``build_buildkit`` uses of ``docker.APIClient`` (a ``requests.Session``)."""

    base_url = "http+docker://localhost"
    api_version = "1.41"

    def __init__(self, response: FakeResponse | BaseException) -> None:
        self.response = response
        self.calls: list[dict[str, Any]] = []
        self.members: dict[str, bytes] = {}
        self.tar_formats: set[int] = set()

    def post(self, url: str, **kwargs: Any) -> FakeResponse:
        body = kwargs["data"].read()
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member)
                self.members[member.name] = handle.read() if handle else b""
                if member.pax_headers:
                    self.tar_formats.add(tarfile.PAX_FORMAT)
            self.raw_headers = body  # GNU long names appear as ././@LongLink entries
        self.calls.append({"url": url, **{k: v for k, v in kwargs.items() if k != "data"}})
        if isinstance(self.response, BaseException):
            raise self.response
        return self.response


def stream_of(messages: list[dict[str, Any]], seed: int = 7) -> list[bytes]:
    """The messages as the daemon writes them (JSON + CRLF), cut at random byte offsets."""
    data = b"".join(json.dumps(m).encode() + b"\r\n" for m in messages)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, len(data) // 7)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def make_context(tmp_path: Path, dockerfile: str = "FROM busybox:latest\nRUN true\n") -> Path:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(dockerfile)
    (context / "keep.txt").write_text("keep\n")
    return context


def run(
    client: FakeClient, context: Path, dockerfile: Path | None = None, **kwargs: Any
) -> tuple[Any, list[BuildProgress]]:
    path = dockerfile or context / "Dockerfile"
    events: list[BuildProgress] = []
    result = build_buildkit(
        client,  # type: ignore[arg-type]
        ADDRESS,
        parse(path.read_text(), str(path)),
        BuildOptions(context, path, **kwargs),
        on_progress=events.append,
    )
    return result, events


# ---------------------------------------------------------------------- replays


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recorded_stream_cut_anywhere_gives_the_same_result(tmp_path: Path, seed: int) -> None:
    fx = fixture("multistage")
    context = make_context(tmp_path, fx["dockerfile"])
    client = FakeClient(FakeResponse(200, stream_of(fx["messages"], seed)))
    result, events = run(client, context, build_args={"VERSION": "2"})
    assert result.image_id == fx["truth"]["image_id"]
    assert [(s.number, s.cached) for s in result.steps] == [
        (2, None),
        (3, True),
        (5, False),
        (9, None),
        (11, False),
        (12, False),
    ]
    # Five vertices: the FROM vertex is shared by steps 2 and 9.
    assert [e.kind for e in events].count("step-done") == 5
    assert client.response.closed  # type: ignore[union-attr]


def test_failed_build_is_data_not_an_error(tmp_path: Path) -> None:
    fx = fixture("fail_exit3")
    client = FakeClient(FakeResponse(200, stream_of(fx["messages"])))
    result, _ = run(client, make_context(tmp_path, fx["dockerfile"]))
    assert result.failure is not None
    assert (result.failure.exit_code, result.failure.step_number) == (3, 4)
    assert result.image_id is None


def test_rejected_dockerfile_raises_dockerfile_error(tmp_path: Path) -> None:
    fx = fixture("syntax_error")
    client = FakeClient(FakeResponse(200, stream_of(fx["messages"])))
    with pytest.raises(DockerfileError, match=r"Dockerfile:3: unknown instruction: FOO$"):
        run(client, make_context(tmp_path))


# ---------------------------------------------------------------------- the request


def test_query_parameters_follow_the_sdk(tmp_path: Path) -> None:
    fx = fixture("multistage")
    client = FakeClient(FakeResponse(200, stream_of(fx["messages"])))
    run(
        client,
        make_context(tmp_path, fx["dockerfile"]),
        build_args={"VERSION": "2"},
        target=None,
        network="host",
        no_cache=True,
        platform="linux/amd64",
        tag="lmtest-bk-x:1",
    )
    call = client.calls[0]
    assert call["url"] == "http+docker://localhost/v1.41/build"
    assert call["params"] == {
        "version": "2",
        "rm": "1",
        "forcerm": "1",
        "t": "lmtest-bk-x:1",
        "networkmode": "host",
        "platform": "linux/amd64",
        "buildargs": '{"VERSION": "2"}',
        "nocache": "1",
        "dockerfile": "Dockerfile",
    }
    assert call["stream"] is True and call["timeout"] is None
    assert call["headers"] == {"Content-Type": "application/x-tar"}


def test_build_params_leave_out_what_is_unset() -> None:
    options = BuildOptions(Path("/ctx"), Path("/ctx/Dockerfile"))
    assert build_params(options) == {"version": "2", "rm": "1", "forcerm": "1"}
    assert build_params(replace(options, target="builder"))["target"] == "builder"


def test_context_is_gnu_tar_honouring_dockerignore(tmp_path: Path) -> None:
    context = make_context(tmp_path)
    (context / ".dockerignore").write_text("# comment\n\nsecret*\nlogs/\n!logs/keep.log\nDockerfile\n")
    (context / "secret.key").write_text("no")
    (context / "logs").mkdir()
    (context / "logs" / "a.log").write_text("no")
    (context / "logs" / "keep.log").write_text("yes")
    deep = context / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (deep / "long-name.txt").write_text("long")
    client = FakeClient(FakeResponse(200, stream_of(fixture("spoof")["messages"])))
    run(client, context)
    names = set(client.members)
    assert {
        "Dockerfile",
        "keep.txt",
        ".dockerignore",
        "logs/keep.log",
        f"{'d' * 60}/{'e' * 60}/long-name.txt",
    } <= names
    assert not {"secret.key", "logs/a.log"} & names  # the Dockerfile itself is never excluded
    assert client.tar_formats == set()
    assert list(client.members)[0] == ".dockerignore"  # the first header must parse alone: no long name
    assert b"././@LongLink" in client.raw_headers and b"PaxHeader" not in client.raw_headers


def test_dockerfile_outside_the_context_is_added_under_a_generated_name(tmp_path: Path) -> None:
    context = make_context(tmp_path)
    outside = tmp_path / "other.Dockerfile"
    outside.write_text("FROM busybox:latest\nRUN echo outside\n")
    client = FakeClient(FakeResponse(200, stream_of(fixture("spoof")["messages"])))
    run(client, context, outside)
    name = client.calls[0]["params"]["dockerfile"]
    # Named by its content, so a rebuild keeps `COPY .` cached; first, so the tar starts with a short name.
    digest = hashlib.sha256(b"FROM busybox:latest\nRUN echo outside\n").hexdigest()
    assert name == f".dockerfile.{digest[:40]}"
    assert next(iter(client.members)) == name
    assert client.members[name] == b"FROM busybox:latest\nRUN echo outside\n"
    assert client.members["Dockerfile"] == b"FROM busybox:latest\nRUN true\n"


def test_dockerfile_in_a_subfolder_is_named_by_its_relative_path(tmp_path: Path) -> None:
    context = make_context(tmp_path)
    (context / "docker").mkdir()
    inner = context / "docker" / "Dockerfile.prod"
    inner.write_text("FROM busybox:latest\n")
    client = FakeClient(FakeResponse(200, stream_of(fixture("spoof")["messages"])))
    run(client, context, inner)
    assert client.calls[0]["params"]["dockerfile"] == "docker/Dockerfile.prod"


def test_unreadable_context_file_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = make_context(tmp_path)

    def refuse(path: Any, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(path))

    # Root reads any file whatever its mode: make the module's open() refuse instead.
    monkeypatch.setattr("analyzer.engine.buildkit_api.open", refuse, raising=False)
    client = FakeClient(FakeResponse(200, []))
    with pytest.raises(UsageError, match="cannot read the build context .*Permission denied"):
        run(client, context)
    assert client.calls == []


def test_missing_context_folder_is_a_usage_error(tmp_path: Path) -> None:
    context = make_context(tmp_path)
    client = FakeClient(FakeResponse(200, []))
    with pytest.raises(UsageError, match="cannot read the build context"):
        build_buildkit(
            client,  # type: ignore[arg-type]
            ADDRESS,
            parse("FROM busybox:latest\n"),
            BuildOptions(tmp_path / "nope", context / "Dockerfile"),
        )


# ---------------------------------------------------------------------- errors


def test_unreachable_engine_names_the_address(tmp_path: Path) -> None:
    client = FakeClient(
        requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    )
    with pytest.raises(EngineError) as err:
        run(client, make_context(tmp_path))
    assert str(err.value) == (
        f"lost the Docker engine at {ADDRESS} while trying to build the image: Connection refused"
    )


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (
            400,
            {"message": 'invalid platform "x"'},
            UsageError,
            'the Docker engine rejected the build: invalid platform "x"',
        ),
        (
            500,
            {"message": 'network mode "bogus" not supported by buildkit'},
            UsageError,
            'the Docker engine rejected the build: network mode "bogus" not supported by buildkit',
        ),
        (
            500,
            {"message": "no space left"},
            EngineError,
            f"the Docker engine at {ADDRESS} could not build the image: no space left",
        ),
    ],
)
def test_http_errors_before_the_stream(
    tmp_path: Path, status: int, body: Any, error: type, text: str
) -> None:
    response = FakeResponse(status, [json.dumps(body).encode()])
    with pytest.raises(error) as err:
        run(FakeClient(response), make_context(tmp_path))
    assert str(err.value) == text
    assert response.closed


def test_stream_that_ends_early_is_an_engine_error(tmp_path: Path) -> None:
    fx = fixture("multistage")
    response = FakeResponse(200, stream_of(fx["messages"][:8]))
    with pytest.raises(EngineError, match="ended the build stream before the build ended"):
        run(FakeClient(response), make_context(tmp_path, fx["dockerfile"]))
    assert response.closed


def test_connection_lost_mid_stream_is_an_engine_error(tmp_path: Path) -> None:
    fx = fixture("multistage")
    lost = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
    response = FakeResponse(200, stream_of(fx["messages"][:8]), fail_after=lost)
    with pytest.raises(EngineError, match=f"lost the Docker engine at {ADDRESS} during the build"):
        run(FakeClient(response), make_context(tmp_path, fx["dockerfile"]))
    assert response.closed


def test_garbage_in_the_stream_is_an_engine_error(tmp_path: Path) -> None:
    response = FakeResponse(200, [b'{"stream": "ok"}\r\n', b"<html>proxy error</html>\r\n"])
    with pytest.raises(EngineError, match="sent a build message that is not JSON"):
        run(FakeClient(response), make_context(tmp_path))


def test_ctrl_c_closes_the_connection_and_propagates(tmp_path: Path) -> None:
    fx = fixture("fail_exit3")
    response = FakeResponse(200, stream_of(fx["messages"]))

    def interrupt(event: BuildProgress) -> None:
        if event.kind == "output":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_buildkit(
            FakeClient(response),  # type: ignore[arg-type]
            ADDRESS,
            parse(fx["dockerfile"]),
            BuildOptions(make_context(tmp_path, fx["dockerfile"]), tmp_path / "ctx" / "Dockerfile"),
            on_progress=interrupt,
        )
    assert response.closed


def test_containerd_store_refusing_the_upload_is_an_engine_error(tmp_path: Path) -> None:
    fx = json.loads((FIXTURES.parent / "docker26" / "multistage.json").read_text())
    client = FakeClient(FakeResponse(200, stream_of(fx["messages"])))
    with pytest.raises(
        EngineError, match=f"^the Docker engine at {ADDRESS} cannot build an uploaded context"
    ):
        run(client, make_context(tmp_path, fx["dockerfile"]), build_args={"VERSION": "2"})
