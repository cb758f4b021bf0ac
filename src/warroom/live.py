"""What the sources last said about the incident, and what follows from it: no Textual, no I/O.

:class:`LiveState` takes each source's results (a database poll, a git read, a status-page
reading) and keeps the facts the console shows and the messages use:

- the latest :class:`~warroom.sources.dbpoll.DbPoll`, git snapshot and status-page readings;
- deploy correlation (errors against the commits), recomputed when either side changes;
- the evidence the report needs, returned as journal events for the caller to write: the error
  tally at declaration (once), a new peak (at most every 5 minutes, 10 % above the last), and at
  resolution the tally and the suspected deploy;
- one journal event per status-page reading that changed something;
- the decision tree's answers and the runbooks ranked by the evidence;
- the live facts the templates are filled with;
- the upstream summary for the header and the error-rate hint beside its resolution criterion.

The UI feeds it from its workers and pushes what each pane shows down to that pane; tests drive it
directly.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal

from warroom.comms.context import CommitLine, ErrorLine, LiveFacts
from warroom.comms.evidence import (
    AT_DECLARATION,
    AT_RESOLUTION,
    PEAK,
    SERIES,
    SERIES_EVERY,
    errors_evidence,
    series_evidence,
)
from warroom.durations import clock_time, parse_utc
from warroom.incident import events as ev
from warroom.runbooks import (
    ALL_USERS,
    Answer,
    Evidence,
    RunbookMatch,
    decide,
    recorded_answer,
    score_runbooks,
)
from warroom.sources.correlation import Correlation, correlate
from warroom.sources.dbpoll import DbPoll, ErrorRateSnapshot, HealthSnapshot, SmsSnapshot
from warroom.sources.git import GitProblem, GitSnapshot
from warroom.sources.statuspage import PageStatus, PageUpdate
from warroom.sources.tallies import TallySnapshot
from warroom.text import mask_phones

if TYPE_CHECKING:
    from warroom.incident.state import Incident
    from warroom.settings import Settings

PEAK_EVERY = timedelta(minutes=5)  # at most one "peak" evidence record per 5 minutes
PEAK_RISE = 1.10  # and only when errors per minute are 10 % above the last recorded peak


@dataclass(frozen=True)
class Decision:
    """The decision tree answered from the evidence, and the runbooks, best match first."""

    answers: tuple[Answer, ...]
    runbooks: tuple[RunbookMatch, ...]


@dataclass(frozen=True)
class Upstream:
    """The header's upstream badge: the pages in trouble ("Twilio", "Supabase?" when unreadable)."""

    names: str
    alarm: bool  # a page says major or critical
    trouble: bool = True  # a readable page says something is wrong (False: only unreadable pages)


@dataclass(frozen=True)
class Suspect:
    """The deploy the errors followed, as first seen (and journaled then), kept once the spike is
    over: "suspect 4702c25 (spike ended 14:16)"."""

    sha: str
    short_sha: str
    subject: str
    mark: str  # deploy, migration, deploy with migration
    sentence: str  # "errors rose 12 min after deploy 4702c25 (...)", times in UTC
    spike_at: datetime | None
    ended_at: datetime | None = None  # when the spike was last seen over (None: still going)

    @classmethod
    def of(cls, corr: Correlation) -> Suspect:
        return cls(corr.sha, corr.short_sha, corr.subject, corr.mark, corr.sentence, corr.spike_at)

    @classmethod
    def from_evidence(cls, data: object, summary: str) -> Suspect | None:
        if not isinstance(data, dict) or not isinstance(data.get("sha"), str) or not data["sha"]:
            return None
        spike = data.get("spike_at")
        try:
            spike_at = parse_utc(spike) if isinstance(spike, str) else None
        except ValueError:
            spike_at = None
        text = {k: v if isinstance(v, str) else "" for k, v in data.items()}
        return cls(
            text["sha"],
            text.get("short_sha", "")[:12] or text["sha"][:7],
            text.get("subject", ""),
            text.get("mark", "") or "deploy",
            text.get("sentence", "") or summary,
            spike_at,
        )

    def describe(self, tz: tzinfo | None) -> str:
        if self.ended_at is None:
            return self.sentence
        ended = clock_time(self.ended_at, tz, seconds=False)
        return f"suspect {self.mark} {self.short_sha} (spike ended {ended})"


def is_revert_of(subject: str, suspect: Suspect) -> bool:
    """``git revert`` writes ``Revert "<subject>"``; a team may name the sha instead."""
    if not subject.lower().startswith("revert"):
        return False
    return (bool(suspect.subject) and suspect.subject in subject) or (
        bool(suspect.short_sha) and suspect.short_sha in subject
    )


@dataclass(frozen=True)
class RateHint:
    """The measured error rate beside the resolution criterion it decides."""

    text: str  # "live: 0.4% for 12 min [not met]"
    criterion: Literal["met", "not met", "unknown"]


def error_lines(snap: TallySnapshot) -> list[ErrorLine]:
    """The tally's rows as the messages' ErrorLine, phone numbers masked."""
    return [ErrorLine(r.error_type, mask_phones(r.error_message), r.count) for r in snap.rows]


def rate_before(series: list[tuple[datetime, int]], at: datetime, span: int = 5) -> float:
    """Errors per minute just before ``at``: the mean of the last ``span`` complete minutes."""
    minutes = [n for m, n in series if m + timedelta(minutes=1) <= at][-span:]
    return sum(minutes) / len(minutes) if minutes else 0.0


def last_observed(events: list[ev.Event], actor: str) -> ev.Observed | None:
    """The last reading ``actor`` (a status page) wrote down."""
    for e in reversed(events):
        if isinstance(e.body, ev.Observed) and e.actor == actor:
            return e.body
    return None


def page_actor(update: PageUpdate) -> str:
    return f"status page {update.page.name}"


def status_observation(update: PageUpdate, earlier: ev.Observed | None) -> ev.Observed | None:
    """One journal event for one reading of a status page (however many components changed), or
    None when nothing changed. After a restart, the first reading repeats what the page said last
    time: it is not written down again."""
    lines = update.changes  # capped by the source (50, the last one saying how many more)
    if not lines:
        return None
    if update.previous is None and earlier is not None and earlier.lines == lines:
        return None
    if len(lines) == 1:
        return ev.Observed("status", lines[0])
    name = update.page.name
    first = lines[0].removeprefix(f"{name}: ")
    cut = re.fullmatch(re.escape(name) + r": … and (\d+) more changes?", lines[-1])
    more = len(lines) - 1 + (int(cut.group(1)) - 1 if cut else 0)
    return ev.Observed("status", f"{name}: {first} (and {more} more)", "\n".join(lines))


class LiveState:
    """See the module docstring. One per console; :meth:`begin` for each incident opened."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db: DbPoll | None = None
        self.git: GitSnapshot | GitProblem | None = None
        self.pages: dict[str, PageStatus] = {}
        self.correlation: Correlation | None = None
        self.suspect: Suspect | None = None
        self._last_peak: tuple[datetime, float] | None = None  # when, and its errors per minute
        self._last_series: datetime | None = None
        self._declaration_recorded = False

    # -- an incident opens --------------------------------------------------------------------------
    def begin(self, incident: Incident) -> None:
        """Forget what was seen for another incident; pick up the evidence already journaled."""
        self.db = None
        self.git = None
        self.pages = {}
        self.correlation = None
        self.suspect = None
        self._last_peak = None
        self._last_series = None
        self._declaration_recorded = False
        for e in incident.events:
            body = e.body
            if (
                isinstance(body, ev.EvidenceRecorded)
                and body.source == "deploy"
                and body.label == "suspected"
            ):
                with contextlib.suppress(ValueError, RecursionError):
                    self.suspect = Suspect.from_evidence(json.loads(body.data), body.summary) or self.suspect
            if not isinstance(body, ev.EvidenceRecorded) or body.source != "errors":
                continue
            if body.label == AT_DECLARATION:
                self._declaration_recorded = True
            if body.label in (PEAK, AT_DECLARATION, SERIES):
                self._last_series = e.at
            if body.label in (PEAK, AT_DECLARATION):
                with contextlib.suppress(ValueError, KeyError, TypeError, RecursionError):
                    self._last_peak = (e.at, float(json.loads(body.data).get("per_minute", 0.0)))

    # -- the sources' results -----------------------------------------------------------------------
    def tallies(self) -> TallySnapshot | None:
        data = self.db.errors if self.db is not None else None
        return data if isinstance(data, TallySnapshot) else None

    def take_db(self, poll: DbPoll, incident: Incident | None, now: datetime) -> list[ev.Body]:
        """A database poll came in; returns the evidence to journal: the tally at declaration
        (once), a new peak of errors per minute, and the per-minute series every half hour."""
        self.db = poll
        out: list[ev.Body] = self._correlate(incident, now)
        snap = self.tallies()
        if incident is None or snap is None or not incident.is_open or poll.is_stale(snap):
            return out
        if not self._declaration_recorded and snap.baseline_total is not None:
            rows = [ErrorLine(t, mask_phones(m), n) for t, m, n in snap.baseline_rows]
            rate = rate_before(snap.series(), incident.declared_at)
            out.append(
                errors_evidence(
                    AT_DECLARATION,
                    rows,
                    window=snap.window,
                    total=snap.baseline_total,
                    per_minute=rate,
                    series=[(m, n) for m, n in snap.series() if m < incident.declared_at],
                )
            )
            self._declaration_recorded = True
            self._last_peak = (now, rate)  # the first mark a peak must rise above
            self._last_series = now
        if not self._declaration_recorded and not snap.baseline_error:
            return out  # the declaration's tally comes first (its baseline loads after the first poll)
        rate = snap.trend.recent_per_minute
        last = self._last_peak
        if rate > 0 and (last is None or (rate > last[1] * PEAK_RISE and now - last[0] >= PEAK_EVERY)):
            out.append(_tally_now(PEAK, snap))
            self._last_peak = (now, rate)
            self._last_series = now
        elif self._last_series is None or now - self._last_series >= SERIES_EVERY:
            out.append(series_evidence(snap.series()))
            self._last_series = now
        return out

    def take_git(
        self, snapshot: GitSnapshot | GitProblem, incident: Incident | None, now: datetime
    ) -> list[ev.Body]:
        """The repository was read; returns the evidence to journal (a newly suspected deploy)."""
        self.git = snapshot
        return self._correlate(incident, now)

    def take_page(self, update: PageUpdate, incident: Incident | None) -> ev.Observed | None:
        """A status page was read; returns the journal event for what changed, if anything."""
        self.pages[update.page.name] = update.status
        if incident is None or not incident.is_open:
            return None
        return status_observation(update, last_observed(incident.events, page_actor(update)))

    def resolution_evidence(self) -> list[ev.Body]:
        """What the report keeps from the moment of resolution: the tally (the suspect was
        journaled when it was first seen)."""
        snap = self.tallies()
        if snap is None:
            return []
        return [_tally_now(AT_RESOLUTION, snap)]

    def _correlate(self, incident: Incident | None, now: datetime) -> list[ev.Body]:
        """Errors against commits; a deploy suspected for the first time is journaled at once (it
        stays the suspect once the spike is over: the report and the decision tree keep it)."""
        snap = self.tallies()
        if snap is None:
            return []
        commits = self.git.commits if isinstance(self.git, GitSnapshot) else None
        if self.settings.git.repo is None:
            commits = None
        corr = self.correlation = correlate(snap.series(), commits, snap.as_of)
        if corr is None:
            return []
        if corr.suspected:
            if self.suspect is not None and self.suspect.sha == corr.sha:
                if self.suspect.ended_at is not None:
                    self.suspect = replace(self.suspect, ended_at=None)  # it came back
                return []
            self.suspect = Suspect.of(corr)
            if incident is None or not incident.is_open:
                return []
            return [ev.EvidenceRecorded("deploy", "suspected", json.dumps(corr.as_dict()), corr.sentence)]
        if corr.kind == "no_spike" and self.suspect is not None and self.suspect.ended_at is None:
            self.suspect = replace(self.suspect, ended_at=now)
        return []

    def effective_correlation(self) -> Correlation | None:
        """The live correlation, or, once the spike is over, the suspect's (while the repository
        still shows its commit): the decision tree keeps its answer and its rollback."""
        corr = self.correlation
        if corr is not None and corr.suspected:
            return corr
        suspect = self.suspect
        if suspect is None or not isinstance(self.git, GitSnapshot):
            return corr
        commit = next((c for c in self.git.commits if c.sha == suspect.sha), None)
        if commit is None or suspect.spike_at is None:
            return corr
        return Correlation("deploy", suspect.spike_at, commit, suspect.spike_at - commit.committed_at)

    def fixes(self, incident: Incident | None) -> frozenset[str]:
        """The commits that end the incident rather than breach its freeze: marked as the fix
        (``f`` in the commits pane), or a revert of the suspect."""
        marked = {sha for sha, role in (incident.marked_commits.items() if incident else ()) if role == "fix"}
        out = set()
        if isinstance(self.git, GitSnapshot):
            for c in self.git.commits:
                reverts = self.suspect is not None and is_revert_of(c.subject, self.suspect)
                if c.sha in marked or c.short_sha in marked or reverts:
                    out.add(c.sha)
        return frozenset(out)

    # -- what follows ---------------------------------------------------------------------------------
    def page_readings(self) -> list[PageStatus]:
        """Each page's last readable answer (an unreadable page keeps saying what it said last)."""
        out = []
        for st in self.pages.values():
            shown = st if st.readable else st.last_good
            if shown is not None:
                out.append(shown)
        return out

    def upstream(self) -> Upstream | None:
        """The pages in trouble for the header; None when every page reads healthy."""
        bad = [
            s
            for s in self.page_readings()
            if s.alarm or s.indicator not in ("none", "unknown") or s.components
        ]
        bad_names = {s.name for s in bad}
        unreadable = [s.name for s in self.pages.values() if not s.readable and s.name not in bad_names]
        if not bad and not unreadable:
            return None
        names = ", ".join([*(s.name for s in bad), *(f"{n}?" for n in unreadable)])
        return Upstream(names, any(s.alarm for s in bad), trouble=bool(bad))

    def health(self) -> HealthSnapshot | None:
        data = self.db.health if self.db is not None else None
        return data if isinstance(data, HealthSnapshot) else None

    def decision(self, incident: Incident | None) -> Decision:
        snap = self.tallies()
        trend = snap.trend.direction if snap is not None else None
        said = recorded_answer(incident.answers, ALL_USERS) if incident is not None else None
        answers = decide(self.effective_correlation(), trend, said)
        poll = self.db
        health = self.health()
        sms = poll.sms if poll is not None and isinstance(poll.sms, SmsSnapshot) else None
        alarms: list[str] = []
        for st in self.page_readings():
            if st.alarm:
                alarms.append(st.name)
            alarms += [f"{st.name} › {c.label}" for c in st.components]
        corr = self.effective_correlation()
        evidence = Evidence(
            top_errors=tuple((f"{r.error_type}: {r.error_message}", r.count) for r in snap.rows)
            if snap
            else (),
            database_reachable=(poll.connected if poll is not None and self.settings.database.dsn else None),
            connection_usage=health.used_fraction if health is not None else None,
            sms_failures=sms.total_failed if sms is not None else 0,
            upstream_alarms=tuple(alarms),
            functions_deployed=corr.commit.functions
            if corr is not None and corr.suspected and corr.commit
            else (),
            spike=corr is not None and corr.spike_at is not None,
        )
        return Decision(tuple(answers), tuple(score_runbooks(evidence)))

    def facts(self, incident: Incident | None = None) -> LiveFacts:
        """What the templates are filled with."""
        snap = self.tallies()
        poll = self.db
        db_line = None
        rate_line = None
        if poll is not None:
            h = poll.health
            if isinstance(h, HealthSnapshot):
                longest = f", longest query {h.longest.seconds:.0f} s" if h.longest else ""
                db_line = (
                    f"{h.total}/{h.max_connections} connections, {h.running} running, "
                    f"{h.blocked_count} blocked{longest}"
                )
                if not poll.connected:
                    db_line = f"unreachable ({poll.connection.last_error}); last seen: {db_line}"
            elif not poll.connected and self.settings.database.dsn:
                db_line = f"unreachable ({poll.connection.last_error})"
            r = poll.error_rate
            if isinstance(r, ErrorRateSnapshot) and r.current is not None:
                rate_line = rate_words(r)
        degraded = []
        for st in self.page_readings():
            degraded += [f"{st.name}: {c.label} ({c.status_text})" for c in st.components]
        commits = []
        suspected = self.suspect.describe(UTC) if self.suspect is not None else None
        if isinstance(self.git, GitSnapshot):
            fixes = self.fixes(incident)
            commits = [
                CommitLine(
                    c.short_sha,
                    c.subject,
                    c.author,
                    c.committed_at,
                    c.is_deploy,
                    c.is_migration,
                    c.freeze_breach,
                    c.sha in fixes,
                )
                for c in self.git.commits
            ]
            fix = next((c for c in commits if c.fix), None)
            if suspected is not None and fix is not None:
                suspected += f"; fixed by {fix.sha} {fix.subject}"  # what was done about it
        return LiveFacts(
            top_errors=tuple(error_lines(snap)) if snap else (),
            db_health=db_line,
            suspected_deploy=suspected,
            degraded_components=tuple(degraded),
            error_rate=rate_line,
            errors_per_minute=snap.trend.describe() if snap is not None else None,
            commits=tuple(commits),
        )

    def rate_hint(self) -> RateHint | None:
        """The measured error rate for the "error rate < 1%" resolution criterion."""
        r = self.db.error_rate if self.db is not None else None
        if not isinstance(r, ErrorRateSnapshot):
            return None
        criterion: Literal["met", "not met", "unknown"] = (
            r.criterion if r.criterion in ("met", "not met") else "unknown"  # type: ignore[assignment]
        )
        return RateHint(f"live: {r.summary} [{r.criterion}]", criterion)


def rate_words(r: ErrorRateSnapshot) -> str | None:
    """The error rate as a status update says it: "25.8%, above the 1% threshold", or
    "0.4%; below 1% for 12 min (needs 30 min)"."""
    if r.current is None:
        return None
    if r.below_since is None:
        return f"{r.current:.1f}%, above the {r.threshold:g}% threshold"
    return f"{r.current:.1f}%; {r.summary}"


def _tally_now(label: str, snap: TallySnapshot) -> ev.EvidenceRecorded:
    """The evidence of the tally as it stands (the peak, the resolution)."""
    return errors_evidence(
        label,
        error_lines(snap),
        window=snap.window,
        total=snap.total,
        per_minute=snap.trend.recent_per_minute,
        series=snap.series(),
    )
