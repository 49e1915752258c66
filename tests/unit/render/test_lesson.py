"""``--format lesson`` without a browser: the course's sections in order, each with its command, filled
with the recorded image's real ids; blob fields only when the source knows them; the docker save layout
of the engine that made the image."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from helpers.explain import explained
from helpers.lesson import deleted_file_with_contents

from analyzer.model import Layer
from analyzer.render import RENDERERS
from analyzer.render.report import lesson

ORDER = ["intro", "pull", "history", "inspect", "store", "save", "files", "map"]


def test_sections_follow_the_course_with_their_commands() -> None:
    report = explained("deleted-file")
    text = RENDERERS["lesson"](report)
    found = re.findall(r'<section id="lesson-([a-z]+)"', text)
    assert found == ORDER
    assert report.image is not None and report.base is not None
    ref = report.image.id[7:19]  # untagged: the short id, as `docker images` shows it
    for command in (
        "$ docker pull busybox:latest",
        f"$ docker image history --no-trunc {ref}",
        f"$ docker image inspect --format &#x27;{{{{json .RootFS.Layers}}}}&#x27; {ref}",
        f"$ docker save {ref} -o image.tar",
        f"$ dive {ref}",
    ):
        assert command in text, command
    for layer in report.image.layers:
        assert layer.diff_id in text and layer.chain_id in text
    assert lesson.NOT_KNOWN in text  # the recorded report has no blob digests
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I) and "url(" not in text


def test_history_marks_the_zero_byte_layer_docker_history_hides() -> None:
    text = lesson.render(explained("deleted-file"))
    history = text[text.index('id="lesson-history"') : text.index('id="lesson-inspect"')]
    rows = re.findall(r"<tr( class=\"surprise\")?><td>(\d+)</td>.*?<td>([^<]*)</td></tr>", history)
    marked = [(num, truth) for cls, num, truth in rows if cls]
    assert marked == [("5", "layer #3")]  # RUN rm: SIZE 0B, yet a layer
    assert "1 entry show 0B" not in history and "1 entry shows 0B and yet made a layer" in history


@dataclass(frozen=True)
class PulledLayer(Layer):
    """A layer as the registry branch will record it (the optional fields the lesson reads)."""

    compressed_size: int | None = None
    blob_digest: str | None = None


def test_blob_fields_are_shown_when_the_source_has_them() -> None:
    report = explained("deleted-file")
    assert report.image is not None
    layers = tuple(
        PulledLayer(la.index, la.diff_id, la.chain_id, la.size, 700_000 + la.index, f"sha256:{la.index:064x}")
        for la in report.image.layers
    )
    report = replace(report, image=replace(report.image, layers=layers))
    text = lesson.render(report)
    pull = text[text.index('id="lesson-pull"') : text.index('id="lesson-history"')]
    assert lesson.NOT_KNOWN not in pull and "700 kB" in pull and f"sha256:{0:064x}" in pull


def test_save_layout_follows_the_engine() -> None:
    report = explained("deleted-file")
    assert report.image is not None and report.engine is not None
    legacy = lesson.render(report)
    assert f"{report.image.id[7:]}.json" in legacy and "&lt;v1 id 3&gt;/layer.tar" in legacy
    newer = lesson.render(replace(report, engine=replace(report.engine, version="26.1.5")))
    assert f"blobs/sha256/{report.image.layers[2].diff_id[7:]}" in newer and "oci-layout" in newer
    store = replace(report.engine, version="26.1.5", storage="containerd")
    containerd = lesson.render(replace(report, engine=store))
    assert "compressed (gzip) blob" in containerd and "&lt;blob of layer 0&gt;" in containerd


def test_files_section_carries_the_browser_with_contents() -> None:
    text = lesson.render(deleted_file_with_contents())
    files = text[text.index('id="lesson-files"') : text.index('id="lesson-map"')]
    assert 'id="filetree-data"' in files and 'class="tree-tab" data-tree="final"' in files
    assert 'id="findings"' in text and 'id="waste"' in text
    assert "--contents" in lesson.render(explained("deleted-file")).split('id="lesson-files"')[1][:600]


def test_multi_stage_lesson_shows_each_stage() -> None:
    text = lesson.render(explained("multi-stage"))
    mapping = text[text.index('id="lesson-map"') :]
    assert (
        len(re.findall(r'<div class="stage[ "][^>]*data-stage', mapping)) == 3
        and "<h3>Stages</h3>" in mapping
    )
