"""``python -m analyzer`` behaves like the ``layermap`` console script."""

from __future__ import annotations

from analyzer.cli import main

raise SystemExit(main())
