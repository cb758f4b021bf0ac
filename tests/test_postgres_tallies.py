"""The error tallies against a real PostgreSQL: incremental reads equal the playbook's full query
after inserts, late rows, rows leaving the window, transactions in flight and rollbacks; deltas,
sparklines, first-seen and new-error marks from seeded data."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from warroom.settings import DatabaseSettings, ErrorSettings, Settings
from warroom.sources import correlation
from warroom.sources.postgres import PostgresSource, schema_sql
from warroom.sources.tallies import TallySnapshot, floor_minute

pytestmark = pytest.mark.pg

PLAYBOOK = """
SELECT error_type, error_message, COUNT(*) as count
FROM error_logs
WHERE occurred_at > NOW() - INTERVAL '1 hour'
GROUP BY error_type, error_message
ORDER BY count DESC
LIMIT 10
"""

# The playbook's query at a given instant (the snapshot's as_of), every group, ties ordered as
# the console orders them (code points, NULLs last).
AT_INSTANT = """
SELECT error_type, error_message, COUNT(*) AS count
FROM error_logs
WHERE occurred_at > $1::timestamptz - $2::interval
GROUP BY error_type, error_message
ORDER BY 3 DESC, error_type COLLATE "C" NULLS LAST, error_message COLLATE "C" NULLS LAST
"""


def settings(dsn: str, tmp_path: Path, **errors: object) -> Settings:
    return Settings(
        state_dir=tmp_path,
        database=DatabaseSettings(dsn=dsn, poll_interval=timedelta(milliseconds=200)),
        errors=ErrorSettings(**errors),  # type: ignore[arg-type]
    )


@pytest.fixture
async def db(pg_dsn: str):
    conn = await asyncpg.connect(pg_dsn)
    await conn.execute(schema_sql())
    try:
        yield conn
    finally:
        await conn.close()


async def errors_of(source: PostgresSource) -> TallySnapshot:
    poll = await source.poll_once()
    assert poll.connected, poll.status_line()
    assert isinstance(poll.errors, TallySnapshot), poll.errors
    return poll.errors


async def assert_equals_full_query(db: asyncpg.Connection, source: PostgresSource, snap: TallySnapshot):
    """Every group, every count, and the top-N order, exactly as the query at the same instant."""
    ref = await db.fetch(AT_INSTANT, snap.as_of, snap.window)
    assert source.tallies.counts() == {(r[0], r[1]): r[2] for r in ref}
    assert snap.total == sum(r[2] for r in ref)
    top = [(r[0] or "(null)", r[1] or "(null)", r[2]) for r in ref[: snap.limit]]
    assert [(r.error_type, r.error_message, r.count) for r in snap.rows] == top
    assert snap.exact


async def insert(db: asyncpg.Connection, rows: list[tuple[str | None, str | None, str]]) -> None:
    """rows: (error_type, error_message, SQL interval before now())."""
    await db.executemany(
        "INSERT INTO error_logs (error_type, error_message, occurred_at) "
        "VALUES ($1, $2, now() - $3::text::interval)",
        rows,
    )


async def test_incremental_equals_the_playbook_query_after_inserts_late_rows_and_ageing(db, pg_dsn, tmp_path):
    await insert(db, [("SmsTimeout", "twilio timed out", f"{i} minutes") for i in range(1, 50, 2)])
    await insert(db, [("DbError", "connection refused", f"{i} seconds") for i in range(5, 3000, 400)])
    await insert(db, [(None, "no type", "3 minutes"), ("NoMessage", None, "4 minutes")])
    await insert(db, [("Old", "outside the window", "2 hours")])
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    try:
        snap = await errors_of(source)
        assert snap.full_read and snap.mode == "id"
        await assert_equals_full_query(db, source, snap)
        # The playbook's literal query (NOW() - INTERVAL '1 hour'): same top 10 (no ties here).
        literal = await db.fetch(PLAYBOOK)
        assert {(r[0], r[1], r[2]) for r in literal} == {
            (k[0], k[1], n) for k, n in source.tallies.counts().items()
        }

        # New rows; late rows (an old occurred_at with a new id); a row older than the window.
        await insert(db, [("DbError", "connection refused", "1 second")] * 30)
        await insert(db, [("Late", "arrived late", "55 minutes")] * 3)
        await insert(db, [("Late", "too late", "61 minutes")])
        snap = await errors_of(source)
        assert not snap.full_read, "an ordinary poll reads only what is new"
        await assert_equals_full_query(db, source, snap)
        assert source.tallies.count("Late", "arrived late") == 3
        assert source.tallies.count("Late", "too late") == 0
        rows = {r.error_type: r for r in snap.rows}
        assert rows["DbError"].delta_poll == 30 and rows["SmsTimeout"].delta_poll == 0
    finally:
        await source.close()


async def test_rows_leave_the_window_exactly(db, pg_dsn, tmp_path):
    # A one-minute window, so rows leave it within the test.
    cfg = settings(pg_dsn, tmp_path, window=timedelta(minutes=1))
    await insert(db, [("Leaving", "soon", "58.5 seconds")] * 4)
    await insert(db, [("Staying", "longer", "10 seconds")] * 2)
    source = PostgresSource(cfg, declared_at=None)
    try:
        snap = await errors_of(source)
        await assert_equals_full_query(db, source, snap)
        assert source.tallies.count("Leaving", "soon") == 4
        deadline = snap.as_of + timedelta(seconds=2)
        while True:  # wait (a little over 1.5 s) for the server's clock to pass them
            now = await db.fetchval("SELECT now()")
            if now > deadline:
                break
            await asyncio.sleep(0.2)
        snap = await errors_of(source)
        assert not snap.full_read
        await assert_equals_full_query(db, source, snap)
        assert source.tallies.count("Leaving", "soon") == 0
        assert source.tallies.count("Staying", "longer") == 2
    finally:
        await source.close()


async def test_transactions_in_flight_and_rolled_back_are_neither_lost_nor_waited_for(db, pg_dsn, tmp_path):
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    slow = await asyncpg.connect(pg_dsn)
    try:
        await insert(db, [("Seed", "row", "1 minute")])
        await errors_of(source)
        # A transaction takes an id, then a later id commits first.
        tx = slow.transaction()
        await tx.start()
        await slow.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('Slow', 'in flight')")
        await insert(db, [("Fast", "committed first", "0 seconds")])
        snap = await errors_of(source)
        assert snap.pending_ids == 1
        await assert_equals_full_query(db, source, snap)  # the in-flight row is invisible to both
        snap = await errors_of(source)
        assert snap.pending_ids == 1, "still in flight: keep looking"
        await tx.commit()
        snap = await errors_of(source)
        assert source.tallies.count("Slow", "in flight") == 1
        assert snap.pending_ids == 0
        await assert_equals_full_query(db, source, snap)

        # A rolled-back insert leaves a permanent gap: given up once no transaction can hold it.
        tx = slow.transaction()
        await tx.start()
        await slow.execute(
            "INSERT INTO error_logs (error_type, error_message) VALUES ('Gone', 'rolled back')"
        )
        await tx.rollback()
        await insert(db, [("After", "the rollback", "0 seconds")])
        snap = await errors_of(source)
        assert snap.pending_ids == 1
        snap = await errors_of(source)
        assert snap.pending_ids == 0
        await assert_equals_full_query(db, source, snap)
    finally:
        await slow.close()
        await source.close()


async def test_concurrent_writers_with_rollbacks_and_late_rows_end_equal(db, pg_dsn, tmp_path):
    """Writers commit out of id order (and some roll back) while the console polls."""
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    keys = [("SmsTimeout", "twilio"), ("DbError", "refused"), ("Edge", "504"), (None, "?")]
    stop = asyncio.Event()

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        conn = await asyncpg.connect(pg_dsn)
        try:
            while not stop.is_set():
                async with conn.transaction():
                    for _ in range(rng.randint(1, 4)):
                        ago = rng.choice(["0 seconds", "2 seconds", f"{rng.randint(1, 59)} minutes"])
                        t, m = rng.choice(keys)
                        await conn.execute(
                            "INSERT INTO error_logs (error_type, error_message, occurred_at) "
                            "VALUES ($1, $2, now() - $3::text::interval)",
                            t,
                            m,
                            ago,
                        )
                    await asyncio.sleep(rng.uniform(0, 0.03))
                    if rng.random() < 0.1:
                        raise _Rollback
        except _Rollback:
            pass
        finally:
            await conn.close()

    async def keep_writing(seed: int) -> None:
        while not stop.is_set():
            await writer(seed)
            seed += 100

    try:
        await errors_of(source)
        tasks = [asyncio.create_task(keep_writing(i)) for i in range(4)]
        polls = 0
        for _ in range(25):
            snap = await errors_of(source)
            polls += not snap.full_read
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
        await errors_of(source)
        snap = await errors_of(source)
        assert polls >= 20, "the polls were incremental"
        assert snap.total > 50
        await assert_equals_full_query(db, source, snap)
    finally:
        stop.set()
        await source.close()


class _Rollback(Exception):
    pass


async def test_time_column_mode_overlap_deduplicates_and_a_full_read_catches_very_late_rows(
    db, pg_dsn, tmp_path
):
    cfg = settings(pg_dsn, tmp_path, id_column="", overlap=timedelta(seconds=10))
    await insert(db, [("A", "a", f"{i} minutes") for i in range(0, 50, 3)])
    source = PostgresSource(cfg, declared_at=None)
    try:
        snap = await errors_of(source)
        assert snap.mode == "time" and snap.watermark is None
        await assert_equals_full_query(db, source, snap)
        for i in range(4):
            await insert(db, [("B", "b", "0 seconds")] * (i + 1))
            await insert(db, [("C", "late within the overlap", "5 seconds")])
            snap = await errors_of(source)
            assert not snap.full_read
            await assert_equals_full_query(db, source, snap)  # the overlap is re-read, never doubled
        # Later than the overlap: not seen by the polls, counted by the next full read.
        await insert(db, [("D", "very late", "20 minutes")])
        snap = await errors_of(source)
        assert source.tallies.count("D", "very late") == 0
        source.retry("errors")  # forces a full read (as resync_interval and reconnects do)
        snap = await errors_of(source)
        assert snap.full_read
        await assert_equals_full_query(db, source, snap)
    finally:
        await source.close()


async def test_deltas_sparkline_first_seen_and_new_errors_from_seeded_data(db, pg_dsn, tmp_path):
    server_now = await db.fetchval("SELECT now()")
    declared = server_now - timedelta(minutes=10)
    # Before the declaration: Known (and Known again after); after: Fresh only.
    await insert(db, [("Known", "seen before", "40 minutes")] * 3)
    await insert(db, [("Known", "seen before", "70 minutes")] * 2)  # older than the window
    await insert(db, [("Known", "seen before", "2 minutes")] * 4)
    await insert(db, [("Fresh", "new since", f"{s} seconds") for s in (65, 130, 135, 300)])
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=declared)
    try:
        snap = await errors_of(source)
        await assert_equals_full_query(db, source, snap)
        rows = {r.error_type: r for r in snap.rows}
        known, fresh = rows["Known"], rows["Fresh"]
        # Count at the declaration: the window (declared - 1 h, declared].
        at_declaration = await db.fetch(
            "SELECT error_type, count(*) FROM error_logs WHERE occurred_at > $1::timestamptz - "
            "interval '1 hour' AND occurred_at <= $1 GROUP BY 1",
            declared,
        )
        base = {r[0]: r[1] for r in at_declaration}
        assert base == {"Known": 5}
        assert known.count == 7 and known.delta_declared == 7 - 5 and known.is_new is False
        assert fresh.count == 4 and fresh.delta_declared == 4 and fresh.is_new is True
        assert snap.baseline_total == 5 and snap.declared_at == declared
        # first seen: the earliest time since the lookback (declared - 1 h).
        first_known = await db.fetchval(
            "SELECT min(occurred_at) FROM error_logs WHERE error_type = 'Known' AND occurred_at > $1",
            declared - timedelta(hours=1),
        )
        assert known.first_seen == first_known
        assert fresh.first_seen == await db.fetchval(
            "SELECT min(occurred_at) FROM error_logs WHERE error_type = 'Fresh'"
        )
        # Sparkline values: each row's count per minute of the window, oldest first.
        assert len(snap.minutes) == len(known.per_minute) == 61
        for key, row in rows.items():
            times = await db.fetch(
                "SELECT occurred_at FROM error_logs WHERE error_type = $1 AND occurred_at > $2",
                key,
                snap.window_start,
            )
            expected = Counter(floor_minute(r[0]) for r in times)
            assert dict(zip(snap.minutes, row.per_minute, strict=True)) == {
                m: expected.get(m, 0) for m in snap.minutes
            }
        totals = dict(snap.series())
        assert sum(totals.values()) == snap.total == 11
        assert snap.minutes[-1] == floor_minute(snap.as_of)
        # Delta since the previous poll.
        await insert(db, [("Fresh", "new since", "0 seconds")] * 5)
        snap = await errors_of(source)
        rows = {r.error_type: r for r in snap.rows}
        assert rows["Fresh"].delta_poll == 5 and rows["Known"].delta_poll == 0
        assert rows["Fresh"].delta_declared == 9
        assert rows["Fresh"].key == fresh.key, "rows keep their identity across polls"
    finally:
        await source.close()


async def test_declaring_later_loads_the_baseline(db, pg_dsn, tmp_path):
    await insert(db, [("E", "x", "30 minutes")] * 2)
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    try:
        snap = await errors_of(source)
        assert snap.rows[0].delta_declared is None and snap.declared_at is None
        declared: datetime = await db.fetchval("SELECT now()")
        source.set_declared_at(declared)
        await insert(db, [("E", "x", "0 seconds")])
        snap = await errors_of(source)
        assert snap.rows[0].delta_declared == 1 and snap.rows[0].is_new is False
        assert snap.rows[0].delta_poll == 1, "the poll that read the baseline still counts its new row"
    finally:
        await source.close()


async def test_a_spike_is_found_in_the_series(db, pg_dsn, tmp_path):
    # Calm: 3 errors a minute for 40 minutes, then 40 a minute for the last 8 (a deploy went out).
    calm = [("Noise", "n", f"{m} minutes 10 seconds") for m in range(9, 49) for _ in range(3)]
    spike = [("SmsTimeout", "twilio", f"{m} minutes 10 seconds") for m in range(1, 9) for _ in range(40)]
    await insert(db, calm + spike)
    source = PostgresSource(settings(pg_dsn, tmp_path), declared_at=None)
    try:
        snap = await errors_of(source)
        start = correlation.spike_start(snap.series(), now=snap.as_of)
        assert start is not None
        expected = floor_minute(
            await db.fetchval("SELECT min(occurred_at) FROM error_logs WHERE error_type = 'SmsTimeout'")
        )
        assert start == expected
        assert snap.trend.direction in ("steady", "increasing")  # the spike is a plateau by now
        series = snap.series()
        assert all(isinstance(m, datetime) and isinstance(n, int) for m, n in series)
    finally:
        await source.close()
