"""The docker SDK, imported without its ssh transport unless ``DOCKER_HOST`` asks for ``ssh://``.

The SDK imports paramiko (about 0.2 s, the largest part of layermap's start-up) as soon as it loads,
even for a local engine. Hiding paramiko while the SDK loads makes it skip the ssh adapter; with
``DOCKER_HOST=ssh://…`` nothing is hidden. Modules that need the SDK import it from here.
"""

from __future__ import annotations

import os
import sys


def _hide_paramiko() -> bool:
    if os.environ.get("DOCKER_HOST", "").startswith("ssh://") or "paramiko" in sys.modules:
        return False
    sys.modules["paramiko"] = None  # type: ignore[assignment]  # `import paramiko` then fails at once
    return True


_hidden = _hide_paramiko()
try:
    import docker
    import docker.errors
    from docker.utils import kwargs_from_env
    from docker.utils.build import exclude_paths
finally:
    if _hidden:
        del sys.modules["paramiko"]

__all__ = ["docker", "exclude_paths", "kwargs_from_env"]
