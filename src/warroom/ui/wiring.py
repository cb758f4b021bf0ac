"""The console's sources: the database poll, the git reader and the status pages, their workers,
and what the app derives from them (deploy correlation, the decision tree, live facts for the
templates, evidence for the report).

Workers run with ``exit_on_error=False`` in named groups, start on the App (never on a pane that
may be recomposed), and never overlap: the database loop sleeps after each cycle, the git reader
is skipped while the previous read runs, the status poller fetches only pages whose minute is up.
Heavy libraries (asyncpg, GitPython, httpx) are imported inside the workers, after the first frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from warroom.incident import events as ev
from warroom.text import mask_phones

if TYPE_CHECKING:
    from warroom.comms.context import ErrorLine, LiveFacts
    from warroom.runbooks import Answer, RunbookMatch
    from warroom.sources.correlation import Correlation
    from warroom.sources.dbtypes import DbPoll
    from warroom.sources.git import GitProblem, GitSnapshot
    from warroom.sources.statuspage import PageStatus, PageUpdate
    from warroom.ui.app import WarroomApp

PEAK_EVERY = timedelta(minutes=5)  # at most one "peak" evidence record per 5 minutes
PEAK_RISE = 1.10  # and only when the window's total is 10 % above the last recorded peak


def error_lines(snap: Any) -> list[ErrorLine]:
    """The tally's rows as the comms' ErrorLine, phone numbers masked (templates, report)."""
    from warroom.comms.context import ErrorLine

    return [ErrorLine(r.error_type, mask_phones(r.error_message), r.count) for r in snap.rows]


def last_observed(events: list[ev.Event], actor: str) -> ev.Observed | None:
    """The last reading ``actor`` (a status page) wrote down."""
    for e in reversed(events):
        if isinstance(e.body, ev.Observed) and e.actor == actor:
            return e.body
    return None


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


class SourcesMixin:
    """Mixed into :class:`~warroom.ui.app.WarroomApp`."""

    db_poll: DbPoll | None
    git_snapshot: GitSnapshot | GitProblem | None
    status_pages: dict[str, PageStatus]
    status_note: str
    correlation: Correlation | None

    def _init_sources(self) -> None:
        self.db_poll = None
        self.git_snapshot = None
        self.status_pages = {}
        self.status_note = ""
        self.correlation = None
        self._db_source: Any = None
        self._db_stop: asyncio.Event | None = None
        self._demo_stop: asyncio.Event | None = None
        self._git_worker: Worker[Any] | None = None
        self._git_timer: Any = None
        self._last_peak: tuple[datetime, int] | None = None
        self._declaration_recorded = False

    @property
    def _app(self) -> WarroomApp:
        return self  # type: ignore[return-value]

    # -- starting and stopping -----------------------------------------------------------------------
    def start_sources(self) -> None:
        app = self._app
        self.stop_sources()
        inc = app.incident
        if inc is None:
            return
        self._last_peak = None
        self._declaration_recorded = any(
            isinstance(e.body, ev.EvidenceRecorded)
            and e.body.source == "errors"
            and e.body.label == "at declaration"
            for e in inc.events
        )
        for e in inc.events:
            if isinstance(e.body, ev.EvidenceRecorded) and e.body.label in ("peak", "at declaration"):
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    self._last_peak = (e.at, int(json.loads(e.body.data)["total"]))
        s = app.settings
        if s.database.dsn:
            self._db_stop = asyncio.Event()
            app.run_worker(
                self._run_db(inc.declared_at, self._db_stop),
                group="db",
                name="db-poll",
                exit_on_error=False,
                description="database poll",
            )
        if s.git.repo is not None:
            self._poll_git()
            self._git_timer = app.set_interval(
                s.git.poll_interval.total_seconds(), self._poll_git, name="git"
            )
        if s.status.pages:
            app.run_worker(self._run_status(), group="status", name="status-poll", exit_on_error=False)
        demo = getattr(app, "demo", None)
        if demo is not None:
            self._demo_stop = asyncio.Event()
            app.run_worker(
                demo.run_generator(self._demo_stop, self._mitigated),
                group="demo",
                name="demo-generator",
                exit_on_error=False,
                description="the demo incident",
            )

    def _mitigated(self) -> bool:
        """For the demo: the incident has reached Mitigation (a rollback is under way)."""
        inc = self._app.incident
        if inc is None:
            return False
        pb = self._app.settings.playbook
        return not inc.is_open or pb.phase_index(inc.phase) >= pb.phase_index("mitigation")

    def reset_sources(self) -> None:
        """Forget what the sources showed for the previous incident."""
        self.db_poll = None
        self.git_snapshot = None
        self.status_pages = {}
        self.correlation = None
        self._db_source = None
        self._last_peak = None
        self._declaration_recorded = False

    def stop_sources(self) -> None:
        app = self._app
        for stop in (self._db_stop, self._demo_stop):
            if stop is not None:
                stop.set()
        app.workers.cancel_group(app, "db")
        app.workers.cancel_group(app, "demo")
        app.workers.cancel_group(app, "status")
        if self._git_timer is not None:
            self._git_timer.stop()
            self._git_timer = None

    # -- the database -----------------------------------------------------------------------------------
    async def _run_db(self, declared_at: datetime, stop: asyncio.Event) -> None:
        from warroom.sources.postgres import PostgresSource

        source = PostgresSource(self._app.settings, declared_at=declared_at)
        self._db_source = source
        try:
            await source.run(self._db_polled, stop)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(source.close())

    def _db_polled(self, poll: DbPoll) -> None:
        app = self._app
        self.db_poll = poll
        try:
            self._record_tally_evidence(poll)
            self._update_correlation()
        except Exception as exc:  # evidence is a nicety; the panes must still update
            app.log.error(f"after the database poll: {exc!r}")
        app.publish("db")
        app.publish("facts")

    def retry_db(self, pane: str) -> None:
        if self._db_source is None:
            self._app.say("No database is configured.", severity="warning")
            return
        self._db_source.retry(pane)
        self._app.say(f"Retrying the {pane} query.")

    def tallies(self) -> Any:
        from warroom.sources.tallies import TallySnapshot

        data = self.db_poll.errors if self.db_poll is not None else None
        return data if isinstance(data, TallySnapshot) else None

    # -- evidence for the report -------------------------------------------------------------------------
    def _record_tally_evidence(self, poll: DbPoll) -> None:
        from warroom.comms.context import ErrorLine
        from warroom.comms.report import errors_evidence

        app = self._app
        inc = app.incident
        snap = self.tallies()
        if inc is None or snap is None or not inc.is_open or poll.is_stale(snap):
            return
        if not self._declaration_recorded and snap.baseline_total is not None:
            rows = [ErrorLine(t, mask_phones(m), n) for t, m, n in snap.baseline_rows]
            if app.record(
                errors_evidence("at declaration", rows, window=snap.window, total=snap.baseline_total)
            ):
                self._declaration_recorded = True
                # the declaration's tally is the first mark a peak must rise above
                self._last_peak = (app.clock(), snap.baseline_total)
        if not self._declaration_recorded and not snap.baseline_error:
            return  # the declaration's tally comes first (its baseline loads after the first poll)
        now = app.clock()
        last = self._last_peak
        if snap.total > 0 and (
            last is None or (snap.total > last[1] * PEAK_RISE and now - last[0] >= PEAK_EVERY)
        ):
            rows = error_lines(snap)
            if app.record(errors_evidence("peak", rows, window=snap.window, total=snap.total)):
                self._last_peak = (now, snap.total)

    def record_resolution_evidence(self) -> None:
        from warroom.comms.report import errors_evidence

        snap = self.tallies()
        if snap is not None:
            rows = error_lines(snap)
            self._app.record(errors_evidence("at resolution", rows, window=snap.window, total=snap.total))
        corr = self.correlation
        if corr is not None and corr.suspected:
            self._app.record(
                ev.EvidenceRecorded("deploy", "suspected", json.dumps(corr.as_dict()), corr.sentence)
            )

    # -- git ----------------------------------------------------------------------------------------------
    def _poll_git(self) -> None:
        if self._git_worker is not None and self._git_worker.is_running:
            return  # the previous read is still running: never overlap
        self._git_worker = self._app.run_worker(
            self._read_git, thread=True, group="git", name="git-read", exit_on_error=False
        )

    def _read_git(self) -> None:
        from warroom.sources.git import read_commits

        app = self._app
        inc = app.incident
        freeze = inc.freeze_intervals() if inc is not None else []
        snap = read_commits(app.settings.git, now=app.clock(), freeze=freeze)
        app.call_from_thread(self._git_read, snap, inc.id if inc is not None else None)

    def _git_read(self, snap: GitSnapshot | GitProblem, incident_id: str | None = None) -> None:
        inc = self._app.incident
        if inc is not None and incident_id != inc.id:
            # read for the incident open before a switch (its freeze intervals): read again
            self._app.call_later(self._poll_git)
            return
        self.git_snapshot = snap
        self._update_correlation()
        self._app.publish("git")
        self._app.publish("facts")

    # -- status pages ---------------------------------------------------------------------------------------
    async def _run_status(self) -> None:
        from warroom.sources.statuspage import StatusPoller, make_client

        app = self._app
        async with make_client() as client:
            poller = StatusPoller(app.settings.status, client=client)
            while True:
                for update in await poller.poll_due():
                    await self._status_update(update)
                due = min(poller.next_due(p) for p in poller.pages)
                wait = max(1.0, min(30.0, (due - poller.clock()).total_seconds()))
                await asyncio.sleep(wait)

    async def _status_update(self, update: PageUpdate) -> None:
        app = self._app
        self.status_pages[update.page.name] = update.status
        inc = app.incident
        if inc is not None and inc.is_open:
            actor = f"status page {update.page.name}"
            body = status_observation(update, last_observed(inc.events, actor))
            if body is not None:
                await app.record_in_thread(body, actor=actor)
        app.publish("status")
        app.publish("facts")
        for header in app.screen.query("IncidentHeader"):
            header.refresh()

    # -- derived ------------------------------------------------------------------------------------
    def page_readings(self) -> list[PageStatus]:
        """Each page's last readable answer (an unreadable page keeps saying what it said last)."""
        out = []
        for st in self.status_pages.values():
            shown = st if st.readable else st.last_good
            if shown is not None:
                out.append(shown)
        return out

    def upstream_summary(self) -> tuple[str, str] | None:
        """For the header: the upstream pages in trouble ("■ Twilio", "Supabase?" when unreadable),
        with a style; None when every page reads healthy."""
        bad = [
            s
            for s in self.page_readings()
            if s.alarm or s.indicator not in ("none", "unknown") or s.components
        ]
        bad_names = {s.name for s in bad}
        unreadable = [
            s.name for s in self.status_pages.values() if not s.readable and s.name not in bad_names
        ]
        if not bad and not unreadable:
            return None
        names = ", ".join([*(s.name for s in bad), *(f"{n}?" for n in unreadable)])
        if any(s.alarm for s in bad):
            return f"■ {names}", "bold $text on $error-darken-1"
        return f"▲ {names}", "bold $text on $warning-darken-2"

    def _update_correlation(self) -> None:
        from warroom.sources.correlation import correlate
        from warroom.sources.git import GitSnapshot

        snap = self.tallies()
        if snap is None:
            return
        git = self.git_snapshot
        commits = git.commits if isinstance(git, GitSnapshot) else None
        if self._app.settings.git.repo is None:
            commits = None
        self.correlation = correlate(snap.series(), commits, snap.as_of)
        self._app.publish("correlation")

    def decision(self) -> tuple[list[Answer], list[RunbookMatch]]:
        from warroom.runbooks import ALL_USERS, Evidence, decide, recorded_answer, score_runbooks
        from warroom.sources.dbtypes import HealthSnapshot, SmsSnapshot

        app = self._app
        inc = app.incident
        snap = self.tallies()
        trend = snap.trend.direction if snap is not None else None
        said = recorded_answer(inc.answers, ALL_USERS) if inc is not None else None
        answers = decide(self.correlation, trend, said)
        poll = self.db_poll
        health = poll.health if poll is not None and isinstance(poll.health, HealthSnapshot) else None
        sms = poll.sms if poll is not None and isinstance(poll.sms, SmsSnapshot) else None
        alarms = []
        for st in self.page_readings():
            if st.alarm:
                alarms.append(st.name)
            alarms += [f"{st.name} › {c.label}" for c in st.components]
        corr = self.correlation
        evidence = Evidence(
            top_errors=tuple((f"{r.error_type}: {r.error_message}", r.count) for r in snap.rows)
            if snap
            else (),
            database_reachable=(poll.connected if poll is not None and app.settings.database.dsn else None),
            connection_usage=health.used_fraction if health is not None else None,
            sms_failures=sms.total_failed if sms is not None else 0,
            upstream_alarms=tuple(alarms),
            functions_deployed=corr.commit.functions
            if corr is not None and corr.suspected and corr.commit
            else (),
            spike=corr is not None and corr.spike_at is not None,
        )
        return answers, score_runbooks(evidence)

    def action_answer_all_users(self) -> None:
        from warroom.runbooks import ALL_USERS
        from warroom.ui.screens.modals import ChoiceModal

        app = self._app
        if app.incident is None:
            return

        def done(answer: str | None) -> None:
            if answer:
                app.record(ev.Answered(ALL_USERS.text, answer))

        choices = [("yes", "Yes: check platform status"), ("no", "No: check user-specific data")]
        app.push_screen(ChoiceModal(ALL_USERS.text, choices), done)

    def live_facts(self) -> LiveFacts:
        from warroom.comms.context import CommitLine, LiveFacts
        from warroom.sources.dbtypes import ErrorRateSnapshot, HealthSnapshot
        from warroom.sources.git import GitSnapshot

        app = self._app
        snap = self.tallies()
        poll = self.db_poll
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
            elif not poll.connected and app.settings.database.dsn:
                db_line = f"unreachable ({poll.connection.last_error})"
            r = poll.error_rate
            if isinstance(r, ErrorRateSnapshot) and r.current is not None:
                rate_line = f"{r.current:.1f}% ({r.summary})"
        degraded = []
        for st in self.page_readings():
            degraded += [f"{st.name}: {c.label} ({c.status_text})" for c in st.components]
        git = self.git_snapshot
        commits = []
        if isinstance(git, GitSnapshot):
            commits = [
                CommitLine(
                    c.short_sha,
                    c.subject,
                    c.author,
                    c.committed_at,
                    c.is_deploy,
                    c.is_migration,
                    c.freeze_breach,
                )
                for c in git.commits
            ]
        corr = self.correlation
        return LiveFacts(
            top_errors=error_lines(snap) if snap else [],
            db_health=db_line,
            suspected_deploy=corr.sentence if corr is not None and corr.suspected else None,
            degraded_components=degraded,
            error_rate=rate_line,
            commits=commits,
        )

    def live_hint(self, checklist: str, item: str) -> tuple[str, str] | None:
        """The measured error rate beside the resolution criterion it decides."""
        from warroom.sources.dbtypes import ErrorRateSnapshot

        if checklist != "resolution" or "error rate" not in item.replace("-", " "):
            return None
        poll = self.db_poll
        r = poll.error_rate if poll is not None else None
        if not isinstance(r, ErrorRateSnapshot):
            return None
        style = {"met": "bold $text-success", "not met": "$text-error"}.get(r.criterion, "$text-warning")
        return (f"live: {r.summary} [{r.criterion}]", style)
