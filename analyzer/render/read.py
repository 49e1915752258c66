"""Reading a JSON that layermap wrote back into the model, so ``layermap render`` can write it in another
format: the inverse of ``render/report/json.py``'s ``to_dict`` (a ``build``/``image``/``predict`` report),
``render/diff/json.py`` (``kind: "diff"``) and ``render/layers/json.py`` (``kind: "layers"``).

It sits beside those writers because it is their inverse and changes with them: a field added to a JSON
writer is read back here, in the same package. It is pure (no file or engine access) and imports
nothing of the engine. The file is read, size- and depth-bounded, by the CLI (``analyzer.limits``).

Every value is checked for its type before it is trusted (:class:`Shape`), after the checks
``layermap diff`` applies to a report side (:func:`analyzer.review.diff.check_report`): a hostile or
hand-edited file is a ``ValueError`` naming the field, never a traceback in a renderer.

What the JSON does not carry, and so a rendering from it cannot show (``README`` "Build once, render
many"): the Dockerfile text (annotated and HTML take it from ``dockerfile_text``, which the CLI reads from
``dockerfile.path`` when that file's sha256 is still the report's), the per-layer file tree of ``--contents``
(HTML's file browser), a FROM line's inherited size and layer count (the table shows them on FROM rows),
the image config, the engine's address and data root, and history entries' creation times and comments.
A diff JSON does not say which lines are ONBUILD triggers; a layers JSON has no image size or history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from analyzer.model import (
    BaseInfo,
    DiveCompatible,
    EngineInfo,
    Explanation,
    FileChange,
    FileSummary,
    Finding,
    HistoryEntry,
    Image,
    Layer,
    LayerDb,
    LayerDbEntry,
    LayersView,
    Mismatch,
    MismatchCode,
    Report,
    ReportKind,
    StageInfo,
    Step,
    StepError,
    StepHistory,
    StepLayer,
    Summary,
    Waste,
    WastePair,
)

if TYPE_CHECKING:
    from analyzer.review.diff import DiffResult, Entry, Side

KINDS = ("report", "diff", "layers")
"""What :func:`kind_of` answers: the registry's kinds (``analyzer.render.FORMATS``) a JSON can be."""

_MAX_NUMBER = 1 << 62


class Shape:
    """One JSON object and where it is (``steps[3].layer``), with typed getters that raise ValueError."""

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise ValueError(f"{where or 'the file'}: expected an object")
        self.data: Mapping[str, Any] = value
        self.where = where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key: str, kinds: tuple[type, ...], optional: bool) -> Any:
        value = self.data.get(key)
        if value is None:
            if optional:
                return None
            raise ValueError(f"{self._name(key)}: missing")
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            names = " or ".join(k.__name__ for k in kinds)
            raise ValueError(f"{self._name(key)}: expected {names}, got {type(value).__name__}")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_NUMBER:
            raise ValueError(f"{self._name(key)}: {value} is out of range")
        return value

    def integer(self, key: str) -> int:
        return cast(int, self._get(key, (int,), False))

    def opt_int(self, key: str) -> int | None:
        return cast("int | None", self._get(key, (int,), True))

    def text(self, key: str) -> str:
        return cast(str, self._get(key, (str,), False))

    def opt_str(self, key: str) -> str | None:
        return cast("str | None", self._get(key, (str,), True))

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, (bool,), True)
        return default if value is None else cast(bool, value)

    def opt_bool(self, key: str) -> bool | None:
        return cast("bool | None", self._get(key, (bool,), True))

    def opt_float(self, key: str) -> float | None:
        value = self._get(key, (int, float), True)
        return None if value is None else float(value)

    def number(self, key: str) -> float:
        return float(self._get(key, (int, float), False))

    def obj(self, key: str) -> Shape | None:
        value = self.data.get(key)
        return None if value is None else Shape(value, self._name(key))

    def objs(self, key: str) -> list[Shape]:
        return [Shape(v, f"{self._name(key)}[{i}]") for i, v in enumerate(self.array(key))]

    def array(self, key: str) -> list[Any]:
        value = self._get(key, (list,), True)
        return [] if value is None else cast("list[Any]", value)

    def strs(self, key: str) -> tuple[str, ...]:
        values = self.array(key)
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"{self._name(key)}: expected a list of strings")
        return tuple(values)


def kind_of(data: object) -> str:
    """``report``, ``diff`` or ``layers``: a report has ``schema_version`` and ``steps``, the others say their
    ``kind``. ValueError for anything else."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = data.get("kind")
    if kind in ("diff", "layers"):
        return cast(str, kind)
    if kind is not None:
        raise ValueError(f"kind {kind!r} cannot be rendered (a report, diff or layers JSON can)")
    if "schema_version" in data and "steps" in data:
        return "report"
    raise ValueError("neither a report (schema_version and steps) nor a diff or layers JSON (kind)")


def _check_version(top: Shape) -> None:
    if top.data.get("schema_version") != 1 or isinstance(top.data.get("schema_version"), bool):
        raise ValueError("schema_version is not 1")


def report_kind(data: Shape) -> ReportKind:
    """What made the report (``Report.kind`` is not in the JSON): ``image`` when no builder ran,
    ``prediction`` when neither an engine nor an image was there, else ``build``."""
    if data.data.get("builder") == "unknown":
        return "image"
    if data.data.get("engine") is None and data.data.get("image") is None:
        return "prediction"
    return "build"


def read_report(data: object, dockerfile_text: str | None = None) -> Report:
    """The :class:`Report` a report JSON was written from (as far as the JSON carries it)."""
    from analyzer.review.diff import check_report

    check_report(data)
    top = Shape(data, "")
    dockerfile = top.obj("dockerfile")
    steps = tuple(_step(s) for s in top.objs("steps"))
    stages = len(top.array("stages"))
    for i, step in enumerate(steps):
        if step.stage is not None and step.stage >= stages:
            raise ValueError(f"steps[{i}].stage: {step.stage} is not a stage of the report ({stages} stages)")
    summary = top.obj("summary")
    if summary is None:
        raise ValueError("summary: missing")
    return Report(
        kind=report_kind(top),
        dockerfile_path=dockerfile.text("path") if dockerfile else None,
        dockerfile_sha256=dockerfile.opt_str("sha256") if dockerfile else None,
        builder=top.text("builder"),
        engine=_engine(top.obj("engine")),
        image=_image(top.obj("image")),
        base=_base(top.obj("base")),
        stages=tuple(
            StageInfo(
                s.integer("index"),
                s.opt_str("name"),
                s.text("from"),
                s.integer("line"),
                s.flag("in_final_image", True),
            )
            for s in top.objs("stages")
        ),
        steps=steps,
        summary=Summary(
            summary.integer("final_size"),
            summary.integer("base_size"),
            summary.integer("added_size"),
            summary.integer("layers_added"),
            summary.opt_int("largest_step_line"),
        ),
        findings=tuple(_finding(f) for f in top.objs("findings")),
        warnings=tuple(w.text("message") for w in top.objs("warnings") if w.data.get("code") == "note"),
        mismatches=tuple(_mismatch(m) for m in top.objs("mismatches")),
        waste=_waste(top.obj("waste")),
        dockerfile_text=dockerfile_text if dockerfile else None,
        explanations=tuple(_explanation(e, len(steps)) for e in top.objs("explain")),
        layerdb=_layerdb(top.obj("layerdb")),
    )


def _engine(e: Shape | None) -> EngineInfo | None:
    if e is None:
        return None
    return EngineInfo(
        e.text("version"),
        e.text("api_version"),
        e.text("storage"),
        address="",
        data_root=e.opt_str("data_root"),
    )


def _image(i: Shape | None) -> Image | None:
    if i is None:
        return None
    history = tuple(
        HistoryEntry(
            h.integer("index"),
            h.opt_str("created_by") or "",
            h.opt_bool("empty_layer"),
            h.opt_int("size") or 0,
            image_id=h.opt_str("image_id"),
        )
        for h in i.objs("history")
    )
    layers = tuple(
        Layer(
            la.integer("index"),
            la.text("diff_id"),
            la.text("chain_id"),
            la.opt_int("size"),
            la.opt_int("compressed_size"),
            la.opt_str("blob_digest"),
        )
        for la in i.objs("layers")
    )
    return Image(
        id=i.text("id"),
        tags=i.strs("tags"),
        size=i.integer("size"),
        history=history,
        layers=layers,
        config_digest=i.opt_str("config_digest"),
        manifest_digest=i.opt_str("manifest_digest"),
        index_digest=i.opt_str("index_digest"),
    )


def _base(b: Shape | None) -> BaseInfo | None:
    if b is None:
        return None
    return BaseInfo(
        b.text("ref"),
        b.opt_str("id"),
        b.integer("history_count"),
        b.integer("layer_count"),
        b.integer("size"),
    )


def _step(s: Shape) -> Step:
    history, layer, error, files = s.obj("history"), s.obj("layer"), s.obj("error"), s.obj("files")
    return Step(
        stage=s.opt_int("stage"),
        line=s.integer("line"),
        end_line=s.integer("end_line"),
        instruction=s.text("instruction"),
        text=s.text("text"),
        trigger=s.flag("trigger", False),
        in_final_image=s.flag("in_final_image", True),
        creates_layer=s.opt_bool("creates_layer"),
        history=(
            StepHistory(
                history.integer("index"), history.text("created_by"), history.flag("empty_layer", False)
            )
            if history
            else None
        ),
        layer=StepLayer(layer.integer("index"), layer.text("diff_id"), layer.integer("size"))
        if layer
        else None,
        cached=s.opt_bool("cached"),
        duration_s=s.opt_float("duration_s"),
        image_id=s.opt_str("image_id"),
        error=StepError(error.text("message"), error.opt_int("exit_code")) if error else None,
        reason=s.opt_str("reason"),
        inherited_size=s.opt_int("inherited_size"),
        inherited_layers=s.opt_int("inherited_layers"),
        files=(
            FileSummary(
                files.integer("added"),
                files.integer("modified"),
                files.integer("deleted"),
                files.integer("bytes_added"),
                tuple(
                    FileChange(t.text("path"), t.integer("size"), t.text("change")) for t in files.objs("top")
                ),
            )
            if files
            else None
        ),
    )


_FINDING_KEYS = ("rule", "severity", "line", "message")


def _finding(f: Shape) -> Finding:
    extra = {k: v for k, v in f.data.items() if k not in _FINDING_KEYS}
    return Finding(f.text("rule"), f.text("severity"), f.opt_int("line"), f.text("message"), extra)


def _mismatch(m: Shape) -> Mismatch:
    return Mismatch(
        code=cast(MismatchCode, m.text("code")),
        line=m.integer("line"),
        history_index=m.opt_int("history_index"),
        expected=m.text("expected"),
        found=m.opt_str("found"),
        in_final_image=m.flag("in_final_image", True),
    )


def _waste(w: Shape | None) -> Waste | None:
    if w is None:
        return None
    dive = w.obj("dive_compatible")
    if dive is None:
        raise ValueError("waste.dive_compatible: missing")
    return Waste(
        wasted_bytes=w.integer("wasted_bytes"),
        efficiency=w.number("efficiency"),
        pairs=tuple(
            WastePair(
                p.opt_int("added_line"),
                p.opt_int("removed_line"),
                p.integer("bytes"),
                p.text("kind"),
                p.strs("paths"),
                p.integer("path_count"),
                p.integer("added_layer"),
                p.integer("removed_layer"),
            )
            for p in w.objs("pairs")
        ),
        user_wasted_percent=w.opt_float("user_wasted_percent"),
        dive_compatible=DiveCompatible(
            dive.integer("wasted_bytes"), dive.number("efficiency"), dive.opt_float("user_wasted_percent")
        ),
    )


def _explanation(e: Shape, steps: int) -> Explanation:
    step = e.integer("step")
    if not 0 <= step < steps:
        raise ValueError(f"{e.where}.step: {step} is not a step of the report")
    return Explanation(
        step=step,
        predicted=e.opt_bool("predicted"),
        reason=e.text("reason"),
        verdict=e.text("verdict"),
        surprise=e.opt_str("surprise"),
        text=e.text("text"),
        note=e.opt_str("note"),
    )


def _layerdb(d: Shape | None) -> LayerDb | None:
    if d is None:
        return None
    return LayerDb(
        state=d.text("state"),
        note=d.text("note"),
        entries=tuple(
            LayerDbEntry(
                e.integer("index"),
                e.text("diff_id"),
                e.text("chain_id"),
                e.opt_int("size"),
                e.opt_str("folder"),
                e.opt_str("cache_id"),
                e.opt_str("parent"),
                e.opt_int("db_size"),
                e.opt_str("db_diff"),
                e.strs("problems"),
            )
            for e in d.objs("layers")
        ),
        storage=d.opt_str("storage"),
        data_root=d.opt_str("data_root"),
    )


def read_layers(data: object) -> LayersView:
    """The :class:`LayersView` of a ``kind: "layers"`` JSON: the image's id and tags, and its layers as
    the layer database lists them (size and history are not in that JSON)."""
    top = Shape(data, "")
    _check_version(top)
    image = top.obj("image")
    if image is None:
        raise ValueError("image: missing")
    db = _layerdb(top)
    assert db is not None
    layers = tuple(Layer(e.index, e.diff_id, e.chain_id, e.size) for e in db.entries)
    return LayersView(Image(image.text("id"), image.strs("tags"), 0, (), layers), db)


def read_diff(data: object) -> DiffResult:
    """The :class:`DiffResult` of a ``kind: "diff"`` JSON. Its lines carry each side's line, entry,
    size and text; layer diff_ids and ONBUILD trigger marks are not in it (only the layer counts)."""
    from analyzer.review.diff import DiffResult, DiffVerdict, LineDelta

    top = Shape(data, "")
    _check_version(top)
    lines = []
    for line in top.objs("lines"):
        instruction, text = line.text("instruction"), line.text("text")
        base_text = line.opt_str("base_text") or text
        base = _entry(line, "base", instruction, base_text)
        head = _entry(line, "head", instruction, text)
        change = line.text("change")
        if change not in ("same", "changed", "added", "removed") or (base is None and head is None):
            raise ValueError(f"{line.where}: not a line of a diff (change {change!r})")
        lines.append(LineDelta(base, head, change))
    gate = top.obj("gate")
    return DiffResult(
        base=_side(top, "base", [d.base for d in lines if d.base]),
        head=_side(top, "head", [d.head for d in lines if d.head]),
        lines=tuple(lines),
        layers_added=tuple(
            (a.text("diff_id"), a.integer("size"), a.opt_int("head_line")) for a in top.objs("layers_added")
        ),
        layers_removed=tuple(
            (r.text("diff_id"), r.integer("size"), r.opt_int("base_line")) for r in top.objs("layers_removed")
        ),
        new_findings=tuple(f.data for f in top.objs("new_findings")),
        warnings=top.strs("warnings"),
        verdict=(
            DiffVerdict(
                gate.flag("passed", True),
                gate.strs("reasons"),
                gate.opt_str("max_growth"),
                gate.text("fail_on"),
            )
            if gate
            else None
        ),
    )


def _entry(line: Shape, side: str, instruction: str, text: str) -> Entry | None:
    from analyzer.review.diff import Entry

    present = line.data.get(f"{side}_line") is not None or line.data.get(f"{side}_entry") is not None
    change = line.data.get("change")
    if not present and change == ("added" if side == "base" else "removed"):
        return None
    return Entry(
        line.opt_int(f"{side}_line"),
        line.opt_int(f"{side}_entry"),
        instruction,
        text,
        line.integer(f"{side}_size"),
    )


def _side(top: Shape, name: str, entries: list[Entry]) -> Side:
    from analyzer.review.diff import Side

    side = top.obj(name)
    if side is None:
        raise ValueError(f"{name}: missing")
    count = side.opt_int("layer_count") or 0
    return Side(
        dockerfile=side.opt_str("dockerfile"),
        image_id=side.text("image_id"),
        size=side.integer("size"),
        inherited=side.opt_int("inherited_size") or 0,
        entries=tuple(entries),
        diff_ids=("",) * count,  # only the count is in the JSON (and all the renderers show)
        findings=(),
    )
