"""Does each history entry come from its line? Both builders' CreatedBy forms, on recorded histories.

Right file: every recorded history under tests/fixtures (classic golden reports of every sample, BuildKit
through the Engine API and through buildx, on each engine recorded) gives no mismatch at all. Wrong
file: past the threshold. Near miss: an edited line gives one ``arguments`` mismatch, below it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import golden

from analyzer.dockerfile import parse, resolve
from analyzer.mapping.align import match
from analyzer.mapping.align.history import align_history
from analyzer.model import Dockerfile, HistoryEntry, Image, Layer, Mismatch

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ROOT = FIXTURES.parents[1]


# --------------------------------------------------------------------------- CreatedBy forms


@pytest.mark.parametrize(
    ("created_by", "keyword", "body"),
    [
        ("/bin/sh -c #(nop)  ENV A=1 B=2", "ENV", "A=1 B=2"),
        ("/bin/sh -e -c #(nop)  STOPSIGNAL SIGTERM", "STOPSIGNAL", "SIGTERM"),
        ("/bin/sh -c #(nop) COPY file:4a28 in /bin/busybox ", "COPY", "file:4a28 in /bin/busybox"),
        ("/bin/sh -c #(nop) WORKDIR /src", "WORKDIR", "/src"),
        ("/bin/sh -c apt-get update", "RUN", "/bin/sh -c apt-get update"),
        ("|1 V=2 /bin/sh -c echo $V", "RUN", "|1 V=2 /bin/sh -c echo $V"),
        ("/bin/busybox --install -s /bin", "RUN", "/bin/busybox --install -s /bin"),
        ("RUN |1 V=2 /bin/sh -c echo $V # buildkit", "RUN", "|1 V=2 /bin/sh -c echo $V"),
        ("COPY /src/out.txt /out.txt # buildkit", "COPY", "/src/out.txt /out.txt"),
        ('CMD ["cat" "/out.txt"]', "CMD", '["cat" "/out.txt"]'),
        ("EXPOSE map[80/tcp:{}]", "EXPOSE", "map[80/tcp:{}]"),
        ("WORKDIR /", "WORKDIR", "/"),
    ],
)
def test_written_by_reads_both_builders_forms(created_by: str, keyword: str, body: str) -> None:
    assert match.written_by(created_by) == match.Written(keyword, body)


@pytest.mark.parametrize(
    ("text", "created_by"),
    [
        ('RUN echo "built $VERSION" > /o', '|1 VERSION=2 /bin/sh -c echo "built $VERSION" > /o'),
        (
            'RUN echo "built $VERSION" > /o',
            'RUN |1 VERSION=2 /bin/sh -c echo "built $VERSION" > /o # buildkit',
        ),
        ("RUN --mount=type=cache,target=/c make", "RUN /bin/sh -c make # buildkit"),
        ('RUN ["echo", "a"]', "echo a"),
        ("COPY --from=builder /src/out.txt /out.txt", "COPY /src/out.txt /out.txt # buildkit"),
        ("COPY make-greeting.sh .", "/bin/sh -c #(nop) COPY file:0c71 in . "),
        ("ADD notes.txt /app/notes.txt", "/bin/sh -c #(nop) ADD file:b1ad in /app/notes.txt "),
        ("ENV A 1", "/bin/sh -c #(nop)  ENV A=1"),
        ("ENV A hello=world", "/bin/sh -c #(nop)  ENV A=hello=world"),
        ('ENV A="x y" B=$A C=', "ENV A=x y B=x y C="),
        ("ENV P=/usr/local/bin:$PATH", "ENV P=/usr/local/bin:/usr/bin"),
        ('LABEL "a.b"="c d" e=f', "LABEL a.b=c d e=f"),
        ("ARG VERSION", "ARG VERSION=2"),
        ("WORKDIR sub/", "/bin/sh -c #(nop) WORKDIR /src/sub"),
        ("WORKDIR $HOME", "WORKDIR /root"),
        ('CMD ["cat", "/out.txt"]', 'CMD ["cat" "/out.txt"]'),
        ('CMD echo "hi"', '/bin/sh -c #(nop)  CMD ["/bin/sh" "-c" "echo \\"hi\\""]'),
        ("EXPOSE 8080", "/bin/sh -c #(nop)  EXPOSE 8080/tcp"),
        ("VOLUME /app/data", "/bin/sh -c #(nop)  VOLUME [/app/data]"),
        ("ONBUILD RUN echo t", "/bin/sh -c #(nop)  ONBUILD RUN echo t"),
        (
            "HEALTHCHECK CMD true",
            '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "0s" "0s" "0s" \'\\x00\'}',
        ),
    ],
)
def test_the_same_instruction_matches(text: str, created_by: str) -> None:
    keyword = text.split()[0]
    assert match.compare(keyword, text, 3, 7, created_by) is None


@pytest.mark.parametrize(
    ("text", "created_by", "code"),
    [
        ("ENV A=1", "/bin/sh -c #(nop)  LABEL A=1", "instruction"),
        ("ENV A=1", "RUN /bin/sh -c true # buildkit", "instruction"),
        ("RUN true", '/bin/sh -c #(nop)  CMD ["sh"]', "instruction"),
        ("COPY a /a", "/bin/sh -c cp a /a", "instruction"),
        ("RUN apt-get update", "/bin/sh -c apt-get update && apt-get install -y curl", "arguments"),
        ("RUN make", "RUN /bin/sh -c make all # buildkit", "arguments"),
        ("ENV B=1", "ENV A=1", "arguments"),
        ("ENV A=1", "/bin/sh -c #(nop)  ENV A=2", "arguments"),
        ('LABEL purpose="a b"', "LABEL purpose=a c", "arguments"),
        ("WORKDIR /app", "/bin/sh -c #(nop) WORKDIR /src", "arguments"),
        ("COPY a /a", "COPY a /b # buildkit", "arguments"),
        ('CMD ["cat", "/a"]', 'CMD ["cat" "/b"]', "arguments"),
        ("USER app", "USER root", "arguments"),
        ("EXPOSE 80", "EXPOSE map[8080/tcp:{}]", "arguments"),
    ],
)
def test_another_instruction_or_other_arguments_is_a_mismatch(text: str, created_by: str, code: str) -> None:
    found = match.compare(text.split()[0], text, 3, 7, created_by)
    assert found == Mismatch(code, 3, 7, text, created_by)  # type: ignore[arg-type]
    assert found.severity == ("warning" if code == "arguments" else "error")


def test_threshold() -> None:
    near = Mismatch("arguments", 4, 5, "RUN a", "/bin/sh -c b")
    other = Mismatch("instruction", 6, 7, "ENV A=1", "LABEL A=1")
    assert match.fatal([near], entries=5) is None
    assert match.fatal([near, other], entries=5) == other
    assert match.fatal([Mismatch("missing", 2, None, "RUN a", None)], entries=5) is not None
    most = [Mismatch("arguments", n, n, "RUN a", "b") for n in range(3)]
    assert match.fatal(most, entries=5) == most[0]
    assert match.fatal(most[:2], entries=5) is None
    assert match.fatal(most[:2], entries=3) == most[0]
    assert match.fatal([near], entries=1) is None  # one edited line is a near miss, however small the file
    assert match.describe(other) == (
        "line 6: history entry 7 was written by another instruction: expected 'ENV A=1', found 'LABEL A=1'"
    )


# --------------------------------------------------------------------------- recorded histories


def _image(history: list[dict[str, Any]], diff_ids: list[str]) -> Image:
    entries = tuple(
        HistoryEntry(
            i, h.get("created_by", ""), bool(h.get("empty_layer", False)), 0, comment=h.get("comment", "")
        )
        for i, h in enumerate(history)
    )
    return Image("sha256:x", (), 0, entries, tuple(Layer(i, d, d) for i, d in enumerate(diff_ids)))


def _buildkit_cases() -> list[tuple[str, Dockerfile, Image, str | None, tuple[str, ...]]]:
    out = []
    paths = sorted(FIXTURES.glob("buildkit/*/*.json")) + sorted(FIXTURES.glob("buildx/*/*.json"))
    # The parent of onbuild_image: its ONBUILD triggers run at the child's FROM.
    parent = json.loads((FIXTURES / "buildkit/docker20/onbuild_parent.json").read_text())
    parents = {"lmtest-bk-rec-onbuild-parent": parent["truth"]["onbuild"]}
    assert parents["lmtest-bk-rec-onbuild-parent"]
    for path in paths:
        data = json.loads(path.read_text())
        truth = data.get("truth") or {}
        if "config_history" not in truth:
            continue
        params = data.get("params", {})
        args = json.loads(params.get("buildargs") or "{}")
        if "args" in data:  # buildx argv
            argv = data["args"]
            args = dict(a.split("=", 1) for p, a in zip(argv, argv[1:], strict=False) if p == "--build-arg")
        dockerfile = resolve(parse(data["dockerfile"], build_args=args), "buildkit", "linux/amd64")
        image = _image(truth["config_history"], truth["config_diff_ids"])
        base = dockerfile.stages[0].base
        label = f"{path.parent.parent.name}/{path.parent.name}/{path.stem}"
        out.append((label, dockerfile, image, params.get("target"), tuple(parents.get(base, ()))))
    return out


BUILDKIT = _buildkit_cases()


def test_every_recorded_buildkit_history_is_there() -> None:
    assert len(BUILDKIT) >= 10


@pytest.mark.parametrize("case", BUILDKIT, ids=[c[0] for c in BUILDKIT])
def test_right_file_no_mismatch_buildkit(
    case: tuple[str, Dockerfile, Image, str | None, tuple[str, ...]],
) -> None:
    _, dockerfile, image, target, triggers = case
    result = align_history(dockerfile, target, image, builder="buildkit", base=None, root_triggers=triggers)
    assert result.mismatches == []
    # Every entry the Dockerfile makes (the parent's triggers included) was checked.
    makes = sum(1 for s in result.steps if s.history is not None and s.in_final_image)
    assert result.planned == makes


@pytest.mark.parametrize("name", golden.names())
def test_right_file_no_mismatch_classic(name: str) -> None:
    report = golden.load(name)
    assert report.image is not None and report.dockerfile_path is not None
    target = "middle" if "target-middle" in name else None
    dockerfile = parse((ROOT / report.dockerfile_path).read_text())
    result = align_history(dockerfile, target, report.image, builder="classic", base=report.base)
    assert result.mismatches == []
    assert result.planned > 0


def _golden_image(name: str) -> Image:
    image = golden.load(name).image
    assert image is not None
    return image


def test_wrong_file_is_past_the_threshold() -> None:
    wrong = parse((ROOT / "sample_dockerfiles/multi-stage/Dockerfile").read_text())
    image = _golden_image("basics")
    result = align_history(wrong, None, image, builder="classic", base=None)
    first = match.fatal(result.mismatches, result.planned)
    assert first is not None and first.code == "instruction"
    assert first == result.mismatches[0]


def test_near_miss_is_one_warning_below_the_threshold() -> None:
    text = (ROOT / "sample_dockerfiles/basics/Dockerfile").read_text()
    assert "WORKDIR /tmp" in text
    edited = parse(text.replace("WORKDIR /tmp", "WORKDIR /var/tmp"))
    report = golden.load("basics")
    result = align_history(edited, None, _golden_image("basics"), builder="classic", base=report.base)
    assert [(m.code, m.found) for m in result.mismatches] == [("arguments", "/bin/sh -c #(nop) WORKDIR /tmp")]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t == "WORKDIR /tmp")
    assert result.mismatches[0].line == line
    assert match.fatal(result.mismatches, result.planned) is None


def test_near_miss_in_a_buildkit_history() -> None:
    case = next(c for c in BUILDKIT if c[0] == "buildkit/docker20/multistage")
    _, dockerfile, image, target, triggers = case
    edited = resolve(
        parse(
            dockerfile.text.replace("LABEL purpose=test", "LABEL purpose=prod"), build_args={"VERSION": "2"}
        ),
        "buildkit",
        "linux/amd64",
    )
    result = align_history(edited, target, image, builder="buildkit", base=None, root_triggers=triggers)
    assert [(m.code, m.found) for m in result.mismatches] == [("arguments", "LABEL purpose=test")]
    assert match.fatal(result.mismatches, result.planned) is None
