"""Command panes in the real console, in a real terminal (tmux): a command's escape sequences
never reach the terminal, and no process of its group outlives the console, whether it quits
(``q``), is asked to end (SIGTERM) or its terminal goes away."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tmuxterm import Tmux, console_argv, needs_tmux, process_gone, warroom_env
from warroom.incident.journal import Journal

pytestmark = [needs_tmux, pytest.mark.slow]

# Ignores SIGTERM, as does the child it starts; both pids go to the file named by argv[1]; then
# it prints escape sequences that would retitle the terminal and fill its clipboard.
STUBBORN = r"""
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)"])
open(sys.argv[1], "w").write(f"{child.pid} {__import__('os').getpid()}\n")
print("\x1b]0;PWNED-TITLE\x07logs \x1b]52;c;SElKQUNLRUQ=\x07follow", flush=True)
print("\x1b[2J\x1b[Hstill here", flush=True)
time.sleep(600)
"""


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path)
    try:
        yield t
    finally:
        t.kill_server()


def start(term: Tmux, tmp_path: Path, panes: int = 2) -> list[Path]:
    """The console with ``panes`` stubborn command panes (stop_grace 10 s); their pid files."""
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    state = tmp_path / "state"
    with Journal(state / "journal.sqlite3", actor="alice") as journal:
        journal.declare("P0", "SMS sending failing", lead="alice")
    (tmp_path / "script.py").write_text(STUBBORN)
    files = [tmp_path / f"pids-{i}" for i in range(panes)]
    config = tmp_path / "warroom.toml"
    config.write_text(
        "status_pages = []\n"
        + "".join(
            f'[[command_panes]]\nname = "logs {i}"\nstop_grace = "10s"\n'
            f'command = ["{sys.executable}", "{tmp_path / "script.py"}", "{f}"]\n'
            for i, f in enumerate(files)
        )
    )
    term.start(console_argv("--config", str(config)), env=warroom_env(state, home), cwd=tmp_path)
    term.wait_text("INC-")
    deadline = time.monotonic() + 20
    while not all(f.exists() and f.read_text().endswith("\n") for f in files):
        assert time.monotonic() < deadline, "the commands did not start"
        time.sleep(0.05)
    return files


def pids_of(files: list[Path]) -> list[int]:
    return [int(p) for f in files for p in f.read_text().split()]


def test_output_never_reaches_the_terminal_and_q_ends_every_group(term: Tmux, tmp_path: Path) -> None:
    files = start(term, tmp_path)
    pids = pids_of(files)
    term.send("]")  # the right column's tabs: to the first command pane's
    for _ in range(6):
        if "logs follow" in term.screen():
            break
        term.send("]")
        time.sleep(0.3)
    screen = term.wait_text("logs follow")
    assert "still here" in screen and "PWNED" not in screen
    time.sleep(1)  # the pane re-reads four times a second: any escape would be sent by now
    assert "PWNED" not in term.title()
    assert not any("HIJACKED" in b for b in term.buffers()), term.buffers()
    console = term.program_pid()
    started = time.monotonic()
    term.send("q")
    assert process_gone(console, 20)
    took = time.monotonic() - started
    assert 9 <= took < 18, took  # they ignore SIGTERM: one grace period (10 s), both at once
    assert all(process_gone(pid, 5) for pid in pids), pids


@pytest.mark.parametrize("how", ["SIGTERM", "hangup"])
def test_no_process_outlives_a_console_that_is_ended(term: Tmux, tmp_path: Path, how: str) -> None:
    """Asked to end, the app has 1.5 s (the lifeline's grace) and the commands want 10: the
    lifeline SIGKILLs their groups before it ends the process."""
    files = start(term, tmp_path)
    pids = pids_of(files)
    console = term.program_pid()
    started = time.monotonic()
    if how == "SIGTERM":
        import os

        os.kill(console, signal.SIGTERM)
    else:
        term.kill_server()  # the terminal goes away
    assert process_gone(console, 10)
    assert all(process_gone(pid, 5) for pid in pids), pids
    assert time.monotonic() - started < 8
