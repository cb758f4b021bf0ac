"""Reading the last commits of a repository, every poll, cheaply: only commits not seen before
are parsed.

:func:`read_commits` is synchronous (the UI runs it in a thread worker) and cheap enough to call
every poll, on any repository, however large or hostile. A poll runs
(:class:`~warroom.sources.git.run.Runner`):

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
installed, git refusing the repository, ...) is a :class:`GitProblem` with a one-line message;
nothing raises.

A merge commit's paths are its changes against the first parent (what the merge brought in). In a
shallow clone the boundary commits have no known parent and no known paths (``paths_known`` is
False), and are read afresh each poll (a fetch may deepen them).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from warroom.durations import utc
from warroom.settings import GitSettings
from warroom.sources.git import run
from warroom.sources.git.commits import UNKNOWN_CHANGES, Changes, Head, Meta, changes, metas
from warroom.sources.git.marks import Commit, FreezeIntervals, marked_commit
from warroom.sources.git.run import MIN_GIT, Runner, git_version, import_git, timed_out
from warroom.text import clean

ProblemKind = Literal[
    "unconfigured",  # no [git] repo and no --repo: the pane says so; not an error
    "not_found",  # the path does not exist
    "not_repository",  # the path exists but is not inside a git repository
    "empty",  # a repository with no commits yet: an empty state, not an error
    "git_missing",  # the git program is not installed (or not on PATH)
    "unsafe",  # git refuses the repository as owned by another user (older or future gits)
    "failed",  # anything else git or the file system reported
]

# commits_between never returns more than this many commits.
BETWEEN_LIMIT = 500

# What git says (in the C locale) when HEAD names a branch with no commits.
_UNBORN = ("does not have any commits yet", "bad revision 'head'", "ambiguous argument 'head'")


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


# -- problems ---------------------------------------------------------------------------------------


def _stderr(exc: Exception) -> str:
    stderr = getattr(exc, "stderr", "") or ""
    return stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr


def _git_error_line(exc: Exception) -> str:
    if timed_out(exc):
        return f"no answer within {run.GIT_TIMEOUT:g} s"
    text = clean(_stderr(exc), max_len=None, multiline=True)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    msg = next((ln for ln in lines if ln.lower().startswith(("fatal:", "error:"))), lines[0] if lines else "")
    msg = msg.removeprefix("stderr: ").strip()
    return clean(msg, max_len=200) or f"exit status {getattr(exc, 'status', None)}"


def _problem_from_git_error(exc: Exception, path: Path, now: datetime, head: str = "") -> GitProblem:
    lower = _stderr(exc).lower()
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


def _open(settings: GitSettings, now: datetime) -> tuple[Any, Path] | GitProblem:
    """(git module, path) or the problem that stops us before running git."""
    if settings.repo is None:
        return GitProblem("unconfigured", "no repository configured (--repo PATH or [git] repo)", None, now)
    path = Path(settings.repo).expanduser()
    if not path.exists():
        return GitProblem("not_found", f"{path}: no such folder", path, now)
    if not path.is_dir():
        return GitProblem("not_repository", f"{path}: is a file, not a git repository", path, now)
    try:
        gitmod = import_git()
    except ImportError:
        return GitProblem("git_missing", "git is not installed (or not on PATH)", path, now)
    found = git_version()
    if found is not None and found < MIN_GIT:
        need = ".".join(map(str, MIN_GIT))
        have = ".".join(map(str, found))
        return GitProblem("git_missing", f"git {need} or newer is needed (this is git {have})", path, now)
    return gitmod, path


# -- what is known by sha, and what is not yet ------------------------------------------------------


def _is_boundary(sha: str, meta: Meta, shallow: set[str]) -> bool:
    """A parentless commit in a shallow clone is (or may be) a boundary: its parent and changes
    are unknown (git would list its whole tree as added), and a later fetch may deepen it."""
    return sha in shallow or (bool(shallow) and not meta.parents)


def _read_metas(runner: Runner, store: str, heads: Sequence[Head], shallow: set[str]) -> dict[str, Meta]:
    """Each commit's own facts: from the cache, and one ``git log`` for the commits not seen."""
    found: dict[str, Meta] = {}
    missing = []
    for h in heads:
        got = metas.get((store, h.sha))
        if got is None:
            missing.append(h.sha)
        else:
            found[h.sha] = got
    if missing:
        for sha, meta in runner.meta(missing).items():
            found[sha] = meta
            if not _is_boundary(sha, meta, shallow):
                metas.put((store, sha), meta)
    return found


def _read_changes(
    runner: Runner, store: str, shas: Sequence[str], boundaries: set[str]
) -> tuple[dict[str, Changes], str]:
    """What each commit changed: from the cache, else one ``git log`` listing the paths of the
    commits not seen (and one ``git cat-file`` when they touched edge-function folders). A partial
    failure leaves those commits' changes unknown and says why in one line."""
    globs = runner.globs
    found: dict[str, Changes] = {}
    missing = []
    for sha in shas:
        if sha in boundaries:
            found[sha] = UNKNOWN_CHANGES
        elif (got := changes.get((store, sha, globs))) is not None:
            found[sha] = got
        else:
            missing.append(sha)
    if not missing:
        return found, ""
    notes = []
    try:
        touched = runner.paths(missing)
    except runner.exc.GitCommandError as exc:
        notes.append(f"changed paths unavailable: {_git_error_line(exc)}")
        touched = {}
        if timed_out(exc):  # a diff too big to finish in time will not finish next poll either
            for sha in missing:
                changes.put((store, sha, globs), UNKNOWN_CHANGES)
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
            found[sha] = UNKNOWN_CHANGES
            continue
        found[sha] = t.finish({name for s, name in functions if s == sha})
        if settled:
            changes.put((store, sha, globs), found[sha])
    return found, "; ".join(notes)


# -- a poll -----------------------------------------------------------------------------------------


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
            runner = Runner(gitmod, repo, tuple(settings.migration_globs))
            heads = runner.walk(count, extra, settings.deploy_tags)
            found = _read_metas(runner, store, heads, shallow)
            heads = [h for h in heads if h.sha in found]
            boundaries = {h.sha for h in heads if _is_boundary(h.sha, found[h.sha], shallow)}
            changed, note = _read_changes(runner, store, [h.sha for h in heads], boundaries)
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
        marked_commit(h, found[h.sha], changed[h.sha], settings, now, freeze, h.sha in shallow) for h in heads
    )
    return GitSnapshot(top, head, detached, bool(shallow), commits, now, note)


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
