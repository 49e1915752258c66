"""``analyzer.engine.options``: the BuildOptions value, and the one translator per backend that reads it —
``classic.sdk_kwargs`` (SDK keyword arguments), ``buildkit_api.build_params`` (``POST /build`` query) and
``buildx.build_command`` (argv) — each checked exactly from the same options."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from analyzer.engine.buildkit_api import build_params
from analyzer.engine.buildx import Buildx, build_command
from analyzer.engine.classic import sdk_kwargs
from analyzer.engine.options import BUILDERS, BuildOptions, BuildProgress, default_builder, deliver
from analyzer.errors import UsageError

FULL = BuildOptions(
    context=Path("/ctx"),
    dockerfile=Path("/ctx/sub/Dockerfile.dev"),
    builder="buildkit",
    build_args={"A": "1", "EMPTY": ""},
    target="final",
    network="host",
    no_cache=True,
    platform="linux/arm64",
    tag="lmtest-x:1",
)
PLAIN = BuildOptions(Path("/ctx"), Path("/ctx/Dockerfile"))
TOOL = Buildx(("docker", "buildx"), "github.com/docker/buildx 0.13.1", "docker buildx")
FILES = (Path("/t/iid"), Path("/t/meta.json"))
BUILDX_HEAD = ["docker", "buildx", "build", "--builder", "default", "--progress=plain", "--provenance=false"]


def translations(options: BuildOptions) -> dict[str, Any]:
    return {
        "classic": sdk_kwargs(options),
        "api": build_params(options),
        "buildx": build_command(TOOL, options, FILES),
    }


def test_builders_keep_their_json_values() -> None:
    assert BUILDERS == ("classic", "buildkit")
    assert PLAIN.builder == "classic"


def test_defaults() -> None:
    assert (PLAIN.build_args, PLAIN.target, PLAIN.network, PLAIN.platform, PLAIN.tag) == (
        {},
        None,
        None,
        None,
        None,
    )
    assert PLAIN.no_cache is False


def test_build_args_are_a_read_only_copy() -> None:
    given = {"A": "1"}
    options = BuildOptions(Path("/c"), Path("/c/Dockerfile"), build_args=given)
    given["A"] = "changed"
    assert options.build_args == {"A": "1"}
    with pytest.raises(TypeError):
        options.build_args["B"] = "2"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.tag = "x"  # type: ignore[misc]
    assert dataclasses.replace(options, target="t") == BuildOptions(
        Path("/c"), Path("/c/Dockerfile"), build_args={"A": "1"}, target="t"
    )


def test_sdk_kwargs_exactly() -> None:
    assert sdk_kwargs(FULL) == {
        "path": "/ctx",
        "dockerfile": "/ctx/sub/Dockerfile.dev",
        "tag": "lmtest-x:1",
        "nocache": True,
        "rm": True,
        "forcerm": True,
        "pull": False,
        "labels": None,
        "extra_hosts": None,
        "buildargs": {"A": "1", "EMPTY": ""},
        "target": "final",
        "network_mode": "host",
        "platform": "linux/arm64",
        "decode": True,
        "timeout": None,
    }
    assert sdk_kwargs(PLAIN) == {
        "path": "/ctx",
        "dockerfile": "/ctx/Dockerfile",
        "tag": None,
        "nocache": False,
        "rm": True,
        "forcerm": True,
        "pull": False,
        "labels": None,
        "extra_hosts": None,
        "buildargs": {},
        "target": None,
        "network_mode": None,
        "platform": None,
        "decode": True,
        "timeout": None,
    }


def test_sdk_kwargs_give_the_dockerfile_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    options = BuildOptions(Path("ctx"), Path("ctx/Dockerfile"))
    assert sdk_kwargs(options)["dockerfile"] == str(tmp_path / "ctx" / "Dockerfile")
    assert sdk_kwargs(options)["path"] == "ctx"


def test_query_parameters_exactly() -> None:
    assert build_params(FULL) == {
        "version": "2",
        "rm": "1",
        "forcerm": "1",
        "t": "lmtest-x:1",
        "target": "final",
        "networkmode": "host",
        "platform": "linux/arm64",
        "nocache": "1",
        "buildargs": '{"A": "1", "EMPTY": ""}',
    }
    assert build_params(PLAIN) == {"version": "2", "rm": "1", "forcerm": "1"}


def test_argv_exactly() -> None:
    assert build_command(TOOL, FULL, FILES) == [
        *BUILDX_HEAD,
        "--iidfile", "/t/iid", "--metadata-file", "/t/meta.json", "-f", "/ctx/sub/Dockerfile.dev",
        "--build-arg", "A=1", "--build-arg", "EMPTY=",
        "--target", "final", "--network", "host", "--platform", "linux/arm64", "-t", "lmtest-x:1",
        "--no-cache", "/ctx",
    ]  # fmt: skip
    assert build_command(TOOL, PLAIN, FILES) == [
        *BUILDX_HEAD,
        "--iidfile", "/t/iid", "--metadata-file", "/t/meta.json", "-f", "/ctx/Dockerfile", "/ctx",
    ]  # fmt: skip


SET = {
    "context": Path("/other"),
    "dockerfile": Path("/other/Dockerfile"),
    "build_args": {"A": "1"},
    "target": "t",
    "network": "none",
    "no_cache": True,
    "platform": "linux/amd64",
    "tag": "x:1",
    "buildx_builder": "ci",
    "pull": True,
    "labels": {"team": "infra"},
    "extra_hosts": ("db:10.0.0.5",),
    "secrets": ("id=token,env=TOKEN",),
    "ssh": ("default",),
}
SESSION = ("buildx_builder", "secrets", "ssh")
"""Options only buildx can carry (a BuildKit session): the API refuses them, the classic builder too
(``cli.args.build_options`` says so before building)."""


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(BuildOptions) if f.name != "builder"])
def test_every_build_option_reaches_every_backend(name: str) -> None:
    """A field a translator forgets would be silently dropped by that builder only."""
    options = dataclasses.replace(PLAIN, **{name: SET[name]})
    if name in SESSION:
        assert options.needs_session and options.classic_refusals()
        with pytest.raises(UsageError, match="need buildx"):
            build_params(options)
        assert build_command(TOOL, options, FILES) != build_command(TOOL, PLAIN, FILES)
        return
    changed = translations(options)
    for backend, plain in translations(PLAIN).items():
        if backend == "api" and name in ("context", "dockerfile"):
            continue  # the uploaded tar carries them (test_buildkit_engine.py), not the query
        assert changed[backend] != plain, f"{name} does not reach the {backend} backend"


def test_the_builder_chooses_the_backend_and_is_translated_by_none() -> None:
    assert translations(dataclasses.replace(PLAIN, builder="buildkit")) == translations(PLAIN)


def test_deliver_hands_events_over_in_order() -> None:
    events = [BuildProgress("step", 1, 2, "FROM a"), BuildProgress("output", 1, 2, "FROM a", line="x")]
    seen: list[BuildProgress] = []
    deliver(events, seen.append)
    deliver(events, None)  # no callback: nothing to do, no error
    assert seen == events


DOCKER_FLAGS = dataclasses.replace(
    PLAIN,
    builder="buildkit",
    pull=True,
    labels={"team": "infra", "empty": ""},
    extra_hosts=("db:10.0.0.5", "v6:fd00::1"),
)


def test_docker_build_flags_exactly() -> None:
    assert {k: sdk_kwargs(DOCKER_FLAGS)[k] for k in ("pull", "labels", "extra_hosts")} == {
        "pull": True,
        "labels": {"team": "infra", "empty": ""},
        "extra_hosts": ["db:10.0.0.5", "v6:fd00::1"],
    }
    assert build_params(DOCKER_FLAGS) == {
        "version": "2",
        "rm": "1",
        "forcerm": "1",
        "extrahosts": ["db:10.0.0.5", "v6:fd00::1"],  # a repeated query parameter, as the docker CLI sends
        "pull": "1",
        "labels": '{"team": "infra", "empty": ""}',
    }
    session = dataclasses.replace(
        DOCKER_FLAGS, buildx_builder="ci", secrets=("id=a,src=/s",), ssh=("default", "git=/k")
    )
    assert build_command(TOOL, session, FILES) == [
        "docker", "buildx", "build", "--builder", "ci", "--progress=plain", "--provenance=false",
        "--iidfile", "/t/iid", "--metadata-file", "/t/meta.json", "-f", "/ctx/Dockerfile", "--load",
        "--label", "team=infra", "--label", "empty=",
        "--add-host", "db:10.0.0.5", "--add-host", "v6:fd00::1",
        "--secret", "id=a,src=/s", "--ssh", "default", "--ssh", "git=/k", "--pull", "/ctx",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("env", "version", "os_type", "ping", "expected"),
    [
        ({}, None, None, None, "buildkit"),  # no engine (predict): a current docker
        ({}, "23.0.6", "linux", None, "buildkit"),
        ({}, "22.06.0-beta.0", "linux", None, "classic"),
        ({}, "20.10.24", "linux", "2", "buildkit"),
        ({}, "garbage", "linux", None, "classic"),
        ({}, "27.0.1", "windows", "2", "classic"),
        ({"DOCKER_BUILDKIT": "false"}, "27.0.1", "linux", None, "classic"),
        ({"DOCKER_BUILDKIT": "T"}, "20.10.24", "linux", "1", "buildkit"),
    ],
)
def test_default_builder(
    env: dict[str, str], version: str | None, os_type: str | None, ping: str | None, expected: str
) -> None:
    assert default_builder(env, version, os_type, ping) == expected
