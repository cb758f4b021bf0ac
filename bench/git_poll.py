"""Benchmark: one poll of the commits pane (``read_commits``) on a 100k-commit repository.

Builds the history with ``git fast-import`` (the same builder as tests/test_git.py) in a temp
dir, then times, side by side and interleaved so machine noise hits them alike:

- ``read_commits``: what the pane does every poll (open the repo, one ``git log`` listing the
  shas, close; each commit's facts and the paths it changed are known from earlier polls);
- ``read_commits, cold``: the first poll (or one after new commits): a second ``git log`` reads
  the unseen commits' authors and subjects, a third lists the paths they changed;
- ``git log`` alone: the warm poll's git command as a bare subprocess (the floor);
- naive GitPython: ``iter_commits(max_count=N)`` plus ``commit.stats`` per commit (a diff per
  commit, objects read through the persistent ``git cat-file``), the obvious way to write it.

Also on a 100-commit repository (the cost does not grow with history), on the 100k history
with 5,000 tags (tags mark deploys, so a poll reads the refs; with ``deploy_tags = false`` it must
not), with one commit that touches 100,000 files, and with two 30 MB commit messages (one valid
UTF-8, one not: git's own truncation cannot cut the latter) among the last ones: time and peak
Python allocation (tracemalloc) of a cold and a warm poll.

Usage: python bench/git_poll.py [--runs 41] [--commits 100000] [--count 10]
Prints a Markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import git  # noqa: E402

from test_git import build_history, commit  # noqa: E402
from warroom.settings import GitSettings  # noqa: E402
from warroom.sources.git import GitSnapshot, read_commits  # noqa: E402
from warroom.sources.git.commits import forget  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def naive(path: Path, count: int) -> None:
    with git.Repo(path) as repo:
        for c in repo.iter_commits("HEAD", max_count=count):
            _ = (c.hexsha, c.summary, c.author.name, c.committed_datetime, list(c.stats.files))


def cold(settings: GitSettings, now: datetime) -> None:
    """A poll that has seen none of the commits (the first poll, or after new commits)."""
    assert settings.repo is not None
    forget(str((settings.repo / ".git").resolve()))
    read_commits(settings, now=now)


def bare_log(path: Path, count: int) -> None:
    """The git command of a warm poll (the walk), as a bare subprocess."""
    subprocess.run(
        [
            "git",
            "log",
            f"-n{count}",
            "-z",
            "--decorate=short",
            "--decorate-refs=refs/tags/",
            "--format=%x00WR%x00%H%x00%h%x00%D",
            "HEAD",
            "--",
        ],
        cwd=path,
        capture_output=True,
        check=True,
    )


HUGE = 30 * 1024 * 1024


def huge_msgs(path: Path) -> None:
    """20 small commits, then a 30 MB one-line message in valid UTF-8 and one in invalid UTF-8."""
    build_history(path, 20, start=START)
    commit(path, b"deploy " + b"x" * HUGE + b"\n\nbody\n", START + timedelta(minutes=30), {"a": "1"})
    tree = git_out(path, "rev-parse", "HEAD^{tree}")
    parent = git_out(path, "rev-parse", "HEAD")
    stamp = str(int((START + timedelta(minutes=31)).timestamp())).encode()
    who = b"Bot <bot@example.com> " + stamp + b" +0000\n"
    body = b"tree %s\nparent %s\nauthor %scommitter %s\n" % (tree.encode(), parent.encode(), who, who)
    body += b"deploy \xff" + b"y\xfe" * (HUGE // 2) + b"\n"
    sha = (
        subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"],
            cwd=path,
            input=body,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    subprocess.run(["git", "update-ref", "HEAD", sha], cwd=path, check=True)


def git_out(path: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True).stdout.strip()


def peak_mb(fn: Callable[[], object]) -> float:
    """Peak Python allocation while ``fn`` runs, in MB (tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=41)
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--count", type=int, default=10)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp:
        big = Path(tmp) / "big"
        t = time.perf_counter()
        build_history(big, args.commits, start=START)
        last = START + (args.commits - 1) * timedelta(minutes=1)
        commit(big, "deploy api", last + timedelta(minutes=1), {"supabase/functions/api/index.ts": "x"})
        build_s = time.perf_counter() - t
        small = Path(tmp) / "small"
        build_history(small, 100, start=START)
        # The same history with 5,000 tags (tags are deploy marks: every poll reads the refs).
        tagged = Path(tmp) / "tagged"
        subprocess.run(["git", "clone", "-q", str(big), str(tagged)], check=True)
        shas = subprocess.run(
            ["git", "rev-list", "-n5000", "HEAD"], cwd=tagged, capture_output=True, text=True, check=True
        ).stdout.split()
        refs = "".join(f"create refs/tags/t{i} {sha}\n" for i, sha in enumerate(shas))
        subprocess.run(["git", "update-ref", "--stdin"], cwd=tagged, input=refs, text=True, check=True)
        subprocess.run(["git", "pack-refs", "--all"], cwd=tagged, check=True)

        now = last + timedelta(minutes=5)
        cases: dict[str, Callable[[], object]] = {}
        for name, path in (("100k", big), ("100", small), ("100k, 5,000 tags", tagged)):
            settings = GitSettings(repo=path, count=args.count)
            got = read_commits(settings, now=now)
            assert isinstance(got, GitSnapshot) and len(got.commits) == args.count, got
            cases[f"read_commits ({name})"] = lambda s=settings: read_commits(s, now=now)
            cases[f"read_commits, cold ({name})"] = lambda s=settings: cold(s, now)
            cases[f"git log alone ({name})"] = lambda p=path: bare_log(p, args.count)
            cases[f"naive GitPython ({name})"] = lambda p=path: naive(p, args.count)
        untagged = GitSettings(repo=tagged, count=args.count, deploy_tags=False)
        name = "100k, 5,000 tags"
        cases[f"read_commits, deploy_tags = false ({name})"] = lambda: read_commits(untagged, now=now)
        cases[f"read_commits, cold, deploy_tags = false ({name})"] = lambda: cold(untagged, now)

        for fn in cases.values():  # warm-up: imports, page cache
            fn()
        samples: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(args.runs):
            for k, fn in cases.items():
                samples[k].append(timed(fn))

        # One commit that touches 100,000 files (a vendoring commit) among the last ones.
        wide = Path(tmp) / "wide"
        build_history(wide, 20, start=START)
        blob = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], cwd=wide, input="v\n", capture_output=True, text=True
        ).stdout.strip()
        info = "".join(f"100644 {blob}\tvendor/lib{i:06d}/index.js\n" for i in range(100_000))
        subprocess.run(["git", "update-index", "--add", "--index-info"], cwd=wide, input=info, text=True)
        commit(wide, "Vendor everything", START + timedelta(minutes=30))
        wide_settings = GitSettings(repo=wide, count=args.count)
        wide_runs = max(3, args.runs // 8)
        wide_cold = [timed(lambda: cold(wide_settings, now)) for _ in range(wide_runs)]
        wide_warm = [timed(lambda: read_commits(wide_settings, now=now)) for _ in range(args.runs)]

        huge = Path(tmp) / "huge"
        huge_msgs(huge)
        huge_settings = GitSettings(repo=huge, count=args.count)
        huge_runs = max(3, args.runs // 8)
        huge_cold = [timed(lambda: cold(huge_settings, now)) for _ in range(huge_runs)]
        huge_warm = [timed(lambda: read_commits(huge_settings, now=now)) for _ in range(args.runs)]
        huge_cold_peak = peak_mb(lambda: cold(huge_settings, now))
        huge_warm_peak = peak_mb(lambda: read_commits(huge_settings, now=now))
        got = read_commits(huge_settings, now=now)
        assert isinstance(got, GitSnapshot), got
        huge_subject = max(len(c.subject) for c in got.commits)
        # Without a commit-graph git reads each commit object it walks (60 MB here); with one
        # (git gc writes it) the walk, which asks for nothing a message holds, reads none.
        git_out(huge, "commit-graph", "write", "--reachable")
        huge_graph = [timed(lambda: read_commits(huge_settings, now=now)) for _ in range(args.runs)]

    med = {k: statistics.median(v) for k, v in samples.items()}
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"## git_poll: one commits-pane poll ({datetime.now().strftime('%Y-%m-%d')})\n")
    print(
        f"Machine: {cpu_model()}, {os.cpu_count()} cores (shared, noisy); Python "
        f"{platform.python_version()}; {git_version}; GitPython {git.__version__}; "
        f"{platform.system()} {platform.release()}.\n"
    )
    print(
        f"History built with git fast-import: {args.commits:,} commits in {build_s:.1f} s. "
        f"Last {args.count} commits per poll; {args.runs} runs of each case, interleaved; "
        "times in ms.\n"
    )
    print("| case | median | p10 | p90 | vs read_commits (same repo) |")
    print("|---|---:|---:|---:|---:|")
    for k, v in samples.items():
        repo = k[k.index("(") :]
        base = med[f"read_commits {repo}"]
        q = statistics.quantiles(v, n=10)
        print(f"| {k} | {med[k]:.1f} | {q[0]:.1f} | {q[-1]:.1f} | {med[k] / base:.2f}x |")
    print(
        f"\nA commit touching 100,000 files among the last {args.count}: cold "
        f"{statistics.median(wide_cold):.0f} ms (median of {wide_runs}; git itself diffs the trees), "
        f"then {statistics.median(wide_warm):.1f} ms per poll (median of {args.runs}): what each commit "
        "changed is computed once."
    )
    print(
        f"\nTwo 30 MB commit messages (one valid UTF-8, one not) among the last {args.count}: cold "
        f"{statistics.median(huge_cold):.0f} ms (median of {huge_runs}), peak Python allocation "
        f"{huge_cold_peak:.1f} MB; then {statistics.median(huge_warm):.1f} ms per poll (median of "
        f"{args.runs}), peak {huge_warm_peak:.1f} MB; longest subject kept: {huge_subject} characters. "
        f"With a commit-graph: {statistics.median(huge_graph):.1f} ms per poll."
    )
    print(
        f"\nBudget: one poll under 200 ms on 100k commits; median {med['read_commits (100k)']:.1f} ms "
        f"({med['read_commits (100k)'] / med['read_commits (100)']:.2f}x the 100-commit repository)."
    )


if __name__ == "__main__":
    main()
