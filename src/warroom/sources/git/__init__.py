"""What changed recently: the last commits of the team's repository, with their marks.

- :mod:`~warroom.sources.git.read`: a poll (:func:`read_commits`, :func:`commits_between`), which
  parses only the commits it has not seen; problems are a :class:`GitProblem`, nothing raises;
- :mod:`~warroom.sources.git.run` and :mod:`~warroom.sources.git.output`: running git and reading
  its output as it streams, bounded whatever the repository holds;
- :mod:`~warroom.sources.git.commits`: a commit's facts, parsed and cleaned once, kept by sha;
- :mod:`~warroom.sources.git.marks`: the :class:`Commit` record, what its marks mean (recent,
  deploy, migration, functions, freeze breach) and the playbook's rollback commands.
"""

from warroom.sources.git.commits import SUBJECT_MAX, glob_to_regex
from warroom.sources.git.marks import Commit, FreezeIntervals, function_rollback_commands, revert_command
from warroom.sources.git.read import (
    BETWEEN_LIMIT,
    GitProblem,
    GitSnapshot,
    ProblemKind,
    commits_between,
    read_commits,
)

__all__ = [
    "BETWEEN_LIMIT",
    "SUBJECT_MAX",
    "Commit",
    "FreezeIntervals",
    "GitProblem",
    "GitSnapshot",
    "ProblemKind",
    "commits_between",
    "function_rollback_commands",
    "glob_to_regex",
    "read_commits",
    "revert_command",
]
