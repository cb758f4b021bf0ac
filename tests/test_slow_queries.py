"""Slow queries ("Review performance metrics") from pg_stat_statements: the statements that took
the most time since the first reading (deltas, not the extension's totals since its last reset),
bounded and cleaned text, and a one-line hint where the extension is not installed.

The embedded PostgreSQL of the demo extra lacks pg_stat_statements; the one from Debian's
postgresql-contrib (on this project's machines) has it, and runs here as an EmbeddedPostgres with
``shared_preload_libraries=pg_stat_statements``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from conftest import ManualClock
from uihelpers import make_journal, make_settings, shown
from warroom.sources.dbpoll import StatementsSnapshot
from warroom.sources.postgres import PostgresSource, schema_sql
from warroom.sources.postgres.statements import NOT_INSTALLED, deltas
from warroom.ui.panes.database import HealthPane

pytestmark = pytest.mark.pg

CONTRIB = sorted(Path("/usr/lib/postgresql").glob("*/lib/pg_stat_statements.so"))


@pytest.fixture(scope="module")
def pgss_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from warroom.demo.embedded import EmbeddedPostgres

    # The README's test command installs it (as chromium for the browser test): never a skip.
    assert CONTRIB, "no PostgreSQL with pg_stat_statements here: install Debian's postgresql-contrib"
    server = EmbeddedPostgres(
        tmp_path_factory.mktemp("pgss"),
        bin_dir=CONTRIB[-1].parent.parent / "bin",
        options="-c shared_preload_libraries=pg_stat_statements",
    )
    server.start()
    try:
        yield server
    finally:
        server.release()
        server.remove()


@pytest.fixture
async def pgss_dsn(pgss_server: object) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pgss_server.dsn())  # type: ignore[attr-defined]
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = pgss_server.dsn(name)  # type: ignore[attr-defined]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE EXTENSION pg_stat_statements")
        await conn.execute(schema_sql())
    finally:
        await conn.close()
    yield dsn
    admin = await asyncpg.connect(pgss_server.dsn())  # type: ignore[attr-defined]
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def source_for(tmp_path: Path, dsn: str, clock: ManualClock) -> PostgresSource:
    settings = make_settings(tmp_path)
    db = replace(settings.database, dsn=dsn, statements_interval=timedelta(seconds=30))
    return PostgresSource(replace(settings, database=db), declared_at=None, clock=clock)


async def run_sql(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


async def test_the_slowest_statements_since_the_first_reading(
    tmp_path: Path, pgss_dsn: str, clock: ManualClock
) -> None:
    # pg_stat_statements groups statements by shape (constants are $n): three shapes here.
    await run_sql(
        pgss_dsn,
        "CREATE TABLE before_the_incident (n int)",
        "CREATE TABLE during_the_incident (n int)",
        "CREATE TABLE hostile_text (n int)",
        "INSERT INTO before_the_incident VALUES (1)",
        "INSERT INTO during_the_incident VALUES (1)",
        "INSERT INTO hostile_text VALUES (1)",
    )
    # Before the console watches: a slow statement whose time must not count (it is in the totals).
    await run_sql(pgss_dsn, "SELECT pg_sleep(0.4) FROM before_the_incident")
    source = source_for(tmp_path, pgss_dsn, clock)
    try:
        first = await source.poll_once()
        assert isinstance(first.statements, StatementsSnapshot) and first.statements.available
        assert first.statements.since == clock.now
        assert first.statements.rows == ()  # nothing since the baseline (the console's own left out)
        # During: a slow statement, run 3 times, and a hostile text (escape sequence, long)
        long_tail = "x" * 5000
        await run_sql(
            pgss_dsn,
            *["SELECT pg_sleep(0.15) FROM during_the_incident"] * 3,
            f"/* \x1b]0;pwned\x07 {long_tail} */ SELECT pg_sleep(0.05) FROM hostile_text",
            "SELECT pg_sleep(0.1) FROM before_the_incident",
        )
        second = await source.poll_once()  # not due yet: the same snapshot
        assert second.statements == first.statements
        clock.advance(seconds=31)
        third = await source.poll_once()
        snap = third.statements
        assert isinstance(snap, StatementsSnapshot) and snap.available
        rows = {q.query: q for q in snap.rows}
        during = next(q for q in snap.rows if "during_the_incident" in q.query)
        assert snap.rows[0] is during  # the most time since the first reading
        assert during.calls == 3 and 400 < during.total_ms < 2000
        assert during.mean_ms == pytest.approx(during.total_ms / 3)
        before = next(q for q in snap.rows if "before_the_incident" in q.query)
        assert before.calls == 1 and before.total_ms < 350  # only this run's 0.1 s, not the 0.4 s
        hostile = next(q for q in snap.rows if q.query.startswith("/* xxx"))  # the comment is kept
        assert "pwned" not in hostile.query and "\x1b" not in hostile.query  # the escape is gone
        assert len(hostile.query) <= 200
        assert all(len(text) <= 200 for text in rows)
    finally:
        await source.close()


async def test_the_console_shows_them_in_the_database_pane(
    tmp_path: Path, pgss_dsn: str, clock: ManualClock
) -> None:
    from warroom.ui.app import WarroomApp

    settings = make_settings(tmp_path)
    settings = replace(
        settings,
        database=replace(
            settings.database,
            dsn=pgss_dsn,
            poll_interval=timedelta(seconds=0.3),
            statements_interval=timedelta(seconds=1),
        ),
    )
    journal = make_journal(settings, clock)
    journal.declare("P1", "Campaign pages slow", lead="alice")
    app = WarroomApp(
        settings, journal=journal, clock=clock, blink=False, watch_terminal=False, system_copy=None
    )
    async with app.run_test(size=(160, 48)) as pilot:

        async def reading(seconds: float, found=lambda data: True) -> StatementsSnapshot | None:  # type: ignore[no-untyped-def]
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                data = app.live.db.statements if app.live.db is not None else None
                if isinstance(data, StatementsSnapshot) and found(data):
                    return data
                clock.advance(seconds=1)  # the next reading is due
                await pilot.pause(0.1)
            return None

        await run_sql(
            pgss_dsn,
            "CREATE TABLE slow_campaign_report (n int)",
            "INSERT INTO slow_campaign_report VALUES (1)",
        )
        assert await reading(15) is not None  # the baseline is taken
        await run_sql(pgss_dsn, *["SELECT pg_sleep(0.1) FROM slow_campaign_report"] * 2)
        data = await reading(
            15,
            lambda d: any(
                "pg_sleep($1) FROM slow_campaign_report" in q.query and q.calls == 2 for q in d.rows
            ),
        )
        assert data is not None
        report = data.rows[0]
        assert report.query == "SELECT pg_sleep($1) FROM slow_campaign_report"
        assert report.calls == 2 and report.total_ms >= 190
        own = ("BEGIN READ ONLY", "SET LOCAL", "-- db_health", "SELECT s.userid", "WITH RECURSIVE typeinfo")
        assert not [q.query for q in data.rows if q.query.startswith(own)]  # the console's own left out
        # z zooms the Database pane: every line of it in view
        pane = app.screen.query_one(HealthPane)
        end = time.monotonic() + 5  # a poll like the last one is drawn with the next tick
        while not (isinstance(pane.statements, StatementsSnapshot) and pane.statements.rows):
            assert time.monotonic() < end, "the pane did not get the rows"
            await pilot.pause(0.1)
        pane.query_one("#health-scroll").focus()
        await pilot.pause()
        await pilot.press("z")
        text = await shown(pilot, app)
        assert pane.region.height == 48 - 2  # the whole console between the header and the footer
        assert "Slow queries since" in text
        assert "slow_campaign_report" in text and "2×" in text


async def test_a_database_without_the_extension_gets_a_one_line_hint(
    tmp_path: Path, pg_dsn: str, clock: ManualClock
) -> None:
    source = source_for(tmp_path, pg_dsn, clock)
    try:
        poll = await source.poll_once()
    finally:
        await source.close()
    assert isinstance(poll.statements, StatementsSnapshot)
    assert poll.statements.hint == NOT_INSTALLED and poll.statements.rows == ()
    assert "\n" not in NOT_INSTALLED and "CREATE EXTENSION pg_stat_statements" in NOT_INSTALLED
    assert poll.health is not None and not hasattr(poll.health, "kind")  # the other panes go on


def test_deltas_count_what_happened_since_and_survive_a_reset() -> None:
    baseline = {"a": (10, 1000.0), "b": (5, 50.0)}
    now = {"a": (12, 1300.0), "b": (1, 20.0), "c": (3, 90.0)}
    assert deltas(now, baseline) == {"a": (2, 300.0), "b": (1, 20.0), "c": (3, 90.0)}
