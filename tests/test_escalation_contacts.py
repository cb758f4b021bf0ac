"""The escalation path's contacts ([escalation] l1-l4): read once, bad ones refused in one line,
shown beside the escalation timer (the current level's, and the next one's) at every size."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.config import ConfigError, load_settings
from warroom.settings.escalation import EscalationContacts

CONTACTS = EscalationContacts(
    l1="Pat (on-call) +49 170 1111111", l2="Kim, eng lead, #eng-leads", l3="Dana (CTO) +49 170 3333333"
)


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "warroom.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(env={}, state_dir=tmp_path / "state", config=path, user="ana")


def test_contacts_are_read_and_checked(tmp_path: Path) -> None:
    s = load(tmp_path, '[escalation]\nl1 = "Pat +49 170 1111111"\nl4 = "the CEO\'s office"\n')
    assert [s.escalation.contact(n) for n in range(0, 6)] == [
        "",
        "Pat +49 170 1111111",
        "",
        "",
        "the CEO's office",
        "",
    ]
    assert "contact L2          = (not configured)" in s.describe()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('l5 = "x"', "[escalation] unknown key 'l5' (known keys: l1, l2, l3, l4)"),
        ("l1 = 5", "[escalation] l1: expected a string, got 5"),
        ('l2 = "Pat\\u001b[2J"', "[escalation] l2: expected text without control characters (found U+001B)"),
        (f'l3 = "{"x" * 121}"', "[escalation] l3: expected at most 120 characters"),
    ],
)
def test_a_bad_contact_is_refused_in_one_line(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, f"[escalation]\n{toml}\n")
    said = str(exc.value)
    assert "\n" not in said
    assert said.startswith(f"{tmp_path / 'warroom.toml'}: {message}"), said


@pytest.mark.parametrize("size", [(80, 24), (120, 30), (160, 48)])
async def test_the_contacts_are_beside_the_escalation_timer(tmp_path: Path, clock: ManualClock, size) -> None:  # type: ignore[no-untyped-def]
    settings = replace(make_settings(tmp_path), escalation=CONTACTS)
    journal = make_journal(settings, clock)
    journal.declare("P1", "SMS sending failing", lead="ana")
    app = make_app(settings, journal, clock)
    try:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            text = await shown(pilot, app)
            if size == (80, 24):  # the timer's two lines: who to call in place of the level's name
                lines = text.splitlines()
                at = next(i for i, x in enumerate(lines) if "L1 Pat (on-call)" in x)
                assert "On-call Engineer" not in lines[at]  # too little room for both: the contact
                assert lines[at + 1].startswith("╰"), "the timer's line wrapped"
            else:
                lines = text.splitlines()
                at = next(i for i, x in enumerate(lines) if "Escalation L1 On-call Engineer" in x)
                assert "call Pat (on-call) +49 170 1111111" in lines[at + 1]
                assert "next L2 Engineering Lead in" in lines[at + 2]
                assert "call Kim, eng lead, #eng-leads" in lines[at + 3]
            # Escalated to L2: its contact is now, L3's next.
            clock.advance(minutes=31)
            app.tick()
            text = await shown(pilot, app)
            if size != (80, 24):
                assert "call Kim, eng lead" in text and "call Dana (CTO)" in text
                assert "call Pat" not in text
            else:
                assert "L2 Kim, eng lead" in text, text
    finally:
        journal.close()


async def test_no_contact_configured_adds_no_line(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    journal.declare("P1", "SMS sending failing", lead="ana")
    app = make_app(settings, journal, clock)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            text = await shown(pilot, app)
            assert "Escalation L1 On-call Engineer" in text and " call " not in text
    finally:
        journal.close()
