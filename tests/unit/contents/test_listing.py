"""Layer listings (normalised entries, whiteouts resolved) and the secret rules."""

from __future__ import annotations

import pytest
from helpers.contents import MTIME, PEM_KEY, layer_tar

from analyzer.contents import secrets
from analyzer.contents.listing import Entry, LayerListing, SecretHit, build_listing, docker_size, entry_of
from analyzer.contents.tarstream import ChunkFeed, Header, TarReader

PEM_CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def listing(spec: list[tuple[object, ...]]) -> LayerListing:
    reader = TarReader(ChunkFeed([layer_tar(spec)]))
    return build_listing("sha256:x", reader, lambda _e, n: reader.head(n))


def test_entries_are_normalised_and_whiteouts_resolved() -> None:
    got = listing(
        [
            ("d", "./"),
            ("d", "./etc/"),
            ("f", "./etc/x", b"abc"),
            ("l", "bin/sh", "/bin/busybox"),
            ("h", "bin/hard", "./etc/x"),
            ("w", "etc/gone"),
            ("o", "var/cache"),
            ("f", "var/.wh..wh.plnk", b""),  # AUFS bookkeeping: not a file of the image
        ]
    ).entries
    assert got == (
        Entry("/etc", "d", 0, MTIME, ""),
        Entry("/etc/x", "f", 3, MTIME, ""),
        Entry("/bin/sh", "l", 0, MTIME, "/bin/busybox"),
        Entry("/bin/hard", "h", 0, MTIME, "/etc/x"),
        Entry("/etc/gone", "w", 0, MTIME, ""),
        Entry("/var/cache", "o", 0, MTIME, ""),
    )


def test_dotdot_cannot_climb_above_the_root() -> None:
    entry = entry_of(Header("../../etc/passwd", "0", 1, 0, ""))
    assert entry is not None and entry.path == "/etc/passwd"


def test_docker_size_counts_symlink_targets_and_nothing_for_links_and_whiteouts() -> None:
    entries = listing([("f", "a", b"12345"), ("l", "s", "a-target"), ("h", "h", "a"), ("w", "z"), ("d", "d")])
    assert [docker_size(e) for e in entries.entries] == [5, 8, 0, 0, 0]


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/root/.git-credentials", "git credential store"),
        ("/home/u/.aws/credentials", "AWS credentials file"),
        ("/app/.env", "dotenv file"),
        ("/app/.env.production", "dotenv file"),
        (
            "/root/.config/gcloud/application_default_credentials.json",
            "Google application default credentials",
        ),
    ],
)
def test_names_that_are_secrets_by_themselves(path: str, label: str) -> None:
    found = secrets.candidate(path)
    assert found == secrets.Candidate(label, 0)
    assert secrets.confirm(path, found, b"")


@pytest.mark.parametrize(
    "path",
    ["/app/.env.example", "/app/.envrc", "/x/credentials", "/root/.ssh/id_rsa.pub", "/root/.ssh/known_hosts"],
)
def test_names_that_are_not(path: str) -> None:
    assert secrets.candidate(path) is None


@pytest.mark.parametrize(
    ("path", "head", "secret"),
    [
        ("/root/.ssh/id_ed25519", PEM_KEY, True),
        ("/etc/ssl/private/site.key", b"-----BEGIN RSA PRIVATE KEY-----\n", True),
        ("/srv/bundle.pem", b"Bag Attributes\n    localKeyID: 01\n" + PEM_KEY, True),
        ("/srv/cert.pem", PEM_CERT, False),
        ("/root/.ssh/deploy", PEM_KEY, True),
        ("/root/.npmrc", b"registry=https://r.example/\n//r.example/:_authToken=abc\n", True),
        ("/root/.npmrc", b"registry=https://r.example/\n# _authToken=\n", False),
        ("/root/.pypirc", b"[pypi]\nusername = __token__\npassword = pypi-xyz\n", True),
        ("/root/.pypirc", b"[distutils]\nindex-servers = pypi\n", False),
        ("/root/.docker/config.json", b'{"auths": {"r.example": {"auth": "dXNlcjpwYXNz"}}}', True),
        ("/root/.docker/config.json", b'{"auths": {}, "credsStore": "pass"}', False),
    ],
)
def test_names_confirmed_by_their_first_bytes(path: str, head: bytes, secret: bool) -> None:
    found = secrets.candidate(path)
    assert found is not None and found.head_bytes > 0
    assert secrets.confirm(path, found, head) is secret


def test_listing_reads_heads_only_for_candidates_and_keeps_no_content() -> None:
    asked: list[str] = []
    spec = [
        ("f", "root/.ssh/id_rsa", PEM_KEY),
        ("f", "srv/cert.pem", PEM_CERT),
        ("f", "app/.env", b"TOKEN=1"),
        ("f", "app/main.py", b"print()"),
        ("d", "src/.git"),
        ("f", "src/.git/config", b"[core]"),
    ]
    reader = TarReader(ChunkFeed([layer_tar(spec)]))

    def head(entry: Entry, n: int) -> bytes:
        asked.append(entry.path)
        return reader.head(n)

    got = build_listing("sha256:x", reader, head)
    assert asked == ["/root/.ssh/id_rsa", "/srv/cert.pem"]  # .env is decided by its name
    assert got.secrets == (
        SecretHit("/root/.ssh/id_rsa", "private key"),
        SecretHit("/app/.env", "dotenv file"),
        SecretHit("/src/.git", "git repository directory"),
    )
    assert "TOKEN" not in repr(got) and "BEGIN" not in repr(got)
