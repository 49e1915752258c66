"""A streaming tar reader that parses headers itself and skips bodies in large pieces.

``tarfile`` in stream mode copies every body through 10 KiB reads and builds a ``TarInfo`` per member;
an 800 MB export then costs seconds of Python. Here a *feed* hands out header blocks and skips bodies
chunk by chunk (handing each piece, as a zero-copy ``memoryview``, to an optional sink such as a
hash), so the per-byte work is whatever the sink does and the per-entry work is one header parse.

Formats: ustar, GNU (long names ``L``/``K``, base-256 numbers) and PAX (``x`` and ``g`` records for
path, linkpath, size, mtime). The feeds are in ``feeds.py``. Headers obey the limits ``tarfile`` is held
to under ``image/archive`` (:mod:`analyzer.limits`): one policy, so both readers accept the same tars.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import NamedTuple, TypeVar

from analyzer.contents.feeds import BoundedFeed, ChunkFeed, Feed, FeedFile, FileFeed, HashFeed, Sink
from analyzer.limits import InputLimitError, check_extended_size, check_member_size, pax_number

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_HEADER_ONLY = frozenset("123456")
_META = frozenset("xgLK")  # PAX records (per file, global), GNU long name and long link target
_T = TypeVar("_T")
_KIND = ["0"] + [chr(i) for i in range(1, 256)]  # typeflag byte -> str; NUL is an old regular file

__all__ = [  # the feeds too: readers and feeds are used together
    "BLOCK",
    "BoundedFeed",
    "ChunkFeed",
    "Feed",
    "FeedFile",
    "FileFeed",
    "HashFeed",
    "Header",
    "Sink",
    "TarFormatError",
    "TarReader",
    "padding_after",
    "plain_header",
]


class TarFormatError(ValueError):
    """The bytes are not a (complete) tar archive."""


class Header(NamedTuple):
    """One member of a tar, as its headers describe it (PAX and GNU extensions applied)."""

    name: str
    type: str
    """The typeflag as a one-character string (``"0"`` regular, ``"5"`` directory, ``"2"`` symlink…)."""
    size: int
    """Bytes of body that follow the header in the archive."""
    mtime: float
    linkname: str


def _number(field: bytes) -> int:
    """A numeric header field: octal text, or GNU base-256 when the first byte has its high bit set."""
    if field[0] & 0x80:
        # GNU base-256, read as tarfile reads it: 0x80 leads a positive number, 0xff a two's complement.
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0x80:
            return value
        if field[0] == 0xFF:
            return value - (1 << (8 * (len(field) - 1)))
        raise TarFormatError("a header number has an invalid base-256 marker")
    try:
        return int(field.rstrip(b"\0 ") or b"0", 8)  # the usual "0000644\0": one C call
    except ValueError:
        text = field.split(b"\0", 1)[0].strip()  # text after a NUL is ignored, as tar does
        try:
            return int(text, 8) if text else 0
        except ValueError:
            raise TarFormatError(f"a header number is not octal ({text[:12]!r})") from None


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax_records(data: bytes) -> dict[str, str]:
    """``"<len> key=value\\n"`` records; values may contain newlines, so lengths are followed exactly."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        digits = data[pos:space]
        length = int(digits) if digits.isdigit() else 0
        if length <= space - pos or pos + length > len(data):
            raise TarFormatError("bad PAX record length")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def _check(block: bytes) -> None:
    # The checksum is the byte sum with its own field counted as eight spaces. Adler-32's low half is
    # 1 + that sum modulo 65521, computed in C: ten times faster than sum(), and as strict here
    # (a header's sum is at most 130,560, so only two values share a residue).
    field = block[148:156]
    expected = ((zlib.adler32(block) & 0xFFFF) - 1 - sum(field) + 256) % 65521
    if _number(field) % 65521 != expected and not _signed_sum_matches(block):
        raise TarFormatError("bad tar header checksum")


def _signed_sum_matches(block: bytes) -> bool:
    """Old Sun and some other tars summed signed bytes; ``tarfile`` accepts either sum, and so do we."""
    unsigned = sum(block[:148]) + 256 + sum(block[156:])
    signed = unsigned - 256 * sum(1 for b in block[:148] + block[156:] if b >= 128)
    try:
        return _number(block[148:156]) == signed
    except ValueError:
        return False


class TarReader:
    """Iterates a tar's members from a feed; bodies are skipped unless :meth:`head` reads their start.

    ``bodies=False`` is for a header-only stream (the layer store's tar-split data): after each member
    only the block padding is skipped.
    """

    def __init__(self, feed: Feed, *, bodies: bool = True) -> None:
        self._feed = feed
        self._bodies = bodies
        self._left = 0  # unread body bytes of the current member
        self._pad = 0
        self._globals: dict[str, str] = {}

    def head(self, n: int) -> bytes:
        """Up to ``n`` first bytes of the current member's body (only before the next member)."""
        if not self._bodies:
            raise TarFormatError("this tar stream has no file bodies")
        data = self._feed.read(min(n, self._left))
        self._left -= len(data)
        return data

    def body(self) -> BoundedFeed:
        """The rest of the current member's body as a feed (it must be consumed before moving on)."""
        bounded = BoundedFeed(self._feed, self._left)
        self._left = 0
        return bounded

    def __iter__(self) -> Iterator[Header]:
        while True:
            self._finish_member()
            header = self._next_header()
            if header is None:
                return
            yield header

    def _finish_member(self) -> None:
        todo = (self._left if self._bodies else 0) + self._pad
        if todo and self._feed.skip(todo) != todo:
            raise TarFormatError("truncated tar archive (a file body is cut off)")
        self._left = self._pad = 0

    def _next_header(self) -> Header | None:
        pax: dict[str, str] | None = None  # made only when an extended header comes: most have none
        long_name = long_link = None
        while True:
            block = self._feed.read(BLOCK)
            if len(block) < BLOCK or block == _ZERO_BLOCK:
                if block and block != _ZERO_BLOCK:
                    raise TarFormatError("truncated tar archive (a header is cut off)")
                return None
            _check(block)
            kind = _KIND[block[156]]
            if kind not in _META:
                if pax is None and self._globals:
                    pax = dict(self._globals)
                return self._member(block, kind, pax, long_name, long_link)
            data = self._meta(_limited(check_extended_size, _number(block[124:136])))
            if kind in "xg":
                records = _pax_records(data)
                if kind == "g":
                    self._globals.update(records)
                pax = {**self._globals, **(pax or {}), **records}
            elif kind == "L":
                long_name = _text(data)
            else:
                long_link = _text(data)

    def _meta(self, size: int) -> bytes:
        data = self._feed.read(size)
        pad = -size % BLOCK
        if len(data) != size or self._feed.skip(pad) != pad:
            raise TarFormatError("truncated tar archive (an extended header is cut off)")
        return data

    def _member(
        self, block: bytes, kind: str, pax: dict[str, str] | None, name: str | None, link: str | None
    ) -> Header:
        header = _decode(block, kind)
        if name is not None or link is not None or pax:
            header = _extended(header, pax or {}, name, link)
        _limited(check_member_size, header.size)
        # Links, devices, directories and FIFOs never have a body, whatever their size field says
        # (Go's archive/tar, which wrote these layers, reads them the same way).
        size_in_archive = 0 if kind in _HEADER_ONLY else header.size
        self._left = size_in_archive
        self._pad = -size_in_archive % BLOCK
        return header


def padding_after(header: Header) -> int:
    """The zero bytes between this member's body and the next header."""
    return 0 if header.type in _HEADER_ONLY else -header.size % BLOCK


def plain_header(block: bytes) -> Header:
    """One header block that has no extended header before it (checked like any other)."""
    _check(block)
    kind = _KIND[block[156]]
    if kind in _META:
        raise TarFormatError("an extended header without the member it describes")
    header = _decode(block, kind)
    _limited(check_member_size, header.size)
    return header


def _decode(block: bytes, kind: str) -> Header:
    name = _text(block[0:100])
    # POSIX ustar: a prefix field may hold the leading directories (GNU tars use those bytes for times).
    if block[345] and block[257:263] == b"ustar\0":
        name = f"{_text(block[345:500])}/{name}"
    link = _text(block[157:257]) if block[157] else ""
    return Header(name, kind, _number(block[124:136]), _number(block[136:148]), link)


def _extended(header: Header, pax: dict[str, str], name: str | None, link: str | None) -> Header:
    """Apply GNU long names and PAX records (which win) to a decoded header."""
    return header._replace(
        name=pax.get("path", name if name is not None else header.name),
        linkname=pax.get("linkpath", link if link is not None else header.linkname),
        size=int(_limited(pax_number, "size", pax["size"])) if "size" in pax else header.size,
        mtime=_limited(pax_number, "mtime", pax["mtime"]) if "mtime" in pax else header.mtime,
    )


def _limited(check: Callable[..., _T], *args: object) -> _T:
    """Run a check of :mod:`analyzer.limits`; its complaint becomes a TarFormatError."""
    try:
        return check(*args)
    except InputLimitError as exc:
        raise TarFormatError(str(exc)) from None
