"""What changed recently: the last commits of the team's repository, read with GitPython.

:func:`read_commits` is synchronous (the UI runs it in a thread worker) and cheap enough to call
every poll: it opens the repository with ``with git.Repo(path) as repo:`` (GitPython leaks
``git cat-file`` processes and file handles when a ``Repo`` lives for hours), runs one
``git log -n <count>`` that prints the commits *and* the paths each one touched, and closes the
repository again. It never walks more history or computes more diffs than the commits it returns,
so a 100k-commit repository costs the same as a small one (see ``bench/git_poll.py``).

Every problem (no repository configured, a path that is not a repository, no commits yet, git not
installed, git refusing a repository owned by someone else, ...) is a :class:`GitProblem` with a
one-line message; nothing raises.

What the marks mean:

- **recent**: committed within ``settings.recent`` (2 h, the playbook's ``--since="2 hours ago"``)
  of ``now``; commits dated in the future count as recent.
- **deploy**: the subject matches ``settings.deploy_pattern`` (a Python regular expression,
  case-insensitive; the playbook's ``git log --grep="deploy"``, applied to the subject line), or,
  when ``settings.deploy_tags``, a tag points at the commit.
- **migration**: a path the commit touched matches one of ``settings.migration_globs``
  (``**`` spans folders, ``*`` and ``?`` stay within one folder). Renames count as a deletion
  plus an addition, so a migration moved away is still seen.
- **functions**: Supabase edge functions touched, from ``supabase/functions/<name>/...``. Folders
  starting with ``_`` (``_shared``) hold code shared by every function; touching them sets
  ``touches_shared_functions``.
- **freeze breach**: committed inside one of the deploy-freeze intervals the UI passes in
  (``Incident.freeze_intervals()``; an interval ending in ``None`` is still going).

The repository is named to git explicitly (``--git-dir``) and the caller's ``GIT_DIR``,
``GIT_OBJECT_DIRECTORY``, ``GIT_CONFIG_PARAMETERS``... are neutralised, so the environment cannot
point the pane at another repository; the user's git configuration is read (for its
``safe.directory`` and the like) but every setting that changes ``git log``'s output is overridden.
git's ownership check (``safe.directory``) guards repository *discovery*, so a checkout owned by
another user (a deploy user's) is read too: the only command run is a ``git log`` that executes
nothing from the repository's configuration (no pager, external diff, textconv or signature check).

All times are the *committer* dates (when the commit landed on the branch, which is what a deploy
freeze is about), as aware UTC datetimes. A merge commit's paths are its changes against the first
parent (what the merge brought in). In a shallow clone the boundary commits have no known parent
and no known paths (``paths_known`` is False).
"""

from __future__ import annotations

import codecs
import re
import shlex
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from warroom.config import GitSettings
from warroom.durations import utc
from warroom.sources.text import clean, first_line

ProblemKind = Literal[
    "unconfigured",  # no [git] repo and no --repo: the pane says so; not an error
    "not_found",  # the path does not exist
    "not_repository",  # the path exists but is not inside a git repository
    "empty",  # a repository with no commits yet: an empty state, not an error
    "git_missing",  # the git program is not installed (or not on PATH)
    "unsafe",  # git refuses the repository as owned by another user (older or future gits)
    "failed",  # anything else git or the file system reported
]

FreezeIntervals = Sequence[tuple[datetime, datetime | None]]

# git log must answer within this (a hung NFS mount, a repository being repacked...).
GIT_TIMEOUT = 10.0
# Subjects are cut to this length (a commit "subject" can be a whole paragraph).
SUBJECT_MAX = 200
# commits_between never returns more than this many commits.
BETWEEN_LIMIT = 500

_FUNCTIONS_PREFIX = "supabase/functions/"
# Supabase function names: a letter, then letters, digits, '-' and '_'.
_FUNCTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_TAG_PREFIX = "tag: "


@dataclass(frozen=True)
class Commit:
    sha: str
    short_sha: str
    author: str
    author_email: str
    committed_at: datetime  # aware UTC (the committer date)
    subject: str  # cleaned, one line
    parents: tuple[str, ...]  # full shas; empty for a root commit or a shallow boundary
    tags: tuple[str, ...] = ()  # cleaned tag names pointing at this commit
    paths: tuple[str, ...] = ()  # cleaned, as git printed them (relative to the top of the repo)
    paths_known: bool = True  # False at a shallow clone's boundary
    is_recent: bool = False
    is_deploy: bool = False
    deploy_reason: str = ""  # "subject matches 'deploy'" or "tag v1.4.2"
    is_migration: bool = False
    migration_paths: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()  # edge functions touched (supabase/functions/<name>/)
    touches_shared_functions: bool = False  # supabase/functions/_shared/ (or another _folder)
    freeze_breach: bool = False

    @property
    def parent(self) -> str | None:
        """The first parent's full sha (the state before this commit), if known."""
        return self.parents[0] if self.parents else None

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    def age(self, now: datetime) -> timedelta:
        """How long ago the commit landed (zero for commits dated in the future)."""
        return max(timedelta(0), utc(now) - self.committed_at)

    @property
    def marks(self) -> tuple[str, ...]:
        """Short words for the pane's mark column: deploy, migration, functions, freeze."""
        out = []
        if self.is_deploy:
            out.append("deploy")
        if self.is_migration:
            out.append("migration")
        if self.functions or self.touches_shared_functions:
            out.append("functions")
        if self.freeze_breach:
            out.append("freeze breach")
        return tuple(out)


@dataclass(frozen=True)
class GitSnapshot:
    repo: Path  # the top of the working tree (or the git dir of a bare repository)
    head: str  # "main", or "detached at a1b2c3d"
    detached: bool
    shallow: bool
    commits: tuple[Commit, ...]  # newest first
    read_at: datetime

    @property
    def deploys(self) -> tuple[Commit, ...]:
        return tuple(c for c in self.commits if c.is_deploy)

    @property
    def latest_deploy(self) -> Commit | None:
        return next((c for c in self.commits if c.is_deploy or c.is_migration), None)

    @property
    def breaches(self) -> tuple[Commit, ...]:
        return tuple(c for c in self.commits if c.freeze_breach)


@dataclass(frozen=True)
class GitProblem:
    kind: ProblemKind
    message: str  # one line for the pane
    repo: Path | None = None
    read_at: datetime | None = None

    @property
    def is_error(self) -> bool:
        """False for the calm states: nothing configured, a repository with no commits yet."""
        return self.kind not in ("unconfigured", "empty")

    def __str__(self) -> str:
        return self.message


# -- helpers for the UI ----------------------------------------------------------------------------


def revert_command(commit: Commit) -> str:
    """The playbook's rollback: ``git revert <sha>`` (``-m 1`` for a merge: keep the mainline)."""
    if commit.is_merge:
        return f"git revert -m 1 {commit.sha}"
    return f"git revert {commit.sha}"


def function_rollback_commands(commit: Commit) -> list[str] | None:
    """The playbook's edge-function rollback for ``commit``, or None when it touched no function.

    ``git checkout <previous sha>`` then ``supabase functions deploy <name>`` for each function the
    commit touched; when it touched shared code (``supabase/functions/_shared/``) the deploy names
    no function, which redeploys all of them. None also when the previous commit is unknown (a
    root commit, a shallow boundary). Names are shell-quoted: paths come from the repository.
    """
    if not (commit.functions or commit.touches_shared_functions) or commit.parent is None:
        return None
    cmds = [f"git checkout {commit.parent}"]
    if commit.touches_shared_functions:
        cmds.append("supabase functions deploy")
    else:
        cmds += [f"supabase functions deploy {shlex.quote(name)}" for name in commit.functions]
    return cmds


# -- globs ------------------------------------------------------------------------------------------


def glob_to_regex(pattern: str) -> str:
    """A path glob as a regular expression: ``**`` spans folders, ``*``/``?`` stay in one folder.

    ``migrations/**`` matches everything under ``migrations/``; ``**/migrations/**`` matches a
    ``migrations`` folder at any depth; ``[abc]`` is a character class.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            j = i + 2
            at_start = i == 0 or pattern[i - 1] == "/"
            if at_start and pattern.startswith("/", j):  # "**/": zero or more folders
                out.append("(?:.*/)?")
                i = j + 1
                continue
            out.append(".*")
            i = j
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            k = i + 1
            if pattern.startswith("!", k):
                k += 1
            if pattern.startswith("]", k):
                k += 1
            j = pattern.find("]", k)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=32)
def _glob_matcher(globs: tuple[str, ...]) -> Callable[[str], bool]:
    if not globs:
        return lambda _path: False
    rx = re.compile("|".join(f"(?:{glob_to_regex(g.strip().lstrip('/'))})" for g in globs), re.DOTALL)
    return lambda path: rx.fullmatch(path) is not None


@lru_cache(maxsize=32)
def _deploy_matcher(pattern: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


# -- decoding ---------------------------------------------------------------------------------------


def _decode(raw: bytes, declared: str) -> str:
    """Text of a commit field: UTF-8, else the encoding the commit header declares, else UTF-8
    with replacement characters (git prints such messages byte for byte)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            codec = codecs.lookup(declared)
        except LookupError:
            codec = None
        if codec is not None:
            try:
                return raw.decode(codec.name)
            except (UnicodeDecodeError, ValueError):
                pass
    return raw.decode("utf-8", errors="replace")


def _path_text(raw: bytes) -> str:
    return clean(raw.decode("utf-8", errors="replace"), max_len=300)


# -- reading ----------------------------------------------------------------------------------------

# One commit per record, fields separated by NUL: full sha, short sha, parents, committer time,
# declared encoding, tag decorations, author name, author email, subject. Each record starts with
# a marker made fresh for every call, so no path or subject can fake one.
_FIELDS = ("%H", "%h", "%P", "%ct", "%e", "%D", "%an", "%ae", "%s")
_NFIELDS = len(_FIELDS)


@dataclass
class _Raw:
    sha: str
    short: str
    parents: tuple[str, ...]
    ctime: int
    encoding: str
    decorations: str
    author: bytes
    email: bytes
    subject: bytes
    paths: list[bytes] = field(default_factory=list)


def _parse_log(out: bytes, marker: bytes) -> list[_Raw]:
    records = out.split(b"\0" + marker + b"\0")
    commits: list[_Raw] = []
    for rec in records[1:]:
        parts = rec.split(b"\0", _NFIELDS)
        if len(parts) < _NFIELDS:
            continue
        sha, short, parents, ctime, enc, deco, author, email = parts[:8]
        if len(parts) == _NFIELDS:
            subject, rest = parts[8], b""
        else:
            subject, rest = parts[8], parts[9]
        # After the subject: optionally "\n" then NUL-terminated paths (git log -z --name-only).
        if rest.startswith(b"\n"):
            rest = rest[1:]
        paths = [p for p in rest.split(b"\0") if p]
        try:
            when = int(ctime)
        except ValueError:
            when = 0
        commits.append(
            _Raw(
                sha.decode("ascii", "replace"),
                short.decode("ascii", "replace"),
                tuple(parents.decode("ascii", "replace").split()),
                when,
                enc.decode("ascii", "replace").strip(),
                deco.decode("utf-8", "replace"),
                author,
                email,
                subject,
                paths,
            )
        )
    return commits


def _tags(decorations: str) -> tuple[str, ...]:
    # "%D" with --decorate-refs=refs/tags/: "tag: v1.2, tag: deploy-7". Ref names hold no spaces.
    out = []
    for part in decorations.split(", "):
        part = part.strip()
        if part.startswith(_TAG_PREFIX):
            name = part[len(_TAG_PREFIX) :].removeprefix("refs/tags/")
            out.append(clean(name, max_len=80))
    return tuple(out)


def _in_freeze(when: datetime, freeze: FreezeIntervals, now: datetime) -> bool:
    for start, end in freeze:
        stop = utc(end) if end is not None else None
        if utc(start) <= when and (stop is None or when < stop):
            return True
    return False


def _build(
    raw: _Raw,
    settings: GitSettings,
    now: datetime,
    freeze: FreezeIntervals,
    shallow: set[str],
    shallow_repo: bool,
) -> Commit:
    subject = first_line(_decode(raw.subject, raw.encoding), max_len=SUBJECT_MAX)
    author = clean(_decode(raw.author, raw.encoding), max_len=80)
    email = clean(_decode(raw.email, raw.encoding), max_len=120)
    committed = datetime.fromtimestamp(raw.ctime, tz=UTC)
    tags = _tags(raw.decorations)
    # A parentless commit in a shallow clone is (or may be) a boundary: its parent and changes
    # are unknown, and git was asked not to list its whole tree.
    boundary = raw.sha in shallow or (shallow_repo and not raw.parents)
    paths = () if boundary else tuple(_path_text(p) for p in raw.paths)
    parents = () if raw.sha in shallow else raw.parents

    matcher = _deploy_matcher(settings.deploy_pattern)
    deploy_reason = ""
    if matcher is not None and matcher.search(subject):
        deploy_reason = f"subject matches {settings.deploy_pattern!r}"
    elif settings.deploy_tags and tags:
        deploy_reason = f"tag {tags[0]}"

    is_migration_path = _glob_matcher(tuple(settings.migration_globs))
    migration_paths = tuple(p for p in paths if is_migration_path(p))
    functions: list[str] = []
    shared = False
    for p in paths:
        if not p.startswith(_FUNCTIONS_PREFIX):
            continue
        name, sep, _rest = p[len(_FUNCTIONS_PREFIX) :].partition("/")
        if not sep or not name:
            continue  # a file directly in supabase/functions/ (import_map.json...)
        if name.startswith("_") or not _FUNCTION_NAME.fullmatch(name):
            shared = shared or name.startswith("_")
            continue
        if name not in functions:
            functions.append(name)

    return Commit(
        sha=raw.sha,
        short_sha=raw.short or raw.sha[:7],
        author=author,
        author_email=email,
        committed_at=committed,
        subject=subject,
        parents=parents,
        tags=tags,
        paths=paths,
        paths_known=not boundary,
        is_recent=committed >= utc(now) - settings.recent,
        is_deploy=bool(deploy_reason),
        deploy_reason=deploy_reason,
        is_migration=bool(migration_paths),
        migration_paths=migration_paths,
        functions=tuple(functions),
        touches_shared_functions=shared,
        freeze_breach=_in_freeze(committed, freeze, now),
    )


def _import_git() -> Any:
    """GitPython, imported on first use: ``import git`` itself fails when git is not installed."""
    import git

    return git


# What git says (in the C locale GitPython sets) when HEAD names a branch with no commits.
_UNBORN = ("does not have any commits yet", "bad revision 'head'", "ambiguous argument 'head'")


def _problem_from_git_error(exc: Exception, path: Path, now: datetime, head: str = "") -> GitProblem:
    stderr = getattr(exc, "stderr", "") or ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    text = clean(stderr, max_len=None, multiline=True)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lower = text.lower()
    if any(m in lower for m in _UNBORN):
        return GitProblem("empty", f"{path}: no commits yet{f' on {head}' if head else ''}", path, now)
    if "dubious ownership" in lower:
        return GitProblem(
            "unsafe",
            f"{path}: git refuses a repository owned by another user "
            f"(run: git config --global --add safe.directory {shlex.quote(str(path))})",
            path,
            now,
        )
    if "did not complete in" in lower:
        return GitProblem("failed", f"{path}: git log did not answer within {GIT_TIMEOUT:g} s", path, now)
    msg = next((ln for ln in lines if ln.lower().startswith(("fatal:", "error:"))), lines[0] if lines else "")
    msg = msg.removeprefix("stderr: ").strip()
    status = getattr(exc, "status", None)
    detail = clean(msg, max_len=200) or f"exit status {status}"
    return GitProblem("failed", f"{path}: git log failed: {detail}", path, now)


def _open(settings: GitSettings, now: datetime) -> tuple[Any, Any] | GitProblem:
    """(git module, path) or the problem that stops us before running git."""
    if settings.repo is None:
        return GitProblem("unconfigured", "no repository configured (--repo PATH or [git] repo)", None, now)
    path = Path(settings.repo).expanduser()
    if not path.exists():
        return GitProblem("not_found", f"{path}: no such folder", path, now)
    if not path.is_dir():
        return GitProblem("not_repository", f"{path}: is a file, not a git repository", path, now)
    try:
        gitmod = _import_git()
    except ImportError:
        return GitProblem("git_missing", "git is not installed (or not on PATH)", path, now)
    return gitmod, path


def _git_env(common_dir: Path) -> dict[str, str]:
    """Environment for git log: the caller's environment must not point git elsewhere.

    GitPython can only add to the inherited environment, so variables that would make git read
    another object store, another namespace or extra configuration are set to harmless values
    (GIT_DIR and GIT_WORK_TREE are overridden on the command line).
    """
    return {
        "GIT_OBJECT_DIRECTORY": str(common_dir / "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": "",
        "GIT_COMMON_DIR": str(common_dir),
        "GIT_NAMESPACE": "",
        "GIT_CONFIG_PARAMETERS": "",
        "GIT_CONFIG_COUNT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_TERMINAL_PROMPT": "0",
    }


def _run_log(
    settings: GitSettings,
    now: datetime,
    freeze: FreezeIntervals,
    extra: Sequence[str],
    count: int,
) -> GitSnapshot | GitProblem:
    opened = _open(settings, now)
    if isinstance(opened, GitProblem):
        return opened
    gitmod, path = opened
    exc_mod = gitmod.exc
    head = ""
    try:
        with gitmod.Repo(path, search_parent_directories=True) as repo:
            top = Path(repo.working_tree_dir or repo.git_dir)
            head, detached = _head(Path(repo.git_dir))
            shallow_file = Path(repo.common_dir) / "shallow"
            shallow: set[str] = set()
            if shallow_file.is_file():
                shallow = set(shallow_file.read_text("ascii", "replace").split())
            marker = b"WR" + uuid.uuid4().hex.encode()
            fmt = "--format=%x00" + marker.decode() + "%x00" + "%x00".join(_FIELDS)
            git_dir = Path(repo.git_dir)
            where = [f"--git-dir={git_dir}"]
            if repo.working_tree_dir:
                where.append(f"--work-tree={repo.working_tree_dir}")
            cmd = [
                gitmod.Git.GIT_PYTHON_GIT_EXECUTABLE or "git",
                *where,
                "-c",
                "log.showSignature=false",
                "-c",
                "i18n.logOutputEncoding=UTF-8",
                "-c",
                f"log.showRoot={'false' if shallow else 'true'}",
                "log",
                f"-n{count}",
                "-z",
                fmt,
                "--name-only",
                "--no-renames",
                "--no-relative",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "--diff-merges=first-parent",
                "--decorate=short",
                "--decorate-refs=refs/tags/",
                *extra,
                "HEAD",
                "--",
            ]
            out = repo.git.execute(
                cmd,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
                kill_after_timeout=GIT_TIMEOUT,
                env=_git_env(Path(repo.common_dir)),
            )
    except exc_mod.NoSuchPathError:
        return GitProblem("not_found", f"{path}: no such folder", path, now)
    except exc_mod.InvalidGitRepositoryError:
        return GitProblem("not_repository", f"{path}: not a git repository", path, now)
    except exc_mod.GitCommandNotFound:
        return GitProblem("git_missing", "git is not installed (or not on PATH)", path, now)
    except exc_mod.GitCommandError as exc:
        return _problem_from_git_error(exc, path, now, head)
    except (OSError, ValueError, exc_mod.GitError) as exc:
        return GitProblem("failed", f"{path}: {clean(exc, max_len=200)}", path, now)

    raws = _parse_log(out, marker)
    commits = tuple(_build(r, settings, now, freeze, shallow, bool(shallow)) for r in raws)
    return GitSnapshot(top, head, detached, bool(shallow), commits, now)


def _head(git_dir: Path) -> tuple[str, bool]:
    """The branch name, or "detached at <sha>": read from the HEAD file (no git process)."""
    try:
        text = (git_dir / "HEAD").read_text("utf-8", "replace").strip()
    except OSError:
        return "HEAD", False
    if text.startswith("ref:"):
        ref = text[4:].strip()
        return clean(ref.removeprefix("refs/heads/"), max_len=80), False
    return f"detached at {clean(text[:7], max_len=7)}", True


def read_commits(
    settings: GitSettings,
    *,
    now: datetime,
    freeze: FreezeIntervals = (),
) -> GitSnapshot | GitProblem:
    """The last ``settings.count`` commits of HEAD, newest first, with their marks.

    Synchronous and self-contained: call it from a thread worker every ``settings.poll_interval``;
    it opens and closes the repository each time and leaves no git process behind.
    """
    now = utc(now)
    return _run_log(settings, now, freeze, (), max(1, settings.count))


def commits_between(
    settings: GitSettings,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    freeze: FreezeIntervals = (),
    limit: int = BETWEEN_LIMIT,
) -> list[Commit] | GitProblem:
    """Commits of HEAD that landed (committer date) in ``[start, end]``, newest first, at most
    ``limit`` (for the post-incident report's "what changed" window)."""
    start, end = utc(start), utc(end)
    now = utc(now) if now is not None else end
    if end < start:
        return []
    # --since stops the walk at the first commit older than the window, so this stays cheap.
    extra = (f"--since=@{int(start.timestamp())}", f"--until=@{int(end.timestamp()) + 1}")
    got = _run_log(settings, now, freeze, extra, max(1, min(limit, BETWEEN_LIMIT)))
    if isinstance(got, GitProblem):
        return got
    return [c for c in got.commits if start <= c.committed_at <= end]
