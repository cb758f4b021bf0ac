"""The database source's schedule against a real PostgreSQL: a cheap pane never waits for an
expensive read (the tallies' full read, the declaration baseline), on one connection, and the
team's extra panes' names."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import asyncpg
import pytest

from warroom.settings import DatabaseSettings, ErrorSettings, QueryPane, Settings
from warroom.sources.dbpoll import (
    DbPoll,
    ErrorRateSnapshot,
    HealthSnapshot,
    SmsSnapshot,
    TablePane,
    query_pane_index,
    query_pane_name,
)
from warroom.sources.postgres import PostgresSource, schema_sql, sql_text
from warroom.sources.postgres.queries import pane_of
from warroom.sources.tallies import TallySnapshot

pytestmark = pytest.mark.pg

SLOW_WHERE = "WHERE {{time_column}} > $1::timestamptz"


def slow_full_read(tmp_path: Path, seconds: float) -> Path:
    """The built-in error_tally, sleeping ``seconds`` first when it is a full read ($2 is NULL;
    the declaration baseline passes the declaration time)."""
    sql = sql_text("error_tally")
    assert SLOW_WHERE in sql
    sleep = f"(SELECT true FROM pg_sleep(CASE WHEN $2::timestamptz IS NULL THEN {seconds} ELSE 0 END))"
    path = tmp_path / "slow_tally.sql"
    path.write_text(sql.replace(SLOW_WHERE, f"{SLOW_WHERE} AND {sleep}", 1))
    return path


@pytest.fixture
async def db(pg_dsn: str):
    conn = await asyncpg.connect(pg_dsn)
    await conn.execute(schema_sql())
    await conn.execute(
        "INSERT INTO error_logs (occurred_at, error_type, error_message) "
        "SELECT now() - g * interval '1 second', 'E', 'boom' FROM generate_series(1, 50) AS g"
    )
    await conn.execute(
        "INSERT INTO sms_delivery_log (phone_number, delivery_status, error_message) "
        "VALUES ('+15550104477', 'failed', 'Twilio 30003')"
    )
    try:
        yield conn
    finally:
        await conn.close()


class Arrivals:
    """When (loop seconds since start) each pane's data first arrived, and every poll."""

    KINDS: ClassVar[dict[str, type]] = {
        "health": HealthSnapshot,
        "sms": SmsSnapshot,
        "error_rate": ErrorRateSnapshot,
        "errors": TallySnapshot,
    }

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.start = self.loop.time()
        self.first: dict[str, float] = {}
        self.polls: list[tuple[float, DbPoll]] = []

    def __call__(self, poll: DbPoll) -> None:
        t = self.loop.time() - self.start
        self.polls.append((t, poll))
        for name, kind in self.KINDS.items():
            if name not in self.first and isinstance(getattr(poll, name), kind):
                self.first[name] = t
        if "pane" not in self.first and poll.panes and isinstance(poll.panes[0], TablePane):
            self.first["pane"] = t
        errors = poll.errors
        if (
            "baseline" not in self.first
            and isinstance(errors, TallySnapshot)
            and errors.baseline_total is not None
        ):
            self.first["baseline"] = t

    def health_times(self) -> list[float]:
        """When each new health snapshot arrived."""
        out: list[float] = []
        seen = None
        for t, poll in self.polls:
            h = poll.health
            if isinstance(h, HealthSnapshot) and h.fetched_at != seen:
                seen = h.fetched_at
                out.append(t)
        return out


async def watch(conn: asyncpg.Connection, done: Callable[[], bool], within: float) -> int:
    """Wait until ``done()``; the most connections the console held at once meanwhile."""
    held = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not done():
        assert loop.time() < deadline, "timed out"
        held = max(
            held,
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = 'warroom' AND datname = current_database()"
            ),
        )
        await asyncio.sleep(0.05)
    return held


async def test_a_slow_full_read_does_not_delay_the_cheap_panes(db, pg_dsn, tmp_path):
    """Health, SMS, the error rate and a team's pane show within a poll interval of start although
    the tallies' full read takes 3 s; the tallies and their baseline still arrive; one connection."""
    pane = tmp_path / "pane.sql"
    pane.write_text("SELECT 1 AS one")
    settings = Settings(
        state_dir=tmp_path,
        database=DatabaseSettings(
            dsn=pg_dsn,
            poll_interval=timedelta(milliseconds=500),
            resync_timeout=timedelta(seconds=10),
            queries={"error_tally": slow_full_read(tmp_path, 3)},
            panes=(QueryPane("One", pane),),
        ),
        errors=ErrorSettings(),
    )
    source = PostgresSource(settings, declared_at=datetime.now(UTC) - timedelta(minutes=5))
    got = Arrivals()
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(got, stop))
    try:
        held = await watch(db, lambda: "baseline" in got.first, within=30)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
    cheap = ("health", "sms", "error_rate", "pane")
    assert all(got.first[name] < 1.5 for name in cheap), got.first
    assert got.first["errors"] >= 2.5, "the full read did take its 3 s"
    assert got.first["baseline"] >= got.first["errors"]
    tallies = [p.errors for _, p in got.polls if isinstance(p.errors, TallySnapshot)]
    assert tallies[0].total == 50 and tallies[0].full_read
    assert tallies[-1].total == 50 and tallies[-1].baseline_total == 0  # all came after the declaration
    assert held == 1, "one connection for the whole source"
    # The poll before the full read shows the fresh cheap panes, and no tallies yet.
    _, early = got.polls[0]
    assert early.connected and early.errors is None and isinstance(early.health, HealthSnapshot)


@pytest.mark.slow
async def test_a_slow_scheduled_full_read_delays_health_by_what_it_outlasts_the_interval_only(
    db, pg_dsn, tmp_path
):
    """The next cycle's cheap queries start a poll interval after this one's, not a poll interval
    after the full read that followed them: health keeps its 2 s cadence across a 2 s full read
    (waiting after the full read would make it 4 s)."""
    settings = Settings(
        state_dir=tmp_path,
        database=DatabaseSettings(
            dsn=pg_dsn,
            poll_interval=timedelta(seconds=2),
            resync_interval=timedelta(seconds=3),
            resync_timeout=timedelta(seconds=10),
            queries={"error_tally": slow_full_read(tmp_path, 2)},
        ),
        errors=ErrorSettings(),
    )
    source = PostgresSource(settings, declared_at=None)
    got = Arrivals()
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(got, stop))

    def full_reads() -> int:
        return len(
            {
                p.errors.fetched_at
                for _, p in got.polls
                if isinstance(p.errors, TallySnapshot) and p.errors.full_read
            }
        )

    try:
        await watch(db, lambda: full_reads() >= 2 and len(got.health_times()) >= 6, within=40)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
    times = got.health_times()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < 3.2, gaps


def test_the_teams_panes_are_query_1_query_2_in_their_order() -> None:
    assert [query_pane_name(i) for i in range(3)] == ["query-1", "query-2", "query-3"]
    assert [query_pane_index(n) for n in ("query-1", "query-12")] == [0, 11]
    for other in ("query-0", "query-01", "query-", "query-x", "pane:1", "health", "query-1 "):
        assert query_pane_index(other) is None, other
    assert pane_of("query-2") == "query-2"
    assert pane_of("error_tally_since") == "errors" and pane_of("db_health") == "health"
