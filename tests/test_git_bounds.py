"""The git source costs what a poll needs, not what a hostile repository holds: a 30 MB commit
message (valid UTF-8, then invalid, which git's own truncation would not cut), a 5 MB author name
and email. Sizes are asserted (bytes read from git, peak Python allocation, lengths), never
timings; bench/git_poll.py has the times."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from test_git import NOW, commit, git_calls, init_repo, raw_commit, settings, snapshot, subcommand
from warroom.sources.git import SUBJECT_MAX, read_commits
from warroom.sources.git.commits import forget as forget_store
from warroom.sources.git.output import FIELD_MAX, Fields

__all__ = ["git_calls"]  # the spy fixture, shared with test_git.py

HUGE = 30 * 1024 * 1024
NAME = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def huge_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = init_repo(tmp_path_factory.mktemp("huge") / "r")
    commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    commit(repo, b"deploy " + b"x" * HUGE + b"\n\nbody\n", NOW - timedelta(minutes=30), {"b": "1"})
    raw_commit(repo, b"", b"deploy \xff" + b"y\xfe" * (HUGE // 2) + b"\n", NOW - timedelta(minutes=20))
    who = b"N" * NAME + b" <" + b"e" * NAME + b"@example.com>"
    raw_commit(repo, b"", b"long names\n", NOW - timedelta(minutes=10), author=who)
    return repo


def forget(repo: Path) -> None:
    forget_store(str((repo / ".git").resolve()))


def peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_30mb_message_is_read_once_and_kept_to_bounds(
    huge_repo: Path, tmp_path: Path, git_calls: list[tuple[list[str], int]]
) -> None:
    small = init_repo(tmp_path / "small")
    commit(small, "warm up", NOW, {"a": "1"})
    snapshot(small)  # imports and first-use costs out of the way
    forget(huge_repo)
    git_calls.clear()

    # The first poll reads each message once (git prints it whole), a chunk at a time.
    peak = peak_bytes(lambda: read_commits(settings(huge_repo), now=NOW))
    assert peak < 8 * 1024 * 1024, f"peak Python allocation {peak / 1e6:.1f} MB (was 220 MB)"
    snap = snapshot(huge_repo)
    names, invalid, valid, _init = snap.commits
    for c in (valid, invalid):
        assert c.is_deploy and c.subject.startswith("deploy ") and c.subject.endswith("…")
        assert len(c.subject) == SUBJECT_MAX
    assert valid.subject == "deploy " + "x" * (SUBJECT_MAX - 8) + "…"
    assert names.subject == "long names"
    assert names.author == "N" * 79 + "…" and names.author_email == "e" * 119 + "…"

    # Every later poll: one git process printing a few hundred bytes, whatever the messages hold.
    git_calls.clear()
    peak = peak_bytes(lambda: read_commits(settings(huge_repo), now=NOW))
    assert [subcommand(cmd) for cmd, _ in git_calls] == ["log"]
    assert sum(read for _, read in git_calls) < 1024
    assert peak < 1024 * 1024, f"peak Python allocation {peak / 1e6:.1f} MB"


def test_what_is_kept_of_each_field_is_bounded_as_it_streams() -> None:
    fields: list[bytes] = []

    class Keep:
        def start(self) -> None:
            pass

        def field(self, data: bytes) -> None:
            fields.append(data)

    marker = b"M" * 34
    stream = Fields(marker, Keep())
    chunk = b"z" * 65536
    stream.feed(b"\0" + marker + b"\0")
    for _ in range(HUGE // len(chunk)):
        stream.feed(chunk)
    stream.feed(b"\0tail")
    stream.close()
    assert [len(f) for f in fields] == [FIELD_MAX, 4]
