"""The database source's queries: the ``.sql`` files, their placeholders and parameters, and the
names of the panes that run them.

Queries are ``.sql`` files in ``warroom/sources/sql`` (each documents its parameters and columns);
``[database.queries]`` in warroom.toml replaces any of :data:`warroom.config.QUERY_NAMES` with a
team's file, and each ``[[database.panes]]`` adds a pane running a team's file. In the files,
``{{table}}``, ``{{id_column}}`` and ``{{time_column}}`` stand for ``[errors]`` table, id_column and
time_column (double-quoted identifiers).

Pane names (what :class:`~warroom.sources.dbpoll.QueryFailure` names and
``PostgresSource.retry`` takes, with the query names of :data:`PANES`): ``errors``, ``health``,
``db_size``, ``sms``, ``error_rate``, and the team's extra panes ``query-1``, ``query-2``... in
the order of their ``[[database.panes]]`` in warroom.toml
(:func:`~warroom.sources.dbpoll.query_pane_name`, :func:`~warroom.sources.dbpoll.query_pane_index`:
with what the source emits, so the UI names its panes the same way without loading the driver).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from warroom.settings import ErrorSettings, Settings
from warroom.settings.keys import QUERY_NAMES
from warroom.sources.dbpoll import query_pane_index, query_pane_name
from warroom.text import clean

#: Panes and the queries they run (``retry`` takes either name).
PANES: dict[str, tuple[str, ...]] = {
    "errors": ("error_tally", "error_tally_ids", "error_tally_since", "snapshot"),
    "health": ("db_health",),
    "db_size": ("db_size",),
    "sms": ("sms_failures",),
    "error_rate": ("error_rate",),
    "statements": ("slow_queries", "slow_queries_schema"),
}


def pane_of(name: str) -> str:
    """The pane a pane or query name belongs to (an unknown name is its own pane)."""
    if name in PANES or query_pane_index(name) is not None:
        return name
    return next((pane for pane, names in PANES.items() if name in names), name)


def sql_text(name: str) -> str:
    """The text of a packaged ``.sql`` file (``warroom/sources/sql/<name>.sql``)."""
    return resources.files("warroom.sources").joinpath("sql", f"{name}.sql").read_text("utf-8")


def schema_sql() -> str:
    """The playbook's schema (error_logs, sms_delivery_log, campaigns), idempotent."""
    return sql_text("schema")


def quote_ident(name: str) -> str:
    """``public.error_logs`` -> ``"public"."error_logs"``."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def render(sql: str, errors: ErrorSettings) -> str:
    """Replace the ``{{table}}``, ``{{id_column}}`` and ``{{time_column}}`` placeholders."""
    out = sql.replace("{{table}}", quote_ident(errors.table))
    out = out.replace("{{time_column}}", quote_ident(errors.time_column))
    if errors.id_column:
        out = out.replace("{{id_column}}", quote_ident(errors.id_column))
    return out


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
_PARAM = re.compile(r"\$(\d+)")


def parameter_count(sql: str) -> int:
    """The highest ``$n`` used outside comments and string literals."""
    return max((int(n) for n in _PARAM.findall(_COMMENTS.sub(" ", sql))), default=0)


@dataclass(frozen=True)
class Query:
    name: str
    sql: str  # "" when it could not be read (see ``error``)
    origin: str  # "built-in" or the file it came from
    error: str = ""

    @property
    def params(self) -> int:
        return parameter_count(self.sql)

    @property
    def built_in(self) -> bool:
        return self.origin == "built-in"


def load_query(name: str, path: Path | None, errors: ErrorSettings) -> Query:
    """The packaged query ``name``, or the team's file at ``path``; an unreadable or empty file is
    a :class:`Query` whose ``error`` says so (its pane shows it)."""
    if path is None:
        return Query(name, render(sql_text(name), errors), "built-in")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Query(name, "", str(path), clean(f"cannot read {path}: {exc}", max_len=200))
    if not _COMMENTS.sub(" ", text).strip().rstrip(";").strip():
        return Query(name, "", str(path), clean(f"{path} holds no SQL", max_len=200))
    return Query(name, render(text.strip().rstrip(";"), errors), str(path))


def load_queries(settings: Settings) -> dict[str, Query]:
    """Every replaceable query (built-in or from ``[database.queries]``) and the extra panes'."""
    db, er = settings.database, settings.errors
    out = {name: load_query(name, db.queries.get(name), er) for name in QUERY_NAMES}
    for i, pane in enumerate(db.panes):
        name = query_pane_name(i)
        out[name] = load_query(name, pane.sql, er)
    return out
