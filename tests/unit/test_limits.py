"""Hostile tar headers, through both tar readers and every command that reads an archive.

Every fixture is a few KiB made here: huge, negative and malformed sizes, huge extended headers, PAX
records that do not parse, signed checksums. ``image``, ``layers``, ``diff`` and ``--contents`` must
agree (one policy, :mod:`analyzer.limits`) and end with exit 2 and one line naming the input, fast and
in bounded memory (the memory cases run in a subprocess under ``RLIMIT_AS``).
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.contents.tarstream import FileFeed, TarFormatError, TarReader
from analyzer.errors import ArchiveError
from analyzer.image.archive import read_image
from analyzer.image.archive.blobs import open_tar_stream, stream_members

END = bytes(1024)


def raw_member(
    name: str, body: bytes = b"", *, kind: bytes = b"0", size: bytes | None = None, signed: bool = False
) -> bytes:
    """One ustar header (size field as given, else the body's length) with its body and padding."""
    block = bytearray(512)
    raw_name = name.encode("utf-8")
    block[0 : len(raw_name)] = raw_name
    block[100:108] = b"0000644\0"
    block[108:116] = block[116:124] = b"0000000\0"
    block[124:136] = size if size is not None else b"%011o\0" % len(body)
    block[136:148] = b"%011o\0" % 1_700_000_000
    block[156:157] = kind
    block[257:265] = b"ustar\x0000"
    block[148:156] = b" " * 8
    total = sum(b - 256 if signed and b >= 128 else b for b in block)
    block[148:156] = b"%06o\0 " % total
    return bytes(block) + body + bytes(-len(body) % 512)


def pax(records: dict[str, str], *, size: bytes | None = None) -> bytes:
    body = b""
    for key, value in records.items():
        text = f" {key}={value}\n".encode()
        length = previous = 0
        while True:  # the length counts its own digits
            length = len(text) + len(str(previous))
            if length == previous:
                break
            previous = length
        body += str(length).encode() + text
    return raw_member("PaxHeaders/x", body, kind=b"x", size=size)


def base256(value: int) -> bytes:
    if value >= 0:
        return b"\x80" + value.to_bytes(11, "big")
    return b"\xff" + (value + (1 << 88)).to_bytes(11, "big")


HOSTILE: dict[str, bytes] = {
    "base256-2^64": raw_member("etc/big", b"x", size=base256(1 << 64)),
    "negative": raw_member("etc/neg", b"x" * 600, size=base256(-1024)),
    "pax-size-10^30": pax({"size": "1" + "0" * 30}) + raw_member("etc/p", b"x"),
    "pax-size-abc": pax({"size": "abc"}) + raw_member("etc/p", b"x"),
    "pax-mtime-abc": pax({"mtime": "abc"}) + raw_member("etc/p", b"x"),
    "pax-2GiB": pax({"path": "x"}, size=b"%011o\0" % (2 << 30)) + bytes(4096),
    "gnu-longname-2GiB": raw_member("././@LongLink", b"n", kind=b"L", size=b"%011o\0" % (2 << 30)),
    "past-the-end": raw_member("etc/cut", b"x", size=b"%011o\0" % (1 << 30)),
}


def layer_tar(*members: bytes) -> bytes:
    return raw_member("etc/", kind=b"5") + raw_member("etc/ok", b"ok\n") + b"".join(members) + END


def save(layers: list[bytes], *, extra: bytes = b"") -> bytes:
    """A Docker-format ``docker save`` of an image made of ``layers`` (config diff_ids right)."""
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    history = [{"created_by": f"COPY {i} /etc/"} for i in range(len(layers))]
    config = json.dumps(
        {"os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": history}
    )
    config_name = hashlib.sha256(config.encode()).hexdigest() + ".json"
    names = [f"l{i}/layer.tar" for i in range(len(layers))]
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["hostile:1"], "Layers": names}])
    members = [raw_member(n, body) for n, body in zip(names, layers, strict=True)]
    members += [raw_member(config_name, config.encode()), raw_member("manifest.json", manifest.encode())]
    return b"".join(members) + extra + END


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return code, err


# --------------------------------------------------------------------------- both readers, one policy


def tarfile_verdict(data: bytes) -> str:
    try:
        with open_tar_stream(io.BytesIO(data)) as tar:
            for _ in stream_members(tar, "broken"):
                pass
    except ArchiveError as exc:
        return f"error: {exc}"
    return "ok"


def tarstream_verdict(data: bytes) -> str:
    try:
        for _ in TarReader(FileFeed(io.BytesIO(data))):
            pass
    except TarFormatError as exc:
        return f"error: {exc}"
    return "ok"


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_both_readers_refuse_the_same_hostile_headers(case: str) -> None:
    data = layer_tar(HOSTILE[case])
    assert tarfile_verdict(data).startswith("error"), case
    assert tarstream_verdict(data).startswith("error"), case


def test_both_readers_accept_a_signed_checksum_and_a_good_pax_header() -> None:
    data = layer_tar(
        raw_member("etc/caf\u00e9", b"1", signed=True),
        pax({"size": "3", "mtime": "-5.25"}) + raw_member("a", b"abc"),
    )
    assert tarfile_verdict(data) == "ok"
    assert tarstream_verdict(data) == "ok"
    headers = list(TarReader(FileFeed(io.BytesIO(data))))
    assert [(h.name, h.size, h.mtime) for h in headers][-2:] == [
        ("etc/caf\u00e9", 1, 1_700_000_000),
        ("a", 3, -5.25),
    ]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getmember("a").mtime == -5.25


# --------------------------------------------------------------------------- every command


def archive(tmp_path: Path, case: str, where: str) -> Path:
    hostile = HOSTILE[case]
    data = save([layer_tar(hostile)]) if where == "layer" else save([layer_tar()], extra=hostile)
    path = tmp_path / f"{case}-{where}.tar"
    path.write_bytes(data)
    return path


COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "image": lambda p: ["image", str(p)],
    "layers": lambda p: ["layers", str(p)],
    "contents": lambda p: ["image", str(p), "--contents"],
    "diff": lambda p: ["diff", str(p), str(p)],
}


@pytest.mark.parametrize("where", ["layer", "outer"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_answers_exit_2_naming_the_archive(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    case: str,
    where: str,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = archive(tmp_path, case, where)
    code, err = run(capsys, *COMMANDS[command](path), "-q")
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert str(path) in err


def test_the_fixture_is_fine_without_the_hostile_member(tmp_path: Path) -> None:
    path = tmp_path / "ok.tar"
    path.write_bytes(save([layer_tar()]))
    image = read_image(path, verify=True)
    assert image.size == 3 and image.tags == ("hostile:1",)


# --------------------------------------------------------------------------- time and memory

LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from analyzer.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("case", ["negative", "pax-2GiB", "base256-2^64", "pax-size-10^30"])
@pytest.mark.parametrize("command", ["image", "contents"])
def test_bounded_time_and_memory(tmp_path: Path, case: str, command: str) -> None:
    path = archive(tmp_path, case, "layer")
    script = LIMITED.format(limit=1 << 30)  # 1 GiB of address space: the interpreter needs ~300 MiB
    proc = subprocess.run(
        [sys.executable, "-c", script, *COMMANDS[command](path), "-q"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_memory_follows_the_members_kept_not_tarinfo_objects(tmp_path: Path) -> None:
    import tracemalloc

    from analyzer.image.archive.blobs import TarIndexSource

    junk = b"".join(raw_member(f"junk/{i // 1000}/member-{i:06d}") for i in range(20_000))
    path = tmp_path / "many.tar"
    path.write_bytes(save([layer_tar()], extra=junk))
    del junk
    tracemalloc.start()
    try:
        with TarIndexSource(path) as source:
            kept, _ = tracemalloc.get_traced_memory()
            assert source.resolve("manifest.json") == "manifest.json"
    finally:
        tracemalloc.stop()
    # ~140 B per member kept (name, dict slot, header offset); a TarInfo each was some 700 B.
    assert kept < 20_000 * 250, kept
    assert read_image(path).tags == ("hostile:1",)
