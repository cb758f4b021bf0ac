"""The console's lifeline: the process ends when its terminal goes away or a signal asks, whatever
state the UI loop is in.

asyncio's signal handlers run *on* the event loop, so a loop that is blocked (a runaway template,
or Textual waiting for ever to write to a terminal that no longer exists) never sees SIGTERM or
SIGHUP, and the process lives on with its database connection and its polls. The lifeline does
not depend on the loop:

- SIGTERM and SIGHUP get Python-level handlers, which run in the main thread between two bytecodes
  even while the loop is busy. The first signal asks the app to exit (through the loop, thread
  safely) and starts a grace period; a second signal, or the end of the grace period, ends the
  process at once (``os._exit``) after putting the terminal back as it was, if there still is one.
- A watchdog thread looks at the terminal twice a second. A terminal that hung up (the window was
  closed, tmux was killed, the SSH connection dropped) counts as SIGHUP.
- Before the app runs (start-up) and after it returned (shutdown), a signal ends the process at
  once: everything is already in the journal, which is written before the screen shows anything.

Nothing here imports Textual: the app attaches a callback (``request_exit``) and its loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

GRACE = 1.5  # seconds the app has to exit by itself once asked
POLL = 0.5  # seconds between two looks at the terminal
SIGNALS = (signal.SIGTERM, signal.SIGHUP)
# Leave the alternate screen, show the cursor, stop mouse reports and bracketed paste.
RESET_TERMINAL = b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[?25h\x1b[?1049l"


def terminal_alive(fd: int) -> bool:
    """Whether ``fd`` is still a working terminal: a terminal that hung up answers tcgetattr (what
    isatty asks) with EIO. (Not tcgetpgrp: it fails for a terminal that is not the controlling
    one, as in a session of its own.)"""
    try:
        return os.isatty(fd)
    except OSError:
        return False


class Lifeline:
    """See the module docstring. ``install()`` early, ``attach()`` once the loop runs, ``detach()``
    when the app returned, ``close()`` before leaving the process normally."""

    def __init__(self, *, grace: float = GRACE, poll: float = POLL, fds: tuple[int, ...] = (0, 1)) -> None:
        self.grace = grace
        self.poll = poll
        self._fds = tuple(fd for fd in fds if terminal_alive(fd))
        self._saved_tty: list[Any] | None = None
        if self._fds:
            with contextlib.suppress(termios.error, OSError):
                self._saved_tty = termios.tcgetattr(self._fds[0])
        self._previous: dict[int, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._request: Callable[[int], None] | None = None
        self._ending_since: float | None = None
        self._status = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.exit = os._exit  # tests replace it
        # Run (each at most once, errors ignored) just before the process is ended here: they
        # must not block (the command panes' SIGKILL to their process groups).
        self.on_end: list[Callable[[], None]] = []

    # -- life cycle ---------------------------------------------------------------------------------
    def install(self) -> Lifeline:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._on_signal)
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="warroom-lifeline", daemon=True)
            self._thread.start()
        return self

    def attach(self, loop: asyncio.AbstractEventLoop, request_exit: Callable[[int], None]) -> None:
        """From now on a signal asks the app (``request_exit(status)``, run on ``loop``) first."""
        self._loop = loop
        self._request = request_exit

    def detach(self) -> None:
        """The app returned: a signal now ends the process at once (and an exit already asked for
        gets a fresh grace period for what follows the app, such as stopping the demo's server)."""
        self._loop = None
        self._request = None
        if self._ending_since is not None:
            self._ending_since = time.monotonic()

    def close(self) -> None:
        """Stop watching and give the signals back their earlier handlers."""
        self._stop.set()
        if threading.current_thread() is threading.main_thread():
            for sig, previous in self._previous.items():
                with contextlib.suppress(ValueError, TypeError, OSError):
                    signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    @property
    def ending(self) -> bool:
        return self._ending_since is not None

    # -- what ends the process ------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._ending_since is not None:
            self._end_now(128 + signum)  # a second signal: now
            return
        self.begin_ending(128 + signum)

    def begin_ending(self, status: int) -> None:
        """Ask the app to exit with ``status``; end the process if it has not within the grace."""
        if self._ending_since is not None:
            return
        self._ending_since = time.monotonic()
        self._status = status
        loop, request = self._loop, self._request
        if loop is None or request is None or loop.is_closed():
            self._end_now(status)
            return
        try:
            loop.call_soon_threadsafe(request, status)
        except RuntimeError:  # the loop is closing
            self._end_now(status)

    def _end_now(self, status: int) -> None:
        hooks, self.on_end = self.on_end, []
        for hook in hooks:
            with contextlib.suppress(Exception):
                hook()
        self._restore_terminal()
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        self.exit(status)

    def _restore_terminal(self) -> None:
        """Best effort, and never blocking: a terminal that stopped reading (its output buffer full)
        must not keep a process that is ending alive."""
        for fd in self._fds:
            if not terminal_alive(fd):
                continue
            with contextlib.suppress(OSError):
                os.set_blocking(fd, False)
                os.write(fd, RESET_TERMINAL)
            if self._saved_tty is not None:
                with contextlib.suppress(termios.error, OSError):
                    termios.tcsetattr(fd, termios.TCSANOW, self._saved_tty)
            return

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            since = self._ending_since
            if since is not None:
                if time.monotonic() - since >= self.grace:
                    self._end_now(self._status)
                continue
            if self._fds and not all(terminal_alive(fd) for fd in self._fds):
                self.begin_ending(128 + signal.SIGHUP)
