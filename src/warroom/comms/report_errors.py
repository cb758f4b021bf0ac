"""The report's figures of errors: errors per minute at declaration, at the peak and at
resolution (each as recorded then, not a total of an hour that overlaps the next), the sparkline of
the whole incident joined from every record's per-minute series, and the top errors of the hour
before the peak. Records are read with :func:`warroom.comms.evidence.read_errors`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from warroom.comms.context import human_duration
from warroom.comms.evidence import (
    AT_DECLARATION,
    ERRORS_SOURCE,
    PEAK,
    TALLY_LABELS,
    TALLY_TITLES,
    ErrorsRecord,
    incident_series,
    rate_text,
    read_errors,
    spark,
)
from warroom.incident import events as ev
from warroom.incident.state import Incident


@dataclass(frozen=True)
class RateRow:
    title: str  # "At declaration"
    per_minute: str  # "1,234", "0.4", "not recorded"
    recorded: str  # "15:00 CET" or "—"


@dataclass(frozen=True)
class TallyRow:
    count: str  # "1,234"
    type: str
    message: str


@dataclass(frozen=True)
class TallyBlock:
    label: str  # "at declaration"
    title: str  # "At declaration"
    recorded: str  # "15:00 CET" or ""
    window: str  # "60 min"
    total: str  # "1,234"
    rows: list[TallyRow] = field(default_factory=list)
    note: str = ""  # why there is nothing to show


def _evidence_of(incident: Incident) -> list[tuple[ev.Event, ev.EvidenceRecorded]]:
    ordered = sorted(incident.events, key=lambda e: e.at)  # stable: folded order breaks ties
    return [
        (e, e.body)
        for e in ordered
        if isinstance(e.body, ev.EvidenceRecorded) and e.body.source == ERRORS_SOURCE
    ]


def errors_records(incident: Incident) -> list[tuple[ev.Event, ErrorsRecord | str]]:
    return [(e, read_errors(b)) for e, b in _evidence_of(incident)]


MEAN_SPAN = 5  # minutes: errors per minute are recorded as the mean of the 5 before (live.rate_before)


def series_peak(
    records: list[tuple[ev.Event, ErrorsRecord | str]], declared: datetime, end: datetime
) -> tuple[datetime, float] | None:
    """The highest mean of ``MEAN_SPAN`` complete, measured minutes ending after the declaration
    and by ``end``, from the per-minute series recorded (the peak a mean recorded live can miss: it
    is recorded only when it rises 10 % above the last one), and when that window ended."""
    readable = [r for _, r in records if isinstance(r, ErrorsRecord)]
    minutes = incident_series(readable, declared - timedelta(minutes=MEAN_SPAN), end)
    best: tuple[datetime, float] | None = None
    for i in range(MEAN_SPAN - 1, len(minutes)):
        window = minutes[i - MEAN_SPAN + 1 : i + 1]
        counts = [n for _, n in window if n is not None]
        at = window[-1][0] + timedelta(minutes=1)
        if len(counts) < MEAN_SPAN or at <= declared or at > end:
            continue
        mean = sum(counts) / MEAN_SPAN
        if best is None or mean > best[1]:
            best = (at, mean)
    return best


def rates(
    records: list[tuple[ev.Event, ErrorsRecord | str]],
    when: Callable[[datetime], str],
    declared: datetime | None = None,
    end: datetime | None = None,
) -> tuple[list[RateRow], TallyBlock | None]:
    """Errors per minute at declaration, at the peak (the highest recorded, or the highest mean of
    the per-minute series between ``declared`` and ``end`` when that is higher) and at resolution;
    and the top errors of the hour before the recorded peak (else the declaration)."""
    picked: dict[str, tuple[ev.Event, ErrorsRecord | str]] = {}
    for event, rec in records:
        label = rec.label if isinstance(rec, ErrorsRecord) else _label_of(event)
        if label not in TALLY_LABELS:
            continue
        if label == PEAK and PEAK in picked:
            prev = picked[PEAK][1]
            if isinstance(prev, ErrorsRecord) and (
                not isinstance(rec, ErrorsRecord) or _height(rec) < _height(prev)
            ):
                continue
        picked[label] = (event, rec)
    rows = []
    for label in TALLY_LABELS:
        title = TALLY_TITLES[label]
        if label not in picked:
            rows.append(RateRow(title, "not recorded", "—"))
            continue
        event, rec = picked[label]
        recorded = when(event.at)
        if isinstance(rec, str):
            rows.append(RateRow(title, f"cannot be read ({rec})", recorded))
        elif rec.per_minute is None:
            window = human_duration(timedelta(minutes=rec.window_minutes))
            rows.append(RateRow(title, f"not recorded ({rec.total:,} in the {window} before)", recorded))
        else:
            rows.append(RateRow(title, rate_text(rec.per_minute), recorded))
    from_series = False
    if declared is not None and end is not None:
        peak = series_peak(records, declared, end)
        i = list(TALLY_LABELS).index(PEAK)
        recorded_peak = picked.get(PEAK, (None, None))[1]
        if peak is not None and (
            not isinstance(recorded_peak, ErrorsRecord)
            or recorded_peak.per_minute is None
            or peak[1] > recorded_peak.per_minute
        ):
            rows[i] = RateRow(TALLY_TITLES[PEAK], rate_text(peak[1]), when(peak[0]))
            from_series = True
    top = None
    for label in (PEAK, AT_DECLARATION):
        if label in picked and isinstance(picked[label][1], ErrorsRecord):
            event, rec = picked[label]
            assert isinstance(rec, ErrorsRecord)
            if rec.rows:
                top = TallyBlock(
                    label,
                    ("the highest tally recorded" if from_series else "the peak")
                    if label == PEAK
                    else "the declaration",
                    when(event.at),
                    human_duration(timedelta(minutes=rec.window_minutes)),
                    f"{rec.total:,}",
                    [TallyRow(f"{n:,}", t, m) for t, m, n in rec.rows],
                )
                break
    return rows, top


def _label_of(event: ev.Event) -> str:
    return event.body.label if isinstance(event.body, ev.EvidenceRecorded) else ""


def _height(rec: ErrorsRecord) -> float:
    return rec.per_minute if rec.per_minute is not None else rec.total / rec.window_minutes


LEAD_UP = timedelta(minutes=30)  # the sparkline starts this long before the declaration, if measured


def sparkline_text(
    records: list[tuple[ev.Event, ErrorsRecord | str]],
    declared: datetime,
    end: datetime,
    when: Callable[[datetime], str],
) -> str:
    """``Errors per minute from 14:45 CET to 15:40 CET (declared 15:00 CET; ...)`` and the
    sparkline (the lead-up to the declaration too: a spike starts before it is declared), or why
    there is none."""
    readable = [r for _, r in records if isinstance(r, ErrorsRecord)]
    minutes = incident_series(readable, declared - LEAD_UP, end)
    known = [(at, n) for at, n in minutes if n is not None]
    if not known:
        return "No errors per minute were recorded during the incident."
    # From the first minute measured to the last.
    minutes = minutes[minutes.index(known[0]) : minutes.index(known[-1]) + 1]
    line, per = spark([n for _, n in minutes])
    high_at, high = max(known, key=lambda p: p[1])
    mark = "one mark per minute" if per == 1 else f"one mark per {per} minutes, the highest of them"
    gaps = ", a space where nothing was measured" if len(known) < len(minutes) else ""
    return (
        f"Errors per minute from {when(minutes[0][0])} to {when(minutes[-1][0])} (declared {when(declared)}; "
        f"{mark}{gaps}; the highest, {high:,}, at {when(high_at)}):\n\n`{line}`"
    )
