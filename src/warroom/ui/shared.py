"""The shared war room in the console: wires :class:`warroom.shared.room.SharedRoom` (the sync
engine, no Textual) to the app. One worker per open incident (group ``shared``,
``exit_on_error=False``); events of other consoles reach the panes through the app's journal
sync (:meth:`WarroomApp.sync_journal`), the team's status through the header."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from warroom.incident import events as ev
from warroom.incident.journal import JournalError

if TYPE_CHECKING:
    from warroom.shared.room import RoomStatus, SharedRoom
    from warroom.ui.app import WarroomApp


class TeamLink:
    """The console's link to the team (nothing at all when no shared database is configured)."""

    def __init__(self, app: WarroomApp) -> None:
        self.app = app
        self.room: SharedRoom | None = None
        self.status: RoomStatus | None = None

    @property
    def configured(self) -> bool:
        return self.app.settings.shared.configured

    def start(self, incident_id: str) -> None:
        """Follow ``incident_id`` with the team (the previous incident's link is stopped)."""
        self.stop()
        # The read-only view follows this machine's journal, which the responders' consoles keep
        # in step with the team; it neither merges into it nor says it is present (a stakeholder
        # is not a responder).
        if not self.configured or self.app.read_only:
            return
        from warroom.shared.room import SharedRoom

        shared = self.app.settings.shared
        self.room = SharedRoom(
            self.app.journal,
            incident_id,
            shared.dsn,
            on_events=self._arrived,
            on_status=self._status,
            connect_timeout=shared.connect_timeout.total_seconds(),
            heartbeat=shared.heartbeat.total_seconds(),
            presence_timeout=shared.presence_timeout.total_seconds(),
            clock=self.app.clock,
        )
        self.status = self.room.status
        self.app.run_worker(
            self.room.run(), name="shared", group="shared", exclusive=True, exit_on_error=False
        )

    def stop(self) -> None:
        if self.room is not None:
            self.room.stop()
            self.room = None
            self.status = None
        self.app.workers.cancel_group(self.app, "shared")

    def poke(self) -> None:
        """An event was written here: out to the team now."""
        if self.room is not None:
            self.room.poke()

    def _arrived(self, events: list[ev.Event]) -> None:
        if events:
            self.app.sync_journal()

    def _status(self, status: RoomStatus) -> None:
        was = self.status
        self.status = status
        self.app.team_changed()
        if was is not None and was.online and not status.online:
            self.app.say(
                f"Offline from the team: {status.reason}. Working on this machine's journal.",
                severity="warning",
            )
        elif was is not None and not was.online and status.online and was.reason != "connecting":
            self.app.say("Back with the team: events replayed.")

    async def declare(self, severity: str, title: str, impact: str, lead: str) -> str | None:
        """A new incident's id from the team's database, asked on the UI loop without blocking it
        (asyncpg waits in the loop; the connect is bounded by the connect timeout). Without the
        database, declared on this journal alone (pushed when the room is back), and said; None
        when it could not be declared (said)."""
        from warroom.shared.room import declare_shared

        settings = self.app.settings
        wait = settings.shared.connect_timeout.total_seconds()
        fields: dict[str, Any] = {"impact": impact, "lead": lead, "playbook": settings.playbook}
        try:
            event, alone = await asyncio.wait_for(
                declare_shared(self.app.journal, settings.shared.dsn, wait, severity, title, **fields),
                wait * 3 + 5,
            )
        except TimeoutError:
            self.app.say("The shared database did not answer; try again.", severity="error")
            return None
        except (JournalError, ValueError) as exc:
            self.app.say(str(exc), severity="error")
            return None
        if alone:
            self.app.say(f"{event.incident_id} {alone}", severity="warning", timeout=12)
        return event.incident_id
