"""The PostgreSQL source: one read-only connection, a poll loop that survives outages, the panes.

Use from the UI (an async worker on the App, ``exit_on_error=False``)::

    source = PostgresSource(settings, declared_at=incident.declared_at)
    await source.run(emit=lambda poll: app.post_message(DbPolled(poll)), stop=stop_event)

``run`` emits a :class:`~warroom.sources.dbtypes.DbPoll` after every cycle and never raises
(except ``CancelledError``): every failure is data in the poll. Cycles never overlap: the loop
sleeps ``poll_interval`` *after* each cycle, so a slow database stretches the period.

The connection: ``application_name=warroom``, ``default_transaction_read_only=on``,
``statement_timeout`` from the settings (server side), a connect timeout, ``command_timeout`` a
second above the statement timeout (client side; when it fires the server did not even honour its
own timeout, so the connection is dropped and re-opened), ``TimeZone=UTC``, and an idle-in-
transaction timeout so a stuck console cannot hold a transaction open. With ``pgbouncer = true``
the prepared-statement cache is off and PgBouncer gets none of those startup parameters (it
refuses unknown ones).

Every query runs in a read-only transaction, in both modes, whatever the session says: a query
may change the session (``set_config('default_transaction_read_only', 'off', false)``), never
the transaction it runs in. A poll cycle's built-in queries share one (``BEGIN READ ONLY; SET
LOCAL statement_timeout`` in one round trip, opened by the cycle's first query, ``COMMIT`` at its
end: two round trips per cycle, not two per query); a query that fails ends it and the next one
opens another (``ROLLBACK`` in the same round trip). A team's query (replaced in
``[database.queries]`` or a ``[[database.panes]]``) gets a transaction of its own, so what it
does to the session (``set_config('statement_timeout', '0', false)``) is undone for the queries
after it by their own ``SET LOCAL``. The full read of the tallies has its own transaction
(REPEATABLE READ READ ONLY), and `warroom check` one per query. The session's settings are only
a second line of defence.

Lost or unreachable: reconnect with capped exponential backoff and equal jitter
(``base * 2**(n-1)`` capped at 30 s, then a random 50-100% of it), and a full read of the tallies
after every reconnect.

Bounded whatever the data: the built-in queries cut every text they return in SQL (``left()``;
each ``.sql`` file says to how much) and group by the cut values, the tallies track at most
:data:`~warroom.sources.tallies.MAX_KEYS` keys one by one (the rest in one "other" bucket, the
totals exact), and a team's query's values are cut the same way on arrival.

A query that fails for a reason of its own (missing table or column, missing privilege,
statement timeout, any other SQL error) disables only its pane, which carries a
:class:`QueryFailure` until :meth:`PostgresSource.retry`. Connection trouble makes the whole poll
``unreachable`` and keeps every pane's last data.

Queries are ``.sql`` files in ``warroom/sources/sql`` (each documents its parameters and columns);
``[database.queries]`` in warroom.toml replaces any of :data:`warroom.config.QUERY_NAMES`. In the
files, ``{{table}}``, ``{{id_column}}`` and ``{{time_column}}`` stand for ``[errors]`` table,
id_column and time_column (double-quoted identifiers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from warroom.durations import utc
from warroom.settings import QUERY_NAMES, ErrorSettings, QueryPane, Settings
from warroom.sources.dbtypes import (
    MAX_TABLE_ROWS,
    BlockedQuery,
    ConnectionState,
    DbPoll,
    DbSize,
    ErrorRateSnapshot,
    FailureKind,
    HealthSnapshot,
    LongQuery,
    QueryFailure,
    RateMinute,
    RateTracker,
    SmsRow,
    SmsSnapshot,
    TablePane,
    rate_from_series,
)
from warroom.sources.tallies import (
    MAX_KEYS,
    MESSAGE_CHARS,
    Tallies,
    TallyGroup,
    TallySnapshot,
    Watermark,
    ceil_minute,
    row_key,
)
from warroom.text import clean, first_line, mask_phone, register_dsn

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Panes and the queries they run (``retry`` takes either name).
PANES: dict[str, tuple[str, ...]] = {
    "errors": ("error_tally", "error_tally_ids", "error_tally_since", "snapshot"),
    "health": ("db_health",),
    "db_size": ("db_size",),
    "sms": ("sms_failures",),
    "error_rate": ("error_rate",),
}
GAP_LOOKBACK = 10_000  # ids below the watermark checked for in-flight rows after a full read
MAX_NEW_ROWS = 50_000  # more new rows than this since the last poll: do a full read instead
SMS_ROWS = 200
SMS_PHONE_CHARS = 100  # sms_failures.sql's left(phone_number, 100)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000
FULL_READ_WORK_MEM = "16MB"


def _utcnow() -> datetime:
    return datetime.now(UTC)


# -- queries -----------------------------------------------------------------------------------------------


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


def load_query(name: str, path: Path | None, errors: ErrorSettings) -> Query:
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
    """Every replaceable query (built-in or from ``[database.queries]``) and the extra panes."""
    db, er = settings.database, settings.errors
    out = {name: load_query(name, db.queries.get(name), er) for name in QUERY_NAMES}
    for i, pane in enumerate(db.panes):
        name = pane_name(i)
        out[name] = load_query(name, pane.sql, er)
    return out


def pane_name(index: int) -> str:
    return f"pane:{index + 1}"


# -- failures ----------------------------------------------------------------------------------------------


class ConnectionLost(Exception):
    """The connection broke (or never answered): the whole poll becomes ``unreachable``."""


class ShapeError(Exception):
    """A query's rows lack a column the pane needs (usually a team's replacement query)."""


_MISSING = (
    asyncpg.UndefinedTableError,
    asyncpg.UndefinedColumnError,
    asyncpg.UndefinedFunctionError,
    asyncpg.InvalidSchemaNameError,
    asyncpg.UndefinedObjectError,
)
_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    OSError,
    ConnectionError,
    TimeoutError,
)


def one_line(exc: BaseException) -> str:
    """An error as one cleaned, secret-free line."""
    if isinstance(exc, TimeoutError):
        text = "no answer within the timeout"
    else:
        text = str(exc).strip() or type(exc).__name__
        if isinstance(exc, OSError) and exc.errno and "Connect call failed" in text:
            text = os.strerror(exc.errno).lower()  # "connection refused", not a socket address
    return clean(text, max_len=200)


def classify(exc: Exception, conn: asyncpg.Connection | None) -> FailureKind | None:
    """The failure kind of a query error, or ``None`` when the connection itself is in trouble."""
    if isinstance(exc, asyncpg.QueryCanceledError | asyncpg.LockNotAvailableError):
        return "timeout"
    if isinstance(exc, _LOST) or conn is None or conn.is_closed():
        return None
    if isinstance(exc, asyncpg.InterfaceError):
        return "error"
    if isinstance(exc, _MISSING):
        return "missing"
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return "privilege"
    return "error"


def _reason(exc: Exception, kind: FailureKind, timeout: timedelta, name: str = "") -> str:
    if kind == "timeout" and isinstance(exc, asyncpg.QueryCanceledError):
        return clean(f"{exc} (after {timeout.total_seconds():g} s)", max_len=200)
    if isinstance(exc, asyncpg.UndefinedColumnError) and name in ("error_tally_ids", "error_tally_since"):
        return clean(f'{exc} (no id column? set [errors] id_column = "" to use the time column)', max_len=200)
    if isinstance(exc, ShapeError):
        return clean(str(exc), max_len=200)
    return one_line(exc)


# -- row helpers -------------------------------------------------------------------------------------------


def _col(record: asyncpg.Record, name: str, query: str, expected: str) -> Any:
    try:
        return record[name]
    except KeyError:
        raise ShapeError(f"{query}: no column {name!r} in its rows (expected {expected})") from None


def _utc(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise ShapeError(f"{what} is not a timestamp ({type(value).__name__})")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _int(value: Any, what: str) -> int:
    if value is None:
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ShapeError(f"{what} is not a number") from None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _cut(value: str | None, n: int) -> str | None:
    """The first ``n`` characters, as SQL's ``left()`` (a team's query may return more)."""
    return None if value is None else value[:n]


_TALLY_COLUMNS = "error_type, error_message, minute, count, first_at, times"
_TX_NONE, _TX_OPEN, _TX_FAILED = "none", "open", "failed"


def tally_groups(
    rows: Sequence[asyncpg.Record], exact_until: datetime | None, query: str = "error_tally"
) -> list[TallyGroup]:
    """``error_tally`` rows as groups; the minutes before ``exact_until`` must list their times."""
    out = []
    for r in rows:
        minute = _utc(_col(r, "minute", query, _TALLY_COLUMNS), f"{query}: minute")
        count = _int(_col(r, "count", query, _TALLY_COLUMNS), f"{query}: count")
        first = _col(r, "first_at", query, _TALLY_COLUMNS)
        times = _col(r, "times", query, _TALLY_COLUMNS)
        if times is None and exact_until is not None and minute < exact_until and count > 0:
            raise ShapeError(f"{query}: no times for {minute:%H:%M} (every minute before $3 needs them)")
        if times is not None:
            if not isinstance(times, list) or len(times) != count:
                raise ShapeError(f"{query}: times must list the {count} row time(s) of its group")
            times = [_utc(t, f"{query}: times") for t in times]
        out.append(
            TallyGroup(
                _text(_col(r, "error_type", query, _TALLY_COLUMNS)),
                _text(_col(r, "error_message", query, _TALLY_COLUMNS)),
                minute,
                count,
                _utc(first, f"{query}: first_at") if first is not None else None,
                times or None,
                other=r.get("other") is True,
            )
        )
    return out


def cell(value: Any) -> str:
    """One value of a team's pane as inert text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, timedelta):
        return str(value)
    return clean(value, max_len=200)


# -- the source --------------------------------------------------------------------------------------------


class PostgresSource:
    """The database panes' poller. See the module docstring for how to drive it."""

    def __init__(
        self,
        settings: Settings,
        *,
        declared_at: datetime | None,
        clock: Callable[[], datetime] = _utcnow,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self._db = settings.database
        self._er = settings.errors
        self._clock = clock
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._rng = rng
        register_dsn(self._db.dsn)
        self._queries = load_queries(settings)
        self._declared_at = utc(declared_at) if declared_at is not None else None
        self._conn: asyncpg.Connection | None = None
        self._snapshot_sql = sql_text("snapshot")
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        status = "connecting" if self._db.dsn else "not_configured"
        self._state = ConnectionState(status, since=clock(), dsn=self._db.masked_dsn)  # type: ignore[arg-type]
        self._id_checked = False
        self._id_note = ""
        self._failures = 0  # connects failed or connections lost since the last clean cycle
        self._down_since: datetime | None = None
        self._disabled: dict[str, QueryFailure] = {}
        self._db_ms = 0.0
        self._in_tx = False  # inside the full read's own transaction
        self._tx = _TX_NONE  # the poll cycle's read-only transaction
        # errors pane
        self._tallies = Tallies(self._er.window, self._er.limit)
        self._watermark = Watermark()
        self._full_read_due = True
        self._full_read_at: datetime | None = None  # console clock
        self._complete = True
        self._baseline_error = ""
        self._server_offset = timedelta(0)
        # last data per pane
        self._errors: TallySnapshot | None = None
        self._health: HealthSnapshot | None = None
        self._size: DbSize | None = None
        self._sms: SmsSnapshot | None = None
        self._rate: ErrorRateSnapshot | None = None
        self._rate_tracker = RateTracker(
            self._er.rate_threshold,
            self._er.rate_sustain,
            max_gap=max(self._db.poll_interval * 3, timedelta(seconds=30)),
        )
        self._panes: list[TablePane | None] = [None] * len(self._db.panes)

    # -- public API -----------------------------------------------------------------------------------------
    @property
    def connection(self) -> ConnectionState:
        return self._state

    @property
    def tallies(self) -> Tallies:
        return self._tallies

    def queries(self) -> dict[str, Query]:
        return dict(self._queries)

    def retry(self, query_name: str) -> None:
        """Re-enable a disabled pane (by pane or query name) and poll soon."""
        pane = self._pane_of(query_name)
        self._disabled.pop(pane, None)
        if pane == "errors":
            self._full_read_due = True
        self._wake.set()

    def refresh(self) -> None:
        """Poll now instead of at the end of the current wait."""
        self._wake.set()

    def set_declared_at(self, declared_at: datetime | None) -> None:
        """The incident's declaration time changed (declared while running): reload the baseline."""
        declared_at = utc(declared_at) if declared_at is not None else None
        if declared_at != self._declared_at:
            self._declared_at = declared_at
            self._tallies.clear_baseline()
            self._baseline_error = ""
            self._wake.set()

    async def run(self, emit: Callable[[DbPoll], None], stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; ``emit`` every cycle's :class:`DbPoll`. Never raises."""
        try:
            while not stop.is_set():
                try:
                    poll = await self.poll_once()
                except Exception as exc:  # a bug: say so and keep going rather than end the panes
                    log.exception("the database poll failed")
                    self._lost(exc)
                    poll = self._poll(self._clock())
                try:
                    emit(poll)
                except Exception:
                    log.exception("the database poll's emit callback failed")
                if stop.is_set():
                    break
                await self._sleep(self._delay(poll), stop)
        finally:
            if self._conn is not None:
                await self.close()

    async def poll_once(self) -> DbPoll:
        """One cycle: connect if needed, run every enabled pane's query, return the poll."""
        async with self._lock:
            self._wake.clear()
            fetched = self._clock()
            self._db_ms = 0.0
            if not self._db.dsn:
                return self._poll(fetched)
            if self._conn is None or self._conn.is_closed():
                if self._conn is not None:
                    self._lost(ConnectionLost("the connection was closed"))
                try:
                    await self._open()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._connect_failed(exc)
                    return self._poll(fetched)
            try:
                await self._end_tx()  # one a cancelled cycle left open
                await self._pane("errors", self._poll_errors)
                await self._pane("health", self._poll_health)
                await self._pane("sms", self._poll_sms)
                await self._pane("error_rate", self._poll_error_rate)
                for i, pane in enumerate(self._db.panes):
                    await self._pane(pane_name(i), lambda i=i, pane=pane: self._poll_table(i, pane))
                await self._end_tx()
            except ConnectionLost as exc:
                self._lost(exc)
            else:
                # A whole cycle went through: only now is the database back (a connection that
                # opens but whose queries time out must keep backing off).
                self._failures = 0
                self._down_since = None
            return self._poll(fetched)

    async def close(self) -> None:
        """Close the connection (politely, then by force)."""
        conn, self._conn = self._conn, None
        self._tx = _TX_NONE
        if conn is None or conn.is_closed():
            return
        try:
            await asyncio.wait_for(conn.close(), timeout=2)
        except asyncio.CancelledError:
            conn.terminate()
            raise
        except Exception:
            conn.terminate()

    # -- loop plumbing --------------------------------------------------------------------------------------
    def _delay(self, poll: DbPoll) -> float:
        st = poll.connection
        if st.status == "not_configured":
            return 3600.0
        if st.status == "unreachable" and st.retry_at is not None:
            return max(0.0, (st.retry_at - self._clock()).total_seconds())
        return self._db.poll_interval.total_seconds()

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        if self._wake.is_set() or seconds <= 0:
            return
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    def backoff(self, failures: int) -> float:
        """Seconds before the next attempt after ``failures`` failed ones (equal jitter)."""
        if failures <= 0:
            return 0.0
        d = min(self._backoff_cap, self._backoff_base * 2 ** min(failures - 1, 30))
        return d * (0.5 + 0.5 * self._rng())

    # -- connection -----------------------------------------------------------------------------------------
    async def _open(self) -> None:
        self._conn = await connect(self.settings)
        self._tx = _TX_NONE
        v = self._conn.get_server_version()
        self._snapshot_sql = sql_text("snapshot" if v.major >= 13 else "snapshot_pre13")
        self._state = ConnectionState(
            "connected",
            since=self._clock(),
            server_version=clean(self._conn.get_settings().server_version, max_len=40),
            dsn=self._db.masked_dsn,
        )
        self._full_read_due = True  # rows may have come and gone while we were away
        if self._er.id_column and not self._id_checked:
            await self._check_id_column()

    async def _check_id_column(self) -> None:
        """The id watermark needs an integer id (bigserial); a uuid or text id (Supabase tables often
        use gen_random_uuid()) would fail every poll, so count by the time column instead, and say so."""
        conn = self._conn
        assert conn is not None
        try:
            await self._begin_tx(conn)
            kind = await conn.fetchval(
                "SELECT format_type(a.atttypid, NULL) FROM pg_attribute a "
                "WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped",
                quote_ident(self._er.table),
                self._er.id_column,
                timeout=_seconds(self._db.statement_timeout) + 1,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            self._tx = _TX_FAILED
            return  # the table may not exist yet: the errors pane says so itself
        self._id_checked = True
        if kind is not None and kind not in ("bigint", "integer", "smallint"):
            self._id_note = (
                f"{self._er.table}.{self._er.id_column} is {kind}, not an integer: counting by "
                f'{self._er.time_column} (set [errors] id_column = "" to say so)'
            )
            self._er = replace(self._er, id_column="")
            self._queries = load_queries(replace(self.settings, errors=self._er))
            self._watermark = Watermark()

    def _connect_failed(self, exc: BaseException) -> None:
        now = self._clock()
        self._failures += 1
        if self._down_since is None:
            self._down_since = now
        since = self._down_since
        self._state = ConnectionState(
            "unreachable",
            since=since,
            attempt=self._failures + 1,
            retry_at=now + timedelta(seconds=self.backoff(self._failures)),
            last_error=one_line(exc),
            server_version=self._state.server_version,
            dsn=self._db.masked_dsn,
        )
        self._conn = None
        self._tx = _TX_NONE

    def _lost(self, exc: BaseException) -> None:
        """The connection broke mid-cycle: drop it. The first loss reconnects at once; losses in a
        row without a clean cycle between them back off like failed connects."""
        conn, self._conn = self._conn, None
        self._tx = _TX_NONE
        if conn is not None and not conn.is_closed():
            conn.terminate()
        now = self._clock()
        self._failures += 1
        if self._down_since is None:
            self._down_since = now
        wait = 0.0 if self._failures <= 1 else self.backoff(self._failures - 1)
        self._state = ConnectionState(
            "unreachable",
            since=self._down_since,
            attempt=self._failures,
            retry_at=now + timedelta(seconds=wait),
            last_error=one_line(exc.__cause__ or exc) if isinstance(exc, ConnectionLost) else one_line(exc),
            server_version=self._state.server_version,
            dsn=self._db.masked_dsn,
        )
        self._full_read_due = True

    def _poll(self, fetched: datetime) -> DbPoll:
        d = self._disabled
        panes: list[TablePane | QueryFailure | None] = []
        for i, data in enumerate(self._panes):
            panes.append(d.get(pane_name(i), data))
        return DbPoll(
            fetched_at=fetched,
            connection=self._state,
            errors=d.get("errors", self._errors),
            health=d.get("health", self._health),
            sms=d.get("sms", self._sms),
            error_rate=d.get("error_rate", self._rate),
            panes=tuple(panes),
            db_ms=round(self._db_ms, 3),
        )

    # -- running queries ------------------------------------------------------------------------------------
    def _pane_of(self, name: str) -> str:
        if name in PANES or name.startswith("pane:"):
            return name
        for pane, names in PANES.items():
            if name in names:
                return pane
        return name

    async def _pane(self, pane: str, poll: Callable[[], Awaitable[None]]) -> None:
        """Run one pane's poll unless it is disabled; a failure of its own disables it."""
        if pane in self._disabled:
            return
        try:
            await poll()
        except (ConnectionLost, asyncio.CancelledError):
            raise
        except _QueryFailed as failed:
            self._disabled[pane] = failed.failure
        except Exception as exc:  # odd data from a team's query, or a bug: the pane says so
            log.warning("the %s pane failed: %s", pane, one_line(exc))
            if self._conn is not None and self._conn.is_closed():
                raise ConnectionLost(one_line(exc)) from exc
            reason = clean(f"unexpected {type(exc).__name__}: {one_line(exc)}", max_len=200)
            self._disabled[pane] = QueryFailure(PANES.get(pane, (pane,))[0], reason, "error", self._clock())

    async def _fetch(self, query: Query, *args: Any, limit: timedelta | None = None) -> list[asyncpg.Record]:
        """Run a query; failures become :class:`_QueryFailed` or :class:`ConnectionLost`."""
        conn = self._conn
        if conn is None:
            raise ConnectionLost("not connected")
        if query.error:
            raise _QueryFailed(QueryFailure(query.name, query.error, "error", self._clock()))
        n = query.params
        args = args[:n]
        if len(args) < n:
            failure = QueryFailure(
                query.name, f"uses ${n} but gets only {len(args)} parameter(s)", "error", self._clock()
            )
            raise _QueryFailed(failure)
        st = limit or self._db.statement_timeout
        alone = query.origin != "built-in" and not self._in_tx
        if alone:
            await self._end_tx()
        t0 = time.perf_counter()
        try:
            if not self._in_tx:
                await self._begin_tx(conn)
            rows = await conn.fetch(query.sql, *args, timeout=_seconds(st) + 1)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._tx_failed()
            raise self._failure(query.name, exc, st) from exc
        finally:
            self._db_ms += (time.perf_counter() - t0) * 1000
        if alone:
            await self._end_tx()
        return rows

    # -- the poll cycle's read-only transaction (see the module docstring) -------------------------------
    # A team's query (replaced or a pane) gets a transaction of its own: within a transaction it may
    # still change the session (set_config('statement_timeout', '0', false) holds from there on),
    # and the next transaction's SET LOCAL puts the timeout back for the queries after it.
    async def _begin_tx(self, conn: asyncpg.Connection) -> None:
        """Open the cycle's read-only transaction unless it is open (ending a failed one first, in
        the same round trip)."""
        if self._tx == _TX_OPEN:
            return
        st = self._db.statement_timeout
        sql = f"BEGIN READ ONLY; SET LOCAL statement_timeout = {_ms(st)}"
        if self._tx == _TX_FAILED:
            sql = "ROLLBACK; " + sql
        self._tx = _TX_FAILED  # until the server has said yes
        await conn.execute(sql, timeout=_seconds(st) + 1)
        self._tx = _TX_OPEN

    def _tx_failed(self) -> None:
        """A query of the cycle's transaction failed: the server has aborted it."""
        if not self._in_tx and self._tx == _TX_OPEN:
            self._tx = _TX_FAILED

    async def _end_tx(self) -> None:
        """End the cycle's transaction, if one is open; a failure is connection trouble."""
        conn = self._conn
        if self._tx == _TX_NONE or conn is None:
            self._tx = _TX_NONE
            return
        sql = "COMMIT" if self._tx == _TX_OPEN else "ROLLBACK"
        self._tx = _TX_NONE
        t0 = time.perf_counter()
        try:
            await conn.execute(sql, timeout=_seconds(self._db.statement_timeout) + 1)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise ConnectionLost(one_line(exc)) from exc
        finally:
            self._db_ms += (time.perf_counter() - t0) * 1000

    def _failure(self, name: str, exc: Exception, timeout: timedelta) -> Exception:
        kind = classify(exc, self._conn)
        if kind is None:
            lost = ConnectionLost(one_line(exc))
            lost.__cause__ = exc
            return lost
        return _QueryFailed(QueryFailure(name, _reason(exc, kind, timeout, name), kind, self._clock()))

    async def _internal(self, sql: str, *args: Any) -> asyncpg.Record:
        """One of our own single-row queries (snapshot): any failure is a connection problem
        unless it is a timeout, which is the errors pane's."""
        conn = self._conn
        if conn is None:
            raise ConnectionLost("not connected")
        t0 = time.perf_counter()
        try:
            if not self._in_tx:
                await self._begin_tx(conn)
            row = await conn.fetchrow(sql, *args, timeout=_seconds(self._db.statement_timeout) + 1)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._tx_failed()
            raise self._failure("snapshot", exc, self._db.statement_timeout) from exc
        finally:
            self._db_ms += (time.perf_counter() - t0) * 1000
        if row is None:
            raise _QueryFailed(QueryFailure("snapshot", "returned no row", "error", self._clock()))
        return row

    def _server_now(self) -> datetime:
        return self._clock() + self._server_offset

    # -- errors pane ----------------------------------------------------------------------------------------
    async def _poll_errors(self) -> None:
        ms0 = self._db_ms
        t = self._tallies
        clock_now = self._clock()
        due = (
            self._full_read_due
            or not t.loaded
            or self._full_read_at is None
            or clock_now - self._full_read_at >= self._db.resync_interval
            or t.needs_full_read(self._server_now() + 2 * self._db.poll_interval)
        )
        full = due
        if not due:
            full = not await self._incremental()
        if full:
            await self._full_read()
        if self._declared_at is not None and not t.has_baseline and (full or not self._baseline_error):
            await self._baseline()
        notes = [self._id_note] if self._id_note else []
        if not self._complete:
            notes.append("ids may be missing until the next full read (too many gaps)")
        if not t.exact:
            notes.append("the oldest minute is approximate until the next full read")
        self._errors = t.snapshot(
            self._clock(),
            mode="id" if self._er.id_column else "time",
            full_read=full,
            watermark=self._watermark.high if self._er.id_column else None,
            pending_ids=len(self._watermark.pending) if self._er.id_column else 0,
            db_ms=round(self._db_ms - ms0, 3),
            baseline_error=self._baseline_error,
            notes=tuple(notes),
        )
        self._errors = _replace_exact(self._errors, t.exact and self._complete)

    async def _full_read(self) -> None:
        conn = self._conn
        assert conn is not None
        er, db = self._er, self._db
        margin = max(timedelta(minutes=1), 3 * db.poll_interval)
        tally = self._queries["error_tally"]
        ids_q = self._queries["error_tally_ids"]
        keys = self._tallies.max_keys
        await self._end_tx()  # its own transaction, never inside the cycle's
        self._in_tx = True
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                # A hash aggregate (the planner takes every row for its own group and would sort).
                await conn.execute(
                    f"SET LOCAL statement_timeout = {_ms(db.resync_timeout)}; "
                    f"SET LOCAL enable_sort = off; SET LOCAL work_mem = '{FULL_READ_WORK_MEM}'"
                )
                snap = await self._internal(self._snapshot_sql)
                now = _utc(snap["now"], "now")
                start = now - er.window
                exact_until = ceil_minute(start + db.resync_interval + margin)
                if er.id_column:
                    groups = tally_groups(
                        await self._fetch(tally, start, None, exact_until, keys, limit=db.resync_timeout),
                        exact_until,
                    )
                    rows = await self._fetch(ids_q, GAP_LOOKBACK, limit=db.resync_timeout)
                    if len(rows) != 1:
                        raise _shape(ids_q.name, f"returned {len(rows)} rows, expected one", self._clock())
                    high = rows[0].get("high")
                    ids = rows[0].get("ids") or []
                    tail_start = None
                    tail: list[TallyGroup] = []
                else:
                    tail_start = now - er.overlap
                    groups = tally_groups(
                        await self._fetch(
                            tally, start, tail_start, exact_until, keys, limit=db.resync_timeout
                        ),
                        exact_until,
                    )
                    tail = tally_groups(
                        await self._fetch(tally, tail_start, None, FAR_FUTURE, keys, limit=db.resync_timeout),
                        FAR_FUTURE,
                    )
        except ShapeError as exc:
            raise _shape(tally.name, str(exc), self._clock()) from exc
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The transaction's own BEGIN/SET/COMMIT failing.
            raise self._failure(tally.name, exc, db.resync_timeout) from exc
        finally:
            self._in_tx = False
        self._tallies.load(now, groups, exact_until, tail_start=tail_start, tail=tail)
        if er.id_column:
            self._watermark.reset(
                None if high is None else int(high), [int(i) for i in ids], GAP_LOOKBACK, snap["xmax"]
            )
        self._complete = True
        self._full_read_due = False
        self._full_read_at = self._clock()
        self._server_offset = now - self._clock()

    async def _incremental(self) -> bool:
        """Fetch what is new; ``False`` when a full read is needed instead."""
        snap = await self._internal(self._snapshot_sql)
        now = _utc(snap["now"], "now")
        self._server_offset = now - self._clock()
        t = self._tallies
        if not self._er.id_column:
            t.advance(now)
            tail_start = now - self._er.overlap
            current = t.tail_start
            if current is not None and tail_start < current:
                tail_start = current
            q = self._queries["error_tally"]
            try:
                rows = await self._fetch(q, tail_start, None, FAR_FUTURE, t.max_keys)
                t.replace_tail(tail_start, tally_groups(rows, FAR_FUTURE))
            except ShapeError as exc:
                raise _shape(q.name, str(exc), self._clock()) from exc
            return True
        wm = self._watermark
        wm.note_xmax(snap["xmax"])
        q = self._queries["error_tally_since"]
        after = wm.high if wm.high is not None else -(2**63)
        rows = await self._fetch(q, after, wm.recheck_ids(), MAX_NEW_ROWS)
        try:
            ids = [_int(_col(r, "id", q.name, "id, at, error_type, error_message"), "id") for r in rows]
            if sum(1 for i in ids if i > after) >= MAX_NEW_ROWS:
                return False
            t.advance(now)
            new, complete = wm.accept(ids, xmin_before=snap["xmin"])
            for r, i in zip(rows, ids, strict=True):
                if i in new:
                    new.discard(i)  # a query returning a row twice counts it once
                    at = _col(r, "at", q.name, "id, at, error_type, error_message")
                    t.add(
                        _text(_col(r, "error_type", q.name, "error_type")),
                        _text(_col(r, "error_message", q.name, "error_message")),
                        None if at is None else _utc(at, f"{q.name}: at"),
                    )
        except ShapeError as exc:
            raise _shape(q.name, str(exc), self._clock()) from exc
        if not complete:
            self._complete = False
        return True

    async def _baseline(self) -> None:
        declared = self._declared_at
        assert declared is not None
        q = self._queries["error_tally"]
        try:
            window = declared - self._er.window
            groups = tally_groups(await self._fetch(q, window, declared, None, self._tallies.max_keys), None)
        except _QueryFailed as failed:
            self._baseline_error = f"baseline at the declaration: {failed.failure.reason}"
            return
        except ShapeError as exc:
            self._baseline_error = clean(f"baseline at the declaration: {exc}", max_len=200)
            return
        self._tallies.set_baseline(declared, groups)
        self._baseline_error = ""

    # -- health ---------------------------------------------------------------------------------------------
    async def _poll_health(self) -> None:
        q = self._queries["db_health"]
        rows = await self._fetch(q)
        now = self._clock()
        if len(rows) != 1:
            raise _shape(q.name, f"returned {len(rows)} rows, expected one", now)
        r = rows[0]
        try:
            cols = "max_connections, total, active, waiting, idle, idle_in_transaction, ..."
            total = _int(_col(r, "total", q.name, cols), "total")
            active = _int(_col(r, "active", q.name, cols), "active")
            waiting = _int(_col(r, "waiting", q.name, cols), "waiting")
            idle = _int(_col(r, "idle", q.name, cols), "idle")
            idle_tx = _int(_col(r, "idle_in_transaction", q.name, cols), "idle_in_transaction")
            max_conn = _int(_col(r, "max_connections", q.name, cols), "max_connections")
        except ShapeError as exc:
            raise _shape(q.name, str(exc), now) from exc
        longest = None
        if r.get("longest_pid") is not None:
            longest = LongQuery(
                int(r["longest_pid"]),
                float(r.get("longest_seconds") or 0.0),
                first_line(r.get("longest_query"), 200),
            )
        blockers = {}
        for b in _json_list(r.get("blockers")):
            with contextlib.suppress(KeyError, TypeError, ValueError):
                blockers[int(b["pid"])] = (clean(b.get("state"), max_len=40), first_line(b.get("query"), 200))
        blocked = []
        for b in _json_list(r.get("blocked"))[:5]:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                by = tuple(int(p) for p in (b.get("blocked_by") or []))
                state, query = blockers.get(by[0], ("", "")) if by else ("", "")
                blocked.append(
                    BlockedQuery(
                        int(b["pid"]),
                        float(b.get("seconds") or 0.0),
                        first_line(b.get("query"), 200),
                        by,
                        state,
                        query,
                    )
                )
        size = await self._poll_size(now)
        self._health = HealthSnapshot(
            fetched_at=now,
            max_connections=max_conn,
            total=total,
            active=active,
            waiting=waiting,
            idle=idle,
            idle_in_transaction=idle_tx,
            other=max(0, total - active - waiting - idle - idle_tx),
            longest=longest,
            blocked=tuple(blocked),
            size=size,
        )

    async def _poll_size(self, now: datetime) -> DbSize | QueryFailure | None:
        if "db_size" in self._disabled:
            return self._disabled["db_size"]
        if self._size is not None and now - self._size.fetched_at < self._db.size_interval:
            return self._size
        q = self._queries["db_size"]
        try:
            rows = await self._fetch(q)
            if not rows:
                raise _shape(q.name, "returned no row", now)
            self._size = DbSize(_int(rows[0][0], "bytes"), self._clock())
        except ShapeError as exc:
            self._disabled["db_size"] = QueryFailure(q.name, clean(str(exc), max_len=200), "error", now)
            return self._disabled["db_size"]
        except _QueryFailed as failed:
            self._disabled["db_size"] = failed.failure
            return failed.failure
        return self._size

    # -- SMS failures ---------------------------------------------------------------------------------------
    async def _poll_sms(self) -> None:
        q = self._queries["sms_failures"]
        rows = await self._fetch(q, self._er.window, SMS_ROWS)
        now = self._clock()
        # By row key: a team's query may list a (phone, message) twice, or two that differ only
        # past the cut; the pane's table needs one row per key (their counts add up).
        by_key: dict[str, SmsRow] = {}
        total = groups = 0
        try:
            for r in rows[:SMS_ROWS]:
                cols = "phone_number, error_message, count"
                phone = _cut(_text(_col(r, "phone_number", q.name, cols)), SMS_PHONE_CHARS)
                msg = _cut(_text(_col(r, "error_message", q.name, cols)), MESSAGE_CHARS)
                n = _int(_col(r, "count", q.name, cols), "count")
                key = row_key(phone, msg)
                seen = by_key.get(key)
                if seen is not None:
                    by_key[key] = replace(seen, count=seen.count + n)
                else:
                    by_key[key] = SmsRow(key, mask_phone(phone), clean(msg, max_len=300), n)
        except ShapeError as exc:
            raise _shape(q.name, str(exc), now) from exc
        out = list(by_key.values())
        if rows:
            total = _int(rows[0].get("total_failed"), "total_failed") or sum(r.count for r in out)
            groups = _int(rows[0].get("groups"), "groups") or len(out)
        self._sms = SmsSnapshot(now, self._er.window, tuple(out), total, groups, groups > len(out))

    # -- error rate -----------------------------------------------------------------------------------------
    async def _poll_error_rate(self) -> None:
        q = self._queries["error_rate"]
        lookback = self._er.rate_sustain + timedelta(minutes=10)
        rows = await self._fetch(q, lookback)
        fetched = self._clock()
        er = self._er
        columns = list(rows[0].keys()) if rows else []
        if rows and "minute" not in columns:
            value = rows[0][0]
            try:
                v = None if value is None else float(value)
            except (TypeError, ValueError):
                raise _shape(q.name, "its first column is not a number", fetched) from None
            self._rate = self._rate_tracker.observe(v, self._server_now(), fetched)
            return
        try:
            minutes = [
                RateMinute(
                    _utc(_col(r, "minute", q.name, "minute, failed, total"), "minute"),
                    _int(_col(r, "failed", q.name, "minute, failed, total"), "failed"),
                    _int(_col(r, "total", q.name, "minute, failed, total"), "total"),
                )
                for r in rows
            ]
        except ShapeError as exc:
            raise _shape(q.name, str(exc), fetched) from exc
        self._rate = rate_from_series(
            minutes,
            now=self._server_now(),
            lookback=lookback,
            threshold=er.rate_threshold,
            sustain=er.rate_sustain,
            fetched_at=fetched,
        )

    # -- extra panes ----------------------------------------------------------------------------------------
    async def _poll_table(self, index: int, pane: QueryPane) -> None:
        name = pane_name(index)
        q = self._queries[name]
        conn = self._conn
        if conn is None:
            raise ConnectionLost("not connected")
        if q.error:
            raise _QueryFailed(QueryFailure(name, q.error, "error", self._clock()))
        st = self._db.statement_timeout
        await self._end_tx()  # a team's query: a transaction of its own
        t0 = time.perf_counter()
        try:
            await self._begin_tx(conn)
            cur = await conn.cursor(q.sql, timeout=_seconds(st) + 1)
            rows = await cur.fetch(MAX_TABLE_ROWS + 1, timeout=_seconds(st) + 1)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._tx_failed()
            raise self._failure(name, exc, st) from exc
        finally:
            self._db_ms += (time.perf_counter() - t0) * 1000
        await self._end_tx()
        names = list(rows[0].keys()) if rows else []
        columns = tuple(clean(c, max_len=60) for c in names)
        self._panes[index] = TablePane(
            name=name,
            title=clean(pane.title, max_len=80),
            fetched_at=self._clock(),
            columns=columns,
            rows=tuple(tuple(cell(v) for v in r.values()) for r in rows[:MAX_TABLE_ROWS]),
            truncated=len(rows) > MAX_TABLE_ROWS,
        )


class _QueryFailed(Exception):
    def __init__(self, failure: QueryFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def _shape(name: str, reason: str, now: datetime) -> _QueryFailed:
    return _QueryFailed(QueryFailure(name, clean(reason, max_len=200), "error", now))


def _replace_exact(snap: TallySnapshot, exact: bool) -> TallySnapshot:
    return snap if snap.exact == exact else replace(snap, exact=exact)


def _json_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _seconds(td: timedelta) -> float:
    return td.total_seconds()


def _ms(td: timedelta) -> int:
    return max(1, int(td.total_seconds() * 1000))


# -- connecting and probing --------------------------------------------------------------------------------


_KEYWORD = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)")
_KEYWORDS = {
    "host": "host",
    "hostaddr": "host",
    "port": "port",
    "user": "user",
    "password": "password",
    "dbname": "database",
    "sslmode": "ssl",
}
_IGNORED_KEYWORDS = {"application_name", "connect_timeout", "fallback_application_name"}


def dsn_arguments(dsn: str) -> dict[str, Any]:
    """asyncpg's arguments for a URL DSN or a libpq ``key=value`` one (which asyncpg lacks).

    Errors name the keyword, never its value (it may be the password)."""
    if "://" in dsn:
        return {"dsn": dsn}
    out: dict[str, Any] = {}
    pos = 0
    text = dsn.strip()
    while pos < len(text):
        m = _KEYWORD.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError("the DSN is neither a postgresql:// URL nor key=value pairs")
        key, raw = m.group(1).lower(), m.group(2)
        value = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith("'") else raw
        pos = m.end()
        if key in _IGNORED_KEYWORDS:
            continue
        if key not in _KEYWORDS:
            raise ValueError(f"the DSN keyword {key!r} is not supported (use a postgresql:// URL)")
        if key == "port":
            if not value.isdigit():
                raise ValueError("the DSN's port is not a number")
            out["port"] = int(value)
        else:
            out[_KEYWORDS[key]] = value
    return out


async def connect(settings: Settings) -> asyncpg.Connection:
    """The console's connection: identified, read-only, time-limited (see the module docstring)."""
    db = settings.database
    if not db.dsn:
        raise ValueError("no database configured")
    server_settings = {"application_name": "warroom", "TimeZone": "UTC"}
    if not db.pgbouncer:
        server_settings |= {
            "default_transaction_read_only": "on",
            "statement_timeout": str(_ms(db.statement_timeout)),
            "idle_in_transaction_session_timeout": str(
                max(IDLE_IN_TRANSACTION_TIMEOUT_MS, 2 * _ms(db.resync_timeout))
            ),
        }
    timeout = _seconds(db.connect_timeout)
    async with asyncio.timeout(timeout + 1):  # a backstop: asyncpg's own timeout should fire first
        return await asyncpg.connect(
            **dsn_arguments(db.dsn),
            timeout=timeout,
            command_timeout=_seconds(db.command_timeout),
            statement_cache_size=0 if db.pgbouncer else 100,
            server_settings=server_settings,
        )


def _summary(name: str, record: asyncpg.Record) -> str:
    parts = []
    for key, value in record.items():
        if name == "sms_failures" and key == "phone_number":
            text = mask_phone(value)
        elif isinstance(value, list):
            text = f"[{len(value)} values]"
        elif isinstance(value, datetime):
            text = value.isoformat(sep=" ", timespec="seconds")
        else:
            text = clean(value, max_len=40)
        parts.append(f"{clean(key, max_len=30)}={text}")
    return clean(", ".join(parts), max_len=200)


class ProbeLines(list[str]):
    """The probe's lines; ``failed`` when the database is unreachable or a query fails."""

    failed = False


async def probe(settings: Settings) -> ProbeLines:
    """``warroom check``: what the database says, one line per fact, without secrets."""
    db, er = settings.database, settings.errors
    register_dsn(db.dsn)
    lines = ProbeLines()
    if not db.dsn:
        lines.append("database: not configured (--dsn, WARROOM_DSN, DATABASE_URL or [database] dsn)")
        return lines
    lines.append(f"database: {db.masked_dsn}" + (f" (from {db.dsn_source})" if db.dsn_source else ""))
    try:
        conn = await connect(settings)
    except Exception as exc:
        lines.append(f"database: unreachable: {one_line(exc)}")
        lines.failed = True
        return lines
    try:
        s = await conn.fetchrow(sql_text("probe_session"))
        assert s is not None
        lines.append(f"server: PostgreSQL {clean(s['server_version'], max_len=60)}")
        read_only = s["read_only"]  # the session, outside any transaction
        lines.append(
            f"session: read-only {clean(read_only)}, statement_timeout {clean(s['statement_timeout'])}"
            + (
                " (pgbouncer: each query runs in BEGIN READ ONLY with SET LOCAL statement_timeout)"
                if db.pgbouncer
                else ""
            )
            + f", application_name {clean(s['application_name'])}, database {clean(s['database'])}"
            + f", user {clean(s['user_name'])}"
        )
        if read_only != "on" and not db.pgbouncer:
            lines.append("warning: the session is not read-only")
        if er.id_column:
            lines.append(
                f"tallies: incremental by id (watermark on {er.table}.{er.id_column}), "
                f"full read every {db.resync_interval.total_seconds():g} s"
            )
        else:
            lines.append(
                f"tallies: incremental by time ({er.table}.{er.time_column}, "
                f"{er.overlap.total_seconds():g} s overlap; no id column)"
            )
        query_lines, queries_failed = await _probe_queries(conn, settings)
        lines += query_lines
        lines.failed = queries_failed
        async with conn.transaction(readonly=True):
            lines += await _probe_indexes(conn, er)
    except Exception as exc:
        lines.append(f"database: the probe failed: {one_line(exc)}")
        lines.failed = True
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(), timeout=2)
        if not conn.is_closed():
            conn.terminate()
    return lines


async def _probe_queries(conn: asyncpg.Connection, settings: Settings) -> tuple[list[str], bool]:
    """One line per query, and whether any failed."""
    db, er = settings.database, settings.errors
    queries = load_queries(settings)
    now = datetime.now(UTC)
    high: int | None = None
    args: dict[str, tuple[Any, ...]] = {
        "error_tally": (now - er.window, None, None, MAX_KEYS),
        "error_tally_ids": (100,),
        "error_tally_since": (None, [], 100),
        "db_health": (),
        "db_size": (),
        "sms_failures": (er.window, SMS_ROWS),
        "error_rate": (er.rate_sustain + timedelta(minutes=10),),
    }
    lines = []
    failed = False
    for name, q in queries.items():
        if not er.id_column and name in ("error_tally_ids", "error_tally_since"):
            continue
        label = f"query {name} ({q.origin})"
        if name.startswith("pane:"):
            pane = db.panes[int(name.split(":")[1]) - 1]
            label = f"pane {clean(pane.title, max_len=60)!r} ({q.origin})"
        if q.error:
            lines.append(f"{label}: error: {q.error}")
            failed = True
            continue
        a = args.get(name, ())
        if name == "error_tally_since":
            a = ((high or 0) - 100, [], 100)
        a = a[: q.params]
        t0 = time.perf_counter()
        try:
            # Read-only and time-boxed whatever the session says (with pgbouncer it says nothing).
            async with conn.transaction(readonly=True):
                await conn.execute(f"SET LOCAL statement_timeout = {_ms(db.statement_timeout)}")
                if name.startswith("pane:"):
                    cur = await conn.cursor(q.sql)
                    rows = await cur.fetch(MAX_TABLE_ROWS + 1)
                else:
                    rows = await conn.fetch(q.sql, *a)
        except Exception as exc:
            kind = classify(exc, conn) or "error"
            lines.append(f"{label}: {kind}: {_reason(exc, kind, db.statement_timeout, name)}")
            failed = True
            continue
        ms = (time.perf_counter() - t0) * 1000
        if name == "error_tally_ids" and rows:
            high = rows[0].get("high")
        first = f"; first: {_summary(name, rows[0])}" if rows else ""
        lines.append(f"{label}: {len(rows)} row(s) in {ms:.0f} ms{first}")
    return lines, failed


async def _probe_indexes(conn: asyncpg.Connection, er: ErrorSettings) -> list[str]:
    sql = sql_text("probe_index")
    table = quote_ident(er.table)
    lines = []
    row = await conn.fetchrow(sql, table, er.time_column)
    assert row is not None
    if not row["table_exists"]:
        return [f"warning: table {er.table} not found (set [errors] table)"]
    if not row["indexed"]:
        lines.append(
            f"warning: no index on {er.table}({er.time_column}): every full read of the tallies "
            f"scans the whole table (CREATE INDEX ON {er.table} ({er.time_column}))"
        )
    if er.id_column:
        row = await conn.fetchrow(sql, table, er.id_column)
        if row is not None and not row["indexed"]:
            lines.append(f"warning: no index on {er.table}({er.id_column}): every poll scans the whole table")
    return lines


def run_probe(settings: Settings) -> ProbeLines:
    """:func:`probe` from synchronous code (the CLI)."""
    return asyncio.run(probe(settings))


__all__ = [
    "PANES",
    "ConnectionLost",
    "PostgresSource",
    "Query",
    "connect",
    "load_queries",
    "probe",
    "run_probe",
    "schema_sql",
    "sql_text",
]
