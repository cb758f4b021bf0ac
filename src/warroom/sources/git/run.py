"""Running git in one repository: plain subprocesses, their output read as it streams.

GitPython finds and opens the repository (``with git.Repo(path) as repo:``: a ``Repo`` that lives
for hours leaks ``git cat-file`` processes and file handles); git itself runs as a plain
subprocess (:class:`Runner`) whose output is read a chunk at a time and cut to bounds
(:mod:`warroom.sources.git.output`), under a :data:`GIT_TIMEOUT` deadline, and killed when it is
not done by then. Failures are raised as GitPython's own errors, which the caller turns into one
line.

The repository is named to git explicitly (``--git-dir``) and the caller's ``GIT_DIR``,
``GIT_OBJECT_DIRECTORY``, ``GIT_CONFIG_PARAMETERS``... are neutralised (:func:`git_env`), so the
environment cannot point the pane at another repository; the user's git configuration is read (for
its ``safe.directory`` and the like) but every setting that changes ``git log``'s output is
overridden. git's ownership check (``safe.directory``) guards repository *discovery*, so a checkout
owned by another user (a deploy user's) is read too: the only commands run are ``git log`` and
``git cat-file --batch-check``, which execute nothing from the repository's configuration (no
pager, external diff, textconv, filter or signature check).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from warroom.sources.git.commits import (
    FUNCTION_ENTRYPOINTS,
    FUNCTIONS_PREFIX,
    META_FIELDS,
    META_FORMAT,
    SHA,
    Head,
    Meta,
    PathsByCommit,
    Touched,
    parse_meta,
)
from warroom.sources.git.output import Bytes, Consumer, Fields, Rows, marker, pump

# git log must answer within this (a hung NFS mount, a repository being repacked...).
GIT_TIMEOUT = 10.0
MIN_GIT = (2, 31)  # git log --diff-merges (2.31) and --no-relative (2.28)
# What a command that ran out of time says (see timed_out).
_TIMED_OUT = "did not complete in"


def import_git() -> Any:
    """GitPython, imported on first use: ``import git`` itself fails when git is not installed."""
    import git

    return git


@lru_cache(maxsize=1)
def git_version() -> tuple[int, ...] | None:
    """The installed git's version, once per process (None when it cannot be told)."""
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


def timed_out(exc: Exception) -> bool:
    """Whether a GitPython error is :class:`Runner`'s deadline passing."""
    return _TIMED_OUT in str(getattr(exc, "stderr", "")).lower()


def git_env(common_dir: Path) -> dict[str, str]:
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


class Runner:
    """Runs git in one opened repository (inside ``with git.Repo(...)``), its output read as it
    streams and cut to bounds (see :class:`~warroom.sources.git.output.Fields`)."""

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
        self.env = git_env(Path(repo.common_dir))
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
            err, late = pump(proc, sink, time.monotonic() + GIT_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        if late:
            raise self.exc.GitCommandError(list(cmd), -9, f"{_TIMED_OUT} {GIT_TIMEOUT:g} s")
        if proc.returncode != 0:
            raise self.exc.GitCommandError(list(cmd), proc.returncode, err)

    def log(self, args: Sequence[str], consumer: Consumer, mark: bytes) -> None:
        fields = Fields(mark, consumer)
        self.run([*self.log_cmd, *args], fields.feed)
        fields.close()

    def walk(self, count: int, extra: Sequence[str], tags: bool) -> list[Head]:
        """The last ``count`` commits of HEAD: their shas (and tags), nothing git must read the
        commit's message for when the repository has a commit-graph."""
        mark = marker("WR")
        fmt = f"--format=%x00{mark.decode()}%x00%H%x00%h" + ("%x00%D" if tags else "")
        decorate = ("--decorate=short", "--decorate-refs=refs/tags/") if tags else ()
        rows = Rows(3 if tags else 2)
        self.log([f"-n{count}", fmt, *decorate, *extra, "HEAD", "--"], rows, mark)
        heads = []
        for sha, short, *deco in rows.complete():
            text = sha.decode("ascii", "replace")
            if SHA.fullmatch(text):
                decorations = deco[0].decode("utf-8", "replace") if deco else ""
                heads.append(Head(text, short.decode("ascii", "replace")[:64], decorations))
        return heads

    def meta(self, shas: Sequence[str]) -> dict[str, Meta]:
        """Parents, date, author and subject of these commits only (those not seen before)."""
        mark = marker("WM")
        rows = Rows(META_FIELDS)
        self.log(
            ["--no-walk=unsorted", f"--format=%x00{mark.decode()}%x00" + META_FORMAT, *shas, "--"], rows, mark
        )
        return dict(parse_meta(row) for row in rows.complete())

    def paths(self, shas: Sequence[str]) -> dict[str, Touched]:
        """The paths each commit changed (against its first parent), for these commits only."""
        mark = marker("WP")
        found = PathsByCommit(self.globs)
        self.log(
            [
                "--no-walk=unsorted",
                f"--format=%x00{mark.decode()}%x00%H",
                "--name-only",
                "--no-renames",
                "--no-ext-diff",
                "--no-textconv",
                "--diff-merges=first-parent",
                *shas,
                "--",
            ],
            found,
            mark,
        )
        return found.found

    def entrypoints(self, wanted: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (commit, folder) pairs hold a function entrypoint in that commit's tree: one
        ``git cat-file --batch-check`` for all of them (folder names are function names: no
        spaces, colons or newlines)."""
        queries = [
            (sha, name, f"{sha}:{FUNCTIONS_PREFIX}{name}/{entry}")
            for sha, name in wanted
            for entry in FUNCTION_ENTRYPOINTS
        ]
        lines = "".join(f"{q}\n" for _sha, _name, q in queries).encode()
        out = Bytes(len(lines) + 16 * len(queries))
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
