"""How the console looks: pytest-textual-snapshot, with the clock, the data and the cursor frozen.

Update with ``pytest tests/test_ui_snapshots.py --snapshot-update`` and look at every SVG before
committing it (``--snapshot-report`` writes an HTML diff).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings
from warroom.incident import events as ev


def p0_investigating_overdue(tmp_path: Path, **settings_overrides):  # type: ignore[no-untyped-def]
    """A P0 declared 23 minutes ago, in Investigation, its internal update 8 minutes overdue."""
    clock = ManualClock()
    settings = make_settings(tmp_path, **settings_overrides)
    journal = make_journal(settings, clock)
    inc = journal.declare("P0", "SMS sending failing for all campaigns", impact="All customers", lead="alice")
    i = inc.incident_id
    clock.advance(minutes=1)
    journal.append(
        i, ev.ItemTicked("actions-P0", "page-on-call-engineer-immediately", "Page on-call engineer")
    )
    clock.advance(minutes=2)
    journal.append(i, ev.ItemTicked("actions-P0", "create-incident-channel", "Create incident channel"))
    journal.append(i, ev.PhaseChanged("investigation", "triage"))
    clock.advance(minutes=4)
    journal.append(i, ev.NoteAdded("Twilio 30003 errors spiking since 13:52"))
    journal.append(
        i, ev.ItemTicked("investigation", "check-recent-code-deployments", "Check recent code deployments")
    )
    clock.advance(minutes=16)
    return make_app(settings, journal, clock)


def p2_in_recovery(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = ManualClock()
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    i = journal.declare("P2", "Campaign list slow to load", impact="Some customers", lead="bob").incident_id
    for minutes, phase, previous in (
        (4, "investigation", "triage"),
        (30, "mitigation", "investigation"),
        (25, "recovery", "mitigation"),
    ):
        clock.advance(minutes=minutes)
        journal.append(i, ev.PhaseChanged(phase, previous))
    journal.append(
        i, ev.ItemTicked("verification", "error-rate-returned-to-normal", "Error rate returned to normal")
    )
    journal.append(i, ev.FieldEdited("theory", "missing index on campaigns.updated_at"))
    clock.advance(minutes=7)
    return make_app(settings, journal, clock)


def test_declare_form(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock = ManualClock()
    settings = make_settings(tmp_path)
    app = make_app(settings, make_journal(settings, clock), clock)
    assert snap_compare(app, terminal_size=(120, 40))


def test_p0_investigation_overdue(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p0_investigating_overdue(tmp_path), terminal_size=(160, 48))


def test_p2_in_recovery(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p2_in_recovery(tmp_path), terminal_size=(160, 48))


@pytest.mark.parametrize("theme", ["dark", "light", "high-contrast"])
def test_theme(snap_compare, tmp_path: Path, theme: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p0_investigating_overdue(tmp_path, theme=theme), terminal_size=(160, 48))


def test_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p0_investigating_overdue(tmp_path), terminal_size=(80, 24))


def test_80x24_changes_tab(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p0_investigating_overdue(tmp_path), terminal_size=(80, 24), press=["]", "]", "]"])


def test_120x30_medium(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p0_investigating_overdue(tmp_path), terminal_size=(120, 30))


def test_200x60(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p0_investigating_overdue(tmp_path), terminal_size=(200, 60))


def test_severity_dialog(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p0_investigating_overdue(tmp_path), terminal_size=(120, 40), press=["s"])


def test_resolve_dialog(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p2_in_recovery(tmp_path), terminal_size=(120, 40), press=["r"])


def test_help(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(p2_in_recovery(tmp_path), terminal_size=(120, 50), press=["question_mark"])
