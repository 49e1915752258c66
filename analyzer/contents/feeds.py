"""Forward-only byte sources for the tar reader, each skipping in large pieces.

A feed hands out exact reads (headers) and skips (bodies) chunk by chunk, passing each skipped piece
as a zero-copy ``memoryview`` to an optional sink such as a hash, so the per-byte work is whatever the
sink does. :class:`ChunkFeed` reads an iterator of byte chunks (the engine's export),
:class:`FileFeed` a file object (archives, decompressors), :class:`BoundedFeed` one member's body
inside an outer tar; :class:`HashFeed` hashes what passes through and :class:`FeedFile` turns a feed
back into a file object for decompressors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO, Protocol

SKIP_PIECE = 1 << 20

Sink = Callable[[memoryview], object]


class Feed(Protocol):
    """A forward-only byte source."""

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end."""

    def skip(self, n: int, sink: Sink | None = None) -> int:
        """Pass over up to ``n`` bytes (each piece handed to ``sink``); returns how many were there."""


class ChunkFeed:
    """A feed over an iterator of byte chunks, e.g. an HTTP response body."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buf = b""
        self._pos = 0

    def _fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._buf, self._pos = chunk, 0
                return True
        self._buf, self._pos = b"", 0
        return False

    def read(self, n: int) -> bytes:
        end = self._pos + n
        if end <= len(self._buf):  # the common case: a header inside the current chunk
            data = self._buf[self._pos : end]
            self._pos = end
            return data
        parts = [self._buf[self._pos :]]
        got = len(parts[0])
        self._buf, self._pos = b"", 0
        while got < n and self._fill():
            take = min(n - got, len(self._buf))
            parts.append(self._buf[:take])
            self._pos = take
            got += take
        return b"".join(parts)

    def skip(self, n: int, sink: Sink | None = None) -> int:
        if sink is None and self._pos + n <= len(self._buf):  # padding inside the current chunk
            self._pos += n
            return n
        left = n
        while left > 0:
            avail = len(self._buf) - self._pos
            if avail <= 0:
                if not self._fill():
                    break
                continue
            take = min(avail, left)
            if sink is not None:
                sink(memoryview(self._buf)[self._pos : self._pos + take])
            self._pos += take
            left -= take
        return n - left


class FileFeed:
    """A feed over a binary file object (seeks over bodies when nothing needs to see them)."""

    def __init__(self, file: IO[bytes], *, seekable: bool = False) -> None:
        self._file = file
        self._end: int | None = None
        if seekable:
            here = file.tell()
            self._end = file.seek(0, 2)
            file.seek(here)
        self._buffer = bytearray(SKIP_PIECE)

    def read(self, n: int) -> bytes:
        data = self._file.read(n)
        if len(data) == n or not data:
            return data
        parts = [data]
        got = len(data)
        while got < n and (more := self._file.read(n - got)):
            parts.append(more)
            got += len(more)
        return b"".join(parts)

    def skip(self, n: int, sink: Sink | None = None) -> int:
        if sink is None and self._end is not None:
            here = self._file.tell()
            return self._file.seek(min(here + n, self._end)) - here
        left = n
        view = memoryview(self._buffer)
        while left > 0:
            got = self._file.readinto(view[: min(left, len(view))])  # type: ignore[attr-defined]
            if not got:
                break
            if sink is not None:
                sink(view[:got])
            left -= got
        return n - left


class BoundedFeed:
    """The next ``size`` bytes of another feed: one member's body inside an outer tar."""

    def __init__(self, feed: Feed, size: int) -> None:
        self._feed = feed
        self.remaining = size

    def read(self, n: int) -> bytes:
        data = self._feed.read(min(n, self.remaining))
        self.remaining -= len(data)
        return data

    def skip(self, n: int, sink: Sink | None = None) -> int:
        done = self._feed.skip(min(n, self.remaining), sink)
        self.remaining -= done
        return done


class HashFeed:
    """Hands every byte that passes through (read or skipped) to ``update`` (e.g. ``sha256.update``)."""

    def __init__(self, feed: Feed, update: Sink) -> None:
        self._feed = feed
        self._update = update

    def read(self, n: int) -> bytes:
        data = self._feed.read(n)
        self._update(memoryview(data))
        return data

    def skip(self, n: int, sink: Sink | None = None) -> int:
        update = self._update
        if sink is None:
            return self._feed.skip(n, update)

        def both(piece: memoryview) -> None:
            update(piece)
            sink(piece)

        return self._feed.skip(n, both)

    def drain(self) -> None:
        """Consume (and hash) whatever is left, e.g. the zero blocks after the end-of-archive marker."""
        while self._feed.skip(SKIP_PIECE, self._update):
            pass


class FeedFile:
    """A read-only file object over a feed, for decompressors (``gzip``, ``zstandard``)."""

    def __init__(self, feed: Feed) -> None:
        self._feed = feed

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while chunk := self._feed.read(SKIP_PIECE):
                parts.append(chunk)
            return b"".join(parts)
        return self._feed.read(n)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """The feed belongs to the caller."""
