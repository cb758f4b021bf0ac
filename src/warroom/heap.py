"""The console's memory over hours of running: the heap it keeps for its lifetime set aside from
the garbage collector once it has started, and the memory it freed given back to the system.

Nothing here depends on Textual; the app schedules both (``ui/app.py``).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

# Seconds after start when the heap is frozen: the first frame, the panes and the sources'
# libraries are all loaded by then.
HEAP_SETTLED_AFTER = 10.0
# Seconds between two gives-back of freed memory (each under a millisecond in the demo).
TRIM_EVERY = 60.0


def freeze_heap() -> None:
    """Move every object alive to the collector's permanent generation.

    The console holds about 180,000 objects once started (mostly imported modules and Textual's
    widgets), and a full collection walks them all: about 0.15 s, every 20 s or so while the
    panes redraw (their cells, strips and caches are short-lived but survive to the oldest
    generation), 0.6-0.75 % of a core, measured with ``gc.callbacks`` in the running demo. Frozen,
    they are no longer walked; they are still freed by reference counting when dropped, and
    objects made later are collected as before. No collection first: it would cost what it
    saves once, and 10 s after start the heap holds next to no cyclic garbage (79 objects
    unreachable among 160,000, measured in the demo)."""
    gc.freeze()


_trim: Callable[[int], int] | None = None
_looked = False


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    global _trim, _looked
    if not _looked:
        _looked = True
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                _trim = ctypes.CDLL(None).malloc_trim
            except (OSError, AttributeError):
                _trim = None
    return _trim


def give_back_freed_memory() -> bool:
    """Return the pages of memory the C heap holds free to the system (glibc's
    ``malloc_trim(0)``); False where there is no such call.

    Every paint makes and frees blocks too large for Python's own allocator (a frame's output,
    a table's lines). glibc gives freed memory back only from the top of its heap, so the free
    space between blocks still in use stays in the console's resident memory. Measured in the
    demo (bench/RESULTS.md, demo_rss): between its 10th and 20th minutes the console's memory
    grew 4.1 MB while Python's allocator held the same 48 arenas; ``malloc_trim(0)`` gave 3.4 MB
    of it back, in 0.8 ms."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
