"""Hostile side inputs and hostile output streams: one line, a documented exit code, never a traceback.

Configs (``--config``, ``.layermap.toml``, ``pyproject.toml``), saved reports given to ``layermap diff``,
``--max-growth``, names that are not UTF-8 written with ``-o`` or to a strict stdout, stdout closed or
full, stderr a closed pipe, SIGTERM. Every fixture is written here, a few bytes each.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analyzer.cli import main
from analyzer.engine.options import BuildOptions

ARCHIVE = Path(__file__).resolve().parents[2] / "fixtures" / "archives" / "docker-small.tar"
DEEP = 1000


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err.strip()


def one_line(err: str, *needles: str) -> None:
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


# --------------------------------------------------------------------------- configs

CONFIGS: dict[str, bytes] = {
    "deep-array": b"max_layers = " + b"[" * DEEP + b"]" * DEEP + b"\n",
    "deep-table": b"severity = " + b"{a = " * 100 + b"1" + b"}" * 100 + b"\n",
    "invalid-utf8": b'fail_on = "err\xffor"\n',
    "utf16": "fail_on = 'error'\n".encode("utf-16"),
    "too-large": b"# " + b"x" * (1 << 20) + b"\n",
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_bad_config_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    config = tmp_path / "gate.toml"
    config.write_bytes(CONFIGS[case])
    code, _, err = run(capsys, "image", str(ARCHIVE), "--config", str(config), "-q")
    assert code == 2
    one_line(err, str(config))


def test_a_fifo_or_a_device_as_config_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        started = time.monotonic()
        code, _, err = run(capsys, "image", str(ARCHIVE), "--config", path, "-q")
        assert code == 2 and time.monotonic() - started < 10
        one_line(err, path, "not a regular file")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("pyproject.toml", b'tool = "layermap"\n'),
        ("pyproject.toml", b"tool = [1]\n"),
        (".layermap.toml", b"a = " + b"[" * DEEP + b"]" * DEEP + b"\n"),
    ],
)
def test_config_beside_the_dockerfile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    (tmp_path / name).write_bytes(content)
    code, _, err = run(capsys, "image", str(ARCHIVE), "--dockerfile", str(tmp_path / "Dockerfile"), "-q")
    assert code == 2
    one_line(err, name)


def test_a_fifo_as_dockerfile_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "Dockerfile")
    code, _, err = run(capsys, "predict", str(tmp_path / "Dockerfile"))
    assert code == 2
    one_line(err, "not a regular file")


# --------------------------------------------------------------------------- diff reports


@pytest.fixture(scope="module")
def good_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("report") / "r.json"
    assert main(["image", str(ARCHIVE), "--format", "json", "-o", str(out), "-q"]) == 0
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def _set(path: str, value: object) -> Callable[[dict[str, Any]], object]:
    def change(report: dict[str, Any]) -> object:
        *parents, last = path.split(".")
        target: Any = report
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[last] = value
        return report

    return change


REPORTS: dict[str, Callable[[dict[str, Any]], object]] = {
    "steps-string": _set("steps", "abc"),
    "steps-null": _set("steps", None),
    "steps-ints": _set("steps", [1, 2]),
    "schema-true": _set("schema_version", True),
    "image-size-string": _set("image.size", "12"),
    "image-size-huge": _set("image.size", 10**30),
    "image-size-negative": _set("image.size", -5),
    "history-index-float": _set("image.history.0.index", 0.5),
    "history-size-bool": _set("image.history.0.size", True),
    "diff-ids-ints": _set("image.diff_ids", [1]),
    "not-an-object": lambda report: [report],
}
DEEP_TEXT = "[" * DEEP + "]" * DEEP


@pytest.mark.parametrize("case", [*sorted(REPORTS), "deep", "invalid-utf8"])
def test_a_malformed_report_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], good_report: dict[str, Any], case: str
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(good_report))
    bad = tmp_path / "bad.json"
    if case == "invalid-utf8":
        bad.write_bytes(json.dumps(good_report).encode()[:-1] + b', "x": "\xff"}')
    elif case == "deep":
        bad.write_text(json.dumps(good_report)[:-1] + f', "x": {DEEP_TEXT}}}')
    else:
        bad.write_text(json.dumps(REPORTS[case](json.loads(json.dumps(good_report)))))
    code, _, err = run(capsys, "diff", str(good), str(bad), "-q")
    assert code == 2, err
    one_line(err, str(bad))


def test_a_good_report_diffs_and_a_nan_growth_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], good_report: dict[str, Any]
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(good_report))
    assert run(capsys, "diff", str(good), str(good), "-q")[0] == 0
    for growth in ("nan%", "inf%", "-1%"):
        code, _, err = run(capsys, "diff", str(good), str(good), f"--max-growth={growth}", "-q")
        assert code == 2
        one_line(err, "--max-growth")


# --------------------------------------------------------------------------- output


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A save whose history text has a byte that is not UTF-8 (as an image made anywhere may have)."""
    import hashlib
    import io
    import tarfile

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo("caf\udcff")
        tar.addfile(info, io.BytesIO(b""))
    data = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    config = (
        b'{"os":"linux","rootfs":{"type":"layers","diff_ids":["'
        + diff_id.encode()
        + b'"]},"history":[{"created_by":"COPY caf\\udcff /"}]}'
    )
    name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": name, "RepoTags": ["odd:1"], "Layers": ["l/layer.tar"]}]).encode()
    path = tmp_path_factory.mktemp("odd") / "odd.tar"
    with tarfile.open(path, "w") as tar:
        for member, body in (("l/layer.tar", data), (name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(member)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_non_utf8_text_with_dash_o_is_a_valid_utf8_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], odd_names: Path, fmt: str
) -> None:
    out = tmp_path / "report"
    code, _, err = run(capsys, "image", str(odd_names), "--contents", "--format", fmt, "-o", str(out), "-q")
    assert code == 0, err
    text = out.read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert "\\udcff" in text
    if fmt == "json":
        assert "caf\udcff" in json.loads(text)["image"]["history"][0]["created_by"]


def cli(*argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *argv], capture_output=True, text=True, timeout=60, **kwargs
    )


def test_strict_stdout_encoding_and_dev_full_and_closed_stdout(odd_names: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii:strict"}
    proc = cli("image", str(odd_names), "-q", env=env)
    assert proc.returncode == 0 and "\\udcff" in proc.stdout, proc.stderr
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "analyzer", "image", str(odd_names), "-q"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2 and proc.stderr.strip().startswith("layermap: cannot write the report")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", "image", str(odd_names), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(1),
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr


def test_stderr_a_closed_pipe_keeps_the_exit_code(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", "image", str(tmp_path / "missing.tar")],
        stdout=subprocess.PIPE,
        stderr=write,
        timeout=60,
    )
    os.close(write)
    assert proc.returncode == 2


def _open_writer(fifo: Path, deadline: float) -> int:
    """The FIFO's write end, once layermap opened it to read (its signal handlers are in place)."""
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # noqa: PERF203 - ENXIO: no reader yet
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_sigterm_is_handled_like_ctrl_c(tmp_path: Path) -> None:
    fifo = tmp_path / "slow.tar"
    os.mkfifo(fifo)  # the archive reader opens it and waits: a run to interrupt
    proc = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "image", str(fifo)], stderr=subprocess.PIPE, text=True
    )
    writer = _open_writer(fifo, time.monotonic() + 30)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    os.close(writer)
    assert proc.returncode == 143
    assert err.strip() == "layermap: terminated"


@pytest.mark.parametrize("content", [b"node_modules\n\xff\xfe\n", None])
def test_a_bad_dockerignore_is_exit_2_before_the_engine_sees_it(
    tmp_path: Path, content: bytes | None
) -> None:
    from analyzer.engine.buildkit_api import read_dockerignore
    from analyzer.engine.client import Engine
    from analyzer.errors import UsageError

    ignore = tmp_path / ".dockerignore"
    if content is None:
        os.mkfifo(ignore)  # would block the SDK's open() for ever
    else:
        ignore.write_bytes(content)
    with pytest.raises(UsageError, match=r"\.dockerignore"):
        read_dockerignore(tmp_path)

    class NoBuild:
        def build(self, **kwargs: Any) -> None:
            raise AssertionError("the SDK must not be called")

    with pytest.raises(UsageError, match=r"\.dockerignore") as err:
        Engine(NoBuild(), "unix:///fake").build_classic(BuildOptions(tmp_path, tmp_path / "Dockerfile"))
    assert err.value.exit_code == 2
