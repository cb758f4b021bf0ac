"""No write through the console's connection, whatever the query: every query (built-in, replaced
in [database.queries], a team's [[database.panes]], `warroom check`'s probe) runs in a read-only
transaction, so a query that switches the session's default to read-write cannot open the way
for the ones after it. Against the embedded PostgreSQL, in the normal and the pgbouncer mode."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from warroom.settings import DatabaseSettings, ErrorSettings, QueryPane, Settings
from warroom.sources.dbpoll import DbPoll, HealthSnapshot, QueryFailure, SmsSnapshot, TablePane
from warroom.sources.postgres import PostgresSource, probe, schema_sql
from warroom.sources.tallies import TallySnapshot

pytestmark = pytest.mark.pg

# A replaced db_health that keeps the pane's shape and, on the side, switches read-only off for
# the session's later transactions.
FLIP = (
    "SELECT set_config('default_transaction_read_only', 'off', false) AS flipped, "
    "100 AS max_connections, 1 AS total, 1 AS active, 0 AS waiting, 0 AS idle, 0 AS idle_in_transaction"
)
# A replaced sms_failures that pauses every campaign and looks like SMS failures.
PAUSE = (
    "WITH u AS (UPDATE campaigns SET status = 'paused' RETURNING id) "
    "SELECT '+15550104477' AS phone_number, 'paused ' || count(*) AS error_message, 1 AS count FROM u"
)
FLIP_TIMEOUT = "SELECT set_config('statement_timeout', '0', false) AS flipped"
SLOW = "SELECT pg_sleep(3) AS slept"


@pytest.fixture
async def db(pg_dsn: str):
    conn = await asyncpg.connect(pg_dsn)
    await conn.execute(schema_sql())
    await conn.execute("INSERT INTO campaigns (id, name) VALUES ('c1', 'Black Friday')")
    await conn.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('E', 'x')")
    try:
        yield conn
    finally:
        await conn.close()


def settings(dsn: str, tmp_path: Path, **db: object) -> Settings:
    options: dict[str, object] = {"poll_interval": timedelta(milliseconds=200), **db}
    return Settings(
        state_dir=tmp_path,
        database=DatabaseSettings(dsn=dsn, **options),  # type: ignore[arg-type]
        errors=ErrorSettings(),
    )


def sql_file(tmp_path: Path, name: str, sql: str) -> Path:
    path = tmp_path / name
    path.write_text(sql)
    return path


async def poll(source: PostgresSource) -> DbPoll:
    p = await source.poll_once()
    assert p.connected, p.status_line()
    return p


@pytest.mark.parametrize("pgbouncer", [False, True], ids=["session", "pgbouncer"])
async def test_a_replaced_query_cannot_switch_read_only_off_for_the_next_one(db, pg_dsn, tmp_path, pgbouncer):
    queries = {
        "db_health": sql_file(tmp_path, "health.sql", FLIP),
        "sms_failures": sql_file(tmp_path, "sms.sql", PAUSE),
    }
    source = PostgresSource(
        settings(pg_dsn, tmp_path, pgbouncer=pgbouncer, queries=queries), declared_at=None
    )
    try:
        p = await poll(source)
        assert isinstance(p.health, HealthSnapshot), "the flip itself is a read: its pane works"
        assert isinstance(p.errors, TallySnapshot) and p.errors.total == 1
        sms = p.sms
        assert isinstance(sms, QueryFailure) and sms.name == "sms_failures" and sms.kind == "error"
        assert sms.reason == "cannot execute SELECT in a read-only transaction"  # (with a writing CTE)
        assert await db.fetchval("SELECT status FROM campaigns WHERE id = 'c1'") == "active"
        # The session's default did change (the query may do that); the next cycles stay read-only.
        conn = source._session.conn if source._session is not None else None
        assert conn is not None
        assert await conn.fetchval("SHOW default_transaction_read_only") == "off"
        source.retry("sms")
        for _ in range(2):
            p = await poll(source)
            assert isinstance(p.sms, QueryFailure) and "read-only transaction" in p.sms.reason
            assert isinstance(p.errors, TallySnapshot) and isinstance(p.health, HealthSnapshot)
            source.retry("sms")
        assert await db.fetchval("SELECT status FROM campaigns WHERE id = 'c1'") == "active"
    finally:
        await source.close()


@pytest.mark.parametrize("pgbouncer", [False, True], ids=["session", "pgbouncer"])
async def test_a_teams_pane_cannot_open_the_way_for_a_write_either(db, pg_dsn, tmp_path, pgbouncer):
    flip = sql_file(tmp_path, "flip.sql", "SELECT set_config('default_transaction_read_only', 'off', false)")
    write = sql_file(
        tmp_path,
        "write.sql",
        "WITH u AS (UPDATE campaigns SET status = 'paused' RETURNING id) SELECT * FROM u",
    )
    panes = (QueryPane("Flip", flip), QueryPane("Write", write))
    queries = {"error_rate": sql_file(tmp_path, "rate.sql", PAUSE.replace("phone_number", "rate"))}
    cfg = settings(pg_dsn, tmp_path, pgbouncer=pgbouncer, panes=panes, queries=queries)
    source = PostgresSource(cfg, declared_at=None)
    try:
        for _ in range(2):  # the second cycle runs after the first one's flip
            p = await poll(source)
            flipped, written = p.panes
            assert isinstance(flipped, TablePane) and flipped.rows == (("off",),)
            assert isinstance(written, QueryFailure) and "read-only transaction" in written.reason
            assert isinstance(p.error_rate, QueryFailure) and "read-only transaction" in p.error_rate.reason
            source.retry("query-2")
            source.retry("error_rate")
        assert await db.fetchval("SELECT status FROM campaigns WHERE id = 'c1'") == "active"
    finally:
        await source.close()


async def test_a_query_cannot_lift_the_statement_timeout_for_the_next_one(db, pg_dsn, tmp_path):
    panes = (
        QueryPane("Flip", sql_file(tmp_path, "flip.sql", FLIP_TIMEOUT)),
        QueryPane("Slow", sql_file(tmp_path, "slow.sql", SLOW)),
    )
    cfg = settings(pg_dsn, tmp_path, panes=panes, statement_timeout=timedelta(milliseconds=300))
    source = PostgresSource(cfg, declared_at=None)
    try:
        p = await poll(source)
        flipped, slow = p.panes
        assert isinstance(flipped, TablePane)
        assert isinstance(slow, QueryFailure) and slow.kind == "timeout", slow
        assert p.connected, "the server's own timeout fired, not the client's"
    finally:
        await source.close()


async def test_a_failing_query_ends_the_cycles_transaction_and_the_next_ones_still_run(db, pg_dsn, tmp_path):
    broken = sql_file(tmp_path, "broken.sql", "SELECT 1 / 0 AS boom")
    fine = sql_file(tmp_path, "fine.sql", "SELECT current_setting('transaction_read_only') AS ro")
    cfg = settings(pg_dsn, tmp_path, panes=(QueryPane("Broken", broken), QueryPane("Fine", fine)))
    source = PostgresSource(cfg, declared_at=None)
    try:
        p = await poll(source)
        broke, ok = p.panes
        assert isinstance(broke, QueryFailure) and "division by zero" in broke.reason
        assert isinstance(ok, TablePane) and ok.rows == (("on",),)
        assert isinstance(p.sms, SmsSnapshot) and isinstance(p.health, HealthSnapshot)
        conn = source._session.conn if source._session is not None else None
        assert conn is not None and not conn.is_in_transaction(), "no transaction left open between cycles"
    finally:
        await source.close()


async def test_the_probe_runs_every_query_read_only(db, pg_dsn, tmp_path):
    queries = {
        "db_health": sql_file(tmp_path, "health.sql", FLIP),
        "sms_failures": sql_file(tmp_path, "sms.sql", PAUSE),
    }
    pane = QueryPane("Write", sql_file(tmp_path, "write.sql", PAUSE))
    lines = await probe(settings(pg_dsn, tmp_path, queries=queries, panes=(pane,)))
    text = "\n".join(lines)
    assert (
        f"query sms_failures ({queries['sms_failures']}): error: cannot execute SELECT in a read-only transaction"
        in text
    )
    assert "pane 'Write'" in text and text.count("in a read-only transaction") == 2
    assert await db.fetchval("SELECT status FROM campaigns WHERE id = 'c1'") == "active"
