"""warroom.live.LiveState without a console: the suspected deploy journaled once when first seen,
kept once the spike ends ("spike ended HH:MM") and not journaled again after a restart; the fixes
(a commit marked as the fix, a revert of the suspect); the errors per minute and the series the
report's evidence carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warroom.comms.evidence import AT_DECLARATION, PEAK, SERIES
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.incident.state import Incident
from warroom.live import LiveState, Suspect, is_revert_of, rate_before, rate_words
from warroom.settings import GitSettings, Settings
from warroom.sources.dbpoll import ConnectionState, DbPoll, RateMinute
from warroom.sources.error_rate import rate_from_series
from warroom.sources.git import Commit, GitSnapshot
from warroom.sources.tallies import TallyRow, TallySnapshot
from warroom.sources.trend import trend_of

NOW = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)  # the first poll
DECLARED = NOW - timedelta(minutes=10)
DEPLOY_SUBJECT = "deploy: production 2026.11.26-1 (send-sms batching)"


def commit(sha: str, minutes_ago: float, subject: str, *, deploy: bool = False) -> Commit:
    return Commit(
        sha=sha + "0" * (40 - len(sha)),
        short_sha=sha[:7],
        author="Maya Patel",
        author_email="maya@example.com",
        committed_at=NOW - timedelta(minutes=minutes_ago),
        subject=subject,
        parents=(),
        is_deploy=deploy,
    )


SUSPECT = commit("86a46ab", 30, DEPLOY_SUBJECT, deploy=True)
OLDER = commit("1640691", 300, "campaign list: paginate", deploy=True)


def git(*newer: Commit) -> GitSnapshot:
    return GitSnapshot(Path("/srv/app"), "main", False, False, (*newer, SUSPECT, OLDER), NOW)


def spike(
    now: datetime, *, spike_from: int = 18, base: int = 20, top: int = 400
) -> list[tuple[datetime, int]]:
    """Errors per minute of the hour before ``now``: flat, then a spike over the last minutes."""
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=60)
    out = []
    for i in range(61):
        minute = start + timedelta(minutes=i)
        ago = (now - minute).total_seconds() / 60
        out.append(
            (minute, base + (i % 3) if ago > spike_from else base + int(top * (1 - ago / (spike_from + 1))))
        )
    return out


def flat(now: datetime, base: int = 20) -> list[tuple[datetime, int]]:
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=60)
    return [(start + timedelta(minutes=i), base + (i % 3)) for i in range(61)]


def poll(
    now: datetime,
    series: list[tuple[datetime, int]],
    *,
    baseline: int | None = None,
    total: int | None = None,
) -> DbPoll:
    counts = [n for _, n in series]
    row = TallyRow("k1", "TwilioTimeout", "POST /Messages.json timed out", sum(counts), 0, 0, (), None, False)
    snap = TallySnapshot(
        fetched_at=now,
        as_of=now,
        window=timedelta(hours=1),
        window_start=now - timedelta(hours=1),
        limit=10,
        rows=(row,),
        total=total if total is not None else sum(counts),
        distinct=1,
        minutes=tuple(m for m, _ in series),
        totals_per_minute=tuple(series),
        trend=trend_of(counts[:-1]),  # complete minutes only
        declared_at=DECLARED,
        baseline_total=baseline,
        baseline_error="",
        lookback_start=None,
        exact=True,
        mode="id",
        resynced_at=None,
        full_read=False,
        baseline_rows=(("TwilioTimeout", "POST /Messages.json timed out", baseline or 0),),
    )
    return DbPoll(now, ConnectionState("connected", now), errors=snap)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Settings, Journal, str]:
    settings = Settings(state_dir=tmp_path, timezone_name="UTC", user="alice", git=GitSettings(repo=tmp_path))
    journal = Journal(settings.journal_path, actor="alice", clock=lambda: DECLARED)
    iid = journal.declare("P0", "SMS campaigns failing").incident_id
    return settings, journal, iid


def journal_all(journal: Journal, iid: str, bodies: list[ev.Body], at: datetime) -> Incident:
    for body in bodies:
        journal.append(iid, body, at=at)
    return journal.load(iid)


def suspected(bodies: list[ev.Body]) -> list[ev.EvidenceRecorded]:
    return [b for b in bodies if isinstance(b, ev.EvidenceRecorded) and b.source == "deploy"]


def test_the_suspect_is_journaled_once_when_first_seen(setup: tuple[Settings, Journal, str]) -> None:
    settings, journal, iid = setup
    live = LiveState(settings)
    incident = journal.load(iid)
    live.begin(incident)
    assert live.take_git(git(), incident, NOW) == []  # no errors yet: nothing to line up
    first = live.take_db(poll(NOW, spike(NOW)), incident, NOW)
    deploys = suspected(first)
    assert len(deploys) == 1
    assert deploys[0].label == "suspected"
    assert json.loads(deploys[0].data)["sha"] == SUSPECT.sha
    assert deploys[0].summary.startswith("errors rose ") and "86a46ab" in deploys[0].summary
    incident = journal_all(journal, iid, first, NOW)
    later = NOW + timedelta(minutes=1)
    assert suspected(live.take_db(poll(later, spike(later, spike_from=19)), incident, later)) == []
    assert suspected(live.take_git(git(), incident, later)) == []
    assert live.suspect is not None and live.suspect.sha == SUSPECT.sha


def test_the_suspect_stays_once_the_spike_ends(setup: tuple[Settings, Journal, str]) -> None:
    settings, journal, iid = setup
    live = LiveState(settings)
    incident = journal.load(iid)
    live.begin(incident)
    live.take_git(git(), incident, NOW)
    incident = journal_all(journal, iid, live.take_db(poll(NOW, spike(NOW)), incident, NOW), NOW)
    calm = datetime(2026, 11, 26, 15, 16, 40, tzinfo=UTC)
    assert suspected(live.take_db(poll(calm, flat(calm)), incident, calm)) == []
    assert live.correlation is not None and live.correlation.kind == "no_spike"
    assert live.suspect is not None and live.suspect.ended_at == calm
    assert live.facts(incident).suspected_deploy == "suspect deploy 86a46ab (spike ended 15:16 UTC)"
    kept = live.effective_correlation()  # the decision tree keeps its answer and its rollback
    assert kept is not None and kept.suspected and kept.sha == SUSPECT.sha
    # The spike comes back: the suspect is live again, and not journaled a second time.
    back = calm + timedelta(minutes=20)
    assert suspected(live.take_db(poll(back, spike(back)), incident, back)) == []
    assert live.suspect.ended_at is None
    assert live.facts(incident).suspected_deploy == live.suspect.sentence


def test_a_restart_does_not_journal_the_suspect_again(setup: tuple[Settings, Journal, str]) -> None:
    settings, journal, iid = setup
    live = LiveState(settings)
    incident = journal.load(iid)
    live.begin(incident)
    live.take_git(git(), incident, NOW)
    incident = journal_all(journal, iid, live.take_db(poll(NOW, spike(NOW)), incident, NOW), NOW)

    again = LiveState(settings)  # the console restarted: a new state from the same journal
    incident = journal.load(iid)
    again.begin(incident)
    assert again.suspect is not None and again.suspect.sha == SUSPECT.sha
    assert again.suspect.short_sha == "86a46ab" and again.suspect.subject == DEPLOY_SUBJECT
    later = NOW + timedelta(minutes=2)
    assert again.take_git(git(), incident, later) == []
    assert suspected(again.take_db(poll(later, spike(later, spike_from=20)), incident, later)) == []
    # Not even when it is first seen after the spike ended.
    calm = LiveState(settings)
    calm.begin(incident)
    quiet = NOW + timedelta(minutes=50)
    calm.take_git(git(), incident, quiet)
    assert calm.take_db(poll(quiet, flat(quiet)), incident, quiet) == []
    assert calm.suspect is not None and calm.suspect.ended_at == quiet


def test_fixes_are_the_marked_commit_and_a_revert_of_the_suspect(
    setup: tuple[Settings, Journal, str],
) -> None:
    settings, journal, iid = setup
    revert = commit("f00dfee", 5, f'Revert "{DEPLOY_SUBJECT}"')
    hotfix = commit("c0ffee1", 4, "send-sms: cap batches at 10", deploy=True)
    docs = commit("d0c5d0c", 3, "docs: fix a typo in the runbook")
    unrelated_revert = commit("beefbee", 2, 'Revert "campaign list: paginate"')
    live = LiveState(settings)
    incident = journal.load(iid)
    live.begin(incident)
    snapshot = git(unrelated_revert, docs, hotfix, revert)
    live.take_git(snapshot, incident, NOW)
    assert live.fixes(incident) == frozenset()  # no suspect yet, nothing marked
    incident = journal_all(journal, iid, live.take_db(poll(NOW, spike(NOW)), incident, NOW), NOW)
    assert live.fixes(incident) == {revert.sha}
    incident = journal_all(journal, iid, [ev.CommitMarked(hotfix.short_sha, "fix", hotfix.subject)], NOW)
    assert live.fixes(incident) == {revert.sha, hotfix.sha}
    incident = journal_all(journal, iid, [ev.CommitMarked(docs.sha, "note")], NOW)  # not the fix
    assert live.fixes(incident) == {revert.sha, hotfix.sha}
    assert live.fixes(None) == {revert.sha}


def test_is_revert_of_reads_gits_words_or_the_sha() -> None:
    suspect = Suspect(SUSPECT.sha, "86a46ab", DEPLOY_SUBJECT, "deploy", "errors rose", None)
    assert is_revert_of(f'Revert "{DEPLOY_SUBJECT}"', suspect)
    assert is_revert_of("revert 86a46ab: batching overloads Twilio", suspect)
    assert not is_revert_of('Revert "campaign list: paginate"', suspect)
    assert not is_revert_of(f"follow-up to 86a46ab: {DEPLOY_SUBJECT}", suspect)  # not a revert
    nameless = Suspect(SUSPECT.sha, "", "", "deploy", "errors rose", None)
    assert not is_revert_of('Revert "anything"', nameless)


def test_errors_per_minute_and_series_in_the_evidence(setup: tuple[Settings, Journal, str]) -> None:
    settings, journal, iid = setup
    live = LiveState(settings)
    incident = journal.load(iid)
    live.begin(incident)
    series = spike(NOW, spike_from=8, top=300)
    out = live.take_db(poll(NOW, series, baseline=900), incident, NOW)
    tallies = [b for b in out if isinstance(b, ev.EvidenceRecorded) and b.source == "errors"]
    assert [b.label for b in tallies] == [AT_DECLARATION]  # the first mark a peak must rise above
    declared = json.loads(tallies[0].data)
    assert declared["total"] == 900
    assert declared["per_minute"] == round(rate_before(series, DECLARED), 1) == 20.8
    assert declared["series"] == [[m.strftime("%Y-%m-%dT%H:%M:%SZ"), n] for m, n in series if m < DECLARED]
    incident = journal_all(journal, iid, out, NOW)

    # Higher, but within 5 minutes of the last mark: no peak yet.
    soon = NOW + timedelta(minutes=2)
    higher = spike(soon, spike_from=10, top=300)
    assert live.take_db(poll(soon, higher), incident, soon) == []
    # 5 minutes on and 10 % higher: a peak with its errors per minute and the series of the hour.
    later = NOW + timedelta(minutes=5)
    higher = spike(later, spike_from=13, top=300)
    peaks = [
        b for b in live.take_db(poll(later, higher), incident, later) if isinstance(b, ev.EvidenceRecorded)
    ]
    assert [b.label for b in peaks] == [PEAK]
    peak = json.loads(peaks[0].data)
    rising = trend_of([n for _, n in higher][:-1]).recent_per_minute
    assert peak["per_minute"] == round(rising, 1) and peak["per_minute"] > 100
    assert peak["series"] == [[m.strftime("%Y-%m-%dT%H:%M:%SZ"), n] for m, n in higher]
    # Higher again 5 minutes later but by less than 10 %: no new peak.
    next_ = later + timedelta(minutes=5)
    barely = [(m, int(n * 1.05)) for m, n in higher]
    assert live.take_db(poll(next_, barely), incident, next_) == []
    # Falling: no peak, but the series every half hour so the report's sparkline has no gap.
    calm = later + timedelta(minutes=29)
    assert live.take_db(poll(calm, flat(calm)), incident, calm) == []
    calm = later + timedelta(minutes=30)
    (only,) = live.take_db(poll(calm, flat(calm)), incident, calm)
    assert isinstance(only, ev.EvidenceRecorded) and only.label == SERIES
    assert json.loads(only.data)["series"] == [[m.strftime("%Y-%m-%dT%H:%M:%SZ"), n] for m, n in flat(calm)]


def test_the_error_rate_in_a_status_update_says_it_once() -> None:
    now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)

    def minutes(*rates: tuple[int, int]) -> list[RateMinute]:
        start = now - timedelta(minutes=len(rates) - 1)
        return [RateMinute(start + timedelta(minutes=i), f, t) for i, (f, t) in enumerate(rates)]

    judge = dict(now=now, lookback=timedelta(hours=1), threshold=1.0, sustain=timedelta(minutes=30))
    above = rate_from_series(minutes((258, 1000)), fetched_at=now, **judge)  # type: ignore[arg-type]
    assert rate_words(above) == "25.8%, above the 1% threshold"
    falling = rate_from_series(
        minutes((300, 1000), *[(4, 1000)] * 12),
        fetched_at=now,
        **judge,  # type: ignore[arg-type]
    )
    assert rate_words(falling) == "0.4%; below 1% for 11 min (needs 30 min)"  # since 14:49
