"""The playbook's resolution criterion "error rate < 1% for 30 minutes", judged from the error-rate
query's rows: exactly from a per-minute series (:func:`rate_from_series`), or approximately from
polls of a team's query that returns one number (:class:`RateTracker`). Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from warroom.durations import describe_duration
from warroom.sources.dbpoll import Criterion, ErrorRateSnapshot, RateMinute
from warroom.sources.tallies import floor_minute


def rate_from_series(
    minutes: Iterable[RateMinute],
    *,
    now: datetime,
    lookback: timedelta,
    threshold: float,
    sustain: timedelta,
    fetched_at: datetime,
) -> ErrorRateSnapshot:
    """Judge the criterion from per-minute counts covering ``(now - lookback, now]``.

    Walking back from the current minute, the run of minutes below the threshold ends at the
    latest minute with a rate at or above it. Minutes without traffic neither break the run nor
    prove it: a run of only such minutes is ``unknown``. A run reaching the start of the data is
    "below since at least then".
    """
    by_minute = {floor_minute(m.minute): m for m in minutes}
    series = tuple(by_minute[k] for k in sorted(by_minute))
    current_minute = floor_minute(now)
    first = floor_minute(now - lookback)
    current = next((m.rate for m in reversed(series) if m.rate is not None), None)
    below_since: datetime | None = None
    traffic = False
    m = current_minute
    broke = False
    while m >= first:
        row = by_minute.get(m)
        rate = row.rate if row is not None else None
        if rate is not None and rate >= threshold:
            broke = True
            break
        if rate is not None:
            traffic = True
        below_since = m
        m -= timedelta(minutes=1)

    def snapshot(
        below_since: datetime | None, below_for: timedelta | None, criterion: Criterion, summary: str
    ) -> ErrorRateSnapshot:
        return ErrorRateSnapshot(
            fetched_at, threshold, sustain, "series", current, series, below_since, True, below_for,
            criterion, summary,
        )  # fmt: skip

    if broke and below_since is None:
        return snapshot(
            None,
            None,
            "not met",
            f"error rate {current:.2f}% (threshold {threshold:g}%)"
            if current is not None
            else f"error rate at or above {threshold:g}%",
        )
    assert below_since is not None
    below_for = max(timedelta(0), now - below_since)
    at_least = "" if broke else "at least "
    if not traffic:
        criterion: Criterion = "unknown"
        summary = f"no traffic for {at_least}{_for_text(below_for)}: rate unknown"
    elif below_for >= sustain:
        criterion = "met"
        summary = f"below {threshold:g}% for {at_least}{_for_text(below_for)}"
    else:
        criterion = "not met"
        summary = f"below {threshold:g}% for {_for_text(below_for)} (needs {describe_duration(sustain)})"
    return snapshot(below_since, below_for, criterion, summary)


def _minutes(td: timedelta) -> timedelta:
    return timedelta(minutes=int(td.total_seconds() // 60))


def _for_text(td: timedelta) -> str:
    """How long, in whole minutes: "12 min", "less than a minute" (never "immediate", which is
    what :func:`describe_duration` calls zero)."""
    whole = _minutes(td)
    return describe_duration(whole) if whole else "less than a minute"


class RateTracker:
    """ "Below since" for a team query that returns one number, from the polls themselves.

    Watching starts at the first poll and restarts when polls stop for longer than ``max_gap``
    (the database was unreachable: the rate may have spiked meanwhile).
    """

    def __init__(self, threshold: float, sustain: timedelta, max_gap: timedelta) -> None:
        self.threshold = threshold
        self.sustain = sustain
        self.max_gap = max_gap
        self._watching_since: datetime | None = None
        self._below_since: datetime | None = None
        self._last: datetime | None = None

    def observe(self, value: float | None, at: datetime, fetched_at: datetime) -> ErrorRateSnapshot:
        if self._last is None or at - self._last > self.max_gap or value is None:
            self._watching_since = at
            self._below_since = None
        self._last = at
        t = self.threshold
        if value is None:
            return self._snap(fetched_at, None, None, None, "unknown", "the rate query returned no value")
        if value >= t:
            self._below_since = None
            return self._snap(
                fetched_at, value, None, None, "not met", f"error rate {value:.2f}% (threshold {t:g}%)"
            )
        if self._below_since is None:
            self._below_since = at
        below_for = at - self._below_since
        d = _for_text(below_for)
        d = d if below_for < timedelta(minutes=1) else f"~{d}"  # polls: about, to the minute
        if below_for >= self.sustain:
            return self._snap(fetched_at, value, self._below_since, below_for, "met", f"below {t:g}% for {d}")
        if self._below_since == self._watching_since:
            summary = f"below {t:g}% since watching began {d} ago (not known before)"
            return self._snap(fetched_at, value, self._below_since, below_for, "unknown", summary)
        summary = f"below {t:g}% for {d} (needs {describe_duration(self.sustain)})"
        return self._snap(fetched_at, value, self._below_since, below_for, "not met", summary)

    def _snap(
        self,
        fetched_at: datetime,
        value: float | None,
        since: datetime | None,
        below_for: timedelta | None,
        criterion: Criterion,
        summary: str,
    ) -> ErrorRateSnapshot:
        return ErrorRateSnapshot(
            fetched_at,
            self.threshold,
            self.sustain,
            "single",
            value,
            (),
            since,
            False,
            below_for,
            criterion,
            summary,
        )
