"""Hostile text on the console's screen (issue 10): the pick screen, the header, the timeline, the
templates preview, the notifications and what a copy sends to the terminal (OSC 52) and writes to
the outbox, fed from a hostile journal (two open incidents) and hostile live facts.

Pilot runs are slow, so the properties run few examples, one app per example. What the terminal
would show is read from the compositor's strips (uihelpers.screen_text): no control character,
escape, C1 control, bidi control or lone surrogate may be in it, and markup shows literally.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from textual.widgets import Tab

from conftest import ManualClock
from test_hostile_text import (
    MEGABYTE,
    START,
    assert_inert,
    assert_one_line,
    hostile_text,
    incident_texts,
    live_facts,
    plain_texts,
    write_journal,
)
from uihelpers import make_app, make_journal, make_settings, screen_text, settle
from warroom.comms.clipboard import OSC52_PREFIX, OSC52_SUFFIX
from warroom.comms.context import LiveFacts
from warroom.incident import events as ev
from warroom.ui.app import WarroomApp
from warroom.ui.panes.templates import TemplatesPane
from warroom.ui.screens.console import ConsoleScreen
from warroom.ui.screens.pick import PickIncidentScreen

SIZE = (160, 48)

# No shrinking: each example runs a console (about a second), and shrinking one that fails takes
# minutes; the failing example is printed whole and replays from the example database.
SCREEN_PROPS = settings(
    max_examples=10,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=timedelta(seconds=20),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class FactsApp(WarroomApp):
    """The console with the live facts a test gives (the sources' own tests cover their panes)."""

    facts: LiveFacts = LiveFacts()

    def live_facts(self) -> LiveFacts:
        return self.facts


class Terminal:
    """What the app writes to its driver (OSC 52 among it)."""

    def __init__(self, app: WarroomApp) -> None:
        self.writes: list[str] = []
        assert app._driver is not None
        app._driver.write = self.writes.append  # type: ignore[method-assign]

    def clipboard(self) -> list[str]:
        out = []
        for w in self.writes:
            start = w.find(OSC52_PREFIX)
            if start < 0:
                continue
            end = w.index(OSC52_SUFFIX, start)
            out.append(base64.b64decode(w[start + len(OSC52_PREFIX) : end]).decode("utf-8"))
        return out


@contextmanager
def two_open_incidents(first: dict[str, Any], second: dict[str, Any]) -> Iterator[tuple[Any, ManualClock]]:
    with tempfile.TemporaryDirectory(prefix="wr-screen-") as tmp:
        clock = ManualClock(START)
        settings_ = make_settings(Path(tmp) / "state")
        write_journal(settings_.journal_path, {**first, "resolved": False}, clock)
        write_journal(settings_.journal_path, {**second, "resolved": False}, clock)
        clock.advance(minutes=40)
        yield settings_, clock


def screen_is_inert(app: WarroomApp, where: str) -> str:
    text = screen_text(app)
    assert_inert(text, where, tab=False)
    for note in app._notifications:
        assert_inert(note.message, f"{where} notification", tab=False)
    return text


async def run_console(settings_: Any, clock: ManualClock, facts: LiveFacts) -> None:
    journal = make_journal(settings_, clock)
    app = make_app(settings_, journal, clock, cls=FactsApp, system_copy=None)
    app.facts = facts
    try:
        async with app.run_test(size=SIZE) as pilot:
            terminal = Terminal(app)
            await pilot.pause()
            assert isinstance(app.screen, PickIncidentScreen)
            screen_is_inert(app, "pick screen")
            await pilot.press("down")  # the older one: the first incident written
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ConsoleScreen)
            await settle(pilot, app, "template-preview")
            screen_is_inert(app, "console")
            for key in ("2", "4"):
                await pilot.press(key)
                await settle(pilot, app, "clipboard", "template-preview")
                screen_is_inert(app, f"console after {key}")
            clock.advance(minutes=1)
            app.tick()
            await settle(pilot, app, "template-preview")
            screen_is_inert(app, "console a minute later")
            sent = terminal.clipboard()
            assert len(sent) == 2, sent
            for text in sent:
                assert_inert(text, "OSC 52 payload")
            assert app.incident is not None
            saved = sorted((settings_.outbox_dir / app.incident.id).glob("*.txt"))
            assert sorted(p.read_text(encoding="utf-8") for p in saved) == sorted(sent)
            assert app.return_code is None
    finally:
        journal.close()


@SCREEN_PROPS
@given(first=incident_texts(), second=incident_texts(), facts=live_facts())
def test_the_screen_of_a_hostile_journal_is_inert(
    first: dict[str, Any], second: dict[str, Any], facts: LiveFacts
) -> None:
    """Two open incidents of hostile text: the pick screen, then the console (header, timeline,
    templates preview) and two copies (OSC 52, outbox, notifications) show nothing raw."""
    with two_open_incidents(first, second) as (settings_, clock):
        asyncio.run(run_console(settings_, clock, facts))


@settings(SCREEN_PROPS, max_examples=5)
@given(text=hostile_text(20))
def test_what_the_responder_types_is_inert_on_screen(text: str) -> None:
    """Text typed into the note and edit forms (pasted, say) is journaled and shown inert."""

    async def scenario(settings_: Any, clock: ManualClock) -> None:
        journal = make_journal(settings_, clock)
        journal.declare("P0", "typed")
        app = make_app(settings_, journal, clock, system_copy=None)
        printable = "".join(ch for ch in text if ch.isprintable() and ch not in "\x1b")
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                app.record(ev.NoteAdded(text.encode("utf-8", "replace").decode("utf-8")))
                app.record(ev.FieldEdited("lead", printable))
                await settle(pilot, app, "template-preview")
                screen_is_inert(app, "console")
        finally:
            journal.close()

    with tempfile.TemporaryDirectory(prefix="wr-typed-") as tmp:
        clock = ManualClock(START)
        asyncio.run(scenario(make_settings(Path(tmp) / "state"), clock))


MARKUP_TITLE = "[bold]bold?[/bold] [@click=app.quit]QUIT-ME[/] [link=https://evil.example]x[/link]"


async def test_markup_in_the_journal_shows_literally_and_does_nothing(
    tmp_path: Path, clock: ManualClock
) -> None:
    """Rich/Textual markup in the journal is text: it shows as typed, and clicking the
    ``[@click=app.quit]`` it holds does not quit."""
    settings_ = make_settings(tmp_path / "state")
    journal = make_journal(settings_, clock)
    incident_id = journal.declare("P0", MARKUP_TITLE, lead="[red]lead[/red]").incident_id
    journal.append(incident_id, ev.NoteAdded("[@click=app.quit]NOTE-QUIT[/] $text-error [b]"))
    app = make_app(settings_, journal, clock, system_copy=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await settle(pilot, app, "template-preview")
            text = screen_is_inert(app, "console")
            assert "[bold]bold?[/bold]" in text
            assert "[red]lead[/red]" in text
            assert "[@click=app.quit]NOTE-QUIT[/]" in text
            lines = text.splitlines()
            for needle in ("QUIT-ME", "NOTE-QUIT"):
                y = next(i for i, line in enumerate(lines) if needle in line)
                await pilot.click(offset=(lines[y].index(needle) + 1, y))
                await pilot.pause()
            assert app.is_running and app.return_code is None
    finally:
        journal.close()


# -- defects found ---------------------------------------------------------------------------------------


async def test_a_team_template_named_like_a_sentence_does_not_crash_the_console(
    tmp_path: Path, clock: ManualClock
) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "exec summary.j2").write_text("Summary: {{ title }}", encoding="utf-8")
    settings_ = make_settings(tmp_path / "state", templates_dir=team)
    journal = make_journal(settings_, clock)
    journal.declare("P0", "x")
    app = make_app(settings_, journal, clock, system_copy=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app, "template-preview")
            labels = [str(tab.label) for tab in app.screen.query_one(TemplatesPane).query(Tab)]
            assert "Exec summary" in labels
            assert app.is_running and app.return_code is None
    finally:
        journal.close()


async def test_deeply_nested_evidence_does_not_crash_the_console(tmp_path: Path, clock: ManualClock) -> None:
    settings_ = make_settings(tmp_path / "state")
    journal = make_journal(settings_, clock)
    incident_id = journal.declare("P0", "x").incident_id
    journal.append(incident_id, ev.EvidenceRecorded("errors", "peak", "[" * 30_000 + "]" * 30_000))
    app = make_app(settings_, journal, clock, system_copy=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert incident_id in screen_text(app)
    finally:
        journal.close()


async def test_a_hostile_template_file_name_never_reaches_the_screen(
    tmp_path: Path, clock: ManualClock
) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "internal_declaration.\x1b]0;PWNED\x07\u202e.j2").write_text("{{ title }", encoding="utf-8")
    settings_ = make_settings(tmp_path / "state", templates_dir=team)
    journal = make_journal(settings_, clock)
    journal.declare("P0", "x")
    app = make_app(settings_, journal, clock, system_copy=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app, "template-preview")
            await pilot.press("1")
            await settle(pilot, app)
            screen_is_inert(app, "console")
            for note in app._notifications:
                assert_one_line(note.message, "notification")
    finally:
        journal.close()


async def test_a_megabyte_in_the_journal_opens_the_console_quickly(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A journal whose title, note, update text and status details are 1 MB each: the console
    opens, shows them cut and inert, and copies a message, in bounded time."""
    big = {
        **plain_texts(),
        "resolved": False,
        "title": MEGABYTE,
        "note": MEGABYTE,
        "update": MEGABYTE,
        "details": MEGABYTE,
    }
    settings_ = make_settings(tmp_path / "state")
    write_journal(settings_.journal_path, big, clock)
    journal = make_journal(settings_, clock)
    app = make_app(settings_, journal, clock, system_copy=None)
    started = time.monotonic()
    try:
        async with app.run_test(size=SIZE) as pilot:
            terminal = Terminal(app)
            await settle(pilot, app, "template-preview")
            screen_is_inert(app, "console")
            await pilot.press("2")
            await settle(pilot, app)
            assert len(terminal.clipboard()) == 1
            assert_inert(terminal.clipboard()[0], "OSC 52 payload")
    finally:
        journal.close()
    assert time.monotonic() - started < 15
