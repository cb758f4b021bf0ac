"""The console in a real pseudo-terminal: it exits when the terminal goes away and never spins."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and Linux ptys")


def spawn_console(state_dir: Path) -> tuple[int, int]:
    """Declare an incident, then run `warroom` on a fresh pty as its controlling terminal."""
    env = {
        **os.environ,
        "WARROOM_STATE_DIR": str(state_dir),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
    }
    subprocess.run(
        [sys.executable, "-m", "warroom", "declare", "-s", "P0", "-t", "pty test"],
        env=env,
        check=True,
        capture_output=True,
    )
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its stdin/stdout/stderr and controlling terminal
        os.execve(sys.executable, [sys.executable, "-m", "warroom"], env)
    return pid, fd


def drain(fd: int, seconds: float, until: bytes | None = None) -> bytes:
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (until and until in out):
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def wait_exit(pid: int, timeout: float) -> int | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    return None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def started(fd: int) -> bytes:
    out = drain(fd, 15.0, until=b"INC-")
    assert b"INC-" in out, out[-500:]
    drain(fd, 0.5)
    return out


def test_sighup_ends_the_console(tmp_path: Path) -> None:
    pid, fd = spawn_console(tmp_path)
    try:
        started(fd)
        os.kill(pid, signal.SIGHUP)
        status = wait_exit(pid, 10)
        assert status is not None, "still running 10 s after SIGHUP"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.close(fd)


def test_closing_the_terminal_ends_the_console_without_spinning(tmp_path: Path) -> None:
    pid, fd = spawn_console(tmp_path)
    try:
        started(fd)
        idle_before = cpu_seconds(pid)
        time.sleep(2.0)
        idle_cpu = cpu_seconds(pid) - idle_before
        assert idle_cpu < 0.5, f"idle console used {idle_cpu:.2f} s of CPU in 2 s"
        os.close(fd)  # the terminal goes away (an SSH session dropping)
        fd = -1
        status = wait_exit(pid, 10)
        if status is None:
            spent = cpu_seconds(pid)
            pytest.fail(f"still running 10 s after the terminal closed (CPU {spent:.1f} s)")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if fd >= 0:
            os.close(fd)
