"""Incremental error tallies: the playbook's "top errors in the last hour", kept in memory.

The playbook's query re-reads the whole window on every run (380-470 ms at 1M rows). Instead
:class:`Tallies` is loaded once from an aggregated full read and then fed only what changed:

- **counts** per key ``(error_type, error_message)`` and per minute, plus per-minute totals;
- **ageing**: the window is ``time > now - window`` exactly as the playbook's
  ``occurred_at > NOW() - INTERVAL '1 hour'``, with ``now`` the *server's* clock. Minute buckets
  alone cannot say which rows of the oldest minute have left, so for the old end of the window
  (the region the window's start will cross before the next full read: ``resync_interval`` plus a
  margin) the full read also lists each minute's exact times, and those rows are kept as exact
  timestamps (``exact_until``). Rows leave the window one by one, exactly. If a full read is
  overdue (the database is failing) and the window start passes ``exact_until``, whole minutes are
  dropped instead and the snapshot says ``exact=False`` until the next full read;
- **new rows** come either one by one (id watermark: :meth:`Tallies.add`) or as a re-read tail of
  the newest rows with their exact times (no id column: :meth:`Tallies.replace_tail`, which replaces
  the previous tail's contribution, so overlapping re-reads never count a row twice).

Everything here is pure (no I/O, no clock): times come from the caller. Strings are kept raw for
grouping (the key must match SQL's GROUP BY exactly) and cleaned only in :meth:`Tallies.snapshot`.

Definitions used by the snapshot (also in the README of the pane):

- ``delta_poll``: count now minus the count at the previous snapshot (0 on the first one).
- ``delta_declared``: count now minus the windowed count *as it stood at the declaration*, i.e. the
  rows with ``declared_at - window < time <= declared_at`` (one query after start; rows that
  arrived late with an old time are included). ``None`` without a declaration time.
- ``is_new``: the key has no row in that pre-declaration window (``None`` without a declaration).
- ``first_seen``: the earliest time seen for the key since ``lookback_start`` (the start of the
  earliest window the console has read: the pre-declaration window, else the first full read's).
  A key whose ``first_seen`` is within a minute of ``lookback_start`` may be older.
- ``per_minute`` and ``totals_per_minute`` cover the minutes from the window's start to now, oldest
  first; the first and the last minute are partial. Rows with a time in the future are counted
  in ``count`` and ``total`` but appear in no minute.

Bounds (memory and work must not follow the data): a key keeps the first :data:`TYPE_CHARS`
characters of ``error_type`` and the first :data:`MESSAGE_CHARS` of ``error_message`` (the
built-in queries cut them the same way in SQL, with ``left()``, and group by the cut values), and
at most :data:`MAX_KEYS` keys are tracked one by one. The rows of every other key are counted in
one "other" bucket, so ``total``, ``totals_per_minute``, the trend and the per-minute series stay
exact; only the per-key detail is capped (``TallySnapshot.other``). The full read asks the
database for the :data:`MAX_KEYS` largest keys and one "other" group per minute; between full
reads, a new key arriving when :data:`MAX_KEYS` are tracked folds the smallest quarter of them into
"other" (a key folded and seen again counts from then on: its count may be low until the rows in
"other" have left the window or the next full read).
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from warroom.sources.trend import Trend, trend_of
from warroom.text import clean

Key = tuple[str | None, str | None]

MINUTE_US = 60_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = -(2**62)

NULL_TEXT = "(null)"
_SALT = os.urandom(16)

#: Keys tracked one by one; the rows of all others are counted together ("other").
MAX_KEYS = 500
#: Characters of error_type / error_message a key keeps (the SQL's ``left(..., N)``).
TYPE_CHARS = 200
MESSAGE_CHARS = 1000
OTHER = 0  # the "other" bucket's key id (never a real key's)


def bounded_key(error_type: str | None, error_message: str | None) -> Key:
    """The key as the tallies keep it: both values cut to :data:`TYPE_CHARS` and
    :data:`MESSAGE_CHARS` characters (cheap on a 30 MB value: a slice)."""
    return (
        None if error_type is None else error_type[:TYPE_CHARS],
        None if error_message is None else error_message[:MESSAGE_CHARS],
    )


def _key_order(key: Key) -> tuple[bool, str, bool, str]:
    t, m = key
    return (t is None, t or "", m is None, m or "")


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch, exactly (PostgreSQL's own resolution)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    d = dt - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def td_us(td: timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


def floor_minute(dt: datetime) -> datetime:
    us = to_us(dt)
    return from_us(us - us % MINUTE_US)


def ceil_minute(dt: datetime) -> datetime:
    us = to_us(dt)
    rem = us % MINUTE_US
    return from_us(us if rem == 0 else us - rem + MINUTE_US)


def row_key(*parts: str | None) -> str:
    """A short id for a key, stable for the life of the process, safe as a table row key.

    Keyed with a per-process random salt, so it cannot be reversed by guessing (phone numbers).
    """
    raw = json.dumps(list(parts), ensure_ascii=False)
    digest = hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=8, key=_SALT)
    return digest.hexdigest()


def clean_or_null(value: str | None, max_len: int) -> str:
    return NULL_TEXT if value is None else clean(value, max_len=max_len)


@dataclass(frozen=True)
class TallyGroup:
    """One row of the ``error_tally`` query: ``count`` rows of a key in the minute of ``at``.

    ``times``, when given, are the exact times of those rows (``len(times) == count``).
    ``other``: the rows of every key outside the largest :data:`MAX_KEYS` in that minute (the
    key's fields are then ignored).
    """

    error_type: str | None
    error_message: str | None
    at: datetime
    count: int
    first_at: datetime | None = None
    times: Sequence[datetime] | None = None
    other: bool = False


# -- the snapshot -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TallyRow:
    """One error key in the top list. Strings are cleaned; ``key`` is stable across polls."""

    key: str
    error_type: str
    error_message: str
    count: int
    delta_poll: int
    delta_declared: int | None
    per_minute: tuple[int, ...]
    first_seen: datetime | None
    is_new: bool | None


@dataclass(frozen=True)
class TallySnapshot:
    """The error tallies pane's data at ``as_of`` (the server's clock), fetched at ``fetched_at``."""

    fetched_at: datetime
    as_of: datetime
    window: timedelta
    window_start: datetime
    limit: int
    rows: tuple[TallyRow, ...]
    total: int
    distinct: int
    minutes: tuple[datetime, ...]
    totals_per_minute: tuple[tuple[datetime, int], ...]
    trend: Trend
    declared_at: datetime | None
    baseline_total: int | None
    baseline_error: str
    lookback_start: datetime | None
    exact: bool
    mode: Literal["id", "time"]
    resynced_at: datetime | None
    full_read: bool
    watermark: int | None = None
    pending_ids: int = 0
    db_ms: float = 0.0
    notes: tuple[str, ...] = field(default=())
    # The top errors of the window that ended at the declaration: (type, message, count), most
    # first; what the report's "at declaration" tally shows (today's top list may differ).
    baseline_rows: tuple[tuple[str, str, int], ...] = field(default=())
    # Rows of the window whose key is not tracked one by one (beyond the MAX_KEYS largest): in
    # ``total`` and ``totals_per_minute``, in no row. ``distinct`` counts the tracked keys only.
    other: int = 0

    def series(self) -> list[tuple[datetime, int]]:
        """Total errors per minute over the window (oldest first; the last minute is partial)."""
        return list(self.totals_per_minute)


# -- the state ---------------------------------------------------------------------------------


class Tallies:
    """Per-key, per-minute error counts over a sliding window, updated incrementally."""

    def __init__(self, window: timedelta, limit: int = 10, max_keys: int = MAX_KEYS) -> None:
        if window < timedelta(minutes=1):
            raise ValueError("the tallies' window must be at least 1 minute")
        self.window = window
        self.limit = limit
        self.max_keys = max(max_keys, limit, 4)
        self._window_us = td_us(window)
        # The keys tracked one by one (at most max_keys), by key id. Ids are never reused: rows
        # still listed under the id of a key folded into "other" (exact times, the tail) count
        # in "other" (see _bump).
        self._kid: dict[Key, int] = {}
        self._key_of: dict[int, Key] = {}
        self._next_kid = OTHER + 1
        self._counts: dict[int, int] = {}
        self._minutes: dict[int, dict[int, int]] = {}
        self._totals: dict[int, int] = {}
        self._total = 0
        self._edge: list[tuple[int, int]] = []  # sorted (time, kid): exact rows still in the window
        self._edge_pos = 0
        self._exact_until = _NEVER
        self._start: int | None = None  # the window's start (exclusive), microseconds
        self._now: int | None = None
        self._first: dict[int, int] = {}
        self._lookback: int | None = None
        self._baseline: dict[Key, int] | None = None  # at most max_keys keys
        self._baseline_total = 0
        self._baseline_capped = False  # the declaration's window had more keys than kept
        self._baseline_at: datetime | None = None
        self._prev: dict[int, int] | None = None  # the counts at the previous snapshot
        self._tail: dict[tuple[int, int], int] = {}
        self._tail_start: int | None = None
        self.loaded = False
        self.exact = True
        self.loaded_at: datetime | None = None

    # -- bookkeeping ------------------------------------------------------------------------------
    def _kid_for(self, error_type: str | None, error_message: str | None) -> int:
        """The id of a key, tracking it (and making room for it) when it is new."""
        key = bounded_key(error_type, error_message)
        kid = self._kid.get(key)
        if kid is None:
            if len(self._kid) >= self.max_keys:
                self._make_room()
            kid = self._new_kid(key)
        return kid

    def _new_kid(self, key: Key) -> int:
        kid = self._next_kid
        self._next_kid += 1
        self._kid[key] = kid
        self._key_of[kid] = key
        return kid

    def _rank(self, kid: int) -> tuple[int, bool, str, bool, str]:
        return (-self._counts.get(kid, 0), *_key_order(self._key_of[kid]))

    def _make_room(self) -> None:
        """Fold the smallest quarter of the tracked keys into "other" (amortized: one sort of
        max_keys keys per max_keys / 4 new keys)."""
        keep = self.max_keys - max(1, self.max_keys // 4)
        for kid in sorted(self._key_of, key=self._rank)[keep:]:
            self._fold(kid)

    def _fold(self, kid: int) -> None:
        """Stop tracking a key: its rows (count and minutes) move to "other"."""
        key = self._key_of.pop(kid)
        del self._kid[key]
        self._first.pop(kid, None)
        n = self._counts.pop(kid, 0)
        mins = self._minutes.pop(kid, None) or {}
        if n:
            n += self._counts.get(OTHER, 0)
            if n:
                self._counts[OTHER] = n
            else:
                self._counts.pop(OTHER, None)
        if not mins:
            return
        other = self._minutes.setdefault(OTHER, {})
        for minute, c in mins.items():
            v = other.get(minute, 0) + c
            if v:
                other[minute] = v
            else:
                other.pop(minute, None)

    def _seen(self, kid: int, ts: int) -> None:
        if kid not in self._key_of:
            return
        first = self._first.get(kid)
        if first is None or ts < first:
            self._first[kid] = ts

    def _bump(self, kid: int, ts: int, n: int) -> None:
        """Add ``n`` (may be negative) rows at ``ts`` to the counts (not to the exact list)."""
        if kid not in self._key_of:
            kid = OTHER  # "other" itself, or a key folded into it since
        minute = ts - ts % MINUTE_US
        count = self._counts.get(kid, 0) + n
        mins = self._minutes.setdefault(kid, {})
        m = mins.get(minute, 0) + n
        if m:
            mins[minute] = m
        else:
            mins.pop(minute, None)
        if count:
            self._counts[kid] = count
        else:
            self._counts.pop(kid, None)
            self._minutes.pop(kid, None)
        t = self._totals.get(minute, 0) + n
        if t:
            self._totals[minute] = t
        else:
            self._totals.pop(minute, None)
        self._total += n

    def _add(self, kid: int, ts: int, n: int) -> None:
        self._bump(kid, ts, n)
        if ts < self._exact_until:
            for _ in range(n):
                bisect.insort(self._edge, (ts, kid), lo=self._edge_pos)

    def _sub(self, kid: int, ts: int, n: int) -> None:
        self._bump(kid, ts, -n)
        if ts < self._exact_until:
            for _ in range(n):
                i = bisect.bisect_left(self._edge, (ts, kid), lo=self._edge_pos)
                if i < len(self._edge) and self._edge[i] == (ts, kid):
                    del self._edge[i]

    def _in_window(self, ts: int) -> bool:
        return self._start is None or ts > self._start

    # -- loading ----------------------------------------------------------------------------------
    def load(
        self,
        now: datetime,
        groups: Iterable[TallyGroup],
        exact_until: datetime,
        *,
        tail_start: datetime | None = None,
        tail: Iterable[TallyGroup] = (),
    ) -> None:
        """Replace everything with a full read taken at ``now`` (the server's clock).

        ``groups`` hold the rows with ``now - window < time`` (``<= tail_start`` when a tail is
        given), per key and minute, with their exact ``times`` for every minute before
        ``exact_until``. ``tail`` holds the rows after ``tail_start`` with exact times (the
        time-column mode's overlap).
        """
        groups = list(groups)
        self._counts.clear()
        self._minutes.clear()
        self._totals.clear()
        self._total = 0
        self._tail.clear()
        self._tail_start = None
        self._now = to_us(now)
        self._start = self._now - self._window_us
        self._exact_until = to_us(exact_until)
        if self._exact_until % MINUTE_US:
            raise ValueError("exact_until must be a whole minute")
        track = self._track(groups)
        edge: list[tuple[int, int]] = []
        start = self._start
        for g in groups:
            if g.count <= 0:
                continue
            key = bounded_key(g.error_type, g.error_message)
            kid = OTHER if g.other or key not in track else self._kid.get(key) or self._new_kid(key)
            if g.times:
                per_minute: dict[int, int] = {}
                first = None
                for t in g.times:
                    ts = to_us(t)
                    if ts <= start:
                        continue
                    m = ts - ts % MINUTE_US
                    per_minute[m] = per_minute.get(m, 0) + 1
                    if ts < self._exact_until:
                        edge.append((ts, kid))
                    if first is None or ts < first:
                        first = ts
                for m, n in per_minute.items():
                    self._bump(kid, m, n)
                if first is not None:
                    self._seen(kid, first)
                continue
            minute = to_us(g.at)
            minute -= minute % MINUTE_US
            if minute + MINUTE_US <= start:
                continue
            self._bump(kid, minute, g.count)
            self._seen(kid, to_us(g.first_at) if g.first_at is not None else minute)
        edge.sort()
        self._edge = edge
        self._edge_pos = 0
        if self._lookback is None or self._start < self._lookback:
            self._lookback = self._start
        self.loaded = True
        self.exact = True
        self.loaded_at = now
        if tail_start is not None:
            self._tail_start = to_us(tail_start)
            self.replace_tail(tail_start, tail)

    def _track(self, groups: Sequence[TallyGroup]) -> set[Key]:
        """The keys a full read tracks (its max_keys largest); the other keys tracked so far are
        forgotten as far as needed to make room for them."""
        sizes: dict[Key, int] = {}
        for g in groups:
            if g.count > 0 and not g.other:
                key = bounded_key(g.error_type, g.error_message)
                sizes[key] = sizes.get(key, 0) + g.count
        if len(sizes) > self.max_keys:
            track = set(heapq.nsmallest(self.max_keys, sizes, key=lambda k: (-sizes[k], *_key_order(k))))
        else:
            track = set(sizes)
        excess = len(self._kid.keys() | track) - self.max_keys
        for kid, key in list(self._key_of.items()):
            if excess <= 0:
                break
            if key not in track:
                self._fold(kid)  # nothing is counted yet: this only forgets the key
                excess -= 1
        return track

    def set_baseline(self, declared_at: datetime, groups: Iterable[TallyGroup]) -> None:
        """The counts per key with ``declared_at - window < time <= declared_at`` (the
        max_keys largest keys; the total of every row)."""
        base: dict[Key, int] = {}
        total = 0
        capped = False
        for g in groups:
            if g.count <= 0:
                continue
            total += g.count
            if g.other:
                capped = True
                continue
            key = bounded_key(g.error_type, g.error_message)
            base[key] = base.get(key, 0) + g.count
            kid = self._kid.get(key)
            if kid is None and len(self._kid) < self.max_keys:
                kid = self._new_kid(key)
            if kid is not None:
                self._seen(kid, to_us(g.first_at) if g.first_at is not None else to_us(g.at))
        if len(base) > self.max_keys:
            kept = heapq.nsmallest(self.max_keys, base, key=lambda k: (-base[k], *_key_order(k)))
            base = {k: base[k] for k in kept}
            capped = True
        self._baseline = base
        self._baseline_total = total
        self._baseline_capped = capped
        self._baseline_at = declared_at
        start = to_us(declared_at) - self._window_us
        if self._lookback is None or start < self._lookback:
            self._lookback = start

    def clear_baseline(self) -> None:
        self._baseline = None
        self._baseline_total = 0
        self._baseline_capped = False
        self._baseline_at = None

    @property
    def has_baseline(self) -> bool:
        return self._baseline is not None

    # -- incremental updates ----------------------------------------------------------------------
    def advance(self, now: datetime) -> int:
        """Move the window's end to ``now`` (never backwards); returns how many rows left it."""
        now_us = to_us(now)
        if self._now is not None and now_us < self._now:
            now_us = self._now
        self._now = now_us
        start = now_us - self._window_us
        if self._start is not None and start <= self._start:
            return 0
        self._start = start
        left = 0
        edge = self._edge
        pos = self._edge_pos
        end = len(edge)
        while pos < end and edge[pos][0] <= start:
            ts, kid = edge[pos]
            self._bump(kid, ts, -1)
            pos += 1
            left += 1
        if pos > 4096 and pos * 2 > end:
            del edge[:pos]
            pos = 0
        self._edge_pos = pos
        if start >= self._exact_until:
            # The exact region is used up (the full read is overdue): drop whole minutes only.
            for kid in list(self._minutes):
                for minute, n in list(self._minutes.get(kid, {}).items()):
                    if minute + MINUTE_US <= start:
                        self._bump(kid, minute, -n)
                        left += n
                    elif minute < start:
                        self.exact = False
        return left

    def add(self, error_type: str | None, error_message: str | None, at: datetime | None) -> bool:
        """Count one new row; ``False`` (and nothing counted) when it is not in the window."""
        if at is None:
            return False
        ts = to_us(at)
        if not self._in_window(ts):
            return False
        kid = self._kid_for(error_type, error_message)
        self._add(kid, ts, 1)
        self._seen(kid, ts)
        return True

    def replace_tail(self, start: datetime, groups: Iterable[TallyGroup]) -> None:
        """Replace the counts of every row with ``time > start`` by ``groups``: each group's
        ``times``, or (without) ``count`` rows at exactly ``at``.

        ``start`` never moves back: rows between the previous tail's start and ``start`` keep the
        counts the previous tail gave them.
        """
        start_us = to_us(start)
        if self._tail_start is not None and start_us < self._tail_start:
            start_us = self._tail_start
        for (kid, ts), n in self._tail.items():
            if ts > start_us and self._in_window(ts):
                self._sub(kid, ts, n)
        self._tail = {}
        for g in groups:
            if g.count <= 0:
                continue
            kid = OTHER if g.other else self._kid_for(g.error_type, g.error_message)
            times = [(to_us(t), 1) for t in g.times] if g.times else [(to_us(g.at), g.count)]
            for ts, n in times:
                if ts <= start_us:
                    continue
                self._tail[(kid, ts)] = self._tail.get((kid, ts), 0) + n
                if self._in_window(ts):
                    self._add(kid, ts, n)
                self._seen(kid, ts)
        self._tail_start = start_us

    @property
    def tail_start(self) -> datetime | None:
        return None if self._tail_start is None else from_us(self._tail_start)

    def needs_full_read(self, next_now: datetime) -> bool:
        """Would the window's start pass the exact region by ``next_now``?"""
        return not self.loaded or to_us(next_now) - self._window_us >= self._exact_until

    # -- reading ----------------------------------------------------------------------------------
    def count(self, error_type: str | None, error_message: str | None) -> int:
        kid = self._kid.get(bounded_key(error_type, error_message))
        return 0 if kid is None else self._counts.get(kid, 0)

    def counts(self) -> dict[Key, int]:
        """Every tracked key with rows in the window and its count (for tests and the probe)."""
        return {self._key_of[kid]: n for kid, n in self._counts.items() if kid != OTHER}

    @property
    def total(self) -> int:
        return self._total

    @property
    def other(self) -> int:
        """Rows in the window counted in "other" (keys not tracked one by one)."""
        return self._counts.get(OTHER, 0)

    @property
    def tracked(self) -> int:
        """How many keys are tracked one by one (at most ``max_keys``)."""
        return len(self._kid)

    def _order(self, kid: int) -> tuple[int, bool, str, bool, str]:
        return (-self._counts[kid], *_key_order(self._key_of[kid]))

    def _top_kids(self, limit: int) -> list[int]:
        return heapq.nsmallest(limit, (k for k in self._counts if k != OTHER), key=self._order)

    def top(self, limit: int | None = None) -> list[tuple[Key, int]]:
        """The top keys by count, ties by error_type then error_message (NULLs last, code points)."""
        return [(self._key_of[k], self._counts[k]) for k in self._top_kids(limit or self.limit)]

    def snapshot(
        self,
        fetched_at: datetime,
        *,
        mode: Literal["id", "time"] = "id",
        full_read: bool = False,
        watermark: int | None = None,
        pending_ids: int = 0,
        db_ms: float = 0.0,
        baseline_error: str = "",
        notes: tuple[str, ...] = (),
        provisional: bool = False,
    ) -> TallySnapshot:
        """The pane's data now. ``delta_poll`` counts from the previous snapshot, unless that one
        was ``provisional`` (taken before the end of its poll: the next counts from the one before)."""
        if self._now is None or self._start is None:
            raise RuntimeError("snapshot() before load()")
        now, start = self._now, self._start
        first_minute = start - start % MINUTE_US
        last_minute = now - now % MINUTE_US
        minute_keys = list(range(first_minute, last_minute + 1, MINUTE_US))
        minutes = tuple(from_us(m) for m in minute_keys)
        totals = tuple((from_us(m), self._totals.get(m, 0)) for m in minute_keys)
        base = self._baseline
        rows = []
        for kid in self._top_kids(self.limit):
            key = self._key_of[kid]
            t, m = key
            n = self._counts[kid]
            mins = self._minutes.get(kid, {})
            first = self._first.get(kid)
            delta_declared, is_new = self._since_declared(key, n)
            rows.append(
                TallyRow(
                    key=row_key(t, m),
                    error_type=clean_or_null(t, 120),
                    error_message=clean_or_null(m, 500),
                    count=n,
                    delta_poll=0 if self._prev is None else n - self._prev.get(kid, 0),
                    delta_declared=delta_declared,
                    per_minute=tuple(mins.get(mk, 0) for mk in minute_keys),
                    first_seen=None if first is None else from_us(first),
                    is_new=is_new,
                )
            )
        if not provisional:
            self._prev = dict(self._counts)
        baseline_rows: tuple[tuple[str, str, int], ...] = ()
        if base:
            top = heapq.nsmallest(self.limit, base, key=lambda k: (-base[k], *_key_order(k)))
            baseline_rows = tuple((clean_or_null(k[0], 120), clean_or_null(k[1], 500), base[k]) for k in top)
        complete = [c for _, c in totals[:-1]]
        return TallySnapshot(
            fetched_at=fetched_at,
            as_of=from_us(now),
            window=self.window,
            window_start=from_us(start),
            limit=self.limit,
            rows=tuple(rows),
            total=self._total,
            distinct=len(self._counts) - (OTHER in self._counts),
            minutes=minutes,
            totals_per_minute=totals,
            trend=trend_of(complete),
            declared_at=self._baseline_at,
            baseline_total=None if base is None else self._baseline_total,
            baseline_error=baseline_error,
            lookback_start=None if self._lookback is None else from_us(self._lookback),
            exact=self.exact,
            mode=mode,
            resynced_at=self.loaded_at,
            full_read=full_read,
            watermark=watermark,
            pending_ids=pending_ids,
            db_ms=db_ms,
            notes=notes,
            baseline_rows=baseline_rows,
            other=self.other,
        )

    def _since_declared(self, key: Key, n: int) -> tuple[int | None, bool | None]:
        """(count now minus at the declaration, new since the declaration) for a key; unknown
        without a declaration, or for a key the capped declaration's window does not list."""
        base = self._baseline
        if base is None:
            return None, None
        if key in base:
            return n - base[key], False
        if self._baseline_capped:
            return None, None
        return n, True
