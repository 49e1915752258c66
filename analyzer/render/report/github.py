"""GitHub Actions annotations: one workflow command per finding (``::warning file=…,line=…::…``).

The runner turns these lines into annotations on the pull request's changed files. Values are escaped
as the runner expects (``%``, CR, LF everywhere; ``:`` and ``,`` too inside properties).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import PurePosixPath

from analyzer.model import Finding, Report
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.report import findings

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding, path: str | None) -> str:
    """The workflow command for one finding."""
    props: list[str] = []
    if path is not None:
        props.append(f"file={_prop(path)}")
        if finding.line is not None:
            end = finding.extra.get("end_line") or finding.line
            props += [f"line={finding.line}", f"endLine={max(end, finding.line)}"]
    props.append(f"title={_prop(f'layermap {finding.rule}')}")
    command = COMMANDS.get(finding.severity, "notice")
    return f"::{command} {','.join(props)}::{_data(finding.message)}"


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    report = findings.with_mismatches(report)
    return "".join(annotation(f, report.dockerfile_path) + "\n" for f in report.findings)


def dockerfile_url(path: str | None, env: Mapping[str, str], cwd: str) -> str | None:
    """The web link to ``path`` at the commit being checked, from the Actions environment.

    ``LAYERMAP_SOURCE_URL`` (a prefix such as ``https://git.example/o/r/-/blob/<sha>``) overrides it for
    other CI systems. ``path`` is as layermap shows it (relative to the working directory), so it is
    re-based from ``cwd`` on ``GITHUB_WORKSPACE``; a path outside the repository gets no link.
    """
    if path is None:
        return None
    workspace = env.get("GITHUB_WORKSPACE")
    if workspace:
        path = posixpath.relpath(posixpath.join(cwd, path), workspace)
    if PurePosixPath(path).is_absolute() or path.startswith(".."):
        return None
    prefix = env.get("LAYERMAP_SOURCE_URL")
    if not prefix and all(env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA")):
        prefix = f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/blob/{env['GITHUB_SHA']}"
    return f"{prefix.rstrip('/')}/{path}" if prefix else None
