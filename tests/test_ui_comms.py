"""The console's comms: keys 1-6 copy filled templates (a copy, never an update), u / U confirm the
last copy sent, ctrl+z takes it back, a resolution asks first while open, v shows the details."""

from __future__ import annotations

import contextlib
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


def notices(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app._notifications]


@contextlib.asynccontextmanager
async def console(world, size: tuple[int, int] = SIZE, **kw):  # type: ignore[no-untyped-def]
    """The console on the world's incident, running, with its pilot."""
    settings, journal, clock, _incident_id = world
    app = make_app(settings, journal, clock, system_copy=None, **kw)
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        yield app, pilot


async def keys(pilot, app, *pressed: str) -> None:  # type: ignore[no-untyped-def]
    """Press each key in turn, letting its copy (a worker) finish before the next."""
    for key in pressed:
        await pilot.press(key)
        await settle(pilot, app)


async def test_key_2_copies_the_status_update_and_u_confirms_it_sent(world) -> None:  # type: ignore[no-untyped-def]
    """Copied is not posted: the copy is journaled as a copy and changes no countdown; u confirms
    that copy as the internal update sent (naming it) and restarts the countdown."""
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
        assert inc.last_update("internal") is None  # copied, not sent
        assert inc.next_update_due("internal") == clock.now.replace(minute=15)
        outbox = list((settings.outbox_dir / incident_id).glob("*.txt"))
        assert len(outbox) == 1 and outbox[0].read_text(encoding="utf-8") == text
        note = notices(app)[-1]
        assert note == (
            "Internal - Status Update copied to terminal + system clipboard + outbox · u confirms it sent"
            " · to fill: tick checklist items; e: Current theory; e: ETA to resolution · v: details"
        )
        clock.advance(minutes=1)
        await pilot.press("u")
        await pilot.pause()
        last = inc.last_update("internal")
        assert last is not None and last.text == text and last.template == "internal_update"
        copied = journal.events(incident_id)[1]
        assert last.copy == copied.event_id
        assert inc.next_update_due("internal") == clock.now.replace(minute=25)
        assert "Internal update sent: internal_update copied 14:09 UTC" in notices(app)[-1]
    kinds = [e.kind for e in journal.events(incident_id)]
    assert kinds == ["declared", "message_copied", "update_sent"]


async def test_u_without_a_copy_marks_the_update_sent_and_a_second_u_does_not_reconfirm(world) -> None:  # type: ignore[no-untyped-def]
    _settings, journal, clock, incident_id = world
    async with console(world) as (app, pilot):
        clock.advance(minutes=5)
        await pilot.press("U")
        await pilot.pause()
        assert app.incident.next_update_due("customer") == clock.now.replace(minute=35)
        clock.advance(minutes=1)
        # U confirms the copy; then nothing is left to confirm: another update marked sent
        await keys(pilot, app, "4", "U", "U")
    sent = [e.body for e in journal.events(incident_id) if isinstance(e.body, ev.UpdateSent)]
    copied = [e for e in journal.events(incident_id) if isinstance(e.body, ev.MessageCopied)]
    assert [(b.audience, b.template, b.copy) for b in sent] == [
        ("customer", "marked sent", ""),
        ("customer", "customer_notification", copied[0].event_id),
        ("customer", "marked sent", ""),
    ]


async def test_ctrl_z_takes_the_confirmation_back(world) -> None:  # type: ignore[no-untyped-def]
    _settings, journal, clock, incident_id = world
    async with console(world) as (app, pilot):
        clock.advance(minutes=9)
        await keys(pilot, app, "2", "ctrl+z")  # a copy is not an update: nothing to take back
        assert notices(app)[-1] == "Nothing to take back."
        await pilot.press("u")
        await pilot.pause()
        assert app.incident.next_update_due("internal").minute == 24
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.incident.next_update_due("internal").minute == 15  # back to the declaration's cadence
        await pilot.press("ctrl+z")
        await pilot.pause()
    kinds = [e.kind for e in journal.events(incident_id)]
    assert kinds == ["declared", "message_copied", "update_sent", "update_undone"]


async def test_U_confirms_the_customer_notification_and_restarts_the_customer_countdown(world) -> None:  # type: ignore[no-untyped-def]
    _settings, _journal, clock, _incident_id = world
    async with console(world) as (app, pilot):
        clock.advance(minutes=20)
        await pilot.press("4")
        await settle(pilot, app)
        assert app.clipboard.startswith("Subject: Service Disruption")
        assert "· U confirms it sent ·" in notices(app)[-1]
        assert app.incident.next_update_due("customer") == clock.now.replace(minute=30)
        await pilot.press("U")
        await pilot.pause()
        assert app.incident.next_update_due("customer") == clock.now.replace(minute=50)


@pytest.mark.parametrize(("key", "name"), [("3", "internal_resolution"), ("5", "customer_resolution")])
async def test_a_resolution_before_resolution_asks_first_and_never_counts(world, key: str, name: str) -> None:  # type: ignore[no-untyped-def]
    from warroom.ui.screens.modals import ChoiceModal

    _settings, journal, clock, incident_id = world
    async with console(world) as (app, pilot):
        clock.advance(minutes=9)
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        assert "The incident is still open — copy the resolution anyway?" in await shown(pilot, app)
        await pilot.press("escape")  # not copied
        await settle(pilot, app)
        assert [e.kind for e in journal.events(incident_id)] == ["declared"]
        await pilot.press(key)
        await pilot.pause()
        await pilot.press("enter")  # "Copy it anyway"
        await settle(pilot, app)
        assert "not an update while the incident is open" in notices(app)[-1]
        audience = "internal" if name.startswith("internal") else "customer"
        due = app.incident.next_update_due(audience)
        await pilot.press("u" if audience == "internal" else "U")  # confirmed sent: still not counted
        await pilot.pause()
        assert "not an update while the incident is open" in notices(app)[-1]
        assert app.incident.next_update_due(audience) == due
        assert app.incident.last_update(audience) is None
    assert [e.kind for e in journal.events(incident_id)] == ["declared", "message_copied"]


async def test_after_resolution_the_resolution_copies_without_asking_and_can_be_confirmed(world) -> None:  # type: ignore[no-untyped-def]
    _settings, journal, _clock, incident_id = world
    journal.append(incident_id, ev.Resolved("rolled back"))
    async with console(world, incident_id=incident_id) as (app, pilot):
        await pilot.press("3")
        await settle(pilot, app)
        assert app.clipboard.startswith("✅ INCIDENT RESOLVED")
        await pilot.press("u")
        await pilot.pause()
        assert app.incident.last_update("internal").template == "internal_resolution"  # type: ignore[union-attr]


async def test_v_shows_the_full_text_and_where_it_went(world) -> None:  # type: ignore[no-untyped-def]
    settings, _journal, _clock, incident_id = world
    async with console(world) as (app, pilot):
        await pilot.press("2")
        await settle(pilot, app)
        assert "outbox" in notices(app)[-1] and str(settings.outbox_dir) not in notices(app)[-1]
        await pilot.press("v")
        text = await shown(pilot, app)
        assert "📊 INCIDENT UPDATE" in text
        from warroom.ui.screens.modals import TextModal

        assert isinstance(app.screen, TextModal)
        outbox = next((settings.outbox_dir / incident_id).glob("*.txt"))
        detail = str(app.screen.query_one("#detail").render())
        assert f"saved to {outbox}" in detail  # the outbox file
        assert "[ROOT_CAUSE_THEORY]: e: Current theory" in detail  # each placeholder, where it is filled


async def test_a_copy_notice_is_short_at_80x24(world) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets._toast import Toast

    _settings, _journal, _clock, _incident_id = world
    async with console(world, (80, 24)) as (app, pilot):
        await pilot.press("2")
        await settle(pilot, app)
        await pilot.pause()
        toasts = list(app.screen.query(Toast))
        assert len(toasts) == 1
        assert toasts[0].region.height <= 6, toasts[0].region


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
    assert journal.events(incident_id)[-1].kind == "message_copied"


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
