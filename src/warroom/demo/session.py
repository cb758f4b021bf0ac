"""``warroom demo``: everything the console needs for a live demo incident, and its clean-up.

:func:`prepare` (synchronous; it runs its own event loop, in a thread when called from inside one)
puts together, under ``settings.state_dir / "demo"``:

- ``postgres/``: the embedded PostgreSQL (:class:`~warroom.demo.embedded.EmbeddedPostgres`), started
  or adopted; owners that died (a demo killed with ``-9``) are dropped on the way, and their
  watchdog has normally stopped the server already. It holds the server's password, port, owners
  and log (as root, the cluster itself is in ``/var/lib/warroom-demo``, see that module);
- the database ``warroom_demo``: the playbook's schema and an hour of history, created when it is
  missing, on ``reset``, or when the previous demo cannot continue (see below); otherwise the
  time since the last demo stopped is filled in, so the last hour is never empty;
- ``repo/``: the demo git repository (rebuilt with the database, or when it is missing);
- ``journal.sqlite3``: the demo's own journal with the demo P0 (so demo incidents never mix with
  real ones). A new demo incident is declared in it after the earlier ones (so it never takes the
  id of one that has a report, ``reports/<id>.md``); an earlier one still open is closed, saying
  why. A journal that cannot be read is kept as ``journal-<UTC time>.sqlite3``, its ``outbox/`` and
  ``reports/`` beside it under the same suffix;
- the status pages stand-in on 127.0.0.1 (unless ``online``).

The previous demo is continued (same incident, same story) when its database holds a story whose
incident is still open in the demo journal and whose newest row is less than an hour old. Anything
else starts over, as ``--reset`` does, and :attr:`DemoSession.notices` says why.

:class:`DemoSession` carries the settings for the console (``database.dsn``, ``git.repo`` and
``status.pages`` pointing at the demo parts, ``state_dir`` at the demo folder), the incident id,
``standin``, the generator (:meth:`DemoSession.run_generator`) and :meth:`DemoSession.close`.
Every failure is a :class:`DemoError` with a one-line message.

The demo folder is private (0700, created so with its missing parents; an existing one open to
others is tightened and a notice says so).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from warroom.demo import gitrepo
from warroom.demo.embedded import EmbeddedError, EmbeddedPostgres
from warroom.demo.function_log import FILE as FUNCTION_LOG_FILE
from warroom.demo.function_log import FunctionLog
from warroom.demo.generator import REAL_PACE, Generator, Pace
from warroom.demo.seed import SeedError, Story, backfill, newest_row, read_story, seed, update_story
from warroom.demo.server_account import locked
from warroom.demo.standin import StatusStandIn
from warroom.durations import utc_now
from warroom.files import private_dir
from warroom.incident import events as ev
from warroom.incident.journal import JOURNAL_FILE, Journal, JournalError
from warroom.settings import DEFAULT_STATUS_PAGES, PAUSE_CAMPAIGN_EXAMPLE, ErrorSettings, Settings
from warroom.settings.integrations import CommandPane
from warroom.settings.keys import DEFAULT_MIGRATION_GLOBS

log = logging.getLogger("warroom.demo")

DEMO_DIR = "demo"
DEMO_DB = "warroom_demo"
STALE_AFTER = timedelta(hours=1)
CONNECT_TIMEOUT = 10.0

INCIDENT_TITLE = "SMS campaigns failing: Twilio timeouts and send-sms 504s"
INCIDENT_IMPACT = (
    "Campaign SMS failing or delayed for most customers sending now (Black Friday early access); "
    "dashboard sends time out"
)
DETECTION_NOTE = (
    "Detected by PagerDuty: 'SMS failure rate > 5% for 5 min' (ace-engage-api) and customer "
    "reports in #support that Black Friday messages are not arriving"
)

Clock = Callable[[], datetime]
T = TypeVar("T")


class DemoError(Exception):
    """The demo could not be prepared; ``str(error)`` is one line for the user."""


@dataclass
class DemoSession:
    """A prepared demo. Keep it for the console's lifetime; :meth:`close` it at the end."""

    settings: Settings
    incident_id: str
    standin: bool
    demo_dir: Path
    story: Story
    reused: bool
    notices: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    pace: Pace = REAL_PACE
    clock: Clock = utc_now
    generator: Generator | None = None
    _pg: EmbeddedPostgres | None = None
    _standin: StatusStandIn | None = None
    _closed: bool = False
    _close_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def dsn(self) -> str:
        assert self.settings.database.dsn is not None
        return self.settings.database.dsn

    @property
    def postgres(self) -> EmbeddedPostgres | None:
        return self._pg

    @property
    def standin_server(self) -> StatusStandIn | None:
        return self._standin

    @property
    def closed(self) -> bool:
        return self._closed

    async def run_generator(self, stop: asyncio.Event, mitigated: Callable[[], bool]) -> None:
        """Keep the incident alive until ``stop`` is set (run it as a worker in the console's loop).

        ``mitigated()`` is asked every second; once it returns True the errors fall back to the
        baseline within a minute or two. Never raises, except ``CancelledError``.
        """
        if self._closed:
            return
        log_file = Path(self.settings.state_dir) / FUNCTION_LOG_FILE
        gen = Generator(
            self.dsn,
            self.story,
            repo=self.settings.git.repo,
            clock=self.clock,
            pace=self.pace,
            function_log=FunctionLog(log_file),
        )
        self.generator = gen
        try:
            await gen.run(stop, mitigated)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not take the console down
            log.warning("demo generator stopped: %s: %s", type(exc).__name__, exc)
        finally:
            self.story = gen.story

    def close(self, *, keep_db: bool = False) -> None:
        """Stop the stand-in and release the embedded server (stopped unless ``keep_db`` or another
        process still uses it). Idempotent; safe from ``atexit`` and signal handlers."""
        if not self._close_lock.acquire(blocking=False):
            return  # already closing (a signal arrived during close): that call finishes the job
        try:
            if self._closed:
                return
            self._closed = True
            with _signals_deferred():
                if self._standin is not None:
                    with contextlib.suppress(Exception):
                        self._standin.close()
                if self._pg is not None:
                    try:
                        self._pg.release(keep=keep_db)
                    except Exception as exc:
                        log.warning("demo: releasing the embedded PostgreSQL failed: %s", exc)
            with contextlib.suppress(Exception):
                atexit.unregister(self._atexit)
        finally:
            self._close_lock.release()

    def _atexit(self) -> None:
        self.close()


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP until the block ends (main thread only), so a handler that raises
    cannot cut a clean-up in half."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sigs = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    except (OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def _prepare_lock(demo_dir: Path) -> Iterator[None]:
    """One prepare() at a time per demo folder (two `warroom demo` started together)."""
    with locked(demo_dir / ".prepare.lock"):
        yield


def _run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="warroom-demo-prepare") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def _move_journal_aside(journal_path: Path, demo_dir: Path, now: datetime) -> Path | None:
    """Keep a demo journal that cannot be read as ``journal-<UTC time>.sqlite3``, and its outbox and
    reports as ``outbox-<UTC time>`` and ``reports-<UTC time>``: the new journal numbers its
    incidents from 001 again, so their outbox folders and reports must not mix."""
    if not journal_path.exists():
        return None
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    name = stamp
    n = 1
    while journal_path.with_name(f"journal-{name}.sqlite3").exists():
        n += 1
        name = f"{stamp}-{n}"
    target = journal_path.with_name(f"journal-{name}.sqlite3")
    for suffix in ("-wal", "-shm", ""):  # the WAL goes with its database, under the matching name
        src = Path(f"{journal_path}{suffix}")
        if src.exists():
            src.replace(Path(f"{target}{suffix}"))
    for folder in ("outbox", "reports"):
        if (demo_dir / folder).is_dir():
            (demo_dir / folder).replace(demo_dir / f"{folder}-{name}")
    return target


def _close_abandoned(
    journal_path: Path, settings: Settings, clock: Clock, open_ids: set[str], reason: str
) -> None:
    """The demo starts over: its incidents still open are closed, saying why (one open demo
    incident at a time; their journal, outbox and reports stay where they are)."""
    if not open_ids:
        return
    why = f"the demo started over ({reason})" if reason else "the demo started over"
    with Journal(journal_path, actor=settings.user, clock=clock) as journal:
        for incident_id in sorted(open_ids):
            journal.append(incident_id, ev.Closed(reason=why))


def _open_incidents(journal_path: Path, settings: Settings) -> set[str] | None:
    """The open incidents of the demo journal; None when it cannot be read (it is then moved
    aside with the rest of the old demo)."""
    if not journal_path.exists():
        return set()
    try:
        with Journal(journal_path, actor=settings.user) as journal:
            return {i.id for i in journal.open_incidents(settings.playbook)}
    except JournalError as exc:
        log.warning("demo: %s", exc)
        return None


def _declare(journal_path: Path, settings: Settings, clock: Clock) -> str:
    with Journal(journal_path, actor=settings.user, clock=clock) as journal:
        event = journal.declare(
            "P0",
            INCIDENT_TITLE,
            impact=INCIDENT_IMPACT,
            lead=settings.user,
            playbook=settings.playbook,
        )
        journal.append(event.incident_id, ev.NoteAdded(text=DETECTION_NOTE))
        return event.incident_id


@dataclass
class _DbResult:
    story: Story
    fresh: bool
    reason: str = ""
    rows: tuple[int, int] = (0, 0)


async def _connect(dsn: str) -> Any:
    import asyncpg

    return await asyncpg.connect(
        dsn,
        timeout=CONNECT_TIMEOUT,
        statement_cache_size=0,
        server_settings={"application_name": "warroom-demo-setup"},
    )


async def _prepare_database(
    pg: EmbeddedPostgres, *, reset: bool, now: datetime, open_incidents: set[str] | None
) -> _DbResult:
    admin = await _connect(pg.dsn("postgres"))
    try:
        exists = bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DEMO_DB))
        reason = "--reset" if reset else "" if exists else "a new demo database"
        if exists and not reset:
            conn = await _connect(pg.dsn(DEMO_DB))
            try:
                story = await read_story(conn)
                newest = await newest_row(conn) if story is not None else None
                if story is None:
                    reason = "the demo database was made by another version of warroom"
                elif open_incidents is None:
                    reason = "the demo journal cannot be read"
                elif story.incident_id not in open_incidents:
                    reason = "the demo incident is no longer open in the demo journal"
                elif newest is None or now - newest > STALE_AFTER:
                    reason = "the previous demo ended more than an hour ago"
                else:
                    rows = await backfill(conn, story, newest, now)
                    return _DbResult(story, fresh=False, rows=rows)
            finally:
                await conn.close()
        if exists:
            await admin.execute(f'DROP DATABASE "{DEMO_DB}" WITH (FORCE)')
        await admin.execute(f"CREATE DATABASE \"{DEMO_DB}\" TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        await admin.close()
    conn = await _connect(pg.dsn(DEMO_DB))
    try:
        story = Story.new(now)
        rows = await seed(conn, story, now)
    finally:
        await conn.close()
    return _DbResult(story, fresh=True, reason=reason, rows=rows)


async def _set_story(dsn: str, **values: Any) -> None:
    conn = await _connect(dsn)
    try:
        await update_story(conn, **values)
    finally:
        await conn.close()


def _demo_settings(
    settings: Settings, demo_dir: Path, dsn: str, repo: Path | None, standin: StatusStandIn | None
) -> Settings:
    database = replace(
        settings.database,
        dsn=dsn,
        dsn_source="warroom demo (embedded PostgreSQL)",
        pgbouncer=False,
        queries={},  # the demo has the playbook's schema: the shipped queries fit it
        panes=(),
        # Never the team's action connection: the demo's backends are the embedded server's. Its
        # actions copy their SQL; pausing a campaign uses the playbook's own statement.
        action_dsn="",
        pause_campaign_sql=PAUSE_CAMPAIGN_EXAMPLE,
    )
    git = replace(
        settings.git,
        repo=repo,
        deploy_pattern="deploy",
        deploy_tags=True,
        migration_globs=DEFAULT_MIGRATION_GLOBS,
    )
    pages = standin.pages() if standin is not None else DEFAULT_STATUS_PAGES
    status = replace(settings.status, pages=pages)
    return replace(
        settings,
        state_dir=demo_dir,
        database=database,
        errors=ErrorSettings(),
        git=git,
        status=status,
        command_panes=_function_log_pane(demo_dir),
    )


def _function_log_pane(demo_dir: Path) -> tuple[CommandPane, ...]:
    """The playbook's ``supabase functions logs send-sms --tail``, for the demo: ``tail -F`` on the
    log its send-sms function writes (:mod:`warroom.demo.function_log`). None without ``tail``.
    A team's own command panes are not run by the demo (it runs nothing of a configuration)."""
    tail = shutil.which("tail")
    if tail is None:
        return ()
    path = demo_dir / FUNCTION_LOG_FILE
    with contextlib.suppress(OSError):  # there from the start: tail says nothing about a missing file
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))
    return (CommandPane(name="send-sms (demo)", command=(tail, "-n", "200", "-F", str(path)), lines=2000),)


def prepare(
    settings: Settings,
    *,
    reset: bool = False,
    online: bool = False,
    clock: Clock = utc_now,
) -> DemoSession:
    """Start or continue the demo (see the module's docstring). Raises :class:`DemoError`."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    notices: list[str] = []
    demo_dir = Path(settings.state_dir).expanduser().resolve() / DEMO_DIR
    try:
        # The demo's journal, database and password are the user's alone (0700, like the state dir).
        tightened = private_dir(demo_dir)
        if tightened:
            notices.append(tightened)
        lock = demo_dir / ".prepare.lock"
        if lock.exists() and lock.stat().st_mode & 0o077:
            lock.chmod(0o600)
    except OSError as exc:
        raise DemoError(f"cannot create the demo folder {demo_dir}: {exc.strerror or exc}") from None
    journal_path = demo_dir / JOURNAL_FILE
    repo = demo_dir / "repo"
    pg: EmbeddedPostgres | None = None
    standin: StatusStandIn | None = None
    try:
        with _prepare_lock(demo_dir):
            # -- the server ----------------------------------------------------------------------
            pg = EmbeddedPostgres(demo_dir / "postgres")
            try:
                pg.start()
            finally:
                notices.extend(pg.notices)
            timings["postgres"] = time.perf_counter() - t0

            # -- the database and the story ------------------------------------------------------
            t = time.perf_counter()
            open_incidents = set() if reset else _open_incidents(journal_path, settings)
            now = clock()
            server = pg
            try:
                result = _run_sync(
                    lambda: _prepare_database(server, reset=reset, now=now, open_incidents=open_incidents)
                )
            except (OSError, TimeoutError) as exc:
                # A server left running by an earlier demo that does not answer: restart it once,
                # unless another live demo is using it.
                if server.owners() != [os.getpid()]:
                    raise
                log.info("demo: restarting an unresponsive embedded PostgreSQL (%s)", exc)
                server.stop_now()
                server.release()
                server.start()
                result = _run_sync(
                    lambda: _prepare_database(server, reset=reset, now=now, open_incidents=open_incidents)
                )
            story = result.story
            timings["database"] = time.perf_counter() - t
            if result.fresh and result.reason and result.reason not in ("--reset", "a new demo database"):
                notices.append(f"starting a new demo incident: {result.reason}")

            # -- the repository ------------------------------------------------------------------
            t = time.perf_counter()
            repo_path: Path | None = repo
            if result.fresh or not gitrepo.is_valid(repo):
                try:
                    gitrepo.build(repo, story.deploy_at)
                    if not result.fresh and (story.breach_at or story.rollback_at):
                        story = replace(story, breach_at=None, rollback_at=None)
                        _run_sync(lambda: _set_story(server.dsn(DEMO_DB), breach_at=None, rollback_at=None))
                except gitrepo.RepoError as exc:
                    repo_path = None
                    notices.append(f"no demo repository: {exc}")
            timings["repo"] = time.perf_counter() - t

            # -- the journal and the incident -----------------------------------------------------
            t = time.perf_counter()
            if result.fresh:
                still_open = _open_incidents(journal_path, settings)
                if still_open is None:  # unreadable: kept aside, with what was written for it
                    _move_journal_aside(journal_path, demo_dir, now)
                else:  # the demo journal goes on: a new incident never takes an old one's id
                    _close_abandoned(journal_path, settings, clock, still_open, result.reason)
                incident_id = _declare(journal_path, settings, clock)
                _run_sync(lambda: _set_story(server.dsn(DEMO_DB), incident_id=incident_id))
                story = replace(story, incident_id=incident_id)
            else:
                assert story.incident_id is not None
                incident_id = story.incident_id
            timings["journal"] = time.perf_counter() - t

            # -- the status pages ----------------------------------------------------------------
            t = time.perf_counter()
            if not online:
                standin = StatusStandIn(clock).start()
            timings["standin"] = time.perf_counter() - t

            demo_settings = _demo_settings(settings, demo_dir, pg.dsn(DEMO_DB), repo_path, standin)
            session = DemoSession(
                settings=demo_settings,
                incident_id=incident_id,
                standin=standin is not None,
                demo_dir=demo_dir,
                story=story,
                reused=not result.fresh,
                notices=tuple(notices),
                timings=timings,
                clock=clock,
                _pg=pg,
                _standin=standin,
            )
            atexit.register(session._atexit)
            timings["total"] = time.perf_counter() - t0
            log.info(
                "demo prepared in %.2fs (%s)",
                timings["total"],
                ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()),
            )
            return session
    except BaseException as exc:
        with _signals_deferred():
            if standin is not None:
                with contextlib.suppress(Exception):
                    standin.close()
            if pg is not None:
                with contextlib.suppress(Exception):
                    pg.release()
        if isinstance(exc, DemoError | KeyboardInterrupt | SystemExit | asyncio.CancelledError):
            raise
        raise DemoError(_one_line(exc)) from None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, EmbeddedError | SeedError | gitrepo.RepoError):
        text = str(exc)
    elif isinstance(exc, JournalError):
        text = f"demo journal: {exc}"
    elif isinstance(exc, OSError | TimeoutError):
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        text = f"the demo's PostgreSQL did not answer: {why}"
    else:
        name = type(exc).__name__
        text = f"{name}: {exc}" if str(exc) else name
        if type(exc).__module__.startswith("asyncpg"):
            text = f"demo database: {text}"
    from warroom.text import clean

    return clean(" ".join(text.split()), max_len=300) or type(exc).__name__
