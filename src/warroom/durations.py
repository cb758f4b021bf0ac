"""Durations and times as people read and write them: ``15m``, ``1h30m``, ``23:53:10 CET``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "sec": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h|d)\s*")


_MAX_DAYS = 999_999_999  # timedelta's limit


def utc_now() -> datetime:
    """Now, as an aware UTC datetime: the one clock everything defaults to (tests inject theirs)."""
    return datetime.now(UTC)


class DurationError(ValueError):
    """A duration string that could not be read."""


def parse_duration(text: str | int | float) -> timedelta:
    """Read ``90s``, ``15m``, ``1h30m``, ``2h``, ``1d`` (or plain seconds as a number)."""
    if isinstance(text, bool):
        raise DurationError(f"expected a duration like '15m' or '1h30m', got {text!r}")
    if isinstance(text, int | float):
        if not text >= 0:  # also refuses NaN
            raise DurationError(f"expected a duration of zero or more, got {text!r}")
        try:
            return timedelta(seconds=text)
        except OverflowError:
            raise DurationError(f"expected a duration of at most {_MAX_DAYS} days, got {text!r}") from None
    if not isinstance(text, str):
        raise DurationError(f"expected a duration like '15m' or '1h30m', got {text!r}")
    s = text.strip().lower()
    if s in {"0", "immediate", "immediately"}:
        return timedelta(0)
    pos = 0
    total = timedelta(0)
    matched = False
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            raise DurationError(f"expected a duration like '15m' or '1h30m', got {text!r}")
        try:
            total += float(m.group(1)) * _UNITS[m.group(2)]
        except OverflowError:
            raise DurationError(f"expected a duration of at most {_MAX_DAYS} days, got {text!r}") from None
        pos = m.end()
        matched = True
    if not matched:
        raise DurationError(f"expected a duration like '15m' or '1h30m', got {text!r}")
    return total


def format_duration(td: timedelta) -> str:
    """The one way warroom writes an elapsed or remaining time: ``45s``, ``20m 17s``, ``1h 05m``,
    ``2d 03h`` (two units at most, the second zero-padded). Negative gets a ``-``."""
    total = int(td.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {seconds:02d}s"
    return f"{sign}{seconds}s"


def describe_duration(td: timedelta) -> str:
    """A duration as words for config echo and help: ``15 min``, ``1 h``, ``1 h 30 min``, ``2 d``.

    Sub-second parts are kept (``200 ms``), so a lower bound like 200 ms is not called "immediate".
    """
    total_ms = round(td / timedelta(milliseconds=1))
    if total_ms == 0:
        return "immediate"
    parts = []
    total, millis = divmod(total_ms, 1000)
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    if seconds:
        parts.append(f"{seconds} s")
    if millis:
        parts.append(f"{millis} ms")
    return " ".join(parts)


def utc(dt: datetime) -> datetime:
    """``dt`` as an aware UTC datetime (naive datetimes are taken to be UTC)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_utc(text: str) -> datetime:
    """Read an ISO-8601 timestamp written by :func:`iso_utc`."""
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def iso_utc(dt: datetime) -> str:
    """``2026-11-26T23:53:10.123456Z``: the journal's timestamp form."""
    return utc(dt).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local(dt: datetime, tz: tzinfo | None = None) -> datetime:
    """``dt`` in the display time zone (the machine's local zone unless given)."""
    return utc(dt).astimezone(tz)


def clock_time(dt: datetime, tz: tzinfo | None = None, *, seconds: bool = True) -> str:
    """``23:53:10 CET``: local time with its zone."""
    d = local(dt, tz)
    fmt = "%H:%M:%S %Z" if seconds else "%H:%M %Z"
    return d.strftime(fmt)


def stamp(dt: datetime, tz: tzinfo | None = None) -> str:
    """``2026-11-26 23:53 CET``: local date and time with its zone."""
    return local(dt, tz).strftime("%Y-%m-%d %H:%M %Z")
