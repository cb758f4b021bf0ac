"""Pilot tests of the capture keys: ``A`` adds an action item (owner required, due optional) and
``O`` a lesson (what went well / what could be improved) from any pane; both are journaled, listed
in help and in the report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.comms.report import build_report
from warroom.incident import events as ev
from warroom.ui.screens.capture import ActionItemModal, LessonModal
from warroom.ui.screens.console import ConsoleScreen
from warroom.ui.screens.help import HelpScreen

SIZE = (160, 48)


@pytest.fixture
def world(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    incident_id = journal.declare(
        "P0", "SMS sending failing", impact="All customers", lead="alice"
    ).incident_id
    yield settings, journal, clock, incident_id
    journal.close()


def notices(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app._notifications]


def captured(journal, incident_id):  # type: ignore[no-untyped-def]
    return [e.body for e in journal.events(incident_id) if e.kind in ("action_item_added", "lesson_added")]


async def test_shift_a_adds_an_action_item_with_its_owner_from_any_pane(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("tab", "tab")  # away from the checklists
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, ActionItemModal)
        await pilot.press(*"Alert on Twilio 429s")
        await pilot.press("enter")  # no owner: refused, the owner field gets the focus
        await pilot.pause()
        assert "Name an owner" in (await shown(pilot, app))
        assert isinstance(app.screen, ActionItemModal)
        await pilot.press(*"maya", "tab", *"2026-12-04", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        assert "Action item added for the report (owner maya, due 2026-12-04)." in notices(app)
        assert app.incident is not None
        assert [(a.text, a.owner, a.due) for a in app.incident.action_items] == [
            ("Alert on Twilio 429s", "maya", "2026-12-04")
        ]
        # The due date is optional; escape cancels and journals nothing.
        await pilot.press("A", *"Load-test batching", "tab", *"bob", "enter")
        await pilot.pause()
        await pilot.press("A", *"never mind", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
    assert captured(journal, incident_id) == [
        ev.ActionItemAdded("Alert on Twilio 429s", "maya", "2026-12-04"),
        ev.ActionItemAdded("Load-test batching", "bob", ""),
    ]
    report = build_report(journal.load(incident_id), settings, now=clock() + timedelta(minutes=1), commits=[])
    assert (
        "## Action Items\n"
        "- [ ] Alert on Twilio 429s - Owner: maya - Due: 2026-12-04\n"
        "- [ ] Load-test batching - Owner: bob - Due: [DATE]\n"
    ) in report


async def test_shift_o_adds_a_lesson_that_went_well_or_to_improve(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("O")
        await pilot.pause()
        assert isinstance(app.screen, LessonModal)
        await pilot.press("enter", *"the suspect deploy was found fast", "enter")  # went well (first)
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        assert "Lesson added for the report (What went well)." in notices(app)
        await pilot.press("O", "down", "enter")  # what could be improved
        await pilot.press("enter")  # empty: refused
        await pilot.pause()
        assert "The lesson is empty." in (await shown(pilot, app))
        await pilot.press(*"nobody owned the Twilio quota", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
    assert captured(journal, incident_id) == [
        ev.LessonAdded("yes", "the suspect deploy was found fast"),
        ev.LessonAdded("no", "nobody owned the Twilio quota"),
    ]
    report = build_report(journal.load(incident_id), settings, now=clock() + timedelta(minutes=1), commits=[])
    assert (
        "**What Went Well**:\n- the suspect deploy was found fast\n\n"
        "**What Could Be Improved**:\n- nobody owned the Twilio quota\n"
    ) in report


async def test_help_and_the_palette_list_the_capture_keys(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, _ = world
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Add an action item for the report (owner, optional due date)" in titles
        assert "Add a lesson for the report (went well / could be improved)" in titles
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        lines = (await shown(pilot, app)).splitlines()
        for key, words in [("A", "Add an action item"), ("O", "Add a lesson")]:
            assert any(line.strip(" █▀▄").startswith(key + " ") and words in line for line in lines), key
