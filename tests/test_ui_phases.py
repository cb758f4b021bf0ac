"""The phase pane marks every phase: done, current, and not yet."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.incident import events as ev


async def test_every_phase_has_a_mark(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    i = journal.declare("P0", "SMS failing", lead="alice").incident_id
    clock.advance(minutes=3)
    journal.append(i, ev.PhaseChanged("investigation", "triage"))
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await shown(pilot, app)
        lines = str(app.screen.query_one("#phase-lines", Static).content).splitlines()
        marks = [line.split(" ", 1)[0] for line in lines[:5]]
        assert marks == ["✓", "▶", "○", "○", "○"], lines
