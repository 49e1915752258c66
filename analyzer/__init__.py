"""layermap: map every Dockerfile line to the image history entry and filesystem layer it produced."""

from __future__ import annotations

__version__ = "0.1.0"
