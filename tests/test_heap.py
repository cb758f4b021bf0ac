"""The console gives the memory it freed back to the system (glibc's malloc_trim), and the app
does so on a timer: a console left open for hours does not keep every page it ever freed."""

from __future__ import annotations

import platform
import subprocess
import sys
from typing import Any

import pytest

from warroom import heap

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# Blocks too large for Python's own allocator (over 512 bytes) and too small for their own
# mapping (under 128 KiB): they live in the C heap. One more, made after them, keeps the heap's
# top in use, so that glibc cannot give their pages back when they are freed.
FRAGMENTED = """
import sys
from warroom.heap import give_back_freed_memory

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024

blocks = [bytearray(4000) for _ in range(20000)]
top = bytearray(4000)
del blocks
before = rss_mb()
given = give_back_freed_memory()
print(given, before, rss_mb())
"""


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's (the console skips it elsewhere)")
def test_freed_memory_in_the_middle_of_the_heap_goes_back_to_the_system() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FRAGMENTED], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    given, before, after = out[0], float(out[1]), float(out[2])
    assert given == "True"
    assert before - after > 40, (before, after)  # of the 80 MB freed, held until given back


def test_without_malloc_trim_nothing_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_looked", True)
    monkeypatch.setattr(heap, "_trim", None)
    assert heap.give_back_freed_memory() is False


async def test_the_console_gives_freed_memory_back_on_a_timer(
    tmp_path: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uihelpers import make_app, make_journal, make_settings
    from warroom.ui import app as app_module

    calls: list[int] = []
    monkeypatch.setattr(app_module, "TRIM_EVERY", 0.05)
    monkeypatch.setattr(app_module, "give_back_freed_memory", lambda: calls.append(1) or True)
    settings = make_settings(tmp_path / "s")
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS failing", impact="all sends", lead="alice", playbook=settings.playbook)
    app = make_app(settings, journal, clock, system_copy=None)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(40):
            await pilot.pause(0.05)
            if len(calls) >= 2:
                break
    assert len(calls) >= 2
