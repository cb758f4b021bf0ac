"""Unit tests of the in-memory tallies (no database): ageing, late rows, tails, ordering, deltas,
the id watermark's gap rules, trend, spike start and the error-rate criterion."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from warroom.sources.dbpoll import RateMinute
from warroom.sources.error_rate import RateTracker, rate_from_series
from warroom.sources.postgres.watermark import Watermark
from warroom.sources.tallies import (
    MESSAGE_CHARS,
    MINUTE_US,
    TYPE_CHARS,
    Tallies,
    TallyGroup,
    ceil_minute,
    floor_minute,
    from_us,
    row_key,
    to_us,
)
from warroom.sources.trend import trend_of
from warroom.text import mask_phone

T0 = datetime(2026, 11, 26, 14, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
S = timedelta(seconds=1)
M = timedelta(minutes=1)


def groups_from_rows(
    rows: list[tuple[str | None, str | None, datetime]],
    *,
    after: datetime,
    upto: datetime | None = None,
    exact_until: datetime | None = None,
) -> list[TallyGroup]:
    """What the error_tally query returns for ``rows`` (its grouping, in Python)."""
    c: Counter[tuple[str | None, str | None, datetime]] = Counter()
    first: dict[tuple[str | None, str | None, datetime], datetime] = {}
    times: dict[tuple[str | None, str | None, datetime], list[datetime]] = {}
    for t, m, at in rows:
        if at <= after or (upto is not None and at > upto):
            continue
        g = (t, m, floor_minute(at))
        c[g] += 1
        first[g] = min(first.get(g, at), at)
        if exact_until is not None and at < exact_until:
            times.setdefault(g, []).append(at)
    return [TallyGroup(t, m, g, n, first[(t, m, g)], times.get((t, m, g))) for (t, m, g), n in c.items()]


def reference(rows: list[tuple[str | None, str | None, datetime]], now: datetime, window: timedelta):
    """The playbook's query over ``rows`` at ``now``: {key: count}."""
    return dict(Counter((t, m) for t, m, at in rows if at > now - window))


def load(tallies: Tallies, rows, now: datetime, resync: timedelta = timedelta(minutes=5)) -> None:
    start = now - tallies.window
    exact_until = ceil_minute(start + resync + M)
    tallies.load(now, groups_from_rows(rows, after=start, exact_until=exact_until), exact_until)


# -- time helpers --------------------------------------------------------------------------------


def test_microsecond_round_trip_and_minutes():
    dt = datetime(2026, 11, 26, 14, 3, 59, 999_999, tzinfo=UTC)
    assert from_us(to_us(dt)) == dt
    assert floor_minute(dt) == datetime(2026, 11, 26, 14, 3, tzinfo=UTC)
    assert ceil_minute(dt) == datetime(2026, 11, 26, 14, 4, tzinfo=UTC)
    assert ceil_minute(T0) == T0
    assert to_us(T0) % MINUTE_US == 0


def test_row_keys_are_stable_distinct_and_opaque():
    assert row_key("a", "b") == row_key("a", "b")
    assert row_key("a", "b") != row_key("a", None)
    assert row_key(None, "x") != row_key("", "x")
    assert "+15550104477" not in row_key("+15550104477", "failed")
    assert len(row_key("x" * 100_000, "y")) == 16


# -- ageing, exactly ----------------------------------------------------------------------------


def test_rows_leave_the_window_one_by_one_at_the_exact_microsecond():
    t = Tallies(HOUR)
    rows = [
        ("E", "boom", T0 - HOUR + timedelta(microseconds=1)),
        ("E", "boom", T0 - HOUR + 10 * S),
        ("E", "boom", T0 - HOUR + 10 * S + timedelta(microseconds=1)),
        ("E", "boom", T0 - 30 * M),
        ("F", "other", T0 - HOUR - S),  # already outside
    ]
    load(t, rows, T0)
    assert t.counts() == reference(rows, T0, HOUR) == {("E", "boom"): 4}
    # The playbook's filter is "occurred_at > now - window": a row exactly at the start is out.
    for now in (T0 + timedelta(microseconds=1), T0 + 10 * S, T0 + 10 * S + timedelta(microseconds=1)):
        t.advance(now)
        assert t.counts() == reference(rows, now, HOUR), now
    assert t.counts() == {("E", "boom"): 1}
    assert t.exact


def test_incremental_equals_the_full_query_through_random_inserts_late_rows_and_ageing():
    rng = random.Random(7)
    keys = [("Timeout", "sms sender"), ("DB", "conn refused"), (None, "no type"), ("DB", None)]
    rows = [(*rng.choice(keys), T0 - timedelta(seconds=rng.uniform(0, 4000))) for _ in range(3000)]
    t = Tallies(HOUR, limit=3)
    load(t, rows, T0)
    now = T0
    for step in range(200):
        now += timedelta(seconds=rng.uniform(0.5, 3))
        t.advance(now)
        for _ in range(rng.randint(0, 20)):
            if rng.random() < 0.1:  # late: an old time, arriving now
                at = now - timedelta(seconds=rng.uniform(0, 3700))
            else:
                at = now - timedelta(seconds=rng.uniform(0, 2))
            row = (*rng.choice(keys), at)
            rows.append(row)
            t.add(*row)
        assert t.counts() == reference(rows, now, HOUR), step
        assert t.total == sum(reference(rows, now, HOUR).values())
    assert t.exact


def test_when_the_full_read_is_overdue_whole_minutes_go_and_the_snapshot_says_inexact():
    t = Tallies(HOUR)
    rows = [("E", "x", T0 - 50 * M + i * S) for i in range(120)]
    load(t, rows, T0, resync=timedelta(minutes=1))  # exact region: only the next ~2 minutes
    assert t.needs_full_read(T0 + 5 * M)
    now = T0 + 10 * M + 30 * S  # 10.5 minutes later, no full read: past the exact region
    t.advance(now)
    snap = t.snapshot(now)
    assert not snap.exact
    # Whole minutes before the window's start are gone; the partial one is kept (overcount).
    assert t.counts()[("E", "x")] >= reference(rows, now, HOUR)[("E", "x")]
    assert t.counts()[("E", "x")] - reference(rows, now, HOUR)[("E", "x")] < 60


def test_a_server_clock_going_back_never_moves_the_window_backwards():
    t = Tallies(HOUR)
    rows = [("E", "x", T0 - HOUR + 5 * S)]
    load(t, rows, T0)
    t.advance(T0 + 10 * S)
    assert t.counts() == {}
    t.advance(T0)  # the server's clock stepped back
    assert t.counts() == {}
    assert not t.add("E", "x", T0 - HOUR + 5 * S)  # still outside


# -- time-column mode: re-read tails never double count -----------------------------------------


def test_overlapping_tail_rereads_count_every_row_once():
    t = Tallies(HOUR)
    overlap = 10 * S
    rows = [("E", "x", T0 - 20 * M)]
    start = T0 - HOUR
    tail_start = T0 - overlap
    exact_until = ceil_minute(start + 6 * M)
    body = groups_from_rows(rows, after=start, upto=tail_start, exact_until=exact_until)
    tail = groups_from_rows(rows, after=tail_start, exact_until=datetime.max.replace(tzinfo=UTC))
    t.load(T0, body, exact_until, tail_start=tail_start, tail=tail)
    now = T0
    for i in range(30):
        now += 2 * S
        rows.append(("E", "x", now - 1 * S))  # arrives normally
        if i % 5 == 0:
            rows.append(("F", "late", now - 8 * S))  # late but within the overlap
        t.advance(now)
        ts = max(now - overlap, t.tail_start or now)
        tail = groups_from_rows(rows, after=ts, exact_until=datetime.max.replace(tzinfo=UTC))
        t.replace_tail(ts, tail)
        assert t.counts() == reference(rows, now, HOUR), i


# -- the snapshot ----------------------------------------------------------------------------------


def test_snapshot_orders_ties_deterministically_with_nulls_last():
    t = Tallies(HOUR, limit=10)
    rows = [
        ("b", "m", T0 - M),
        ("a", "z", T0 - M),
        ("a", "m", T0 - M),
        (None, "m", T0 - M),
        ("a", None, T0 - M),
        ("c", "m", T0 - M),
        ("c", "m", T0 - 2 * M),
    ]
    load(t, rows, T0)
    snap = t.snapshot(T0)
    assert [(r.error_type, r.error_message) for r in snap.rows] == [
        ("c", "m"),
        ("a", "m"),
        ("a", "z"),
        ("a", "(null)"),
        ("b", "m"),
        ("(null)", "m"),
    ]
    assert t.top(2) == [(("c", "m"), 2), (("a", "m"), 1)]


def test_snapshot_deltas_sparkline_first_seen_and_new_errors():
    declared = T0 - 10 * M
    t = Tallies(HOUR, limit=10)
    before = [("Old", "x", T0 - 40 * M + i * S) for i in range(5)]  # before the declaration
    after = [("New", "y", T0 - 5 * M + i * S) for i in range(3)] + [("Old", "x", T0 - 2 * M)]
    rows = before + after
    load(t, rows, T0)
    # The baseline: the window as it stood at the declaration.
    t.set_baseline(declared, groups_from_rows(rows, after=declared - HOUR, upto=declared))
    first = t.snapshot(T0)
    by = {r.error_type: r for r in first.rows}
    assert by["Old"].count == 6 and by["Old"].delta_declared == 1 and by["Old"].is_new is False
    assert by["New"].count == 3 and by["New"].delta_declared == 3 and by["New"].is_new is True
    assert by["Old"].delta_poll == 0  # first snapshot: nothing to compare with
    assert by["New"].first_seen == T0 - 5 * M
    assert by["Old"].first_seen == T0 - 40 * M
    assert first.lookback_start == declared - HOUR
    assert first.baseline_total == 5
    # Sparkline: one value per minute from the window's start to now.
    assert len(first.minutes) == 61 and first.minutes[0] == T0 - HOUR and first.minutes[-1] == T0
    spark = dict(zip(first.minutes, by["New"].per_minute, strict=True))
    assert spark[T0 - 5 * M] == 3 and sum(by["New"].per_minute) == 3
    totals = dict(first.series())
    assert totals[T0 - 40 * M] == 5 and totals[T0 - 2 * M] == 1 and sum(totals.values()) == 9
    # A later poll: the delta since the previous one.
    now = T0 + 3 * S
    t.advance(now)
    t.add("New", "y", now - S)
    t.add("New", "y", now - S)
    second = t.snapshot(now)
    by2 = {r.error_type: r for r in second.rows}
    assert by2["New"].delta_poll == 2 and by2["Old"].delta_poll == 0
    assert by2["New"].key == by["New"].key


def test_a_provisional_snapshot_leaves_the_polls_deltas_to_the_final_one():
    """A poll shows the tallies after its full read and again after the declaration baseline: the
    second snapshot's delta_poll still counts from the previous poll, not from the first."""
    t = Tallies(HOUR, limit=10)
    load(t, [("E", "x", T0 - M)], T0)
    t.snapshot(T0)  # the previous poll
    now = T0 + 2 * S
    t.advance(now)
    t.add("E", "x", now - S)
    early = t.snapshot(now, provisional=True)
    t.set_baseline(T0 - 10 * M, [])
    final = t.snapshot(now)
    assert early.rows[0].delta_poll == 1 and final.rows[0].delta_poll == 1
    assert t.snapshot(now).rows[0].delta_poll == 0  # and the poll after counts from the final one


def test_snapshot_cleans_every_string_from_the_data():
    t = Tallies(HOUR)
    hostile = "\x1b]0;pwned\x07\x1b[31mred\x1b[0m [bold]markup[/bold]\rback\x08\u202eevil" + "x" * 100_000
    load(t, [(hostile, hostile, T0 - M)], T0)
    row = t.snapshot(T0).rows[0]
    for text in (row.error_type, row.error_message):
        assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text)
        assert "\u202e" not in text and "pwned" not in text
        assert "[bold]markup[/bold]" in text
        assert text.endswith("…")
    assert len(row.error_type) <= 120 and len(row.error_message) <= 500


def test_snapshot_without_a_declaration_has_no_declaration_fields():
    t = Tallies(HOUR)
    load(t, [("E", "x", T0 - M)], T0)
    row = t.snapshot(T0).rows[0]
    assert row.delta_declared is None and row.is_new is None


# -- trend and spike start ----------------------------------------------------------------------------


def series(counts: list[int]) -> list[tuple[datetime, int]]:
    return [(T0 - (len(counts) - i) * M, c) for i, c in enumerate(counts)]


def test_trend():
    assert trend_of([10] * 10).direction == "steady"
    up = trend_of([10] * 5 + [40] * 5)
    assert up.direction == "increasing" and up.change_pct == pytest.approx(300.0)
    assert up.describe() == "increasing +300% (40/min, was 10/min)"
    down = trend_of([40] * 5 + [10] * 5)
    assert down.direction == "decreasing" and down.change_pct == pytest.approx(-75.0)
    assert trend_of([0] * 5 + [3] * 5).describe().startswith("increasing new")
    assert trend_of([1] * 5 + [1.2] * 5).direction == "steady"  # type: ignore[list-item]
    assert trend_of([]).direction == "steady"


def test_watermark_gaps_are_rechecked_until_no_transaction_can_hold_them():
    w = Watermark()
    w.reset(high=10, visible=[6, 7, 9, 10], lookback=5, xmax=100)
    assert w.recheck_ids() == [8]  # 8 was in flight (or rolled back) during the full read
    new, ok = w.accept([8, 11, 13], xmin_before=90)
    assert new == {8, 11, 13} and ok
    assert w.high == 13 and w.recheck_ids() == [12]  # 12 noticed now, horizon not known yet
    w.note_xmax(120)
    new, _ = w.accept([], xmin_before=119)  # transactions that could hold 12 still running
    assert new == set() and w.recheck_ids() == [12]
    new, _ = w.accept([], xmin_before=120)  # all of them have ended: 12 will never show up
    assert w.recheck_ids() == []
    # A row coming back twice is counted once; an id at or below the watermark that was not a
    # gap is not new.
    new, _ = w.accept([14, 14, 5], xmin_before=None)
    assert new == {14}


def test_watermark_caps_its_gaps_and_says_so():
    w = Watermark(max_pending=10, max_jump=1000)
    w.reset(high=100, visible=[100], lookback=1, xmax=5)
    new, ok = w.accept([200], xmin_before=None)  # 99 ids missing: more than 10 tracked
    assert new == {200} and not ok and len(w.pending) == 10 and w.given_up == 89
    assert w.recheck_ids() == list(range(190, 200))  # the newest are kept
    w2 = Watermark(max_pending=10, max_jump=50)
    w2.reset(high=100, visible=[100], lookback=1, xmax=5)
    new, ok = w2.accept([1000], xmin_before=None)  # a jump (a shared sequence): not enumerated
    assert not ok and w2.pending == {} and w2.high == 1000


def test_watermark_on_an_empty_table():
    w = Watermark()
    w.reset(high=None, visible=[], lookback=100, xmax=1)
    new, ok = w.accept([3, 5], xmin_before=1)
    assert new == {3, 5} and ok and w.high == 5 and w.recheck_ids() == [4]


# -- error rate -------------------------------------------------------------------------------------------


NOW = T0 + 20 * S  # 14:00:20 server time


def minutes(spec: dict[int, tuple[int, int]]) -> list[RateMinute]:
    """{minutes ago: (failed, total)}"""
    return [RateMinute(floor_minute(NOW) - k * M, f, n) for k, (f, n) in spec.items()]


def judge(spec: dict[int, tuple[int, int]]):
    return rate_from_series(
        minutes(spec),
        now=NOW,
        lookback=40 * M,
        threshold=1.0,
        sustain=30 * M,
        fetched_at=NOW,
    )


def test_rate_criterion_met_after_30_quiet_minutes():
    snap = judge({35: (50, 100), 34: (3, 100), **{k: (0, 100) for k in range(0, 34)}})
    assert snap.below_since == floor_minute(NOW) - 33 * M
    assert snap.criterion == "met" and snap.below_since_exact and snap.shape == "series"
    assert snap.current == 0.0
    assert snap.summary == "below 1% for 33 min"


def test_rate_criterion_not_met_while_recent_or_current():
    snap = judge({10: (5, 100), **{k: (0, 100) for k in range(0, 10)}})
    assert snap.criterion == "not met"
    assert snap.below_since == floor_minute(NOW) - 9 * M
    assert snap.summary == "below 1% for 9 min (needs 30 min)"
    now_failing = judge({0: (2, 100), 1: (0, 100)})
    assert now_failing.criterion == "not met" and now_failing.below_since is None
    assert now_failing.current == 2.0


def test_rate_criterion_just_below_says_less_than_a_minute_not_immediate():
    """A rate that fell below the threshold this minute has been below it for less than a minute
    (it read "below 1% for immediate")."""
    snap = judge({1: (5, 100), 0: (0, 100)})
    assert snap.criterion == "not met"
    assert snap.summary == "below 1% for less than a minute (needs 30 min)"
    tr = RateTracker(1.0, 30 * M, max_gap=M)
    tr.observe(5.0, T0, T0)
    assert (
        tr.observe(0.5, T0 + 30 * S, T0 + 30 * S).summary == "below 1% for less than a minute (needs 30 min)"
    )
    for seconds in (60, 90, 120, 150):
        later = tr.observe(0.5, T0 + seconds * S, T0 + seconds * S)
    assert later.summary == "below 1% for ~2 min (needs 30 min)"


def test_rate_criterion_unknown_without_traffic_and_at_least_when_data_runs_out():
    assert judge({}).criterion == "unknown"
    gaps = judge({k: (0, 10) for k in range(0, 41, 7)})  # some minutes without traffic
    assert gaps.criterion == "met" and gaps.summary.startswith("below 1% for at least")
    assert gaps.below_since == floor_minute(NOW - 40 * M)


def test_rate_tracker_for_a_single_number_is_approximate_and_careful():
    tr = RateTracker(1.0, 30 * M, max_gap=M)
    t = T0
    first = tr.observe(0.2, t, t)
    assert first.shape == "single" and not first.below_since_exact
    assert first.criterion == "unknown"  # below since the console started: not known before
    t += 30 * S
    assert tr.observe(5.0, t, t).criterion == "not met"
    t += 30 * S
    snap = tr.observe(0.5, t, t)
    assert snap.below_since == t and snap.criterion == "not met"
    since = t
    for _ in range(61):
        t += 30 * S
        snap = tr.observe(0.5, t, t)
    assert snap.criterion == "met" and snap.below_since == since
    t += 5 * M  # the database was unreachable meanwhile: start watching again
    assert tr.observe(0.5, t, t).criterion == "unknown"
    assert tr.observe(None, t + S, t + S).criterion == "unknown"


def test_mask_phone():
    assert mask_phone("+1 (555) 010-4477") == "***4477"
    assert mask_phone("\x1b[31m+4915112345678\x07") == "***5678"
    assert mask_phone("12") == "***"
    assert mask_phone(None) == ""


def test_the_baseline_keeps_its_own_top_errors() -> None:
    """The report's tally at declaration lists what topped the list then, even when today's top
    errors are others."""
    from datetime import UTC, datetime, timedelta

    from warroom.sources.tallies import Tallies, TallyGroup

    now = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
    declared = now - timedelta(minutes=20)
    t = Tallies(timedelta(hours=1), limit=2)
    t.load(
        now,
        [
            TallyGroup("C", "c", now - timedelta(minutes=1), 500),
            TallyGroup("D", "d", now - timedelta(minutes=1), 400),
        ],
        now - timedelta(hours=1),
    )
    t.set_baseline(
        declared,
        [
            TallyGroup("A", "a", declared - timedelta(minutes=5), 100),
            TallyGroup("B", "b", declared - timedelta(minutes=5), 50),
        ],
    )
    snap = t.snapshot(now)
    assert [(r.error_type, r.count) for r in snap.rows] == [("C", 500), ("D", 400)]
    assert snap.baseline_rows == (("A", "a", 100), ("B", "b", 50))
    assert snap.baseline_total == 150


# -- bounded: keys cut, at most max_keys tracked, totals exact -----------------------------------


def sql_groups(rows, *, after: datetime, exact_until: datetime, max_keys: int, upto: datetime | None = None):
    """What the built-in error_tally returns: the max_keys largest keys one by one, then one
    "other" group per minute for all the rest (with the exact times before exact_until)."""
    groups = groups_from_rows(rows, after=after, upto=upto, exact_until=exact_until)
    sizes: Counter[tuple[str | None, str | None]] = Counter()
    for g in groups:
        sizes[(g.error_type, g.error_message)] += g.count
    order = sorted(sizes, key=lambda k: (-sizes[k], k[0] is None, k[0] or "", k[1] is None, k[1] or ""))
    top = set(order[:max_keys])
    out = [g for g in groups if (g.error_type, g.error_message) in top]
    rest: dict[datetime, list[TallyGroup]] = {}
    for g in groups:
        if (g.error_type, g.error_message) not in top:
            rest.setdefault(g.at, []).append(g)
    for minute, gs in rest.items():
        times = [t for g in gs for t in (g.times or [])] or None
        first = min(g.first_at for g in gs if g.first_at is not None)
        out.append(TallyGroup(None, None, minute, sum(g.count for g in gs), first, times, other=True))
    return out


def assert_totals_exact(t: Tallies, rows, now: datetime) -> None:
    """Only the per-key detail is capped: the total, the per-minute totals (so the trend and the
    deploy correlation's series) are those of every row; tracked keys never count too much."""
    ref = reference(rows, now, HOUR)
    assert t.total == sum(ref.values())
    snap = t.snapshot(now)
    per_minute = Counter(floor_minute(at) for _, _, at in rows if now - HOUR < at <= now)
    assert {m: n for m, n in snap.totals_per_minute if n} == dict(per_minute)
    assert snap.trend == trend_of([per_minute.get(m, 0) for m in snap.minutes[:-1]])
    assert t.tracked <= t.max_keys
    counts = t.counts()
    assert sum(counts.values()) + t.other == t.total == snap.total
    assert snap.other == t.other and snap.distinct == len(counts)
    for key, n in counts.items():
        assert n <= ref.get(key, 0), key


def test_many_keys_track_at_most_max_keys_and_keep_the_totals_exact():
    rng = random.Random(11)
    big = ("Timeout", "sms sender")  # half of all rows: always among the tracked keys
    pool = [("E", f"message {i}") for i in range(200)] + [(None, "no type"), ("DB", None)]

    def row(at: datetime) -> tuple[str | None, str | None, datetime]:
        return (*(big if rng.random() < 0.5 else rng.choice(pool)), at)

    rows = [row(T0 - timedelta(seconds=rng.uniform(0, 4000))) for _ in range(3000)]
    t = Tallies(HOUR, limit=3, max_keys=8)
    load(t, rows, T0)  # a team's full read: every key, capped here
    assert t.tracked == 8 and t.other > 0
    assert_totals_exact(t, rows, T0)
    assert t.count(*big) == reference(rows, T0, HOUR)[big]
    now = T0
    for step in range(150):
        now += timedelta(seconds=rng.uniform(0.5, 3))
        t.advance(now)
        for _ in range(rng.randint(0, 20)):
            late = rng.random() < 0.1
            r = row(now - timedelta(seconds=rng.uniform(0, 3700) if late else rng.uniform(0, 2)))
            rows.append(r)
            t.add(*r)
        assert_totals_exact(t, rows, now)
        assert t.count(*big) == reference(rows, now, HOUR)[big], step
        assert t.snapshot(now).rows[0].error_type == "Timeout"
    assert t.exact


def test_the_full_reads_other_groups_age_out_exactly():
    rng = random.Random(3)
    rows = [("E", f"m{i % 40}", T0 - timedelta(seconds=rng.uniform(0, 3600))) for i in range(2000)]
    rows += [("Big", "one", T0 - timedelta(seconds=rng.uniform(0, 3600))) for _ in range(500)]
    t = Tallies(HOUR, limit=5, max_keys=10)
    start = T0 - HOUR
    exact_until = ceil_minute(start + 6 * M)
    groups = sql_groups(rows, after=start, exact_until=exact_until, max_keys=10)
    assert sum(g.other for g in groups) > 0
    t.load(T0, groups, exact_until)
    assert t.tracked == 10 and t.other > 0
    assert_totals_exact(t, rows, T0)
    assert t.count("Big", "one") == reference(rows, T0, HOUR)[("Big", "one")]
    for seconds in range(0, 300, 7):  # rows of "other" leave the window one by one, exactly
        now = T0 + timedelta(seconds=seconds)
        t.advance(now)
        assert_totals_exact(t, rows, now)
    assert t.exact


def test_the_time_column_tail_may_hold_other_groups_too():
    rng = random.Random(5)
    t = Tallies(HOUR, max_keys=4)
    overlap = 10 * S
    rows = [("E", f"m{i}", T0 - timedelta(seconds=rng.uniform(0, 3000))) for i in range(20)]
    start, tail_start = T0 - HOUR, T0 - overlap
    exact_until = ceil_minute(start + 6 * M)
    body = sql_groups(rows, after=start, upto=tail_start, exact_until=exact_until, max_keys=4)
    far = datetime.max.replace(tzinfo=UTC)
    t.load(
        T0,
        body,
        exact_until,
        tail_start=tail_start,
        tail=sql_groups(rows, after=tail_start, exact_until=far, max_keys=4),
    )
    now = T0
    for i in range(30):
        now += 2 * S
        rows += [("F", f"new {i} {j}", now - timedelta(seconds=rng.uniform(0, 9))) for j in range(3)]
        t.advance(now)
        ts = max(now - overlap, t.tail_start or now)
        t.replace_tail(ts, sql_groups(rows, after=ts, exact_until=far, max_keys=4))
        assert_totals_exact(t, rows, now)


def test_a_key_keeps_the_first_characters_of_huge_values():
    t = Tallies(HOUR)
    load(t, [("T" * 300, "m" * 5000, T0 - M)], T0)
    t.add("T" * 300, "m" * 1000 + "another tail", T0 - S)  # the same first 1000 characters
    t.add("T" * 300, "m" * 999 + "x", T0 - S)  # differs within them
    assert t.counts() == {("T" * TYPE_CHARS, "m" * MESSAGE_CHARS): 2, ("T" * 200, "m" * 999 + "x"): 1}
    assert t.count("T" * 300, "m" * 3000) == 2
    assert (TYPE_CHARS, MESSAGE_CHARS) == (200, 1000)


def test_a_capped_baseline_keeps_its_total_and_says_when_it_cannot_tell():
    declared = T0 - 10 * M
    t = Tallies(HOUR, limit=10, max_keys=4)
    before = [("Old", "x", declared - M)] * 5 + [("E", f"rare {i}", declared - 2 * M) for i in range(6)]
    after = [("Old", "x", T0 - M), ("E", "rare 0", T0 - M), ("Brand", "new", T0 - M)]
    rows = before + after
    load(t, rows, T0)
    t.set_baseline(
        declared,
        sql_groups(rows, after=declared - HOUR, upto=declared, exact_until=T0 - 2 * HOUR, max_keys=3),
    )
    snap = t.snapshot(T0)
    assert snap.baseline_total == 11  # every row at the declaration, the "other" group's too
    by = {(r.error_type, r.error_message): r for r in snap.rows}
    assert by[("Old", "x")].delta_declared == 1 and by[("Old", "x")].is_new is False
    # Outside the declaration's kept keys: new, or one of its rarer errors? Unknown, not "new".
    assert by[("Brand", "new")].is_new is None and by[("Brand", "new")].delta_declared is None


def test_folded_keys_leave_by_whole_minutes_too_when_the_full_read_is_overdue():
    t = Tallies(HOUR, max_keys=4)
    rows = [("E", f"m{i % 6}", T0 - 50 * M + i * S) for i in range(600)]
    load(t, rows, T0, resync=timedelta(minutes=1))  # exact region: only the next ~2 minutes
    for i in range(12):  # new keys: older ones are folded into "other", with their minutes
        rows.append(("N", f"n{i}", T0 - 48 * M + i * S))
        t.add(*rows[-1])
    now = T0 + 15 * M + 30 * S
    t.advance(now)
    assert not t.exact
    start = now - HOUR
    assert 0 < t.total < len(rows)
    # Whole minutes before the window's start are gone, the partial one is kept.
    assert t.total == sum(1 for *_, at in rows if floor_minute(at) + M > start)
    assert sum(t.counts().values()) + t.other == t.total
