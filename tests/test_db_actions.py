"""The runbooks' database actions against a real PostgreSQL: a real blocked session (one connection
holds a lock, another waits) is cancelled and terminated through an action role that has only
pg_signal_backend, pausing a campaign runs the team's statement with the id as $1, each asks first
with the exact SQL and is journaled with who, what and the result; without [database] action_dsn
the same keys copy the SQL and run nothing. The watching connection stays read-only."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from uihelpers import make_journal, make_settings, screen_text, settle, shown
from warroom.config import ConfigError, load_settings
from warroom.incident import events as ev
from warroom.incident.journal import system_clock
from warroom.sources.postgres import schema_sql
from warroom.sources.postgres.actions import (
    cancel_backend,
    pause_campaign,
    probe_action,
    run_action,
    terminate_backend,
)
from warroom.text import clean
from warroom.ui.app import WarroomApp
from warroom.ui.panes.database import HealthPane
from warroom.ui.screens.dbaction import BackendPickModal, CampaignModal, SqlConfirmModal

PAUSE = "UPDATE campaigns SET status = 'paused' WHERE id = $1"
ACTOR_PASSWORD = "act0r-Pw-n0t-on-screen"


def with_user(dsn: str, user: str, password: str) -> str:
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@dataclass
class Blocked:
    """A real lock wait: ``holder`` holds a row lock in an open transaction (idle in transaction),
    ``waiter`` waits for it in an UPDATE that does not return until the lock is freed."""

    dsn: str  # the superuser's (the watching connection's)
    actor_dsn: str  # a role with pg_signal_backend and UPDATE on campaigns, nothing else
    holder: asyncpg.Connection
    waiter: asyncpg.Connection
    holder_pid: int
    waiter_pid: int
    waiting: asyncio.Task[str]


async def wait_until(predicate, seconds: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if await predicate():
            return True
        await asyncio.sleep(0.1)
    return bool(await predicate())


async def pid_alive(dsn: str, pid: int) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid))
    finally:
        await conn.close()


@pytest.fixture
async def blocked(pg_dsn: str) -> AsyncIterator[Blocked]:
    suffix = uuid.uuid4().hex[:8]
    app_role, actor = f"app_{suffix}", f"actor_{suffix}"
    admin = await asyncpg.connect(pg_dsn)
    await admin.execute(schema_sql())
    await admin.execute(
        "INSERT INTO campaigns (id, name) VALUES ('spring-sale', 'Spring sale'), ('c2', 'Other')"
    )
    # Neither is a superuser: pg_signal_backend may signal only non-superuser backends.
    await admin.execute(f"CREATE ROLE {app_role} LOGIN PASSWORD 'app-pw-{suffix}'")
    await admin.execute(f"GRANT SELECT, UPDATE ON campaigns TO {app_role}")
    await admin.execute(f"CREATE ROLE {actor} LOGIN PASSWORD '{ACTOR_PASSWORD}'")
    await admin.execute(f"GRANT pg_signal_backend TO {actor}")
    await admin.execute(f"GRANT SELECT, UPDATE ON campaigns TO {actor}")
    app_dsn = with_user(pg_dsn, app_role, f"app-pw-{suffix}")
    holder = await asyncpg.connect(app_dsn)
    waiter = await asyncpg.connect(app_dsn)
    await holder.execute("BEGIN; UPDATE campaigns SET name = 'held' WHERE id = 'c2'")
    waiting = asyncio.ensure_future(waiter.execute("UPDATE campaigns SET name = 'waiting' WHERE id = 'c2'"))

    async def is_waiting() -> bool:
        return bool(
            await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                waiter.get_server_pid(),
            )
        )

    assert await wait_until(is_waiting)
    try:
        yield Blocked(
            pg_dsn,
            with_user(pg_dsn, actor, ACTOR_PASSWORD),
            holder,
            waiter,
            holder.get_server_pid(),
            waiter.get_server_pid(),
            waiting,
        )
    finally:
        waiting.cancel()
        for conn in (holder, waiter):
            conn.terminate()
        await asyncio.gather(waiting, return_exceptions=True)
        for role in (app_role, actor):
            await admin.execute(f"DROP OWNED BY {role}")
        await admin.execute(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{app_role}'"
        )
        await asyncio.sleep(0.2)
        for role in (app_role, actor):
            await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()


def action_settings(tmp_path: Path, dsn: str, action_dsn: str, **changes):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    db = replace(
        settings.database,
        dsn=dsn,
        poll_interval=timedelta(seconds=0.3),
        action_dsn=action_dsn,
        pause_campaign_sql=PAUSE,
        **changes,
    )
    return replace(settings, database=db)


def action_app(settings):  # type: ignore[no-untyped-def]
    journal = make_journal(settings, system_clock)  # type: ignore[arg-type]
    journal.declare("P0", "Campaign sends stuck behind a lock", lead="alice")
    return WarroomApp(
        settings, journal=journal, blink=False, watch_terminal=False, system_copy=None, tick_interval=0.5
    )


async def until(pilot, predicate, seconds: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        await pilot.pause(0.1)
    return bool(predicate())


def db_actions(app) -> list[ev.DatabaseActed]:  # type: ignore[no-untyped-def]
    return [e.body for e in app.journal.events(app.incident.id) if isinstance(e.body, ev.DatabaseActed)]


async def focus_database(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """Focus the Database pane (it mounts after the first frame)."""
    assert await until(pilot, lambda: bool(app.screen.query(HealthPane)))
    await pilot.pause(0.3)  # the console's own first focus (the checklist) comes first

    def focused() -> bool:
        pane = app.screen.query_one(HealthPane)
        if app.focused is None or pane not in app.focused.ancestors_with_self:
            pane.query_one("#health-scroll").focus()
            return False
        return True

    assert await until(pilot, focused)


async def pick(pilot, app, key: str, pid: int) -> None:  # type: ignore[no-untyped-def]
    """Press ``key`` on the Database pane and pick ``pid`` in the list."""
    await focus_database(pilot, app)
    await pilot.press(key)
    assert await until(pilot, lambda: isinstance(app.screen, BackendPickModal))
    options = app.screen.query_one("#backends")
    index = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == str(pid))
    options.highlighted = index
    await pilot.press("enter")


async def blocked_listed(app, b: Blocked) -> bool:  # type: ignore[no-untyped-def]
    from warroom.sources.dbpoll import HealthSnapshot

    health = app.live.db.health if app.live.db is not None else None
    if not isinstance(health, HealthSnapshot):
        return False
    listed = {x.pid: x.role for x in health.backends()}
    return listed.get(b.holder_pid) == "blocker" and listed.get(b.waiter_pid) == "blocked"


# -- through the console: cancel, terminate, pause -----------------------------------------------------


@pytest.mark.pg
async def test_a_blocked_session_is_cancelled_then_its_blocker_terminated(
    tmp_path: Path, blocked: Blocked
) -> None:
    settings = action_settings(tmp_path, blocked.dsn, blocked.actor_dsn)
    app = action_app(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        listed = False
        end = time.monotonic() + 15
        while time.monotonic() < end and not listed:
            listed = await blocked_listed(app, blocked)
            await pilot.pause(0.1)
        assert listed, "the Database pane lists the blocker and the blocked session"
        text = await shown(pilot, app)
        assert f"pid {blocked.waiter_pid}" in text  # the pane's Blocked line

        # c: pick the waiting session, see the exact SQL, confirm; it runs as the action role
        await pick(pilot, app, "c", blocked.waiter_pid)
        assert await until(pilot, lambda: isinstance(app.screen, SqlConfirmModal))
        text = await shown(pilot, app)
        assert f"SELECT pg_cancel_backend({blocked.waiter_pid})" in text
        assert ACTOR_PASSWORD not in text and "actor_" in text  # where it runs, password masked
        assert not blocked.waiting.done()  # nothing ran before the answer
        await pilot.press("down", "enter")  # "Run it" (the default is not to)
        assert await until(pilot, lambda: len(db_actions(app)) == 1)
        with pytest.raises(asyncpg.QueryCanceledError, match="user request"):
            await asyncio.wait_for(blocked.waiting, 10)
        done = db_actions(app)[0]
        assert (done.action, done.target, done.outcome) == ("cancel", f"pid {blocked.waiter_pid}", "done")
        assert done.sql == f"SELECT pg_cancel_backend({blocked.waiter_pid})"
        assert done.result == "pg_cancel_backend returned true" and done.role.startswith("actor_")
        event = next(e for e in app.journal.events(app.incident.id) if e.kind == "database_action")
        assert event.actor == "alice"  # who
        assert await pid_alive(blocked.dsn, blocked.waiter_pid)  # cancelled, not terminated

        # K: terminate the holder (idle in transaction: cancelling would do nothing). Nobody waits
        # for it any more: it is listed as a session that is not idle.
        assert await until(pilot, lambda: app.live.db.health.blocked_count == 0)
        await pick(pilot, app, "K", blocked.holder_pid)
        assert await until(pilot, lambda: isinstance(app.screen, SqlConfirmModal))
        assert f"SELECT pg_terminate_backend({blocked.holder_pid})" in await shown(pilot, app)
        await pilot.press("down", "enter")
        assert await until(pilot, lambda: len(db_actions(app)) == 2)
        ended = db_actions(app)[1]
        assert (ended.action, ended.outcome, ended.result) == (
            "terminate",
            "done",
            "pg_terminate_backend returned true",
        )

        async def holder_gone() -> bool:
            return not await pid_alive(blocked.dsn, blocked.holder_pid)

        assert await wait_until(holder_gone)
        # the timeline says it, with who and the result; the password never shows
        text = await shown(pilot, app)
        assert f"Database terminate pid {blocked.holder_pid} as actor_" in text.replace("\n", " ") or (
            "Database terminate" in text
        )
        assert ACTOR_PASSWORD not in text
        assert all(ACTOR_PASSWORD not in e.describe() for e in app.journal.events(app.incident.id))
        # the watching connection is still read-only
        assert app.live.db.connected


@pytest.mark.pg
async def test_without_an_action_dsn_the_keys_copy_the_sql_and_run_nothing(
    tmp_path: Path, blocked: Blocked
) -> None:
    settings = action_settings(tmp_path, blocked.dsn, "")
    app = action_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        end = time.monotonic() + 15
        while time.monotonic() < end and not await blocked_listed(app, blocked):
            await pilot.pause(0.1)
        app.screen.query_one("#tabs").active = "tab-database"  # a tab at 80x24
        await pilot.pause()
        await pick(pilot, app, "K", blocked.holder_pid)
        await settle(pilot, app, "clipboard")
        assert not isinstance(app.screen, SqlConfirmModal)  # nothing to confirm: nothing runs
        assert app.clipboard == f"SELECT pg_terminate_backend({blocked.holder_pid});"
        copied = db_actions(app)
        assert [(c.action, c.outcome) for c in copied] == [("terminate", "copied")]
        assert "not run" in copied[0].describe()
        notices = " ".join(str(n.message) for n in app._notifications)
        assert "action_dsn" in notices and "not run" in notices
        await asyncio.sleep(0.5)
        assert await pid_alive(blocked.dsn, blocked.holder_pid) and not blocked.waiting.done()


@pytest.mark.pg
async def test_pausing_a_campaign_runs_the_teams_statement_with_the_id_as_a_parameter(
    tmp_path: Path, blocked: Blocked
) -> None:
    # The lock is released first: this test is about the statement, not the wait.
    blocked.holder.terminate()
    await asyncio.gather(blocked.waiting, return_exceptions=True)
    settings = action_settings(tmp_path, blocked.dsn, blocked.actor_dsn)
    app = action_app(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await focus_database(pilot, app)
        await pilot.press("m")
        assert await until(pilot, lambda: isinstance(app.screen, CampaignModal))
        await pilot.press(*"spring-sale")
        await pilot.press("enter")
        assert await until(pilot, lambda: isinstance(app.screen, SqlConfirmModal))
        text = await shown(pilot, app)
        assert PAUSE in text and "with $1 = 'spring-sale'" in text
        await pilot.press("enter")  # the default: nothing runs
        await pilot.pause(0.5)
        assert db_actions(app) == [] and not isinstance(app.screen, SqlConfirmModal)
        await pilot.press("m")
        assert await until(pilot, lambda: isinstance(app.screen, CampaignModal))
        await pilot.press(*"spring-sale", "enter")
        assert await until(pilot, lambda: isinstance(app.screen, SqlConfirmModal))
        await pilot.press("down", "enter")
        assert await until(pilot, lambda: len(db_actions(app)) == 1)
        paused = db_actions(app)[0]
        assert (paused.action, paused.target, paused.outcome, paused.result) == (
            "pause campaign",
            "spring-sale",
            "done",
            "UPDATE 1",
        )
    conn = await asyncpg.connect(blocked.dsn)
    try:
        rows = dict(await conn.fetch("SELECT id, status FROM campaigns ORDER BY id"))
    finally:
        await conn.close()
    assert rows == {"c2": "active", "spring-sale": "paused"}


# -- the action connection itself ---------------------------------------------------------------------


@pytest.mark.pg
async def test_a_role_without_pg_signal_backend_is_refused_by_the_server(blocked: Blocked) -> None:
    suffix = uuid.uuid4().hex[:8]
    role, password = f"weak_{suffix}", f"weak-pw-{suffix}"
    admin = await asyncpg.connect(blocked.dsn)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        settings = make_settings(Path("/nonexistent"))
        db = replace(settings.database, action_dsn=with_user(blocked.dsn, role, password))
        result = await run_action(db, cancel_backend(blocked.waiter_pid))
        assert result.outcome == "failed" and "permission denied" in result.result
        # `warroom check` says so beforehand, and that the granted role may
        assert await probe_action(db) == (
            False,
            f"action_dsn: role {role} may not signal backends (GRANT pg_signal_backend TO {role})",
        )
        ok, line = await probe_action(replace(db, action_dsn=blocked.actor_dsn))
        assert ok and line.startswith("action_dsn ok: role actor_") and "pg_signal_backend" in line
        assert result.role == role and password not in result.result
        assert not blocked.waiting.done()
        # a pid that is no backend: no effect, said so
        gone = await run_action(replace(db, action_dsn=blocked.actor_dsn), terminate_backend(2_000_000))
        assert (gone.outcome, gone.result) == (
            "no effect",
            "pg_terminate_backend returned false: no such backend (it may have ended)",
        )
        # a statement past the action timeout is stopped by the server
        slow = pause_campaign("SELECT pg_sleep(5) WHERE $1 <> ''", "x")
        quick = replace(db, action_dsn=blocked.actor_dsn, action_timeout=timedelta(milliseconds=300))
        t0 = time.monotonic()
        timed_out = await run_action(quick, slow)
        assert timed_out.outcome == "failed" and "statement timeout" in timed_out.result
        assert time.monotonic() - t0 < 4
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()


async def test_no_action_dsn_is_a_failed_result_not_an_exception() -> None:
    settings = make_settings(Path("/nonexistent"))
    result = await run_action(settings.database, cancel_backend(42))
    assert result.outcome == "failed" and "action_dsn" in result.result


async def test_an_unreachable_action_database_is_a_failed_result() -> None:
    settings = make_settings(Path("/nonexistent"))
    db = replace(
        settings.database,
        action_dsn="postgresql://actor:pw-unreachable@127.0.0.1:1/app",
        connect_timeout=timedelta(seconds=2),
    )
    result = await run_action(db, terminate_backend(42))
    assert result.outcome == "failed" and result.result and "pw-unreachable" not in result.result


def test_check_probes_the_action_connection_and_masks_its_password(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "WARROOM_STATE_DIR": str(tmp_path / "state")}
    env["WARROOM_ACTION_DSN"] = "postgresql://actor:pw-Unreachable-9f@127.0.0.1:1/app"
    p = subprocess.run(
        [sys.executable, "-m", "warroom", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 1  # no database, and the action connection does not answer
    out = p.stdout + p.stderr
    assert "pw-Unreachable-9f" not in out
    assert "action_dsn          = postgresql://actor:***@127.0.0.1:1/app   (timeout 5 s)" in p.stdout
    assert "action_dsn: cannot connect: " in p.stdout


# -- the SQL shown, run and copied ---------------------------------------------------------------------


def test_the_campaign_id_is_a_parameter_and_a_quoted_literal_only_in_the_copy() -> None:
    action = pause_campaign(PAUSE + ";", "it's\x1b[31m-42")
    assert action.sql == PAUSE and action.argument == "it's-42"  # the escape sequence is gone
    assert action.shown == PAUSE + "\n  with $1 = 'it''s-42'"
    assert action.to_copy == "UPDATE campaigns SET status = 'paused' WHERE id = 'it''s-42';"
    assert cancel_backend(4242).to_copy == "SELECT pg_cancel_backend(4242);"
    assert terminate_backend(7).sql == "SELECT pg_terminate_backend(7)"


# -- configuration ------------------------------------------------------------------------------------


def test_the_action_dsn_from_the_environment_is_masked_everywhere(tmp_path: Path) -> None:
    dsn = "postgresql://warroom_actor:Act10n-S3cret-Pw@db.internal:5432/app"
    settings = load_settings(env={"WARROOM_ACTION_DSN": dsn}, state_dir=tmp_path, config=None, user="alice")
    assert settings.database.action_dsn == dsn
    shown_lines = "\n".join(settings.describe())
    assert "action_dsn          = postgresql://warroom_actor:***@db.internal:5432/app" in shown_lines
    assert "Act10n-S3cret-Pw" not in shown_lines
    assert clean("connection failed for Act10n-S3cret-Pw") == "connection failed for ***"


def test_a_pause_statement_without_its_parameter_is_refused_in_one_line(tmp_path: Path) -> None:
    toml = tmp_path / "warroom.toml"
    toml.write_text("[database]\npause_campaign_sql = \"UPDATE campaigns SET status = 'paused'\"\n")
    with pytest.raises(ConfigError) as err:
        load_settings(env={}, state_dir=tmp_path, config=toml, user="alice")
    message = str(err.value)
    assert "pause_campaign_sql" in message and "$1" in message and "\n" not in message


def test_pause_without_a_statement_says_how_to_configure_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert "pause_campaign_sql  = (not configured: e.g." in "\n".join(settings.describe())


async def test_pause_key_without_a_statement_says_which_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = action_app(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.action_pause_campaign()  # the palette's "Pause a campaign" (no Database pane without a dsn)
        await pilot.pause()
        assert not isinstance(app.screen, CampaignModal)
        notices = " ".join(str(n.message) for n in app._notifications)
        assert "[database] pause_campaign_sql" in notices
        app.action_cancel_backend()
        await pilot.pause()
        assert not isinstance(app.screen, BackendPickModal)  # nothing listed: said so
        assert "No backend to pick" in " ".join(str(n.message) for n in app._notifications)
        assert screen_text(app)


# -- the journal, the timeline and the report -----------------------------------------------------------


def test_a_database_action_is_journaled_and_in_the_report(tmp_path: Path) -> None:
    from conftest import ManualClock
    from warroom.comms.report import build_report
    from warroom.incident.journal import Journal
    from warroom.incident.state import fold

    clock = ManualClock()
    settings = make_settings(tmp_path)
    journal = Journal(settings.journal_path, actor="alice", clock=clock)
    inc_id = journal.declare("P0", "Campaign sends stuck behind a lock").incident_id
    clock.advance(minutes=3)
    journal.append(
        inc_id,
        ev.DatabaseActed(
            "terminate",
            "pid 5188",
            "SELECT pg_terminate_backend(5188)",
            "done",
            "pg_terminate_backend returned true",
            "warroom_actor",
        ),
    )
    journal.append(
        inc_id, ev.DatabaseActed("cancel", "pid 5201", "SELECT pg_cancel_backend(5201);", "copied")
    )
    events = journal.events(inc_id)  # read back from the file: the kind round-trips
    bodies = [e.body for e in events if isinstance(e.body, ev.DatabaseActed)]
    assert [b.outcome for b in bodies] == ["done", "copied"]
    assert events[1].actor == "alice"
    report = build_report(fold(events), settings, now=clock(), commits=[], facts=None)
    assert "Database terminate pid 5188 as warroom_actor: done: pg_terminate_backend returned true" in report
    assert "Database cancel pid 5201: SQL copied, not run (no action_dsn)" in report


async def test_help_lists_the_database_pane_keys(tmp_path: Path) -> None:
    from warroom.ui.screens.help import HelpScreen

    app = action_app(make_settings(tmp_path))
    async with app.run_test(size=(120, 90)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = await shown(pilot, app)
        for key, words in [
            ("c", "Cancel a backend's query"),
            ("K", "Terminate a backend"),
            ("m", "Pause a campaign"),
        ]:
            assert any(line.strip(" █▀▄│").startswith(key) and words in line for line in text.splitlines()), (
                key
            )


def test_an_action_dsn_with_an_unencoded_password_is_refused_masked(tmp_path: Path) -> None:
    bad = "postgresql://actor:pa/ss@db.internal:5432/app"
    toml = tmp_path / "warroom.toml"
    toml.write_text(f'[database]\naction_dsn = "{bad}"\n')
    for env, config in (({}, toml), ({"WARROOM_ACTION_DSN": bad}, None)):
        with pytest.raises(ConfigError) as err:
            load_settings(env=env, state_dir=tmp_path, config=config, user="alice")
        message = str(err.value)
        assert "percent-encode" in message and "pa/ss" not in message and "\n" not in message
