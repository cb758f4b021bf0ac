"""The warroom Textual app: the incident, the actions, the clock, and the path from the sources
to the panes.

The path, one way: a poller (:mod:`warroom.ui.pollers`) reads a source in a worker and posts a
typed message up to the app (``DbPolled``, ``GitRead``, ``PageRead``); the app hands it to the
Textual-free :class:`~warroom.live.LiveState`, journals the evidence it returns, and feeds each
pane exactly what it shows (:meth:`WarroomApp.feed`; a pane behind another tab, when it is
shown). Every action a responder takes is appended to the journal *before* the screen shows it;
each journal event reaches the panes through ``show_incident``. Once a second the clock reaches
only the text that depends on it.

Over 700 lines because it is where every source, integration (reach), the shared war room and
the read-only view meet the screen: each has its module (warroom.ui.pollers, reach, shared,
readonly, actions, comms, dbactions, palette), and the app keeps the few lines that hand each
one the incident, the clock and the panes, and every ``action_`` Textual looks for on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from warroom.durations import clock_time
from warroom.heap import HEAP_SETTLED_AFTER, TRIM_EVERY, freeze_heap, give_back_freed_memory
from warroom.settings import Settings

if TYPE_CHECKING:
    from warroom.comms.context import LiveFacts
from warroom.incident import events as ev
from warroom.incident.journal import RECOVER_COMMAND, Journal, JournalError, Problem, system_clock
from warroom.incident.state import Incident, order_key
from warroom.lifeline import Lifeline
from warroom.live import LiveState
from warroom.sources.command import CommandRuns, kill_everything
from warroom.ui.actions import IncidentActions
from warroom.ui.base import Pane
from warroom.ui.comms import Comms
from warroom.ui.dbactions import DbActions
from warroom.ui.palette import help_sections, pane_sections, system_commands
from warroom.ui.pollers import DbPolled, GitRead, PageRead, Pollers
from warroom.ui.reach import Reach
from warroom.ui.screens.console import ConsoleScreen
from warroom.ui.shared import TeamLink
from warroom.ui.themes import DEFAULT_THEME, load_themes, resolve_name

Clock = Callable[[], datetime]


class WarroomApp(App[int]):
    """The console. ``clock`` and ``blink`` are injectable so tests can freeze time and the cursor."""

    CSS_PATH = str(Path(__file__).with_name("warroom.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "warroom"
    BINDINGS: ClassVar = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="ctrl_c_quit"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        journal: Journal | None = None,
        incident_id: str | None = None,
        clock: Clock = system_clock,
        blink: bool = True,
        watch_terminal: bool = True,
        tick_interval: float = 1.0,
        system_copy: Any = "pyperclip",
        demo: Any = None,
        lifeline: Lifeline | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        # The read-only view (warroom.ui.readonly): write actions refused in run_action, and a
        # journal that cannot write underneath. It runs no command (a stakeholder's browser
        # session would start the responders' log tails: their output is theirs).
        self.read_only = read_only
        if read_only:
            settings = dataclasses.replace(settings, command_panes=())
        self.lifeline = lifeline
        self.settings = settings
        self.clock = clock
        self.blink = blink
        if read_only:
            self.journal: Journal = read_only_journal(journal, settings, clock)
        else:
            self.journal = journal or Journal(settings.journal_path, actor=settings.user, clock=clock)
        self.requested_incident = incident_id
        self.incident: Incident | None = None
        self.bells: list[tuple[datetime, str]] = []
        self._bell_state: dict[str, tuple[datetime, datetime]] = {}
        self._watch_terminal = watch_terminal
        self._tick_interval = tick_interval
        self._db_feed_due = False  # a poll's data waits for the next tick's paint
        self._db_shape: tuple[Any, ...] | None = None  # what the last poll shown had (see on_db_polled)
        self.comms = Comms(self, system_copy=system_copy)
        self.actions = IncidentActions(self)
        self.reach = Reach(self)  # PagerDuty, Slack, Twilio (warroom.ui.reach)
        # [[command_panes]]: their commands, started after the first frame, ended with the app.
        self.commands = CommandRuns(settings.command_panes)
        self.db_actions = DbActions(self)  # cancel, terminate, pause a campaign (warroom.ui.dbactions)
        self.demo = demo
        self.live = LiveState(settings)
        self.pollers = Pollers(self)
        self.team = TeamLink(self)  # the shared war room (warroom.ui.shared); idle when not configured
        self.views: set[Any] = set()  # the mounted panes (and the header) the app feeds
        self.status_note = (
            "local stand-in (demo), not the real pages"
            if demo is not None and getattr(demo, "standin", False)
            else ""
        )

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        """Every action (keys, clicks, palette) passes here: the read-only view refuses those that
        write, with one line saying so."""
        if self.read_only:
            from warroom.ui.readonly import action_name, refusal

            refused = refusal(action_name(action))
            if refused is not None:
                self.say(refused, severity="warning", timeout=4)
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def _check_action_state(self, action: str, default_namespace: Any) -> bool | None:
        """The footer of the read-only view leaves out the keys it refuses (they still answer,
        through run_action, with their notice)."""
        if self.read_only:
            from warroom.ui.readonly import action_name, refusal

            if refusal(action_name(action)) is not None:
                return False
        return super()._check_action_state(action, default_namespace)

    # -- start-up ---------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._register_themes()
        for notice in self.journal.notices:
            self.say(notice, severity="warning", timeout=12)
        if self.settings.config_path is not None and self._watch_terminal:
            where = f" ({self.settings.config_origin})" if self.settings.config_origin else ""
            self.say(f"Configuration: {self.settings.config_path}{where}", timeout=5)
        self.set_interval(self._tick_interval, self.tick, name="tick")
        self.set_interval(1.0, self.sync_journal, name="journal-sync")
        if self._watch_terminal and self.lifeline is not None:
            self.lifeline.attach(asyncio.get_running_loop(), self._hangup)
        self.call_later(self._choose_incident)
        self.call_after_refresh(self.reach.start_polls)
        self.set_timer(HEAP_SETTLED_AFTER, freeze_heap, name="gc-freeze")
        self.set_interval(TRIM_EVERY, give_back_freed_memory, name="malloc-trim")
        if self.commands.runs:
            self.call_after_refresh(self._start_commands)

    def _start_commands(self) -> None:
        self.run_worker(
            self.commands.start_all,
            thread=True,
            group="commands",
            exit_on_error=False,
            description="start the command panes' commands",
        )

    async def on_unmount(self) -> None:
        """The app is ending: every command pane's process group ends with it (SIGTERM, then
        SIGKILL after its grace period)."""
        if self.commands.runs:
            await asyncio.to_thread(self.commands.stop_all)

    def _register_themes(self) -> None:
        loaded = load_themes()
        for theme in loaded.themes:
            self.register_theme(theme)
        wanted = resolve_name(self.settings.theme)
        problems = list(loaded.problems)
        if wanted not in self.available_themes:
            problems.append(f"theme {self.settings.theme!r} is not available")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        if problems:
            self.say("; ".join(problems) + f" — using {wanted}", severity="warning", timeout=12)

    def _choose_incident(self) -> None:
        from warroom.ui.screens.declare import DeclareScreen
        from warroom.ui.screens.pick import PickIncidentScreen

        if self.requested_incident is not None:
            self.open_incident(self.requested_incident)
            return
        try:
            open_ = self.journal.open_incidents(self.settings.playbook)
        except JournalError as exc:
            self.exit(1, message=str(exc))
            return
        self._tell_problems(open_.problems)
        if not open_ and self.read_only:
            self.exit(1, message="read-only view: no incident is open")
            return
        if len(open_) == 1:
            self.open_incident(open_[0].id)
        elif not open_:
            self.push_screen(DeclareScreen(), self._declared)
        else:
            self.push_screen(PickIncidentScreen(open_), self._picked)

    def _tell_problems(self, problems: Sequence[Problem]) -> None:
        """Incidents that cannot be opened (damaged events): said, with the way out, so nobody
        lands on a declare form without knowing why their incident is not there."""
        if problems:
            shown = "; ".join(p.line for p in problems[:3]) + (" …" if len(problems) > 3 else "")
            self.say(f"{shown} — run `{RECOVER_COMMAND}`", severity="warning", timeout=20)

    def _declared(self, incident_id: str | None) -> None:
        if incident_id:
            self.open_incident(incident_id)

    def _picked(self, choice: str | None) -> None:
        from warroom.ui.screens.declare import DeclareScreen
        from warroom.ui.screens.pick import NEW

        if choice == NEW:
            self.push_screen(DeclareScreen(cancellable=self.incident is not None), self._declared)
        elif choice:
            self.open_incident(choice)

    # -- incident --------------------------------------------------------------------------------
    def declare(self, severity: str, title: str, impact: str, lead: str) -> str | None:
        """A new incident on this journal (with a shared database: TeamLink.declare, which asks
        the team for the id without blocking the UI loop)."""
        fields: dict[str, Any] = {"impact": impact, "lead": lead, "playbook": self.settings.playbook}
        try:
            event = self.journal.declare(severity, title, **fields)
        except (JournalError, ValueError) as exc:
            self.say(str(exc), severity="error")
            return None
        return event.incident_id

    def open_incident(self, incident_id: str) -> None:
        try:
            incident = self.journal.load(incident_id, self.settings.playbook)
        except JournalError as exc:
            self.exit(1, message=str(exc))
            return
        # The previous incident's sources and derived state go first, before anything can land
        # on the new incident (evidence, timeline notes).
        self.pollers.stop()
        self.live.begin(incident)
        self.incident = incident
        self._bell_state.clear()
        self.comms.forget_undo()
        self.incident_opened()
        self.team.start(incident.id)
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ConsoleScreen):
            self.pop_screen()
        if isinstance(self.screen, ConsoleScreen):
            self.screen.refresh(recompose=True)
        else:
            self.push_screen(ConsoleScreen())
        self.tick()

    def incident_opened(self) -> None:
        """(Re)start the data sources for the incident now open, once the screen is painted
        (their imports and first queries must not delay the first frame)."""
        self.call_after_refresh(self.start_sources)

    def start_sources(self) -> None:
        if self.incident is not None:
            self.pollers.start(self.incident)

    def sync_journal(self) -> None:
        """Fold events appended since the last look (ours or another process's)."""
        inc = self.incident
        if inc is None:
            return
        try:
            new = self.journal.events(inc.id, after_seq=inc.last_seq)
        except JournalError as exc:
            self.say(str(exc), severity="error")
            return
        if not new:
            return
        self.team.poke()
        if inc.events and min(map(order_key, new)) < order_key(inc.events[-1]):
            # Another console's events that belong before ours (a shared incident): fold again,
            # in the one order every console uses.
            try:
                inc.become(self.journal.load(inc.id, self.settings.playbook))
            except JournalError as exc:
                self.say(str(exc), severity="error")
                return
            self.feed_incident()
            return
        for event in new:
            try:
                inc.apply(event)
            except ValueError as exc:
                self.say(f"event {event.seq} cannot be applied: {exc}", severity="error")
        self.feed_incident()

    def team_changed(self) -> None:
        """The shared war room's status changed (online, offline since, who is here)."""
        from warroom.ui.header import IncidentHeader

        for view in list(self.views):
            if isinstance(view, IncidentHeader):
                view.team = self.team.status

    def record(self, body: ev.Body) -> ev.Event | None:
        """Append to the journal (durable), then fold and show. Returns the event, or None (and
        says why)."""
        event, problem = self._append(body)
        if problem:
            self.say(problem, severity="error", timeout=15)
        return event

    def try_record(self, body: ev.Body) -> str | None:
        """Like :meth:`record` for a dialog: why it could not be written (the dialog stays open
        with what was typed), or None."""
        return self._append(body)[1]

    def _append(self, body: ev.Body) -> tuple[ev.Event | None, str | None]:
        inc = self.incident
        if inc is None:
            return None, "No incident is open."
        if self.read_only:
            return None, "read-only view: nothing is written"
        try:
            event = self.journal.append(inc.id, body)
        except JournalError as exc:
            return None, f"Not saved: {exc}"
        self.sync_journal()
        return event, None

    async def record_in_thread(self, body: ev.Body, *, actor: str | None = None) -> ev.Event | None:
        """Like :meth:`record`, with the write (its fsync) off the UI loop: for what the sources
        write down, which nobody is waiting to see at once."""
        inc = self.incident
        if inc is None or self.read_only:  # the responders' consoles journal the evidence
            return None
        try:
            event = await asyncio.to_thread(self.journal.append, inc.id, body, actor=actor)
        except JournalError as exc:
            self.say(str(exc), severity="error", timeout=15)
            return None
        self.sync_journal()
        return event

    # -- feeding the panes ------------------------------------------------------------------------
    def attach(self, view: Any) -> None:
        """A pane (or the header) was mounted: remember it and give it what it shows."""
        self.views.add(view)
        self.feed(view)

    def detach(self, view: Any) -> None:
        self.views.discard(view)

    def feed(self, view: Any) -> None:
        """Everything ``view`` shows, from the incident and the live state (one place: read it to
        know which pane shows what)."""
        from warroom.ui.header import IncidentHeader
        from warroom.ui.panes.checklist import ChecklistPane
        from warroom.ui.panes.commits import CommitsPane
        from warroom.ui.panes.database import DbPane
        from warroom.ui.panes.decision import DecisionPane
        from warroom.ui.panes.templates import TemplatesPane
        from warroom.ui.panes.upstream import StatusPane

        live = self.live
        try:
            if isinstance(view, DbPane):
                self._feed_db(view)
            elif isinstance(view, CommitsPane):
                view.git = live.git
                view.correlation = live.correlation
                view.suspect = live.suspect
                view.fixes = live.fixes(self.incident)
            elif isinstance(view, StatusPane):
                view.pages = dict(live.pages)
            elif isinstance(view, DecisionPane):
                view.decision = live.decision(self.incident)
            elif isinstance(view, TemplatesPane):
                view.facts = self.live_facts()
            elif isinstance(view, ChecklistPane):
                view.rate = live.rate_hint()
            elif isinstance(view, IncidentHeader):
                view.upstream = live.upstream()
                view.team = self.team.status
            if self.incident is not None:
                view.show_incident(self.incident)
        except Exception as exc:  # a pane that cannot render must not end the console
            self.log.error(f"{view!r} failed to render: {exc!r}")

    def _feed_db(self, pane: Any) -> None:
        from warroom.ui.panes.database import DbView, ErrorsPane, HealthPane, QueryTablePane, SmsPane

        poll = self.live.db
        if poll is None:
            return
        if isinstance(pane, ErrorsPane):
            pane.view = DbView.of(poll, poll.errors)
        elif isinstance(pane, HealthPane):
            # drawn with the view, just below (each of them set on its own drew the pane again)
            pane.set_reactive(HealthPane.rate, poll.error_rate)
            pane.set_reactive(HealthPane.statements, poll.statements)
            pane.view = DbView.of(poll, poll.health)
        elif isinstance(pane, SmsPane):
            pane.view = DbView.of(poll, poll.sms)
        elif isinstance(pane, QueryTablePane):
            pane.view = DbView.of(poll, poll.panes[pane.index] if pane.index < len(poll.panes) else None)

    def feed_all(self) -> None:
        """Every view, everything it shows (after the live state was changed from outside)."""
        for view in self._shown_views():
            self.feed(view)

    def _feed_where(self, *kinds: type) -> None:
        for view in self._shown_views():
            if isinstance(view, kinds):
                self.feed(view)

    def _shown_views(self) -> list[Any]:
        """The views on screen; the others are marked ``behind`` and fed when shown (see
        :func:`warroom.ui.base.displayed`)."""
        from warroom.ui.base import displayed

        shown = []
        for view in list(self.views):
            if displayed(view):
                shown.append(view)
            else:
                view.behind = True
        return shown

    def catch_up(self, view: Any) -> None:
        """``view`` is shown again after it was left behind: everything it shows, and the time."""
        self.feed(view)
        if self.incident is not None:
            try:
                view.show_clock(self.clock())
            except Exception as exc:  # a pane that cannot render must not end the console
                self.log.error(f"{view!r} failed to render: {exc!r}")

    def feed_incident(self) -> None:
        inc = self.incident
        if inc is None:
            return
        from warroom.ui.panes.decision import DecisionPane

        for view in self._shown_views():
            try:
                if isinstance(view, DecisionPane):
                    view.decision = self.live.decision(inc)  # the answers are in the journal
                view.show_incident(inc)
            except Exception as exc:  # a pane that cannot render must not end the console
                self.log.error(f"{view!r} failed to render: {exc!r}")

    # -- what the pollers post --------------------------------------------------------------------
    def on_db_polled(self, message: DbPolled) -> None:
        try:
            evidence = self.live.take_db(message.poll, self.incident, self.clock())
        except Exception as exc:  # evidence is a nicety; the panes must still update
            self.log.error(f"after the database poll: {exc!r}")
            evidence = []
        for body in evidence:
            self.run_worker(self.record_in_thread(body), group="evidence", exit_on_error=False)
        # A poll that brings the same kinds of answer as the last one shown (data where there was
        # data, the same failures, the same connection state) is drawn with the next tick, at most
        # a second later, in the paint that tick makes anyway: one paint a second instead of two
        # (polls and ticks are not aligned, and each paint is the bulk of the idle cost). A first
        # answer, a failure, a recovery or a lost connection is shown at once. Only at the
        # console's one-second tick (tests that tick by hand see every poll at once).
        poll = message.poll
        shape = (
            poll.connection.status,
            *(
                type(x)
                for x in (poll.errors, poll.health, poll.sms, poll.error_rate, poll.statements, *poll.panes)
            ),
        )
        if shape == self._db_shape and self._tick_interval <= 1.0:
            self._db_feed_due = True
            return
        self._db_shape = shape
        self._feed_db_poll()

    def _feed_db_poll(self) -> None:
        from warroom.ui.header import IncidentHeader
        from warroom.ui.panes.checklist import ChecklistPane
        from warroom.ui.panes.commits import CommitsPane
        from warroom.ui.panes.database import DbPane
        from warroom.ui.panes.decision import DecisionPane
        from warroom.ui.panes.templates import TemplatesPane

        self._db_feed_due = False
        self._feed_where(DbPane, CommitsPane, DecisionPane, TemplatesPane, ChecklistPane, IncidentHeader)

    def on_git_read(self, message: GitRead) -> None:
        from warroom.ui.panes.commits import CommitsPane
        from warroom.ui.panes.decision import DecisionPane
        from warroom.ui.panes.templates import TemplatesPane

        inc = self.incident
        if inc is not None and message.incident_id != inc.id:
            self.call_later(self.pollers.poll_git)  # read for the incident open before a switch
            return
        for body in self.live.take_git(message.snapshot, inc, self.clock()):
            self.run_worker(self.record_in_thread(body), group="evidence", exit_on_error=False)
        self._feed_where(CommitsPane, DecisionPane, TemplatesPane)

    def on_page_read(self, message: PageRead) -> None:
        from warroom.live import page_actor
        from warroom.ui.header import IncidentHeader
        from warroom.ui.panes.decision import DecisionPane
        from warroom.ui.panes.templates import TemplatesPane
        from warroom.ui.panes.upstream import StatusPane

        body = self.live.take_page(message.update, self.incident)
        if body is not None:
            actor = page_actor(message.update)
            self.run_worker(self.record_in_thread(body, actor=actor), group="evidence", exit_on_error=False)
        self._feed_where(StatusPane, DecisionPane, TemplatesPane, IncidentHeader)

    def action_cancel_backend(self) -> None:
        self.db_actions.cancel()

    def action_terminate_backend(self) -> None:
        self.db_actions.terminate()

    def action_pause_campaign(self) -> None:
        self.db_actions.pause_campaign()

    def retry_db(self, query: str) -> None:
        if not self.pollers.retry_db(query):
            self.say("No database is configured.", severity="warning")
            return
        self.say(f"Retrying the {query} query.")

    def mitigated(self) -> bool:
        """For the demo: the incident has reached Mitigation (a rollback is under way)."""
        inc = self.incident
        if inc is None:
            return False
        pb = self.settings.playbook
        return not inc.is_open or pb.phase_index(inc.phase) >= pb.phase_index("mitigation")

    def live_facts(self) -> LiveFacts:
        """What the messages are filled with, from the live state (the one place they come from)."""
        return self.live.facts(self.incident)

    # -- the clock ----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Once a second: the text that depends on the clock, a poll's data that waited for
        this paint (on_db_polled), and the bell when overdue."""
        if self._db_feed_due:
            self._feed_db_poll()
        if self.incident is None:
            return
        now = self.clock()
        for view in self._shown_views():
            try:
                view.show_clock(now)
            except Exception as exc:  # a pane that cannot render must not end the console
                self.log.error(f"{view!r} failed to render: {exc!r}")
        self._check_overdue()

    def _check_overdue(self) -> None:
        inc = self.incident
        if inc is None:
            return
        now = self.clock()
        every = self.settings.playbook.bell_every
        for audience in ev.AUDIENCES:
            cd = inc.countdown(audience, now)
            if cd.state != "overdue" or cd.due is None:
                self._bell_state.pop(audience, None)
                continue
            state = self._bell_state.get(audience)
            if state is None or state[0] != cd.due:
                self._bell_state[audience] = (cd.due, now)
                self.ring_bell(f"{audience} update overdue")
                self.say(
                    f"The {audience} update is overdue (was due {self.at(cd.due)}).",
                    severity="error",
                    timeout=10,
                )
            elif now - state[1] >= every:
                self._bell_state[audience] = (cd.due, now)
                self.ring_bell(f"{audience} update still overdue")

    def ring_bell(self, reason: str) -> None:
        self.bells.append((self.clock(), reason))
        if self.settings.bell:
            self.bell()

    def at(self, when: datetime) -> str:
        """``14:32 CET``: a time for notifications, local with its zone."""
        return clock_time(when, self.settings.tz, seconds=False)

    def say(self, message: str, *, severity: str = "information", timeout: float | None = None) -> None:
        """A notification whose text is never parsed as markup."""
        self.notify(message, severity=severity, timeout=timeout or 6, markup=False)  # type: ignore[arg-type]

    # -- messages, clipboard, report (warroom.ui.comms) ------------------------------------------------
    def action_template(self, number: int) -> None:
        if self._need_incident() is not None:
            self.comms.copy_by_key(str(number))

    def action_undo_update(self) -> None:
        self.comms.undo_update()

    def action_show_last_copy(self) -> None:
        self.comms.show_last_copy()

    def action_report(self) -> None:
        if self._need_incident() is not None:
            self.comms.write_report()

    # -- what a responder does (warroom.ui.actions) ----------------------------------------------------
    def _need_incident(self) -> Incident | None:
        return self.actions.need_incident()

    def action_note(self) -> None:
        self.actions.note()

    def action_severity(self) -> None:
        self.actions.severity()

    def action_next_phase(self) -> None:
        self.actions.move_phase(+1)

    def action_previous_phase(self) -> None:
        self.actions.move_phase(-1)

    def action_edit(self, focus: str = "title") -> None:
        self.actions.edit(focus)

    def action_mark_update(self, audience: str) -> None:
        self.actions.mark_update(audience)

    def action_resolve(self) -> None:
        self.actions.resolve()

    def action_answer_all_users(self) -> None:
        self.actions.answer_all_users()

    def action_escalate(self) -> None:
        self.actions.escalate()

    def action_add_action_item(self) -> None:
        from warroom.ui.screens.capture import add_action_item

        add_action_item(self)

    def action_add_lesson(self) -> None:
        from warroom.ui.screens.capture import add_lesson

        add_lesson(self)

    def action_assign_owner(self) -> None:
        from warroom.ui.screens.people import assign_owner

        assign_owner(self)

    def action_assign_action_owner(self) -> None:
        from warroom.ui.screens.people import assign_action_owner

        assign_action_owner(self)

    def action_assign_role(self) -> None:
        from warroom.ui.screens.people import assign_role

        assign_role(self)

    def action_toggle_item(self) -> None:
        self.actions.toggle_item()

    def action_reopen(self) -> None:
        self.actions.reopen()

    def action_close(self) -> None:
        self.actions.close()

    def action_page_on_call(self) -> None:
        self.reach.page_on_call()

    def focused_pane(self) -> Pane | None:
        widget: Any = self.focused
        while widget is not None and not isinstance(widget, Pane):
            widget = widget.parent
        return widget

    def action_copy_focused(self) -> None:
        pane = self.focused_pane()
        found = pane.copy_text() if pane is not None else None
        if found is None:
            self.say("Nothing to copy here: focus an item in a pane first (tab moves between panes).")
            return
        what, text = found
        self.comms.copy_text(text, what=what, name=what.replace(" ", "-"))

    def action_help(self) -> None:
        from warroom.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen(help_sections(self)))

    def pane_help(self) -> list[tuple[str, list[Binding]]]:
        return pane_sections(self)

    async def action_quit(self) -> None:
        self.exit(0)

    def exit(self, *args: Any, **kwargs: Any) -> None:
        self.comms.stop_renders.set()  # a template render under way stops: quitting never waits
        super().exit(*args, **kwargs)

    # -- command palette (warroom.ui.palette) ------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:  # type: ignore[type-arg]
        yield from system_commands(self, screen, super().get_system_commands(screen))

    def action_declare_new(self) -> None:
        from warroom.ui.screens.declare import DeclareScreen

        if isinstance(self.screen, DeclareScreen):
            return  # already there
        self.push_screen(DeclareScreen(cancellable=True), self._declared)

    def action_switch_incident(self) -> None:
        from warroom.ui.screens.pick import PickIncidentScreen

        try:
            open_ = self.journal.open_incidents(self.settings.playbook)
        except JournalError as exc:
            self.say(str(exc), severity="error")
            return
        self._tell_problems(open_.problems)
        if isinstance(self.screen, PickIncidentScreen):
            return
        if not open_:
            self.say("No incident is open; declare one (ctrl+p, Declare a new incident).", severity="warning")
            return
        self.push_screen(PickIncidentScreen(open_, cancellable=True), self._picked)

    # -- the terminal going away -------------------------------------------------------------------------
    def _hangup(self, status: int) -> None:
        """The lifeline asks (a signal, or the terminal hung up): exit now."""
        self.exit(status)


def read_only_journal(journal: Journal | None, settings: Settings, clock: Clock) -> Journal:
    """The journal of the read-only view: ``journal`` if it is read-only already, else one opened
    read-only on the same file."""
    from warroom.incident.readonly import ReadOnlyJournal

    if isinstance(journal, ReadOnlyJournal):
        return journal
    path = journal.path if journal is not None else settings.journal_path
    return ReadOnlyJournal(path, actor=settings.user, clock=clock)


def run_console(settings: Settings, *, incident_id: str | None = None, demo: Any = None) -> int:
    """Open the console; returns the process exit status. The lifeline ends the process if the
    terminal goes away or a signal comes, even when the UI loop cannot answer."""
    lifeline = Lifeline().install()
    # A process ended by the lifeline (os._exit) takes the command panes' process groups with it.
    lifeline.on_end.append(kill_everything)
    try:
        app = WarroomApp(settings, incident_id=incident_id, demo=demo, lifeline=lifeline)
        try:
            result = app.run()
        finally:
            lifeline.detach()
            app.commands.stop_all()  # (a no-op when the app ended them, as it does)
            with contextlib.suppress(Exception):
                app.journal.close()
    finally:
        lifeline.close()
    return int(result if isinstance(result, int) else (app.return_code or 0))
