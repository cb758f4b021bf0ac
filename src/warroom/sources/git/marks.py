"""What a commit means for the incident: the :class:`Commit` record, its marks, and the playbook's
rollback commands for it.

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
  ``-`` and ``_``) and which holds an entrypoint (``index.ts``, or ``index.js``, ``.tsx``,
  ``.jsx``, ``.mjs``) in the commit's tree, the way ``supabase functions deploy`` finds functions.
  Any other folder there is shared code (``_shared/``, ``shared/``, ``utils/``, a function deleted
  by the commit, one whose ``config.toml`` names another entrypoint file): touching it sets
  ``touches_shared_functions``, and the rollback redeploys every function, which is never wrong.
  Files directly in ``supabase/functions/`` (``import_map.json``) are neither.
- **freeze breach**: committed inside one of the deploy-freeze intervals the UI passes in
  (``Incident.freeze_intervals()``; an interval ending in ``None`` is still going).

All times are the *committer* dates (when the commit landed on the branch, which is what a deploy
freeze is about), as aware UTC datetimes.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from warroom.durations import utc
from warroom.settings import GitSettings
from warroom.sources.git.commits import Changes, Head, Meta, when
from warroom.text import clean

FreezeIntervals = Sequence[tuple[datetime, datetime | None]]

# Tags kept per commit.
TAGS_MAX = 16
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


# -- the playbook's rollback ------------------------------------------------------------------------


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


# -- the marks --------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _deploy_matcher(pattern: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


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


def _in_freeze(at: datetime, freeze: FreezeIntervals) -> bool:
    for start, end in freeze:
        stop = utc(end) if end is not None else None
        if utc(start) <= at and (stop is None or at < stop):
            return True
    return False


def marked_commit(
    head: Head,
    meta: Meta,
    changes: Changes,
    settings: GitSettings,
    now: datetime,
    freeze: FreezeIntervals,
    parentless_boundary: bool,
) -> Commit:
    """The :class:`Commit` from what the walk listed, the commit's facts and its changes, marked."""
    committed = when(meta.ctime)
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
