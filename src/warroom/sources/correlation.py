"""Deploy correlation: when did the current error spike begin, and what landed just before it?

Pure functions over the error tallies (errors per minute) and the commits from
:mod:`warroom.sources.git`; no I/O, no clock (``now`` is passed in).

The series
    ``(minute, count)`` pairs: aware UTC datetimes (naive ones are taken as UTC), normally
    minute-aligned; a time inside a minute counts for that minute and repeated minutes add up.
    A minute that is missing means zero errors. With ``now``, the series is read as covering
    ``rule.span`` (one hour) up to ``now``; the minute ``now`` falls in is still being counted,
    so it is left out (a half-counted minute would look like a drop).

The spike rule (:func:`spike_start`)
    For a minute ``s``, the *baseline* is the median of the counts in the ``rule.window``
    (30 min) before ``s``, and the *spread* is 1.4826 × their median absolute deviation (a
    robust standard deviation). ``s`` is *elevated* when its count is at least the threshold

        ``max(baseline + rule.min_rise, rule.ratio × baseline, baseline + rule.mad_k × spread)``

    that is: at least ``min_rise`` (5) errors a minute more than usual, at least ``ratio`` (2)
    times the usual rate, and far outside the usual noise. A *spike* starts at ``s`` when ``s``
    has at least ``rule.min_history`` (10) minutes before it in the series, ``s`` and the
    ``rule.confirm - 1`` minutes after it (2 minutes in all) are elevated, and every minute from
    ``s`` to the latest complete minute is elevated against that same threshold except for dips
    of at most ``rule.max_gap`` (2) minutes in a row (so a spike that ended more than two minutes
    ago is not current). :func:`spike_start` returns the earliest such ``s``: the first minute of
    the current run of elevated errors. A single noisy minute never starts a spike, a rise of a
    few errors over a quiet baseline never does either, and a spike that began before the series
    (no quiet history to compare with) is not reported.

The correlation (:func:`correlate`)
    The suspect is the most recent commit marked deploy or migration that landed before the
    spike's first minute ended (a commit in the same minute can be the cause) and at most
    ``lookback`` (2 h, the playbook's ``--since="2 hours ago"``) before it: "errors rose 4 min
    after deploy a1b2c3d". Without one: "errors rose at 14:02 UTC with no deploy or migration in
    the 2 h before". Without a spike: "no error spike in the last hour".

The trend (:func:`error_trend`)
    The mean rate over the last ``minutes`` (5) complete minutes against the ``minutes`` before,
    by the one trend rule the errors pane also shows (:func:`warroom.sources.tallies.trend_of`):
    ``increasing`` when it is at least 1.25 times the earlier rate and 1 error a minute more,
    ``decreasing`` when at most 0.8 times and 1 a minute less, else ``steady``. It answers the
    decision tree's "Is error rate increasing?".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from statistics import median
from typing import Literal

from warroom.durations import clock_time, describe_duration, utc
from warroom.sources.git import Commit
from warroom.sources.trend import TRENDS, TrendDirection, trend_of

Series = Sequence[tuple[datetime, int]]
# The trend's words: the playbook's ("Is error rate increasing?"), in code and on screen; defined
# once, with the rule, in sources/trend.py.
Trend = TrendDirection
_TREND_WORDS: dict[str, Trend] = {t: t for t in TRENDS}
CorrelationKind = Literal["deploy", "no_deploy", "no_commits", "no_spike"]

MINUTE = timedelta(minutes=1)
MAD_SCALE = 1.4826  # median absolute deviation -> standard deviation, for normal noise
DEFAULT_LOOKBACK = timedelta(hours=2)


@dataclass(frozen=True)
class SpikeRule:
    """The knobs of the spike rule (see the module docstring)."""

    window: timedelta = timedelta(minutes=30)  # baseline: the median over this much before
    min_history: int = 10  # minutes of series needed before a spike's first minute
    min_rise: int = 5  # errors per minute above the baseline, at least
    ratio: float = 2.0  # times the baseline, at least
    mad_k: float = 4.0  # spreads above the baseline, at least
    confirm: int = 2  # elevated minutes in a row that start a spike
    max_gap: int = 2  # quiet minutes in a row tolerated inside a spike
    span: timedelta = timedelta(hours=1)  # how far back the series reaches from ``now``


DEFAULT_RULE = SpikeRule()


def _floor_minute(dt: datetime) -> datetime:
    return utc(dt).replace(second=0, microsecond=0)


def per_minute(
    series: Series, *, now: datetime | None = None, span: timedelta | None = None
) -> list[tuple[datetime, int]]:
    """The series as consecutive minutes (missing ones are zero), oldest first.

    With ``now``: from ``now - span`` (or the series' first minute, if earlier) to the last
    complete minute before ``now``; points at or after the minute ``now`` is in are dropped.
    """
    counts: dict[datetime, int] = {}
    for when, count in series:
        minute = _floor_minute(when)
        counts[minute] = counts.get(minute, 0) + max(0, int(count))
    end: datetime | None = None
    start: datetime | None = min(counts) if counts else None
    if now is not None:
        current = _floor_minute(now)
        end = current - MINUTE
        begin = current - (span if span is not None else DEFAULT_RULE.span)
        start = begin if start is None else min(start, begin)
        counts = {m: c for m, c in counts.items() if m <= end}
    elif counts:
        end = max(counts)
    if start is None or end is None or end < start:
        return []
    out = []
    m = start
    while m <= end:
        out.append((m, counts.get(m, 0)))
        m += MINUTE
    return out


def _threshold(base: Sequence[int], rule: SpikeRule) -> float:
    b = float(median(base))
    mad = float(median(abs(x - b) for x in base))
    return max(b + rule.min_rise, rule.ratio * b, b + rule.mad_k * MAD_SCALE * mad)


def spike_start(
    series: Series,
    *,
    now: datetime | None = None,
    rule: SpikeRule = DEFAULT_RULE,
) -> datetime | None:
    """The first minute of the current error spike (aware UTC), or None when there is none.

    See the module docstring for the rule.
    """
    minutes = per_minute(series, now=now, span=rule.span)
    counts = [c for _, c in minutes]
    n = len(counts)
    window = max(1, int(rule.window / MINUTE))
    confirm = max(1, rule.confirm)
    for s in range(max(1, rule.min_history), n - confirm + 1):
        base = counts[max(0, s - window) : s]
        threshold = _threshold(base, rule)
        if any(c < threshold for c in counts[s : s + confirm]):
            continue
        quiet = 0
        ok = True
        for c in counts[s + confirm :]:
            if c >= threshold:
                quiet = 0
            else:
                quiet += 1
                if quiet > rule.max_gap:
                    ok = False
                    break
        if ok:
            return minutes[s][0]
    return None


def error_trend(
    series: Series | None,
    *,
    now: datetime | None = None,
    minutes: int = 5,
) -> Trend | None:
    """``increasing``, ``steady`` or ``decreasing`` (see the module docstring); None without data."""
    if series is None:
        return None
    dense = [c for _, c in per_minute(series, now=now, span=timedelta(minutes=2 * minutes))]
    if len(dense) < 2 * minutes:
        dense = [0] * (2 * minutes - len(dense)) + dense
    return trend_of(dense, span=minutes).direction


def trend_word(word: object) -> Trend | None:
    """The trend in the playbook's words (a recorded or typed word, read leniently); None for
    anything else (no data)."""
    if word is None:
        return None
    return _TREND_WORDS.get(str(word).strip().lower())


def _gap_words(gap: timedelta) -> str:
    minutes = int(gap.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    return describe_duration(timedelta(minutes=minutes))


@dataclass(frozen=True)
class Correlation:
    """What the error spike lines up with. ``sentence`` says it in one line."""

    kind: CorrelationKind
    spike_at: datetime | None  # first minute of the spike (aware UTC); None for no_spike
    commit: Commit | None = None  # the suspect (kind "deploy"), or the last one before lookback
    gap: timedelta | None = None  # spike_at - commit.committed_at (kind "deploy")
    lookback: timedelta = DEFAULT_LOOKBACK
    window: timedelta = DEFAULT_RULE.span  # how far back the series was searched

    # -- plain fields for templates and the report ------------------------------------------------
    @property
    def suspected(self) -> bool:
        return self.kind == "deploy"

    @property
    def sha(self) -> str:
        return self.commit.sha if self.commit is not None and self.suspected else ""

    @property
    def short_sha(self) -> str:
        return self.commit.short_sha if self.commit is not None and self.suspected else ""

    @property
    def subject(self) -> str:
        return self.commit.subject if self.commit is not None and self.suspected else ""

    @property
    def mark(self) -> str:
        """``deploy``, ``migration`` or ``deploy with migration`` (the suspect's kind)."""
        return _mark(self.commit) if self.commit is not None and self.suspected else ""

    @property
    def gap_minutes(self) -> int | None:
        if self.gap is None or not self.suspected:
            return None
        return max(0, int(self.gap.total_seconds() // 60))

    @property
    def sentence(self) -> str:
        """One line, times in UTC: ``errors rose 4 min after deploy a1b2c3d (Deploy v2)``."""
        return self.describe(UTC)

    def describe(self, tz: tzinfo | None = None) -> str:
        """The sentence with clock times in ``tz`` (None: the machine's local zone)."""
        if self.kind == "no_spike" or self.spike_at is None:
            return f"no error spike in the last {describe_duration(self.window)}"
        at = clock_time(self.spike_at, tz, seconds=False)
        if self.kind == "deploy" and self.commit is not None and self.gap is not None:
            subject = f" ({self.commit.subject})" if self.commit.subject else ""
            if self.gap < MINUTE:
                return f"errors rose within a minute of {self.mark} {self.commit.short_sha}{subject}"
            return f"errors rose {_gap_words(self.gap)} after {self.mark} {self.commit.short_sha}{subject}"
        if self.kind == "no_commits":
            return f"errors rose at {at}; no commits to compare (repository unavailable)"
        window = describe_duration(self.lookback)
        text = f"errors rose at {at} with no deploy or migration in the {window} before"
        if self.commit is not None:
            earlier = _gap_words(self.spike_at - self.commit.committed_at)
            text += f" (the last, {_mark(self.commit)} {self.commit.short_sha}, landed {earlier} earlier)"
        return text

    def as_dict(self) -> dict[str, str | int | None]:
        """Plain values for templates and the journal's evidence (JSON-ready)."""
        return {
            "kind": self.kind,
            "sentence": self.sentence,
            "spike_at": self.spike_at.strftime("%Y-%m-%dT%H:%M:%SZ") if self.spike_at else None,
            "sha": self.sha,
            "short_sha": self.short_sha,
            "subject": self.subject,
            "mark": self.mark,
            "gap_minutes": self.gap_minutes,
        }


def _mark(commit: Commit) -> str:
    if commit.is_deploy and commit.is_migration:
        return "deploy with migration"
    if commit.is_migration:
        return "migration"
    return "deploy"


def correlate(
    series: Series | None,
    commits: Sequence[Commit] | None,
    now: datetime,
    *,
    rule: SpikeRule = DEFAULT_RULE,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> Correlation | None:
    """Line the current spike up with the deploys and migrations before it.

    ``series``: errors per minute (None when the tallies are unavailable: the answer is None).
    ``commits``: from :func:`warroom.sources.git.read_commits` (None when the repository could
    not be read). See the module docstring for the rules.
    """
    if series is None:
        return None
    start = spike_start(series, now=now, rule=rule)
    window = rule.span
    if start is None:
        return Correlation("no_spike", None, lookback=lookback, window=window)
    if commits is None:
        return Correlation("no_commits", start, lookback=lookback, window=window)
    before = [c for c in commits if (c.is_deploy or c.is_migration) and c.committed_at < start + MINUTE]
    if not before:
        return Correlation("no_deploy", start, lookback=lookback, window=window)
    suspect = max(before, key=lambda c: c.committed_at)
    gap = start - suspect.committed_at
    if gap > lookback:
        return Correlation("no_deploy", start, suspect, None, lookback, window)
    return Correlation("deploy", start, suspect, gap, lookback, window)
