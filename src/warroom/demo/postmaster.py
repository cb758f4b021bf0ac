"""The embedded server's process, at the lowest level: is a postmaster running on a cluster (and
is it really ours, not a recycled pid), stopping it, and the ports it may listen on. Also the one
error the embedded server reports, :class:`EmbeddedError`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import time
from pathlib import Path

_STOP_WAIT = 20.0


class EmbeddedError(RuntimeError):
    """The embedded server could not be set up, started or stopped (one line for the user)."""


def alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (dead, not yet reaped) still answers kill(0); treat it as dead.
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def _is_postgres(pid: int) -> bool:
    """Whether ``pid`` is a live PostgreSQL process (not a recycled pid); True when unknowable."""
    if not alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/comm", "rb") as fh:
            comm = fh.read().strip()
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return comm.startswith((b"postgres", b"postmaster"))


def _works_in(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` works in ``folder`` (a postmaster's working folder is its data
    folder), so a recycled pid of another PostgreSQL is never taken for ours; True when unknowable."""
    try:
        return Path(f"/proc/{pid}/cwd").readlink() == folder
    except OSError:
        return True


def read_small(path: Path, limit: int = 1024 * 1024) -> str:
    """A small regular file's text; never follows a symlink nor blocks on a fifo (the cluster's
    folder belongs to the server's account). Raises OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return os.read(fd, limit).decode("utf-8", "replace")
    finally:
        os.close(fd)


def postmaster_of(pgdata: Path) -> int | None:
    """The pid of the server running on ``pgdata``, or None (not running, or a stale pid file)."""
    try:
        pid = int(read_small(pgdata / "postmaster.pid", 4096).splitlines()[0].strip())
    except (OSError, ValueError, IndexError):
        return None
    return pid if _is_postgres(pid) and _works_in(pid, pgdata) else None


def stop_postmaster(pgdata: Path) -> None:
    """Stop the server running on ``pgdata`` (fast shutdown; killed if it does not go in time)."""
    pid = postmaster_of(pgdata)
    if pid is None:
        return
    for sig, wait in ((signal.SIGINT, _STOP_WAIT), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not alive(pid):
            return


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As PostgreSQL binds: a port whose last connections linger in TIME_WAIT is still usable.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
