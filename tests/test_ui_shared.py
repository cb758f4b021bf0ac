"""The console in a shared war room (Pilot): another console's events reach the panes, ours
reach it, the header says who is here and, when the shared database is gone, that this console
is offline from the team since when and how much waits to be replayed."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from sharedhelpers import ConsoleProcess, Relay
from test_shared_sync import shared_db
from uihelpers import make_app, make_settings, screen_text
from warroom.incident import events as ev
from warroom.incident.journal import Journal, system_clock
from warroom.shared.room import join

pytestmark = [pytest.mark.pg, pytest.mark.slow]
SIZE = (160, 45)


async def until(pilot, what, seconds: float, why: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"{why} not within {seconds} s")
        await pilot.pause(0.05)


def header(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[0]


async def test_the_console_follows_the_team_and_says_when_it_is_offline(pg_dsn: str, tmp_path: Path) -> None:
    await shared_db(pg_dsn)
    relay = Relay(pg_dsn)
    bob = ConsoleProcess(tmp_path / "bob", pg_dsn, "bob")
    try:
        incident_id = bob.ask("declared", op="declare", severity="P1", title="SMS failing")["declared"]
        settings = make_settings(tmp_path / "alice")
        settings = replace(settings, shared=replace(settings.shared, dsn=relay.dsn))
        journal = Journal(settings.journal_path, actor="alice")
        await join(journal, relay.dsn, 5, incident_id)
        app = make_app(settings, journal, system_clock, incident_id=incident_id)  # type: ignore[arg-type]
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "team: alice, bob" in header(app), 15, "both in the header")
            bob.do("note", text="bob restarted the pooler")
            await until(
                pilot,
                lambda: any(n[2] == "bob restarted the pooler" for n in app.incident.notes),
                3,
                "bob's note",
            )
            assert "bob restarted the pooler" in screen_text(app)  # on the timeline
            ours = app.record(ev.NoteAdded(text="alice checks the logs"))
            assert ours is not None
            await until(pilot, lambda: ours.event_id in bob.arrivals, 3, "alice's note at bob's")

            relay.cut()
            await until(
                pilot, lambda: "OFFLINE from the team since" in header(app), 15, "offline in the header"
            )
            apart = app.record(ev.FieldEdited(field="theory", value="pool exhausted"))
            assert apart is not None and app.incident.fields["theory"] == "pool exhausted"  # keeps working
            await until(pilot, lambda: "1 event to replay" in header(app), 10, "the event to replay")
            bob.do("note", text="bob, while alice is away")
            relay.restore()
            await until(pilot, lambda: "team: alice, bob" in header(app), 15, "back with the team")
            await until(pilot, lambda: apart.event_id in bob.arrivals, 5, "the replayed edit at bob's")
            await until(
                pilot,
                lambda: any(n[2] == "bob, while alice is away" for n in app.incident.notes),
                5,
                "missed note",
            )
            ours_now = [e.event_id for e in app.incident.events]
            assert ours_now == [e[0] for e in bob.dump()["events"]]  # the same order on both
            assert [w.group for w in app.workers if w.name == "shared"] == ["shared"]
    finally:
        bob.close()
        relay.close()
