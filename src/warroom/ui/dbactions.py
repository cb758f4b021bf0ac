"""The runbooks' database actions from the Database pane: ``c`` cancels a backend's query
(``pg_cancel_backend``), ``K`` terminates a backend (``pg_terminate_backend``), ``m`` pauses a
campaign (the playbook's mitigation, the team's ``[database] pause_campaign_sql``).

A backend is picked from the pane's list (blockers, blocked waits, the longest query). With
``[database] action_dsn`` the action asks for confirmation showing the exact SQL, runs on the
action connection in a worker (``exit_on_error=False``, group ``db-action``) and is journaled with
its result (``DatabaseActed``). Without it, the same keys copy the SQL (clipboard and outbox) and
say so; the copy is journaled too, as not run. The watching connection is never used.

:class:`DbActions` belongs to the app (``app.db_actions``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from warroom.durations import describe_duration
from warroom.incident import events as ev

if TYPE_CHECKING:
    from warroom.sources.postgres.actions import ActionResult, DbAction
    from warroom.ui.app import WarroomApp


class DbActions:
    """See the module docstring."""

    def __init__(self, app: WarroomApp) -> None:
        self.app = app
        self._running = False

    # -- the keys ----------------------------------------------------------------------------------
    def cancel(self) -> None:
        self._pick("Cancel a backend's query (pg_cancel_backend)", "cancel")

    def terminate(self) -> None:
        self._pick("Terminate a backend (pg_terminate_backend)", "terminate")

    def pause_campaign(self) -> None:
        from warroom.sources.postgres.actions import pause_campaign
        from warroom.ui.screens.dbaction import CampaignModal

        app = self.app
        if app.actions.need_incident() is None:
            return
        sql = app.settings.database.pause_campaign_sql
        if not sql:
            app.say(
                "Pausing a campaign needs its SQL: set [database] pause_campaign_sql, e.g. "
                "\"UPDATE campaigns SET status = 'paused' WHERE id = $1\".",
                severity="warning",
                timeout=12,
            )
            return

        def got(cid: str | None) -> None:
            if cid:
                self._offer(pause_campaign(sql, cid))

        app.push_screen(CampaignModal(sql), got)

    # -- picking, confirming, running --------------------------------------------------------------
    def _pick(self, title: str, kind: str) -> None:
        from warroom.sources.dbpoll import HealthSnapshot
        from warroom.sources.postgres.actions import cancel_backend, terminate_backend
        from warroom.ui.screens.dbaction import BackendPickModal

        app = self.app
        if app.actions.need_incident() is None:
            return
        poll = app.live.db
        health = poll.health if poll is not None else None
        backends = health.backends() if isinstance(health, HealthSnapshot) else ()
        if not backends:
            app.say(
                "No backend to pick: none is blocking, blocked, running or idle in a transaction.",
                severity="warning",
            )
            return
        plan: Callable[[int], DbAction] = cancel_backend if kind == "cancel" else terminate_backend

        def picked(pid: int | None) -> None:
            if pid:
                self._offer(plan(pid))

        app.push_screen(BackendPickModal(title, backends), picked)

    def _offer(self, action: DbAction) -> None:
        """Ask to run ``action`` on the action connection, or copy its SQL without one."""
        from warroom.ui.screens.dbaction import SqlConfirmModal

        app = self.app
        db = app.settings.database
        if not db.action_dsn:
            self._copy(action)
            return
        where = (
            f"on the action connection {db.masked_action_dsn} "
            f"(statement timeout {describe_duration(db.action_timeout)}); journaled with its result"
        )

        def answered(answer: str | None) -> None:
            if answer == "run":
                self._run(action)

        app.push_screen(
            SqlConfirmModal(f"Database: {action.action} {action.target}?", action.shown, where), answered
        )

    def _copy(self, action: DbAction) -> None:
        app = self.app
        text = action.to_copy
        app.record(ev.DatabaseActed(action.action, action.target, text, "copied"))
        app.comms.copy_text(
            text,
            what=f"the SQL to {action.action} {action.target}",
            name="database-action",
            note="No [database] action_dsn: the SQL was copied, not run (run it yourself)",
        )

    def _run(self, action: DbAction) -> None:
        app = self.app
        if self._running:
            app.say("A database action is already running.", severity="warning")
            return
        inc = app.incident
        if inc is None:
            return
        self._running = True
        app.say(f"Running on the action connection: {action.to_copy}")
        app.run_worker(
            self._execute(action, inc.id),
            group="db-action",
            exit_on_error=False,
            description=f"database {action.action}",
        )

    async def _execute(self, action: DbAction, incident_id: str) -> None:
        from warroom.sources.postgres.actions import run_action

        app = self.app
        try:
            result = await run_action(app.settings.database, action)
        finally:
            self._running = False
        body = ev.DatabaseActed(
            action.action, action.target, action.shown, result.outcome, result.result, result.role
        )
        self._journal(incident_id, body)
        self._tell(action, result)
        app.pollers.refresh_db()

    def _journal(self, incident_id: str, body: ev.Body) -> None:
        """Journal ``body`` on the incident it is about (another may be open by now)."""
        app = self.app
        if app.incident is not None and app.incident.id == incident_id:
            app.record(body)
            return
        from warroom.incident.journal import JournalError

        try:
            app.journal.append(incident_id, body)
        except JournalError as exc:
            app.say(str(exc), severity="error")

    def _tell(self, action: DbAction, result: ActionResult) -> None:
        line = f"Database {action.action} {action.target}: {result.outcome} ({result.result})"
        severity = {"done": "information", "no effect": "warning"}.get(result.outcome, "error")
        self.app.say(line, severity=severity, timeout=12)
