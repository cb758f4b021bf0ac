"""What a failed query means: a failure of the pane's own, or trouble with the connection.

A query that fails for a reason of its own (a missing table or column, a missing privilege, the
statement timeout, any other SQL error, rows without the columns its pane needs) disables only its
pane: :class:`QueryFailed` carries the :class:`~warroom.sources.dbpoll.QueryFailure` the pane shows
until ``PostgresSource.retry``. Connection trouble (:class:`ConnectionLost`) makes the whole poll
``unreachable`` and keeps every pane's last data. Either way the reason is one cleaned line,
without secrets (:func:`one_line`).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import asyncpg

from warroom.sources.dbpoll import FailureKind, QueryFailure
from warroom.text import clean

REASON_CHARS = 200


class ConnectionLost(Exception):
    """The connection broke (or never answered): the whole poll becomes ``unreachable``."""


class QueryFailed(Exception):
    """A query failed for a reason of its own: its pane shows ``failure`` until retried."""

    def __init__(self, failure: QueryFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


class ShapeError(Exception):
    """A query's rows lack what its pane needs (usually a team's replacement query)."""

    def __init__(self, query: str, reason: str) -> None:
        super().__init__(f"{query}: {reason}")
        self.query = query
        self.reason = reason

    def failure(self, now: datetime) -> QueryFailure:
        return QueryFailure(self.query, clean(self.reason, max_len=REASON_CHARS), "error", now)


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
_ID_QUERIES = ("error_tally_ids", "error_tally_since")


def one_line(exc: BaseException) -> str:
    """An error as one cleaned, secret-free line."""
    if isinstance(exc, TimeoutError):
        text = "no answer within the timeout"
    else:
        text = str(exc).strip() or type(exc).__name__
        if isinstance(exc, OSError) and exc.errno and "Connect call failed" in text:
            text = os.strerror(exc.errno).lower()  # "connection refused", not a socket address
    return clean(text, max_len=REASON_CHARS)


def classify(exc: BaseException, conn: asyncpg.Connection | None) -> FailureKind | None:
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


def reason(exc: BaseException, kind: FailureKind, timeout: timedelta, query: str = "") -> str:
    """The line a pane shows for a failure of its own (with a hint where one helps)."""
    if kind == "timeout" and isinstance(exc, asyncpg.QueryCanceledError):
        return clean(f"{exc} (after {timeout.total_seconds():g} s)", max_len=REASON_CHARS)
    if isinstance(exc, asyncpg.UndefinedColumnError) and query in _ID_QUERIES:
        hint = '(no id column? set [errors] id_column = "" to use the time column)'
        return clean(f"{exc} {hint}", max_len=REASON_CHARS)
    return one_line(exc)


def failure_of(
    query: str, exc: BaseException, timeout: timedelta, conn: asyncpg.Connection | None, now: datetime
) -> QueryFailed | ConnectionLost:
    """What ``exc``, raised running ``query`` on ``conn``, means (see the module docstring)."""
    kind = classify(exc, conn)
    if kind is None:
        lost = ConnectionLost(one_line(exc))
        lost.__cause__ = exc
        return lost
    return QueryFailed(QueryFailure(query, reason(exc, kind, timeout, query), kind, now))
