"""The streaming tar reader against Python's tarfile: same members, any chunking, any format."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest
from helpers.contents import MTIME, layer_tar

from analyzer.contents.tarstream import ChunkFeed, FileFeed, HashFeed, Header, TarFormatError, TarReader

LONG = "usr/share/" + "/".join(f"directory-number-{i:02d}" for i in range(8)) + "/file.txt"
SPEC = [
    ("d", "etc"),
    ("f", "etc/hostname", b"box\n"),
    ("f", "etc/big", bytes(range(256)) * 40, MTIME + 7),
    ("l", "bin/sh", "busybox"),
    ("h", "bin/hard", "etc/hostname"),
    ("f", LONG, b"deep"),
    ("l", "bin/long-link", "../" + LONG),
    ("f", "etc/caf\u00e9", b"unicode name"),
    ("f", "empty", b""),
    ("w", "etc/gone"),
    ("o", "var"),
]


def tarfile_headers(data: bytes) -> list[Header]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return [Header(m.name, m.type.decode(), m.size, m.mtime, m.linkname) for m in tar.getmembers()]


def ours(feed: ChunkFeed | FileFeed) -> list[Header]:
    """Our headers with directory names as tarfile gives them (without the trailing slash)."""
    return [h._replace(name=h.name.rstrip("/")) for h in TarReader(feed)]


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
@pytest.mark.parametrize("chunk", [1, 7, 512, 513, 1 << 20])
def test_headers_match_tarfile_whatever_the_format_and_chunking(fmt: int, chunk: int) -> None:
    spec = [s for s in SPEC if fmt != tarfile.USTAR_FORMAT or s[1] not in (LONG, "bin/long-link")]
    if fmt == tarfile.USTAR_FORMAT:  # ustar keeps a long name in its prefix field instead
        spec.append(("f", "usr/share/" + "p" * 90 + "/file.txt", b"prefixed"))
    data = layer_tar(spec, fmt)
    expected = tarfile_headers(data)
    got = ours(ChunkFeed(chunks(data, chunk)))
    assert got == expected
    assert {h.name for h in got} >= {"etc/hostname", "var/.wh..wh..opq", "etc/.wh.gone"}


def test_head_reads_a_body_start_and_the_reader_still_skips_the_rest() -> None:
    data = layer_tar(SPEC)
    reader = TarReader(ChunkFeed(chunks(data, 100)))
    heads = {}
    for header in reader:
        if header.name in ("etc/big", "etc/hostname", "empty"):
            heads[header.name] = reader.head(10)
    assert heads == {"etc/hostname": b"box\n", "etc/big": bytes(range(10)), "empty": b""}


def test_hash_feed_sees_every_byte_read_or_skipped() -> None:
    data = layer_tar(SPEC)
    sha = hashlib.sha256()
    feed = HashFeed(ChunkFeed(chunks(data, 999)), sha.update)
    reader = TarReader(feed)
    assert len(list(reader)) == len(SPEC)
    feed.drain()
    assert sha.hexdigest() == hashlib.sha256(data).hexdigest()


def test_file_feed_seeks_over_bodies() -> None:
    data = layer_tar(SPEC)
    assert ours(FileFeed(io.BytesIO(data), seekable=True)) == tarfile_headers(data)


def test_bodies_false_reads_a_header_only_stream() -> None:
    """What tar-split keeps: headers and padding, no bodies."""
    data = layer_tar([("f", "a", b"x" * 700), ("f", "b", b"yy")])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        a, b = tar.getmembers()
    stream = data[: a.offset_data] + data[a.offset_data + 700 : b.offset_data] + data[b.offset_data + 2 :]
    got = list(TarReader(ChunkFeed([stream]), bodies=False))
    assert [(h.name, h.size) for h in got] == [("a", 700), ("b", 2)]


def test_a_bad_checksum_or_a_cut_is_a_format_error() -> None:
    data = bytearray(layer_tar(SPEC))
    with pytest.raises(TarFormatError, match="truncated"):
        list(TarReader(ChunkFeed([bytes(data[:2000])])))
    data[0] ^= 0x01  # first header's name changes, its checksum does not
    with pytest.raises(TarFormatError, match="checksum"):
        list(TarReader(ChunkFeed([bytes(data)])))


def test_base256_size_field() -> None:
    """GNU writes sizes over 8 GiB in base 256; the reader must not take them for octal text."""
    block = bytearray(layer_tar([("f", "huge", b"")])[:512])
    block[124:136] = b"\x80" + (9 << 30).to_bytes(11, "big")
    block[148:156] = b" " * 8
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    header = next(iter(TarReader(ChunkFeed([bytes(block)]), bodies=False)))
    assert header.size == 9 << 30
