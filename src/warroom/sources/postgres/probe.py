"""``warroom check``: what the database says, one line per fact, without secrets.

The probe opens the console's own connection (:func:`~warroom.sources.postgres.session.connect`)
and runs every query the console would, each in a read-only transaction of its own with the
statement timeout (:meth:`~warroom.sources.postgres.session.Session.fetch`, ``alone``), then looks
for the indexes the tallies need.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from typing import Any

from warroom.durations import utc_now
from warroom.settings import ErrorSettings, Settings
from warroom.sources.dbpoll import MAX_TABLE_ROWS, query_pane_index
from warroom.sources.postgres.failures import ConnectionLost, QueryFailed, one_line
from warroom.sources.postgres.queries import load_queries, quote_ident, sql_text
from warroom.sources.postgres.rows import SMS_ROWS, summary
from warroom.sources.postgres.session import Session, connect
from warroom.sources.tallies import MAX_KEYS
from warroom.text import clean, counted, register_dsn

PROBE_IDS = 100  # how many ids the probe's error_tally_ids and error_tally_since look at


class ProbeLines(list[str]):
    """The probe's lines; ``failed`` when the database is unreachable or a query fails."""

    failed = False


async def probe(settings: Settings) -> ProbeLines:
    """``warroom check``: what the database says, one line per fact, without secrets."""
    db = settings.database
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
    session = Session(conn, db, utc_now)
    try:
        lines += await _session_lines(session, settings)
        query_lines, queries_failed = await _probe_queries(session, settings)
        lines += query_lines
        lines.failed = queries_failed
        lines += await _probe_indexes(session, settings.errors)
    except Exception as exc:
        lines.append(f"database: the probe failed: {one_line(exc)}")
        lines.failed = True
    finally:
        with contextlib.suppress(Exception):
            await session.close()
    return lines


async def _session_lines(session: Session, settings: Settings) -> list[str]:
    """The server and the session, as the console sees them (outside any transaction: the
    session's own read-only setting)."""
    db, er = settings.database, settings.errors
    s = await session.conn.fetchrow(sql_text("probe_session"))
    assert s is not None
    read_only = s["read_only"]
    lines = [
        f"server: PostgreSQL {clean(s['server_version'], max_len=60)}",
        f"session: read-only {clean(read_only)}, statement_timeout {clean(s['statement_timeout'])}"
        + (
            " (pgbouncer: each query runs in BEGIN READ ONLY with SET LOCAL statement_timeout)"
            if db.pgbouncer
            else ""
        )
        + f", application_name {clean(s['application_name'])}, database {clean(s['database'])}"
        + f", user {clean(s['user_name'])}",
    ]
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
    return lines


def _arguments(settings: Settings, high: int | None) -> dict[str, tuple[Any, ...]]:
    """Each query's arguments, as a poll would pass them."""
    er = settings.errors
    return {
        "error_tally": (utc_now() - er.window, None, None, MAX_KEYS),
        "error_tally_ids": (PROBE_IDS,),
        "error_tally_since": ((high or 0) - PROBE_IDS, [], PROBE_IDS),
        "sms_failures": (er.window, SMS_ROWS),
        "error_rate": (er.rate_sustain + timedelta(minutes=10),),
    }


async def _probe_queries(session: Session, settings: Settings) -> tuple[list[str], bool]:
    """One line per query, and whether any failed."""
    db, er = settings.database, settings.errors
    high: int | None = None
    lines = []
    failed = False
    for name, q in load_queries(settings).items():
        if not er.id_column and name in ("error_tally_ids", "error_tally_since"):
            continue
        label = f"query {name} ({q.origin})"
        index = query_pane_index(name)
        if index is not None:
            label = f"pane {clean(db.panes[index].title, max_len=60)!r} ({q.origin})"
        args = _arguments(settings, high).get(name, ())
        t0 = time.perf_counter()
        try:
            # Read-only and time-boxed whatever the session says (with pgbouncer it says nothing).
            rows = await session.fetch(
                q, *args, alone=True, max_rows=MAX_TABLE_ROWS + 1 if index is not None else None
            )
        except QueryFailed as exc:
            lines.append(f"{label}: {exc.failure.kind}: {exc.failure.reason}")
            failed = True
            continue
        except ConnectionLost as exc:
            lines.append(f"{label}: error: {exc}")
            failed = True
            continue
        ms = (time.perf_counter() - t0) * 1000
        if name == "error_tally_ids" and rows:
            high = rows[0].get("high")
        first = f"; first: {summary(name, rows[0])}" if rows else ""
        lines.append(f"{label}: {counted(len(rows), 'row')} in {ms:.0f} ms{first}")
    return lines, failed


async def _probe_indexes(session: Session, er: ErrorSettings) -> list[str]:
    sql = sql_text("probe_index")
    table = quote_ident(er.table)
    row = await session.fetchrow("probe_index", sql, table, er.time_column)
    assert row is not None
    lines = []
    if not row["table_exists"]:
        lines.append(f"warning: table {er.table} not found (set [errors] table)")
    else:
        if not row["indexed"]:
            lines.append(
                f"warning: no index on {er.table}({er.time_column}): every full read of the tallies "
                f"scans the whole table (CREATE INDEX ON {er.table} ({er.time_column}))"
            )
        if er.id_column:
            row = await session.fetchrow("probe_index", sql, table, er.id_column)
            if row is not None and not row["indexed"]:
                lines.append(
                    f"warning: no index on {er.table}({er.id_column}): every poll scans the whole table"
                )
    await session.end()
    return lines


def run_probe(settings: Settings) -> ProbeLines:
    """:func:`probe` from synchronous code (the CLI)."""
    return asyncio.run(probe(settings))
