"""The playbook's "Review performance metrics": the slowest statements since the console started
watching, from ``pg_stat_statements`` when the monitored database has it.

pg_stat_statements keeps totals since its last reset (often weeks). The first reading is kept as
the baseline (numbers only, every statement of this database up to :data:`BASELINE_ROWS`); each
later reading (at most every ``[database] statements_interval``, the :data:`READ_ROWS` statements
with the most total time) is compared with it, and the pane shows the statements that took the
most time since. A statement not in the baseline is new since (its whole total counts); one whose
total went down was reset (its total since the reset counts).

Not installed in this database, or installed but not loaded (``shared_preload_libraries``): a
:class:`~warroom.sources.dbpoll.StatementsSnapshot` with a one-line hint, looked at again every
``statements_interval``. Any other failure is the pane's own (``R`` retries).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from warroom.settings import DatabaseSettings
from warroom.sources.dbpoll import SlowQuery, StatementsSnapshot
from warroom.sources.postgres.failures import QueryFailed
from warroom.sources.postgres.queries import Query, quote_ident, sql_text
from warroom.sources.postgres.rows import as_int, col
from warroom.sources.postgres.session import Session
from warroom.text import clean

SHOWN = 5  # statements in a snapshot
READ_ROWS = 200  # statements read at each reading, the most total time first
BASELINE_ROWS = 5000  # pg_stat_statements.max's default
QUERY_CHARS = 300  # slow_queries.sql's left(query, 300)
NOT_INSTALLED = (
    "pg_stat_statements is not installed: CREATE EXTENSION pg_stat_statements "
    "(needs shared_preload_libraries)"
)
NOT_LOADED = "pg_stat_statements is installed but not loaded: add it to shared_preload_libraries and restart"
_COLUMNS = "key, calls, total_ms, query, head"
_BUILT_IN = (
    "db_health",
    "db_size",
    "error_rate",
    "error_tally",
    "error_tally_ids",
    "error_tally_since",
    "slow_queries",
    "slow_queries_schema",
    "sms_failures",
    "snapshot",
    "snapshot_pre13",
)


# The console's own transaction control and asyncpg's type introspection, as they start.
_OWN_STATEMENTS = ("BEGIN READ ONLY", "SET LOCAL ", "WITH RECURSIVE typeinfo_tree(")  # SET is never slow


def own_heads() -> tuple[str, ...]:
    """How the console's own statements start (their first lines): they are left out."""
    return (*(sql_text(name).splitlines()[0] for name in _BUILT_IN), *_OWN_STATEMENTS)


Totals = dict[str, tuple[int, float]]  # key -> (calls, total ms)


def query_head(text: str | None, max_len: int = 200) -> str:
    """A statement as one line: its leading ``--`` comment lines dropped, its whitespace collapsed,
    cut and cleaned (the text is untrusted: any role's statement)."""
    raw = (text or "")[:QUERY_CHARS]
    lines = raw.splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return clean(" ".join(" ".join(lines).split()), max_len=max_len)


def deltas(now: Totals, baseline: Totals) -> dict[str, tuple[int, float]]:
    """Each statement's (calls, ms) since the baseline; a total below its baseline was reset."""
    out = {}
    for key, (calls, total) in now.items():
        base_calls, base_total = baseline.get(key, (0, 0.0))
        if calls < base_calls or total < base_total:  # reset since: what it did after the reset
            base_calls, base_total = 0, 0.0
        out[key] = (calls - base_calls, total - base_total)
    return out


class StatementsReader:
    """The slow-query readings of one source (see the module docstring)."""

    def __init__(self, db: DatabaseSettings, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        self._schema: str | None = None  # where the extension is, once found
        self._baseline: Totals | None = None
        self._since: datetime | None = None
        self._last_at: datetime | None = None
        self.snapshot: StatementsSnapshot | None = None
        self._own = own_heads()

    def due(self) -> bool:
        return self._last_at is None or self._clock() - self._last_at >= self._db.statements_interval

    def reread(self) -> None:
        """Read at the next cycle (a retry; a reconnect): the extension may have come or gone."""
        self._last_at = None
        self._schema = None

    async def read(self, session: Session) -> None:
        """One reading if one is due: the baseline first, the deltas after."""
        if not self.due():
            return
        now = self._clock()
        self._last_at = now
        if self._schema is None:
            row = await session.fetchrow("slow_queries_schema", sql_text("slow_queries_schema"))
            if row is None:
                self.snapshot = StatementsSnapshot(now, self._since, (), NOT_INSTALLED)
                return
            self._schema = str(row["schema"])
        query = self._query(session)
        try:
            if self._baseline is None:
                self._baseline = self._totals(await session.fetch(query, BASELINE_ROWS, False), query.name)
                self._since = now
            rows = await session.fetch(query, READ_ROWS, True)
        except QueryFailed as failed:
            if "shared_preload_libraries" in failed.failure.reason:
                self._schema = None
                self.snapshot = StatementsSnapshot(now, self._since, (), NOT_LOADED)
                return
            raise
        self.snapshot = StatementsSnapshot(self._clock(), self._since, self._slowest(rows, query.name))

    def _query(self, session: Session) -> Query:
        total = "total_exec_time" if session.conn.get_server_version().major >= 13 else "total_time"
        assert self._schema is not None
        sql = sql_text("slow_queries").replace("{{schema}}", quote_ident(self._schema))
        return Query("slow_queries", sql.replace("{{total}}", total), "built-in")

    @staticmethod
    def _totals(rows: list, query: str) -> Totals:  # type: ignore[type-arg]
        out: Totals = {}
        for row in rows:
            key = str(col(row, "key", query, _COLUMNS))
            out[key] = (as_int(row["calls"], query, "calls"), float(row["total_ms"] or 0.0))
        return out

    def _slowest(self, rows: list, query: str) -> tuple[SlowQuery, ...]:  # type: ignore[type-arg]
        texts = {str(row["key"]): row["query"] for row in rows}
        own = {str(row["key"]) for row in rows if str(row.get("head") or "").startswith(self._own)}
        totals = {k: v for k, v in self._totals(rows, query).items() if k not in own}
        since = deltas(totals, self._baseline or {})
        ranked = sorted(
            ((k, c, ms) for k, (c, ms) in since.items() if c > 0 and ms > 0),
            key=lambda r: (-r[2], r[0]),
        )
        return tuple(
            SlowQuery(key, query_head(texts.get(key)), calls, round(ms, 3))
            for key, calls, ms in ranked[:SHOWN]
        )
