"""Durations and times as people read and write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from warroom.durations import (
    DurationError,
    clock_time,
    describe_duration,
    format_duration,
    iso_utc,
    local,
    parse_duration,
    parse_utc,
    stamp,
    utc,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        (" 2 h ", timedelta(hours=2)),
        ("90s", timedelta(seconds=90)),
        ("250ms", timedelta(milliseconds=250)),
        ("1.5h", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("5min", timedelta(minutes=5)),
        ("10sec", timedelta(seconds=10)),
        ("15M", timedelta(minutes=15)),
        ("0", timedelta(0)),
        ("Immediate", timedelta(0)),
        ("immediately", timedelta(0)),
        (90, timedelta(seconds=90)),
        (0.5, timedelta(milliseconds=500)),
        (0, timedelta(0)),
    ],
)
def test_parse_duration(text: str | int | float, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "expected a duration like '15m' or '1h30m', got 'soon'"),
        ("", "expected a duration like '15m' or '1h30m', got ''"),
        ("15", "expected a duration like '15m' or '1h30m', got '15'"),
        ("1h30", "expected a duration like '15m' or '1h30m', got '1h30'"),
        ("-5m", "expected a duration like '15m' or '1h30m', got '-5m'"),
        ("5 hours", "expected a duration like '15m' or '1h30m', got '5 hours'"),
        ("1e3s", "expected a duration like '15m' or '1h30m', got '1e3s'"),
        (True, "expected a duration like '15m' or '1h30m', got True"),
        (None, "expected a duration like '15m' or '1h30m', got None"),
        ([15], "expected a duration like '15m' or '1h30m', got [15]"),
        (-1, "expected a duration of zero or more, got -1"),
        (float("nan"), "expected a duration of zero or more, got nan"),
        (float("inf"), "expected a duration of at most 999999999 days, got inf"),
        (1e20, "expected a duration of at most 999999999 days, got 1e+20"),
        ("99999999999d", "expected a duration of at most 999999999 days, got '99999999999d'"),
    ],
)
def test_parse_duration_errors(value: object, message: str) -> None:
    with pytest.raises(DurationError) as exc:
        parse_duration(value)  # type: ignore[arg-type]
    assert str(exc.value) == message
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=12), "12s"),
        (timedelta(minutes=4, seconds=5), "4m 05s"),
        (timedelta(minutes=20, seconds=17), "20m 17s"),
        (timedelta(hours=1, minutes=5, seconds=3), "1h 05m"),
        (timedelta(days=2, hours=3), "2d 03h"),
        (-timedelta(minutes=6, seconds=30), "-6m 30s"),
        (-timedelta(hours=2), "-2h 00m"),
        (timedelta(seconds=59.9), "59s"),
    ],
)
def test_format_duration_is_one_format_everywhere(td: timedelta, text: str) -> None:
    assert format_duration(td) == text


@pytest.mark.parametrize(
    ("td", "words"),
    [
        (timedelta(0), "immediate"),
        (timedelta(minutes=15), "15 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=1, minutes=30), "1 h 30 min"),
        (timedelta(days=2), "2 d"),
        (timedelta(seconds=90), "1 min 30 s"),
        (timedelta(milliseconds=200), "200 ms"),
        (timedelta(seconds=1, milliseconds=500), "1 s 500 ms"),
        (timedelta(hours=48), "2 d"),
    ],
)
def test_describe_duration(td: timedelta, words: str) -> None:
    assert describe_duration(td) == words


def test_describe_round_trips_through_parse() -> None:
    for td in (timedelta(minutes=15), timedelta(hours=1, minutes=30), timedelta(milliseconds=200)):
        words = describe_duration(td).replace(" ", "")
        assert parse_duration(words) == td


def test_utc_and_iso() -> None:
    naive = datetime(2026, 11, 26, 23, 53, 10)
    assert utc(naive) == datetime(2026, 11, 26, 23, 53, 10, tzinfo=UTC)
    berlin = datetime(2026, 11, 27, 0, 53, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    assert utc(berlin) == datetime(2026, 11, 26, 23, 53, 10, tzinfo=UTC)
    assert utc(berlin).tzinfo == UTC
    stamp_text = iso_utc(berlin.replace(microsecond=123456))
    assert stamp_text == "2026-11-26T23:53:10.123456Z"
    assert parse_utc(stamp_text) == datetime(2026, 11, 26, 23, 53, 10, 123456, tzinfo=UTC)
    assert parse_utc("2026-11-26T23:53:10+01:00") == datetime(2026, 11, 26, 22, 53, 10, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_utc("yesterday")


def test_local_display() -> None:
    at = datetime(2026, 11, 26, 23, 53, 10, tzinfo=UTC)
    berlin = ZoneInfo("Europe/Berlin")
    assert local(at, berlin).hour == 0
    assert clock_time(at, berlin) == "00:53:10 CET"
    assert clock_time(at, berlin, seconds=False) == "00:53 CET"
    assert stamp(at, berlin) == "2026-11-27 00:53 CET"
    assert stamp(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), berlin) == "2026-07-01 14:00 CEST"
    assert stamp(at, timezone(timedelta(hours=-5), "EST")) == "2026-11-26 18:53 EST"
