"""The live incident: rows, connections and commits that keep every pane of the console moving.

:class:`Generator` runs in the console's asyncio loop (``DemoSession.run_generator``) until its
``stop`` event is set. It never uses the console's connection; it holds its own, each one an
independent task that reconnects with backoff when the database goes away:

- **writer** (``application_name`` ``ace-engage-api``): every second, the story's error and SMS
  rows for the time since its last write (``seed.Traffic``); tens of rows a second at the peak.
  It asks ``mitigated()`` each tick: the first True is recorded as the story's mitigation time
  (the spike then decays within a minute or two); a False afterwards undoes it.
- **pool** (``ace-engage-api``): the API's connection pool, 3 idle connections normally and up to
  ~11 at the spike's peak; while the campaign row is locked, some of them wait on it in
  ``UPDATE campaigns ...`` for up to 4 s (``lock_timeout``) and give up.
- **scheduler** (``campaign-scheduler``): a transaction that updated the Black Friday campaign and
  then sat idle (idle in transaction, holding the row lock) until about a minute after mitigation.
- **blocked** (``ace-engage-api``): one ``UPDATE campaigns`` waiting on that lock.
- **reporting** (``reporting-cron``): a long-running report query (``pg_sleep`` stands in for its
  cost), started again when it ends.
- **function log**: the writer's send-sms rows also go to the function's log file
  (:mod:`warroom.demo.function_log`), which the console follows in a command pane.
- **git**: a commit lands during the P0's deploy freeze three minutes in; after mitigation the
  revert of the send-sms change and a hotfix deploy (once per story; see :mod:`gitrepo`).

On stop every connection is closed (the server is also asked to end the sessions still running a
query), and git processes are killed if they were running. ``client_connection_check_interval``
makes the server drop a session whose client vanished even in the middle of ``pg_sleep``.

:class:`Pace` holds every duration; the shipped pace is :data:`REAL_PACE`. Tests use a faster one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from warroom.demo import gitrepo
from warroom.demo.function_log import FunctionLog
from warroom.demo.seed import BLACK_FRIDAY, HISTORY, MITIGATION_TAU, Story, Traffic, insert_rows, update_story
from warroom.durations import utc_now

log = logging.getLogger("warroom.demo")

Clock = Callable[[], datetime]

APP_API = "ace-engage-api"
APP_SCHEDULER = "campaign-scheduler"
APP_REPORTING = "reporting-cron"

# The reporting cron's slow query (report_query.sql).
REPORT_SQL = resources.files("warroom.demo").joinpath("report_query.sql").read_text(encoding="utf-8")
LOCK_SQL = "UPDATE campaigns SET status = 'active', updated_at = now() WHERE id = $1"
TOUCH_SQL = "UPDATE campaigns SET updated_at = now() WHERE id = $1"


@dataclass(frozen=True)
class Pace:
    """Every duration of the live story."""

    tick: float = 1.0  # seconds between writes (and pool adjustments)
    mitigation_tau: timedelta = MITIGATION_TAU  # the spike's decay after mitigation
    breach_after: timedelta = timedelta(minutes=3)  # the freeze-breach commit, after the start
    rollback_after: timedelta = timedelta(seconds=40)  # revert + hotfix deploy, after mitigation
    unlock_after: timedelta = timedelta(seconds=60)  # the idle transaction ends, after mitigation
    report_seconds: float = 14 * 60  # the reporting query's length
    report_pause: float = 20.0  # between two runs of the report
    pool_lock_timeout: str = "4s"
    connect_timeout: float = 5.0
    backoff_first: float = 1.0
    backoff_max: float = 10.0
    rate_scale: float = 1.0  # rows per second relative to the story's (only tests change it)


REAL_PACE = Pace()
# For tests: the same story, minutes made into seconds.
FAST_PACE = Pace(
    tick=0.2,
    mitigation_tau=timedelta(seconds=0.5),
    breach_after=timedelta(seconds=0.5),
    rollback_after=timedelta(seconds=0.5),
    unlock_after=timedelta(seconds=1),
    report_seconds=30.0,
    report_pause=0.5,
    pool_lock_timeout="500ms",
    backoff_first=0.2,
    backoff_max=1.0,
    rate_scale=4.0,
)


@dataclass
class Stats:
    """What the generator has done (for tests and diagnostics)."""

    error_rows: int = 0
    sms_rows: int = 0
    sms_failed: int = 0
    ticks: int = 0
    reconnects: int = 0
    commits: list[str] = field(default_factory=list)
    last_error: str = ""
    errors: list[str] = field(default_factory=list)  # the last 20, oldest first
    mitigated_at: datetime | None = None


class Generator:
    def __init__(
        self,
        dsn: str,
        story: Story,
        *,
        repo: Path | None = None,
        clock: Clock = utc_now,
        pace: Pace = REAL_PACE,
        function_log: FunctionLog | None = None,
    ) -> None:
        self.dsn = dsn
        self.function_log = function_log
        self.story = story
        self.repo = repo
        self.clock = clock
        self.pace = pace
        self.stats = Stats(mitigated_at=story.mitigated_at)
        self._conns: set[Any] = set()
        self._pids: set[int] = set()
        self._story_updates: dict[str, Any] = {}
        self._lock_held = asyncio.Event()
        self._started = clock()
        self._rng = random.Random()
        self._stop: asyncio.Event | None = None

    # -- helpers ---------------------------------------------------------------------------------------
    def level(self, t: datetime | None = None) -> float:
        return self.story.level(t or self.clock(), self.pace.mitigation_tau)

    @property
    def mitigated_at(self) -> datetime | None:
        return self.story.mitigated_at

    def _note(self, where: str, exc: BaseException) -> None:
        if self._stop is not None and self._stop.is_set():
            return  # errors while shutting down are our own doing (sessions being terminated)
        text = f"{where}: {type(exc).__name__}: {exc}".splitlines()[0][:300]
        self.stats.last_error = text
        self.stats.errors.append(text)
        del self.stats.errors[:-20]
        log.debug("demo generator %s", text)

    async def _connect(self, app: str, *, command_timeout: float | None = None, **settings: str) -> Any:
        import asyncpg

        conn = await asyncpg.connect(
            self.dsn,
            timeout=self.pace.connect_timeout,
            command_timeout=command_timeout,
            statement_cache_size=0,
            server_settings={
                "application_name": app,
                "client_connection_check_interval": "2s",
                **settings,
            },
        )
        self._conns.add(conn)
        with contextlib.suppress(Exception):
            self._pids.add(conn.get_server_pid())
        return conn

    def _drop(self, conn: Any) -> None:
        if conn is None:
            return
        self._conns.discard(conn)
        with contextlib.suppress(Exception):
            self._pids.discard(conn.get_server_pid())
        with contextlib.suppress(Exception):
            conn.terminate()

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; True when it is time to stop."""
        assert self._stop is not None
        if self._stop.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), max(0.0, seconds))
        return self._stop.is_set()

    async def _role(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        """Run ``body`` until stopped; on any error wait (1 s doubling to the cap) and run it again."""
        delay = self.pace.backoff_first
        while self._stop is not None and not self._stop.is_set():
            started = asyncio.get_running_loop().time()
            try:
                await body()
                delay = self.pace.backoff_first
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._note(name, exc)
                self.stats.reconnects += 1
                if asyncio.get_running_loop().time() - started > 30:
                    delay = self.pace.backoff_first  # it had been working for a while
                if await self._sleep(delay * (0.8 + 0.4 * self._rng.random())):
                    return
                delay = min(delay * 2, self.pace.backoff_max)
            else:
                if await self._sleep(self.pace.tick):
                    return

    # -- the roles -------------------------------------------------------------------------------------
    def _check_mitigated(self, mitigated: Callable[[], bool], now: datetime) -> None:
        try:
            done = bool(mitigated())
        except Exception as exc:  # the console's callback must not stop the incident
            self._note("mitigated()", exc)
            return
        if done and self.story.mitigated_at is None:
            self.story = replace(self.story, mitigated_at=now)
            self._story_updates["mitigated_at"] = now
        elif not done and self.story.mitigated_at is not None:
            self.story = replace(self.story, mitigated_at=None)
            self._story_updates["mitigated_at"] = None
        self.stats.mitigated_at = self.story.mitigated_at

    async def _writer(self, mitigated: Callable[[], bool]) -> None:
        # A server that accepts connections but never answers must not stall the story for good.
        conn = await self._connect(APP_API, command_timeout=30.0)
        try:
            newest = await conn.fetchval(
                "SELECT greatest((SELECT max(occurred_at) FROM error_logs), "
                "(SELECT max(created_at) FROM sms_delivery_log))"
            )
            now = self.clock()
            last = newest if newest is not None and now - newest < HISTORY else now
            last = min(last, now)
            traffic = Traffic.for_story(
                self.story,
                salt=f"live:{now.isoformat()}",
                tau=self.pace.mitigation_tau,
                rate_scale=self.pace.rate_scale,
            )
            while True:
                now = self.clock()
                self._check_mitigated(mitigated, now)
                traffic.story = self.story
                if self._story_updates:
                    updates, self._story_updates = self._story_updates, {}
                    try:
                        await update_story(conn, **updates)
                    except BaseException:
                        self._story_updates = {**updates, **self._story_updates}
                        raise
                if now > last:
                    errors, sms = traffic.rows(last, now)
                    await insert_rows(conn, errors, sms)
                    if self.function_log is not None:
                        self.function_log.write(errors, sms)
                    last = now
                    self.stats.error_rows += len(errors)
                    self.stats.sms_rows += len(sms)
                    self.stats.sms_failed += sum(1 for r in sms if r[3] == "failed")
                self.stats.ticks += 1
                if await self._sleep(self.pace.tick):
                    return
        finally:
            self._drop(conn)

    async def _scheduler(self) -> None:
        """The transaction left open, holding the Black Friday campaign's row lock."""
        conn = await self._connect(APP_SCHEDULER)
        tx = None
        try:
            while True:
                mitigated = self.story.mitigated_at
                release = mitigated is not None and self.clock() - mitigated >= self.pace.unlock_after
                if not release and tx is None:
                    tx = conn.transaction()
                    await tx.start()
                    await conn.execute(LOCK_SQL, BLACK_FRIDAY)
                    self._lock_held.set()
                elif release and tx is not None:
                    await tx.commit()
                    tx = None
                    self._lock_held.clear()
                if await self._sleep(self.pace.tick):
                    return
        finally:
            self._lock_held.clear()
            self._drop(conn)

    async def _blocked(self) -> None:
        """One UPDATE waiting on the scheduler's lock (for as long as it is held)."""
        assert self._stop is not None
        while not self._lock_held.is_set():
            if await self._sleep(self.pace.tick):
                return
        conn = await self._connect(APP_API)
        try:
            await conn.execute(TOUCH_SQL, BLACK_FRIDAY)  # waits until the transaction ends
            # Done; wait for the next time the lock is taken (after an un-mitigation or a reconnect).
            while self._lock_held.is_set():
                if await self._sleep(self.pace.tick):
                    return
        finally:
            self._drop(conn)

    async def _reporting(self) -> None:
        conn = await self._connect(APP_REPORTING)
        try:
            while True:
                await conn.fetch(REPORT_SQL, self.pace.report_seconds)
                if await self._sleep(self.pace.report_pause):
                    return
        finally:
            self._drop(conn)

    async def _pool(self) -> None:
        """The API's pool: grows with the spike; while the campaign row is locked some of its
        connections queue on it and time out."""
        idle: list[Any] = []
        busy: dict[asyncio.Task[None], Any] = {}

        async def touch(conn: Any) -> None:
            with contextlib.suppress(Exception):
                await conn.execute(TOUCH_SQL, BLACK_FRIDAY)

        try:
            while True:
                for task in [t for t in busy if t.done()]:
                    conn = busy.pop(task)
                    if conn.is_closed():
                        self._drop(conn)
                    else:
                        idle.append(conn)
                level = self.level()
                target = 3 + round(6 * min(level, 1.4))
                total = len(idle) + len(busy)
                for _ in range(min(2, target - total)):
                    idle.append(await self._connect(APP_API, lock_timeout=self.pace.pool_lock_timeout))
                while len(idle) + len(busy) > target and idle:
                    self._drop(idle.pop())
                if self._lock_held.is_set() and level > 0.05:
                    for conn in list(idle):
                        if self._rng.random() < 0.03 + 0.07 * min(level, 1.0):
                            idle.remove(conn)
                            busy[asyncio.create_task(touch(conn))] = conn
                if await self._sleep(self.pace.tick):
                    return
        finally:
            for task in busy:
                task.cancel()
            for conn in [*idle, *busy.values()]:
                self._drop(conn)
            if busy:
                await asyncio.gather(*busy, return_exceptions=True)

    async def _git(self) -> None:
        """The live commits, once per story."""
        if self.repo is None or not gitrepo.is_valid(self.repo):
            if await self._sleep(3600 * 24):
                return
            return
        while True:
            now = self.clock()
            if self.story.breach_at is None and now - self._started >= self.pace.breach_after:
                sha = await gitrepo.commit_freeze_breach(self.repo, now)
                self.story = replace(self.story, breach_at=now)
                self._story_updates["breach_at"] = now
                self.stats.commits.append(sha)
            mitigated = self.story.mitigated_at
            if (
                self.story.rollback_at is None
                and mitigated is not None
                and now - mitigated >= self.pace.rollback_after
            ):
                shas = await gitrepo.commit_rollback(self.repo, now)
                self.story = replace(self.story, rollback_at=now)
                self._story_updates["rollback_at"] = now
                self.stats.commits.extend(shas)
            if await self._sleep(self.pace.tick):
                return

    # -- running -----------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, mitigated: Callable[[], bool]) -> None:
        """Keep the incident alive until ``stop`` is set. Raises nothing but CancelledError."""
        self._stop = stop
        self._started = self.clock()
        roles: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("writer", lambda: self._writer(mitigated)),
            ("scheduler", self._scheduler),
            ("blocked", self._blocked),
            ("reporting", self._reporting),
            ("pool", self._pool),
            ("git", self._git_role),
        ]
        tasks = [
            asyncio.create_task(self._role(name, body), name=f"warroom-demo-{name}") for name, body in roles
        ]
        try:
            await stop.wait()
        finally:
            await self._shutdown(tasks)

    async def _git_role(self) -> None:
        try:
            await self._git()
        except gitrepo.RepoError as exc:
            # A broken demo repository is not worth retrying every second.
            self._note("git", exc)
            await self._sleep(60)

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        stop = self._stop
        if stop is not None:
            stop.set()
        try:
            # Ask the server to end our sessions still busy in a query (pg_sleep, lock waits), so
            # nothing of the demo lingers on a server that keeps running (--keep-db).
            pids = sorted(self._pids)
            if pids:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._terminate_backends(pids), 2.0)
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5.0)
            for conn in list(self._conns):
                self._drop(conn)

    async def _terminate_backends(self, pids: list[int]) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            self.dsn, timeout=2, server_settings={"application_name": APP_API}, statement_cache_size=0
        )
        try:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids
            )
        finally:
            conn.terminate()
