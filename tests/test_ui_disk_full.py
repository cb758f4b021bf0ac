"""A write that fails (a full disk, a read-only file) never loses what was typed: the dialog
stays open with its text and says why; once the disk has room, enter saves it."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.incident import events as ev
from warroom.incident.journal import Journal, JournalError
from warroom.ui.screens.modals import NoteModal, SeverityModal
from warroom.ui.widgets import TextInput

SIZE = (160, 48)


class FullDisk(Journal):
    """The journal of a full disk: appends fail until ``full`` is cleared."""

    full = False

    def append(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.full:
            raise JournalError(f"journal {self.path}: cannot record the event (database or disk is full)")
        return super().append(*args, **kwargs)


async def test_a_note_typed_while_the_disk_is_full_is_kept(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path)
    make_journal(settings, clock).declare("P0", "SMS sending failing")
    journal = FullDisk(settings.journal_path, actor="alice", clock=clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        journal.full = True
        await pilot.press("n", *"rolled back 4702c25", "enter")
        await shown(pilot, app)
        assert isinstance(app.screen, NoteModal)
        # the dialog says why (in its error line, wrapped on screen wherever the path ends)
        assert "database or disk is full" in str(app.screen.query_one("#error", Static).content)
        assert app.screen.query_one("#note", TextInput).value == "rolled back 4702c25"
        journal.full = False
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, NoteModal)
        assert "Note: rolled back 4702c25" in await shown(pilot, app)
    incident = journal.load(journal.incident_ids()[0])
    assert [e.body for e in incident.events if isinstance(e.body, ev.NoteAdded)] == [
        ev.NoteAdded("rolled back 4702c25")
    ]


async def test_a_severity_reason_is_kept_too(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path)
    make_journal(settings, clock).declare("P1", "SMS slow")
    journal = FullDisk(settings.journal_path, actor="alice", clock=clock)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        journal.full = True
        await pilot.press("s", "up", "enter", *"all SMS failing", "enter")
        await shown(pilot, app)
        assert isinstance(app.screen, SeverityModal)
        assert app.screen.query_one("#reason", TextInput).value == "all SMS failing"
        journal.full = False
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SeverityModal)
        assert app.incident is not None and app.incident.severity == "P0"
