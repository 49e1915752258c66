"""The bounds layermap keeps when it reads input it did not write: archives, reports, configs, caches.

Reviewers run layermap in CI on files from strangers, so memory follows the image's real data, never a
size a header claims, and every read of a side input is capped before it starts. The README's "Limits"
section states these numbers; both tar readers (``tarfile`` under ``image/archive`` and the streaming
reader in ``contents/tarstream``) apply the same header policy through :func:`check_member_size` and
:func:`pax_number`.
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import Any

MAX_MEMBER_SIZE = 1 << 40
"""Largest body one tar member may claim (1 TiB): past it the header is hostile or corrupt."""
MAX_EXTENDED_HEADER = 1 << 20
"""Largest PAX (``x``/``g``) or GNU long-name (``L``/``K``) header body (1 MiB); real ones are bytes."""
MAX_JSON_BYTES = 16 << 20
"""Largest metadata blob (manifest, index, image config) read into memory (16 MiB); real ones are KiB."""
MAX_JSON_DEPTH = 64
"""Deepest nesting accepted in any JSON or TOML input; real configs and reports nest fewer than 10."""
MAX_REPORT_BYTES = 64 << 20
"""Largest JSON report ``layermap diff`` reads (64 MiB)."""
MAX_CONFIG_BYTES = 1 << 20
"""Largest gate configuration (``.layermap.toml``, ``pyproject.toml``, ``--config``) read (1 MiB)."""
MAX_CACHE_ENTRY = 256 << 20
"""Largest decompressed contents-cache entry (256 MiB, about 2 million files); past it: a miss."""
BOMB_RATIO = 100
"""A compressed layer whose tar is more than this many times its blob earns a warning (real layers: 2-10x;
gzip cannot pass about 1030x, so a higher threshold would never see a gzip bomb)..."""
BOMB_MIN_BYTES = 1 << 30
"""... when the tar is also larger than this (1 GiB): a small zero-filled layer is no threat."""

_PAX_SIZE = re.compile(r"[0-9]{1,20}")
_PAX_TIME = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{0,20})?")


class InputLimitError(ValueError):
    """Input past one of the limits above, or a malformed header number; ``str()`` says which."""


def check_member_size(size: int) -> int:
    """``size`` if a tar member may claim it; InputLimitError for a negative or absurd size."""
    if size < 0:
        raise InputLimitError(f"a member claims a negative size ({size})")
    if size > MAX_MEMBER_SIZE:
        raise InputLimitError(f"a member claims {size} bytes, more than the {MAX_MEMBER_SIZE} accepted")
    return size


def check_extended_size(size: int) -> int:
    """``size`` if an extended (PAX or GNU long name) header may claim it."""
    if size < 0 or size > MAX_EXTENDED_HEADER:
        raise InputLimitError(f"an extended header claims {size} bytes (at most {MAX_EXTENDED_HEADER})")
    return size


def pax_number(key: str, value: str) -> float:
    """A PAX ``size`` (decimal digits) or ``mtime`` (decimal, maybe signed and fractional) record.

    Both tar readers refuse a malformed one: ``tarfile`` alone would read ``size=abc`` as 0, silently.
    """
    pattern = _PAX_SIZE if key == "size" else _PAX_TIME
    if not pattern.fullmatch(value):
        raise InputLimitError(f"a PAX header has a malformed {key} record ({value[:40]!r})")
    if key == "size":
        return check_member_size(int(value))
    return float(value)


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> Any:
    """``value`` (parsed JSON or TOML) if it nests at most ``limit`` deep; walked without recursion."""
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if depth > limit:
            raise InputLimitError(f"nested more than {limit} levels deep")
        if isinstance(item, dict):
            todo.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            todo.extend((child, depth + 1) for child in item)
    return value


def load_json(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` with the nesting limit; InputLimitError (not RecursionError) when too deep.

    Other malformations raise what ``json.loads`` raises (ValueError, UnicodeDecodeError).
    """
    try:
        value = json.loads(data)
    except RecursionError:
        raise InputLimitError(f"nested more than {limit} levels deep") from None
    return check_depth(value, limit)


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Opened without blocking and checked before any read: a FIFO would wait for a writer for ever and
    ``/dev/zero`` never ends. InputLimitError for those and for a file over ``limit``; OSError passes.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb", buffering=0) as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputLimitError("not a regular file")
        os.set_blocking(fd, True)
        data = stream.read(limit + 1)  # a regular file answers whole reads
    if len(data) > limit:
        raise InputLimitError(f"larger than {limit} bytes")
    return data
