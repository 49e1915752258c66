"""analyzer.image.transport: image arguments as skopeo/podman users write them, bare paths by content."""

from __future__ import annotations

import bz2
import io
import json
import lzma
from pathlib import Path

import pytest
from helpers.archives import SMALL, TWO, compressed, docker_to_oci, write_dir, write_tar

from analyzer.cli import main
from analyzer.errors import UsageError
from analyzer.image.transport import Location, looks_like_archive, parse, sniff, spool_stdin

# --------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("busybox", Location("engine", "busybox")),
        ("busybox:1.36", Location("engine", "busybox:1.36")),
        ("docker-daemon:busybox:1.36", Location("engine", "busybox:1.36")),
        ("docker://registry.example/a/b:1", Location("registry", "docker://registry.example/a/b:1")),
        ("docker-archive:/no/such.tar", Location("archive", "/no/such.tar")),
        ("docker-archive:/no/such.tar:app:1.0", Location("archive", "/no/such.tar", "app:1.0")),
        ("oci-archive:/no/such.tar:linux/arm64", Location("archive", "/no/such.tar", "linux/arm64")),
        ("oci:/no/layout:v1", Location("layout", "/no/layout", "v1")),
        ("oci:/no/layout", Location("layout", "/no/layout")),
        ("missing.tar.gz", Location("archive", "missing.tar.gz")),  # "no such file", not "no such image"
    ],
)
def test_parse(arg: str, expected: Location) -> None:
    assert parse(arg) == expected


def test_an_existing_path_with_a_colon_is_the_whole_path(tmp_path: Path) -> None:
    odd = tmp_path / "save:v1.tar"
    odd.write_bytes(SMALL.read_bytes())
    assert parse(f"docker-archive:{odd}") == Location("archive", str(odd))
    assert parse(f"docker-archive:{odd}:small") == Location("archive", str(odd), "small")


@pytest.mark.parametrize(
    ("arg", "image", "message"),
    [
        ("docker-archive:", None, "nothing after the transport"),
        ("docker-daemon:busybox", "x", "--image picks an image of an archive"),
        ("docker://r.example/a:1", "x", "--image picks an image of an archive"),
        ("docker-archive:/a.tar:one", "two", "name different images"),
    ],
)
def test_parse_refuses(arg: str, image: str | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(arg, image)


def test_image_flag_is_the_same_as_colon_ref() -> None:
    assert parse("docker-archive:/a.tar", "one") == parse("docker-archive:/a.tar:one")
    assert parse("docker-archive:/a.tar:one", "one").ref == "one"


def test_oci_transport_wants_a_directory() -> None:
    with pytest.raises(UsageError, match="use oci-archive: for a tar file"):
        parse(f"oci:{SMALL}")


# --------------------------------------------------------------------------- content detection


@pytest.mark.parametrize("kind", ["none", "gzip", "zstd", "bz2", "xz"])
def test_a_save_without_a_tar_suffix_is_recognised_by_content(tmp_path: Path, kind: str) -> None:
    packers = {"none": bytes, "bz2": bz2.compress, "xz": lzma.compress}
    plain = SMALL.read_bytes()
    data = packers[kind](plain) if kind in packers else compressed(plain, kind)
    saved = tmp_path / "backup"
    saved.write_bytes(data)
    assert looks_like_archive(saved)
    assert sniff(str(saved)) == "archive"


def test_other_files_and_folders_are_engine_names(tmp_path: Path) -> None:
    text = tmp_path / "notes"
    text.write_text("FROM busybox\n")
    assert sniff(str(text)) == "engine"
    broken = tmp_path / "broken.tar"  # the suffix says archive: the reader then says what is wrong
    broken.write_text("FROM busybox\n")
    assert sniff(str(broken)) == "archive"
    assert sniff(str(tmp_path)) == "engine"
    layout = write_dir(docker_to_oci(compat_manifest=False), tmp_path / "layout")
    assert sniff(str(layout)) == "layout"


# --------------------------------------------------------------------------- stdin


class _Pipe(io.BytesIO):
    def __init__(self, data: bytes, tty: bool = False) -> None:
        super().__init__(data)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_stdin_is_spooled_to_a_file_of_the_same_bytes() -> None:
    name = spool_stdin(_Pipe(SMALL.read_bytes()))
    assert Path(name).read_bytes() == SMALL.read_bytes()


@pytest.mark.parametrize(
    ("pipe", "message"), [(_Pipe(b""), "stdin is empty"), (_Pipe(b"x", True), "terminal")]
)
def test_stdin_refused(pipe: _Pipe, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        spool_stdin(pipe)


# --------------------------------------------------------------------------- through the CLI


def layers_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["layers", *argv, "--format", "json"]) == 0
    out = capsys.readouterr().out
    parsed: dict[str, object] = json.loads(out)
    return parsed


def image_id(view: dict[str, object]) -> object:
    image = view["image"]
    assert isinstance(image, dict)
    return image["id"]


def test_each_image_of_a_two_image_save_by_ref_or_flag(capsys: pytest.CaptureFixture[str]) -> None:
    small = image_id(layers_json(capsys, f"docker-archive:{TWO}:lmtest-archive:small"))
    child = image_id(layers_json(capsys, str(TWO), "--image", "lmtest-archive:child"))
    assert small != child
    assert image_id(layers_json(capsys, str(SMALL))) == small


def test_two_images_without_a_choice_say_how_to_choose(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["layers", str(TWO)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pick one with ARCHIVE:REF, --image REF or --platform OS/ARCH" in err


def test_platform_picks_from_a_multi_platform_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = write_dir(docker_to_oci(platforms=("amd64", "arm64")), tmp_path / "multi")
    amd = image_id(layers_json(capsys, f"oci:{layout}", "--platform", "linux/amd64"))
    arm = image_id(layers_json(capsys, str(layout), "--platform", "linux/arm64"))
    assert amd != arm
    assert main(["layers", str(layout), "--platform", "linux/ppc64le"]) == 2
    assert "no image for platform linux/ppc64le" in capsys.readouterr().err


def test_oci_archive_without_a_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = write_tar(docker_to_oci(), tmp_path / "saved", compress="gzip")
    assert image_id(layers_json(capsys, str(saved))) == image_id(layers_json(capsys, f"oci-archive:{saved}"))


def test_dash_reads_the_archive_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = image_id(layers_json(capsys, str(SMALL)))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(_Pipe(SMALL.read_bytes())))
    assert image_id(layers_json(capsys, "-")) == expected


def test_dash_output_is_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["layers", str(SMALL), "--format", "json", "-o", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["image"]
    assert not (tmp_path / "-").exists()


def test_platform_is_refused_for_an_engine_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    assert main(["layers", "docker-daemon:busybox", "--platform", "linux/amd64"]) == 2
    assert "--platform picks an image of a registry index or an archive" in capsys.readouterr().err
