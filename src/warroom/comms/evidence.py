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
from datetime import datetime, timedelta

from warroom.comms.context import ErrorLine
from warroom.durations import describe_duration
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
