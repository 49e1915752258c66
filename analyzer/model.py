"""Frozen dataclasses shared by every stage of the pipeline; no behaviour beyond small lookups.

Dockerfile side: :class:`Instruction`, :class:`Stage`, :class:`Dockerfile` (built by
``analyzer/dockerfile.py``).
Engine side: :class:`HistoryEntry`, :class:`Layer`, :class:`Image`, :class:`StepEvent`,
:class:`BuildResult` (built by ``analyzer/engine/`` and ``analyzer/image/``).
Result side: :class:`Step`, :class:`Report` (built by ``analyzer/mapping/`` from a build or an existing
image, or by ``analyzer/teaching/predict.py``; contents added by ``analyzer/contents/``; rendered by
``analyzer/render/``), :class:`LayersView` (``layermap layers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# --------------------------------------------------------------------------- Dockerfile side


@dataclass(frozen=True)
class Heredoc:
    """A heredoc attached to an instruction (``RUN <<EOF`` … ``EOF``)."""

    delimiter: str
    """The word after ``<<`` (quotes and ``-`` removed)."""
    body: str
    """The lines between the instruction line and the terminator, joined with newlines."""
    line: int
    """1-based line of the first body line."""
    end_line: int
    """1-based line of the terminator."""


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction as written."""

    keyword: str
    """Upper-case keyword: ``RUN``, ``COPY``, ``FROM`` …"""
    line: int
    """1-based first line of the instruction."""
    end_line: int
    """1-based last line, inclusive; covers continuation lines and heredoc bodies."""
    text: str
    """The instruction as written, continuation lines joined as Docker joins them (escape and newline
    removed, no space added), inner comment lines dropped, trimmed."""
    args: str
    """What follows the keyword and its ``--flags``, as written (variables not expanded)."""
    flags: tuple[tuple[str, str], ...] = ()
    """``--name=value`` flags in order (``--link`` alone gives value ``""``); names without dashes."""
    exec_form: bool = False
    """True when the arguments are a JSON array (exec form)."""
    exec_args: tuple[str, ...] | None = None
    """The decoded JSON array for exec form, else None."""
    heredocs: tuple[Heredoc, ...] = ()
    onbuild: Instruction | None = None
    """For ``ONBUILD``: the inner instruction (same line span)."""
    stage: int | None = None
    """Index of the stage the instruction belongs to; None for global ARGs before the first FROM."""

    def flag(self, name: str) -> str | None:
        """The last value of flag ``name`` (without dashes), or None."""
        found = None
        for key, value in self.flags:
            if key == name:
                found = value
        return found


@dataclass(frozen=True)
class Stage:
    """One ``FROM`` and the instructions after it."""

    index: int
    name: str | None
    """The ``AS name`` (lower-cased, as Docker matches it), or None."""
    base: str
    """The FROM reference with build args substituted (a stage name when ``base_stage`` is set)."""
    base_stage: int | None
    """Index of the earlier stage this one is built ``FROM``, else None."""
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]
    """The instructions after FROM, in order."""

    @property
    def line(self) -> int:
        return self.from_instruction.line


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile."""

    path: str | None
    sha256: str
    """sha256 hex digest of the file's bytes."""
    text: str
    directives: Mapping[str, str]
    """Parser directives (``syntax``, ``escape``, ``check``), lower-case keys."""
    global_args: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    build_args: Mapping[str, str] = field(default_factory=dict)
    """The ``--build-arg`` values the Dockerfile was resolved with."""
    warnings: tuple[str, ...] = ()
    """Builder-dependent notes from parsing (e.g. a duplicate stage name under BuildKit)."""

    @property
    def instructions(self) -> tuple[Instruction, ...]:
        """Every instruction in file order: global ARGs, then each stage's FROM and body."""
        out: list[Instruction] = list(self.global_args)
        for stage in self.stages:
            out.append(stage.from_instruction)
            out.extend(stage.instructions)
        return tuple(out)

    def stage_index(self, target: str | None) -> int:
        """Index of the ``--target`` stage (by name or number), or of the last stage."""
        if target is None:
            return len(self.stages) - 1
        wanted = target.lower()
        for stage in reversed(self.stages):  # BuildKit: of two stages with one name, the later wins
            if stage.name == wanted or str(stage.index) == wanted:
                return stage.index
        raise KeyError(target)

    def chain(self, target: str | None = None) -> list[int]:
        """Stage indexes of the ``FROM <stage>`` chain ending at the target, oldest first."""
        out = [self.stage_index(target)]
        while (parent := self.stages[out[-1]].base_stage) is not None:
            out.append(parent)
        return out[::-1]


# --------------------------------------------------------------------------- engine side


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of an image's history (config ``history[]`` merged with the history API)."""

    index: int
    """0-based position, oldest first."""
    created_by: str
    empty_layer: bool | None
    """From the image config; None when the config was not read."""
    size: int
    """Bytes as ``docker history`` reports them (0 for empty entries and for 0-byte layers)."""
    created: str | None = None
    comment: str = ""
    image_id: str | None = None
    """The local image this entry is the top of (history API ``Id``), when the engine still has it."""


@dataclass(frozen=True)
class Layer:
    """One filesystem layer of an image (``rootfs.diff_ids``)."""

    index: int
    diff_id: str
    chain_id: str
    size: int | None = None
    """Bytes as ``docker history`` reports them for the entry that made the layer; None if unknown."""
    compressed_size: int | None = None
    """Bytes of the compressed blob a pull downloads, when the source knows it (registry, OCI archive)."""
    blob_digest: str | None = None
    """Digest of that blob (the manifest's layer descriptor), when the source knows it."""


@dataclass(frozen=True)
class Image:
    """An image's identity, history and layers."""

    id: str
    tags: tuple[str, ...]
    size: int
    history: tuple[HistoryEntry, ...]
    layers: tuple[Layer, ...]
    parent: str | None = None
    """The local parent image (classic builder step chain), when there is one."""
    onbuild: tuple[str, ...] = ()
    """ONBUILD triggers recorded in the config (what a child's FROM will run)."""
    config: Mapping[str, Any] | None = None
    """The raw image configuration, when it was read."""
    config_digest: str | None = None
    """sha256 of the image configuration, when known (``analyzer/image/identity.py`` says per source)."""
    manifest_digest: str | None = None
    """Digest of the image manifest, when the source knows it."""
    index_digest: str | None = None
    """Digest of the index (manifest list) the manifest was chosen from, when there is one and it is known."""

    @property
    def diff_ids(self) -> tuple[str, ...]:
        return tuple(layer.diff_id for layer in self.layers)


@dataclass(frozen=True)
class ImageLink:
    """One image of a classic build's ``Parent`` chain: just enough to tell whether a step made a layer."""

    id: str
    parent: str | None
    diff_ids: tuple[str, ...]
    created_by: str = ""
    """The image's own top history ``CreatedBy`` (sanity checks only)."""


@dataclass(frozen=True)
class EngineInfo:
    """What the engine says about itself."""

    version: str
    api_version: str
    storage: str
    """Storage driver (``overlay2``) or ``containerd`` for the containerd image store."""
    address: str
    data_root: str | None = None


@dataclass(frozen=True)
class StepEvent:
    """One ``Step N/M`` of a classic build as the stream reported it."""

    number: int
    """1-based N of ``Step N/M``."""
    total: int
    text: str
    """The instruction text the builder echoed (continuations joined, variables not expanded)."""
    cached: bool | None = None
    duration_s: float | None = None
    short_id: str | None = None
    """The 12-hex id printed after the step (informative only: RUN output can fake it)."""


@dataclass(frozen=True)
class BuildFailure:
    """Why a build stopped."""

    message: str
    exit_code: int | None
    step_number: int | None
    """The ``Step N`` that failed (classic), or None."""
    output_tail: tuple[str, ...] = ()
    """The last lines of the failing step's output."""
    vertex: str | None = None
    """BuildKit: the failing vertex name (``[stage 2/5] RUN …``)."""


@dataclass(frozen=True)
class BuildResult:
    """What a build produced."""

    builder: str
    """``classic`` or ``buildkit``."""
    stage_image_ids: tuple[str, ...]
    """``aux.ID`` of each stage the builder finished, in order; the last is the final image."""
    steps: tuple[StepEvent, ...]
    failure: BuildFailure | None = None
    log: tuple[str, ...] = ()
    """The stream's last lines (classic: at most ``classic_stream.KEEP_LINES``)."""
    warnings: tuple[str, ...] = ()
    """Engine messages outside any step (classic: e.g. ``[WARNING]: Empty continuation line``)."""

    @property
    def image_id(self) -> str | None:
        if self.failure is not None or not self.stage_image_ids:
            return None
        return self.stage_image_ids[-1]


# --------------------------------------------------------------------------- result side


@dataclass(frozen=True)
class StepHistory:
    index: int
    created_by: str
    empty_layer: bool


@dataclass(frozen=True)
class StepLayer:
    index: int
    diff_id: str
    size: int


MismatchCode = Literal["instruction", "arguments", "missing"]


@dataclass(frozen=True)
class Mismatch:
    """A history entry that does not come from the Dockerfile line its position gives it."""

    code: MismatchCode
    """``instruction``: another instruction wrote the entry; ``arguments``: the same instruction with other
    arguments (a near miss: an edited line); ``missing``: the image has no entry for the line."""
    line: int
    """1-based line of the Dockerfile instruction (its FROM line for an ONBUILD trigger)."""
    history_index: int | None
    """Position of the entry in the image history (None for ``missing``)."""
    expected: str
    """The instruction as written."""
    found: str | None
    """The entry's ``CreatedBy`` (None for ``missing``)."""
    in_final_image: bool = True
    """False when the entry is in a stage image outside the final chain."""

    @property
    def severity(self) -> str:
        """``error`` when another instruction wrote the entry or there is none, else ``warning``."""
        return "warning" if self.code == "arguments" else "error"


@dataclass(frozen=True)
class StepError:
    message: str
    exit_code: int | None


@dataclass(frozen=True)
class FileChange:
    """One of a layer's largest changes (``--contents``)."""

    path: str
    size: int
    """Bytes the entry adds (``docker history`` counting); for ``deleted``, the bytes it hid."""
    change: str
    """``added``, ``modified`` or ``deleted``."""


@dataclass(frozen=True)
class FileSummary:
    """What a step's layer did to the files below it (the JSON step ``files``, ``--contents``)."""

    added: int
    modified: int
    deleted: int
    bytes_added: int
    """Equals the layer's ``docker history`` size."""
    top: tuple[FileChange, ...] = ()


@dataclass(frozen=True)
class Step:
    """One Dockerfile line mapped to what it produced (the JSON ``steps[]`` item)."""

    stage: int | None
    line: int
    end_line: int
    instruction: str
    text: str
    trigger: bool = False
    in_final_image: bool = True
    creates_layer: bool | None = None
    history: StepHistory | None = None
    layer: StepLayer | None = None
    cached: bool | None = None
    duration_s: float | None = None
    image_id: str | None = None
    error: StepError | None = None
    reason: str | None = None
    """``predict`` only: why the step does (not) create a layer."""
    inherited_size: int | None = None
    """FROM steps: bytes of the base image's layers (the table's view, not in the JSON step)."""
    inherited_layers: int | None = None
    files: FileSummary | None = None
    """``--contents``: the step's file changes (None without a layer in the final image)."""


@dataclass(frozen=True)
class StageInfo:
    index: int
    name: str | None
    from_: str
    line: int
    in_final_image: bool


@dataclass(frozen=True)
class BaseInfo:
    ref: str
    id: str | None
    history_count: int
    layer_count: int
    size: int


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    line: int | None
    message: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WastePair:
    """Bytes one line stored that a later line deleted or replaced (still shipped in the image)."""

    added_line: int | None
    """None: the layer is not one of the Dockerfile's (the base image's, or no Dockerfile given)."""
    removed_line: int | None
    bytes: int
    kind: str
    """``deleted``, ``overwritten`` or ``copy-up`` (a chmod/chown/hard link duplicated the file)."""
    paths: tuple[str, ...]
    """The largest paths (at most 20)."""
    path_count: int
    added_layer: int
    removed_layer: int


@dataclass(frozen=True)
class DiveCompatible:
    """The same figures as dive 0.13 computes them (see ``analyzer/contents/dive.py``)."""

    wasted_bytes: int
    efficiency: float
    user_wasted_percent: float | None


@dataclass(frozen=True)
class Waste:
    """Space the image ships but never shows (the JSON ``waste``, ``--contents``)."""

    wasted_bytes: int
    """Payload of stored file versions hidden by a later layer, each version once."""
    efficiency: float
    """Visible payload / stored payload (1.0 for an image without files)."""
    pairs: tuple[WastePair, ...]
    user_wasted_percent: float | None
    """Wasted bytes / payload of the layers above the base image (None if the base is unknown)."""
    dive_compatible: DiveCompatible


@dataclass(frozen=True)
class Summary:
    final_size: int
    base_size: int
    added_size: int
    layers_added: int
    largest_step_line: int | None


@dataclass(frozen=True)
class Explanation:
    """``--explain``: one step's prediction set against what was measured, in plain language."""

    step: int
    """Index into ``Report.steps``."""
    predicted: bool | None
    """What ``predict`` said about ``creates_layer`` (None: it depends on the filesystem)."""
    reason: str
    """``predict``'s reason."""
    verdict: str
    """``as predicted``, ``wrong`` (the prediction disagreed), ``resolved`` (it said depends), ``not run``."""
    surprise: str | None
    """A short note to highlight when the outcome is one a student would not expect, else None."""
    text: str
    """The plain-language paragraph, built from the measured data only."""
    note: str | None = None
    """The same kind of remark as ``surprise`` when the outcome is the predicted one (no surprise then)."""


@dataclass(frozen=True)
class LayerDbEntry:
    """One layer of an image and, when readable, its folder in the engine's layer database."""

    index: int
    diff_id: str
    chain_id: str
    """Computed from the diff_ids (never read from the engine)."""
    size: int | None
    """Bytes as ``docker history`` reports them."""
    folder: str | None = None
    """``<data_root>/image/overlay2/layerdb/sha256/<chainID>`` when it was found."""
    cache_id: str | None = None
    parent: str | None = None
    db_size: int | None = None
    db_diff: str | None = None
    problems: tuple[str, ...] = ()
    """Disagreements between the folder's files and the computation (empty: verified)."""


@dataclass(frozen=True)
class LayerDb:
    """The layer database view of the final image (``--layers``, ``layermap layers``)."""

    state: str
    """``verified``, ``mismatch``, ``unreadable``, ``remote``, ``containerd`` or ``no-engine``."""
    note: str
    """One or two plain sentences: what was checked, or why not, or what replaces the layerdb."""
    entries: tuple[LayerDbEntry, ...]
    storage: str | None = None
    data_root: str | None = None


ReportKind = Literal["build", "image", "prediction"]
"""What a :class:`Report` describes: a build layermap ran, an image that already existed, or a
``predict`` (nothing built or measured)."""


@dataclass(frozen=True)
class TreeEntry:
    """One change a layer made to the filesystem below it (the file browser, ``--contents``)."""

    path: str
    kind: str
    """As in a listing: ``f`` file, ``h`` hard link, ``l`` symlink, ``d`` directory, ``c`` other,
    ``w`` whiteout, ``o`` opaque directory marker."""
    change: str
    """``added``, ``modified`` or ``deleted`` (whiteouts and opaque markers)."""
    size: int
    """Bytes the entry adds (``docker history`` counting); for ``deleted``, the bytes it hid."""
    link: str = ""


@dataclass(frozen=True)
class LayerTree:
    """A layer's changes, the largest ``len(entries)`` of ``total`` (the rest summed in ``omitted_bytes``)."""

    layer: int
    entries: tuple[TreeEntry, ...]
    total: int
    omitted_bytes: int = 0


@dataclass(frozen=True)
class StoredVersion:
    """A version of a path stored in a layer; ``hidden_by`` is the layer that deleted or replaced it."""

    layer: int
    size: int
    hidden_by: int | None = None
    how: str = ""
    """``deleted`` or ``overwritten`` when hidden."""


@dataclass(frozen=True)
class FinalEntry:
    """A path of the image's filesystem as a container sees it, or one that is gone but still stored."""

    path: str
    kind: str
    versions: tuple[StoredVersion, ...]
    """Oldest first; the last is the visible one unless ``visible`` is False."""
    visible: bool = True
    link: str = ""


@dataclass(frozen=True)
class FileTree:
    """Per-layer listings for the HTML file browser (``--contents``; not part of the JSON)."""

    layers: tuple[LayerTree, ...]
    final: tuple[FinalEntry, ...]
    final_total: int
    """Paths in the aggregated view before the cap."""
    layer_cap: int
    final_cap: int


@dataclass(frozen=True)
class Report:
    """Everything a renderer needs (the JSON report, schema_version 1)."""

    kind: ReportKind = field(kw_only=True)
    """Set by the code that makes the report (``mapping/build.py``: ``build``; ``mapping/existing.py``:
    ``image``; ``teaching/predict.py``: ``prediction``); renderers choose by it, never by guessing from
    the other fields. Keyword-only and without a default so that every producer states it. Not part of
    the JSON (schema_version 1 is unchanged)."""

    dockerfile_path: str | None
    dockerfile_sha256: str | None
    builder: str
    engine: EngineInfo | None
    image: Image | None
    base: BaseInfo | None
    stages: tuple[StageInfo, ...]
    steps: tuple[Step, ...]
    summary: Summary
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    """Alignment and other notes for stderr (not part of the JSON)."""
    mismatches: tuple[Mismatch, ...] = ()
    """History entries that do not come from the line their position gives them (JSON ``mismatches``)."""
    waste: Waste | None = None
    """``--contents`` only."""
    dockerfile_text: str | None = None
    """The Dockerfile as written (annotated and HTML views); None when there is none."""
    explanations: tuple[Explanation, ...] = ()
    """``--explain`` (and the HTML report): one per explained step."""
    layerdb: LayerDb | None = None
    """``--layers``: the layer database view of the final image."""
    file_tree: FileTree | None = None
    """``--contents``: every layer's changes and the aggregated filesystem, capped (HTML views only)."""
    dockerfile_url: str | None = None
    """A web link to the Dockerfile as committed (set from the CI environment), so the Markdown report
    can link findings to ``#L<line>``; None outside CI."""


@dataclass(frozen=True)
class LayersView:
    """``layermap layers``: an image and its layer database view, the input of ``render/layers/``."""

    image: Image
    layerdb: LayerDb
