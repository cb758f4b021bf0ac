"""What changed recently: the last commits of the team's repository, read with GitPython.

:func:`read_commits` is synchronous (the UI runs it in a thread worker) and cheap enough to call
every poll: it opens the repository with ``with git.Repo(path) as repo:`` (GitPython leaks
``git cat-file`` processes and file handles when a ``Repo`` lives for hours), runs one
``git log -n <count>`` for the commits, and a second one listing the paths changed only by commits
it has not seen before (a commit's changes never change, so they are kept in a small in-process
cache), then closes the repository. It never walks more history or diffs more commits than it
returns, so a 100k-commit repository costs the same as a small one, and a commit touching 100k
files costs its diff once, not every poll (see ``bench/git_poll.py``).

Every problem (no repository configured, a path that is not a repository, no commits yet, git not
installed, git refusing the repository, ...) is a :class:`GitProblem` with a
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
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
# Paths kept per commit (the marks are computed over all of them).
PATHS_MAX = 200
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
    paths: tuple[str, ...] = ()  # cleaned, relative to the top of the repo; the first PATHS_MAX
    paths_total: int = 0  # how many paths the commit touched (paths may hold fewer)
    paths_known: bool = True  # False at a shallow boundary, or when git could not list them (note)
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
    note: str = ""  # a partial failure, one line ("changed paths unavailable: ...")

    @property
    def deploys(self) -> tuple[Commit, ...]:
        return tuple(c for c in self.commits if c.is_deploy)

    @property
    def latest_deploy(self) -> Commit | None:
        """The newest commit marked deploy."""
        return next((c for c in self.commits if c.is_deploy), None)

    @property
    def latest_deploy_or_migration(self) -> Commit | None:
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


def _path_text(path: str) -> str:
    return clean(path, max_len=300)


# -- reading ----------------------------------------------------------------------------------------

# One commit per record, fields separated by NUL: full sha, short sha, parents, committer time,
# declared encoding, tag decorations, author name, author email, subject. Each record starts with
# a marker made fresh for every call, so no path or subject can fake one.
_FIELDS = ("%H", "%h", "%P", "%ct", "%e", "%D", "%an", "%ae", "%s")
_NFIELDS = len(_FIELDS)
# What a commit changed depends only on the commit (and the globs): it is computed once per
# commit and kept here, so a poll runs one cheap `git log` and diffs only commits it has not seen.
_PATHS_CACHE_SIZE = 512


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


@dataclass(frozen=True)
class _Changes:
    """What one commit changed, as the marks need it (bounded)."""

    known: bool
    paths: tuple[str, ...] = ()
    total: int = 0
    migration_paths: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    shared_functions: bool = False


UNKNOWN_CHANGES = _Changes(known=False)

_cache: OrderedDict[tuple[str, str, tuple[str, ...]], _Changes] = OrderedDict()
_cache_lock = threading.Lock()


def _cache_get(key: tuple[str, str, tuple[str, ...]]) -> _Changes | None:
    with _cache_lock:
        got = _cache.get(key)
        if got is not None:
            _cache.move_to_end(key)
        return got


def _cache_put(key: tuple[str, str, tuple[str, ...]], value: _Changes) -> None:
    with _cache_lock:
        _cache[key] = value
        _cache.move_to_end(key)
        while len(_cache) > _PATHS_CACHE_SIZE:
            _cache.popitem(last=False)


def _records(out: bytes, marker: bytes) -> list[bytes]:
    return out.split(b"\0" + marker + b"\0")[1:]


def _parse_log(out: bytes, marker: bytes) -> list[_Raw]:
    commits: list[_Raw] = []
    for rec in _records(out, marker):
        parts = rec.split(b"\0", _NFIELDS - 1)
        if len(parts) < _NFIELDS:
            continue
        sha, short, parents, ctime, enc, deco, author, email, subject = parts
        # -z ends each record with a NUL, which the last field keeps.
        subject = subject.removesuffix(b"\0")
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
            )
        )
    return commits


def _parse_paths(out: bytes, marker: bytes) -> dict[str, list[bytes]]:
    """``git log -z --name-only --format=<marker>%H`` output as {sha: [path, ...]}."""
    found: dict[str, list[bytes]] = {}
    for rec in _records(out, marker):
        sha, _, rest = rec.partition(b"\0")
        # After the sha's NUL: optionally "\n" then NUL-terminated paths.
        rest = rest.removeprefix(b"\n")
        found[sha.decode("ascii", "replace")] = [p for p in rest.split(b"\0") if p]
    return found


def _changes(raw_paths: list[bytes], globs: tuple[str, ...]) -> _Changes:
    # Marks look at every path; only the first PATHS_MAX are cleaned and kept (a vendoring commit
    # can touch 100k files).
    names = [p.decode("utf-8", errors="replace") for p in raw_paths]
    is_migration_path = _glob_matcher(globs)
    migrations = [p for p in names if is_migration_path(p)][:PATHS_MAX]
    functions: list[str] = []
    shared = False
    for p in names:
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
    return _Changes(
        known=True,
        paths=tuple(_path_text(p) for p in names[:PATHS_MAX]),
        total=len(names),
        migration_paths=tuple(_path_text(p) for p in migrations),
        functions=tuple(functions),
        shared_functions=shared,
    )


def _tags(decorations: str) -> tuple[str, ...]:
    # "%D" with --decorate-refs=refs/tags/: "tag: v1.2, tag: deploy-7". Ref names hold no spaces.
    out = []
    for part in decorations.split(", "):
        part = part.strip()
        if part.startswith(_TAG_PREFIX):
            name = part[len(_TAG_PREFIX) :].removeprefix("refs/tags/")
            out.append(clean(name, max_len=80))
    return tuple(out)


def _in_freeze(when: datetime, freeze: FreezeIntervals) -> bool:
    for start, end in freeze:
        stop = utc(end) if end is not None else None
        if utc(start) <= when and (stop is None or when < stop):
            return True
    return False


def _build(
    raw: _Raw,
    changes: _Changes,
    settings: GitSettings,
    now: datetime,
    freeze: FreezeIntervals,
    parentless_boundary: bool,
) -> Commit:
    subject = first_line(_decode(raw.subject, raw.encoding), max_len=SUBJECT_MAX)
    author = clean(_decode(raw.author, raw.encoding), max_len=80)
    email = clean(_decode(raw.email, raw.encoding), max_len=120)
    committed = datetime.fromtimestamp(raw.ctime, tz=UTC)
    tags = _tags(raw.decorations)
    matcher = _deploy_matcher(settings.deploy_pattern)
    deploy_reason = ""
    if matcher is not None and matcher.search(subject):
        deploy_reason = f"subject matches {settings.deploy_pattern!r}"
    elif settings.deploy_tags and tags:
        deploy_reason = f"tag {tags[0]}"
    return Commit(
        sha=raw.sha,
        short_sha=raw.short or raw.sha[:7],
        author=author,
        author_email=email,
        committed_at=committed,
        subject=subject,
        parents=() if parentless_boundary else raw.parents,
        tags=tags,
        paths=changes.paths,
        paths_total=changes.total,
        paths_known=changes.known,
        is_recent=committed >= utc(now) - settings.recent,
        is_deploy=bool(deploy_reason),
        deploy_reason=deploy_reason,
        is_migration=bool(changes.migration_paths),
        migration_paths=changes.migration_paths,
        functions=changes.functions,
        touches_shared_functions=changes.shared_functions,
        freeze_breach=_in_freeze(committed, freeze),
    )


def _import_git() -> Any:
    """GitPython, imported on first use: ``import git`` itself fails when git is not installed."""
    import git

    return git


# What git says (in the C locale GitPython sets) when HEAD names a branch with no commits.
_UNBORN = ("does not have any commits yet", "bad revision 'head'", "ambiguous argument 'head'")


def _git_error_line(exc: Exception) -> str:
    stderr = getattr(exc, "stderr", "") or ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    text = clean(stderr, max_len=None, multiline=True)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    msg = next((ln for ln in lines if ln.lower().startswith(("fatal:", "error:"))), lines[0] if lines else "")
    msg = msg.removeprefix("stderr: ").strip()
    if "did not complete in" in text.lower():
        return f"no answer within {GIT_TIMEOUT:g} s"
    return clean(msg, max_len=200) or f"exit status {getattr(exc, 'status', None)}"


def _problem_from_git_error(exc: Exception, path: Path, now: datetime, head: str = "") -> GitProblem:
    stderr = getattr(exc, "stderr", "") or ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    lower = stderr.lower()
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
    return GitProblem("failed", f"{path}: git log failed: {_git_error_line(exc)}", path, now)


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
    found = git_version()
    if found is not None and found < MIN_GIT:
        need = ".".join(map(str, MIN_GIT))
        have = ".".join(map(str, found))
        return GitProblem("git_missing", f"git {need} or newer is needed (this is git {have})", path, now)
    return gitmod, path


MIN_GIT = (2, 31)  # git log --diff-merges (2.31) and --no-relative (2.28)


@lru_cache(maxsize=1)
def git_version() -> tuple[int, ...] | None:
    """The installed git's version, once per process (None when it cannot be told)."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "--version"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


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


class _Git:
    """Runs ``git log`` in one opened repository (inside ``with git.Repo(...)``)."""

    def __init__(self, gitmod: Any, repo: Any) -> None:
        self.repo = repo
        self.base = [
            gitmod.Git.GIT_PYTHON_GIT_EXECUTABLE or "git",
            f"--git-dir={repo.git_dir}",
            *([f"--work-tree={repo.working_tree_dir}"] if repo.working_tree_dir else []),
            "-c",
            "log.showSignature=false",
            "-c",
            "i18n.logOutputEncoding=UTF-8",
            "-c",
            "log.showRoot=true",
            "log",
            "-z",
            "--no-color",
            "--no-relative",
        ]
        self.env = _git_env(Path(repo.common_dir))

    def log(self, *args: str) -> bytes:
        out = self.repo.git.execute(
            [*self.base, *args],
            stdout_as_string=False,
            strip_newline_in_stdout=False,
            kill_after_timeout=GIT_TIMEOUT,
            env=self.env,
        )
        return bytes(out)

    def commits(self, count: int, extra: Sequence[str]) -> list[_Raw]:
        marker = b"WR" + uuid.uuid4().hex.encode()
        fmt = "--format=%x00" + marker.decode() + "%x00" + "%x00".join(_FIELDS)
        out = self.log(
            f"-n{count}", fmt, "--decorate=short", "--decorate-refs=refs/tags/", *extra, "HEAD", "--"
        )
        return _parse_log(out, marker)

    def paths(self, shas: Sequence[str]) -> dict[str, list[bytes]]:
        """The paths each commit changed (against its first parent), for these commits only."""
        marker = b"WP" + uuid.uuid4().hex.encode()
        out = self.log(
            "--no-walk=unsorted",
            f"--format=%x00{marker.decode()}%x00%H",
            "--name-only",
            "--no-renames",
            "--no-ext-diff",
            "--no-textconv",
            "--diff-merges=first-parent",
            *shas,
            "--",
        )
        return _parse_paths(out, marker)


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
    note = ""
    globs = tuple(settings.migration_globs)
    try:
        with gitmod.Repo(path, search_parent_directories=True) as repo:
            top = Path(repo.working_tree_dir or repo.git_dir)
            head, detached = _head(Path(repo.git_dir))
            shallow_file = Path(repo.common_dir) / "shallow"
            shallow: set[str] = set()
            if shallow_file.is_file():
                shallow = set(shallow_file.read_text("ascii", "replace").split())
            runner = _Git(gitmod, repo)
            raws = runner.commits(count, extra)

            # A parentless commit in a shallow clone is (or may be) a boundary: its parent and
            # changes are unknown (git would list its whole tree as added).
            def boundary(r: _Raw) -> bool:
                return r.sha in shallow or (bool(shallow) and not r.parents)

            store = str(Path(repo.common_dir).resolve())
            changes: dict[str, _Changes] = {}
            missing = []
            for r in raws:
                if boundary(r):
                    changes[r.sha] = UNKNOWN_CHANGES
                elif (got := _cache_get((store, r.sha, globs))) is not None:
                    changes[r.sha] = got
                else:
                    missing.append(r.sha)
            if missing:
                try:
                    listed = runner.paths(missing)
                except exc_mod.GitCommandError as exc:
                    note = f"changed paths unavailable: {_git_error_line(exc)}"
                    listed = {}
                    # A diff too big to finish in time will not finish next poll either.
                    timed_out = "did not complete in" in str(getattr(exc, "stderr", "")).lower()
                    if timed_out:
                        for sha in missing:
                            _cache_put((store, sha, globs), UNKNOWN_CHANGES)
                for sha in missing:
                    if sha in listed:
                        changes[sha] = _changes(listed[sha], globs)
                        _cache_put((store, sha, globs), changes[sha])
                    else:
                        changes[sha] = UNKNOWN_CHANGES
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

    commits = tuple(_build(r, changes[r.sha], settings, now, freeze, r.sha in shallow) for r in raws)
    return GitSnapshot(top, head, detached, bool(shallow), commits, now, note)


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
