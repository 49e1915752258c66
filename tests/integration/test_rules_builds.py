"""Every review rule on real builds: it fires where it should and stays silent where it should not.

Byte counts in findings are checked against what the engine reports independently (``docker history``
sizes of the built image), never against constants that depend on how the base images were seeded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker
import pytest

from analyzer.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_dockerfiles"
Report = dict[str, Any]


def layermap(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Report]:
    code = main(["build", *args, "--format", "json", "-q", "--fail-on", "never"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def findings(report: Report, rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule]


def layer_sizes(client: docker.APIClient, report: Report) -> dict[int, int]:
    """Line → the size ``docker history`` reports for the entry that line made (read independently)."""
    history = list(reversed(client.history(report["image"]["id"])))  # oldest first, like the config
    return {s["line"]: history[s["history"]["index"]]["Size"] for s in report["steps"] if s["history"]}


def context(tmp_path: Path, dockerfile: str, **files: bytes) -> str:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return str(tmp_path)


@pytest.fixture
def engine(docker_client: docker.APIClient, seeded_images: dict[str, str]) -> docker.APIClient:
    return docker_client


# --------------------------------------------------------------------------- measured with --contents


def test_deleted_later_names_both_lines_with_the_measured_bytes(
    engine: docker.APIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = layermap(capsys, str(SAMPLES / "deleted-file"), "--contents")
    (found,) = findings(report, "deleted-later")
    assert (code, found["line"], found["end_line"], found["related_lines"]) == (0, 4, 5, [7])
    assert found["bytes"] == layer_sizes(engine, report)[4] == 8 * 1024 * 1024
    assert found["paths"] == ["/data/blob"] and found["evidence"] == "contents"
    fixed = layermap(capsys, str(SAMPLES / "deleted-file/Dockerfile.fixed"), "--contents")[1]
    assert findings(fixed, "deleted-later") == [] and fixed["waste"]["pairs"] == []


def test_overwritten_later(
    engine: docker.APIClient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    twice = "FROM busybox:latest\nRUN head -c 65536 /dev/urandom > /f\nRUN head -c 32768 /dev/urandom > /f\n"
    report = layermap(capsys, context(tmp_path, twice), "--contents")[1]
    (found,) = findings(report, "overwritten-later")
    assert (found["line"], found["related_lines"], found["bytes"]) == (2, [3], 65536)
    assert layer_sizes(engine, report)[2] == 65536
    once = "FROM busybox:latest\nRUN head -c 65536 /dev/urandom > /f && head -c 32768 /dev/urandom > /f\n"
    assert findings(layermap(capsys, context(tmp_path, once), "--contents")[1], "overwritten-later") == []


def test_copy_up_of_a_chmod(
    engine: docker.APIClient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    split = "FROM busybox:latest\nRUN head -c 100000 /dev/urandom > /f\nRUN chmod 600 /f\n"
    report = layermap(capsys, context(tmp_path, split), "--contents")[1]
    (found,) = findings(report, "copy-up")
    assert (found["line"], found["related_lines"], found["bytes"]) == (3, [2], 100000)
    assert layer_sizes(engine, report)[3] == 100000  # the chmod's layer holds the whole file again
    joined = "FROM busybox:latest\nRUN head -c 100000 /dev/urandom > /f && chmod 600 /f\n"
    assert findings(layermap(capsys, context(tmp_path, joined), "--contents")[1], "copy-up") == []


def test_package_cache_apt_lists(engine: docker.APIClient, capsys: pytest.CaptureFixture[str]) -> None:
    sample = SAMPLES / "apt-cache"
    report = layermap(capsys, str(sample), "--contents", "--network", "host")[1]
    lists = [f for f in findings(report, "package-cache") if f["cache"] == "apt package lists"]
    assert [f["line"] for f in lists] == [4]
    assert 0 < lists[0]["bytes"] <= layer_sizes(engine, report)[4]
    assert all(p.startswith("/var/lib/apt/lists/") for p in lists[0]["paths"])
    clean = layermap(capsys, str(sample / "Dockerfile.clean"), "--contents", "--network", "host")[1]
    assert findings(clean, "package-cache") == []


def test_base_image_waste(
    engine: docker.APIClient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rm = "FROM debian:bookworm-slim\nRUN rm /usr/bin/perl*\n"
    report = layermap(capsys, context(tmp_path, rm), "--contents")[1]
    (found,) = findings(report, "base-image-waste")
    assert found["line"] == 2 and found["severity"] == "info" and found["kind"] == "deleted"
    assert all(p.startswith("/usr/bin/perl") for p in found["paths"]) and found["bytes"] > 1_000_000
    add = "FROM debian:bookworm-slim\nRUN echo new > /new-file\n"
    assert findings(layermap(capsys, context(tmp_path, add), "--contents")[1], "base-image-waste") == []


KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def test_secret_in_layer_even_when_deleted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    leak = "FROM busybox:latest\nCOPY id_rsa /root/.ssh/id_rsa\nRUN rm /root/.ssh/id_rsa\n"
    code = main(["build", context(tmp_path, leak, id_rsa=KEY), "--contents", "--format", "json", "-q"])
    report = json.loads(capsys.readouterr().out)
    (found,) = findings(report, "secret-in-layer")
    assert (code, found["line"], found["related_lines"], found["severity"]) == (1, 2, [3], "error")
    assert found["paths"] == ["/root/.ssh/id_rsa"] and found["fails_gate"] is True
    assert "AAAA" not in json.dumps(report)  # names only, never the contents
    public = "FROM busybox:latest\nCOPY id_rsa.pub /root/.ssh/id_rsa.pub\n"
    report = layermap(
        capsys, context(tmp_path, public, **{"id_rsa.pub": b"ssh-ed25519 AAAA x\n"}), "--contents"
    )[1]
    assert findings(report, "secret-in-layer") == []


def test_efficiency_and_wasted_bytes(
    engine: docker.APIClient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('min_efficiency = "50%"\nmax_wasted_bytes = "1MB"\n')
    report = layermap(capsys, str(SAMPLES / "deleted-file"), "--contents", "--config", str(config))[1]
    (low,) = findings(report, "low-efficiency")
    (wasted,) = findings(report, "wasted-bytes")
    assert low["efficiency"] == report["waste"]["efficiency"] < 0.5 and low["related_lines"] == [4]
    assert wasted["bytes"] == report["waste"]["wasted_bytes"] == 8 * 1024 * 1024
    fixed = SAMPLES / "deleted-file/Dockerfile.fixed"
    clean = layermap(capsys, str(fixed), "--contents", "--config", str(config))[1]
    assert findings(clean, "low-efficiency") == findings(clean, "wasted-bytes") == []


# --------------------------------------------------------------------------- measured from the history sizes


def test_cache_busting_copy(engine: docker.APIClient, capsys: pytest.CaptureFixture[str]) -> None:
    report = layermap(capsys, str(SAMPLES / "cache-busting"))[1]
    (found,) = findings(report, "cache-busting-copy")
    assert (found["line"], found["related_lines"]) == (5, [6])
    sizes = layer_sizes(engine, report)
    assert found["bytes"] == sum(sizes[line] for line in (6, 7)) >= 786_432
    good = layermap(capsys, str(SAMPLES / "cache-busting/Dockerfile.good"))[1]
    assert findings(good, "cache-busting-copy") == []


def test_add_instead_of_copy(engine: docker.APIClient, capsys: pytest.CaptureFixture[str]) -> None:
    report = layermap(capsys, str(SAMPLES / "basics"))[1]
    (found,) = findings(report, "add-instead-of-copy")
    assert found["line"] == 17 and found["bytes"] == layer_sizes(engine, report)[17] == 56
    assert findings(layermap(capsys, str(SAMPLES / "multi-stage"))[1], "add-instead-of-copy") == []


def test_tiny_layers(engine: docker.APIClient, capsys: pytest.CaptureFixture[str]) -> None:
    report = layermap(capsys, str(SAMPLES / "basics"))[1]
    (found,) = findings(report, "tiny-layers")
    sizes = layer_sizes(engine, report)
    # WORKDIR /app (line 12) to the first RUN (19): whether WORKDIR /tmp (14) makes a layer depends on
    # the base image having /tmp, so the run is read from the report's own layer facts.
    run = [s["line"] for s in report["steps"] if s["layer"] and 12 <= s["line"] <= 19]
    assert run[0] == 12 and {16, 17, 19} <= set(run)
    assert (found["line"], found["related_lines"]) == (12, run[1:])
    assert found["bytes"] == sum(sizes[line] for line in run) == 30 + 56 + 20
    assert findings(layermap(capsys, str(SAMPLES / "deleted-file"))[1], "tiny-layers") == []


def test_large_context_without_dockerignore(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('max_context_size = "1MB"\n')
    ctx = context(tmp_path, "FROM busybox:latest\nCOPY blob /blob\n", blob=b"\0" * 2_000_000)
    report = layermap(capsys, ctx, "--config", str(config))[1]
    (found,) = findings(report, "large-context")
    dockerfile_size = (tmp_path / "Dockerfile").stat().st_size
    assert found["bytes"] == 2_000_000 + dockerfile_size + config.stat().st_size and found["line"] is None
    (tmp_path / ".dockerignore").write_text("gate.toml\n")
    assert findings(layermap(capsys, ctx, "--config", str(config))[1], "large-context") == []


def test_budgets(engine: docker.APIClient, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fixed = layermap(capsys, str(SAMPLES / "deleted-file/Dockerfile.fixed"))[1]
    config = tmp_path / "gate.toml"
    config.write_text(
        f'max_layer_size = "1MB"\nmax_image_size = "5MB"\nmax_added_size = "1MB"\n'
        f"max_layers = {fixed['image']['layer_count']}\n"
    )
    code, report = layermap(capsys, str(SAMPLES / "deleted-file"), "--config", str(config))
    by_rule = {f["rule"]: f for f in report["findings"]}
    assert (
        by_rule["layer-over-budget"]["line"] == 4 and by_rule["layer-over-budget"]["bytes"] == 8 * 1024 * 1024
    )
    assert (
        by_rule["image-over-budget"]["bytes"]
        == report["image"]["size"]
        == engine.inspect_image(report["image"]["id"])["Size"]
    )
    assert by_rule["added-over-budget"]["related_lines"][0] == 4
    assert by_rule["too-many-layers"]["layers"] == fixed["image"]["layer_count"] + 1
    again = layermap(capsys, str(SAMPLES / "deleted-file/Dockerfile.fixed"), "--config", str(config))[1]
    assert not [
        f for f in again["findings"] if f["rule"].endswith("budget") or f["rule"] == "too-many-layers"
    ]
