"""The read-only console (warroom serve's sessions): every write action refused in one place with
a one-line notice, and a journal that cannot be written even by a path the list forgot."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from textual.binding import Binding

from conftest import ManualClock
from test_db_actions import focus_database
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.incident import events as ev
from warroom.incident.journal import JournalError
from warroom.incident.readonly import ReadOnlyJournal
from warroom.ui.readonly import WRITE_ACTIONS, action_name
from warroom.ui.screens.console import CONSOLE_BINDINGS, ConsoleScreen
from warroom.ui.screens.declare import DeclareScreen

SIZE = (160, 48)

# Actions that only read or move around: allowed in the read-only view. Every other binding's
# action must be in WRITE_ACTIONS (a new key must be classified, or this test fails).
READS = {
    "zoom",
    "filter",
    "back",
    "help",
    "quit",
    "previous_tab",
    "next_tab",
    "show_last_copy",
    "show_text",
    "cursor_down",
    "cursor_up",
    "retry",  # the pane's query again: reads the monitored database, writes nothing
    "clear_filter",
    "cancel",
    "dismiss",
    "scroll_up",
    "scroll_down",
    "scroll_end",
}


def all_bindings():  # type: ignore[no-untyped-def]
    """Every binding of every screen and widget in warroom.ui, found by walking the package (a new
    pane's keys are classified here without anybody remembering to list them)."""
    import importlib
    import pkgutil

    from textual.dom import DOMNode

    import warroom.ui

    classes: set[type] = set()
    for info in pkgutil.walk_packages(warroom.ui.__path__, "warroom.ui."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, DOMNode) and value.__module__ == info.name:
                classes.add(value)
    assert len(classes) > 20, classes  # the walk found the panes and screens
    found = [*CONSOLE_BINDINGS]
    for cls in classes:  # its own keys (Textual's inherited ones edit text or move, never write)
        own = cls.__dict__.get("BINDINGS", [])
        found += [b if isinstance(b, Binding) else Binding(*b) for b in own]
    return found


def test_every_key_is_classified_as_a_write_or_a_read() -> None:
    unknown = {
        action_name(b.action)
        for b in all_bindings()
        if action_name(b.action) not in WRITE_ACTIONS and action_name(b.action) not in READS
    }
    assert not unknown, f"classify these actions for the read-only view: {sorted(unknown)}"
    for name in ("note", "tick", "mark_update", "resolve", "template", "copy_focused", "page_on_call"):
        assert name in WRITE_ACTIONS
    for name in ("cancel_backend", "terminate_backend", "pause_campaign", "restart"):
        assert name in WRITE_ACTIONS  # the Database pane's actions, a command pane's restart


@pytest.fixture
def world(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    incident_id = journal.declare(
        "P0", "SMS sending failing", impact="All customers", lead="alice"
    ).incident_id
    yield settings, journal, clock, incident_id
    journal.close()


def digest(path: Path) -> str:
    """The journal's bytes, its write-ahead log included."""
    h = hashlib.sha256()
    for part in (path, path.with_name(path.name + "-wal")):
        if part.exists():
            h.update(part.read_bytes())
    return h.hexdigest()


# -- the journal ------------------------------------------------------------------------------------


def test_read_only_journal_refuses_every_write_and_sqlite_refuses_too(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    before = digest(settings.journal_path)
    with ReadOnlyJournal(settings.journal_path, clock=clock) as ro:
        assert ro.load(incident_id).title == "SMS sending failing"
        with pytest.raises(JournalError, match="read-only"):
            ro.append(incident_id, ev.NoteAdded("nope"))
        with pytest.raises(JournalError, match="read-only"):
            ro.declare("P1", "another")
        assert ro.writable() is not None
        # A path that forgot the wrapper: SQLite itself refuses to change the file.
        for sql in (
            "INSERT INTO incidents (id, day, number) VALUES ('INC-2026-01-01-009', '2026-01-01', 9)",
            "DELETE FROM events",
            "PRAGMA user_version = 7",
        ):
            with pytest.raises(sqlite3.OperationalError, match="readonly database"):
                ro._db.execute(sql)
        # ... even with query_only turned off again: the file was opened read-only (mode=ro)
        ro._db.execute("PRAGMA query_only = OFF")
        with pytest.raises(sqlite3.OperationalError, match="readonly database"):
            ro._db.execute("DELETE FROM events")
    assert digest(settings.journal_path) == before
    assert [e.kind for e in journal.events(incident_id)] == ["declared"]


def test_read_only_journal_sees_what_another_process_appends(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    with ReadOnlyJournal(settings.journal_path, clock=clock) as ro:
        seen = ro.events(incident_id)
        journal.append(incident_id, ev.NoteAdded("later"))
        new = ro.events(incident_id, after_seq=seen[-1].seq)
    assert [e.body for e in new] == [ev.NoteAdded("later")]


def test_read_only_journal_creates_nothing(tmp_path: Path) -> None:
    where = tmp_path / "nowhere" / "journal.sqlite3"
    with pytest.raises(JournalError, match="does not exist"):
        ReadOnlyJournal(where)
    assert not where.parent.exists()
    not_sqlite = tmp_path / "journal.sqlite3"
    not_sqlite.write_text("hello")
    with pytest.raises(JournalError, match="not a warroom journal"):
        ReadOnlyJournal(not_sqlite)
    assert not_sqlite.read_text() == "hello"


# -- the app ----------------------------------------------------------------------------------------


def notices(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app._notifications]


# Keys of the console and of the panes that write, with the pane to focus first (None: the console).
WRITE_KEYS: list[tuple[str | None, str, str]] = [
    ("#checklist", "space", "ticking a checklist item"),
    ("#checklist", "x", "ticking a checklist item"),
    ("#checklist", "o", "assigning an owner"),
    (None, "n", "adding a note"),
    (None, "s", "changing the severity"),
    (None, "p", "changing the phase"),
    (None, "P", "changing the phase"),
    (None, "e", "editing the incident"),
    (None, "u", "marking an update sent"),
    (None, "U", "marking an update sent"),
    (None, "ctrl+z", "taking back an update"),
    (None, "r", "resolving the incident"),
    (None, "y", "copying"),
    *[(None, str(n), "copying a message") for n in range(1, 7)],
    (None, "L", "recording an escalation"),
    (None, "A", "adding an action item"),
    (None, "O", "adding a lesson"),
    (None, "I", "assigning an owner"),
    (None, "H", "assigning a role"),
    (None, "exclamation_mark", "paging on-call"),
    (None, "w", "writing the report"),
    ("#decision-list", "a", "answering the decision tree"),
    ("#decision-list", "y", "copying a command"),
    ("TemplateList", "y", "copying a message"),
    ("TemplateList", "o", "posting to Slack"),
    ("TemplateList", "e", "filling a message's fields"),
]


async def test_every_write_key_is_refused_with_a_notice(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    before = digest(settings.journal_path)
    outbox = [p for p in settings.state_dir.rglob("*") if p.is_file()]
    app = make_app(settings, journal, clock, read_only=True)
    assert isinstance(app.journal, ReadOnlyJournal) and app.journal is not journal
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen)
        text = await shown(pilot, app)
        assert "read-only view" in text.splitlines()[0]
        assert "SMS sending failing" in text
        footer = text.splitlines()[-1]
        assert "Help" in footer and "Quit" in footer and "Zoom" in footer
        for word in ("Tick", "Note", "Severity", "Phase", "Edit", "Int. sent", "Resolve", "Copy"):
            assert word not in footer, (word, footer)  # refused keys are not offered
        for focus, key, what in WRITE_KEYS:
            if focus is not None:
                found = app.screen.query(focus)
                if not found:  # in the wide layout the decision tree sits on a tab
                    await pilot.press("right_square_bracket", "right_square_bracket")
                    await pilot.pause()
                    found = app.screen.query(focus)
                found.first().focus()
                await pilot.pause()
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            said = notices(app)
            assert f"read-only view: {what} is not available" in said, (key, said)
            assert isinstance(app.screen, ConsoleScreen), (key, app.screen)  # no dialog opened
    assert digest(settings.journal_path) == before
    assert [e.kind for e in journal.events(incident_id)] == ["declared"]
    assert [p for p in settings.state_dir.rglob("*") if p.is_file()] == outbox  # no outbox, no report


async def test_the_database_actions_and_commands_are_not_the_views(
    tmp_path: Path, clock: ManualClock
) -> None:
    """With an action connection and a command pane configured on the serving machine, a browser
    session can neither cancel, terminate nor pause anything, and runs no command."""
    import os
    from dataclasses import replace

    from warroom.settings.integrations import CommandPane

    base = make_settings(tmp_path)
    marker = f"warroom-view-{os.getpid()}"
    settings = replace(
        base,
        database=replace(
            base.database,
            dsn="postgresql://watch@127.0.0.1:9/db",  # nothing listens: the pane says so, and keeps its keys
            action_dsn="postgresql://actor:pw@127.0.0.1:9/db",
            pause_campaign_sql="UPDATE campaigns SET status = 'paused' WHERE id = $1",
        ),
        command_panes=(CommandPane("logs", ("sleep", "600", marker)),),
    )
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS sending failing", impact="All customers", lead="alice")
    app = make_app(settings, journal, clock, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await focus_database(pilot, app)
        for key, what in (
            ("c", "cancelling a backend's query"),
            ("K", "terminating a backend"),
            ("m", "pausing a campaign"),
        ):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert f"read-only view: {what} is not available" in notices(app), (key, notices(app))
            assert isinstance(app.screen, ConsoleScreen), (key, app.screen)  # no picker, no SQL shown
        assert not app.screen.query("CommandPane") and "logs" not in await shown(pilot, app)
        assert processes_naming(marker) == []
    journal.close()


def processes_naming(marker: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "cmdline").read_bytes():
                found.append(proc.name)
        except OSError:
            continue
    return found


async def test_the_view_does_not_join_the_shared_war_room(tmp_path: Path, clock: ManualClock) -> None:
    """A stakeholder's session neither writes to the team's database nor shows as present there:
    with a shared DSN configured, the view starts no link to it."""
    from dataclasses import replace

    base = make_settings(tmp_path)
    settings = replace(base, shared=replace(base.shared, dsn="postgresql://warroom@127.0.0.1:9/team"))
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS sending failing", impact="All customers", lead="alice")
    app = make_app(settings, journal, clock, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        assert app.incident is not None and app.team.room is None
        assert not [w for w in app.workers if w.group == "shared"]
        assert not any("team" in n for n in notices(app)), notices(app)
    journal.close()


async def test_a_forgotten_write_path_writes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    before = digest(settings.journal_path)
    app = make_app(settings, journal, clock, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # past run_action: record() says why and writes nothing; evidence is not journaled
        assert app.record(ev.NoteAdded("sneaky")) is None
        assert await app.record_in_thread(ev.NoteAdded("evidence")) is None
        # past record(): the journal itself refuses
        with pytest.raises(JournalError, match="read-only"):
            app.journal.append(incident_id, ev.NoteAdded("sneakier"))
        # an action method called directly (not through a key) still cannot write the journal
        app.screen.query_one("#checklist").focus()
        await pilot.pause()
        app.actions.toggle_item()
        await pilot.pause()
    assert digest(settings.journal_path) == before
    assert [e.kind for e in journal.events(incident_id)] == ["declared"]


async def test_the_view_follows_the_journal_written_by_another_console(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    app = make_app(settings, journal, clock, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        journal.append(incident_id, ev.NoteAdded("rolled back 4702c25"))
        journal.append(incident_id, ev.FieldEdited("title", "SMS sending failing: Twilio timeouts"))
        app.sync_journal()  # the app does this once a second
        text = await shown(pilot, app)
        assert "Note: rolled back 4702c25" in text
        assert "SMS sending failing: Twilio timeouts" in text.splitlines()[0]
        assert "read-only view" in text.splitlines()[0]


async def test_the_palette_offers_nothing_that_writes(world) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, _ = world
    app = make_app(settings, journal, clock, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
    assert "Show keys" in titles
    for unwanted in ("Declare a new incident", "Switch incident", "Screenshot", "Reopen the incident"):
        assert unwanted not in titles
    assert not any(t.startswith(("Add a note", "Resolve", "Copy", "Mark")) for t in titles)


async def test_no_open_incident_is_said_not_declared(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    try:
        app = make_app(settings, journal, clock, read_only=True)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.pause()
        assert app.return_value == 1
    finally:
        journal.close()
    assert not any(isinstance(s, DeclareScreen) for s in app.screen_stack)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one commit."""
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=a", "-c", "user.email=a@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "app.py").write_text("print('hi')\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "deploy: the fix"], check=True)
    return repo


async def test_the_commits_pane_keys_are_refused(world, repo: Path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    settings, journal, clock, incident_id = world
    settings = replace(settings, git=replace(settings.git, repo=repo))
    before = digest(settings.journal_path)
    app = make_app(settings, journal, clock, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        app.screen.query_one("#commits-table").focus()
        for key, what in (
            ("y", "copying git revert"),
            ("Y", "copying the function rollback"),
            ("f", "marking the fix"),
        ):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert f"read-only view: {what} is not available" in notices(app), key
    assert digest(settings.journal_path) == before
    assert [e.kind for e in journal.events(incident_id)] == ["declared"]
