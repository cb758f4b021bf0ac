"""The evidence the console keeps for the report: journal events written while the incident runs.

Error tallies are ``EvidenceRecorded(source="errors", label=<label>, data=<JSON>, summary=<one
line>)`` with ``label`` one of :data:`TALLY_LABELS` and ``data``::

    {"window_minutes": 60,
     "rows": [{"type": "TimeoutError", "message": "pool exhausted", "count": 812}, ...],
     "total": 1234,
     "per_minute": 41.2,
     "series": [["2026-11-26T14:00:00Z", 12], ...]}

``rows`` is the playbook's top-errors query (largest first), ``total`` every error in the window
(may exceed the sum of the rows), ``per_minute`` the errors per minute at that moment (the mean of
the last complete minutes), ``series`` the errors of each minute of the window, oldest first: the
report joins the series of every record into one sparkline of the whole incident. A record
labelled :data:`SERIES` carries only the series (written every :data:`SERIES_EVERY` so a long
incident has no gap). Older records may lack ``per_minute`` and ``series``.

A suspected deploy is ``EvidenceRecorded(source="deploy", label="suspected", data=<the
correlation's as_dict()>, summary=<its sentence>)``, written when it is first suspected.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.comms.context import ErrorLine
from warroom.durations import describe_duration, parse_utc
from warroom.incident import events as ev
from warroom.text import clean

ERRORS_SOURCE = "errors"
DEPLOY_SOURCE = "deploy"
AT_DECLARATION = "at declaration"
PEAK = "peak"
AT_RESOLUTION = "at resolution"
TALLY_LABELS = (AT_DECLARATION, PEAK, AT_RESOLUTION)
TALLY_TITLES = {AT_DECLARATION: "At declaration", PEAK: "At peak", AT_RESOLUTION: "At resolution"}
SERIES = "series"
SERIES_EVERY = timedelta(minutes=30)


def _series_json(series: Sequence[tuple[datetime, int]] | None) -> list[list[object]]:
    return [[at.strftime("%Y-%m-%dT%H:%M:%SZ"), int(n)] for at, n in series or ()]


def errors_evidence(
    label: str,
    rows: Sequence[ErrorLine],
    *,
    window: timedelta,
    total: int | None = None,
    per_minute: float | None = None,
    series: Sequence[tuple[datetime, int]] | None = None,
) -> ev.EvidenceRecorded:
    """The event that records an error tally for the report (label: see TALLY_LABELS)."""
    if label not in TALLY_LABELS:
        raise ValueError(f"unknown tally label {label!r} (expected one of {', '.join(TALLY_LABELS)})")
    clean_rows = [
        {"type": clean(r.type, max_len=200), "message": clean(r.message, max_len=300), "count": int(r.count)}
        for r in rows
    ]
    n = int(total) if total is not None else sum(r["count"] for r in clean_rows)
    minutes = max(1, int(window.total_seconds() // 60))
    data: dict[str, object] = {"window_minutes": minutes, "rows": clean_rows, "total": n}
    if per_minute is not None:
        data["per_minute"] = round(float(per_minute), 1)
    if series:
        data["series"] = _series_json(series)
    summary = f"{n:,} errors in the last {describe_duration(timedelta(minutes=minutes))}"
    if per_minute is not None:
        summary = f"{per_minute:,.0f} errors/min; " + summary
    if clean_rows:
        top = clean_rows[0]
        summary += f"; top: {top['type']} ({top['count']:,})"
    return ev.EvidenceRecorded(
        source=ERRORS_SOURCE, label=label, data=json.dumps(data, ensure_ascii=False), summary=summary
    )


def series_evidence(series: Sequence[tuple[datetime, int]]) -> ev.EvidenceRecorded:
    """The errors of each minute of the window, for the report's sparkline of the incident."""
    data = {"series": _series_json(series)}
    return ev.EvidenceRecorded(source=ERRORS_SOURCE, label=SERIES, data=json.dumps(data), summary="")


# -- reading the records back (the report) -----------------------------------------------------------


@dataclass(frozen=True)
class ErrorsRecord:
    """One error tally read back from the journal: its errors per minute when it was recorded
    (None in older records), the top rows and total of its window, and its per-minute series."""

    label: str
    window_minutes: int
    rows: tuple[tuple[str, str, int], ...]  # (type, message, count), cleaned
    total: int
    per_minute: float | None
    series: tuple[tuple[datetime, int], ...]


def read_errors(body: ev.EvidenceRecorded) -> ErrorsRecord | str:
    """The record, or why it cannot be read (one line)."""
    try:
        data = json.loads(body.data)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg})"
    except (ValueError, RecursionError):  # a number of 5,000 digits; nesting 100,000 deep
        return "not JSON a tally can hold"
    if not isinstance(data, dict):
        return "not a JSON object"
    window = data.get("window_minutes", 60)
    rows_raw = data.get("rows", [])
    if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
        return "window_minutes is not a positive whole number"
    if not isinstance(rows_raw, list):
        return "rows is not a list"
    rows = []
    for r in rows_raw:
        if not isinstance(r, dict):
            return "a row is not an object"
        count = r.get("count", 0)
        if not isinstance(count, int) or isinstance(count, bool):
            return "a row's count is not a whole number"
        rows.append((clean(r.get("type", ""), max_len=200), clean(r.get("message", ""), max_len=300), count))
    total = data.get("total", sum(n for _, _, n in rows))
    if not isinstance(total, int) or isinstance(total, bool):
        return "total is not a whole number"
    rate = data.get("per_minute")
    per_minute = float(rate) if isinstance(rate, int | float) and not isinstance(rate, bool) else None
    if per_minute is not None and not per_minute >= 0:  # NaN and negatives are not a rate
        per_minute = None
    return ErrorsRecord(body.label, window, tuple(rows), total, per_minute, _read_series(data.get("series")))


def _read_series(raw: object) -> tuple[tuple[datetime, int], ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw[:100_000]:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            continue
        n = item[1]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            continue
        try:
            at = parse_utc(item[0])
        except ValueError:
            continue
        out.append((at.replace(second=0, microsecond=0), n))
    return tuple(out)


def incident_series(
    records: Sequence[ErrorsRecord], start: datetime, end: datetime
) -> list[tuple[datetime, int | None]]:
    """The errors of each minute from ``start`` to ``end`` joined from every record's series (a
    later record's count of a minute wins: the earlier one may have read it half-way); None for a
    minute no record covers."""
    minutes: dict[datetime, int] = {}
    for r in records:
        minutes.update(r.series)
    first = start.replace(second=0, microsecond=0)
    out: list[tuple[datetime, int | None]] = []
    at = first
    while at <= end and len(out) < 60 * 24 * 31:
        out.append((at, minutes.get(at)))
        at += timedelta(minutes=1)
    return out


SPARK = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 120  # at most this many marks: a longer incident gets several minutes a mark


def spark(values: Sequence[int | None], width: int = SPARK_WIDTH) -> tuple[str, int]:
    """A sparkline of ``values`` (None: not measured, a space) at most ``width`` marks long, each
    mark the highest of its minutes; returns it and the minutes per mark."""
    if not values:
        return "", 1
    per = max(1, -(-len(values) // width))
    buckets: list[int | None] = []
    for i in range(0, len(values), per):
        known = [v for v in values[i : i + per] if v is not None]
        buckets.append(max(known) if known else None)
    top = max((b for b in buckets if b is not None), default=0)
    marks = []
    for b in buckets:
        if b is None:
            marks.append(" ")
        elif top <= 0:
            marks.append(SPARK[0])
        else:
            marks.append(SPARK[min(len(SPARK) - 1, b * len(SPARK) // (top + 1))])
    return "".join(marks), per


def rate_text(per_minute: float) -> str:
    """Errors per minute as the report writes them: ``1,234``, ``41``, ``0.4``."""
    return f"{per_minute:,.0f}" if per_minute >= 10 or per_minute == 0 else f"{per_minute:.1f}"
