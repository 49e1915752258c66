"""JUnit XML, the test-report format every CI shows (GitLab ``junit`` artifacts, Jenkins, Azure): one
test suite for the Dockerfile and one failed test case per finding, as hadolint's ``junit`` format has it.

Each case is named ``RULE at line N`` (``RULE`` for a finding about the whole image), its class is the
Dockerfile path, and its ``failure`` carries the severity as ``type`` and the message (with the measured
bytes and paths when the finding has them). Without findings the suite holds one passing case, so a CI
shows that the check ran. Text is XML-escaped; characters XML 1.0 cannot hold are written as ``\\xNN``.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from analyzer.model import Finding, Report
from analyzer.render import PLAIN, RenderOptions
from analyzer.render.report.findings import paths_text, with_mismatches

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _case(finding: Finding, path: str) -> str:
    name = finding.rule if finding.line is None else f"{finding.rule} at line {finding.line}"
    message = " ".join(finding.message.split())
    detail = [
        f"{path}:{finding.line}" if finding.line is not None else path,
        f"{finding.severity}: {message}",
    ]
    paths = paths_text(finding)
    if paths:
        detail.append(f"paths: {paths}")
    return (
        f"  <testcase name={quoteattr(_clean(name))} classname={quoteattr(_clean(path))}>\n"
        f"    <failure type={quoteattr(finding.severity)} message={quoteattr(_clean(message))}>"
        f"{escape(_clean(chr(10).join(detail)))}</failure>\n"
        "  </testcase>\n"
    )


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    report = with_mismatches(report)  # a Dockerfile that does not match the image, first
    path = report.dockerfile_path or "image"
    cases = [_case(f, path) for f in report.findings]
    if not cases:
        cases = [f'  <testcase name="layermap" classname={quoteattr(_clean(path))}/>\n']
    head = (
        f'<testsuite name={quoteattr(_clean("layermap " + path))} tests="{len(cases)}" '
        f'failures="{len(report.findings)}" errors="0" skipped="0">\n'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
        + head
        + "".join(cases)
        + "</testsuite>\n</testsuites>\n"
    )
