"""Build containers an earlier layermap run could not remove, remembered so a later run removes them.

The classic builder runs each RUN in a container the daemon removes itself (``rm``/``forcerm``). When the
daemon dies mid-build, or layermap is killed with SIGKILL, that container stays (``Exited``) and nobody
knows it was layermap's. So while a build runs, the ids of its containers are written to a small file
(``$XDG_STATE_HOME/layermap/builds/<engine>/<pid>-<start>.json``); a finished build deletes its file. The
next build on the same engine removes the containers of every file whose process is gone, and only
those: a build still running elsewhere keeps its file, and a container is removed only if the engine
created it after that build started (checked by the caller on the daemon's clock). Best-effort: a
read-only or missing state directory only means nothing is remembered.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from analyzer.limits import InputLimitError, load_json, read_regular

_MAX_FILE = 1 << 20


def state_dir(address: str, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "layermap" / "builds" / hashlib.sha256(address.encode()).hexdigest()[:16]


class BuildRecord:
    """The file of one running build: its start time and the containers it has started so far."""

    def __init__(self, address: str, started: float) -> None:
        self.started = started
        self.path = state_dir(address) / f"{os.getpid()}-{int(started * 1000)}.json"

    def write(self, containers: Sequence[str]) -> None:
        data = json.dumps({"pid": os.getpid(), "started": self.started, "containers": list(containers)})
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(data)
            os.replace(tmp, self.path)

    def done(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def stale(address: str) -> Iterator[tuple[Path, float, list[str]]]:
    """(file, start time, container ids) of every recorded build whose process is gone."""
    folder = state_dir(address)
    with contextlib.suppress(OSError):
        for path in sorted(folder.glob("*.json")):
            record = _read(path)
            if record is None:
                with contextlib.suppress(OSError):
                    path.unlink()  # not ours to trust: dropped
                continue
            pid, started, containers = record
            if not _alive(pid):
                yield path, started, containers


def _read(path: Path) -> tuple[int, float, list[str]] | None:
    try:
        data = load_json(read_regular(path, _MAX_FILE))
    except (OSError, ValueError, InputLimitError):
        return None
    if not isinstance(data, dict):
        return None
    pid, started, containers = data.get("pid"), data.get("started"), data.get("containers")
    ok_ids = isinstance(containers, list) and all(isinstance(c, str) and c.isalnum() for c in containers)
    if type(pid) is not int or not isinstance(started, int | float) or not ok_ids:
        return None
    return pid, float(started), list(containers)  # type: ignore[arg-type]


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
