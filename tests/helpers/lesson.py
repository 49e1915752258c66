"""Shared by the HTML and lesson tests (no tests here): a recorded sample report with ``--contents``
data made from small generated layers shaped like the sample's own."""

from __future__ import annotations

from analyzer.contents import add_contents
from analyzer.model import Report
from helpers.contents import KB, layers
from helpers.explain import explained


def deleted_file_with_contents() -> Report:
    """``deleted-file``: busybox (2 layers when it was recorded), a RUN that writes /data/blob and a
    .env, a RUN that reads the blob, a RUN that deletes it (small stand-in layers; the lines and layer
    indexes are the recorded build's)."""
    listings = layers(
        [("d", "bin"), ("f", "bin/busybox", KB * 4), ("l", "bin/sh", "busybox")],
        [("d", "tmp")],
        [("d", "data"), ("f", "data/blob", KB * 8), ("f", "data/.env", b"API_KEY=abc\n")],
        [("d", "data"), ("w", "data/blob")],
    )
    return add_contents(explained("deleted-file"), listings)
