"""The console's pollers: the database loop, the git reader, the status pages and the demo's
generator, each in its own worker, each posting what it read to the app as a typed message.

Workers run with ``exit_on_error=False`` in named groups, on the App (never on a pane that may be
recomposed), and never overlap: the database loop sleeps after each cycle, the git reader is
skipped while the previous read runs, the status poller fetches only the pages whose minute is up.
Heavy libraries (asyncpg, GitPython, httpx) are imported inside the workers, after the first frame.
They are independent: a slow status page never delays a database poll, and the other way round.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.worker import Worker

if TYPE_CHECKING:
    import httpx

    from warroom.incident.state import Incident
    from warroom.sources.dbpoll import DbPoll
    from warroom.sources.git import GitProblem, GitSnapshot
    from warroom.sources.statuspage import PageUpdate, StatusPoller
    from warroom.ui.app import WarroomApp


class DbPolled(Message):
    """A database poll finished (every cycle; its panes' data may be stale or failed)."""

    def __init__(self, poll: DbPoll) -> None:
        super().__init__()
        self.poll = poll


class GitRead(Message):
    """The repository was read, for the incident ``incident_id`` (its freeze intervals)."""

    def __init__(self, snapshot: GitSnapshot | GitProblem, incident_id: str) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.incident_id = incident_id


class PageRead(Message):
    """A status page was read."""

    def __init__(self, update: PageUpdate) -> None:
        super().__init__()
        self.update = update


class Pollers:
    """Starts and stops the workers for the incident open; see the module docstring."""

    def __init__(self, app: WarroomApp) -> None:
        self.app = app
        self._db_source: Any = None
        self._stops: list[asyncio.Event] = []
        self._git_worker: Worker[Any] | None = None
        self._git_timer: Any = None

    def start(self, incident: Incident) -> None:
        app = self.app
        self.stop()
        settings = app.settings
        if settings.database.dsn:
            stop = asyncio.Event()
            self._stops.append(stop)
            app.run_worker(
                self._run_db(incident.declared_at, stop),
                group="db",
                name="db-poll",
                exit_on_error=False,
                description="database poll",
            )
        if settings.git.repo is not None:
            self.poll_git()
            self._git_timer = app.set_interval(
                settings.git.poll_interval.total_seconds(), self.poll_git, name="git"
            )
        if settings.status.pages:
            app.run_worker(self._run_status(), group="status", name="status-poll", exit_on_error=False)
        if app.demo is not None:
            stop = asyncio.Event()
            self._stops.append(stop)
            app.run_worker(
                app.demo.run_generator(stop, app.mitigated),
                group="demo",
                name="demo-generator",
                exit_on_error=False,
                description="the demo incident",
            )

    def stop(self) -> None:
        app = self.app
        for stop in self._stops:
            stop.set()
        self._stops.clear()
        for group in ("db", "demo", "status"):
            app.workers.cancel_group(app, group)
        if self._git_timer is not None:
            self._git_timer.stop()
            self._git_timer = None
        self._db_source = None

    # -- the database ------------------------------------------------------------------------------
    async def _run_db(self, declared_at: datetime, stop: asyncio.Event) -> None:
        from warroom.sources.postgres import PostgresSource

        source = PostgresSource(self.app.settings, declared_at=declared_at)
        self._db_source = source
        try:
            await source.run(lambda poll: self.app.post_message(DbPolled(poll)), stop)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(source.close())

    def refresh_db(self) -> None:
        """Poll the database now (after a database action: show what it changed)."""
        if self._db_source is not None:
            self._db_source.refresh()

    def retry_db(self, pane: str) -> bool:
        """Re-enable a pane's failed query now; False when there is no database source."""
        if self._db_source is None:
            return False
        self._db_source.retry(pane)
        return True

    # -- git ----------------------------------------------------------------------------------------
    def poll_git(self) -> None:
        if self._git_worker is not None and self._git_worker.is_running:
            return  # the previous read is still running: never overlap
        self._git_worker = self.app.run_worker(
            self._read_git, thread=True, group="git", name="git-read", exit_on_error=False
        )

    def _read_git(self) -> None:
        from warroom.sources.git import read_commits

        app = self.app
        inc = app.incident
        if inc is None:
            return
        snap = read_commits(app.settings.git, now=app.clock(), freeze=inc.freeze_intervals())
        app.post_message(GitRead(snap, inc.id))

    # -- status pages ---------------------------------------------------------------------------------
    async def _run_status(self) -> None:
        app = self.app
        # Importing httpx and making its client (its TLS context reads the CA bundle) took 0.15 s
        # of the UI loop at start, while the database's first poll waited for the loop (py-spy of
        # the console's first 3 s): made in a thread.
        poller_type, client = await asyncio.to_thread(_status_client)
        async with client:
            poller = poller_type(app.settings.status, client=client)
            while True:
                for update in await poller.poll_due():
                    app.post_message(PageRead(update))
                due = min(poller.next_due(p) for p in poller.pages)
                wait = max(1.0, min(30.0, (due - poller.clock()).total_seconds()))
                await asyncio.sleep(wait)


def _status_client() -> tuple[type[StatusPoller], httpx.AsyncClient]:
    """The status pages' poller class and HTTP client (imports httpx: off the UI loop)."""
    from warroom.sources.statuspage import StatusPoller, make_client

    return StatusPoller, make_client()
