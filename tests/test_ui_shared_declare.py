"""Declaring from the console with a shared database: the team's id is asked without blocking
the UI loop. A database that never answers (a port that accepts and says nothing) leaves the
console responsive; after the connect timeout the incident is declared on this journal alone,
said, and pushed when the room is back."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from test_shared_sync import shared_db
from uihelpers import make_app, make_settings, screen_text
from warroom.incident.journal import Journal, system_clock
from warroom.ui.screens.console import ConsoleScreen
from warroom.ui.screens.declare import DeclareScreen

WAIT = timedelta(seconds=3)  # the shared connect timeout: a blocking declaration froze this long


async def until(pilot, what, seconds: float, why: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"{why} not within {seconds} s")
        await pilot.pause(0.05)


def console(tmp_path: Path, dsn: str):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    settings = replace(settings, shared=replace(settings.shared, dsn=dsn, connect_timeout=WAIT))
    journal = Journal(settings.journal_path, actor="alice")
    return journal, make_app(settings, journal, system_clock)  # type: ignore[arg-type]


async def fill_and_declare(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.press("enter", *"SMS down")  # P0 highlighted: on to the title
    await pilot.press("ctrl+s")


async def test_a_silent_shared_database_does_not_freeze_the_declaration(tmp_path: Path) -> None:
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(8)  # the kernel completes the handshake; nobody ever answers
    port = hole.getsockname()[1]
    journal, app = console(tmp_path, f"postgresql://warroom:pw@127.0.0.1:{port}/warroom")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            assert isinstance(app.screen, DeclareScreen)
            began = time.monotonic()
            await fill_and_declare(pilot)
            await pilot.pause()
            assert "Asking the team for an incident id (at most 3 s)…" in screen_text(app)
            await pilot.press("ctrl+s")  # again while waiting: not a second incident
            await pilot.pause(0.1)
            answered = time.monotonic() - began
            assert answered < WAIT.total_seconds() / 2, f"the UI loop was held {answered:.1f} s"
            assert isinstance(app.screen, DeclareScreen) and journal.incident_ids() == []
            await until(pilot, lambda: isinstance(app.screen, ConsoleScreen), 20, "the console")
            assert time.monotonic() - began >= WAIT.total_seconds() * 0.9  # it did wait for the team
            assert len(journal.incident_ids()) == 1
            said = [n.message for n in app._notifications]
            assert any("declared on this machine only" in m for m in said), said
            assert app.incident is not None and app.incident.title == "SMS down"
    finally:
        journal.close()
        hole.close()


@pytest.mark.pg
async def test_declaring_with_the_shared_database_up_takes_the_teams_id(pg_dsn: str, tmp_path: Path) -> None:
    await shared_db(pg_dsn)
    journal, app = console(tmp_path, pg_dsn)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await fill_and_declare(pilot)
            await until(pilot, lambda: isinstance(app.screen, ConsoleScreen), 20, "the console")
            assert app.incident is not None and app.incident.title == "SMS down"
            said = [n.message for n in app._notifications]
            assert not any("this machine only" in m for m in said), said
        ours = journal.incident_ids()
    finally:
        journal.close()
    import asyncpg

    conn = await asyncpg.connect(pg_dsn)
    try:
        shared = await conn.fetch("SELECT incident_id FROM warroom_events WHERE kind = 'declared'")
    finally:
        await conn.close()
    assert [r["incident_id"] for r in shared] == ours
