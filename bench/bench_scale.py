"""Peak memory of layermap on very large listings, against the goal of README "Limits" (250 MB).

Two inputs are generated (no engine needed), each with ``FILES`` entries (default 1,000,000):

- ``layer``: a ``docker save`` whose one layer holds FILES empty files in nested directories, read with
  ``layermap image --contents`` (every entry becomes a per-file record);
- ``members``: a ``docker save`` of a one-file image followed by FILES junk members in the outer tar,
  read with ``layermap image`` (every member is indexed before the manifest can be read).

Peak RSS comes from GNU ``/usr/bin/time`` per process, as in ``bench_contents.py``. Run::

    .venv/bin/python bench/bench_scale.py [FILES]

It prints one line per input and exits 1 if a peak is over the goal.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

GNU_TIME = "/usr/bin/time"  # Debian: apt-get install time
GOAL_MB = 250.0
END = bytes(1024)


def header(name: str, size: int = 0, kind: bytes = b"0") -> bytes:
    block = bytearray(512)
    raw = name.encode()
    if len(raw) > 100:
        raise ValueError(name)
    block[0 : len(raw)] = raw
    block[100:108] = b"0000644\0"
    block[108:124] = b"0000000\x000000000\0"
    block[124:136] = b"%011o\0" % size
    block[136:148] = b"%011o\0" % 1_700_000_000
    block[156:157] = kind
    block[257:265] = b"ustar\x0000"
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def member(name: str, body: bytes) -> bytes:
    return header(name, len(body)) + body + bytes(-len(body) % 512)


def layer_entries(files: int) -> Iterator[bytes]:
    per_dir = 1000
    for d in range(0, files, per_dir):
        directory = f"usr/share/data/d{d // per_dir:05d}/"
        yield header(directory, kind=b"5")
        for i in range(d, min(d + per_dir, files)):
            yield header(f"{directory}file-{i:07d}.txt")
    yield END


def write_save(path: Path, layer: bytes, junk: int = 0) -> None:
    """A Docker-format save of one (gzip-compressed) layer, with ``junk`` extra members at the end."""
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    blob = gzip.compress(layer, compresslevel=1, mtime=0)
    config = json.dumps({"os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["scale:1"], "Layers": ["l/layer.tar"]}])
    with path.open("wb") as out:
        out.write(member("l/layer.tar", blob))
        out.write(member(config_name, config))
        out.write(member("manifest.json", manifest.encode()))
        chunk = []
        for i in range(junk):
            chunk.append(header(f"junk/{i // 1000:04d}/member-{i:07d}"))
            if len(chunk) == 10000:
                out.write(b"".join(chunk))
                chunk = []
        out.write(b"".join(chunk) + END)


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of one run of ``cmd``."""
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        start = time.perf_counter()
        proc = subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", str(rss_file), *cmd],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        wall = time.perf_counter() - start
        rss_kib = int(rss_file.read_text().split()[-1])
    if proc.returncode != 0:
        print(proc.stderr.decode(errors="replace")[-500:], file=sys.stderr)
    return wall, rss_kib * 1024 / 1e6, proc.returncode


def main() -> int:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    layermap = [sys.executable, "-m", "analyzer"]
    env = {**os.environ, "LAYERMAP_NO_CACHE": "1"}
    over = False
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        layer_save, members_save = work / "layer.tar", work / "members.tar"
        write_save(layer_save, b"".join(layer_entries(files)))
        write_save(members_save, member("etc/hosts", b"127.0.0.1 x\n") + END, junk=files)
        runs = {
            "layer": [*layermap, "image", str(layer_save), "--contents", "-q"],
            "members": [*layermap, "image", str(members_save), "-q"],
        }
        for name, cmd in runs.items():
            wall, rss, code = measure(cmd, env)
            verdict = "ok" if rss <= GOAL_MB and code == 0 else "OVER GOAL" if code == 0 else f"exit {code}"
            over |= verdict != "ok"
            goal = f"(goal <= {GOAL_MB:.0f})"
            print(f"{name:8} {files:>9} entries  {wall:7.1f} s  peak RSS {rss:7.1f} MB {goal}  {verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
