"""Real-world Dockerfiles that builders accept and layermap used to refuse or mis-map (issue 10), built on
both engines and both builders, each map checked against the configuration read through ``docker save``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.build_map import SavedConfig, check_report, layermap

# A blank line inside a continuation: `docker build` warns (before `Step 1/N`) and builds.
EMPTY_CONTINUATION = """\
FROM busybox:latest
RUN echo one > /one \\

    && echo two > /two
ENV A=1
RUN echo three > /three
"""

# BuildKit's platform ARGs in the global scope select the stage chain.
PLATFORM_STAGES = """\
FROM busybox:latest AS binaries-linux
RUN echo linux > /os
FROM busybox:latest AS binaries-windows
RUN echo windows > /os
FROM binaries-$TARGETOS
RUN cat /os
"""


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_empty_continuation_line_builds_and_maps(
    builder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: Any, saved_config: SavedConfig
) -> None:
    (tmp_path / "Dockerfile").write_text(EMPTY_CONTINUATION)
    code, report, err = layermap(capsys, str(tmp_path), f"--{builder}", "--no-cache", "--network", "host")
    assert code == 0, err
    assert report is not None
    check_report(report, engine.client, saved_config)
    run = next(s for s in report["steps"] if s["line"] == 2)
    assert (run["end_line"], run["creates_layer"]) == (4, True)
    if builder == "classic":  # the engine's warning is kept as a report warning, not structure
        assert "[WARNING]: Empty continuation line" in err


def test_platform_args_pick_the_stage_chain_under_buildkit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: Any, saved_config: SavedConfig
) -> None:
    (tmp_path / "Dockerfile").write_text(PLATFORM_STAGES)
    code, report, err = layermap(capsys, str(tmp_path), "--buildkit", "--no-cache", "--network", "host")
    assert code == 0, err
    assert report is not None
    final = {s["line"] for s in report["steps"] if s["in_final_image"]}
    assert final == {1, 2, 5, 6}
    check_report(report, engine.client, saved_config)
