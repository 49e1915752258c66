"""Property-based fuzzing of what layermap reads from strangers: archives, saved reports, configs.

Every generated input must end with a documented exit code (0, 1 for a failed gate, 2 for bad input)
and at most one ``layermap:`` error line, within a time bound, and no other exception may escape
:func:`analyzer.cli.main`. CI runs a fixed budget with a fixed seed (``derandomize``); a longer run:

    LAYERMAP_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/unit/test_fuzz.py -q
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.cli import main

EXAMPLES = int(os.environ.get("LAYERMAP_FUZZ_EXAMPLES", "100"))
SECONDS = 20  # per example: a hang is a failure, not a stuck suite
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ARCHIVE = Path(__file__).resolve().parents[1] / "fixtures" / "archives" / "docker-small.tar"


# --------------------------------------------------------------------------- running the CLI


@contextlib.contextmanager
def time_bound() -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"an example took more than {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_run(capsys: pytest.CaptureFixture[str], argv: list[str], allowed: set[int]) -> None:
    with time_bound():
        code = main(argv)
    err = capsys.readouterr().err
    assert code in allowed, (code, err)
    assert "Traceback" not in err
    errors = [
        line
        for line in err.splitlines()
        if line.startswith("layermap: ") and not line.startswith("layermap: warning:")
    ]
    if code == 2:
        assert len(errors) == 1, err


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERMAP_NO_CACHE", "1")


# --------------------------------------------------------------------------- archives


def member(name: str, body: bytes, kind: bytes = tarfile.REGTYPE, link: str = "") -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(body) if kind == tarfile.REGTYPE else 0
    info.type = kind
    info.linkname = link
    return info.tobuf(tarfile.GNU_FORMAT) + body + bytes(-len(body) % 512)


def base_save() -> tuple[bytes, list[int]]:
    """A small valid save, and the offsets of its member headers (where mutations hurt most)."""
    layer = b"".join([member("etc/", b"", tarfile.DIRTYPE), member("etc/hosts", b"127.0.0.1 x\n")]) + bytes(
        1024
    )
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": name, "RepoTags": ["f:1"], "Layers": ["l/layer.tar"]}]).encode()
    parts = [member("l/layer.tar", layer), member(name, config), member("manifest.json", manifest)]
    offsets, position = [], 0
    for part in parts:
        offsets.append(position)
        position += len(part)
    return b"".join(parts) + bytes(1024), offsets


BASE, HEADERS = base_save()
SIZE_FIELD = slice(124, 136)


def with_size(data: bytearray, header: int, size: int) -> None:
    """Write ``size`` (any integer) into a header's size field, as octal or base-256, checksum fixed."""
    block = data[header : header + 512]
    if 0 <= size < 8**11:
        block[SIZE_FIELD] = b"%011o\0" % size
    else:
        block[SIZE_FIELD] = (
            b"\xff" + (size % (1 << 88)).to_bytes(11, "big")
            if size < 0
            else b"\x80" + (size % (1 << 88)).to_bytes(11, "big")
        )
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    data[header : header + 512] = block


mutations = st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, len(BASE))),
    st.tuples(st.just("flip"), st.lists(st.integers(0, len(BASE) * 8 - 1), min_size=1, max_size=8)),
    st.tuples(
        st.just("size"),
        st.sampled_from(HEADERS),
        st.one_of(st.integers(-(1 << 70), 1 << 70), st.sampled_from([-1, 0, 1, 511, 513, 1 << 33, 1 << 64])),
    ),
    st.tuples(st.just("pax"), st.sampled_from(["size", "mtime", "path"]), st.text(max_size=30)),
    st.tuples(
        st.just("link"), st.sampled_from(["manifest.json", "l/layer.tar"]), st.text(min_size=1, max_size=20)
    ),
)


def mutated(mutation: tuple[Any, ...]) -> bytes:
    kind = mutation[0]
    data = bytearray(BASE)
    if kind == "truncate":
        return bytes(data[: mutation[1]])
    if kind == "flip":
        for bit in mutation[1]:
            data[bit // 8] ^= 1 << (bit % 8)
        return bytes(data)
    if kind == "size":
        with_size(data, mutation[1], mutation[2])
        return bytes(data)
    if kind == "pax":
        buffer = io.BytesIO()
        info = tarfile.TarInfo("etc/x")
        info.pax_headers = {mutation[1]: mutation[2]}
        with contextlib.suppress(ValueError, UnicodeError):
            buffer.write(info.tobuf(tarfile.PAX_FORMAT))
        return buffer.getvalue() + bytes(data)
    # A link in front of the real member: a loop, a climb, or a link to something else.
    return member(mutation[1], b"", tarfile.SYMTYPE, mutation[2]) + bytes(data)


@FUZZ
@given(mutation=mutations, contents=st.booleans())
def test_fuzzed_archives(
    capsys: pytest.CaptureFixture[str], mutation: tuple[Any, ...], contents: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.tar"
        path.write_bytes(mutated(mutation))
        check_run(capsys, ["image", str(path), "-q", *(["--contents"] if contents else [])], {0, 2})


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    _containers,
    max_leaves=20,
)


@FUZZ
@given(
    index=st.recursive(
        st.fixed_dictionaries({"digest": st.sampled_from(["sha256:" + "0" * 64, "bad", "sha256:../x"])}),
        lambda inner: st.fixed_dictionaries({"manifests": st.lists(inner, max_size=3)}),
        max_leaves=6,
    )
    | json_values
)
def test_fuzzed_oci_indexes(capsys: pytest.CaptureFixture[str], index: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        layout = Path(folder)
        (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        (layout / "index.json").write_text(json.dumps(index))
        check_run(capsys, ["image", str(layout), "-q"], {2})


# --------------------------------------------------------------------------- reports and configs


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "r.json"
        assert main(["image", str(ARCHIVE), "--format", "json", "-o", str(out), "-q"]) == 0
        value: dict[str, Any] = json.loads(out.read_text())
    return value


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths_of(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths_of(child, (*prefix, index))
    return found


@FUZZ
@given(data=st.data(), replacement=json_values)
def test_fuzzed_reports(
    capsys: pytest.CaptureFixture[str], report: dict[str, Any], data: st.DataObject, replacement: Any
) -> None:
    changed = json.loads(json.dumps(report))
    where = data.draw(st.sampled_from(paths_of(changed)[1:]))
    target = changed
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = replacement
    with tempfile.TemporaryDirectory() as folder:
        good, bad = Path(folder) / "good.json", Path(folder) / "bad.json"
        good.write_text(json.dumps(report))
        bad.write_text(json.dumps(changed))
        check_run(capsys, ["diff", str(good), str(bad), "-q"], {0, 1, 2})


toml_keys = st.sampled_from(
    ["max_layers", "max_image_size", "min_efficiency", "fail_on", "severity", "ignore", "x"]
)


@FUZZ
@given(
    text=st.one_of(
        st.binary(max_size=200),
        st.builds(lambda k, v: f"{k} = {v}\n".encode(), toml_keys, st.text(max_size=30)),
        st.builds(lambda k, v: f"{k} = {json.dumps(v)}\n".encode(), toml_keys, json_values),
    ),
    as_pyproject=st.booleans(),
)
def test_fuzzed_configs(capsys: pytest.CaptureFixture[str], text: bytes, as_pyproject: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("pyproject.toml" if as_pyproject else "gate.toml")
        path.write_bytes(b"[tool.layermap]\n" + text if as_pyproject else text)
        check_run(capsys, ["image", str(ARCHIVE), "--config", str(path), "-q"], {0, 1, 2})
