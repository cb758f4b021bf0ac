"""What changed recently: the last commits of the team's repository.

:func:`read_commits` is synchronous (the UI runs it in a thread worker) and cheap enough to call
every poll, on any repository, however large or hostile. GitPython finds and opens the repository
(``with git.Repo(path) as repo:``: a ``Repo`` that lives for hours leaks ``git cat-file``
processes and file handles); git itself runs as a plain subprocess whose output is read as it
streams, a chunk at a time, each field cut to :data:`FIELD_MAX` bytes as it arrives (the rest is
read and dropped), under a :data:`GIT_TIMEOUT` deadline. A poll runs:

1. one ``git log -n <count>`` listing the commits' shas (and their tags, only when tags mark
   deploys): nothing a commit's author wrote, so a 30 MB commit message costs git reading its
   object (nothing at all with a commit-graph) and this process nothing;
2. for commits not seen before only, one ``git log --no-walk`` for their parents, date, author and
   subject, parsed and cleaned once and kept by sha (a commit never changes);
3. for those commits, one ``git log --no-walk --name-only`` listing the paths they changed, and
   when they touched folders under ``supabase/functions/``, one ``git cat-file --batch-check``
   telling which of those folders hold a function's entrypoint at that commit; kept by sha too.

So a known commit is never parsed again, a 100k-commit repository costs what a small one does, and a
commit touching 100k files or carrying a 30 MB message costs that once, not every poll, and never
its size in memory (see ``bench/git_poll.py``).

Every problem (no repository configured, a path that is not a repository, no commits yet, git not
installed, git refusing the repository, ...) is a :class:`GitProblem` with a
one-line message; nothing raises.

What the marks mean:

- **recent**: committed within ``settings.recent`` (2 h, the playbook's ``--since="2 hours ago"``)
  of ``now``; commits dated in the future count as recent.
- **deploy**: the subject matches ``settings.deploy_pattern`` (a Python regular expression,
  case-insensitive; the playbook's ``git log --grep="deploy"``, applied to the subject line), or,
  when ``settings.deploy_tags``, a tag points at the commit. With ``deploy_tags = false`` git is
  not asked for tags at all (listing 5,000 tags costs every poll) and ``Commit.tags`` is empty.
- **migration**: a path the commit touched matches one of ``settings.migration_globs``
  (``**`` spans folders, ``*`` and ``?`` stay within one folder). Renames count as a deletion
  plus an addition, so a migration moved away is still seen.
- **functions**: Supabase edge functions touched. A *function* is a folder
  ``supabase/functions/<name>/`` whose name is a function name (a letter, then letters, digits,
  ``-`` and ``_``) and which holds an entrypoint (:data:`FUNCTION_ENTRYPOINTS`: ``index.ts``, or
  ``index.js``, ``.tsx``, ``.jsx``, ``.mjs``) in the commit's tree, the way ``supabase functions
  deploy`` finds functions. Any other folder there is shared code (``_shared/``, ``shared/``,
  ``utils/``, a function deleted by the commit, one whose ``config.toml`` names another
  entrypoint file): touching it sets ``touches_shared_functions``, and the rollback redeploys every
  function, which is never wrong. Files directly in ``supabase/functions/`` (``import_map.json``)
  are neither.
- **freeze breach**: committed inside one of the deploy-freeze intervals the UI passes in
  (``Incident.freeze_intervals()``; an interval ending in ``None`` is still going).

The repository is named to git explicitly (``--git-dir``) and the caller's ``GIT_DIR``,
``GIT_OBJECT_DIRECTORY``, ``GIT_CONFIG_PARAMETERS``... are neutralised, so the environment cannot
point the pane at another repository; the user's git configuration is read (for its
``safe.directory`` and the like) but every setting that changes ``git log``'s output is overridden.
git's ownership check (``safe.directory``) guards repository *discovery*, so a checkout owned by
another user (a deploy user's) is read too: the only commands run are ``git log`` and ``git
cat-file --batch-check``, which execute nothing from the repository's configuration (no pager,
external diff, textconv, filter or signature check).

All times are the *committer* dates (when the commit landed on the branch, which is what a deploy
freeze is about), as aware UTC datetimes. A merge commit's paths are its changes against the first
parent (what the merge brought in). In a shallow clone the boundary commits have no known parent
and no known paths (``paths_known`` is False), and are read afresh each poll (a fetch may deepen
them).
"""

from __future__ import annotations

import codecs
import os
import re
import selectors
import shlex
import subprocess
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Generic, Literal, Protocol, TypeVar

from warroom.durations import utc
from warroom.settings import GitSettings
from warroom.text import clean, first_line

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
# What is kept of any one field git prints (a subject, a name, a path, the parents, the tags): the
# rest is read from the pipe and dropped, never held (a commit message can be 30 MB).
FIELD_MAX = 4096
# Tags kept per commit, and folders under supabase/functions/ looked at per commit (beyond that,
# the commit counts as touching shared code: the rollback redeploys every function).
TAGS_MAX = 16
FOLDERS_MAX = 32
# What makes a folder under supabase/functions/ a function: one of these files in it.
FUNCTION_ENTRYPOINTS = ("index.ts", "index.js", "index.tsx", "index.jsx", "index.mjs")
# git's error output kept (a broken repository can make git warn at length).
STDERR_MAX = 64 * 1024
_CHUNK = 64 * 1024
# Commits known by sha: a poll parses only the commits it has not seen before. The report's
# commits_between asks for up to BETWEEN_LIMIT at once.
_META_CACHE_SIZE = 1024
_CHANGES_CACHE_SIZE = 512

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
    touches_shared_functions: bool = False  # a folder there that is no function (_shared/...)
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
    commit touched; when it touched shared code (a folder under ``supabase/functions/`` that is no
    function, such as ``_shared/``) the deploy names no function, which redeploys all of them.
    None also when the previous commit is unknown (a root commit, a shallow boundary). Names are
    shell-quoted: paths come from the repository.
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
    with replacement characters (git prints such messages byte for byte). A field cut to
    :data:`FIELD_MAX` bytes may end inside a character: that partial character is left out."""
    try:
        return _UTF8(errors="strict").decode(raw, final=len(raw) < FIELD_MAX)
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


_UTF8 = codecs.getincrementaldecoder("utf-8")


def _path_text(path: str) -> str:
    return clean(path, max_len=300)


def _when(ctime: int) -> datetime:
    """A committer timestamp as an aware UTC datetime; an absurd one (a hand-made commit dated in
    the year 50,000) is clamped so that no date arithmetic or time zone conversion can overflow."""
    return datetime.fromtimestamp(min(max(ctime, 0), _LAST_TIMESTAMP), tz=UTC)


_LAST_TIMESTAMP = int(datetime(9000, 1, 1, tzinfo=UTC).timestamp())


# -- reading git's output as it streams -------------------------------------------------------------


class _Consumer(Protocol):
    def start(self) -> None: ...

    def field(self, data: bytes) -> None: ...


class _Fields:
    """git's ``-z`` output, fed to a consumer as it streams: NUL-separated fields, a record
    starting at each field equal to the marker (made fresh for every call, so no subject or path can
    fake one). Each field is cut to :data:`FIELD_MAX` bytes as it arrives and the rest dropped, so a
    30 MB subject costs one pass over the pipe, never 30 MB of memory."""

    def __init__(self, marker: bytes, consumer: _Consumer) -> None:
        self.marker = marker
        self.consumer = consumer
        self.partial = bytearray()
        self.in_record = False

    def feed(self, chunk: bytes) -> None:
        *done, rest = chunk.split(b"\0")
        for piece in done:
            self._take(piece)
            self._end_field()
        self._take(rest)

    def close(self) -> None:
        if self.in_record:
            self._end_field()

    def _take(self, piece: bytes) -> None:
        room = FIELD_MAX - len(self.partial)
        if room > 0 and piece:
            self.partial += piece[:room]

    def _end_field(self) -> None:
        data = bytes(self.partial)
        self.partial.clear()
        if data == self.marker:
            self.in_record = True
            self.consumer.start()
        elif self.in_record:
            self.consumer.field(data)


class _Rows:
    """Records of ``n`` fields each; later fields (git's record separator) are ignored."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: list[list[bytes]] = []

    def start(self) -> None:
        self.rows.append([])

    def field(self, data: bytes) -> None:
        row = self.rows[-1]
        if len(row) < self.n:
            row.append(data)

    def complete(self) -> list[list[bytes]]:
        return [row for row in self.rows if len(row) == self.n]


class _Touched:
    """What one commit changed, gathered path by path as git lists them: every path counts for
    the marks, only the first :data:`PATHS_MAX` are cleaned and kept (a vendoring commit can touch
    100k files), and the folders touched under ``supabase/functions/``."""

    def __init__(self, globs: tuple[str, ...]) -> None:
        self.is_migration_path = _glob_matcher(globs)
        self.total = 0
        self.paths: list[str] = []
        self.migrations: list[str] = []
        self.folders: dict[str, None] = {}  # in the order git lists them
        self.too_many_folders = False

    def add(self, raw: bytes) -> None:
        self.total += 1
        path = raw.decode("utf-8", errors="replace")
        if len(self.paths) < PATHS_MAX:
            self.paths.append(_path_text(path))
        if len(self.migrations) < PATHS_MAX and self.is_migration_path(path):
            self.migrations.append(_path_text(path))
        if path.startswith(_FUNCTIONS_PREFIX):
            name, sep, _rest = path[len(_FUNCTIONS_PREFIX) :].partition("/")
            if not sep or not name or name in self.folders:
                return  # a file directly in supabase/functions/ (import_map.json...) is neither
            if len(self.folders) < FOLDERS_MAX:
                self.folders[name] = None
            else:
                self.too_many_folders = True

    def candidates(self) -> list[str]:
        """Folders that may be functions (their name is one): the commit's tree says."""
        return [name for name in self.folders if _FUNCTION_NAME.fullmatch(name)]

    def finish(self, functions: set[str]) -> _Changes:
        """The changes, given which of the touched folders hold an entrypoint at the commit."""
        names = tuple(name for name in self.folders if name in functions)
        return _Changes(
            known=True,
            paths=tuple(self.paths),
            total=self.total,
            migration_paths=tuple(self.migrations),
            functions=names,
            shared_functions=self.too_many_folders or len(names) < len(self.folders),
        )


class _PathsByCommit:
    """``git log -z --name-only --format=<marker>%H`` output as {sha: what it touched}."""

    def __init__(self, globs: tuple[str, ...]) -> None:
        self.globs = globs
        self.found: dict[str, _Touched] = {}
        self.current: _Touched | None = None
        self.first_path = False

    def start(self) -> None:
        self.current = None

    def field(self, data: bytes) -> None:
        if self.current is None:
            self.current = self.found[data.decode("ascii", "replace")] = _Touched(self.globs)
            self.first_path = True
            return
        if self.first_path:  # after the sha's NUL: "\n", then NUL-terminated paths
            data = data.removeprefix(b"\n")
            self.first_path = False
        if data:
            self.current.add(data)


class _Bytes:
    """Output kept up to ``limit`` bytes (the rest is read and dropped)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]


def _pump(
    proc: subprocess.Popen[bytes], sink: Callable[[bytes], None], deadline: float
) -> tuple[bytes, bool]:
    """Feed git's stdout to ``sink`` chunk by chunk and keep its stderr (up to STDERR_MAX bytes),
    both read as they come so git never blocks on a full pipe; True when the deadline came first."""
    err = bytearray()
    assert proc.stdout is not None and proc.stderr is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, sink)
        sel.register(proc.stderr, selectors.EVENT_READ, None)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(err), True
            for key, _events in sel.select(left):
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.data is not None:
                    key.data(chunk)
                elif len(err) < STDERR_MAX:
                    err += chunk[: STDERR_MAX - len(err)]
    return bytes(err), False


# -- caches -------------------------------------------------------------------------------------------


_K = TypeVar("_K")
_V = TypeVar("_V")


class _LRU(Generic[_K, _V]):
    """A small thread-safe least-recently-used map (the UI polls from thread workers)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[_K, _V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self.lock:
            got = self.data.get(key)
            if got is not None:
                self.data.move_to_end(key)
            return got

    def put(self, key: _K, value: _V) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def forget(self, keep: Callable[[_K], bool]) -> None:
        with self.lock:
            for key in [k for k in self.data if not keep(k)]:
                del self.data[key]


@dataclass(frozen=True)
class _Head:
    """One commit as the walk lists it every poll: only what can change for a given sha."""

    sha: str
    short: str  # git lengthens abbreviations as the repository grows
    decorations: str  # "tag: v1.2, tag: deploy-7"; empty unless deploy_tags


@dataclass(frozen=True)
class _Meta:
    """What a commit says about itself, parsed and cleaned once (a commit never changes)."""

    parents: tuple[str, ...]
    ctime: int
    author: str
    email: str
    subject: str


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

# Keyed by (object store, sha) and (object store, sha, migration globs).
_metas: _LRU[tuple[str, str], _Meta] = _LRU(_META_CACHE_SIZE)
_changes: _LRU[tuple[str, str, tuple[str, ...]], _Changes] = _LRU(_CHANGES_CACHE_SIZE)


def _forget(store: str) -> None:
    """Drop everything known about the repository whose object store is ``store`` (the next
    poll of it is a first poll: for benchmarks and tests)."""
    _metas.forget(lambda key: key[0] != store)
    _changes.forget(lambda key: key[0] != store)


# -- running git --------------------------------------------------------------------------------------


def _git_env(common_dir: Path) -> dict[str, str]:
    """Environment for git: the caller's, except that it must not point git elsewhere.

    Variables that would make git read another object store, another namespace or extra
    configuration are set to harmless values; the repository and work tree are named on the
    command line. Messages in the C locale (the problems are recognised by git's wording).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    env.update(
        {
            "LANGUAGE": "C",
            "LC_ALL": "C",
            "GIT_OBJECT_DIRECTORY": str(common_dir / "objects"),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": "",
            "GIT_COMMON_DIR": str(common_dir),
            "GIT_NAMESPACE": "",
            "GIT_CONFIG_PARAMETERS": "",
            "GIT_CONFIG_COUNT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_TERMINAL_PROMPT": "0",
        }
    )
    return env


def _marker(prefix: str) -> bytes:
    return prefix.encode() + uuid.uuid4().hex.encode()


class _Git:
    """Runs git in one opened repository (inside ``with git.Repo(...)``), its output read as it
    streams and cut to bounds (see :class:`_Fields`)."""

    def __init__(self, gitmod: Any, repo: Any, globs: tuple[str, ...]) -> None:
        self.exc = gitmod.exc
        self.globs = globs
        self.git = [
            gitmod.Git.GIT_PYTHON_GIT_EXECUTABLE or "git",
            f"--git-dir={repo.git_dir}",
            *([f"--work-tree={repo.working_tree_dir}"] if repo.working_tree_dir else []),
        ]
        self.log_cmd = [
            *self.git,
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
            "--no-decorate",  # tags are asked for, in the walk only, when they mark deploys
        ]
        self.env = _git_env(Path(repo.common_dir))
        self.cwd = str(repo.working_tree_dir or repo.git_dir)

    def run(self, cmd: Sequence[str], sink: Callable[[bytes], None], stdin: IO[bytes] | None = None) -> None:
        """Run ``cmd``, its output fed to ``sink``; raise GitPython's errors as GitPython would."""
        try:
            proc = subprocess.Popen(
                list(cmd),
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.env,
                cwd=self.cwd,
            )
        except FileNotFoundError as exc:
            if exc.filename != cmd[0]:
                raise  # the repository's folder went away after it was opened: not a missing git
            raise self.exc.GitCommandNotFound(list(cmd), exc) from exc
        try:
            err, timed_out = _pump(proc, sink, time.monotonic() + GIT_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        if timed_out:
            raise self.exc.GitCommandError(list(cmd), -9, f"did not complete in {GIT_TIMEOUT:g} s")
        if proc.returncode != 0:
            raise self.exc.GitCommandError(list(cmd), proc.returncode, err)

    def log(self, args: Sequence[str], consumer: _Consumer, marker: bytes) -> None:
        fields = _Fields(marker, consumer)
        self.run([*self.log_cmd, *args], fields.feed)
        fields.close()

    def walk(self, count: int, extra: Sequence[str], tags: bool) -> list[_Head]:
        """The last ``count`` commits of HEAD: their shas (and tags), nothing git must read the
        commit's message for when the repository has a commit-graph."""
        marker = _marker("WR")
        fmt = f"--format=%x00{marker.decode()}%x00%H%x00%h" + ("%x00%D" if tags else "")
        decorate = ("--decorate=short", "--decorate-refs=refs/tags/") if tags else ()
        rows = _Rows(3 if tags else 2)
        self.log([f"-n{count}", fmt, *decorate, *extra, "HEAD", "--"], rows, marker)
        heads = []
        for sha, short, *deco in rows.complete():
            text = sha.decode("ascii", "replace")
            if _SHA.fullmatch(text):
                decorations = deco[0].decode("utf-8", "replace") if deco else ""
                heads.append(_Head(text, short.decode("ascii", "replace")[:64], decorations))
        return heads

    def meta(self, shas: Sequence[str]) -> dict[str, _Meta]:
        """Parents, date, author and subject of these commits only (those not seen before)."""
        marker = _marker("WM")
        rows = _Rows(_NFIELDS)
        self.log(
            ["--no-walk=unsorted", f"--format=%x00{marker.decode()}%x00" + _FORMAT, *shas, "--"], rows, marker
        )
        return dict(_parse_meta(row) for row in rows.complete())

    def paths(self, shas: Sequence[str]) -> dict[str, _Touched]:
        """The paths each commit changed (against its first parent), for these commits only."""
        marker = _marker("WP")
        found = _PathsByCommit(self.globs)
        self.log(
            [
                "--no-walk=unsorted",
                f"--format=%x00{marker.decode()}%x00%H",
                "--name-only",
                "--no-renames",
                "--no-ext-diff",
                "--no-textconv",
                "--diff-merges=first-parent",
                *shas,
                "--",
            ],
            found,
            marker,
        )
        return found.found

    def entrypoints(self, wanted: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (commit, folder) pairs hold a function entrypoint in that commit's tree: one
        ``git cat-file --batch-check`` for all of them (folder names are function names: no
        spaces, colons or newlines)."""
        queries = [
            (sha, name, f"{sha}:{_FUNCTIONS_PREFIX}{name}/{entry}")
            for sha, name in wanted
            for entry in FUNCTION_ENTRYPOINTS
        ]
        lines = "".join(f"{q}\n" for _sha, _name, q in queries).encode()
        out = _Bytes(len(lines) + 16 * len(queries))
        with tempfile.TemporaryFile() as stdin:
            stdin.write(lines)
            stdin.seek(0)
            self.run([*self.git, "cat-file", "--batch-check=%(objecttype)", "--buffer"], out.feed, stdin)
        answers = bytes(out.data).split(b"\n")
        return {
            (sha, name)
            for (sha, name, _q), answer in zip(queries, answers, strict=False)
            if answer == b"blob"
        }


# One commit per record, fields separated by NUL: full sha, parents, committer time, declared
# encoding, author name, author email, subject (the fields a commit's author chooses come last).
_FORMAT = "%x00".join(("%H", "%P", "%ct", "%e", "%an", "%ae", "%s"))
_NFIELDS = 7
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _parse_meta(row: list[bytes]) -> tuple[str, _Meta]:
    sha_b, parents_b, ctime_b, enc_b, author, email, subject = row
    sha = sha_b.decode("ascii", "replace")
    # The field may have been cut inside a sha (an octopus merge with hundreds of parents).
    parents = tuple(p for p in parents_b.decode("ascii", "replace").split() if len(p) == len(sha))
    try:
        ctime = int(ctime_b)
    except ValueError:
        ctime = 0
    declared = enc_b.decode("ascii", "replace").strip()[:64]
    return sha, _Meta(
        parents=parents,
        ctime=ctime,
        author=clean(_decode(author, declared), max_len=80),
        email=clean(_decode(email, declared), max_len=120),
        subject=first_line(_decode(subject, declared), max_len=SUBJECT_MAX),
    )


# -- marks ------------------------------------------------------------------------------------------


def _tags(decorations: str) -> tuple[str, ...]:
    # "%D" with --decorate-refs=refs/tags/: "tag: v1.2, tag: deploy-7". Ref names hold no spaces.
    out = []
    for part in decorations.split(", "):
        part = part.strip()
        if part.startswith(_TAG_PREFIX):
            name = part[len(_TAG_PREFIX) :].removeprefix("refs/tags/")
            out.append(clean(name, max_len=80))
            if len(out) == TAGS_MAX:
                break
    return tuple(out)


def _in_freeze(when: datetime, freeze: FreezeIntervals) -> bool:
    for start, end in freeze:
        stop = utc(end) if end is not None else None
        if utc(start) <= when and (stop is None or when < stop):
            return True
    return False


def _build(
    head: _Head,
    meta: _Meta,
    changes: _Changes,
    settings: GitSettings,
    now: datetime,
    freeze: FreezeIntervals,
    parentless_boundary: bool,
) -> Commit:
    committed = _when(meta.ctime)
    tags = _tags(head.decorations) if settings.deploy_tags else ()
    matcher = _deploy_matcher(settings.deploy_pattern)
    deploy_reason = ""
    if matcher is not None and matcher.search(meta.subject):
        deploy_reason = f"subject matches {settings.deploy_pattern!r}"
    elif tags:
        deploy_reason = f"tag {tags[0]}"
    return Commit(
        sha=head.sha,
        short_sha=head.short or head.sha[:7],
        author=meta.author,
        author_email=meta.email,
        committed_at=committed,
        subject=meta.subject,
        parents=() if parentless_boundary else meta.parents,
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


def _is_boundary(sha: str, meta: _Meta, shallow: set[str]) -> bool:
    """A parentless commit in a shallow clone is (or may be) a boundary: its parent and changes
    are unknown (git would list its whole tree as added), and a later fetch may deepen it."""
    return sha in shallow or (bool(shallow) and not meta.parents)


def _read_metas(runner: _Git, store: str, heads: Sequence[_Head], shallow: set[str]) -> dict[str, _Meta]:
    """Each commit's own facts: from the cache, and one ``git log`` for the commits not seen."""
    found: dict[str, _Meta] = {}
    missing = []
    for h in heads:
        got = _metas.get((store, h.sha))
        if got is None:
            missing.append(h.sha)
        else:
            found[h.sha] = got
    if missing:
        for sha, meta in runner.meta(missing).items():
            found[sha] = meta
            if not _is_boundary(sha, meta, shallow):
                _metas.put((store, sha), meta)
    return found


def _read_changes(
    runner: _Git, store: str, shas: Sequence[str], boundaries: set[str]
) -> tuple[dict[str, _Changes], str]:
    """What each commit changed: from the cache, else one ``git log`` listing the paths of the
    commits not seen (and one ``git cat-file`` when they touched edge-function folders). A partial
    failure leaves those commits' changes unknown and says why in one line."""
    globs = runner.globs
    changes: dict[str, _Changes] = {}
    missing = []
    for sha in shas:
        if sha in boundaries:
            changes[sha] = UNKNOWN_CHANGES
        elif (got := _changes.get((store, sha, globs))) is not None:
            changes[sha] = got
        else:
            missing.append(sha)
    if not missing:
        return changes, ""
    notes = []
    try:
        touched = runner.paths(missing)
    except runner.exc.GitCommandError as exc:
        notes.append(f"changed paths unavailable: {_git_error_line(exc)}")
        touched = {}
        # A diff too big to finish in time will not finish next poll either.
        if "did not complete in" in str(getattr(exc, "stderr", "")).lower():
            for sha in missing:
                _changes.put((store, sha, globs), UNKNOWN_CHANGES)
    functions: set[tuple[str, str]] = set()
    wanted = [(sha, name) for sha, t in touched.items() for name in t.candidates()]
    settled = True
    if wanted:
        try:
            functions = runner.entrypoints(wanted)
        except runner.exc.GitCommandError as exc:
            # Not knowing which folders are functions, every one counts as shared code: the
            # rollback redeploys all functions, which is never wrong.
            notes.append(f"edge functions unknown: {_git_error_line(exc)}")
            settled = False
    for sha in missing:
        t = touched.get(sha)
        if t is None:
            changes[sha] = UNKNOWN_CHANGES
            continue
        changes[sha] = t.finish({name for s, name in functions if s == sha})
        if settled:
            _changes.put((store, sha, globs), changes[sha])
    return changes, "; ".join(notes)


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
            store = str(Path(repo.common_dir).resolve())
            runner = _Git(gitmod, repo, tuple(settings.migration_globs))
            heads = runner.walk(count, extra, settings.deploy_tags)
            metas = _read_metas(runner, store, heads, shallow)
            heads = [h for h in heads if h.sha in metas]
            boundaries = {h.sha for h in heads if _is_boundary(h.sha, metas[h.sha], shallow)}
            changes, note = _read_changes(runner, store, [h.sha for h in heads], boundaries)
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

    commits = tuple(
        _build(h, metas[h.sha], changes[h.sha], settings, now, freeze, h.sha in shallow) for h in heads
    )
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
