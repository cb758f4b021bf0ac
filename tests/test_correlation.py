"""Deploy correlation on seeded error series: spike after a deploy, spike with no deploy, no spike,
noisy baselines, sparse series, spikes that ended, the partial current minute, and the trend."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from warroom.sources.correlation import (
    TRENDS,
    Correlation,
    SpikeRule,
    correlate,
    error_trend,
    per_minute,
    spike_start,
    trend_word,
)
from warroom.sources.git import Commit
from warroom.sources.trend import trend_of

# The minute the series starts; minute i is START + i min. "Now" is 30 s into minute 60.
START = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
NOW = START + timedelta(minutes=60, seconds=30)


def minute(i: int) -> datetime:
    return START + timedelta(minutes=i)


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: fine for the small rates here."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def series_of(counts: list[int]) -> list[tuple[datetime, int]]:
    return [(minute(i), c) for i, c in enumerate(counts)]


def noisy(seed: int, lam: float, n: int = 60) -> list[int]:
    rng = random.Random(seed)
    return [poisson(rng, lam) for _ in range(n)]


def with_spike(seed: int, base: float, at: int, rate: float, n: int = 60) -> list[int]:
    rng = random.Random(seed)
    return [poisson(rng, base if i < at else rate) for i in range(n)]


def make_commit(
    sha: str, subject: str, when: datetime, *, deploy: bool = False, migration: bool = False
) -> Commit:
    return Commit(
        sha=sha * 5,
        short_sha=sha[:7],
        author="Ada",
        author_email="ada@example.com",
        committed_at=when,
        subject=subject,
        parents=("0" * 40,),
        is_deploy=deploy,
        deploy_reason="subject matches 'deploy'" if deploy else "",
        is_migration=migration,
        migration_paths=("supabase/migrations/1.sql",) if migration else (),
    )


# -- the spike rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_spike_after_a_quiet_baseline(seed: int) -> None:
    counts = with_spike(seed, base=3, at=45, rate=40)
    assert spike_start(series_of(counts), now=NOW) == minute(45)


@pytest.mark.parametrize("seed", range(20))
def test_noisy_baseline_without_a_spike(seed: int) -> None:
    rng = random.Random(1000 + seed)
    counts = noisy(seed, lam=20)
    for _ in range(3):  # isolated one-minute bursts are noise, not a spike
        counts[rng.randrange(5, 60)] = 70
    assert spike_start(series_of(counts), now=NOW) is None
    assert correlate(series_of(counts), [], NOW) == Correlation("no_spike", None)


def test_no_spike_names_the_window_searched() -> None:
    c = correlate(series_of([1] * 30), [], NOW, rule=SpikeRule(span=timedelta(minutes=30)))
    assert c is not None and c.sentence == "no error spike in the last 30 min"


def test_no_errors_at_all() -> None:
    assert spike_start([], now=NOW) is None
    assert spike_start(series_of([0] * 60), now=NOW) is None
    c = correlate([], [], NOW)
    assert c is not None and c.kind == "no_spike" and c.sentence == "no error spike in the last 1 h"


def test_small_rise_over_a_quiet_baseline_is_not_a_spike() -> None:
    counts = [0] * 50 + [3] * 10  # 0 -> 3 errors a minute: below the minimum rise of 5
    assert spike_start(series_of(counts), now=NOW) is None
    counts = [0] * 50 + [5] * 10
    assert spike_start(series_of(counts), now=NOW) == minute(50)


def test_missing_minutes_are_zero() -> None:
    sparse = [(minute(i), 1) for i in (3, 17, 31)] + [(minute(i), 9) for i in range(52, 60)]
    assert spike_start(sparse, now=NOW) == minute(52)
    dense = per_minute(sparse, now=NOW)
    assert len(dense) == 60 and dense[0] == (minute(0), 0) and dense[3] == (minute(3), 1)
    assert dense[-1] == (minute(59), 9)


def test_the_partial_current_minute_is_left_out() -> None:
    counts = [2] * 59 + [30]  # minute 59 high...
    series = [*series_of(counts), (minute(60), 90)]  # ...and the current, half-counted minute
    assert spike_start(series, now=NOW) is None  # one complete elevated minute is not a spike yet
    later = NOW + timedelta(minutes=1)  # a minute later, minute 60 is complete
    assert spike_start(series, now=later) == minute(59)


def test_a_spike_that_ended_is_not_current() -> None:
    counts = [2] * 45 + [40] * 8 + [2] * 7
    assert spike_start(series_of(counts), now=NOW) is None
    # Seen while it was going on, it was.
    assert spike_start(series_of(counts[:54]), now=minute(54) + timedelta(seconds=5)) == minute(45)


def test_short_dips_inside_a_spike_are_tolerated() -> None:
    counts = [2] * 40 + [40, 40, 2, 40, 40, 2, 2, 40] + [40] * 12
    assert spike_start(series_of(counts), now=NOW) == minute(40)
    counts = [2] * 40 + [40, 40, 2, 2, 2] + [40] * 15  # three quiet minutes: a new spike
    assert spike_start(series_of(counts), now=NOW) == minute(45)


def test_a_ramp_starts_where_it_leaves_the_noise() -> None:
    counts = [4] * 40 + [5, 6, 8, 12, 18, 26, 38, 54, 80, 110] + [150] * 10
    # Baseline 4 (no spread): the threshold is max(4 + 5, 2 x 4, 4) = 9; minute 43 has 12.
    assert spike_start(series_of(counts), now=NOW) == minute(43)


def test_a_spike_too_early_to_have_a_baseline_is_not_reported() -> None:
    counts = [1] * 5 + [50] * 55
    assert spike_start(series_of(counts), now=NOW) is None


def test_unaligned_and_naive_times_count_for_their_minute() -> None:
    base = START.replace(tzinfo=None)
    series = [(base + timedelta(minutes=i, seconds=17), 1) for i in range(45)]
    series += [(base + timedelta(minutes=i, seconds=s), 10) for i in range(45, 60) for s in (5, 40)]
    assert spike_start(series, now=NOW) == minute(45)


def test_the_rule_can_be_tuned() -> None:
    counts = [10] * 45 + [16] * 15  # +6/min: a rise, but not a doubling
    assert spike_start(series_of(counts), now=NOW) is None
    assert spike_start(series_of(counts), now=NOW, rule=SpikeRule(ratio=1.5)) == minute(45)


def test_without_now_the_series_is_taken_as_complete() -> None:
    counts = [1] * 45 + [30] * 15
    assert spike_start(series_of(counts)) == minute(45)


# -- correlation ------------------------------------------------------------------------------------


def test_spike_after_a_deploy() -> None:
    counts = with_spike(7, base=3, at=45, rate=40)
    commits = [
        make_commit("c0ffee1", "Tidy logs", minute(50)),  # after the spike started: not a suspect
        make_commit("a1b2c3d", "Deploy api v2", minute(41) - timedelta(seconds=10), deploy=True),
        make_commit("9f8e7d6", "Add index", minute(20), migration=True),
    ]
    c = correlate(series_of(counts), commits, NOW)
    assert c is not None and c.kind == "deploy" and c.suspected
    assert c.spike_at == minute(45)
    assert c.commit is commits[1] and c.gap == timedelta(minutes=4, seconds=10)
    assert c.sentence == "errors rose 4 min after deploy a1b2c3d (Deploy api v2)"
    assert (c.sha, c.short_sha, c.subject, c.mark, c.gap_minutes) == (
        "a1b2c3d" * 5,
        "a1b2c3d",
        "Deploy api v2",
        "deploy",
        4,
    )
    assert c.as_dict() == {
        "kind": "deploy",
        "sentence": "errors rose 4 min after deploy a1b2c3d (Deploy api v2)",
        "spike_at": "2026-11-26T13:45:00Z",
        "sha": "a1b2c3d" * 5,
        "short_sha": "a1b2c3d",
        "subject": "Deploy api v2",
        "mark": "deploy",
        "gap_minutes": 4,
    }


def test_the_most_recent_deploy_or_migration_is_named() -> None:
    counts = with_spike(3, base=2, at=50, rate=30)
    commits = [
        make_commit("bbbbbbb", "Add column", minute(44), migration=True),
        make_commit("aaaaaaa", "deploy web", minute(30), deploy=True),
    ]
    c = correlate(series_of(counts), commits, NOW)
    assert c is not None and c.commit is commits[0] and c.mark == "migration"
    assert c.sentence == "errors rose 6 min after migration bbbbbbb (Add column)"
    both = make_commit("ccccccc", "deploy with schema", minute(49), deploy=True, migration=True)
    c = correlate(series_of(counts), [both, *commits], NOW)
    assert (
        c is not None
        and c.sentence == "errors rose 1 min after deploy with migration ccccccc (deploy with schema)"
    )


def test_a_deploy_in_the_first_minute_of_the_spike_counts() -> None:
    counts = [1] * 45 + [30] * 15
    inside = make_commit("ddddddd", "deploy now", minute(45) + timedelta(seconds=20), deploy=True)
    c = correlate(series_of(counts), [inside], NOW)
    assert c is not None and c.kind == "deploy"
    assert c.sentence == "errors rose within a minute of deploy ddddddd (deploy now)"
    assert c.gap_minutes == 0
    late = make_commit("eeeeeee", "deploy later", minute(46) + timedelta(seconds=1), deploy=True)
    c = correlate(series_of(counts), [late], NOW)
    assert c is not None and c.kind == "no_deploy"


def test_spike_with_no_deploy_before_it() -> None:
    counts = with_spike(11, base=3, at=45, rate=40)
    commits = [
        make_commit("1111111", "Tidy logs", minute(40)),  # not a deploy
        make_commit("2222222", "deploy after", minute(47), deploy=True),  # after the spike began
    ]
    c = correlate(series_of(counts), commits, NOW)
    assert c is not None and c.kind == "no_deploy" and not c.suspected and c.commit is None
    assert c.spike_at == minute(45)
    assert c.sentence == "errors rose at 13:45 UTC with no deploy or migration in the 2 h before"
    assert (c.sha, c.mark, c.gap_minutes) == ("", "", None)
    old = make_commit("3333333", "deploy last week", minute(45) - timedelta(hours=3, minutes=5), deploy=True)
    c = correlate(series_of(counts), [*commits, old], NOW)
    assert c is not None and c.kind == "no_deploy" and c.commit is old
    assert c.sentence == (
        "errors rose at 13:45 UTC with no deploy or migration in the 2 h before "
        "(the last, deploy 3333333, landed 3 h 5 min earlier)"
    )
    c = correlate(series_of(counts), [old], NOW, lookback=timedelta(hours=4))
    assert (
        c is not None
        and c.kind == "deploy"
        and c.sentence.startswith("errors rose 3 h 5 min after deploy 3333333")
    )


def test_no_spike_names_no_commit() -> None:
    counts = noisy(5, lam=6)
    c = correlate(series_of(counts), [make_commit("a1b2c3d", "deploy", minute(50), deploy=True)], NOW)
    assert c is not None and c.kind == "no_spike" and c.commit is None and c.spike_at is None
    assert c.sentence == "no error spike in the last 1 h"
    assert c.as_dict()["spike_at"] is None


def test_without_commits_or_without_tallies() -> None:
    counts = [1] * 45 + [30] * 15
    c = correlate(series_of(counts), None, NOW)
    assert c is not None and c.kind == "no_commits"
    assert c.sentence == "errors rose at 13:45 UTC; no commits to compare (repository unavailable)"
    assert correlate(None, [], NOW) is None


def test_describe_in_a_local_zone() -> None:
    counts = [1] * 45 + [30] * 15
    c = correlate(series_of(counts), [], NOW)
    assert c is not None
    assert c.describe(ZoneInfo("Europe/Berlin")).startswith("errors rose at 14:45 CET with no deploy")


# -- the trend ----------------------------------------------------------------------------------------


def test_error_trend() -> None:
    assert error_trend(None) is None
    assert error_trend(series_of([5] * 50 + [5] * 5 + [12] * 5), now=NOW) == "increasing"
    assert error_trend(series_of([5] * 50 + [20] * 5 + [8] * 5), now=NOW) == "decreasing"
    assert error_trend(series_of([5] * 50 + [5, 6, 5, 4, 5] + [6, 5, 5, 6, 5]), now=NOW) == "steady"
    assert error_trend([], now=NOW) == "steady"  # no errors at all: not increasing
    # From nothing: 0.8 errors/min is under the 1 error/min step, 1.8/min is not.
    assert error_trend(series_of([0] * 55 + [0, 0, 1, 1, 2]), now=NOW) == "steady"
    assert error_trend(series_of([0] * 55 + [0, 1, 2, 3, 3]), now=NOW) == "increasing"


def test_the_trend_is_said_in_the_playbooks_words() -> None:
    """One word per concept: the playbook asks "Is error rate increasing?"; the tallies' trend, the
    errors pane and the decision tree all say increasing/steady/decreasing."""
    assert TRENDS == ("increasing", "steady", "decreasing")
    assert [trend_word(w) for w in TRENDS] == list(TRENDS)
    assert trend_word(" Increasing ") == "increasing"
    assert trend_of([10] * 5 + [40] * 5).direction == "increasing"
    assert trend_of([10] * 10).direction == "steady"
    assert trend_of([40] * 5 + [10] * 5).direction == "decreasing"
    assert trend_word("rising") is None  # the old words are gone, not translated
    assert trend_word(None) is None and trend_word("sideways") is None and trend_word("") is None


def test_error_trend_ignores_the_partial_minute() -> None:
    counts = [10] * 60
    series = [*series_of(counts), (minute(60), 1)]  # 30 s into the current minute
    assert error_trend(series, now=NOW, minutes=1) == "steady"
    assert error_trend(series, minutes=1) == "decreasing"  # taken as complete, it looks like a fall
