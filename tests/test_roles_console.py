"""Roles from the console: H assigns or hands over one of the war room's roles (the event
`warroom role` writes), shown in the header beside the lead."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.incident import events as ev
from warroom.ui.screens.console import ConsoleScreen
from warroom.ui.screens.people import RoleModal


@pytest.fixture
def world(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    yield settings, journal, clock
    journal.close()


async def test_capital_h_assigns_and_hands_over_roles(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    inc_id = journal.declare("P1", "SMS sending failing", lead="alice").incident_id
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await pilot.pause()
        assert isinstance(app.screen, RoleModal)
        text = await shown(pilot, app)
        assert "Incident lead  alice" in text and "Comms          nobody" in text
        await pilot.press("down", "enter")  # Comms; on to the name (the responder's by default)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        assert "lead alice · comms alice" in (await shown(pilot, app)).splitlines()[0]
        # The lead handed over to bob, typed over the default.
        await pilot.press("H")
        await pilot.pause()
        await pilot.press("enter", "ctrl+u", *"bob", "enter")
        await pilot.pause()
        assert "lead bob · comms alice" in (await shown(pilot, app)).splitlines()[0]
        # The same person again: refused in the dialog, nothing written.
        await pilot.press("H")
        await pilot.pause()
        await pilot.press("enter", "ctrl+u", *"bob", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RoleModal)
        assert "Incident lead is already bob." in await shown(pilot, app)
        await pilot.press("escape")
    roles = [e.body for e in journal.events(inc_id) if isinstance(e.body, ev.RoleAssigned)]
    assert roles == [ev.RoleAssigned("comms", "alice", ""), ev.RoleAssigned("lead", "bob", "alice")]
    inc = journal.load(inc_id)
    assert inc.roles == {"lead": "bob", "comms": "alice"} and inc.lead == "bob"
