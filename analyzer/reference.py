"""Image references as the engine validates them (distribution/reference's grammar), so a Dockerfile whose
``FROM`` names no valid image is refused before any engine is asked (exit 2, not an engine error)."""

from __future__ import annotations

import re

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
# [domain[:port]/]path[:tag][@digest], the path's components lower-case.
_REFERENCE_RE = re.compile(rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?")


def is_valid(reference: str) -> bool:
    """Whether ``reference`` is a valid image reference (``scratch`` included)."""
    return _REFERENCE_RE.fullmatch(reference) is not None
