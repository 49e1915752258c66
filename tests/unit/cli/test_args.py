"""``analyzer.cli.args``: the build and image flags shared by ``build``, ``image`` and ``diff``, the
:class:`BuildOptions` they become, and that ``diff`` hands them to its builds as ``build`` does."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from analyzer.cli import main, parser
from analyzer.cli.args import (
    add_build_args,
    add_image_args,
    build_options,
    requested_builder,
    resolve_context,
)
from analyzer.engine.options import BuildOptions
from analyzer.errors import EngineError, UsageError

FLAGS = [
    "--buildkit", "--build-arg", "A=1", "--build-arg", "B=", "--target", "final",
    "--network", "host", "--no-cache", "--platform", "linux/amd64",
]  # fmt: skip


def context(tmp_path: Path, name: str = "ctx") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM busybox:latest AS final\nRUN true\n")
    return folder


def build_parser(one_context: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_build_args(p, one_context=one_context)
    return p


def subcommand(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    found: argparse.ArgumentParser = sub.choices[name]
    return found


def flags(p: argparse.ArgumentParser) -> dict[str, tuple[Any, ...]]:
    return {
        a.option_strings[-1]: (a.dest, a.default, tuple(a.choices or ()), a.metavar)
        for a in p._actions
        if a.option_strings and a.dest != "help"
    }


def test_every_flag_becomes_its_option(tmp_path: Path) -> None:
    folder = context(tmp_path)
    args = build_parser().parse_args([*FLAGS, "-f", str(folder / "Dockerfile"), "-t", "x:1"])
    assert build_options(args, str(folder)) == BuildOptions(
        context=folder,
        dockerfile=folder / "Dockerfile",
        builder="buildkit",
        build_args={"A": "1", "B": ""},
        target="final",
        network="host",
        no_cache=True,
        platform="linux/amd64",
        tag="x:1",
    )


def test_defaults_are_docker_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # BuildKit until the engine says otherwise (docker build's default since Docker 23.0).
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)
    folder = context(tmp_path)
    args = build_parser().parse_args([])
    assert requested_builder(args) == (None, None)
    assert build_options(args, str(folder)) == BuildOptions(folder, folder / "Dockerfile", "buildkit")
    assert build_options(args, str(folder), "classic") == BuildOptions(folder, folder / "Dockerfile")


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["--classic"], "1", ("classic", None)),
        (["--buildkit"], "0", ("buildkit", None)),
        ([], "0", ("classic", None)),
        ([], "true", ("buildkit", None)),
        ([], "", (None, None)),
        (["--builder", "ci-builder"], "0", ("buildkit", "ci-builder")),
        (["--buildkit", "--builder", "ci-builder"], "", ("buildkit", "ci-builder")),
    ],
)
def test_which_builder_is_asked_for(
    argv: list[str], env: str, expected: tuple[str | None, str | None]
) -> None:
    assert requested_builder(build_parser().parse_args(argv), {"DOCKER_BUILDKIT": env}) == expected


@pytest.mark.parametrize("old", ["classic", "buildkit"])
def test_builder_classic_or_buildkit_still_works_with_a_warning(
    old: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert requested_builder(build_parser().parse_args(["--builder", old]), {}) == (old, None)
    assert capsys.readouterr().err.strip() == (
        f"layermap: warning: --builder {old} is deprecated (--builder names a buildx builder instance, "
        f"as in buildx); use --{old}"
    )


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--classic", "--builder", "buildkit"], "", "ask for different builders"),
        (["--classic", "--builder", "ci"], "", "a buildx builder instance is BuildKit"),
        (["--builder", ""], "", "not a builder instance name"),
        ([], "maybe", "DOCKER_BUILDKIT=maybe: use 1 or 0"),
    ],
)
def test_builder_conflicts(argv: list[str], env: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        requested_builder(build_parser().parse_args(argv), {"DOCKER_BUILDKIT": env})


def test_classic_and_buildkit_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--classic", "--buildkit"])
    assert exit_info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_docker_build_flags_become_options(tmp_path: Path) -> None:
    folder = context(tmp_path)
    (tmp_path / "token").write_text("s3cret")
    argv = [
        "--buildkit", "--pull", "--label", "org.example.team=infra", "--label", "empty",
        "--add-host", "db:10.0.0.5", "--add-host", "v6=fd00::1",
        "--secret", f"id=token,src={tmp_path / 'token'}", "--secret", "id=env,env=HOME",
        "--ssh", "default", "--progress", "plain",
    ]  # fmt: skip
    args = build_parser().parse_args(argv)
    options = build_options(args, str(folder))
    assert args.progress == "plain"
    assert options == BuildOptions(
        folder,
        folder / "Dockerfile",
        "buildkit",
        pull=True,
        labels={"org.example.team": "infra", "empty": ""},
        extra_hosts=("db:10.0.0.5", "v6:fd00::1"),
        secrets=(f"id=token,src={tmp_path / 'token'}", "id=env,env=HOME"),
        ssh=("default",),
    )
    assert options.needs_session and not dataclasses.replace(options, secrets=(), ssh=()).needs_session


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--label", "=x"], "--label '=x': use KEY=VALUE"),
        (["--add-host", "nohost"], "use HOST:IP"),
        (["--add-host", "db:"], "use HOST:IP"),
        (["--secret", "src=/etc/hostname"], "use id=ID"),
        (["--secret", "id=x,src=/no/such/secret"], "/no/such/secret: no such file"),
        (["--ssh", ""], "use default or ID"),
        (["--classic", "--secret", "id=a,env=HOME"], "--secret needs BuildKit, which --classic is not"),
        (["--classic", "--ssh", "default"], "--ssh needs BuildKit"),
    ],
)
def test_bad_docker_build_flags_are_usage_errors(tmp_path: Path, argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_options(build_parser().parse_args(argv), str(context(tmp_path)))


def test_the_engine_default_refuses_what_classic_cannot(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--ssh", "default"])
    with pytest.raises(UsageError, match=r"the classic builder \(the engine's default\)"):
        build_options(args, str(context(tmp_path)), "classic")


def test_bare_build_arg_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROM_ENV", "yes")
    monkeypatch.delenv("NOT_SET", raising=False)
    args = build_parser().parse_args(["--build-arg", "FROM_ENV", "--build-arg", "NOT_SET"])
    assert build_options(args, str(context(tmp_path))).build_args == {"FROM_ENV": "yes"}


def test_bad_build_arg_and_unknown_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="invalid --build-arg '=x'"):
        build_options(build_parser().parse_args(["--build-arg", "=x"]), str(context(tmp_path)))
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--progress", "fancy"])
    assert exit_info.value.code == 2 and "invalid choice: 'fancy'" in capsys.readouterr().err


def test_two_contexts_take_no_file_and_no_tag(tmp_path: Path) -> None:
    """``diff`` builds two contexts: each names its Dockerfile, and one tag cannot name two images."""
    assert set(flags(build_parser())) - set(flags(build_parser(one_context=False))) == {"--file", "--tag"}
    args = build_parser(one_context=False).parse_args(FLAGS)
    dockerfile = context(tmp_path) / "Dockerfile"
    assert build_options(args, str(dockerfile)) == BuildOptions(
        dockerfile.parent, dockerfile, "buildkit", {"A": "1", "B": ""}, "final", "host", True, "linux/amd64"
    )


def test_context_may_be_a_dockerfile(tmp_path: Path) -> None:
    folder = context(tmp_path)
    assert resolve_context(str(folder / "Dockerfile"), None) == (folder, folder / "Dockerfile")
    assert resolve_context(str(folder), "other.Dockerfile") == (folder, Path("other.Dockerfile"))
    with pytest.raises(UsageError, match="is a file; give a folder as CONTEXT when using -f"):
        resolve_context(str(folder / "Dockerfile"), "x")
    with pytest.raises(UsageError, match="no such file or directory"):
        resolve_context(str(tmp_path / "missing"), None)


def test_build_flags_keep_the_contract() -> None:
    """The flags, destinations, defaults and choices of ``layermap build`` before the shared helper."""
    assert {k: v for k, v in flags(subcommand("build")).items() if k in BUILD_FLAGS} == BUILD_FLAGS
    helps = {a.option_strings[-1]: a.help for a in subcommand("build")._actions if a.option_strings}
    assert all(helps[flag] for flag in BUILD_FLAGS)


BUILD_FLAGS: dict[str, tuple[Any, ...]] = {
    "--file": ("dockerfile", None, (), "DOCKERFILE"),
    "--classic": ("builder_kind", None, (), None),
    "--buildkit": ("builder_kind", None, (), None),
    "--builder": ("builder_name", None, (), "NAME"),
    "--progress": ("progress", "auto", ("auto", "plain", "tty", "quiet"), None),
    "--pull": ("pull", False, (), None),
    "--label": ("labels", [], (), "K=V"),
    "--add-host": ("extra_hosts", [], (), "HOST:IP"),
    "--secret": ("secrets", [], (), "id=ID[,src=PATH|,env=VAR]"),
    "--ssh": ("ssh", [], (), "default|ID[=SOCKET|KEY]"),
    "--build-arg": ("build_args", [], (), "K=V"),
    "--target": ("target", None, (), "STAGE"),
    "--network": ("network", None, (), "MODE"),
    "--no-cache": ("no_cache", False, (), None),
    "--platform": ("platform", None, (), "P"),
    "--tag": ("tag", None, (), "TAG"),
}


def test_image_and_diff_flags() -> None:
    image = flags(subcommand("image"))
    assert {k: image[k] for k in ("--dockerfile", "--build-arg", "--target")} == {
        "--dockerfile": ("dockerfile", None, (), "FILE"),
        "--build-arg": ("build_args", [], (), "K=V"),
        "--target": ("target", None, (), "STAGE"),
    }
    diff = flags(subcommand("diff"))
    assert {k: diff[k] for k in BUILD_FLAGS if k not in ("--file", "--tag")} == {
        k: v for k, v in BUILD_FLAGS.items() if k not in ("--file", "--tag")
    }
    assert "--file" not in diff and "--tag" not in diff
    assert image["--allow-mismatch"] == diff["--allow-mismatch"] == ("allow_mismatch", False, (), None)
    standalone = argparse.ArgumentParser()
    add_image_args(standalone)
    assert set(flags(standalone)) == {"--dockerfile", "--build-arg", "--target", "--allow-mismatch"}


@pytest.mark.parametrize("command", ["build", "diff"])
def test_build_and_diff_hand_the_same_options_to_the_build(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No engine: the build is stopped where it would start, after the request was made."""
    from analyzer.engine import client
    from analyzer.mapping import build as pipeline

    requests: list[pipeline.BuildRequest] = []

    def stop(request: pipeline.BuildRequest, *args: Any, **kwargs: Any) -> Any:
        requests.append(request)
        raise EngineError("stopped before building")

    monkeypatch.setattr(client, "connect", lambda: object())
    monkeypatch.setattr(pipeline, "build_report", stop)
    base, head = context(tmp_path, "base"), context(tmp_path, "head")
    sides = [str(base)] if command == "build" else [str(base), str(head)]
    assert main([command, *sides, *FLAGS, "-q"]) == 4
    assert "stopped before building" in capsys.readouterr().err
    assert [r.options for r in requests] == [
        BuildOptions(
            base, base / "Dockerfile", "buildkit", {"A": "1", "B": ""}, "final", "host", True, "linux/amd64"
        )
    ]


@pytest.mark.parametrize("name", ["build", "image", "predict", "layers", "diff", "pull", "store", "samples"])
def test_the_one_command_parser_is_the_full_parsers_own(name: str) -> None:
    """main builds only the named command's parser: its help (usage, flags, defaults) is the same."""
    alone = next(a for a in parser(name)._actions if isinstance(a, argparse._SubParsersAction))
    assert list(alone.choices) == [name]
    assert alone.choices[name].format_help() == subcommand(name).format_help()


def test_main_parses_a_command_like_the_full_parser(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "image",
        "docker://127.0.0.1:9/x/y:1",
        "--contents",
        "--platform",
        "linux/arm64",
        "--context",
        "c",
    ]
    assert vars(parser("image").parse_args(argv)) == vars(parser().parse_args(argv))
    with pytest.raises(SystemExit):
        main(["image", "--help"])
    assert capsys.readouterr().out == subcommand("image").format_help()
    with pytest.raises(SystemExit) as exit_:  # not a command: the full parser answers, listing them all
        main(["nope"])
    assert exit_.value.code == 2
    assert "invalid choice: 'nope' (choose from 'build', 'image'" in capsys.readouterr().err
