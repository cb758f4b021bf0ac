"""The database panes in the console against a real PostgreSQL: live data, a failing query that
disables one pane, an outage (stale data, the reason, the retry) and hostile data made inert."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from uihelpers import make_journal, make_settings, screen_text, shown
from warroom.incident.journal import system_clock
from warroom.sources.postgres import schema_sql
from warroom.ui.app import WarroomApp
from warroom.ui.panes.database import ErrorsPane, SmsPane

pytestmark = pytest.mark.pg

SIZE = (200, 60)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


async def seed(dsn: str, rows: list[tuple[str, str, int]]) -> None:
    """error_logs rows spread over the last 20 minutes, plus some SMS failures."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(schema_sql())
        for error_type, message, n in rows:
            await conn.execute(
                """INSERT INTO error_logs (occurred_at, error_type, error_message)
                   SELECT now() - (g % 20) * interval '1 minute', $1, $2 FROM generate_series(1, $3) g""",
                error_type,
                message,
                n,
            )
        await conn.execute(
            """INSERT INTO sms_delivery_log (created_at, phone_number, delivery_status, error_code, error_message)
               SELECT now() - (g % 30) * interval '1 minute', '+1555010' || (g % 7), 'failed', '30003',
                      'Unreachable destination handset' FROM generate_series(1, 40) g"""
        )
        await conn.execute(
            """INSERT INTO sms_delivery_log (created_at, phone_number, delivery_status)
               SELECT now() - (g % 30) * interval '1 minute', '+15550100', 'delivered' FROM generate_series(1, 400) g"""
        )
    finally:
        await conn.close()


def db_app(tmp_path: Path, dsn: str, **db_changes):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    settings = replace(
        settings,
        database=replace(settings.database, dsn=dsn, poll_interval=replace_td(0.3), **db_changes),
    )
    journal = make_journal(settings, system_clock)  # type: ignore[arg-type]
    journal.declare("P0", "SMS sending failing", lead="alice")
    return WarroomApp(
        settings, journal=journal, blink=False, watch_terminal=False, system_copy=None, tick_interval=0.5
    )


def replace_td(seconds: float):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    return timedelta(seconds=seconds)


async def wait_for(pilot, predicate, seconds: float = 8.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        await pilot.pause(0.1)
    return predicate()


async def test_panes_fill_from_a_real_database(tmp_path: Path, pg_dsn: str) -> None:
    await seed(
        pg_dsn,
        [("TwilioTimeout", "POST /Messages.json timed out", 120), ("PostgresError", "too many clients", 30)],
    )
    app = db_app(tmp_path, pg_dsn)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_for(
            pilot,
            lambda: app.live.db is not None and app.live.db.connected and app.live.tallies() is not None,
        )
        assert await wait_for(pilot, lambda: app.live.db.sms is not None and app.live.db.health is not None)
        text = await shown(pilot, app)
        assert "TwilioTimeout" in text and "POST /Messages.json timed out" in text
        assert "120" in text and "PostgresError" in text
        assert "Connections" in text
        app.screen.query_one("#right-tabs").active = "tab-sms"
        text = await shown(pilot, app)
        assert re.search(r"\*+010\d", text)  # phone numbers masked to their last 4 digits
        assert "+1555010" not in text
        assert "Unreachable destination handset" in text
        assert "Error rate" in text
        # the cursor stays on its row across refreshes
        table = app.screen.query_one("#errors-table")
        table.focus()
        await pilot.press("down")
        row_before = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        polls = app.live.db.fetched_at
        assert await wait_for(pilot, lambda: app.live.db.fetched_at > polls)
        await pilot.pause()
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == row_before
        # the tally at declaration is kept for the report, once; no "peak" while nothing rose
        labels = [e.body.label for e in app.journal.events(app.incident.id) if e.kind == "evidence_recorded"]
        assert labels == ["at declaration"]
        # y copies the error
        await pilot.press("y")
        await pilot.pause(0.3)
        assert "too many clients" in app.clipboard or "timed out" in app.clipboard


async def test_a_missing_table_disables_only_its_pane(tmp_path: Path, pg_dsn: str) -> None:
    await seed(pg_dsn, [("TwilioTimeout", "timed out", 10)])
    conn = await asyncpg.connect(pg_dsn)
    await conn.execute("DROP TABLE sms_delivery_log")
    await conn.close()
    app = db_app(tmp_path, pg_dsn)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_for(pilot, lambda: app.live.tallies() is not None)
        await pilot.pause(0.5)
        app.screen.query_one("#right-tabs").active = "tab-sms"  # (a pane behind a tab waits)
        text = await shown(pilot, app)
        sms = app.screen.query_one(SmsPane)
        assert sms.has_class("-failed")
        assert "query failed (missing)" in text and "R retries" in text
        assert not app.screen.query_one(ErrorsPane).has_class("-failed")
        assert "TwilioTimeout" in text


async def test_an_outage_shows_stale_data_and_recovers(tmp_path: Path) -> None:
    from warroom.demo.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path / "pg")
    dsn = server.start()
    try:
        await seed(dsn, [("TwilioTimeout", "timed out", 50)])
        app = db_app(tmp_path / "console", dsn, connect_timeout=replace_td(1.0))
        async with app.run_test(size=SIZE) as pilot:
            assert await wait_for(pilot, lambda: app.live.tallies() is not None and app.live.db.connected)
            server.pause()  # the database goes down under the console
            assert await wait_for(pilot, lambda: not app.live.db.connected, seconds=6)
            await pilot.pause(0.6)
            pane = app.screen.query_one(ErrorsPane)
            assert pane.has_class("-stale")
            text = await shown(pilot, app)
            assert "unreachable since" in text and "retrying in" in text and "(attempt" in text
            assert "TwilioTimeout" in text  # the last data stays, dimmed
            # the console still answers keys
            await pilot.press("p")
            assert app.incident.phase == "investigation"
            server.resume()
            assert await wait_for(pilot, lambda: app.live.db.connected, seconds=35)
            await pilot.pause(0.6)
            assert not pane.has_class("-stale")
    finally:
        server.release()


async def test_hostile_database_text_is_inert_on_screen(tmp_path: Path, pg_dsn: str) -> None:
    hostile = [
        ("Evil\x1b[2J\x1b]0;pwned\x07Type", "osc \x1b]52;c;ZWNobyBoaQ==\x07 clipboard grab", 30),
        ("[bold red]Markup[/]", "\x08\x08\x08\rcarriage [link=http://x]link[/link]", 20),
        ("RTL", "\u202egnp.exe \u05e9\u05dc\u05d5\u05dd", 10),
        ("Huge", "x" * 100_000, 5),
    ]
    await seed(pg_dsn, hostile)
    app = db_app(tmp_path, pg_dsn)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_for(
            pilot, lambda: app.live.tallies() is not None and len(app.live.tallies().rows) >= 4
        )
        await pilot.pause(0.5)
        strips = app.screen._compositor.render_strips()
        for strip in strips:
            for seg in strip:
                assert not CONTROL.search(seg.text), repr(seg.text)
                assert "\u202e" not in seg.text
        text = screen_text(app)
        assert "[bold red]Markup[/]" in text  # shown literally, not as markup
        assert "EvilType" in text  # the escape sequences (with what they carried) are gone
        assert "pwned" not in text and "ZWNobyBoaQ" not in text
        assert "שלום" in text
        # nothing odd in the journal's evidence either
        for event in app.journal.events(app.incident.id):
            assert not CONTROL.search(event.body.describe().replace("\n", ""))


async def test_the_console_connection_is_read_only(tmp_path: Path, pg_dsn: str) -> None:
    from warroom.sources.postgres import connect

    await seed(pg_dsn, [])
    settings = replace(
        make_settings(tmp_path), database=replace(make_settings(tmp_path).database, dsn=pg_dsn)
    )
    conn = await connect(settings)
    try:
        with pytest.raises(asyncpg.exceptions.ReadOnlySQLTransactionError):
            await conn.execute("UPDATE campaigns SET status = 'paused'")
        assert await conn.fetchval("SELECT current_setting('application_name')") == "warroom"
    finally:
        await conn.close()


async def test_the_database_pane_counts_every_blocked_session(tmp_path: Path, pg_dsn: str) -> None:
    """13 sessions waiting on a lock said "blocked 5" (the five listed): the pane shows them all."""
    import asyncio

    await seed(pg_dsn, [("TwilioTimeout", "timed out", 10)])
    admin = await asyncpg.connect(pg_dsn)
    await admin.execute("INSERT INTO campaigns (id, name) VALUES ('c1', 'Black Friday')")
    holder = await asyncpg.connect(pg_dsn)
    waiters = [await asyncpg.connect(pg_dsn) for _ in range(8)]
    tasks = []
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute("UPDATE campaigns SET status = 'paused' WHERE id = 'c1'")
        tasks = [
            asyncio.create_task(w.execute("UPDATE campaigns SET name = 'x' WHERE id = 'c1'")) for w in waiters
        ]
        app = db_app(tmp_path, pg_dsn)
        async with app.run_test(size=SIZE) as pilot:
            assert await wait_for(
                pilot,
                lambda: (
                    app.live.db is not None
                    and getattr(app.live.db.health, "waiting", 0) == 8
                    and len(app.live.db.health.blocked) == 5
                ),
            )
            await pilot.pause(0.6)
            text = await shown(pilot, app)
            assert re.search(r"Running \d+ +blocked 8\b", text), text
            assert "(+7 more)" in text
        await hold.rollback()
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        for c in (holder, *waiters, admin):
            c.terminate()


async def test_the_errors_pane_says_when_rarer_kinds_are_counted_together(
    tmp_path: Path, pg_dsn: str
) -> None:
    from warroom.sources.tallies import MAX_KEYS

    await seed(pg_dsn, [("TwilioTimeout", "timed out", 40)])
    conn = await asyncpg.connect(pg_dsn)
    await conn.execute(
        "INSERT INTO error_logs (occurred_at, error_type, error_message) "
        "SELECT now() - interval '1 minute', 'Unique', 'message #' || g FROM generate_series(1, $1::int) g",
        MAX_KEYS + 100,
    )
    await conn.close()
    app = db_app(tmp_path, pg_dsn)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_for(pilot, lambda: app.live.tallies() is not None)
        await pilot.pause(0.6)
        text = await shown(pilot, app)
        assert f"{40 + MAX_KEYS + 100:,} in 60 min · {MAX_KEYS}+ kinds (101 in rarer ones)" in text
        assert "TwilioTimeout" in text


async def test_r_on_a_teams_failed_query_pane_retries_that_query(tmp_path: Path, pg_dsn: str) -> None:
    """A team's pane whose table does not exist yet fails alone; once the table is there, R on
    that pane runs its query again and the rows show."""
    from warroom.settings import QueryPane
    from warroom.ui.panes.database import QueryTablePane

    await seed(pg_dsn, [("TwilioTimeout", "timed out", 3)])
    conn = await asyncpg.connect(pg_dsn)
    await conn.execute("DROP TABLE IF EXISTS team_queue")
    await conn.close()
    sql = tmp_path / "queue.sql"
    sql.write_text("SELECT name, depth FROM team_queue ORDER BY name")
    app = db_app(tmp_path, pg_dsn, panes=(QueryPane("Queue depth", sql),))
    async with app.run_test(size=SIZE) as pilot:
        from textual.widgets import TabbedContent

        await pilot.pause()
        side = app.screen.query_one("#right TabbedContent", TabbedContent)
        side.active = "tab-query-1"  # the team's pane is a tab beside Comms
        await pilot.pause()
        pane = app.screen.query_one(QueryTablePane)
        assert pane.id == "query-1" and pane.QUERY == "query-1"
        assert await wait_for(pilot, lambda: pane.has_class("-failed"))
        conn = await asyncpg.connect(pg_dsn)
        try:
            await conn.execute("CREATE TABLE team_queue (name text, depth int)")
            await conn.execute("INSERT INTO team_queue VALUES ('sms-send', 4211)")
        finally:
            await conn.close()
        await pilot.pause(1.0)
        assert pane.has_class("-failed")  # a failed query stays off until asked
        pane.query_one("#query-table").focus()
        await pilot.pause()
        assert app.focused is not None and pane in app.focused.ancestors_with_self
        await pilot.press("R")
        assert await wait_for(pilot, lambda: not pane.has_class("-failed"))
        assert await wait_for(pilot, lambda: "4211" in screen_text(app))


async def test_sparklines_are_redrawn_to_the_width_after_a_resize(tmp_path: Path, pg_dsn: str) -> None:
    await seed(pg_dsn, [("TwilioTimeout", "POST /Messages.json timed out", 120)])
    settings = make_settings(tmp_path)
    settings = replace(
        settings, database=replace(settings.database, dsn=pg_dsn, poll_interval=replace_td(600))
    )
    journal = make_journal(settings, system_clock)  # type: ignore[arg-type]
    journal.declare("P0", "SMS sending failing", lead="alice")
    app = WarroomApp(settings, journal=journal, blink=False, watch_terminal=False, system_copy=None)
    async with app.run_test(size=(160, 48)) as pilot:
        assert await wait_for(pilot, lambda: app.live.db is not None and app.live.tallies() is not None)
        await pilot.pause()
        table = app.screen.query_one("#errors-table")
        key = next(iter(table.rows)).value

        def spark() -> str:
            return str(table.get_cell(key, "spark").plain)

        assert len(spark()) == 20  # a pane about 110 wide; one poll only (the next is in 10 min)
        for size, width in (((200, 60), 30), ((160, 48), 20)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.3)
            text = await shown(pilot, app)
            assert len(spark()) == width, size
            assert table.columns["spark"].content_width == width, size  # type: ignore[index]
            row = next(line for line in text.splitlines() if "TwilioTimeout  POST" in line)
            assert spark().strip() in row, size


async def test_a_pane_behind_another_tab_waits_and_shows_the_latest_poll_when_brought_forward(
    tmp_path: Path, pg_dsn: str
) -> None:
    """The SMS pane sits behind the Comms tab at start: polls do not update it (updating a widget
    that is not displayed makes Textual arrange the whole screen to find it), and brought forward
    it shows the latest poll at once, not the one before it was hidden."""
    await seed(pg_dsn, [("TwilioTimeout", "POST /Messages.json timed out", 10)])
    app = db_app(tmp_path, pg_dsn)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_for(pilot, lambda: app.live.db is not None and app.live.db.sms is not None)
        pane = app.screen.query_one(SmsPane)
        await pilot.pause(0.5)
        assert pane.behind
        conn = await asyncpg.connect(pg_dsn)
        try:
            await conn.execute(
                """INSERT INTO sms_delivery_log (created_at, phone_number, delivery_status, error_code, error_message)
                   VALUES (now(), '+15550199', 'failed', '21610', 'Attempt to send to unsubscribed recipient')"""
            )
        finally:
            await conn.close()
        assert await wait_for(
            pilot,
            lambda: any("unsubscribed" in str(r) for r in (app.live.db.sms.rows if app.live.db.sms else ())),
        )
        await pilot.pause(0.6)  # a tick: a poll waiting for it is drawn then, for panes shown
        table = pane.query_one("#sms-table")
        assert not any("unsubscribed" in str(table.get_row(k)) for k in table.rows)
        app.screen.query_one("#right-tabs").active = "tab-sms"
        text = await shown(pilot, app)
        assert "unsubscribed recipient" in text
        assert not pane.behind
