"""The console's comms: keys 1-5 copy filled templates, record updates sent, undo, show text, report."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, settle, shown
from warroom.incident import events as ev
from warroom.ui.panes.templates import TemplateList, TemplatesPane

SIZE = (160, 48)


class FakeSystemClipboard:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, text: str) -> str:
        self.texts.append(text)
        return "xclip"


@pytest.fixture
def world(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    incident_id = journal.declare(
        "P0", "SMS sending failing", impact="All customers", lead="alice"
    ).incident_id
    yield settings, journal, clock, incident_id
    journal.close()


async def test_key_2_copies_the_filled_status_update_and_records_it(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    system = FakeSystemClipboard()
    app = make_app(settings, journal, clock, system_copy=system)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(minutes=9)
        await pilot.press("2")
        await settle(pilot, app)
        text = app.clipboard
        assert text.startswith("📊 INCIDENT UPDATE")
        assert "Incident: SMS sending failing" in text
        assert "Time Elapsed: 9m 00s" in text
        assert "[ROOT_CAUSE_THEORY]" in text  # not filled yet: the playbook's placeholder
        assert system.texts == [text]
        inc = app.incident
        assert inc is not None
        last = inc.last_update("internal")
        assert last is not None and last.text == text and last.template == "internal_update"
        assert inc.next_update_due("internal") == clock.now.replace(minute=24)
        outbox = list((settings.outbox_dir / incident_id).glob("*.txt"))
        assert len(outbox) == 1 and outbox[0].read_text(encoding="utf-8") == text
        notes = [n.message for n in app._notifications]
        assert any("terminal clipboard (OSC 52)" in m and "saved to" in m and "ctrl+z" in m for m in notes)
    kinds = [e.kind for e in journal.events(incident_id)]
    assert kinds == ["declared", "update_sent"]


async def test_ctrl_z_takes_the_update_back(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    app = make_app(settings, journal, clock, system_copy=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(minutes=9)
        await pilot.press("2")
        await settle(pilot, app)
        assert app.incident.next_update_due("internal").minute == 24
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.incident.next_update_due("internal").minute == 15  # back to the declaration's cadence
        await pilot.press("ctrl+z")
        await pilot.pause()
    kinds = [e.kind for e in journal.events(incident_id)]
    assert kinds == ["declared", "update_sent", "update_undone"]


async def test_customer_notification_restarts_the_customer_countdown(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, _incident_id = world
    app = make_app(settings, journal, clock, system_copy=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(minutes=20)
        await pilot.press("4")
        await settle(pilot, app)
        assert app.clipboard.startswith("Subject: Service Disruption")
        assert app.incident.next_update_due("customer") == clock.now.replace(minute=50)


async def test_templates_pane_previews_highlights_and_fills(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    app = make_app(settings, journal, clock, system_copy=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one(TemplateList).focus()
        await pilot.press("down")  # 2 Internal - Status Update
        text = await shown(pilot, app)
        assert "📊 INCIDENT UPDATE" in text
        assert "unfilled:" in text and "[ROOT_CAUSE_THEORY]" in text
        await pilot.press("e")  # fills the fields this template misses: focus lands on the theory
        await pilot.pause()
        await pilot.press(*"bad deploy")
        await pilot.press("ctrl+s")
        await pilot.pause()
        pane = app.screen.query_one(TemplatesPane)
        assert pane._last is not None and "Current Theory: bad deploy" in (pane._last.text or "")
        assert "[ROOT_CAUSE_THEORY]" not in (await shown(pilot, app))
        await pilot.press("v")  # show the text to select by hand
        text = await shown(pilot, app)
        assert "select with the mouse" in text
        await pilot.press("escape")
        await pilot.press("enter")  # copy from the pane
        await settle(pilot, app)
        assert "Current Theory: bad deploy" in app.clipboard
    assert journal.events(incident_id)[-1].kind == "update_sent"


async def test_a_broken_team_template_does_not_break_the_others(tmp_path: Path, clock: ManualClock) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "internal_update.txt.j2").write_text("Broken {{ incident.nope }\n", encoding="utf-8")
    settings = make_settings(tmp_path / "s", templates_dir=team)
    journal = make_journal(settings, clock)
    journal.declare("P0", "x")
    app = make_app(settings, journal, clock, system_copy=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await settle(pilot, app)
        assert any(
            "internal_update.txt.j2" in n.message and "line 1" in n.message for n in app._notifications
        )
        assert app.incident.last_update("internal") is None  # nothing copied, nothing recorded
        await pilot.press("1")
        await settle(pilot, app)
        assert app.clipboard.startswith("🚨 P0 INCIDENT DECLARED 🚨")


async def test_w_writes_the_report(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    journal.append(incident_id, ev.NoteAdded("looking at twilio"))
    app = make_app(settings, journal, clock, system_copy=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(minutes=30)
        await pilot.press("w")
        await settle(pilot, app)
        path = settings.state_dir / "reports" / f"{incident_id}.md"
        assert path.exists()
        report = path.read_text(encoding="utf-8")
        assert report.startswith("# Incident Report: SMS sending failing")
        assert "looking at twilio" in report
        assert any(str(path) in n.message for n in app._notifications)


async def test_copy_never_blocks_the_console(world) -> None:  # type: ignore[no-untyped-def]
    """A system clipboard that hangs (xclip waiting on a dead X server) must not freeze the keys."""
    import threading

    settings, journal, clock, _incident_id = world
    release = threading.Event()

    def hung(text: str) -> str:
        release.wait(10)
        return "xclip"

    app = make_app(settings, journal, clock, system_copy=hung)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("p")  # the console still answers while the copy waits
        await pilot.pause()
        assert app.incident.phase == "investigation"
        release.set()
        await settle(pilot, app)
