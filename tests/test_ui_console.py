"""Pilot tests for the console: every key, declare and pick flows, resume, timers and the bell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.incident import events as ev
from warroom.ui.panes.checklist import ChecklistList, ChecklistPane
from warroom.ui.panes.timer import TimerPane
from warroom.ui.screens.console import ConsoleScreen
from warroom.ui.screens.declare import DeclareScreen
from warroom.ui.screens.help import HelpScreen
from warroom.ui.screens.modals import ChoiceModal
from warroom.ui.screens.pick import PickIncidentScreen

SIZE = (160, 48)


@pytest.fixture
def world(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    yield settings, journal, clock
    journal.close()


def declare_p0(journal, clock):  # type: ignore[no-untyped-def]
    event = journal.declare("P0", "SMS sending failing", impact="All customers", lead="alice")
    return event.incident_id


async def test_no_open_incident_shows_declare_form_and_declares(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DeclareScreen)
        text = await shown(pilot, app)
        assert "Declare an incident" in text
        assert "P0 - Critical" in text and "Response: Immediate" in text  # the playbook's table beside it
        await pilot.press("down")  # P1
        await pilot.press("enter")  # to the title
        await pilot.press(*"Campaign creation broken")
        await pilot.press("tab")
        await pilot.press(*"all customers")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        assert app.incident is not None
        assert app.incident.severity == "P1"
        assert app.incident.title == "Campaign creation broken"
        assert app.incident.impact == "all customers"
        assert "Campaign creation broken" in (await shown(pilot, app))
    # it is in the journal, not only on screen
    assert [i.title for i in journal.incidents()] == ["Campaign creation broken"]


async def test_declare_form_refuses_an_empty_title(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DeclareScreen)
        assert "A title is needed" in (await shown(pilot, app))
    assert journal.incident_ids() == []


async def test_several_open_incidents_ask_which_one(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    first = declare_p0(journal, clock)
    clock.advance(minutes=1)
    second = journal.declare("P2", "Slow campaign list").incident_id
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickIncidentScreen)
        text = await shown(pilot, app)
        assert first in text and second in text
        await pilot.press("enter")  # newest first
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        assert app.incident is not None and app.incident.id == second


async def test_incident_option_opens_one_directly(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    first = declare_p0(journal, clock)
    journal.declare("P2", "Slow campaign list")
    app = make_app(settings, journal, clock, incident_id=first)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        assert app.incident is not None and app.incident.id == first


async def test_header_shows_incident_facts_and_freeze(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    clock.advance(minutes=12, seconds=5)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = (await shown(pilot, app)).splitlines()[0]
        for part in (
            "INC-2026-11-26-001",
            "P0 CRITICAL",
            "SMS sending failing",
            "Investigating",
            "T+12m 05s",
            "DEPLOY FREEZE",
            "L3 CTO / VP Engineering",
            "lead alice",
            "#incident-2026-11-26-14-00",
        ):
            assert part in header, part


async def test_space_and_x_tick_and_untick(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, ChecklistList)
        clock.advance(minutes=2)
        await pilot.press("space")  # first item: "Page on-call engineer immediately"
        inc = app.incident
        assert inc is not None
        assert inc.tick("actions-P0", "page-on-call-engineer-immediately") is not None
        assert re.search(r"☑ Page on-call engineer immediately +14:02", await shown(pilot, app))
        await pilot.press("k", "x")  # the tick moved the cursor on: back up to untick
        assert inc.tick("actions-P0", "page-on-call-engineer-immediately") is None
        await pilot.press("j", "x")  # next item
        assert inc.tick("actions-P0", "create-incident-channel") is not None
        await pilot.press("k", "k")
    kinds = [e.kind for e in journal.events(incident_id)]
    assert kinds == ["declared", "item_ticked", "item_unticked", "item_ticked"]


async def test_n_adds_a_note(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.press(*"twilio 30003 spike")
        await pilot.press("enter")
        await pilot.pause()
        assert "Note: twilio 30003 spike" in (await shown(pilot, app))
    notes = [e.body for e in journal.events(incident_id) if e.kind == "note_added"]
    assert notes == [ev.NoteAdded("twilio 30003 spike")]


async def test_n_escape_cancels(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n", "a", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
    assert [e.kind for e in journal.events(incident_id)] == ["declared"]


async def test_s_changes_severity_with_a_reason(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = journal.declare("P1", "SMS failing").incident_id
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s", "up", "enter")  # P0, then to the reason
        await pilot.press("enter")  # no reason: refused
        await pilot.pause()
        assert "Say why the severity changes" in (await shown(pilot, app))
        await pilot.press(*"all carriers down")
        await pilot.press("enter")
        await pilot.pause()
        assert app.incident is not None and app.incident.severity == "P0"
        assert "DEPLOY FREEZE" in (await shown(pilot, app)).splitlines()[0]
    changes = [e.body for e in journal.events(incident_id) if e.kind == "severity_changed"]
    assert changes == [ev.SeverityChanged("P0", "P1", "all carriers down")]


async def test_p_and_shift_p_move_phases(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("p", "p")
        assert app.incident is not None and app.incident.phase == "mitigation"
        assert app.incident.status_text == "Mitigating"
        await pilot.press("P")
        assert app.incident.phase == "investigation"
        await pilot.press("P", "P")  # the second one: already first
        await pilot.pause()
        assert app.incident.phase == "triage"
    phases = [e.body.phase for e in journal.events(incident_id) if isinstance(e.body, ev.PhaseChanged)]
    assert phases == ["investigation", "mitigation", "investigation", "triage"]


async def test_e_edits_only_changed_fields(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        for _ in range(4):  # title -> summary -> impact -> lead -> theory
            await pilot.press("tab")
        await pilot.press(*"bad deploy of sms-sender")
        await pilot.press("tab")
        await pilot.press(*"30 min")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.incident is not None
        assert app.incident.fields["theory"] == "bad deploy of sms-sender"
        assert app.incident.fields["eta"] == "30 min"
    edits = [e.body for e in journal.events(incident_id) if e.kind == "field_edited"]
    assert edits == [ev.FieldEdited("theory", "bad deploy of sms-sender"), ev.FieldEdited("eta", "30 min")]


async def test_u_and_shift_u_mark_updates_sent_and_restart_countdowns(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(minutes=10)
        await pilot.press("u")
        inc = app.incident
        assert inc is not None
        assert inc.next_update_due("internal") == clock.now.replace(minute=25)
        clock.advance(minutes=5)
        await pilot.press("U")
        assert inc.next_update_due("customer") == clock.now.replace(minute=45)
    sent = [
        (e.body.audience, e.at.minute)
        for e in journal.events(incident_id)
        if isinstance(e.body, ev.UpdateSent)
    ]
    assert sent == [("internal", 10), ("customer", 15)]


async def test_r_resolves_after_showing_the_criteria(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)
    journal.append(
        incident_id, ev.ItemTicked("resolution", "no-new-related-incidents", "No new related incidents")
    )
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(minutes=40)
        await pilot.press("r")
        await pilot.pause()
        text = await shown(pilot, app)
        assert "Resolve the incident?" in text
        assert "☑ No new related incidents" in text
        assert "☐ Error rate < 1% for 30 minutes" in text
        assert "3 criteria not confirmed" in text
        await pilot.press(*"rolled back a1b2c3d")
        await pilot.press("enter")
        await pilot.pause()
        inc = app.incident
        assert inc is not None and inc.status == "resolved"
        assert inc.phase == "review"
        assert inc.fields["resolution"] == "rolled back a1b2c3d"
        assert "DEPLOY FREEZE" not in (await shown(pilot, app)).splitlines()[0]
        await pilot.press("r")  # already resolved
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
    kinds = [e.kind for e in journal.events(incident_id)]
    assert kinds[-3:] == ["field_edited", "resolved", "phase_changed"]


async def test_r_escape_does_not_resolve(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r", "escape")
        await pilot.pause()
        assert app.incident is not None and app.incident.is_open


async def test_a_dialog_is_not_covered_by_an_earlier_notice(world) -> None:  # type: ignore[no-untyped-def]
    """At 80x24 the notice of a confirmed update covered the resolve dialog's "enter resolves"."""
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("u")  # "Internal update marked sent; ...; ctrl+z takes it back."
        await pilot.pause()
        assert app._notifications
        await pilot.press("r")
        await pilot.pause()
        assert not app._notifications
        assert "enter resolves · esc cancels" in await shown(pilot, app)


async def test_a_resolved_incident_says_how_long_once_at_80x24(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    iid = declare_p0(journal, clock)
    clock.advance(minutes=5, seconds=14)
    journal.append(iid, ev.Resolved("reverted"))
    app = make_app(settings, journal, clock, incident_id=iid)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = await shown(pilot, app)
        assert "RESOLVED after" in text
        assert text.count("5m 14s") == 2, text  # T+ in the header, the timer's digits


async def test_y_copies_the_focused_item(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("j", "y")
        await pilot.pause()
        assert app.clipboard == "Create incident channel"


async def test_digit_keys_are_answered(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key in "123456":
            await pilot.press(key)
            await pilot.pause()
            if key in "35":  # a resolution while the incident is open asks first
                assert isinstance(app.screen, ChoiceModal)
                await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        assert app.incident is not None and app.incident.is_open


async def test_question_mark_lists_every_key(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(120, 90)) as pilot:  # every line of help in view, no scrolling
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = await shown(pilot, app)
        for key, words in [
            ("n", "Add a note"),
            ("s", "Change severity"),
            ("p", "Next phase"),
            ("P", "Previous phase"),
            ("e", "Edit incident fields"),
            ("u", "internal update sent"),
            ("U", "customer update sent"),
            ("r", "Resolve"),
            ("y", "Copy the focused item"),
            ("1", "internal P0 declaration"),
            ("5", "customer resolution"),
            ("6", "customer status update"),
            ("q", "Quit"),
            ("space / x", "Tick"),
            ("o", "Assign an owner"),
            ("I", "owner to an action item"),
            ("H", "hand over a role"),
            ("tab / shift+tab", "Move between panes"),
            ("ctrl+p", "Command palette"),
        ]:
            assert any(line.strip(" █▀▄").startswith(key) and words in line for line in text.splitlines()), (
                key
            )
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)


async def test_q_quits_at_once(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_tab_moves_between_panes_and_jk_inside(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.focused
        assert isinstance(first, ChecklistList)
        before = first.highlighted
        await pilot.press("j")
        assert first.highlighted == (before or 0) + 1
        await pilot.press("k")
        assert first.highlighted == before
        await pilot.press("tab")
        assert app.focused is not first
        pane = app.focused_pane()
        assert pane is not None and not isinstance(pane, ChecklistPane)
        await pilot.press("shift+tab")
        assert app.focused is first


async def test_every_action_is_in_the_command_palette(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in (
            "Add a note",
            "Change severity",
            "Next phase",
            "Previous phase",
            "Edit incident fields",
            "Mark the internal update sent",
            "Mark the customer update sent",
            "Resolve",
            "Copy the focused item",
            "Copy the internal status update",
            "Record an escalation",
            "Show keys",
            "Declare a new incident",
            "Switch incident",
            "Theme",
            "Quit",
        ):
            assert any(t.startswith(wanted) for t in titles), wanted
        # running one from the palette does the same as its key
        await pilot.press("ctrl+p")
        await pilot.press(*"Next phase")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.incident is not None and app.incident.phase == "investigation"


async def test_escalation_is_recorded(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = journal.declare("P1", "Auth broken").incident_id
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("L", "down", "down", "enter")  # L1 (the current level) first; down -> L3
        await pilot.press(*"customer data may be exposed")
        await pilot.press("enter")
        await pilot.pause()
        inc = app.incident
        assert inc is not None and inc.escalation_level(clock.now).level == 3
    assert [e.body for e in journal.events(incident_id) if e.kind == "escalated"] == [
        ev.Escalated(3, "customer data may be exposed")
    ]


async def test_resume_shows_the_same_state(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(minutes=3)
        await pilot.press("space", "j", "x", "p")  # a tick moves on to the next item
        await pilot.press("n", *"first note", "enter")
        await pilot.press("u")
        await pilot.pause()
        first_text = await shown(pilot, app)
        first_state = app.incident
    again = make_app(settings, journal, clock)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.incident is not None and first_state is not None
        assert again.incident.ticks == first_state.ticks
        assert again.incident.phase == first_state.phase
        assert again.incident.next_update_due("internal") == first_state.next_update_due("internal")
        second_text = await shown(pilot, again)
    # Same header, timer, phases, checklists and timeline (the cursor may sit elsewhere).
    strip = lambda t: [line for line in t.splitlines()[:-1]]  # noqa: E731 - the footer differs by focus
    assert strip(first_text)[0] == strip(second_text)[0]
    for needle in (
        "☑ Page on-call engineer immediately",
        "☑ Declare P0 incident in channel",
        "Note: first note",
        "Internal update sent",
        "▶ 2 Investigation",
    ):
        assert needle in first_text and needle in second_text, needle


async def test_events_from_another_process_appear(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        other = make_journal(settings, clock, actor="bob")
        other.append(incident_id, ev.NoteAdded("bob is here"))
        other.close()
        app.sync_journal()
        await pilot.pause()
        assert "bob Note: bob is here" in (await shown(pilot, app))


# -- the timer, with an injected clock ------------------------------------------------------------


def timer_state(app) -> str:  # type: ignore[no-untyped-def]
    pane = app.screen.query_one(TimerPane)
    return next(c for c in ("-ok", "-soon", "-overdue", "-none") if pane.has_class(c))


async def test_timer_due_soon_overdue_and_the_bell(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)  # 14:00, internal every 15 min -> due 14:15
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.tick()
        assert timer_state(app) == "-ok"
        assert "NEXT INTERNAL UPDATE" in (await shown(pilot, app))
        clock.advance(minutes=12, seconds=59)  # T-2:01
        app.tick()
        await pilot.pause()
        assert timer_state(app) == "-ok"
        clock.advance(seconds=1)  # T-2:00
        app.tick()
        await pilot.pause()
        assert timer_state(app) == "-soon"
        assert "INTERNAL UPDATE DUE SOON" in (await shown(pilot, app))
        assert app.bells == []
        clock.advance(minutes=2)  # T
        app.tick()
        await pilot.pause()
        assert timer_state(app) == "-overdue"
        assert "INTERNAL UPDATE OVERDUE" in (await shown(pilot, app))
        assert [r for _, r in app.bells] == ["internal update overdue"]
        clock.advance(minutes=4, seconds=59)
        app.tick()
        assert len(app.bells) == 1  # not again before 5 minutes
        clock.advance(seconds=1)
        app.tick()
        assert [r for _, r in app.bells] == ["internal update overdue", "internal update still overdue"]
        # counting up
        assert app.incident.countdown("internal", clock.now).overdue_by.total_seconds() == 300
        # sending the update stops the bell and restarts the countdown
        await pilot.press("u")
        app.tick()
        await pilot.pause()
        assert timer_state(app) in ("-ok", "-soon")
        clock.advance(minutes=10)
        app.tick()
        assert [r for _, r in app.bells if r.startswith("internal")] == [
            "internal update overdue",
            "internal update still overdue",
        ]


async def test_a_restart_while_overdue_rings_once_and_shows_the_right_time(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    clock.advance(minutes=47)  # a laptop asleep for 47 minutes
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.tick()
        await pilot.pause()
        assert timer_state(app) == "-overdue"
        cd = app.incident.countdown("internal", clock.now)
        assert cd.overdue_by.total_seconds() == 32 * 60
        assert len([r for _, r in app.bells if r.startswith("internal")]) == 1


async def test_cadence_follows_a_severity_change(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = journal.declare("P1", "SMS delayed").incident_id  # P1: internal every 30 min
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(minutes=5)
        await pilot.press("u")  # update at 14:05 -> next due 14:35 under P1
        assert app.incident.next_update_due("internal").minute == 35
        clock.advance(minutes=5)
        await pilot.press("s", "up", "enter", *"spreading", "enter")  # P0 at 14:10
        await pilot.pause()
        # P0 cadence is 15 min counted from the last update sent: due 14:20
        assert app.incident.next_update_due("internal").minute == 20
        clock.advance(minutes=8)  # 14:18, T-2
        app.tick()
        await pilot.pause()
        assert timer_state(app) == "-soon"
        # P0 also owes customers an update every 30 min; none was sent since 14:10 when P0 began
        assert app.incident.next_update_due("customer").minute == 40
    assert journal.events(incident_id)[-1].kind == "severity_changed"


async def test_p2_has_no_cadence_and_says_so(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    journal.declare("P2", "Slow queries")
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.tick()
        await pilot.pause()
        assert timer_state(app) == "-none"
        assert "No update cadence for P2" in (await shown(pilot, app))


@pytest.mark.parametrize("size", [(80, 24), (120, 30), (200, 60)])
async def test_every_layout_shows_the_essentials(world, size) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    clock.advance(minutes=16)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.tick()
        await pilot.pause()
        text = await shown(pilot, app)
        assert "INC-2026-11-26-001" in text
        assert "OVERDUE" in text
        assert "DEPLOY FREEZE" in text
        # keys work in every layout
        await pilot.press("n", *"ok", "enter")
        await pilot.pause()
        assert app.incident is not None and app.incident.notes[-1][2] == "ok"


async def test_resizing_across_the_breakpoint_keeps_state(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        assert app.screen.layout_mode == "compact"
        assert "☑ Page on-call engineer immediately" in (await shown(pilot, app))
        await pilot.resize_terminal(*SIZE)
        await pilot.pause(0.2)
        assert app.screen.layout_mode == "wide"
        assert "☑ Page on-call engineer immediately" in (await shown(pilot, app))


# -- checklists, escalation: the cursor ---------------------------------------------------------------


async def test_a_tick_moves_the_cursor_to_the_next_unticked_item(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)
    journal.append(
        incident_id, ev.ItemTicked("actions-P0", "create-incident-channel", "Create incident channel")
    )
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = app.screen.query_one(ChecklistPane)
        assert pane.focused_item() == ("actions-P0", "page-on-call-engineer-immediately")
        await pilot.press("space")  # ticked; "Create incident channel" is ticked already: skipped
        assert pane.focused_item() == ("actions-P0", "declare-p0-incident-in-channel")
        await pilot.press("x")
        assert pane.focused_item() == ("actions-P0", "check-supabase-status-page")
        await pilot.press("k", "x")  # an untick stays where it is
        assert pane.focused_item() == ("actions-P0", "declare-p0-incident-in-channel")
        assert app.incident is not None
        assert app.incident.tick("actions-P0", "declare-p0-incident-in-channel") is None


async def test_lists_stop_at_their_ends(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    declare_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = app.screen.query_one(ChecklistPane)
        first = pane.focused_item()
        await pilot.press("up")  # no jump to the last item, off screen
        assert pane.focused_item() == first
        ol = app.screen.query_one(ChecklistList)
        ol.highlighted = ol.option_count - 1
        last = pane.focused_item()
        await pilot.press("down", "j")
        assert pane.focused_item() == last


async def test_escalation_opens_on_the_current_level_and_refuses_it(world) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import OptionList, Static

    settings, journal, clock = world
    incident_id = declare_p0(journal, clock)  # a P0 is at L3 from the start
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("L")
        await pilot.pause()
        ol = app.screen.query_one("#level", OptionList)
        assert ol.highlighted_option is not None and ol.highlighted_option.id == "3"
        await pilot.press("tab", *"again", "enter")
        await pilot.pause()
        error = str(app.screen.query_one("#error", Static).content)
        assert error == "Already at L3; choose another level (↑↓)." and "\n" not in error
        ol.focus()
        await pilot.press("down", "down", "down")  # L4 is the last: no wrap to L1
        assert ol.highlighted_option is not None and ol.highlighted_option.id == "4"
        await pilot.press("enter", *"data breach", "enter")
        await pilot.pause()
    assert [e.body for e in journal.events(incident_id) if e.kind == "escalated"] == [
        ev.Escalated(4, "data breach")
    ]


def ticked_p0(journal, clock) -> str:  # type: ignore[no-untyped-def]
    """A P0 with two ticks, 14:02 and 14:07; the second item is too long for the pane's width."""
    incident_id = declare_p0(journal, clock)
    clock.advance(minutes=2)
    journal.append(
        incident_id, ev.ItemTicked("actions-P0", "create-incident-channel", "Create incident channel")
    )
    clock.advance(minutes=5)
    journal.append(
        incident_id,
        ev.ItemTicked(
            "investigation",
            "check-external-service-status-twilio-etc",
            "Check external service status (Twilio, etc.)",
        ),
    )
    return incident_id  # type: ignore[no-any-return]


async def test_checklist_items_hang_indent_and_tick_times_align(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock = world
    ticked_p0(journal, clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = (await shown(pilot, app)).splitlines()
    first = next(i for i, line in enumerate(lines) if "☑ Check external service status" in line)
    assert lines[first + 1].index("(Twilio, etc.)") == lines[first].index("Check external")  # under the text
    channel = next(line for line in lines if "☑ Create incident channel" in line)
    assert channel.index("14:02") == lines[first].index("14:07")  # one column for the tick times
    assert re.search(r"Create incident channel {4,}14:02", channel)
