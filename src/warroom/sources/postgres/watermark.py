"""The tallies' id watermark: which ids of the errors table have been counted, and which ids below
the highest one are still looked at again (rows of transactions in flight). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class Watermark:
    """Which ids have been counted: everything up to ``high`` except the ``pending`` ids.

    An id below ``high`` that was not visible when ``high`` was read belongs to a transaction still
    in flight (or rolled back, or deleted, or another table's use of a shared sequence). It is
    looked at again on every poll until it shows up, or until every transaction that could hold it
    has ended: the id was noticed before a snapshot whose ``xmax`` is recorded with it, and once a
    later snapshot's ``xmin`` (taken *before* the re-check) is at or past that ``xmax``, a re-check
    that still misses it is final. At most ``max_pending`` ids are tracked (the oldest are given up
    beyond that, and the tallies say they may be inexact until the next full read).
    """

    def __init__(self, max_pending: int = 5000, max_jump: int = 100_000) -> None:
        self.high: int | None = None
        self.pending: dict[int, int | None] = {}  # id -> xmax noticed (None: not known yet)
        self.max_pending = max_pending
        self.max_jump = max_jump
        self.given_up = 0

    def reset(self, high: int | None, visible: Sequence[int], lookback: int, xmax: int | None) -> None:
        """After a full read: ``visible`` are the ids in ``(high - lookback, high]`` it saw."""
        self.pending = {}
        self.given_up = 0
        self.high = high
        if high is None:
            return
        seen = set(visible)
        lo = max(high - lookback + 1, (min(seen) if seen else high))
        for i in range(lo, high + 1):
            if i not in seen:
                self.pending[i] = xmax
        self._cap()

    def recheck_ids(self) -> list[int]:
        return sorted(self.pending)

    def note_xmax(self, xmax: int | None) -> None:
        """Gaps noticed by the previous read get the horizon of a snapshot taken after it."""
        for i, x in self.pending.items():
            if x is None:
                self.pending[i] = xmax

    def accept(self, ids: Iterable[int], xmin_before: int | None) -> tuple[set[int], bool]:
        """The ids a read returned -> (the new ones to count, whether every gap is tracked)."""
        high = self.high if self.high is not None else -(2**63)
        new: set[int] = set()
        top = high
        for i in ids:
            if i > high:
                new.add(i)
                if i > top:
                    top = i
            elif i in self.pending:
                new.add(i)
                del self.pending[i]
        complete = True
        # Gaps that can no longer fill: every transaction that could hold them has ended.
        if xmin_before is not None:
            for i, x in list(self.pending.items()):
                if x is not None and xmin_before >= x:
                    del self.pending[i]
        if top > high:
            # Ids between the old and the new top that did not come back are gaps (with no
            # watermark yet, from the lowest id returned).
            above = [i for i in new if i > high]
            base = high if self.high is not None else min(above)
            if top - base - len(above) > self.max_jump:
                complete = False
            else:
                for i in range(base + 1, top):
                    if i not in new:
                        self.pending[i] = None
        if top > high:
            self.high = top
        if not self._cap():
            complete = False
        return new, complete

    def _cap(self) -> bool:
        over = len(self.pending) - self.max_pending
        if over <= 0:
            return True
        for i in sorted(self.pending)[:over]:
            del self.pending[i]
        self.given_up += over
        return False
