"""Hostile input against the real console in a real terminal (tmux): nothing reaches the
terminal as control bytes (its title, its clipboard), nothing freezes it, and closing the
terminal at any moment ends it."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tmuxterm import Tmux, console_argv, needs_tmux, warroom_env
from warroom.incident.journal import Journal

pytestmark = [needs_tmux, pytest.mark.slow]

OSC_TITLE = "\x1b]0;PWNED-TITLE\x07"
OSC_CLIPBOARD = "\x1b]52;c;" + base64.b64encode(b"HIJACKED-CLIPBOARD").decode() + "\x07"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    (h / ".config").mkdir(parents=True)
    return h


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path)
    try:
        yield t
    finally:
        t.kill_server()


def quiet_config(folder: Path, extra: str = "") -> Path:
    """A warroom.toml with no status pages (the default ones are on the internet)."""
    path = folder / "warroom.toml"
    path.write_text("status_pages = []\n" + extra)
    return path


def assert_terminal_untouched(term: Tmux) -> None:
    assert "PWNED" not in term.title()
    assert not any("HIJACKED" in b for b in term.buffers()), term.buffers()


def test_journal_text_never_reaches_the_terminal(term: Tmux, tmp_path: Path, home: Path) -> None:
    """A journal (a file) holding escape sequences in the title, lead and channel: the header and
    the timeline show inert text; the terminal's title and clipboard stay as they were."""
    state = tmp_path / "state"
    with Journal(state / "journal.sqlite3", actor="mallory\x1b]0;PWNED-TITLE\x07") as journal:
        event = journal.declare(
            "P0",
            f"{OSC_CLIPBOARD}DB down {OSC_TITLE} end",
            lead=f"bob{OSC_TITLE}",
            impact=f"all{OSC_CLIPBOARD}",
        )
        from warroom.incident import events as ev

        journal.append(event.incident_id, ev.NoteAdded(f"note {OSC_CLIPBOARD}{OSC_TITLE} done"))
    config = quiet_config(tmp_path)
    term.start(console_argv("--config", str(config)), env=warroom_env(state, home), cwd=tmp_path)
    screen = term.wait_text("INC-")
    assert "DB down" in screen
    time.sleep(3)  # the header redraws every second: any escape would be re-sent meanwhile
    assert_terminal_untouched(term)
    assert "note" in term.screen()
