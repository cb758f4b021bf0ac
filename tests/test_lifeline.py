"""The lifeline without a terminal: what ends the process, and when."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

from warroom.lifeline import Lifeline


class Ended(Exception):
    pass


def make(**kwargs: float) -> tuple[Lifeline, list[int]]:
    ended: list[int] = []
    lifeline = Lifeline(fds=(), **kwargs)

    def fake_exit(status: int) -> None:
        ended.append(status)

    lifeline.exit = fake_exit  # type: ignore[assignment]
    return lifeline, ended


def test_before_the_app_runs_a_signal_ends_at_once() -> None:
    lifeline, ended = make()
    lifeline.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler runs between two bytecodes
        assert ended == [128 + signal.SIGTERM]
    finally:
        lifeline.close()
    assert signal.getsignal(signal.SIGTERM) is not lifeline._on_signal


def test_an_attached_app_is_asked_first_and_a_second_signal_ends_at_once() -> None:
    lifeline, ended = make(grace=30)
    asked: list[int] = []

    async def main() -> None:
        lifeline.attach(asyncio.get_running_loop(), asked.append)
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.sleep(0.05)
        assert asked == [128 + signal.SIGHUP] and ended == []
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.sleep(0.05)
        assert ended == [128 + signal.SIGHUP]

    lifeline.install()
    try:
        asyncio.run(main())
    finally:
        lifeline.close()


def test_an_app_that_does_not_exit_within_the_grace_is_ended() -> None:
    """The request goes to a loop that never runs it (wedged): the watchdog thread ends the
    process once the grace period is over."""
    lifeline, ended = make(grace=0.3, poll=0.05)
    loop = asyncio.new_event_loop()  # never run: like a wedged loop
    try:
        lifeline.attach(loop, lambda status: None)
        lifeline.install()
        lifeline.begin_ending(143)
        time.sleep(0.1)
        assert ended == []
        deadline = time.monotonic() + 2
        while not ended and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ended and ended[0] == 143
    finally:
        lifeline.close()
        loop.close()


def test_a_dead_terminal_counts_as_a_hangup() -> None:
    """The watchdog looks at the terminal from its own thread: a pty whose other end closed
    ends the process as SIGHUP would."""
    import pty

    master, slave = pty.openpty()
    ended: list[int] = []
    lifeline = Lifeline(fds=(slave,), poll=0.05, grace=5)
    lifeline.exit = ended.append  # type: ignore[assignment]
    lifeline.install()
    try:
        assert threading.active_count() >= 2
        os.close(master)
        deadline = time.monotonic() + 2
        while not ended and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ended == [128 + signal.SIGHUP]
    finally:
        lifeline.close()
        os.close(slave)
