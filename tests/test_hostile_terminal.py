"""Hostile input against the real console in a real terminal (tmux): nothing reaches the
terminal as control bytes (its title, its clipboard), nothing freezes it, and closing the
terminal at any moment ends it."""

from __future__ import annotations

import base64
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tmuxterm import Tmux, console_argv, needs_tmux, process_gone, warroom_env
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


def declared_state(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    with Journal(state / "journal.sqlite3", actor="alice") as journal:
        journal.declare("P0", "SMS sending failing", lead="alice")
    return state


@pytest.mark.parametrize("moment", ["start-up", "first frame", "running", "shutdown"])
def test_closing_the_terminal_at_any_moment_ends_the_console(tmp_path: Path, home: Path, moment: str) -> None:
    """The console typed into an interactive shell (as a person does), then the terminal goes
    away (the tmux server killed): the process is gone within 2 s, at start-up, right after the
    first frame, while running, and while quitting. Each moment is tried at several delays: the
    console used to hang for good in Textual's shutdown (its output queue full, its writer dead)
    about one time in three."""
    state = declared_state(tmp_path)
    config = quiet_config(tmp_path)
    argv = console_argv("--config", str(config))
    delays = {
        "start-up": (0.1, 0.3, 0.5),
        "first frame": (0.0, 0.05, 0.15),
        "running": (0.5, 0.9, 1.3),
        "shutdown": (0.0, 0.02, 0.1),
    }[moment]
    alive = []
    for delay in delays:
        term = Tmux(tmp_path)
        try:
            # Unbuffered output (as many users' environments have) makes Textual's writer
            # thread meet the dead terminal at once.
            env = warroom_env(state, home, PYTHONUNBUFFERED="1")
            term.start(argv, env=env, cwd=tmp_path, under_shell=True)
            pid = term.program_pid()
            if moment != "start-up":
                term.wait_text("INC-")
            if moment == "shutdown":
                term.send("q")
            time.sleep(delay)
        finally:
            term.kill_server()
        if not process_gone(pid, 2.5):
            alive.append((delay, pid))
            os.kill(pid, signal.SIGKILL)
    assert not alive, f"still running 2.5 s after the terminal closed (delay, pid): {alive}"


def test_a_terminal_that_hangs_up_without_a_signal_ends_the_console(
    term: Tmux, tmp_path: Path, home: Path
) -> None:
    """In a session of its own (setsid), the console gets no SIGHUP when its terminal goes away:
    the lifeline's watchdog notices the dead terminal and ends it."""
    state = declared_state(tmp_path)
    config = quiet_config(tmp_path)
    argv = ["setsid", "-w", *console_argv("--config", str(config))]
    term.start(argv, env=warroom_env(state, home), cwd=tmp_path)
    term.wait_text("INC-")
    pid = term.program_pid()
    term.kill_server()
    assert process_gone(pid, 3.0), f"warroom (pid {pid}) still running after its terminal closed"


WEDGED_CONSOLE = """
import sys, time
from pathlib import Path
from warroom.config import load_settings
from warroom.lifeline import Lifeline
from warroom.ui.app import WarroomApp


class Wedged(WarroomApp):
    ticks = 0

    def tick(self) -> None:
        super().tick()
        self.ticks += 1
        if self.ticks == 3:  # after the first frames
            time.sleep(3600)  # the UI loop never comes back


lifeline = Lifeline().install()
app = Wedged(load_settings(config=Path("warroom.toml")), lifeline=lifeline)
sys.exit(app.run() or 0)
"""


def test_sigterm_ends_a_console_whose_loop_is_wedged(term: Tmux, tmp_path: Path, home: Path) -> None:
    """SIGTERM and SIGHUP go through asyncio's handlers, which run on the UI loop: a wedged loop
    never saw them. The lifeline's handler runs anyway; the process ends within 2 s."""
    state = declared_state(tmp_path)
    quiet_config(tmp_path)
    script = tmp_path / "wedged.py"
    script.write_text(WEDGED_CONSOLE)
    term.start([sys.executable, str(script)], env=warroom_env(state, home), cwd=tmp_path)
    term.wait_text("INC-")
    time.sleep(2.5)  # the third tick wedges the loop
    pid = term.program_pid("wedged.py")
    os.kill(pid, signal.SIGTERM)
    assert process_gone(pid, 2.5), "a SIGTERM did not end a console whose loop is wedged"


def test_a_runaway_team_template_never_stops_the_console(term: Tmux, tmp_path: Path, home: Path) -> None:
    """A team's declaration template that loops for ever: the clock keeps ticking, the preview
    says what is wrong in one line, the key copies nothing, and q quits at once."""
    state = declared_state(tmp_path)
    team = tmp_path / "team"
    team.mkdir()
    (team / "internal_declaration.txt.j2").write_text(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"
    )
    config = quiet_config(tmp_path, '[templates]\ndir = "team"\n')
    pid = 0
    term.start(console_argv("--config", str(config)), env=warroom_env(state, home), cwd=tmp_path)
    term.wait_text("INC-")
    pid = term.program_pid()
    term.send("1")  # copy the declaration: renders the runaway template
    first = term.wait_for(lambda s: "T+" in s)

    def clock(screen: str) -> str:
        return screen.split("T+", 1)[1][:5]

    time.sleep(2.5)
    second = term.screen()
    assert clock(first) != clock(second), "the clock stopped"
    # the notification (wrapped on screen) says why
    term.wait_for(lambda s: "longer than 2 s" in " ".join(s.replace("▌", " ").split()), timeout=10)
    term.send("q")
    assert process_gone(pid, 2.0), "q did not quit"


@pytest.mark.parametrize("command", [[], ["check"], ["list"]])
def test_configuration_text_never_reaches_the_terminal(
    term: Tmux, tmp_path: Path, home: Path, command: list[str]
) -> None:
    """A warroom.toml with escape sequences in a phase name, a status page and the user: refused
    in one line; the terminal's title and clipboard stay as they were."""
    state = declared_state(tmp_path)
    hostile = tmp_path / "hostile.toml"
    osc = OSC_TITLE.replace("\x1b", "\\u001b").replace("\x07", "\\u0007")
    clip = OSC_CLIPBOARD.replace("\x1b", "\\u001b").replace("\x07", "\\u0007")
    hostile.write_text(
        f'status_pages = []\n[incident]\nuser = "m{clip}"\n[playbook.phases.triage]\nname = "T{osc}"\n'
    )
    argv = console_argv("--config", str(hostile), *command)
    term.start(argv, env=warroom_env(state, home), cwd=tmp_path, linger=True)
    # the one line is wrapped at the pane's width wherever the temporary path puts it
    term.wait_for(lambda s: "001B)" in s.replace("\n", ""))
    lines = [line for line in term.transcript().splitlines() if line.startswith("warroom: ")]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"warroom: {hostile}:") and "control characters" in lines[0]
    time.sleep(0.5)
    assert_terminal_untouched(term)
