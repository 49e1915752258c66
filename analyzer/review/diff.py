"""``layermap diff``: what changed between two versions of an image, line by line. Pure.

Both sides are JSON reports (schema_version 1, as ``--format json`` writes them), so a side can be a
fresh build, a mapped image or a saved report alike. The lines of the final image are matched across
versions by their instruction text first (in order, as ``difflib`` matches sequences), then, inside each
stretch that differs, by position among lines of the same instruction keyword. Every byte is accounted
for: the sum of the per-line deltas plus the change of the inherited base equals the total delta.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from analyzer.mapping.align.match import makes_entry
from analyzer.model import Mismatch, MismatchCode

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Entry:
    """One line (or, for an image without a Dockerfile, one history entry) of a side's final image."""

    line: int | None
    """Dockerfile line; None when the side has no Dockerfile (``entry`` then says which one it is)."""
    entry: int | None
    """Index in the final image's history (None for FROM lines)."""
    instruction: str
    text: str
    size: int
    """Bytes of the layer it made (0 without a layer)."""
    diff_id: str | None = None
    trigger: bool = False

    @property
    def key(self) -> str:
        """What lines are matched on: the text with whitespace runs collapsed."""
        return ("onbuild> " if self.trigger else "") + " ".join(self.text.split())


@dataclass(frozen=True)
class Side:
    """One version: its image and the lines that made it."""

    dockerfile: str | None
    image_id: str
    size: int
    inherited: int
    """Bytes of the base image's layers (0 when the side has no Dockerfile: every entry is a line)."""
    entries: tuple[Entry, ...]
    diff_ids: tuple[str, ...]
    findings: tuple[Json, ...]


@dataclass(frozen=True)
class LineDelta:
    base: Entry | None
    head: Entry | None
    change: str
    """``same`` (same text and bytes), ``changed``, ``added`` or ``removed``."""

    @property
    def shown(self) -> Entry:
        """The head's entry, or the base's for a removed line (a pair always has one)."""
        entry = self.head or self.base
        if entry is None:  # pragma: no cover - match() never builds an empty pair
            raise ValueError("empty line pair")
        return entry

    @property
    def delta(self) -> int:
        return (self.head.size if self.head else 0) - (self.base.size if self.base else 0)


@dataclass(frozen=True)
class DiffVerdict:
    passed: bool
    reasons: tuple[str, ...]
    max_growth: str | None
    fail_on: str


@dataclass(frozen=True)
class DiffResult:
    base: Side
    head: Side
    lines: tuple[LineDelta, ...]
    layers_added: tuple[tuple[str, int, int | None], ...]
    """(diff_id, bytes, head line) of layers only the head image has."""
    layers_removed: tuple[tuple[str, int, int | None], ...]
    new_findings: tuple[Json, ...]
    warnings: tuple[str, ...] = ()
    verdict: DiffVerdict | None = None
    dockerfile_url: str | None = field(default=None, compare=False)
    """Web link to the head Dockerfile, for Markdown line links (set from the CI environment)."""

    @property
    def total_delta(self) -> int:
        return self.head.size - self.base.size

    @property
    def base_delta(self) -> int:
        return self.head.inherited - self.base.inherited


_MAX_NUMBER = 1 << 62  # bytes, lines, indexes: anything larger is not from a real image


def check_report(report: object) -> None:
    """Raise ValueError (one line, naming the field) unless ``report`` has the shapes :func:`side_of`
    reads, as report-v1.json describes them: a tampered or hand-edited report is refused, not trusted.
    """
    if not isinstance(report, dict):
        raise ValueError("not a JSON object")
    if type(report.get("schema_version")) is not int or report["schema_version"] != 1:
        raise ValueError("schema_version is not 1")
    _check(report, "steps", list, optional=False)
    for i, step in enumerate(report["steps"]):
        where = f"steps[{i}]"
        _check_object(step, where)
        _check(step, "line", int, where=where, optional=False)
        _check(step, "instruction", str, where=where, optional=False)
        _check(step, "text", str, where=where, optional=False)
        _check(step, "trigger", bool, where=where)
        _check(step, "in_final_image", bool, where=where)
        _check(step, "stage", int, where=where)
        for part, keys in (("layer", ("size", "diff_id")), ("history", ("index",))):
            _check(step, part, dict, where=where)
            for key in keys:
                _check(step.get(part) or {}, key, str if key == "diff_id" else int, where=f"{where}.{part}")
    for part in ("image", "base", "dockerfile"):
        _check(report, part, dict)
    _check(report.get("base") or {}, "size", int, where="base")
    _check(report.get("dockerfile") or {}, "path", str, where="dockerfile")
    _check(report, "findings", list)
    for i, finding in enumerate(report.get("findings") or ()):
        _check_object(finding, f"findings[{i}]")
        _check(finding, "line", int, where=f"findings[{i}]")
        _check(finding, "rule", str, where=f"findings[{i}]")
    _check(report, "mismatches", list)
    for i, item in enumerate(report.get("mismatches") or ()):
        where = f"mismatches[{i}]"
        _check_object(item, where)
        _check(item, "line", int, where=where, optional=False)
        _check(item, "history_index", int, where=where)
        for key in ("code", "expected"):
            _check(item, key, str, where=where, optional=False)
        _check(item, "found", str, where=where)
        if item["code"] not in MISMATCH_CODES:
            raise ValueError(f"{where}.code: not one of {', '.join(MISMATCH_CODES)}")
    if report.get("image"):
        _check_image(report["image"])


def _check_image(image: Json) -> None:
    _check(image, "id", str, where="image", optional=False)
    _check(image, "size", int, where="image", optional=False)
    _check(image, "diff_ids", list, where="image")
    if not all(isinstance(d, str) for d in image.get("diff_ids") or ()):
        raise ValueError("image.diff_ids: expected a list of strings")
    _check(image, "history", list, where="image")
    for i, item in enumerate(image.get("history") or ()):
        where = f"image.history[{i}]"
        _check_object(item, where)
        _check(item, "index", int, where=where, optional=False)
        for key in ("layer_index", "size"):
            _check(item, key, int, where=where)
        _check(item, "created_by", str, where=where)


def _check_object(value: object, where: str) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")


def _check(obj: Json, key: str, kind: type, *, where: str = "", optional: bool = True) -> None:
    """``obj[key]`` is of ``kind`` (None allowed when ``optional``); ints are not bools and in range."""
    value = obj.get(key)
    name = f"{where}.{key}" if where else key
    if value is None and optional:
        return
    wrong = not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))
    if wrong:
        raise ValueError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    if kind is int and not 0 <= value <= _MAX_NUMBER:  # type: ignore[operator]
        raise ValueError(f"{name}: {value} is out of range")


MISMATCH_CODES = ("instruction", "arguments", "missing")


def side_mismatches(report: Json) -> tuple[list[Mismatch], int]:
    """A checked report's mismatches and how many history entries its Dockerfile makes in the final
    image (the two inputs of :func:`analyzer.mapping.align.match.fatal`)."""
    found = [
        Mismatch(
            code=cast(MismatchCode, m["code"]),
            line=m["line"],
            history_index=m.get("history_index"),
            expected=m["expected"],
            found=m.get("found"),
            in_final_image=m.get("in_final_image", True) is not False,
        )
        for m in report.get("mismatches") or ()
    ]
    entries = sum(
        makes_entry(
            s["instruction"],
            bool(s.get("trigger")),
            s.get("stage"),
            bool(s.get("history")),
            s.get("creates_layer"),
        )
        for s in report["steps"]
        if s.get("in_final_image", True) is not False
    )
    return found, entries


def side_of(report: Json) -> Side:
    """The diffable view of a JSON report; raises ValueError when it has no final image."""
    image = report.get("image")
    if not image:
        raise ValueError("the report has no final image (the build failed?)")
    steps = [s for s in report.get("steps") or () if s.get("in_final_image") and s.get("stage") is not None]
    base = report.get("base") or {}
    entries = tuple(_step_entry(s) for s in steps) if steps else _history_entries(image)
    dockerfile = (report.get("dockerfile") or {}).get("path")
    inherited = int(base.get("size") or 0) if steps else 0
    diff_ids = tuple(image.get("diff_ids") or ())
    findings = tuple(report.get("findings") or ())
    return Side(dockerfile, image["id"], int(image["size"]), inherited, entries, diff_ids, findings)


def _step_entry(step: Json) -> Entry:
    layer = step.get("layer") or {}
    history = step.get("history") or {}
    return Entry(
        line=step["line"],
        entry=history.get("index"),
        instruction=step["instruction"],
        text=step["text"],
        size=int(layer.get("size") or 0),
        diff_id=layer.get("diff_id"),
        trigger=bool(step.get("trigger")),
    )


def _history_entries(image: Json) -> tuple[Entry, ...]:
    diff_ids = list(image.get("diff_ids") or ())
    out = []
    for item in image.get("history") or ():
        index = item.get("layer_index")
        created = str(item.get("created_by") or "")
        diff_id = diff_ids[index] if index is not None and index < len(diff_ids) else None
        out.append(
            Entry(None, item["index"], _keyword(created), created, int(item.get("size") or 0), diff_id)
        )
    return tuple(out)


def _keyword(created_by: str) -> str:
    """The instruction keyword behind a history ``CreatedBy`` (classic ``#(nop) ENV …``, BuildKit
    ``ENV …``); a plain command is a RUN."""
    words = created_by.split("#(nop)", 1)[1].split() if "#(nop)" in created_by else created_by.split()
    return words[0] if words and words[0].isalpha() and words[0].isupper() else "RUN"


def match(base: Sequence[Entry], head: Sequence[Entry]) -> list[LineDelta]:
    """Pair the lines of two versions: equal text first (in order, then moved lines), then position.

    ``difflib`` pairs the runs of equal text that keep their order; a line whose text is unchanged but
    moved is paired next; what is left in each differing stretch pairs by position among lines of the
    same keyword (the n-th RUN with the n-th RUN). Output follows the head, removed lines where they were.
    """
    matcher = difflib.SequenceMatcher(None, [e.key for e in base], [e.key for e in head], autojunk=False)
    pairs: dict[int, int] = {}
    stretches: list[tuple[range, range]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.update(zip(range(i1, i2), range(j1, j2), strict=True))
        else:
            stretches.append((range(i1, i2), range(j1, j2)))
    _pair(
        base, head, [i for b, _ in stretches for i in b], [j for _, h in stretches for j in h], pairs, "key"
    )
    for bs, hs in stretches:
        _pair(base, head, list(bs), list(hs), pairs, "instruction")
    return _ordered(base, head, pairs)


def _pair(
    base: Sequence[Entry], head: Sequence[Entry], bs: list[int], hs: list[int], pairs: dict[int, int], by: str
) -> None:
    """Pair each still-free head line with the first still-free base line equal in ``by``."""
    taken = set(pairs.values())
    free = [i for i in bs if i not in pairs]
    for j in (j for j in hs if j not in taken):
        i = next((i for i in free if getattr(base[i], by) == getattr(head[j], by)), None)
        if i is not None:
            pairs[i] = j
            free.remove(i)


def _ordered(base: Sequence[Entry], head: Sequence[Entry], pairs: dict[int, int]) -> list[LineDelta]:
    to_base = {j: i for i, j in pairs.items()}
    keyed: list[tuple[tuple[float, int], LineDelta]] = [
        ((j, 0), _delta(base[to_base[j]] if j in to_base else None, h)) for j, h in enumerate(head)
    ]
    for i, b in enumerate(base):
        if i not in pairs:
            # A removed line goes after the head line its nearest earlier base neighbour became.
            before = max((pairs[k] for k in pairs if k < i), default=-1)
            keyed.append(((before + 0.5, i), _delta(b, None)))
    return [d for _, d in sorted(keyed, key=lambda item: item[0])]


def _delta(base: Entry | None, head: Entry | None) -> LineDelta:
    if base is None:
        return LineDelta(None, head, "added")
    if head is None:
        return LineDelta(base, None, "removed")
    same = base.key == head.key and base.size == head.size
    return LineDelta(base, head, "same" if same else "changed")


def diff(base_report: Json, head_report: Json) -> DiffResult:
    """Compare two JSON reports."""
    base, head = side_of(base_report), side_of(head_report)
    lines = tuple(match(base.entries, head.entries))
    warnings = [_unaccounted(name, s) for name, s in (("base", base), ("head", head))]
    return DiffResult(
        base=base,
        head=head,
        lines=lines,
        layers_added=_only_in(head, base),
        layers_removed=_only_in(base, head),
        new_findings=_new_findings(lines, base.findings, head.findings),
        warnings=tuple(w for w in warnings if w),
    )


def _unaccounted(name: str, side: Side) -> str:
    """A warning when a side's lines and base do not add up to its image (never expected on overlay2)."""
    lines = sum(e.size for e in side.entries)
    if lines + side.inherited == side.size:
        return ""
    return (
        f"{name}: the lines' layers ({lines} B) and the base ({side.inherited} B) do not add up to the "
        f"image size ({side.size} B): the per-line deltas cannot account for every byte"
    )


def _only_in(side: Side, other: Side) -> tuple[tuple[str, int, int | None], ...]:
    """Layers (by diff_id, counting repeats) that ``side``'s image has and ``other``'s has not."""
    extra = Counter(side.diff_ids) - Counter(other.diff_ids)
    by_id = {e.diff_id: e for e in side.entries if e.diff_id}
    out = []
    for diff_id in side.diff_ids:
        if extra[diff_id] > 0:
            extra[diff_id] -= 1
            entry = by_id.get(diff_id)
            out.append((diff_id, entry.size if entry else 0, entry.line if entry else None))
    return tuple(out)


def _new_findings(lines: Sequence[LineDelta], base: Sequence[Json], head: Sequence[Json]) -> tuple[Json, ...]:
    """Head findings with no finding of the same rule at the paired base line (or, image-wide, none)."""
    to_base = {d.head.line: d.base.line for d in lines if d.head and d.base and d.head.line is not None}
    seen = {(f.get("rule"), f.get("line")) for f in base}

    def base_line(finding: Json) -> int | None:
        line = finding.get("line")
        return None if line is None else to_base.get(line, -1)  # -1: a head line without a partner

    return tuple(f for f in head if (f.get("rule"), base_line(f)) not in seen)
