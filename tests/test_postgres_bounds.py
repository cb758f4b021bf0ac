"""The database source is bounded and its figures are right, whatever the data: text comes out of
the database cut (a 30 MB value costs what a short one does), the tallies track at most MAX_KEYS
keys while the totals stay exact, the blocked-session count is every waiting session, and
arbitrary hostile text (property-based) comes out clean and bounded. Against the embedded
PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
import tracemalloc
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from warroom.settings import DatabaseSettings, ErrorSettings, Settings
from warroom.sources.dbpoll import DbPoll, HealthSnapshot, SmsSnapshot
from warroom.sources.postgres import PostgresSource, render, schema_sql, sql_text
from warroom.sources.tallies import MAX_KEYS, MESSAGE_CHARS, TallySnapshot
from warroom.text import clean, mask_phone

pytestmark = pytest.mark.pg

HUGE = 30_000_000


def settings(dsn: str, tmp_path: Path, *, id_column: str = "id", **db: object) -> Settings:
    options: dict[str, object] = {"poll_interval": timedelta(milliseconds=200), **db}
    return Settings(
        state_dir=tmp_path,
        database=DatabaseSettings(dsn=dsn, **options),  # type: ignore[arg-type]
        errors=ErrorSettings(id_column=id_column),
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


async def errors_of(source: PostgresSource) -> TallySnapshot:
    p = await poll(source)
    assert isinstance(p.errors, TallySnapshot), p.errors
    return p.errors


# -- many distinct messages ----------------------------------------------------------------------


async def assert_bounded_and_exact(
    db: asyncpg.Connection, source: PostgresSource, snap: TallySnapshot
) -> None:
    """At most MAX_KEYS keys tracked; the total and the per-minute totals are a plain count(*)."""
    where = "WHERE occurred_at > $1::timestamptz - interval '1 hour'"
    assert snap.total == await db.fetchval(f"SELECT count(*) FROM error_logs {where}", snap.as_of)
    per_minute = await db.fetch(
        f"SELECT date_trunc('minute', occurred_at) AS m, count(*) FROM error_logs {where} GROUP BY 1",
        snap.as_of,
    )
    assert {m: n for m, n in snap.totals_per_minute if n} == {r[0]: r[1] for r in per_minute}
    tallies = source.tallies
    assert tallies.tracked <= MAX_KEYS and snap.distinct <= MAX_KEYS
    assert snap.other > 0
    assert sum(tallies.counts().values()) + snap.other == snap.total
    frequent = [(r.error_type, r.error_message, r.count) for r in snap.rows[:3]]
    assert frequent == [
        ("TwilioTimeout", "timed out", 900),
        ("DbError", "too many clients", 600),
        ("Auth", "JWT expired", 300),
    ]


@pytest.mark.parametrize("id_column", ["id", ""], ids=["by id", "by time"])
async def test_many_distinct_messages_keep_the_tracked_keys_bounded_and_the_totals_exact(
    db, pg_dsn, tmp_path, id_column
):
    await db.execute(
        """
        INSERT INTO error_logs (occurred_at, error_type, error_message)
        SELECT now() - interval '20 seconds' - (g % 3000) * interval '1 second', 'Unique', 'message #' || g
        FROM generate_series(1, 50000) AS g;
        INSERT INTO error_logs (occurred_at, error_type, error_message)
        SELECT now() - interval '20 seconds' - (g % 50) * interval '1 minute', t, m
        FROM (VALUES ('TwilioTimeout', 'timed out', 900), ('DbError', 'too many clients', 600),
                     ('Auth', 'JWT expired', 300)) AS f(t, m, n),
             generate_series(1, n) AS g;
        """
    )
    source = PostgresSource(settings(pg_dsn, tmp_path, id_column=id_column), declared_at=None)
    try:
        tracemalloc.start()
        try:
            snap = await errors_of(source)
            held, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert snap.full_read
        await assert_bounded_and_exact(db, source, snap)
        assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MB at the peak of the full read"
        assert held < 4 * 2**20, f"{held / 2**20:.1f} MB kept after the full read"
        # 20,000 more distinct messages between two polls: read incrementally, still bounded.
        await db.execute(
            "INSERT INTO error_logs (occurred_at, error_type, error_message) "
            "SELECT now() - random() * interval '2 seconds', 'Unique', 'later #' || g FROM generate_series(1, 20000) g"
        )
        snap = await errors_of(source)
        assert not snap.full_read
        await assert_bounded_and_exact(db, source, snap)
        source.retry("errors")  # and the next full read agrees
        snap = await errors_of(source)
        assert snap.full_read
        await assert_bounded_and_exact(db, source, snap)
    finally:
        await source.close()


# -- huge values ---------------------------------------------------------------------------------


async def test_a_30_mb_message_and_phone_number_come_back_cut_and_cheap(db, pg_dsn, tmp_path):
    await db.execute(
        f"""
        INSERT INTO error_logs (occurred_at, error_type, error_message)
        SELECT now() - g * interval '1 minute', 'Huge', repeat('a', {HUGE}) FROM generate_series(1, 3) g;
        -- the same first 1000 characters: the same error as far as the console can tell
        INSERT INTO error_logs (occurred_at, error_type, error_message)
        VALUES (now() - interval '4 minutes', 'Huge', repeat('a', {HUGE - 1}) || 'z');
        -- differs within them: another error
        INSERT INTO error_logs (occurred_at, error_type, error_message)
        SELECT now() - interval '2 minutes', 'Huge', repeat('a', 999) || 'b' || repeat('c', {HUGE})
        FROM generate_series(1, 2);
        INSERT INTO sms_delivery_log (phone_number, delivery_status, error_message)
        SELECT '+1555' || repeat('0', {HUGE}) || '4477', 'failed', repeat('x', {HUGE}) FROM generate_series(1, 2);
        """
    )
    # What the built-in queries send, as it leaves the database.
    tally = await db.fetch(
        render(sql_text("error_tally"), ErrorSettings()),
        await db.fetchval("SELECT now() - interval '1 hour'"),
        None,
        None,
        500,
    )
    assert max(len(r["error_message"]) for r in tally) == MESSAGE_CHARS
    assert {r["error_message"][-1] for r in tally} == {"a", "b"}
    (sms,) = await db.fetch(sql_text("sms_failures"), timedelta(hours=1), 200)
    assert (len(sms["phone_number"]), len(sms["error_message"]), sms["count"]) == (100, 1000, 2)

    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    try:
        tracemalloc.start()
        try:
            p = await poll(source)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 8 * 2**20, f"{peak / 2**20:.0f} MB at the peak of one poll"
        errors, sms_snap = p.errors, p.sms
        assert isinstance(errors, TallySnapshot) and isinstance(sms_snap, SmsSnapshot)
        assert source.tallies.counts() == {("Huge", "a" * 1000): 4, ("Huge", "a" * 999 + "b"): 2}
        assert [(r.count, len(r.error_message)) for r in errors.rows] == [(4, 500), (2, 500)]
        assert [(r.phone, r.count, len(r.error_message)) for r in sms_snap.rows] == [("***0000", 2, 300)]
        # A new row, read incrementally, is keyed as the full read keyed the others.
        await db.execute(
            f"INSERT INTO error_logs (error_type, error_message) VALUES ('Huge', repeat('a', {HUGE}) || 'tail')"
        )
        p = await poll(source)
        assert isinstance(p.errors, TallySnapshot) and not p.errors.full_read
        assert source.tallies.count("Huge", "a" * 1000) == 5
    finally:
        await source.close()


async def test_a_teams_sms_query_listing_a_group_twice_gives_one_row(db, pg_dsn, tmp_path):
    (tmp_path / "sms.sql").write_text(
        "SELECT phone_number, error_message, 1 AS count FROM sms_delivery_log "
        "WHERE delivery_status = 'failed' AND created_at > now() - $1::interval"
    )
    await db.execute(
        "INSERT INTO sms_delivery_log (phone_number, delivery_status, error_message) "
        "SELECT '+15550104477', 'failed', 'Twilio 30003' FROM generate_series(1, 3)"
    )
    cfg = settings(pg_dsn, tmp_path, queries={"sms_failures": tmp_path / "sms.sql"})
    source = PostgresSource(cfg, declared_at=None)
    try:
        sms = (await poll(source)).sms
        assert isinstance(sms, SmsSnapshot)
        assert [(r.phone, r.error_message, r.count) for r in sms.rows] == [("***4477", "Twilio 30003", 3)]
        assert sms.total_failed == 3
    finally:
        await source.close()


# -- the blocked count ---------------------------------------------------------------------------


async def test_the_blocked_count_is_every_waiting_session_not_the_five_listed(db, pg_dsn, tmp_path):
    await db.execute("INSERT INTO campaigns (id, name) VALUES ('c1', 'Black Friday')")
    holder = await asyncpg.connect(pg_dsn)
    waiters = [await asyncpg.connect(pg_dsn) for _ in range(8)]
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    tasks: list[asyncio.Task[str]] = []
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute("UPDATE campaigns SET status = 'paused' WHERE id = 'c1'")
        tasks = [
            asyncio.create_task(w.execute("UPDATE campaigns SET name = 'x' WHERE id = 'c1'")) for w in waiters
        ]
        for _ in range(200):
            if await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == 8:
                break
            await asyncio.sleep(0.05)
        h = (await poll(source)).health
        assert isinstance(h, HealthSnapshot)
        assert h.waiting == 8 and h.blocked_count == 8
        assert len(h.blocked) == 5, "the list shows the five longest waits"
        assert all(b.blocked_by for b in h.blocked)
        assert holder.get_server_pid() in {p for b in h.blocked for p in b.blocked_by}
        await hold.rollback()
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        for c in (holder, *waiters):
            c.terminate()
        await source.close()


# -- hostile text, property-based ----------------------------------------------------------------

CONTROLS = [chr(c) for c in range(1, 0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
SEQUENCES = [
    "\x1b]52;c;AAAA\x07",
    "\x1b]0;title\x07",
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "\x1b[2J\x1b[H",
    "\x1b[31m",
    "\x1b[6n",
    "\x9b31m",
    "\x1bP1$r\x1b\\",
    "\x1b",
    "\u202e",
    "\u202a",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200f",
    "[bold red]x[/]",
    "[@click=app.quit]",
    "[link=https://evil.example]x[/link]",
]
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
piece = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30),
    st.sampled_from(CONTROLS),
    st.sampled_from(SEQUENCES),
)
short = st.lists(piece, max_size=10).map("".join)
hostile = st.one_of(short, st.tuples(short, st.integers(2, 20_000)).map(lambda t: t[0] * t[1]))


def assert_inert(text: str, max_len: int) -> None:
    assert isinstance(text, str) and len(text) <= max_len, (len(text), max_len)
    for ch in text:
        code = ord(ch)
        assert code >= 0x20 and not 0x7F <= code < 0xA0, repr(text[:80])
        assert ch not in BIDI, repr(text[:80])


def dollar_quoted(text: str) -> str:
    tag = f"$h{secrets.token_hex(4)}$"
    assert tag not in text
    return f"{tag}{text}{tag}"


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # no example database written into the worktree
)
@given(error_type=hostile, message=hostile, phone=hostile, sms_message=hostile)
async def test_hostile_text_comes_out_clean_and_bounded(
    db, pg_dsn, tmp_path, error_type, message, phone, sms_message
):
    await db.execute("TRUNCATE error_logs, sms_delivery_log, campaigns")
    await db.execute("INSERT INTO campaigns (id, name) VALUES ('c1', 'x')")
    await db.executemany(
        "INSERT INTO error_logs (occurred_at, error_type, error_message) VALUES (now() - $3::text::interval, $1, $2)",
        [
            (error_type, message, "5 minutes"),
            (error_type, message, "2 hours"),
            (error_type, message, "1 second"),
        ],
    )
    await db.execute(
        "INSERT INTO sms_delivery_log (phone_number, delivery_status, error_message) VALUES ($1, 'failed', $2)",
        phone,
        sms_message,
    )
    # Hostile query texts in pg_stat_activity: a lock holder (idle in transaction) and a waiter.
    holder = await asyncpg.connect(pg_dsn)
    waiter = await asyncpg.connect(pg_dsn)
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    waiting = None
    try:
        await holder.execute(f"BEGIN; UPDATE campaigns SET name = {dollar_quoted(message)} WHERE id = 'c1'")
        waiting = asyncio.create_task(
            waiter.execute(f"UPDATE campaigns SET name = {dollar_quoted(sms_message)} WHERE id = 'c1'")
        )
        for _ in range(200):
            if await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"):
                break
            await asyncio.sleep(0.02)
        source.set_declared_at(await db.fetchval("SELECT now() - interval '1 minute'"))
        p = await poll(source)
        errors, sms, health = p.errors, p.sms, p.health
        assert isinstance(errors, TallySnapshot), errors
        assert isinstance(sms, SmsSnapshot), sms
        assert isinstance(health, HealthSnapshot), health
        p = await poll(source)  # the declaration's baseline is read after the first poll
        errors = p.errors
        assert isinstance(errors, TallySnapshot) and errors.total == 2
        texts: list[tuple[str, int]] = []
        for r in errors.rows:
            texts += [(r.error_type, 120), (r.error_message, 500), (r.key, 16)]
        for t, m, _ in errors.baseline_rows:
            texts += [(t, 120), (m, 500)]
        texts += [(note, 300) for note in (*errors.notes, errors.baseline_error)]
        for r in sms.rows:
            texts += [(r.phone, 10), (r.error_message, 300), (r.key, 16)]
        assert health.waiting == 1 and health.longest is not None and len(health.blocked) == 1
        texts.append((health.longest.query, 200))
        for b in health.blocked:
            texts += [(b.query, 200), (b.blocker_query, 200), (b.blocker_state, 40)]
        for text, bound in texts:
            assert_inert(text, bound)
        # What the database held, cut to the keys' bounds and cleaned: nothing more, nothing less.
        (row,) = errors.rows
        assert row.count == 2
        assert row.error_type == clean(error_type[:200], max_len=120)
        assert row.error_message == clean(message[:MESSAGE_CHARS], max_len=500)
        assert errors.baseline_rows == ((row.error_type, row.error_message, 1),)
        (srow,) = sms.rows
        assert srow.phone == mask_phone(phone[:100])
        assert srow.error_message == clean(sms_message[:MESSAGE_CHARS], max_len=300)
        assert health.blocked[0].query.startswith("UPDATE campaigns SET name = $h")
        assert health.blocked[0].blocker_query.startswith("BEGIN; UPDATE campaigns SET name = $h")
    finally:
        if waiting is not None:
            waiting.cancel()
        holder.terminate()
        waiter.terminate()
        await source.close()


async def test_columns_of_other_types_are_cut_as_text(pg_dsn, tmp_path):
    """A team's error_type may be an enum and its phone numbers varchar: cutting must not break them."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(
            """
            CREATE TYPE error_kind AS ENUM ('TwilioTimeout', 'DbError');
            CREATE TABLE error_logs (id bigserial PRIMARY KEY, occurred_at timestamptz NOT NULL DEFAULT now(),
                                     error_type error_kind, error_message varchar(2000));
            CREATE TABLE sms_delivery_log (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(),
                                           phone_number varchar(32), delivery_status text, error_message varchar);
            INSERT INTO error_logs (error_type, error_message) VALUES ('TwilioTimeout', repeat('t', 1500)), ('DbError', 'x');
            INSERT INTO sms_delivery_log (phone_number, delivery_status, error_message)
            VALUES ('+15550104477', 'failed', 'Twilio 30003');
            """
        )
        source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
        try:
            p = await poll(source)
            assert isinstance(p.errors, TallySnapshot), p.errors
            assert source.tallies.counts() == {("TwilioTimeout", "t" * 1000): 1, ("DbError", "x"): 1}
            assert isinstance(p.sms, SmsSnapshot) and p.sms.rows[0].phone == "***4477"
            await conn.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('DbError', 'x')")
            p = await poll(source)
            assert isinstance(p.errors, TallySnapshot) and not p.errors.full_read
            assert source.tallies.count("DbError", "x") == 2
        finally:
            await source.close()
    finally:
        await conn.close()
