"""The timeline when another console's events belong before ours (a shared war room: the
incident is folded again in the team's order): the rows follow that order, nothing is shown
twice, and the timeline keeps growing (it used to stop at the first such event: a duplicate
option id)."""

from __future__ import annotations

from pathlib import Path

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.ui.panes.timeline import TimelineList


def rows(app) -> list[str]:  # type: ignore[no-untyped-def]
    ol = app.screen.query_one(TimelineList)
    return [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]


async def test_an_earlier_event_from_another_console_is_laid_in_its_place(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(tmp_path / "a")
    journal = make_journal(settings, clock)
    bob = Journal(tmp_path / "bob.sqlite3", actor="bob", clock=ManualClock(clock.now))
    d = journal.declare("P1", "SMS down", lead="alice")
    bob.merge([d])
    bob.clock.advance(seconds=5)  # type: ignore[attr-defined]
    theirs = bob.append(d.incident_id, ev.NoteAdded("bob: the pool is full"))
    app = make_app(settings, journal, clock)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            clock.advance(seconds=10)
            app.record(ev.NoteAdded("alice: checking the logs"))
            await pilot.pause()
            journal.merge([theirs])  # arrives late; it happened before ours
            app.sync_journal()
            await pilot.pause()
            clock.advance(seconds=10)
            app.record(ev.NoteAdded("alice: restarted the pooler"))
            await pilot.pause()
            shown = rows(app)
            notes = [r.split("Note: ", 1)[1] for r in shown if "Note: " in r]
            assert notes == [
                "bob: the pool is full",
                "alice: checking the logs",
                "alice: restarted the pooler",
            ]
            assert len(shown) == 4  # the declaration and the three notes, each once
            ol = app.screen.query_one(TimelineList)
            assert ol.highlighted == ol.option_count - 1  # still following the newest
    finally:
        journal.close()
        bob.close()
