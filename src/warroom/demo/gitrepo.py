"""The demo's git repository: twelve days of a small team's history, ending in the bad deploy.

The repository looks like the ACE Engage monorepo (Next.js dashboard + Supabase edge functions and
migrations). Its story, relative to the deploy commit ``D`` (about 12 minutes before the error
spike):

- feature work, fixes, dependency bumps and a production deploy every day or two;
- ``D - 1h41m``: a migration, ``supabase/migrations/<ts>_campaign_send_counters.sql`` (a trigger
  that bumps ``campaigns.sent_count`` on every send, so sends contend on the campaign's row), with
  its rollback script under ``scripts/sql/rollbacks/``;
- ``D - 1h05m``: the edge function change, ``supabase/functions/send-sms/index.ts`` (Twilio sends
  batched 50 at a time, no backoff, a database connection held per send);
- ``D``: ``deploy: production 2026.11.26-2 (...)`` by the CI bot, tagged ``release-2026.11.26-2``;
- ``D + 8m``: a docs commit that was merged but not deployed.

During the demo the generator adds a commit that lands during the P0's deploy freeze (see
:func:`commit_freeze_breach`) and, once the incident is mitigated, the revert of the send-sms change
and a hotfix deploy (:func:`commit_rollback`).

The story is data, like the SQL and the templates: ``repo/history.toml`` (the authors, every
commit, the live commits' words) and the files of ``repo/`` the commits write, read with
:mod:`importlib.resources`. The history is written in one ``git fast-import`` stream with the
author and committer dates in it (the same thing ``GIT_AUTHOR_DATE``/``GIT_COMMITTER_DATE`` do for
``git commit``), so building it takes one process and a few tens of milliseconds; the live commits
use ``git commit`` with those variables. git runs with the user's global and system configuration
ignored (no signing prompts, no hooks) and with a timeout; an asyncio caller's cancellation kills
the git process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from warroom.durations import parse_duration

GIT_TIMEOUT = 30.0
BRANCH = "main"
# "<stamp>" in a path or a file of the story: the commit's time as a migration stamp.
STAMP = "<stamp>"
MIGRATIONS = "supabase/migrations/"
# Commits that do not go in a release's changelog.
_NOT_RELEASED = ("deploy:", "docs", "test", "chore(release)")


class RepoError(Exception):
    """The demo repository could not be built or changed (one line)."""


@dataclass(frozen=True)
class Author:
    name: str
    email: str
    offset_minutes: int  # the author's UTC offset, as git records it

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(minutes=self.offset_minutes))

    def ident(self, at: datetime) -> str:
        sign = "+" if self.offset_minutes >= 0 else "-"
        hours, minutes = divmod(abs(self.offset_minutes), 60)
        return f"{self.name} <{self.email}> {int(at.timestamp())} {sign}{hours:02d}{minutes:02d}"

    def git_date(self, at: datetime) -> str:
        return at.astimezone(self.tz).isoformat(timespec="seconds")


# -- the story (repo/history.toml) ------------------------------------------------------------------


@dataclass(frozen=True)
class StoryCommit:
    """One commit of the history as the story tells it (times relative to the deploy ``D``)."""

    offset: timedelta  # from D: negative before it
    author: str = ""  # a key of the story's authors (a deploy's is the CI bot)
    subject: str = ""
    body: str = ""
    files: Mapping[str, str] | None = None  # path in the repository -> file of repo/
    name: str = ""  # how the code names it ("send-sms", "migration")
    deploy: bool = False
    what: str = ""  # a deploy's summary ("" : how many commits it ships)


@dataclass(frozen=True)
class Story:
    authors: Mapping[str, Author]
    commits: tuple[StoryCommit, ...]
    deploy_author: str
    deploy_functions: tuple[str, ...]
    deploy_body: str  # "<release>" and "<run>" stand for the release and the CI run
    live: Mapping[str, Mapping[str, Any]]  # the live commits' words

    def named(self, name: str) -> StoryCommit:
        return next(c for c in self.commits if c.name == name)

    @property
    def migrations(self) -> int:
        """How many migrations the history adds (the live deploy's manifest counts them)."""
        return sum(1 for c in self.commits for path in (c.files or {}) if path.startswith(MIGRATIONS))


def _data(name: str) -> str:
    """A file of the story (``repo/<name>``), as text."""
    return resources.files("warroom.demo").joinpath("repo", name).read_text(encoding="utf-8")


def _offset(entry: Mapping[str, Any]) -> timedelta:
    if "after" in entry:
        return parse_duration(entry["after"])
    return -parse_duration(entry["before"])


def _utc_offset(text: str) -> int:
    """``-08:00`` as minutes."""
    hours, _, minutes = text[1:].partition(":")
    size = int(hours) * 60 + int(minutes)
    return -size if text.startswith("-") else size


@cache
def story() -> Story:
    """The story of ``repo/history.toml`` (read once)."""
    doc = tomllib.loads(_data("history.toml"))
    authors = {
        key: Author(a["name"], a["email"], _utc_offset(a["utc_offset"])) for key, a in doc["authors"].items()
    }
    commits = tuple(
        StoryCommit(
            offset=_offset(c),
            author=c.get("author", ""),
            subject=c.get("subject", ""),
            body=c.get("body", ""),
            files=c.get("files"),
            name=c.get("name", ""),
            deploy=c.get("kind") == "deploy",
            what=c.get("what", ""),
        )
        for c in doc["commit"]
    )
    deploys = doc["deploys"]
    return Story(
        authors, commits, deploys["author"], tuple(deploys["functions"]), deploys["body"], doc["live"]
    )


# Subjects the rest of the demo (and its tests) refer to.
SEND_SMS_SUBJECT = story().named("send-sms").subject
MIGRATION_SUBJECT = story().named("migration").subject
FREEZE_BREACH_SUBJECT = story().live["freeze_breach"]["subject"]


def release_name(at: datetime, number: int) -> str:
    return f"{at.astimezone(UTC):%Y.%m.%d}-{number}"


def deploy_subject(at: datetime, number: int, what: str) -> str:
    return f"deploy: production {release_name(at, number)} ({what})"


def release_number(subjects: Iterable[str], at: datetime) -> int:
    """The number of the next release of ``at``'s day, after the deploys among ``subjects``."""
    prefix = f"deploy: production {at.astimezone(UTC):%Y.%m.%d}-"
    return 1 + sum(1 for s in subjects if s.startswith(prefix))


def migration_stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def _manifest(release: str, functions: Sequence[str], migrations: int) -> str:
    names = ", ".join(f'"{f}"' for f in functions)
    return (
        "{\n"
        f'  "release": "{release}",\n'
        f'  "functions": [{names}],\n'
        f'  "migrations_applied": {migrations},\n'
        '  "dashboard": "vercel:ace-engage-prod"\n'
        "}\n"
    )


def _changelog(entries: list[tuple[str, list[str]]]) -> str:
    out = ["# Changelog", ""]
    for release, lines in reversed(entries):
        out.append(f"## {release}")
        out.append("")
        out += [f"- {line}" for line in lines]
        out.append("")
    return "\n".join(out)


# -- the history ------------------------------------------------------------------------------------


@dataclass
class _Step:
    at: datetime
    author: Author
    subject: str
    body: str
    files: dict[str, str]  # path -> new content
    tag: str | None = None


class _History:
    """The story's commits as steps, oldest first, the deploys made from what came before them."""

    def __init__(self, told: Story) -> None:
        self.story = told
        self.steps: list[_Step] = []
        self.changelog: list[tuple[str, list[str]]] = []
        self.pending: list[str] = []  # subjects since the last deploy
        self.migrations = 0

    def add(self, commit: StoryCommit, at: datetime) -> None:
        if commit.deploy:
            self._deploy(at, commit.what)
            return
        stamp = migration_stamp(at)
        files = {
            path.replace(STAMP, stamp): _data(name).replace(STAMP, stamp)
            for path, name in (commit.files or {}).items()
        }
        self.migrations += sum(1 for path in files if path.startswith(MIGRATIONS))
        author = self.story.authors[commit.author]
        self.steps.append(_Step(at, author, commit.subject, commit.body, files))
        if not commit.subject.startswith(_NOT_RELEASED):
            self.pending.append(commit.subject)

    def _deploy(self, at: datetime, what: str) -> None:
        number = release_number((s.subject for s in self.steps), at)
        release = release_name(at, number)
        count = len(self.pending)
        self.changelog.append((release, list(self.pending) or ["maintenance"]))
        self.pending.clear()
        files = {
            "deploy/production.json": _manifest(release, self.story.deploy_functions, self.migrations),
            "CHANGELOG.md": _changelog(self.changelog),
        }
        summary = what or f"{count} commit{'s' if count != 1 else ''}"
        run = 400 + len(self.changelog) * 7
        body = self.story.deploy_body.replace("<release>", release).replace("<run>", str(run))
        author = self.story.authors[self.story.deploy_author]
        subject = deploy_subject(at, number, summary)
        self.steps.append(_Step(at, author, subject, body, files, tag=f"release-{release}"))


def _history(deploy_at: datetime) -> list[_Step]:
    """Every commit of the demo history, oldest first."""
    d = deploy_at.astimezone(UTC).replace(microsecond=0)
    history = _History(story())
    for commit in story().commits:
        history.add(commit, d + commit.offset)
    return history.steps


# -- running git ------------------------------------------------------------------------------------


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment git runs in: the user's global/system config ignored, never a prompt."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "LC_ALL": "C",
        }
    )
    if extra:
        env.update(extra)
    return env


_BASE_ARGS = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "core.autocrlf=false",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
)


def _command(repo: Path, args: Sequence[str]) -> list[str]:
    program = shutil.which("git")
    if program is None:
        raise RepoError("git is not installed (the demo repository needs it)")
    return [program, *_BASE_ARGS, "-C", str(repo), *args]


def _failed(args: Sequence[str], returncode: int | None, out: bytes, err: bytes) -> RepoError:
    tail = (err or out).decode("utf-8", "replace").strip().splitlines()[-1:]
    return RepoError(f"git {args[0]} failed: {tail[0] if tail else f'exit status {returncode}'}")


def _git(repo: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    cmd = _command(repo, args)
    try:
        done = subprocess.run(
            cmd,
            input=stdin,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
            env=git_env(env),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise RepoError(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise _failed(args, done.returncode, done.stdout, done.stderr)
    return done.stdout.decode("utf-8", "replace")


def _blob(text: str) -> bytes:
    """fast-import's ``data`` command for ``text``."""
    raw = text.encode("utf-8")
    return b"data %d\n" % len(raw) + raw + b"\n"


def _stream(steps: list[_Step]) -> bytes:
    out = bytearray()
    for mark, s in enumerate(steps, start=1):
        out += f"commit refs/heads/{BRANCH}\nmark :{mark}\n".encode()
        out += f"author {s.author.ident(s.at)}\n".encode()
        out += f"committer {s.author.ident(s.at)}\n".encode()
        out += _blob(s.subject + ("\n\n" + s.body if s.body else "") + "\n")
        if mark > 1:
            out += f"from :{mark - 1}\n".encode()
        for path, content in s.files.items():
            out += f"M 100644 inline {path}\n".encode() + _blob(content)
        out += b"\n"
        if s.tag:
            out += f"tag {s.tag}\nfrom :{mark}\ntagger {s.author.ident(s.at)}\n".encode()
            out += _blob(f"Release {s.tag.removeprefix('release-')}\n")
    out += b"done\n"
    return bytes(out)


def build(path: Path, deploy_at: datetime) -> None:
    """(Re)create the demo repository at ``path`` with its history ending after ``deploy_at``."""
    path = Path(path)
    try:
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
    except OSError as exc:
        raise RepoError(f"cannot create the demo repository in {path}: {exc.strerror or exc}") from None
    try:
        _git(path, "init", "-q", "-b", BRANCH)
        _git(path, "fast-import", "--quiet", "--done", stdin=_stream(_history(deploy_at)))
        _git(path, "checkout", "-q", "-f", BRANCH)
    except RepoError:
        with contextlib.suppress(OSError):
            shutil.rmtree(path)
        raise


def is_valid(path: Path) -> bool:
    """Whether ``path`` holds a demo repository with commits (cheap: reads files, runs nothing)."""
    git_dir = Path(path) / ".git"
    head = git_dir / "HEAD"
    try:
        ref = head.read_text().strip()
    except OSError:
        return False
    if not ref.startswith("ref: "):
        return False
    ref_path = git_dir / ref[5:]
    if ref_path.is_file():
        return True
    try:
        packed = (git_dir / "packed-refs").read_text()
    except OSError:
        return False
    return any(line.endswith(" " + ref[5:]) for line in packed.splitlines())


def head_subjects(path: Path, count: int = 50) -> list[str]:
    """The subjects of the last ``count`` commits, newest first (for tests and checks)."""
    return _git(Path(path), "log", f"-n{count}", "--format=%s").splitlines()


def find_commit(path: Path, subject: str) -> str | None:
    """The full sha of the newest commit with exactly this subject."""
    out = _git(Path(path), "log", "--format=%H%x00%s")
    for line in out.splitlines():
        sha, _, s = line.partition("\x00")
        if s == subject:
            return sha
    return None


# -- live commits (async, for the generator) --------------------------------------------------------


async def _agit(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git without blocking the event loop; cancelling the caller kills git."""
    proc = await asyncio.create_subprocess_exec(
        *_command(repo, args),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=git_env(env),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        raise
    if proc.returncode != 0:
        raise _failed(args, proc.returncode, out, err)
    return out.decode("utf-8", "replace")


def _dates(author: Author, at: datetime) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_AUTHOR_DATE": author.git_date(at),
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
        "GIT_COMMITTER_DATE": author.git_date(at),
    }


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


async def _commit(
    repo: Path, author: Author, at: datetime, subject: str, body: str, files: Mapping[str, str]
) -> None:
    """Write ``files`` (path -> text) and commit them as ``author`` at ``at``."""
    for path, text in files.items():
        await asyncio.to_thread(_write, Path(repo) / path, text)
    await _agit(repo, "add", "--", *files)
    await _agit(repo, "commit", "-q", "--no-verify", "-m", subject, "-m", body, env=_dates(author, at))


async def commit_freeze_breach(repo: Path, at: datetime) -> str:
    """A feature merged while the P0's deploy freeze holds (the commits pane flags it). Returns its sha."""
    told = story()
    words = told.live["freeze_breach"]
    files = {path: _data(name) for path, name in words["files"].items()}
    await _commit(repo, told.authors[words["author"]], at, words["subject"], words["body"], files)
    return (await _agit(repo, "rev-parse", "HEAD")).strip()


async def commit_rollback(repo: Path, at: datetime) -> list[str]:
    """The mitigation as it lands in git: revert the send-sms batching, then a hotfix deploy."""
    told = story()
    words = told.live["rollback"]
    target = await asyncio.to_thread(find_commit, repo, told.named(words["reverts"]).subject)
    if target is None:
        raise RepoError("the send-sms batching commit is not in the demo repository")
    reverter = told.authors[words["author"]]
    await _agit(repo, "revert", "--no-edit", target, env=_dates(reverter, at - timedelta(seconds=50)))
    number = release_number(await asyncio.to_thread(head_subjects, repo, 60), at)
    release = release_name(at, number)
    manifest = _manifest(release, told.deploy_functions, told.migrations)
    ci = told.authors[told.deploy_author]
    subject = deploy_subject(at, number, words["what"])
    body = words["body"].replace("<release>", release)
    await _commit(repo, ci, at, subject, body, {"deploy/production.json": manifest})
    await _agit(repo, "tag", "-a", f"release-{release}", "-m", f"Release {release}", env=_dates(ci, at))
    return [
        (await _agit(repo, "rev-parse", "HEAD~1")).strip(),
        (await _agit(repo, "rev-parse", "HEAD")).strip(),
    ]
