"""Row parsing: each pane's query rows turned into its typed, cleaned snapshot.

Pure (no I/O): the rows come from asyncpg (records, or anything with ``[name]``, ``.get`` and
``.keys()``), the times from the caller. A row lacking what its pane needs raises
:class:`~warroom.sources.postgres.failures.ShapeError` naming the query (a team's replacement
query usually); every text is cut to its bound and cleaned (``warroom.text``) here, so what leaves
this module is safe to show as plain text.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from warroom.sources.dbpoll import (
    MAX_TABLE_ROWS,
    BlockedQuery,
    Blocker,
    HealthSnapshot,
    LongQuery,
    RateMinute,
    SmsRow,
    SmsSnapshot,
    TablePane,
)
from warroom.sources.postgres.failures import ShapeError
from warroom.sources.tallies import MESSAGE_CHARS, TallyGroup, row_key
from warroom.text import clean, counted, first_line, mask_phone

Row = Any  # an asyncpg.Record (or a mapping with the same access)

SMS_ROWS = 200
SMS_PHONE_CHARS = 100  # sms_failures.sql's left(phone_number, 100)
MAX_BLOCKED = 5
_TALLY_COLUMNS = "error_type, error_message, minute, count, first_at, times"
_HEALTH_COLUMNS = "max_connections, total, active, waiting, idle, idle_in_transaction, ..."
_SMS_COLUMNS = "phone_number, error_message, count"
_RATE_COLUMNS = "minute, failed, total"
SINCE_COLUMNS = "id, at, error_type, error_message"


# -- values ------------------------------------------------------------------------------------------------


def col(row: Row, name: str, query: str, expected: str) -> Any:
    """The value of column ``name``; a :class:`ShapeError` listing the ``expected`` columns if none."""
    try:
        return row[name]
    except KeyError:
        raise ShapeError(query, f"no column {name!r} in its rows (expected {expected})") from None


def as_utc(value: Any, query: str, what: str) -> datetime:
    """A timestamp as an aware UTC datetime (a naive one is taken as UTC)."""
    if not isinstance(value, datetime):
        raise ShapeError(query, f"{what} is not a timestamp ({type(value).__name__})")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_int(value: Any, query: str, what: str) -> int:
    """A count (``NULL`` is 0)."""
    if value is None:
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ShapeError(query, f"{what} is not a number") from None


def as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def cut(value: str | None, n: int) -> str | None:
    """The first ``n`` characters, as SQL's ``left()`` (a team's query may return more)."""
    return None if value is None else value[:n]


def one_row(rows: Sequence[Row], query: str) -> Row:
    if len(rows) != 1:
        raise ShapeError(query, f"returned {len(rows)} rows, expected one")
    return rows[0]


def json_list(value: Any) -> list[dict[str, Any]]:
    """A JSON array of objects (a ``json`` column comes as text); anything else is empty."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# -- the errors pane ---------------------------------------------------------------------------------------


def tally_groups(
    rows: Sequence[Row], exact_until: datetime | None, query: str = "error_tally"
) -> list[TallyGroup]:
    """``error_tally`` rows as groups; the minutes before ``exact_until`` must list their times."""
    out = []
    for r in rows:
        minute = as_utc(col(r, "minute", query, _TALLY_COLUMNS), query, "minute")
        count = as_int(col(r, "count", query, _TALLY_COLUMNS), query, "count")
        first = col(r, "first_at", query, _TALLY_COLUMNS)
        times = col(r, "times", query, _TALLY_COLUMNS)
        if times is None and exact_until is not None and minute < exact_until and count > 0:
            raise ShapeError(query, f"no times for {minute:%H:%M} (every minute before $3 needs them)")
        if times is not None:
            if not isinstance(times, list) or len(times) != count:
                raise ShapeError(query, f"times must list the {counted(count, 'row time')} of its group")
            times = [as_utc(t, query, "times") for t in times]
        out.append(
            TallyGroup(
                as_text(col(r, "error_type", query, _TALLY_COLUMNS)),
                as_text(col(r, "error_message", query, _TALLY_COLUMNS)),
                minute,
                count,
                as_utc(first, query, "first_at") if first is not None else None,
                times or None,
                other=r.get("other") is True,
            )
        )
    return out


def new_rows(rows: Sequence[Row], query: str) -> list[tuple[int, str | None, str | None, datetime | None]]:
    """``error_tally_since`` rows as ``(id, error_type, error_message, at)``."""
    out = []
    for r in rows:
        at = col(r, "at", query, SINCE_COLUMNS)
        out.append(
            (
                as_int(col(r, "id", query, SINCE_COLUMNS), query, "id"),
                as_text(col(r, "error_type", query, SINCE_COLUMNS)),
                as_text(col(r, "error_message", query, SINCE_COLUMNS)),
                None if at is None else as_utc(at, query, "at"),
            )
        )
    return out


# -- health ------------------------------------------------------------------------------------------------


def health_snapshot(row: Row, query: str, now: datetime, size: Any) -> HealthSnapshot:
    """The ``db_health`` row (see db_health.sql); ``size`` is the db_size pane's latest."""
    total = as_int(col(row, "total", query, _HEALTH_COLUMNS), query, "total")
    active = as_int(col(row, "active", query, _HEALTH_COLUMNS), query, "active")
    waiting = as_int(col(row, "waiting", query, _HEALTH_COLUMNS), query, "waiting")
    idle = as_int(col(row, "idle", query, _HEALTH_COLUMNS), query, "idle")
    idle_tx = as_int(col(row, "idle_in_transaction", query, _HEALTH_COLUMNS), query, "idle_in_transaction")
    max_conn = as_int(col(row, "max_connections", query, _HEALTH_COLUMNS), query, "max_connections")
    return HealthSnapshot(
        fetched_at=now,
        max_connections=max_conn,
        total=total,
        active=active,
        waiting=waiting,
        idle=idle,
        idle_in_transaction=idle_tx,
        other=max(0, total - active - waiting - idle - idle_tx),
        longest=_longest(row),
        blocked=_blocked(row),
        size=size,
        blockers=_blockers(row, "blockers"),
        sessions=_blockers(row, "sessions"),
    )


def _longest(row: Row) -> LongQuery | None:
    if row.get("longest_pid") is None:
        return None
    return LongQuery(
        int(row["longest_pid"]),
        float(row.get("longest_seconds") or 0.0),
        first_line(row.get("longest_query"), 200),
    )


def _blocked(row: Row) -> tuple[BlockedQuery, ...]:
    blockers = {}
    for b in json_list(row.get("blockers")):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            blockers[int(b["pid"])] = (clean(b.get("state"), max_len=40), first_line(b.get("query"), 200))
    blocked = []
    for b in json_list(row.get("blocked"))[:MAX_BLOCKED]:
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
    return tuple(blocked)


def _blockers(row: Row, column: str) -> tuple[Blocker, ...]:
    """The ``blockers`` or ``sessions`` column's connections (a team's query without it: none)."""
    out = []
    for b in json_list(row.get(column))[: 2 * MAX_BLOCKED]:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            seconds = b.get("seconds")
            out.append(
                Blocker(
                    int(b["pid"]),
                    clean(b.get("state"), max_len=40),
                    float(seconds) if seconds is not None else None,
                    first_line(b.get("query"), 200),
                )
            )
    return tuple(out)


def size_bytes(rows: Sequence[Row], query: str) -> int:
    """The ``db_size`` row's bytes."""
    if not rows:
        raise ShapeError(query, "returned no row")
    return as_int(rows[0][0], query, "bytes")


# -- SMS failures ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2 * SMS_ROWS)
def _sms_texts(phone: str, msg: str) -> tuple[str, str, str]:
    """(row key, masked phone, cleaned message) of a cut phone and message: the same pairs come
    back on every poll, and masking and cleaning them each time was most of the poll's Python
    work (py-spy of the idle benchmark: 5 % of the console's samples)."""
    return row_key(phone, msg), mask_phone(phone), clean(msg, max_len=300)


def sms_snapshot(rows: Sequence[Row], query: str, now: datetime, window: timedelta) -> SmsSnapshot:
    """The ``sms_failures`` rows, phone numbers masked, one row per key."""
    # By row key: a team's query may list a (phone, message) twice, or two that differ only
    # past the cut; the pane's table needs one row per key (their counts add up).
    by_key: dict[str, SmsRow] = {}
    for r in rows[:SMS_ROWS]:
        phone = cut(as_text(col(r, "phone_number", query, _SMS_COLUMNS)), SMS_PHONE_CHARS)
        msg = cut(as_text(col(r, "error_message", query, _SMS_COLUMNS)), MESSAGE_CHARS)
        n = as_int(col(r, "count", query, _SMS_COLUMNS), query, "count")
        key, masked, message = _sms_texts(phone, msg)
        seen = by_key.get(key)
        if seen is not None:
            by_key[key] = replace(seen, count=seen.count + n)
        else:
            by_key[key] = SmsRow(key, masked, message, n)
    out = tuple(by_key.values())
    total = groups = 0
    if rows:
        total = as_int(rows[0].get("total_failed"), query, "total_failed") or sum(r.count for r in out)
        groups = as_int(rows[0].get("groups"), query, "groups") or len(out)
    return SmsSnapshot(now, window, out, total, groups, groups > len(out))


# -- error rate --------------------------------------------------------------------------------------------


def rate_rows(rows: Sequence[Row], query: str) -> list[RateMinute] | float | None:
    """The ``error_rate`` rows: a per-minute series, or (a team's query returning one number, no
    ``minute`` column) the current rate in percent (``None``: no value)."""
    if rows and "minute" not in list(rows[0].keys()):
        value = rows[0][0]
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            raise ShapeError(query, "its first column is not a number") from None
    return [
        RateMinute(
            as_utc(col(r, "minute", query, _RATE_COLUMNS), query, "minute"),
            as_int(col(r, "failed", query, _RATE_COLUMNS), query, "failed"),
            as_int(col(r, "total", query, _RATE_COLUMNS), query, "total"),
        )
        for r in rows
    ]


# -- a team's pane -----------------------------------------------------------------------------------------


def table_pane(name: str, title: str, rows: Sequence[Row], now: datetime) -> TablePane:
    """A team's extra pane: at most MAX_TABLE_ROWS rows (one more says it was cut) of inert text."""
    names = list(rows[0].keys()) if rows else []
    return TablePane(
        name=name,
        title=clean(title, max_len=80),
        fetched_at=now,
        columns=tuple(clean(c, max_len=60) for c in names),
        rows=tuple(tuple(cell(v) for v in r.values()) for r in rows[:MAX_TABLE_ROWS]),
        truncated=len(rows) > MAX_TABLE_ROWS,
    )


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


def summary(query: str, row: Row) -> str:
    """A row as one line for ``warroom check`` (phone numbers masked, lists counted)."""
    parts = []
    for key, value in row.items():
        if query == "sms_failures" and key == "phone_number":
            text = mask_phone(value)
        elif isinstance(value, list):
            text = f"[{len(value)} values]"
        elif isinstance(value, datetime):
            text = value.isoformat(sep=" ", timespec="seconds")
        else:
            text = clean(value, max_len=40)
        parts.append(f"{clean(key, max_len=30)}={text}")
    return clean(", ".join(parts), max_len=200)
