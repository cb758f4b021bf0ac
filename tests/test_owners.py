"""Owners of checklist items and action items: the event, its fold (last writer wins), the keys
and dialogs that journal it, the checklist row and the report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.comms.report import build_report
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.incident.state import fold, in_order
from warroom.ui.panes.checklist import ChecklistList
from warroom.ui.screens.console import ConsoleScreen
from warroom.ui.screens.modals import ChoiceModal
from warroom.ui.screens.people import OwnerModal

DEPLOYS = ("investigation", "check-recent-code-deployments")
PAGE = ("actions-P0", "page-on-call-engineer-immediately")


@pytest.fixture
def world(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    yield settings, journal, clock
    journal.close()


def test_owner_round_trip_through_the_journal(tmp_path: Path, clock: ManualClock) -> None:
    j = Journal(tmp_path / "j.sqlite3", actor="alice", clock=clock)
    d = j.declare("P0", "SMS down")
    j.append(d.incident_id, ev.OwnerAssigned(*DEPLOYS, "bob", "Check recent code deployments"))
    item = j.append(d.incident_id, ev.ActionItemAdded("Alert on Twilio 429s", "carol", "Friday"))
    clock.advance(seconds=5)
    j.append(d.incident_id, ev.OwnerAssigned(ev.ACTION_ITEM, item.event_id, "dave", "Alert on Twilio 429s"))
    # An action list item is the same action on P0's and P1's lists: its owner follows its words.
    j.append(d.incident_id, ev.OwnerAssigned("actions-P0", "create-incident-channel", "erin"))
    j.append(d.incident_id, ev.SeverityChanged("P1", "P0", "narrower"))
    j.close()
    again = Journal(tmp_path / "j.sqlite3", actor="alice", clock=clock)
    inc = again.load(d.incident_id)
    assert inc.owner(*DEPLOYS) == "bob"
    assert inc.owner("actions-P1", "create-incident-channel") == "erin"
    assert [(a.text, a.owner, a.due) for a in inc.action_items] == [
        ("Alert on Twilio 429s", "dave", "Friday")
    ]
    assert "Owner of Check recent code deployments: bob" in [e.describe() for e in inc.events]
    # Cleared: nobody owns it now.
    again.append(d.incident_id, ev.OwnerAssigned(*DEPLOYS, ""))
    assert again.load(d.incident_id).owner(*DEPLOYS) == ""
    again.close()


def test_owner_edited_on_two_consoles_last_writer_wins(tmp_path: Path, clock: ManualClock) -> None:
    a = Journal(tmp_path / "a.sqlite3", actor="ana", clock=clock)
    b = Journal(tmp_path / "b.sqlite3", actor="bob", clock=ManualClock(clock.now))
    d = a.declare("P1", "SMS down")
    b.merge([d])
    b.clock.advance(seconds=5)  # type: ignore[attr-defined]
    later = b.append(d.incident_id, ev.OwnerAssigned(*DEPLOYS, "bob"))
    clock.advance(seconds=2)
    earlier = a.append(d.incident_id, ev.OwnerAssigned(*DEPLOYS, "ana"))
    a.merge([later])
    b.merge([earlier])
    for j in (a, b):
        inc = fold(in_order(j.events(d.incident_id)))
        assert inc.owner(*DEPLOYS) == "bob"  # the later edit, whichever console got what first
    a.close()
    b.close()


def test_report_lists_owners_of_checklist_and_action_items(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path)
    j = make_journal(settings, clock)
    d = j.declare("P0", "SMS down", lead="alice")
    j.append(d.incident_id, ev.OwnerAssigned(*DEPLOYS, "bob"))
    item = j.append(d.incident_id, ev.ActionItemAdded("Alert on Twilio 429s", "carol", "Friday"))
    j.append(d.incident_id, ev.OwnerAssigned(ev.ACTION_ITEM, item.event_id, "dave"))
    text = build_report(j.load(d.incident_id), settings, now=clock.now + timedelta(hours=1), commits=[])
    j.close()
    assert "- [ ] Check recent code deployments - Owner: bob\n" in text
    assert "- [ ] Alert on Twilio 429s - Owner: dave - Due: Friday\n" in text
    assert "- [ ] Check recent database migrations\n" in text  # no owner: nothing added


async def test_o_names_the_owner_of_the_highlighted_item_at_80x24(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    inc_id = journal.declare("P0", "SMS sending failing", lead="alice").incident_id
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        ol = app.screen.query_one(ChecklistList)
        ol.focus()
        ol.highlighted = [o.id for o in ol._options].index("\x1f".join(PAGE))
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OwnerModal)
        assert "Owner of: Page on-call engineer immediately" in await shown(pilot, app)
        await pilot.press("enter")  # the default: the responder at this console
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        assert journal.load(inc_id).owner(*PAGE) == "alice"
        row = next(line for line in (await shown(pilot, app)).splitlines() if "Page on-call" in line)
        assert "@alice" in row  # on the item's own row at 80 columns
        # Another name, typed over the default.
        await pilot.press("o")
        await pilot.pause()
        assert "(now alice)" in await shown(pilot, app)
        await pilot.press("ctrl+u", *"bob", "enter")
        await pilot.pause()
        assert journal.load(inc_id).owner(*PAGE) == "bob"
        assert "@bob" in await shown(pilot, app)
        # Escape writes nothing.
        before = len(journal.events(inc_id))
        await pilot.press("o", "escape")
        await pilot.pause()
        assert len(journal.events(inc_id)) == before
    owners = [e.body for e in journal.events(inc_id) if isinstance(e.body, ev.OwnerAssigned)]
    assert [(b.person, b.text) for b in owners] == [
        ("alice", "Page on-call engineer immediately"),
        ("bob", "Page on-call engineer immediately"),
    ]


async def test_capital_i_hands_an_action_item_to_another_owner(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    inc_id = journal.declare("P1", "SMS sending failing").incident_id
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("I")  # none yet: says so, opens nothing
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        journal.append(inc_id, ev.ActionItemAdded("Alert on Twilio 429s", "carol"))
        app.sync_journal()
        await pilot.press("I")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        assert "Alert on Twilio 429s · carol" in await shown(pilot, app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OwnerModal)
        await pilot.press("ctrl+u", *"dave", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
    assert [a.owner for a in journal.load(inc_id).action_items] == ["dave"]


@pytest.mark.pg
async def test_an_owner_and_a_role_cross_to_another_console(pg_dsn: str, tmp_path: Path) -> None:
    from test_shared_sync import CROSS, assert_crosses, consoles, same_everywhere, shared_db

    await shared_db(pg_dsn)
    ana, bob = cs = consoles(tmp_path, pg_dsn, "ana", "bob")
    try:
        incident_id = ana.ask("declared", op="declare", severity="P1", title="SMS delivery failing")[
            "declared"
        ]
        assert bob.ask("joined", op="join", id=incident_id)["added"] == 1
        for c in cs:
            c.wait_for(lambda c=c: bool(c.statuses) and c.statuses[-1]["online"], 10, "online")
        took = max(
            assert_crosses(ana, [bob], "owner", item=DEPLOYS[1], person="ana"),
            assert_crosses(bob, [ana], "owner", item=DEPLOYS[1], person="bob"),  # later: it wins
            assert_crosses(bob, [ana], "role", role="comms", person="bob"),
        )
        assert took < CROSS
        final = same_everywhere(cs)
        assert final["owners"] == {"/".join(DEPLOYS): "bob"}
        assert final["roles"] == {"comms": "bob"}
        assert "Owner of check-recent-code-deployments: ana" in final["timeline"]  # both edits kept
        assert "Owner of check-recent-code-deployments: bob" in final["timeline"]
    finally:
        for c in cs:
            c.close()
