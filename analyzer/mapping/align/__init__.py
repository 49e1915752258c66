"""Map every Dockerfile instruction to the history entry and layer it produced (pure functions).

Every rule about which history entry belongs to which line lives in this package:
``classic`` aligns a classic build through its per-step images (``Parent`` chains), ``history``
aligns by position in the final image's history (BuildKit, or an image built by anything), and
``common`` holds what both share (step numbering, stage summaries, the report summary).
"""

from __future__ import annotations

from analyzer.mapping.align.classic import StageBuild, align_classic, built_stages
from analyzer.mapping.align.common import stage_infos, step_numbers, summarize

__all__ = ["StageBuild", "align_classic", "built_stages", "stage_infos", "step_numbers", "summarize"]
