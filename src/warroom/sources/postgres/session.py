"""The console's database session: opening the connection, and the one way to run a query on it.

The connection (:func:`connect`): ``application_name=warroom``, ``default_transaction_read_only=on``,
``statement_timeout`` from the settings (server side), a connect timeout, ``command_timeout`` a
second above the statement timeout (client side; when it fires the server did not even honour its
own timeout, so the connection is dropped and re-opened), ``TimeZone=UTC``, and an idle-in-
transaction timeout so a stuck console cannot hold a transaction open. With ``pgbouncer = true``
the prepared-statement cache is off and PgBouncer gets none of those startup parameters (it
refuses unknown ones).

Every query runs through :meth:`Session.fetch` (or :meth:`Session.fetchrow` for the console's own
single-row queries), in a read-only transaction whatever the session says: a query may change the
session (``set_config('default_transaction_read_only', 'off', false)``), never the transaction it
runs in. The built-in queries share one transaction (``BEGIN READ ONLY; SET LOCAL
statement_timeout`` in one round trip, opened by the first query, ``COMMIT`` by :meth:`Session.end`:
two round trips per poll, not two per query); a query that fails ends it and the next one opens
another (``ROLLBACK`` in the same round trip). A team's query (replaced in ``[database.queries]``
or a ``[[database.panes]]``) gets a transaction of its own, so what it does to the session
(``set_config('statement_timeout', '0', false)``) is undone for the queries after it by their own
``SET LOCAL``. :meth:`Session.snapshot` opens a REPEATABLE READ READ ONLY transaction of the
caller's for several queries (the tallies' full read). The session's settings are only a second
line of defence.

A failure comes out as :class:`~warroom.sources.postgres.failures.QueryFailed` (the query's pane
shows it) or :class:`~warroom.sources.postgres.failures.ConnectionLost`, never as a driver error.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

import asyncpg

from warroom.settings import DatabaseSettings, Settings
from warroom.sources.dbpoll import QueryFailure
from warroom.sources.postgres.failures import ConnectionLost, QueryFailed, failure_of, one_line
from warroom.sources.postgres.queries import Query
from warroom.text import counted

T = TypeVar("T")
IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000
CLOSE_TIMEOUT = 2.0

_Tx = Literal["none", "open", "failed"]


# -- connecting --------------------------------------------------------------------------------------------


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


def ms(td: timedelta) -> int:
    """A duration as whole milliseconds for a server setting (at least 1: 0 would mean none)."""
    return max(1, int(td.total_seconds() * 1000))


async def connect(settings: Settings) -> asyncpg.Connection:
    """The console's connection: identified, read-only, time-limited (see the module docstring)."""
    db = settings.database
    if not db.dsn:
        raise ValueError("no database configured")
    server_settings = {"application_name": "warroom", "TimeZone": "UTC"}
    if not db.pgbouncer:
        server_settings |= {
            "default_transaction_read_only": "on",
            "statement_timeout": str(ms(db.statement_timeout)),
            "idle_in_transaction_session_timeout": str(
                max(IDLE_IN_TRANSACTION_TIMEOUT_MS, 2 * ms(db.resync_timeout))
            ),
        }
    timeout = db.connect_timeout.total_seconds()
    async with asyncio.timeout(timeout + 1):  # a backstop: asyncpg's own timeout should fire first
        return await asyncpg.connect(
            **dsn_arguments(db.dsn),
            timeout=timeout,
            command_timeout=db.command_timeout.total_seconds(),
            statement_cache_size=0 if db.pgbouncer else 100,
            server_settings=server_settings,
        )


async def close(conn: asyncpg.Connection) -> None:
    """Close politely, then by force (also when cancelled)."""
    if conn.is_closed():
        return
    try:
        await asyncio.wait_for(conn.close(), timeout=CLOSE_TIMEOUT)
    except asyncio.CancelledError:
        conn.terminate()
        raise
    except Exception:
        conn.terminate()


# -- running queries ---------------------------------------------------------------------------------------


class Session:
    """An open connection and the one way to run a query on it (see the module docstring).

    ``db_ms`` adds up the time spent waiting on the database (the caller resets it)."""

    def __init__(self, conn: asyncpg.Connection, db: DatabaseSettings, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self._db = db
        self._clock = clock
        self._tx: _Tx = "none"
        self._in_snapshot = False  # inside the caller's transaction (snapshot())
        self.db_ms = 0.0

    @property
    def closed(self) -> bool:
        return self.conn.is_closed()

    async def fetch(
        self,
        query: Query,
        *args: Any,
        limit: timedelta | None = None,
        max_rows: int | None = None,
        alone: bool | None = None,
    ) -> list[asyncpg.Record]:
        """Run ``query`` with the first ``query.params`` of ``args``: its rows (at most ``max_rows``,
        read with a cursor), with ``limit`` as its statement timeout (default: the settings'). ``alone``
        (default: for a team's query) runs it in a transaction of its own; inside :meth:`snapshot`
        every query runs in the caller's."""
        if query.error:
            raise QueryFailed(QueryFailure(query.name, query.error, "error", self._clock()))
        n = query.params
        if len(args) < n:
            reason = f"uses ${n} but gets only {counted(len(args), 'parameter')}"
            raise QueryFailed(QueryFailure(query.name, reason, "error", self._clock()))
        args = args[:n]
        alone = (not query.built_in if alone is None else alone) and not self._in_snapshot
        if alone:
            await self.end()

        async def run(conn: asyncpg.Connection, seconds: float) -> list[asyncpg.Record]:
            if max_rows is None:
                return await conn.fetch(query.sql, *args, timeout=seconds)
            cursor = await conn.cursor(query.sql, *args, timeout=seconds)
            return await cursor.fetch(max_rows, timeout=seconds)

        rows = await self._run(query.name, run, limit)
        if alone:
            await self.end()
        return rows

    async def fetchrow(self, name: str, sql: str, *args: Any) -> asyncpg.Record | None:
        """One of the console's own single-row queries (``name`` says which, in a failure)."""

        async def run(conn: asyncpg.Connection, seconds: float) -> asyncpg.Record | None:
            return await conn.fetchrow(sql, *args, timeout=seconds)

        return await self._run(name, run, None)

    async def _run(
        self,
        name: str,
        call: Callable[[asyncpg.Connection, float], Awaitable[T]],
        limit: timedelta | None,
    ) -> T:
        """The one place a query runs: in the read-only transaction, timed, its failure classified."""
        limit = limit or self._db.statement_timeout
        t0 = time.perf_counter()
        try:
            if not self._in_snapshot:
                await self._begin()
            return await call(self.conn, _client_timeout(limit))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._in_snapshot and self._tx == "open":
                self._tx = "failed"  # the server has aborted it
            raise failure_of(name, exc, limit, self.conn, self._clock()) from exc
        finally:
            self.db_ms += (time.perf_counter() - t0) * 1000

    async def _begin(self) -> None:
        """Open the read-only transaction unless it is open (ending a failed one first, in the same
        round trip)."""
        if self._tx == "open":
            return
        st = self._db.statement_timeout
        sql = f"BEGIN READ ONLY; SET LOCAL statement_timeout = {ms(st)}"
        if self._tx == "failed":
            sql = "ROLLBACK; " + sql
        self._tx = "failed"  # until the server has said yes
        await self.conn.execute(sql, timeout=_client_timeout(st))
        self._tx = "open"

    async def end(self) -> None:
        """End the read-only transaction, if one is open; a failure is connection trouble."""
        if self._tx == "none":
            return
        sql = "COMMIT" if self._tx == "open" else "ROLLBACK"
        self._tx = "none"
        t0 = time.perf_counter()
        try:
            await self.conn.execute(sql, timeout=_client_timeout(self._db.statement_timeout))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise ConnectionLost(one_line(exc)) from exc
        finally:
            self.db_ms += (time.perf_counter() - t0) * 1000

    @contextlib.asynccontextmanager
    async def snapshot(self, name: str, limit: timedelta, *settings: str) -> AsyncIterator[None]:
        """A REPEATABLE READ READ ONLY transaction of the caller's, with ``statement_timeout`` set to
        ``limit`` and ``settings`` (``"work_mem = '16MB'"``...) local to it; the queries inside
        all run in it. A failure of its own ``BEGIN``, ``SET`` or ``COMMIT`` is ``name``'s."""
        await self.end()
        sets = "; ".join(f"SET LOCAL {s}" for s in (f"statement_timeout = {ms(limit)}", *settings))
        self._in_snapshot = True
        try:
            async with self.conn.transaction(isolation="repeatable_read", readonly=True):
                t0 = time.perf_counter()
                try:
                    await self.conn.execute(sets, timeout=_client_timeout(limit))
                finally:
                    self.db_ms += (time.perf_counter() - t0) * 1000
                yield
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            raise failure_of(name, exc, limit, self.conn, self._clock()) from exc
        finally:
            self._in_snapshot = False

    async def close(self) -> None:
        self._tx = "none"
        await close(self.conn)


def _client_timeout(statement_timeout: timedelta) -> float:
    """The client side's timeout: a second above the server's (the backstop for a stuck server)."""
    return statement_timeout.total_seconds() + 1
