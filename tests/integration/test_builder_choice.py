"""Builder choice like docker's and docker build's flags, on real engines: the default builder is the one
``docker build`` would use, ``--label`` and ``--add-host`` reach the build, ``--secret`` reaches
``RUN --mount=type=secret`` (through buildx), and what the classic builder cannot do is exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analyzer.cli import main

SECRET_DOCKERFILE = """\
FROM busybox:latest
RUN --mount=type=secret,id=lmtest-token,required=true test "$(cat /run/secrets/lmtest-token)" = s3cret
RUN grep -q "10.1.2.3.*lmtest-db" /etc/hosts && touch /hosts-ok
"""


def expected_default(engine: Any) -> str:
    major = int(engine.version.split(".")[0])
    if major >= 23:
        return "buildkit"
    ping = engine.client._get(engine.client._url("/_ping"))
    return "buildkit" if ping.headers.get("Builder-Version") == "2" else "classic"


def build(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any] | None, str]:
    code = main(["build", *argv, "--network", "host", "--format", "json", "-q"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_the_default_builder_is_docker_builds(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)
    (tmp_path / "Dockerfile").write_text("FROM busybox:latest\nLABEL lmtest=default\n")
    code, report, err = build(capsys, str(tmp_path), "--label", "org.example.lmtest=yes")
    assert code == 0, err
    assert report is not None and report["builder"] == expected_default(engine)
    labels = engine.client.inspect_image(report["image"]["id"])["Config"]["Labels"]
    assert labels["org.example.lmtest"] == "yes" and labels["lmtest"] == "default"
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    code, report, err = build(capsys, str(tmp_path))
    assert code == 0, err
    assert report is not None and report["builder"] == "classic"


def test_a_secret_and_an_extra_host_reach_the_buildkit_build(
    engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if engine.buildx is None:
        pytest.skip(f"{engine.kind} has no buildx plugin configured")
    (tmp_path / "Dockerfile").write_text(SECRET_DOCKERFILE)
    token = tmp_path.parent / f"{tmp_path.name}-token"
    token.write_text("s3cret")
    code, report, err = build(
        capsys,
        str(tmp_path),
        "--buildkit",
        "--no-cache",
        "--secret",
        f"id=lmtest-token,src={token}",
        "--add-host",
        "lmtest-db:10.1.2.3",
    )
    assert code == 0, err
    assert report is not None and report["builder"] == "buildkit"
    assert [s["line"] for s in report["steps"] if s["instruction"] == "RUN"] == [2, 3]
    # Without the secret the same step fails: the build really used it.
    code, report, err = build(
        capsys, str(tmp_path), "--buildkit", "--no-cache", "--add-host", "lmtest-db:10.1.2.3"
    )
    assert code == 3 and report is not None
    assert [s["line"] for s in report["steps"] if s["error"]] == [2]


def test_what_the_classic_builder_cannot_do_is_refused_before_building(
    engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox:latest\nRUN true\n")
    code, report, err = build(capsys, str(tmp_path), "--classic", "--ssh", "default")
    assert code == 2 and report is None
    assert err.strip() == "layermap: --ssh needs BuildKit, which --classic is not; use --buildkit"
