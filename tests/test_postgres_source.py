"""The database source against a real PostgreSQL: the health pane, the read-only session, queries
replaced from warroom.toml, a failing query disabling only its pane, extra panes, hostile data,
SMS failures, the error-rate criterion, the poll loop, and `warroom check`."""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from warroom.config import load_settings
from warroom.settings import DatabaseSettings, ErrorSettings, QueryPane, Settings
from warroom.sources.dbpoll import (
    MAX_TABLE_ROWS,
    DbPoll,
    ErrorRateSnapshot,
    HealthSnapshot,
    QueryFailure,
    SmsSnapshot,
    TablePane,
)
from warroom.sources.postgres import PostgresSource, probe, schema_sql
from warroom.sources.tallies import TallySnapshot
from warroom.text import dsn_password

pytestmark = pytest.mark.pg

FAST = timedelta(milliseconds=200)


def settings(dsn: str, tmp_path: Path, *, panes: tuple[QueryPane, ...] = (), **db: object) -> Settings:
    options: dict[str, object] = {"poll_interval": FAST, **db}
    return Settings(
        state_dir=tmp_path,
        database=DatabaseSettings(dsn=dsn, panes=panes, **options),  # type: ignore[arg-type]
        errors=ErrorSettings(),
    )


@pytest.fixture
async def db(pg_dsn: str):
    conn = await asyncpg.connect(pg_dsn)
    await conn.execute(schema_sql())
    try:
        yield conn
    finally:
        await conn.close()


async def poll(source: PostgresSource) -> DbPoll:
    p = await source.poll_once()
    assert p.connected, p.status_line()
    return p


def pane_file(tmp_path: Path, name: str, sql: str) -> Path:
    path = tmp_path / name
    path.write_text(sql)
    return path


async def wait_until(conn: asyncpg.Connection, sql: str, *args: object, within: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await conn.fetchval(sql, *args):
        assert loop.time() < deadline, f"timed out waiting for: {sql}"
        await asyncio.sleep(0.05)


# -- health ------------------------------------------------------------------------------------------


async def test_health_counts_the_connections_the_test_opens_and_not_its_own(db, pg_dsn, tmp_path):
    await db.execute("CREATE TABLE lockme (id int PRIMARY KEY); INSERT INTO lockme VALUES (1)")
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    opened: list[asyncpg.Connection] = []

    async def open_conn() -> asyncpg.Connection:
        c = await asyncpg.connect(pg_dsn)
        opened.append(c)
        return c

    try:
        before = (await poll(source)).health
        assert isinstance(before, HealthSnapshot)
        assert before.waiting == 0 and before.longest is None
        idle = await open_conn()
        sleeper = await open_conn()
        sleeping = asyncio.create_task(sleeper.fetchval("SELECT pg_sleep(60) /* the long one */"))
        in_tx = await open_conn()
        tx = in_tx.transaction()
        await tx.start()
        await in_tx.fetchval("SELECT 1")
        holder = await open_conn()
        hold = holder.transaction()
        await hold.start()
        await holder.execute("UPDATE lockme SET id = 1 WHERE id = 1")
        waiter = await open_conn()
        waiting = asyncio.create_task(waiter.execute("UPDATE lockme SET id = 1 WHERE id = 1"))
        await wait_until(
            db,
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1",
            waiter.get_server_pid(),
        )
        await wait_until(
            db, "SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1", sleeper.get_server_pid()
        )
        assert idle.get_server_pid()

        p = await poll(source)
        h = p.health
        assert isinstance(h, HealthSnapshot)
        assert h.idle - before.idle == 1
        assert h.active - before.active == 1  # pg_sleep
        assert h.idle_in_transaction - before.idle_in_transaction == 2  # in_tx and the lock holder
        assert h.waiting == 1 and h.blocked_count == 1
        assert h.running == h.active + h.waiting
        assert h.total == h.active + h.waiting + h.idle + h.idle_in_transaction + h.other
        assert h.max_connections == int(await db.fetchval("SHOW max_connections"))
        assert 0 < h.used_fraction < 1
        assert h.longest is not None and h.longest.pid == sleeper.get_server_pid()
        assert "pg_sleep(60)" in h.longest.query and h.longest.seconds > 0
        (blocked,) = h.blocked
        assert blocked.pid == waiter.get_server_pid()
        assert blocked.blocked_by == (holder.get_server_pid(),)
        assert blocked.blocker_state == "idle in transaction"
        assert blocked.blocker_query.startswith("UPDATE lockme")
        # The console's own connection is not counted; the test's are.
        console_pid = source._session.conn.get_server_pid()  # type: ignore[union-attr]
        others = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND pid NOT IN (pg_backend_pid(), $1)",
            console_pid,
        )
        assert h.total == others + 1  # + this test's own `db` connection, idle
        assert isinstance(h.size, type(before.size)) and h.size is not None
        assert h.size.fetched_at == before.size.fetched_at, "the size is refreshed rarely"  # type: ignore[union-attr]
        await hold.rollback()
        await waiting
        await tx.rollback()
        await db.execute("SELECT pg_cancel_backend($1)", sleeper.get_server_pid())
        with pytest.raises(asyncpg.QueryCanceledError):
            await sleeping
    finally:
        for c in opened:
            c.terminate()
        await source.close()


async def test_the_console_session_is_read_only_and_identified(db, pg_dsn, tmp_path):
    await db.execute("INSERT INTO campaigns (id, name) VALUES ('c1', 'Black Friday')")
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    try:
        await poll(source)
        conn = source._session.conn if source._session is not None else None
        assert conn is not None
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("UPDATE campaigns SET status = 'paused' WHERE id = 'c1'")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("INSERT INTO error_logs (error_type) VALUES ('x')")
        assert await db.fetchval("SELECT status FROM campaigns WHERE id = 'c1'") == "active"
        app, timeout = await db.fetchrow(
            "SELECT application_name, (SELECT setting FROM pg_settings WHERE name = 'statement_timeout') "
            "FROM pg_stat_activity WHERE pid = $1",
            conn.get_server_pid(),
        )
        assert app == "warroom"
        assert await conn.fetchval("SHOW statement_timeout") == "2s"
        assert timeout  # (the test's own session default, just that it exists)
    finally:
        await source.close()


async def test_pgbouncer_mode_is_read_only_per_transaction(db, pg_dsn, tmp_path):
    writer = pane_file(
        tmp_path,
        "sneaky.sql",
        "WITH x AS (UPDATE campaigns SET status = 'paused' RETURNING id) SELECT count(*) FROM x",
    )
    cfg = settings(pg_dsn, tmp_path, pgbouncer=True, panes=(QueryPane("Sneaky", writer),))
    await db.execute("INSERT INTO campaigns (id, name) VALUES ('c1', 'Black Friday')")
    await db.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('E', 'x')")
    source = PostgresSource(cfg, declared_at=None)
    try:
        p = await poll(source)
        assert isinstance(p.errors, TallySnapshot) and p.errors.total == 1
        assert isinstance(p.health, HealthSnapshot)
        (pane,) = p.panes
        assert isinstance(pane, QueryFailure) and pane.kind == "error"
        assert "read-only transaction" in pane.reason
        assert await db.fetchval("SELECT status FROM campaigns WHERE id = 'c1'") == "active"
    finally:
        await source.close()


# -- queries from warroom.toml ---------------------------------------------------------------------------


async def test_a_query_replaced_in_warroom_toml_is_used(db, pg_dsn, tmp_path):
    # This team logs SMS in its own table, and its error rate comes as one number.
    await db.execute(
        """
        CREATE TABLE outbound_sms (recipient text, status text, failure_reason text, sent_at timestamptz);
        INSERT INTO outbound_sms VALUES
          ('+1 555 010 4477', 'FAILED', 'carrier rejected', now() - interval '5 minutes'),
          ('+1 555 010 4477', 'FAILED', 'carrier rejected', now() - interval '6 minutes'),
          ('+44 7700 900123', 'FAILED', 'unknown number', now() - interval '7 minutes'),
          ('+44 7700 900999', 'SENT', NULL, now() - interval '7 minutes');
        """
    )
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "our_sms.sql").write_text(
        "-- our SMS log\n"
        "SELECT recipient AS phone_number, failure_reason AS error_message, count(*) AS count\n"
        "FROM outbound_sms WHERE status = 'FAILED' AND sent_at > now() - $1::interval\n"
        "GROUP BY 1, 2 ORDER BY 3 DESC;\n"
    )
    (tmp_path / "sql" / "our_rate.sql").write_text("SELECT 0.4 AS rate_percent")
    config = tmp_path / "warroom.toml"
    config.write_text(
        f'[database]\ndsn = "{pg_dsn}"\n'
        '[database.queries]\nsms_failures = "sql/our_sms.sql"\nerror_rate = "sql/our_rate.sql"\n'
    )
    cfg = load_settings(config=config, env={}, state_dir=tmp_path / "state", user="tester")
    source = PostgresSource(cfg, declared_at=None)
    try:
        assert source.queries()["sms_failures"].origin == str(tmp_path / "sql" / "our_sms.sql")
        p = await poll(source)
        sms = p.sms
        assert isinstance(sms, SmsSnapshot)
        assert [(r.phone, r.error_message, r.count) for r in sms.rows] == [
            ("***4477", "carrier rejected", 2),
            ("***0123", "unknown number", 1),
        ]
        assert sms.total_failed == 3 and not sms.truncated
        rate = p.error_rate
        assert isinstance(rate, ErrorRateSnapshot)
        assert rate.shape == "single" and rate.current == pytest.approx(0.4)
        assert not rate.below_since_exact and rate.criterion == "unknown"
    finally:
        await source.close()


async def test_a_missing_table_disables_only_its_pane_until_retried(pg_dsn, tmp_path):
    conn = await asyncpg.connect(pg_dsn)
    try:
        # Only the error log exists here: no sms_delivery_log.
        await conn.execute(
            "CREATE TABLE error_logs (id bigserial PRIMARY KEY, occurred_at timestamptz NOT NULL "
            "DEFAULT now(), error_type text, error_message text)"
        )
        await conn.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('E', 'x')")
        source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
        p = await poll(source)
        assert isinstance(p.errors, TallySnapshot) and p.errors.total == 1
        assert isinstance(p.health, HealthSnapshot)
        for failure in (p.sms, p.error_rate):
            assert isinstance(failure, QueryFailure) and failure.kind == "missing"
            assert 'relation "sms_delivery_log" does not exist' in failure.reason
        assert isinstance(p.sms, QueryFailure) and p.sms.name == "sms_failures"
        since = p.sms.since
        # The table appears; the pane stays off (no query) until the responder retries it.
        await conn.execute(schema_sql())
        await conn.execute(
            "INSERT INTO sms_delivery_log (phone_number, delivery_status, error_message) "
            "VALUES ('+15550104477', 'failed', 'Twilio 30003')"
        )
        await conn.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('E', 'x')")
        p = await poll(source)
        assert isinstance(p.sms, QueryFailure) and p.sms.since == since
        assert isinstance(p.errors, TallySnapshot) and p.errors.total == 2
        source.retry(p.sms.name)
        p = await poll(source)
        assert isinstance(p.sms, SmsSnapshot) and p.sms.rows[0].phone == "***4477"
        assert isinstance(p.error_rate, QueryFailure), "retrying one pane does not retry another"
        source.retry("error_rate")
        p = await poll(source)
        assert isinstance(p.error_rate, ErrorRateSnapshot)
        await source.close()
    finally:
        await conn.close()


async def test_a_missing_privilege_disables_only_its_pane(db, pg_dsn, tmp_path):
    role = f"r_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    await db.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        await db.execute(f"GRANT SELECT ON error_logs TO {role}")
        dsn = re.sub(r"^postgresql://[^@]*@", f"postgresql://{role}:{password}@", pg_dsn)
        source = PostgresSource(settings(dsn, tmp_path), declared_at=None)
        try:
            p = await poll(source)
            assert isinstance(p.errors, TallySnapshot)
            assert isinstance(p.health, HealthSnapshot)
            assert isinstance(p.sms, QueryFailure) and p.sms.kind == "privilege"
            assert "permission denied" in p.sms.reason
        finally:
            await source.close()
    finally:
        await db.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


async def test_a_timeout_disables_only_its_pane(db, pg_dsn, tmp_path):
    slow = pane_file(tmp_path, "slow.sql", "SELECT pg_sleep(5) AS slept")
    cfg = settings(
        pg_dsn,
        tmp_path,
        statement_timeout=timedelta(milliseconds=300),
        panes=(QueryPane("Slow one", slow),),
    )
    source = PostgresSource(cfg, declared_at=None)
    try:
        p = await poll(source)
        (pane,) = p.panes
        assert isinstance(pane, QueryFailure) and pane.kind == "timeout" and pane.name == "query-1"
        assert "statement timeout" in pane.reason
        assert isinstance(p.errors, TallySnapshot) and isinstance(p.health, HealthSnapshot)
        ms = p.db_ms
        p = await poll(source)
        assert isinstance(p.panes[0], QueryFailure)
        assert p.db_ms < ms, "a disabled pane's query is not run again"
        source.retry("query-1")
        p = await poll(source)
        assert isinstance(p.panes[0], QueryFailure) and p.panes[0].since > pane.since
    finally:
        await source.close()


async def test_extra_panes_are_bounded_tables_of_inert_text(db, pg_dsn, tmp_path):
    many = pane_file(
        tmp_path,
        "many.sql",
        "SELECT g AS n, E'\\x1b[31mred\\x07' AS hostile, NULL AS nothing, "
        "timestamptz '2026-11-26 14:00:00+00' AS at, g % 2 = 0 AS even "
        "FROM generate_series(1, 250) g ORDER BY g",
    )
    empty = pane_file(tmp_path, "empty.sql", "SELECT 1 AS one WHERE false")
    broken = pane_file(tmp_path, "broken.sql", "SELEC nonsense")
    cfg = settings(
        pg_dsn,
        tmp_path,
        panes=(QueryPane("Many [b]rows[/b]", many), QueryPane("Empty", empty), QueryPane("Broken", broken)),
    )
    source = PostgresSource(cfg, declared_at=None)
    try:
        p = await poll(source)
        table, nothing, bad = p.panes
        assert isinstance(table, TablePane)
        assert table.title == "Many [b]rows[/b]" and table.name == "query-1"
        assert table.columns == ("n", "hostile", "nothing", "at", "even")
        assert len(table.rows) == MAX_TABLE_ROWS and table.truncated
        assert table.rows[0] == ("1", "red", "", "2026-11-26 14:00:00+00:00", "false")
        assert isinstance(nothing, TablePane) and nothing.rows == () and not nothing.truncated
        assert isinstance(bad, QueryFailure) and bad.kind == "error" and "syntax error" in bad.reason
        assert isinstance(p.errors, TallySnapshot)
    finally:
        await source.close()


# -- hostile data ----------------------------------------------------------------------------------------

HOSTILE = [
    "\x1b]0;owned title\x07 OSC then text",
    "\x1b]52;c;cHduZWQ=\x1b\\ clipboard write",
    "\x1b[2J\x1b[H\x1b[31mclear and red\x1b[0m",
    "bell\x07\x07 backspace\x08\x08 carriage\rreturn",
    "\x9b31m C1 CSI and \x85 NEL",
    "[bold red]Rich markup[/bold red] and [link=https://evil.example]link[/link]",
    "مرحبا بالعالم \u202eevil\u202c RTL",
    "A" * 100_000,
]


def assert_inert(text: str, max_len: int) -> None:
    assert len(text) <= max_len
    for ch in text:
        code = ord(ch)
        assert code >= 0x20 and not 0x7F <= code < 0xA0, repr(text[:80])
        assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


async def test_hostile_data_comes_out_inert_and_bounded(db, pg_dsn, tmp_path):
    await db.executemany(
        "INSERT INTO error_logs (error_type, error_message) VALUES ($1, $2)",
        [(text[:50], text) for text in HOSTILE],
    )
    await db.executemany(
        "INSERT INTO sms_delivery_log (phone_number, delivery_status, error_message) VALUES ($1, 'failed', $2)",
        [("+1 555\x1b[31m010\x07 4477", text) for text in HOSTILE],
    )
    sleeper = await asyncpg.connect(pg_dsn)
    sleeping = asyncio.create_task(
        sleeper.fetchval("SELECT pg_sleep(30) /* \x1b]0;pwned\x07 [red]x[/red] */")
    )
    pane = pane_file(tmp_path, "hostile.sql", "SELECT error_message FROM error_logs")
    source = PostgresSource(settings(pg_dsn, tmp_path, panes=(QueryPane("Raw", pane),)), declared_at=None)
    try:
        await wait_until(
            db, "SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1", sleeper.get_server_pid()
        )
        p = await poll(source)
        errors, sms, health, (table,) = p.errors, p.sms, p.health, p.panes
        assert isinstance(errors, TallySnapshot) and len(errors.rows) == len(HOSTILE)
        assert isinstance(sms, SmsSnapshot) and isinstance(health, HealthSnapshot)
        assert isinstance(table, TablePane)
        texts = [(r.error_type, 120) for r in errors.rows] + [(r.error_message, 500) for r in errors.rows]
        texts += [(r.error_message, 300) for r in sms.rows] + [(r.phone, 10) for r in sms.rows]
        texts += [(cell, 200) for row in table.rows for cell in row]
        assert health.longest is not None
        texts.append((health.longest.query, 200))
        for text, limit in texts:
            assert_inert(text, limit)
        messages = {r.error_message for r in errors.rows}
        assert "[bold red]Rich markup[/bold red] and [link=https://evil.example]link[/link]" in messages
        assert any(m.startswith("مرحبا بالعالم") for m in messages)
        assert any(m.startswith("AAAA") and m.endswith("…") for m in messages)
        assert "owned" not in " ".join(messages) and "pwned" not in health.longest.query
        assert {r.phone for r in sms.rows} == {"***4477"}
        assert errors.rows[0].key != errors.rows[1].key
    finally:
        sleeping.cancel()
        sleeper.terminate()
        await source.close()


# -- SMS and the error rate -------------------------------------------------------------------------------


async def test_sms_failures_are_the_playbooks_query_with_masked_numbers(db, pg_dsn, tmp_path):
    rows = [
        ("+15550104477", "failed", "Twilio 30003: Unreachable destination handset", "5 minutes"),
        ("+15550104477", "failed", "Twilio 30003: Unreachable destination handset", "6 minutes"),
        ("+15550109999", "failed", "Twilio 30007: Carrier violation", "10 minutes"),
        ("+15550100000", "delivered", None, "1 minute"),
        ("+15550101111", "failed", "Twilio 30005: Unknown destination", "2 hours"),  # too old
    ]
    await db.executemany(
        "INSERT INTO sms_delivery_log (phone_number, delivery_status, error_message, created_at) "
        "VALUES ($1, $2, $3, now() - $4::text::interval)",
        rows,
    )
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    try:
        sms = (await poll(source)).sms
        assert isinstance(sms, SmsSnapshot)
        assert [(r.phone, r.error_message, r.count) for r in sms.rows] == [
            ("***4477", "Twilio 30003: Unreachable destination handset", 2),
            ("***9999", "Twilio 30007: Carrier violation", 1),
        ]
        assert sms.total_failed == 3 and sms.groups == 2 and sms.window == timedelta(hours=1)
        playbook = await db.fetch(
            "SELECT phone_number, error_message, COUNT(*) FROM sms_delivery_log "
            "WHERE delivery_status = 'failed' AND created_at > NOW() - INTERVAL '1 hour' "
            "GROUP BY phone_number, error_message"
        )
        assert sorted(r[2] for r in playbook) == sorted(r.count for r in sms.rows)
    finally:
        await source.close()


async def test_error_rate_resolution_criterion_from_the_per_minute_series(db, pg_dsn, tmp_path):
    # 5% failures 50-36 minutes ago, then clean traffic every minute: below 1% for 35 minutes.
    await db.execute(
        """
        INSERT INTO sms_delivery_log (phone_number, delivery_status, created_at)
        SELECT '+1555', CASE WHEN m >= 36 AND i <= 1 THEN 'failed' ELSE 'delivered' END,
               date_trunc('minute', now()) - m * interval '1 minute' + interval '1 second'
        FROM generate_series(1, 50) m, generate_series(1, 20) i
        """
    )
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    try:
        rate = (await poll(source)).error_rate
        assert isinstance(rate, ErrorRateSnapshot) and rate.shape == "series"
        assert rate.criterion == "met" and rate.below_since_exact
        server_now = await db.fetchval("SELECT date_trunc('minute', now())")
        assert rate.below_since == server_now - timedelta(minutes=35)
        assert rate.current == 0.0
        # A failure now: the criterion is no longer met.
        await db.execute(
            "INSERT INTO sms_delivery_log (phone_number, delivery_status) "
            "SELECT '+1555', 'failed' FROM generate_series(1, 5)"
        )
        rate = (await poll(source)).error_rate
        assert isinstance(rate, ErrorRateSnapshot)
        assert rate.criterion == "not met" and rate.below_since is None
        assert rate.current is not None and rate.current >= 1.0
    finally:
        await source.close()


# -- the loop -----------------------------------------------------------------------------------------------


async def test_the_loop_never_overlaps_polls_survives_its_callback_and_wakes_on_retry(db, pg_dsn, tmp_path):
    slow = pane_file(tmp_path, "slow.sql", "SELECT pg_sleep(0.15) AS napped")
    cfg = settings(
        pg_dsn, tmp_path, panes=(QueryPane("Slow", slow),), poll_interval=timedelta(milliseconds=50)
    )
    source = PostgresSource(cfg, declared_at=None)
    spans: list[tuple[float, float]] = []
    inner = source.poll_once

    async def timed(*args: object) -> DbPoll:
        start = asyncio.get_running_loop().time()
        try:
            return await inner(*args)  # type: ignore[arg-type]
        finally:
            spans.append((start, asyncio.get_running_loop().time()))

    source.poll_once = timed  # type: ignore[method-assign]
    polls: list[DbPoll] = []
    stop = asyncio.Event()

    def emit(p: DbPoll) -> None:
        polls.append(p)
        if len(polls) == 2:
            raise RuntimeError("a broken UI callback")
        if len(polls) >= 5:
            stop.set()

    await asyncio.wait_for(source.run(emit, stop), timeout=30)
    assert len(polls) == 5 and all(p.connected for p in polls)
    assert all(end <= nxt for (_, end), (nxt, _) in itertools.pairwise(spans))
    assert source._session is None, "run() closes its connection when it stops"

    # A long poll interval: refresh()/retry() wake the loop at once.
    cfg = settings(pg_dsn, tmp_path, poll_interval=timedelta(hours=1))
    source = PostgresSource(cfg, declared_at=None)
    got: list[DbPoll] = []
    arrived = asyncio.Event()

    def collect(p: DbPoll) -> None:
        got.append(p)
        arrived.set()

    async def next_poll() -> DbPoll:
        arrived.clear()
        await asyncio.wait_for(arrived.wait(), timeout=10)
        return got[-1]

    stop = asyncio.Event()
    task = asyncio.create_task(source.run(collect, stop))
    try:
        while not isinstance((await next_poll()).errors, TallySnapshot):  # the first cycle's end
            pass
        await asyncio.sleep(0.2)
        first_cycle = len(got)
        source.refresh()
        await next_poll()
        assert len(got) == first_cycle + 1
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def test_no_database_configured(tmp_path):
    source = PostgresSource(Settings(state_dir=tmp_path), declared_at=None)
    p = await source.poll_once()
    assert p.connection.status == "not_configured" and not p.connected
    assert p.errors is None and p.health is None
    assert "no database configured" in p.status_line()
    assert await probe(Settings(state_dir=tmp_path)) == [
        "database: not configured (--dsn, WARROOM_DSN, DATABASE_URL or [database] dsn)"
    ]


# -- warroom check ------------------------------------------------------------------------------------------


async def test_probe_reports_each_query_the_session_and_a_missing_index(db, pg_dsn, tmp_path):
    await db.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('SmsTimeout', 'twilio')")
    await db.execute("DROP INDEX error_logs_occurred_at_idx")
    await db.execute("DROP TABLE sms_delivery_log")
    secret = dsn_password(pg_dsn)  # the embedded server's own (random) password
    assert secret
    lines = await probe(settings(pg_dsn, tmp_path))
    text = "\n".join(lines)
    assert secret not in text
    assert lines[0].startswith("database: postgresql://postgres:***@127.0.0.1:")
    assert any(line.startswith("server: PostgreSQL ") for line in lines)
    assert any(line.startswith("session: read-only on, statement_timeout 2s") for line in lines)
    assert any(
        line.startswith("query error_tally (built-in): 1 row") and "SmsTimeout" in line for line in lines
    )
    assert any(line.startswith("query db_health (built-in): 1 row") for line in lines)
    assert any(
        line.startswith("query sms_failures (built-in): missing:") and "sms_delivery_log" in line
        for line in lines
    )
    assert any(line.startswith("warning: no index on error_logs(occurred_at)") for line in lines)
    assert not any("no index on error_logs(id)" in line for line in lines)


async def test_warroom_check_prints_the_probe(db, pg_dsn, tmp_path):
    from click.testing import CliRunner

    from warroom.cli import main

    secret = dsn_password(pg_dsn)  # the embedded server's own (random) password
    assert secret

    def invoke():  # type: ignore[no-untyped-def]
        return CliRunner().invoke(
            main, ["check", "--dsn", pg_dsn, "--state-dir", str(tmp_path / "state")], env={}
        )

    result = await asyncio.to_thread(invoke)
    assert secret not in result.output
    assert "server: PostgreSQL" in result.output
    assert "query error_tally (built-in): 0 rows" in result.output
    assert "warning: no index" not in result.output


async def test_a_libpq_key_value_dsn_works_and_its_password_stays_hidden(db, pg_dsn, tmp_path):
    port = int(pg_dsn.rsplit(":", 1)[1].split("/")[0])
    name = pg_dsn.rsplit("/", 1)[1]
    role = f"kv_{uuid.uuid4().hex[:10]}"  # the server takes passwords: a role whose password has a space
    await db.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'Sw0rd fish'")
    dsn = f"host=127.0.0.1 port={port} user={role} password='Sw0rd fish' dbname={name} sslmode=disable"
    cfg = load_settings(env={}, state_dir=tmp_path / "state", dsn=dsn, user="tester")
    source = PostgresSource(cfg, declared_at=None)
    try:
        p = await poll(source)
        assert (
            p.connection.dsn
            == f"host=127.0.0.1 port={port} user={role} password=*** dbname={name} sslmode=disable"
        )
        lines = await probe(cfg)
        assert any(line.startswith("server: PostgreSQL") for line in lines)
        assert "Sw0rd" not in "\n".join(lines)
    finally:
        await source.close()
        await db.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")
    bad = load_settings(
        env={}, state_dir=tmp_path / "state", dsn="host=x colour=blue password=Sw0rd2", user="t"
    )
    p = await PostgresSource(bad, declared_at=None).poll_once()
    assert p.connection.status == "unreachable"
    assert p.connection.last_error == "the DSN keyword 'colour' is not supported (use a postgresql:// URL)"


async def test_odd_rows_from_a_teams_query_disable_that_pane_and_nothing_else(db, pg_dsn, tmp_path):
    (tmp_path / "since.sql").write_text("SELECT id, error_type, error_message FROM error_logs WHERE id > $1")
    (tmp_path / "health.sql").write_text(
        "SELECT 100 AS max_connections, 1 AS total, 1 AS active, 0 AS waiting, 0 AS idle, "
        "0 AS idle_in_transaction, 'not a pid' AS longest_pid"
    )
    config = tmp_path / "warroom.toml"
    config.write_text(
        f'[database]\ndsn = "{pg_dsn}"\n[database.queries]\n'
        'error_tally_since = "since.sql"\ndb_health = "health.sql"\n'
    )
    cfg = load_settings(config=config, env={}, state_dir=tmp_path / "state", user="tester")
    await db.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('E', 'x')")
    await db.execute(
        "INSERT INTO sms_delivery_log (phone_number, delivery_status, error_message) VALUES ('+15550104477', 'failed', 'x')"
    )
    source = PostgresSource(cfg, declared_at=None)
    try:
        p = await poll(source)  # the full read does not use error_tally_since
        assert isinstance(p.errors, TallySnapshot)
        assert isinstance(p.health, QueryFailure) and p.health.kind == "error"
        assert p.health.name == "db_health" and p.health.reason.startswith("unexpected ValueError")
        await db.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('E', 'x')")
        p = await poll(source)
        assert isinstance(p.errors, QueryFailure) and p.errors.name == "error_tally_since"
        assert "no column 'at'" in p.errors.reason
        assert isinstance(p.sms, SmsSnapshot) and p.sms.total_failed == 1
    finally:
        await source.close()


async def test_a_table_without_an_id_column_says_how_to_fix_it(pg_dsn, tmp_path):
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(
            "CREATE TABLE error_logs (occurred_at timestamptz, error_type text, error_message text)"
        )
        await conn.execute("INSERT INTO error_logs VALUES (now(), 'E', 'x')")
        source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
        p = await poll(source)
        assert isinstance(p.errors, QueryFailure) and p.errors.kind == "missing"
        assert 'set [errors] id_column = "" to use the time column' in p.errors.reason
        await source.close()
        cfg = Settings(
            state_dir=tmp_path, database=DatabaseSettings(dsn=pg_dsn), errors=ErrorSettings(id_column="")
        )
        source = PostgresSource(cfg, declared_at=None)
        p = await poll(source)
        assert isinstance(p.errors, TallySnapshot) and p.errors.total == 1 and p.errors.mode == "time"
        await source.close()
    finally:
        await conn.close()


async def test_a_teams_full_read_must_list_the_exact_times_it_counts(db, pg_dsn, tmp_path):
    (tmp_path / "tally.sql").write_text(
        "SELECT error_type, error_message, date_trunc('minute', occurred_at) AS minute, count(*) AS count, "
        "min(occurred_at) AS first_at, array_agg(occurred_at) FILTER (WHERE false) AS times "
        "FROM error_logs WHERE occurred_at > $1 GROUP BY 1, 2, 3"
    )
    await db.execute(
        "INSERT INTO error_logs (error_type, error_message, occurred_at) VALUES ('E', 'x', now())"
    )
    await db.execute(
        "INSERT INTO error_logs (error_type, error_message, occurred_at) VALUES ('E', 'x', now() - interval '58 minutes')"
    )
    cfg = settings(pg_dsn, tmp_path, queries={"error_tally": tmp_path / "tally.sql"})
    source = PostgresSource(cfg, declared_at=None)
    try:
        p = await poll(source)
        assert isinstance(p.errors, QueryFailure) and p.errors.name == "error_tally"
        assert "every minute before $3 needs them" in p.errors.reason
        (tmp_path / "tally.sql").write_text(
            "SELECT 'E' AS error_type, 'x' AS error_message, date_trunc('minute', now()) AS minute, "
            "2 AS count, now() AS first_at, ARRAY[now()] AS times"
        )
        source.retry("errors")  # the query files are read when the source starts
        p = await poll(source)
        assert isinstance(p.errors, QueryFailure) and "every minute before" in p.errors.reason
        source2 = PostgresSource(cfg, declared_at=None)
        p = await poll(source2)
        await source2.close()
        assert isinstance(p.errors, QueryFailure) and p.errors.name == "error_tally"
        assert p.errors.describe() == "error_tally: error: times must list the 2 row times of its group"
    finally:
        await source.close()


async def test_a_uuid_id_column_falls_back_to_counting_by_time(pg_dsn: str, tmp_path: Path) -> None:
    """Supabase tables often have uuid ids: the watermark needs integers, so the tallies count by
    the time column instead (and say so) rather than disabling the playbook's main pane."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(
            "CREATE TABLE error_logs (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),"
            " occurred_at timestamptz NOT NULL DEFAULT now(), error_type text, error_message text)"
        )
        await conn.execute(
            "INSERT INTO error_logs (occurred_at, error_type, error_message)"
            " SELECT now() - g * interval '1 minute', 'TwilioTimeout', 'timed out' FROM generate_series(1, 12) g"
        )
    finally:
        await conn.close()
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    try:
        p = await poll(source)
        from warroom.sources.tallies import TallySnapshot

        assert isinstance(p.errors, TallySnapshot), p.errors
        assert p.errors.mode == "time"
        assert [(r.error_type, r.count) for r in p.errors.rows] == [("TwilioTimeout", 12)]
        assert any("is uuid, not an integer: counting by occurred_at" in n for n in p.errors.notes)
    finally:
        await source.close()
