"""The demo git repository: a believable history ending in the bad deploy, and the live commits."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import psutil
import pytest

from warroom.demo import gitrepo
from warroom.settings import GitSettings

NOW = datetime.now(UTC).replace(microsecond=0)
DEPLOY_AT = NOW - timedelta(minutes=30)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=gitrepo.git_env()
    ).stdout


def log(repo: Path) -> list[dict[str, str]]:
    out = git(repo, "log", "--format=%H%x1f%an%x1f%ae%x1f%cI%x1f%s%x1f%D%x1e", "--decorate-refs=refs/tags/")
    rows = []
    for record in out.split("\x1e"):
        if record.strip():
            sha, name, email, date, subject, refs = record.strip("\n").split("\x1f")
            rows.append(
                {"sha": sha, "name": name, "email": email, "date": date, "subject": subject, "refs": refs}
            )
    return rows


def touched(repo: Path, sha: str) -> list[str]:
    return git(repo, "show", "--format=", "--name-only", sha).split()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "repo"
    gitrepo.build(path, DEPLOY_AT)
    return path


def when(row: dict[str, str]) -> datetime:
    return datetime.fromisoformat(row["date"]).astimezone(UTC)


def test_history_is_believable(repo: Path) -> None:
    commits = log(repo)
    assert 25 <= len(commits) <= 40
    dates = [when(c) for c in commits]
    assert dates == sorted(dates, reverse=True), "newest first, no time travel"
    assert NOW - dates[-1] > timedelta(days=10), "about two weeks of history"
    humans = {c["name"] for c in commits if "[bot]" not in c["name"]}
    assert len(humans) >= 5
    assert all(c["email"].endswith("@users.noreply.github.com") for c in commits)
    deploys = [c for c in commits if "deploy" in c["subject"]]
    assert len(deploys) >= 5 and all(c["refs"].startswith("tag: release-") for c in deploys)
    assert git(repo, "status", "--porcelain") == "", "the working tree matches HEAD"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_the_incident_commits(repo: Path) -> None:
    commits = log(repo)
    head = commits[0]
    assert head["subject"].startswith("docs(runbook)")
    assert when(head) == DEPLOY_AT + timedelta(minutes=8)
    deploy = commits[1]
    assert deploy["subject"].startswith("deploy: production ")
    assert deploy["subject"].endswith("(send-sms batching, campaign send counters)")
    assert when(deploy) == DEPLOY_AT
    assert deploy["name"] == "github-actions[bot]"
    assert touched(repo, deploy["sha"]) == ["CHANGELOG.md", "deploy/production.json"]

    by_subject = {c["subject"]: c for c in commits}
    function = by_subject[gitrepo.SEND_SMS_SUBJECT]
    assert touched(repo, function["sha"]) == ["supabase/functions/send-sms/index.ts"]
    assert timedelta(minutes=30) < DEPLOY_AT - when(function) < timedelta(hours=2)
    migration = by_subject[gitrepo.MIGRATION_SUBJECT]
    paths = touched(repo, migration["sha"])
    assert any(
        p.startswith("supabase/migrations/") and p.endswith("_campaign_send_counters.sql") for p in paths
    )
    assert any(p.startswith("scripts/sql/rollbacks/") for p in paths)
    assert when(migration) < when(function) < DEPLOY_AT
    body = git(repo, "show", f"{function['sha']}:supabase/functions/send-sms/index.ts")
    assert "CONCURRENCY = 50" in body


def test_the_story_is_data_that_ships_with_the_package(repo: Path) -> None:
    """Every file the story's commits write is a file of demo/repo/, and every file there is written."""
    folder = resources.files("warroom.demo").joinpath("repo")
    shipped = {entry.name for entry in folder.iterdir()} - {"history.toml"}
    told = gitrepo.story()
    written = {name for c in told.commits for name in (c.files or {}).values()}
    written |= set(told.live["freeze_breach"]["files"].values())
    assert written == shipped
    readme = git(repo, "show", "HEAD:README.md")
    assert readme == folder.joinpath("README.md").read_text(encoding="utf-8")
    migration = next(
        p
        for p in git(repo, "ls-files", "supabase/migrations").split()
        if p.endswith("_campaign_send_counters.sql")
    )
    name = migration.rsplit("/", 1)[1]
    rollback = git(repo, "show", f"HEAD:scripts/sql/rollbacks/{name}")
    assert rollback.startswith(f"-- Rollback for {name}\n"), "<stamp> stands for the migration's stamp"


def test_the_git_source_marks_the_story(repo: Path) -> None:
    """The commits pane's own reader sees the deploy, the migration and the function change."""
    source = pytest.importorskip("warroom.sources.git")
    snap = source.read_commits(GitSettings(repo=repo, count=10), now=NOW)
    assert not getattr(snap, "is_error", False), snap
    by_subject = {c.subject: c for c in snap.commits}
    deploy = next(c for c in snap.commits if c.subject.startswith("deploy: production"))
    assert deploy.is_deploy and abs(deploy.committed_at - DEPLOY_AT) < timedelta(seconds=1)
    assert snap.latest_deploy == deploy
    assert by_subject[gitrepo.MIGRATION_SUBJECT].is_migration
    change = by_subject[gitrepo.SEND_SMS_SUBJECT]
    assert change.functions == ("send-sms",) and not change.touches_shared_functions
    rollback = source.function_rollback_commands(change)
    assert rollback is not None and rollback[-1] == "supabase functions deploy send-sms"
    assert not by_subject[snap.commits[0].subject].is_deploy  # the docs commit after the deploy


def test_every_edge_function_folder_is_a_function_or_shared_code(repo: Path) -> None:
    """Each function folder holds an index.ts, so `Y` names real functions; _shared/ is shared."""
    from warroom.sources.git import function_rollback_commands, read_commits

    snap = read_commits(GitSettings(repo=repo, count=100), now=NOW)
    assert not getattr(snap, "is_error", False), snap
    real = {"send-sms", "twilio-webhook", "campaign-scheduler"}
    for c in snap.commits:
        folders = {p.split("/")[2] for p in touched(repo, c.sha) if p.startswith("supabase/functions/")}
        assert set(c.functions) == folders - {"_shared"} and set(c.functions) <= real, c.subject
        assert c.touches_shared_functions == ("_shared" in folders), c.subject
        if c.functions and c.parent:
            cmds = function_rollback_commands(c)
            assert cmds is not None and cmds[0] == f"git checkout {c.parent}"
    first = snap.commits[-1]
    assert first.functions == ("twilio-webhook",) and first.touches_shared_functions
    assert sum(1 for c in snap.commits if c.functions) >= 5


def test_build_is_deterministic_and_replaces(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    gitrepo.build(a, DEPLOY_AT)
    gitrepo.build(b, DEPLOY_AT)
    assert git(a, "rev-parse", "HEAD") == git(b, "rev-parse", "HEAD")
    (a / "stray.txt").write_text("x")
    gitrepo.build(a, DEPLOY_AT - timedelta(hours=1))
    assert not (a / "stray.txt").exists()
    assert git(a, "rev-parse", "HEAD") != git(b, "rev-parse", "HEAD")


def test_is_valid(tmp_path: Path, repo: Path) -> None:
    assert gitrepo.is_valid(repo)
    assert not gitrepo.is_valid(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    assert not gitrepo.is_valid(tmp_path / "plain")
    subprocess.run(["git", "init", "-q", str(tmp_path / "empty")], check=True, env=gitrepo.git_env())
    assert not gitrepo.is_valid(tmp_path / "empty")
    packed = tmp_path / "packed"
    gitrepo.build(packed, DEPLOY_AT)
    git(packed, "pack-refs", "--all")
    assert gitrepo.is_valid(packed)


def test_the_users_git_configuration_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitattributes").write_text("* filter=broken\n")
    (home / ".gitconfig").write_text(
        "[commit]\n\tgpgsign = true\n[tag]\n\tgpgsign = true\n[gpg]\n\tprogram = /bin/false\n"
        "[core]\n\thooksPath = /nonexistent\n"
        f"\tattributesFile = {home / '.gitattributes'}\n"
        '[filter "broken"]\n\tclean = false\n\tsmudge = false\n\trequired = true\n'
        "[init]\n\tdefaultBranch = trunk\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    repo = tmp_path / "repo"
    gitrepo.build(repo, DEPLOY_AT)
    asyncio.run(gitrepo.commit_freeze_breach(repo, NOW))
    assert gitrepo.head_subjects(repo, 1) == [gitrepo.FREEZE_BREACH_SUBJECT]


def test_live_commits(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    gitrepo.build(repo, DEPLOY_AT)
    breach_at = NOW + timedelta(minutes=3)
    rollback_at = NOW + timedelta(minutes=9)

    async def live() -> tuple[str, list[str]]:
        return (
            await gitrepo.commit_freeze_breach(repo, breach_at),
            await gitrepo.commit_rollback(repo, rollback_at),
        )

    breach, (revert, deploy) = asyncio.run(live())
    commits = log(repo)
    assert [c["sha"] for c in commits[:3]] == [deploy, revert, breach]
    assert commits[2]["subject"] == gitrepo.FREEZE_BREACH_SUBJECT and when(commits[2]) == breach_at
    assert commits[1]["subject"] == f'Revert "{gitrepo.SEND_SMS_SUBJECT}"'
    assert commits[1]["name"] == "Diego Fernández"
    assert (
        commits[0]["subject"].startswith("deploy: production ") and "revert send-sms" in commits[0]["subject"]
    )
    assert when(commits[0]) == rollback_at and commits[0]["refs"].startswith("tag: release-")
    assert "CONCURRENCY" not in (repo / "supabase/functions/send-sms/index.ts").read_text()
    assert git(repo, "status", "--porcelain") == ""
    left = [p for p in psutil.Process().children(recursive=True) if p.name() == "git"]
    assert not [p for p in left if any(str(repo) in arg for arg in p.cmdline())]


def test_git_missing_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gitrepo.shutil, "which", lambda name: None)
    with pytest.raises(gitrepo.RepoError) as info:
        gitrepo.build(tmp_path / "repo", DEPLOY_AT)
    assert str(info.value) == "git is not installed (the demo repository needs it)"
    assert not (tmp_path / "repo").exists()


def test_rollback_needs_the_batching_commit(tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["git", "init", "-q", "-b", "main", str(other)], check=True, env=gitrepo.git_env())
    env = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.invalid"}
    env.update({"GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.invalid"})
    subprocess.run(
        ["git", "-C", str(other), "commit", "--allow-empty", "-q", "-m", "init"],
        check=True,
        env=gitrepo.git_env(env),
    )
    with pytest.raises(gitrepo.RepoError, match="send-sms batching commit"):
        asyncio.run(gitrepo.commit_rollback(other, NOW))
