"""Command panes' source (warroom.sources.command) with real subprocesses: floods, escape
sequences, long lines, the read rate, exit statuses, restart, and process groups that end."""

from __future__ import annotations

import sys
import time
import tracemalloc
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from warroom.sources.command import LINE_MAX, CommandRun, group_members, kill_everything

PY = sys.executable


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """A failing test leaves no process behind for the next ones."""
    yield
    kill_everything()


def script(code: str) -> list[str]:
    return [PY, "-c", code]


def wait_until(what: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaps (it runs nothing: a container's init may not reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :].split()[0] in (b"Z", b"X")


def lines_of(run: CommandRun) -> list[str]:
    return list(run.read(-1).fresh)


# -- output ---------------------------------------------------------------------------------------


def test_a_flood_keeps_the_last_lines_and_cleans_only_what_the_ring_holds() -> None:
    flood = "import sys\nw = sys.stdout.write\nfor i in range(200000): w(f'line {i}\\n')\n"
    run = CommandRun(script(flood), lines=500)
    tracemalloc.start()
    try:
        started = time.monotonic()
        run.start()
        wait_until(lambda: run.status.state == "exited", timeout=60)
        wait_until(lambda: run.read(-1).fresh[-1:] == ("line 199999",))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        run.stop()
    out = run.read(-1)
    assert out.status.text == "exited 0"
    assert out.lines_read == 200_000
    assert out.fresh == tuple(f"line {i}" for i in range(199_500, 200_000))  # the last 500, in order
    # Cleaned in batches of at most the ring (one every 0.2 s at most), not line by line.
    assert out.seq <= (elapsed / 0.2 + 2) * 500 < 200_000, (out.seq, elapsed)
    # 200,000 lines (2.3 MB of output) never held at once: the ring and a read's worth.
    assert peak < 2_000_000, peak


def test_a_line_without_end_is_cut_and_memory_stays_bounded() -> None:
    code = "import sys\nsys.stdout.write('x' * 5_000_000)\nsys.stdout.write('\\nafter\\n')\n"
    run = CommandRun(script(code), lines=50, bytes_per_second=256 * 1024 * 1024)
    tracemalloc.start()
    try:
        run.start()
        wait_until(lambda: run.status.state == "exited" and len(lines_of(run)) == 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        run.stop()
    first, second = lines_of(run)
    assert len(first) == LINE_MAX and first.endswith("…")
    assert second == "after"
    assert peak < 1_000_000, peak  # read 64 KiB at a time, the line kept to 4 KB


def test_the_read_rate_is_bounded_and_said() -> None:
    flood = "import sys\nline = 'y' * 99 + '\\n'\nwhile True: sys.stdout.write(line)\n"
    run = CommandRun(script(flood), lines=100, bytes_per_second=100_000, stop_grace=1.0)
    try:
        started = time.monotonic()
        run.start()
        time.sleep(2.0)
        out = run.read(-1)
        elapsed = time.monotonic() - started
    finally:
        run.stop()
    # At most one second's budget up front, then the rate: the command waits in its pipe.
    assert out.lines_read * 100 <= 100_000 * (elapsed + 1) + 64 * 1024, (out.lines_read, elapsed)
    assert out.lines_read * 100 >= 100_000 * 0.5  # and it is read, at about that rate
    assert out.throttled


ESCAPES = (
    "import sys\n"
    "w = sys.stdout.buffer.write\n"
    "w(b'\\x1b]0;pwned title\\x07plain \\x1b[31mred\\x1b[0m text\\n')\n"  # OSC title, SGR colour
    "w(b'\\x1b]52;c;cm0gLXJmIH4=\\x07clip\\n')\n"  # OSC 52: fill the clipboard
    "w(b'\\x1bP1$qm\\x1b\\\\dcs \\x9b2Jc1 \\x1b[2J\\x1b[Hclear\\n')\n"  # DCS, 8-bit CSI, clear screen
    "w(b'bidi \\xe2\\x80\\xaeevil\\xe2\\x80\\xac end\\r\\n')\n"  # RLO override, CRLF
    "w(b'bad utf8 \\xff\\xfe bell\\x07 nul\\x00 del\\x7f\\n')\n"
    "w(b'no newline at the end \\x1b[')\n"
)


def test_escape_sequences_and_controls_never_come_out() -> None:
    run = CommandRun(script(ESCAPES))
    run.start()
    wait_until(lambda: run.status.state == "exited" and len(lines_of(run)) == 6)
    run.stop()
    lines = lines_of(run)
    assert lines == [
        "plain red text",
        "clip",
        "dcs �2Jc1 clear",  # a lone 0x9b byte is not UTF-8: a replacement character, inert
        "bidi evil end",
        "bad utf8 �� bell nul del",
        "no newline at the end",
    ]
    for line in lines:
        assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in line), repr(line)


def test_no_color_is_asked_and_no_terminal_is_given() -> None:
    code = "import os, sys\nprint(os.environ.get('NO_COLOR'), sys.stdin.read() == '', os.getsid(0) == os.getpid())\n"
    run = CommandRun(script(code))
    run.start()
    wait_until(lambda: run.status.state == "exited" and lines_of(run))
    run.stop()
    assert lines_of(run) == ["1 True True"]  # its own session: no controlling terminal, stdin empty


# -- exit, restart ------------------------------------------------------------------------------------


def test_exit_status_restart_and_the_note_between_runs() -> None:
    run = CommandRun(script("print('hello'); raise SystemExit(3)"))
    run.start()
    wait_until(lambda: run.status.state == "exited")
    assert run.status.text == "exited 3" and not run.status.ok
    run.restart()
    wait_until(lambda: run.status.state == "exited" and len(lines_of(run)) == 3)
    run.stop()
    out = run.read(-1)
    assert out.run == 2
    assert list(out.fresh) == ["hello", "── exited 3; restarted (run 2) ──", "hello"]
    assert out.status.text == "exited 3"


def test_killed_by_a_signal_and_not_found() -> None:
    run = CommandRun(script("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"))
    run.start()
    wait_until(lambda: run.status.state == "exited")
    assert run.status.text == "killed by SIGKILL"
    run.stop()
    missing = CommandRun(["warroom-no-such-program", "--tail"])
    assert missing.start().text == "not found: warroom-no-such-program"
    assert missing.status.state == "failed"
    assert missing.restart().text == "not found: warroom-no-such-program"  # a restart tries again
    nowhere = CommandRun(["true"], cwd=Path("/nonexistent-folder-for-warroom"))
    assert nowhere.start().text == "folder not found: /nonexistent-folder-for-warroom"


def test_the_status_follows_the_leader_while_a_child_still_writes() -> None:
    code = (
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time\\nfor i in range(200):\\n print(i, flush=True)\\n"
        " time.sleep(0.05)'])\n"
        "print('leader done', flush=True)\n"
    )
    run = CommandRun(script(code), stop_grace=1.0)
    run.start()
    pgid = run.pgid
    assert pgid is not None
    wait_until(lambda: run.status.state == "exited")
    assert run.status.text == "exited 0"
    wait_until(lambda: len(lines_of(run)) >= 5)  # the child writes on
    assert group_members(pgid)
    run.stop()
    assert group_members(pgid) == []


# -- ending the process group ---------------------------------------------------------------------------

STUBBORN = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import signal, time\\n"
    'signal.signal(signal.SIGTERM, signal.SIG_IGN)\\nprint("child up", flush=True)\\ntime.sleep(600)\'])\n'
    "print('pid', child.pid, flush=True)\n"
    "time.sleep(600)\n"
)


def child_pid(run: CommandRun) -> int:
    wait_until(lambda: any(line.startswith("pid ") for line in lines_of(run)) and "child up" in lines_of(run))
    return int(next(line for line in lines_of(run) if line.startswith("pid ")).split()[1])


def test_a_group_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    run = CommandRun(script(STUBBORN), stop_grace=0.8)
    run.start()
    leader, pgid = run.pid, run.pgid
    assert leader is not None and pgid == leader
    child = child_pid(run)
    assert sorted(group_members(pgid) or []) == sorted([leader, child])
    started = time.monotonic()
    run.stop()
    took = time.monotonic() - started
    assert 0.75 <= took < 0.8 + 5, took  # waited the grace, then SIGKILL
    assert run.status.text == "killed by SIGKILL"
    assert gone(leader) and gone(child)
    assert group_members(pgid) == []


def test_a_command_that_ends_on_sigterm_is_not_kept_waiting() -> None:
    run = CommandRun(["sleep", "600"], stop_grace=10.0)
    run.start()
    wait_until(lambda: run.pid is not None and group_members(run.pid))
    started = time.monotonic()
    run.stop()
    assert time.monotonic() - started < 5  # not the 10 s grace
    assert run.status.text == "killed by SIGTERM"


def test_kill_everything_ends_every_group_at_once() -> None:
    runs = [CommandRun(script(STUBBORN), stop_grace=30.0) for _ in range(2)]
    for run in runs:
        run.start()
    pids = [(run.pid, child_pid(run), run.pgid) for run in runs]
    kill_everything()  # what the lifeline does before os._exit: SIGKILL, no waiting
    for leader, child, pgid in pids:
        assert leader is not None and pgid is not None
        wait_until(lambda leader=leader, child=child: gone(leader) and gone(child), timeout=5)
        assert group_members(pgid) == []
    for run in runs:
        run.stop()  # nothing left to wait for
