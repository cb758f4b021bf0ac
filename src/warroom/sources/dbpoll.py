"""What the database source emits: :class:`DbPoll` and the per-pane snapshots inside it.

(The errors pane's :class:`~warroom.sources.tallies.TallySnapshot` is with the tallies; the error
rate's criterion is judged in :mod:`warroom.sources.error_rate`.)

Every value is immutable and every string in it is already cleaned (``warroom.text``):
the UI renders them as plain ``rich.text.Text``. Times are aware UTC datetimes. Each snapshot
keeps its own ``fetched_at`` (the console's clock) so a pane can show the age of its data; a
:class:`DbPoll` always carries the latest snapshot of every pane, even while the database is
unreachable (the data is then older than the poll: dim it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from warroom.durations import local
from warroom.sources.tallies import TallySnapshot

FailureKind = Literal["missing", "privilege", "timeout", "error"]
Status = Literal["not_configured", "connecting", "connected", "unreachable"]
Criterion = Literal["met", "not met", "unknown"]

MAX_TABLE_ROWS = 200


@dataclass(frozen=True)
class QueryFailure:
    """A pane whose query failed: it is not run again until ``PostgresSource.retry(name)``.

    ``name``: the query's name (``db_health``, ``error_tally_since``...) or a team's pane's
    (``query-1``...; see :mod:`warroom.sources.postgres.queries`).

    ``kind``: ``missing`` (a table, column or function does not exist: the team's schema differs,
    replace the query in warroom.toml), ``privilege`` (the role may not read it), ``timeout``
    (statement_timeout), ``error`` (anything else, e.g. a syntax error in a team's query).
    ``reason`` is one cleaned line; ``since`` is when it failed (console clock).
    """

    name: str
    reason: str
    kind: FailureKind
    since: datetime

    def describe(self) -> str:
        return f"{self.name}: {self.kind}: {self.reason}"


@dataclass(frozen=True)
class ConnectionState:
    """The polling connection. ``since``: connected since, or unreachable since (first failure)."""

    status: Status
    since: datetime | None = None
    attempt: int = 0  # failed connection attempts in a row (0 while connected)
    retry_at: datetime | None = None  # the next attempt (console clock), while unreachable
    last_error: str = ""  # one cleaned, secret-free line
    server_version: str = ""
    dsn: str = ""  # password masked

    @property
    def connected(self) -> bool:
        return self.status == "connected"

    def retry_in(self, now: datetime) -> float | None:
        """Seconds until the next attempt (never negative), ``None`` when none is scheduled."""
        if self.retry_at is None:
            return None
        return max(0.0, (self.retry_at - now).total_seconds())

    def describe(self, now: datetime, tz: tzinfo | None = None) -> str:
        """The status line: ``unreachable since 14:03:12 - retrying in 8 s (attempt 3)``."""
        if self.status == "not_configured":
            return "no database configured (--dsn, WARROOM_DSN, DATABASE_URL or [database] dsn)"
        since = local(self.since, tz).strftime("%H:%M:%S") if self.since else "?"
        if self.status == "connected":
            version = f" (PostgreSQL {self.server_version})" if self.server_version else ""
            return f"connected since {since}{version}"
        if self.status == "connecting":
            return "connecting..."
        wait = self.retry_in(now)
        retry = f" - retrying in {wait:.0f} s" if wait is not None else ""
        return f"unreachable since {since}{retry} (attempt {self.attempt})"


# -- health -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LongQuery:
    pid: int
    seconds: float
    query: str  # first line, cleaned


@dataclass(frozen=True)
class BlockedQuery:
    pid: int
    seconds: float  # how long its current query has run (mostly waiting)
    query: str
    blocked_by: tuple[int, ...]
    blocker_state: str  # the first blocker's state ("idle in transaction"...)
    blocker_query: str  # the first blocker's query (its last one when idle), first line


@dataclass(frozen=True)
class Blocker:
    """A connection others wait for (its transaction holds the lock they want)."""

    pid: int
    state: str  # "idle in transaction", "active"...
    seconds: float | None  # how long its transaction (else its query) has run
    query: str  # its query (the last one when idle), first line


@dataclass(frozen=True)
class Backend:
    """A backend the runbooks' actions can cancel or terminate, as the Database pane lists it."""

    pid: int
    role: Literal["blocked", "blocker", "longest", "session"]
    state: str
    seconds: float | None
    query: str


@dataclass(frozen=True)
class DbSize:
    bytes: int
    fetched_at: datetime

    @property
    def pretty(self) -> str:
        return pretty_bytes(self.bytes)


@dataclass(frozen=True)
class HealthSnapshot:
    """Connections of the whole server (the console's own excluded) against max_connections.

    ``active``, ``waiting`` (on a lock), ``idle``, ``idle_in_transaction`` and ``other`` add up to
    ``total``. ``running`` is the playbook's "running_queries" (state 'active', waiting or not).
    ``size`` is refreshed at most every size_interval: its own ``fetched_at`` gives its age.
    """

    fetched_at: datetime
    max_connections: int
    total: int
    active: int
    waiting: int
    idle: int
    idle_in_transaction: int
    other: int
    longest: LongQuery | None
    blocked: tuple[BlockedQuery, ...]  # the longest waits only (at most 5): count with blocked_count
    size: DbSize | QueryFailure | None
    blockers: tuple[Blocker, ...] = ()  # the connections the listed waits are behind
    sessions: tuple[Blocker, ...] = ()  # up to 10 connections not idle, the oldest transaction first

    def backends(self) -> tuple[Backend, ...]:
        """The Database pane's list of backends to act on: the blockers first (ending one frees
        every wait behind it), then the blocked waits, then the longest-running query, then the other
        connections that are not idle (an old "idle in transaction" holds its locks); each pid once."""
        out: dict[int, Backend] = {}
        for b in self.blockers:
            out.setdefault(b.pid, Backend(b.pid, "blocker", b.state, b.seconds, b.query))
        for w in self.blocked:
            out.setdefault(w.pid, Backend(w.pid, "blocked", "waiting on a lock", w.seconds, w.query))
        if self.longest is not None:
            lq = self.longest
            out.setdefault(lq.pid, Backend(lq.pid, "longest", "active", lq.seconds, lq.query))
        for b in self.sessions:
            out.setdefault(b.pid, Backend(b.pid, "session", b.state, b.seconds, b.query))
        return tuple(out.values())

    @property
    def running(self) -> int:
        return self.active + self.waiting

    @property
    def blocked_count(self) -> int:
        """Every session waiting on a lock (``blocked`` lists only the longest waits)."""
        return self.waiting

    @property
    def used_fraction(self) -> float:
        """``total / max_connections`` (0..1+), for the gauge."""
        return self.total / self.max_connections if self.max_connections > 0 else 0.0


# -- SMS failures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsRow:
    key: str  # stable row key (a hash of the raw values)
    phone: str  # masked to the last 4 digits: ***4477
    error_message: str
    count: int


@dataclass(frozen=True)
class SmsSnapshot:
    fetched_at: datetime
    window: timedelta
    rows: tuple[SmsRow, ...]
    total_failed: int  # failed deliveries in the window, all groups
    groups: int  # all (phone, error) groups, of which ``rows`` are the largest
    truncated: bool


# -- error rate -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateMinute:
    minute: datetime
    failed: int
    total: int

    @property
    def rate(self) -> float | None:
        """Percent failed, ``None`` for a minute without traffic."""
        return 100.0 * self.failed / self.total if self.total > 0 else None


@dataclass(frozen=True)
class ErrorRateSnapshot:
    """The error rate and the playbook's resolution criterion "error rate < 1% for 30 minutes".

    ``shape`` ``series``: from per-minute data, ``below_since`` is exact to the minute
    (``below_since_exact``). ``single``: a team query returning one number; ``below_since`` is the
    first poll that saw the rate under the threshold (approximate: the truth lies between that
    poll and the previous one, and nothing is known from before the console started).
    ``criterion``: ``met`` (below for at least ``sustain``), ``not met``, or ``unknown`` (no
    traffic to judge by, or not watched long enough to know).
    """

    fetched_at: datetime
    threshold: float
    sustain: timedelta
    shape: Literal["series", "single"]
    current: float | None
    series: tuple[RateMinute, ...]
    below_since: datetime | None
    below_since_exact: bool
    below_for: timedelta | None
    criterion: Criterion
    summary: str  # one line for the pane


# -- slow queries (pg_stat_statements) ----------------------------------------------------------------


@dataclass(frozen=True)
class SlowQuery:
    """One statement's execution since the baseline (the first reading): deltas, not totals."""

    key: str  # userid:queryid
    query: str  # first line, cleaned
    calls: int
    total_ms: float

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class StatementsSnapshot:
    """The playbook's "Review performance metrics": the statements that took the most execution
    time since ``since`` (the first reading after the console started watching), from
    pg_stat_statements. ``hint``: one line when it cannot be read (not installed, not loaded)."""

    fetched_at: datetime
    since: datetime | None
    rows: tuple[SlowQuery, ...]
    hint: str = ""

    @property
    def available(self) -> bool:
        return not self.hint


# -- extra panes ------------------------------------------------------------------------------------
# A team's extra panes ([[database.panes]]) are named query-1, query-2... in their order in
# warroom.toml: TablePane.name, QueryFailure.name, PostgresSource.retry(name), the UI's pane ids.


@dataclass(frozen=True)
class TablePane:
    """A team's extra query pane ([[database.panes]]): cleaned column names and cell texts."""

    name: str  # "query-1", "query-2"... (in [[database.panes]] order): pass it to retry()
    title: str
    fetched_at: datetime
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    truncated: bool  # more than MAX_TABLE_ROWS rows; only the first ones are here


QUERY_PANE_PREFIX = "query-"


def query_pane_name(index: int) -> str:
    """The name of the team's extra pane at ``index`` (0-based) in ``[[database.panes]]``: ``query-1``..."""
    return f"{QUERY_PANE_PREFIX}{index + 1}"


def query_pane_index(name: str) -> int | None:
    """The 0-based ``[[database.panes]]`` index a ``query-N`` name stands for; ``None`` for any other name."""
    number = name.removeprefix(QUERY_PANE_PREFIX)
    if number == name or not number.isdigit():
        return None
    index = int(number) - 1
    return index if index >= 0 and query_pane_name(index) == name else None


# -- the poll ---------------------------------------------------------------------------------------

PaneData = TallySnapshot | HealthSnapshot | SmsSnapshot | ErrorRateSnapshot | TablePane | StatementsSnapshot


@dataclass(frozen=True)
class DbPoll:
    """A poll cycle's result. Pane fields hold the latest snapshot (maybe from an earlier
    poll: compare its ``fetched_at``), a :class:`QueryFailure`, or ``None`` (never fetched).

    A cycle with an expensive read (the tallies' full read, the declaration baseline) emits a
    poll before it too, with the same ``fetched_at``: its cheap panes are fresh, the errors pane's
    data is the previous cycle's (stale) until the cycle's last poll."""

    fetched_at: datetime
    connection: ConnectionState
    errors: TallySnapshot | QueryFailure | None = None
    health: HealthSnapshot | QueryFailure | None = None
    sms: SmsSnapshot | QueryFailure | None = None
    error_rate: ErrorRateSnapshot | QueryFailure | None = None
    panes: tuple[TablePane | QueryFailure | None, ...] = ()  # aligned with settings.database.panes
    statements: StatementsSnapshot | QueryFailure | None = None  # pg_stat_statements, when due
    db_ms: float = 0.0  # time spent waiting on the database in this cycle

    @property
    def connected(self) -> bool:
        return self.connection.connected

    @property
    def retry_in(self) -> float | None:
        return self.connection.retry_in(self.fetched_at)

    def status_line(self, tz: tzinfo | None = None, now: datetime | None = None) -> str:
        line = self.connection.describe(now or self.fetched_at, tz)
        if self.connection.status == "unreachable" and self.connection.last_error:
            line += f": {self.connection.last_error}"
        return line

    def is_stale(self, data: PaneData | QueryFailure | None) -> bool:
        """Was ``data`` fetched before this poll (so it is old: dim it)?"""
        if data is None or isinstance(data, QueryFailure):
            return False
        return data.fetched_at < self.fetched_at


def pretty_bytes(n: int) -> str:
    """``1.4 GB`` (powers of 1024, like pg_size_pretty)."""
    if abs(n) < 1024:
        return f"{n} bytes"
    size = n / 1024
    units = ["kB", "MB", "GB", "TB"]
    while abs(size) >= 1024 and len(units) > 1:
        size /= 1024
        units.pop(0)
    return f"{size:.1f} {units[0]}"
