"""The poll loop: :class:`PostgresSource` runs the database panes' queries on one connection,
cheap ones first, survives outages, and emits what it has.

Use from the UI (an async worker on the App, ``exit_on_error=False``)::

    source = PostgresSource(settings, declared_at=incident.declared_at)
    await source.run(emit=lambda poll: app.post_message(DbPolled(poll)), stop=stop_event)

``run`` emits a :class:`~warroom.sources.dbpoll.DbPoll` after every cycle and never raises
(except ``CancelledError``): every failure is data in the poll.

A cycle runs the cheap queries first: the tallies' incremental read (about a millisecond), health,
SMS failures, the error rate and the team's panes. When an expensive read is due (the tallies'
full read: at start, every ``resync_interval``, after a reconnect; the declaration baseline, once),
the cycle emits a poll with the cheap panes' data *before* it, then runs it, then emits again: a
cheap pane never waits for an expensive one to show its first data. Cycles never overlap (one
connection, one query at a time): the loop waits ``poll_interval`` after the cheap queries, and the
expensive reads run in that wait, so they delay the next cycle only by as much as they outlast it.
A slow database stretches the period.

One connection per source (DESIGN.md, principle 3): a second one for the expensive reads would
keep health fresh while a full read runs longer than the poll interval (once per
``resync_interval``, on a database in trouble), at the cost of a second backend on a server that
may be out of connection slots; bench/db_first_data.py measures both.

Lost or unreachable: reconnect with capped exponential backoff and equal jitter
(``base * 2**(n-1)`` capped at 30 s, then a random 50-100% of it), and a full read of the tallies
after every reconnect. A query that fails for a reason of its own disables only its pane until
:meth:`PostgresSource.retry` (:mod:`~warroom.sources.postgres.failures`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from warroom.durations import utc_now
from warroom.settings import QueryPane, Settings
from warroom.sources.dbpoll import (
    MAX_TABLE_ROWS,
    ConnectionState,
    DbPoll,
    DbSize,
    ErrorRateSnapshot,
    HealthSnapshot,
    QueryFailure,
    SmsSnapshot,
    TablePane,
    query_pane_name,
)
from warroom.sources.error_rate import RateTracker, rate_from_series
from warroom.sources.postgres.failures import ConnectionLost, QueryFailed, ShapeError, one_line
from warroom.sources.postgres.queries import (
    PANES,
    Query,
    load_queries,
    pane_of,
)
from warroom.sources.postgres.rows import (
    SMS_ROWS,
    health_snapshot,
    one_row,
    rate_rows,
    size_bytes,
    sms_snapshot,
    table_pane,
)
from warroom.sources.postgres.session import Session, connect
from warroom.sources.postgres.statements import StatementsReader
from warroom.sources.postgres.tally_reader import TALLY_QUERIES, TallyReader
from warroom.sources.tallies import Tallies, TallySnapshot
from warroom.text import clean, register_dsn

log = logging.getLogger(__name__)

Emit = Callable[[DbPoll], None]
RATE_LOOKBACK_MARGIN = timedelta(minutes=10)
NOT_CONFIGURED_WAIT = 3600.0


class PostgresSource:
    """The database panes' poller. See the module docstring for how to drive it."""

    def __init__(
        self,
        settings: Settings,
        *,
        declared_at: datetime | None,
        clock: Callable[[], datetime] = utc_now,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self._db = settings.database
        self._er = settings.errors
        self._clock = clock
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._rng = rng
        register_dsn(self._db.dsn)
        self._queries = {n: q for n, q in load_queries(settings).items() if n not in TALLY_QUERIES}
        self._reader = TallyReader(settings, declared_at, clock)
        self._session: Session | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        status = "connecting" if self._db.dsn else "not_configured"
        self._state = ConnectionState(status, since=clock(), dsn=self._db.masked_dsn)  # type: ignore[arg-type]
        self._failures = 0  # connects failed or connections lost since the last clean cycle
        self._down_since: datetime | None = None
        self._disabled: dict[str, QueryFailure] = {}
        self._expensive_s = 0.0  # how long the last cycle's expensive reads took
        # last data per pane
        self._errors: TallySnapshot | None = None
        self._health: HealthSnapshot | None = None
        self._size: DbSize | None = None
        self._sms: SmsSnapshot | None = None
        self._rate: ErrorRateSnapshot | None = None
        self._rate_tracker = RateTracker(
            self._er.rate_threshold,
            self._er.rate_sustain,
            max_gap=max(self._db.poll_interval * 3, timedelta(seconds=30)),
        )
        self._panes: list[TablePane | None] = [None] * len(self._db.panes)
        self._statements = StatementsReader(self._db, clock)

    # -- public API -----------------------------------------------------------------------------------------
    @property
    def connection(self) -> ConnectionState:
        return self._state

    @property
    def tallies(self) -> Tallies:
        return self._reader.tallies

    def queries(self) -> dict[str, Query]:
        return {**self._queries, **self._reader.queries}

    def retry(self, name: str) -> None:
        """Re-enable a disabled pane (by pane or query name) and poll soon."""
        pane = pane_of(name)
        self._disabled.pop(pane, None)
        if pane == "errors":
            self._reader.reread()
        if pane == "statements":
            self._statements.reread()
        self._wake.set()

    def refresh(self) -> None:
        """Poll now instead of at the end of the current wait."""
        self._wake.set()

    def set_declared_at(self, declared_at: datetime | None) -> None:
        """The incident's declaration time changed (declared while running): reload the baseline."""
        if self._reader.set_declared_at(declared_at):
            self._wake.set()

    async def run(self, emit: Emit, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; ``emit`` every cycle's :class:`DbPoll` (and one before its
        expensive reads, if any). Never raises."""
        emit = _guarded(emit)
        try:
            while not stop.is_set():
                try:
                    poll = await self.poll_once(emit)
                except Exception as exc:  # a bug: say so and keep going rather than end the panes
                    log.exception("the database poll failed")
                    self._lost(exc)
                    poll = self._poll(self._clock(), 0.0)
                emit(poll)
                if stop.is_set():
                    break
                await self._sleep(self._delay(poll), stop)
        finally:
            await self.close()

    async def poll_once(self, emit: Emit | None = None) -> DbPoll:
        """One cycle: connect if needed, run every enabled pane's queries, return the poll.

        ``emit`` gets the cheap panes' poll before the expensive reads, when there are any."""
        async with self._lock:
            self._wake.clear()
            self._expensive_s = 0.0
            fetched = self._clock()
            if not self._db.dsn:
                return self._poll(fetched, 0.0)
            session = await self._connected()
            if session is None:
                return self._poll(fetched, 0.0)
            session.db_ms = 0.0
            try:
                await self._cheap(session)
                if self._expensive_due():

                    def show() -> None:
                        if emit is not None:
                            emit(self._poll(fetched, session.db_ms))

                    show()
                    t0 = time.perf_counter()
                    await self._pane("errors", lambda: self._poll_errors_fully(session, show))
                    self._expensive_s = time.perf_counter() - t0
            except ConnectionLost as exc:
                self._lost(exc)
            else:
                # A whole cycle went through: only now is the database back (a connection that
                # opens but whose queries time out must keep backing off).
                self._failures = 0
                self._down_since = None
            return self._poll(fetched, session.db_ms)

    async def close(self) -> None:
        """Close the connection (politely, then by force)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    # -- the cycle ------------------------------------------------------------------------------------------
    async def _cheap(self, session: Session) -> None:
        """The cheap queries, in one read-only transaction (team queries in their own)."""
        await session.end()  # one a cancelled cycle left open
        reader = self._reader
        if not reader.clock_known:
            await self._pane("errors", lambda: reader.sync_clock(session))
        if not reader.full_read_due():
            await self._pane("errors", lambda: self._poll_errors(session))
        await self._pane("health", lambda: self._poll_health(session))
        await self._pane("sms", lambda: self._poll_sms(session))
        await self._pane("error_rate", lambda: self._poll_error_rate(session))
        for i, pane in enumerate(self._db.panes):
            await self._pane(query_pane_name(i), lambda i=i, pane=pane: self._poll_table(session, i, pane))
        await self._pane("statements", lambda: self._statements.read(session))
        await session.end()

    def _expensive_due(self) -> bool:
        reader = self._reader
        return "errors" not in self._disabled and (reader.full_read_due() or reader.baseline_due(False))

    async def _pane(self, pane: str, poll: Callable[[], Awaitable[None]]) -> None:
        """Run one pane's poll unless it is disabled; a failure of its own disables it."""
        if pane in self._disabled:
            return
        try:
            await poll()
        except (ConnectionLost, asyncio.CancelledError):
            raise
        except QueryFailed as failed:
            self._disabled[pane] = failed.failure
        except ShapeError as exc:
            self._disabled[pane] = exc.failure(self._clock())
        except Exception as exc:  # odd data from a team's query, or a bug: the pane says so
            log.warning("the %s pane failed: %s", pane, one_line(exc))
            if self._session is not None and self._session.closed:
                raise ConnectionLost(one_line(exc)) from exc
            reason = clean(f"unexpected {type(exc).__name__}: {one_line(exc)}", max_len=200)
            self._disabled[pane] = QueryFailure(PANES.get(pane, (pane,))[0], reason, "error", self._clock())

    # -- connection -----------------------------------------------------------------------------------------
    async def _connected(self) -> Session | None:
        """The open session, opening one if needed (``None``: it could not be opened)."""
        session = self._session
        if session is not None and not session.closed:
            return session
        if session is not None:
            self._lost(ConnectionLost("the connection was closed"))
        try:
            conn = await connect(self.settings)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._connect_failed(exc)
            return None
        session = self._session = Session(conn, self._db, self._clock)
        self._state = ConnectionState(
            "connected",
            since=self._clock(),
            server_version=clean(conn.get_settings().server_version, max_len=40),
            dsn=self._db.masked_dsn,
        )
        self._reader.connected(conn.get_server_version().major)
        await self._reader.check_id_column(session)
        return session

    def _connect_failed(self, exc: BaseException) -> None:
        now = self._clock()
        self._failures += 1
        if self._down_since is None:
            self._down_since = now
        self._state = ConnectionState(
            "unreachable",
            since=self._down_since,
            attempt=self._failures + 1,
            retry_at=now + timedelta(seconds=self.backoff(self._failures)),
            last_error=one_line(exc),
            server_version=self._state.server_version,
            dsn=self._db.masked_dsn,
        )
        self._session = None

    def _lost(self, exc: BaseException) -> None:
        """The connection broke mid-cycle: drop it. The first loss reconnects at once; losses in a
        row without a clean cycle between them back off like failed connects."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            session.conn.terminate()
        now = self._clock()
        self._failures += 1
        if self._down_since is None:
            self._down_since = now
        wait = 0.0 if self._failures <= 1 else self.backoff(self._failures - 1)
        self._state = ConnectionState(
            "unreachable",
            since=self._down_since,
            attempt=self._failures,
            retry_at=now + timedelta(seconds=wait),
            last_error=one_line(exc.__cause__ or exc) if isinstance(exc, ConnectionLost) else one_line(exc),
            server_version=self._state.server_version,
            dsn=self._db.masked_dsn,
        )
        self._reader.reread()

    def backoff(self, failures: int) -> float:
        """Seconds before the next attempt after ``failures`` failed ones (equal jitter)."""
        if failures <= 0:
            return 0.0
        d = min(self._backoff_cap, self._backoff_base * 2 ** min(failures - 1, 30))
        return d * (0.5 + 0.5 * self._rng())

    # -- loop plumbing --------------------------------------------------------------------------------------
    def _delay(self, poll: DbPoll) -> float:
        """Seconds until the next cycle: the poll interval after the cheap queries (the expensive
        reads ran in it), or until the next attempt while unreachable."""
        st = poll.connection
        if st.status == "not_configured":
            return NOT_CONFIGURED_WAIT
        if st.status == "unreachable" and st.retry_at is not None:
            return max(0.0, (st.retry_at - self._clock()).total_seconds())
        return max(0.0, self._db.poll_interval.total_seconds() - self._expensive_s)

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        if self._wake.is_set() or seconds <= 0:
            return
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    def _poll(self, fetched: datetime, db_ms: float) -> DbPoll:
        d = self._disabled
        panes = [d.get(query_pane_name(i), data) for i, data in enumerate(self._panes)]
        return DbPoll(
            fetched_at=fetched,
            connection=self._state,
            errors=d.get("errors", self._errors),
            health=d.get("health", self._health),
            sms=d.get("sms", self._sms),
            error_rate=d.get("error_rate", self._rate),
            panes=tuple(panes),
            statements=d.get("statements", self._statements.snapshot),
            db_ms=round(db_ms, 3),
        )

    # -- the panes ------------------------------------------------------------------------------------------
    async def _poll_errors(self, session: Session) -> None:
        """The tallies' incremental read (a full read instead is the expensive part's)."""
        reader = self._reader
        ms0 = session.db_ms
        if await reader.incremental(session):
            # Provisional when the baseline follows in this cycle (declared while running).
            later = reader.baseline_due(False)
            self._errors = reader.snapshot(full_read=False, db_ms=session.db_ms - ms0, provisional=later)

    async def _poll_errors_fully(self, session: Session, show: Callable[[], None]) -> None:
        """The expensive reads: the tallies' full read, then the declaration baseline (``show``
        emits the tallies between the two)."""
        reader = self._reader
        ms0 = session.db_ms
        full = reader.full_read_due()
        if full:
            await reader.full_read(session)
        if reader.baseline_due(full):
            if full:  # the tallies now, the baseline's deltas a moment later
                self._errors = reader.snapshot(full_read=True, db_ms=session.db_ms - ms0, provisional=True)
                show()
            await reader.baseline(session)
        await session.end()
        self._errors = reader.snapshot(full_read=full, db_ms=session.db_ms - ms0)

    async def _poll_health(self, session: Session) -> None:
        q = self._queries["db_health"]
        row = one_row(await session.fetch(q), q.name)
        now = self._clock()
        self._health = health_snapshot(row, q.name, now, await self._poll_size(session, now))

    async def _poll_size(self, session: Session, now: datetime) -> DbSize | QueryFailure | None:
        """The database's size, at most every size_interval (its failure is the health pane's note)."""
        if "db_size" in self._disabled:
            return self._disabled["db_size"]
        if self._size is not None and now - self._size.fetched_at < self._db.size_interval:
            return self._size
        q = self._queries["db_size"]
        try:
            self._size = DbSize(size_bytes(await session.fetch(q), q.name), self._clock())
        except QueryFailed as failed:
            self._disabled["db_size"] = failed.failure
            return failed.failure
        except ShapeError as exc:
            self._disabled["db_size"] = exc.failure(now)
            return self._disabled["db_size"]
        return self._size

    async def _poll_sms(self, session: Session) -> None:
        q = self._queries["sms_failures"]
        rows = await session.fetch(q, self._er.window, SMS_ROWS)
        self._sms = sms_snapshot(rows, q.name, self._clock(), self._er.window)

    async def _poll_error_rate(self, session: Session) -> None:
        q = self._queries["error_rate"]
        lookback = self._er.rate_sustain + RATE_LOOKBACK_MARGIN
        rows = await session.fetch(q, lookback)
        fetched = self._clock()
        got = rate_rows(rows, q.name)
        server_now = self._reader.server_now()
        if not isinstance(got, list):
            self._rate = self._rate_tracker.observe(got, server_now, fetched)
            return
        er = self._er
        self._rate = rate_from_series(
            got,
            now=server_now,
            lookback=lookback,
            threshold=er.rate_threshold,
            sustain=er.rate_sustain,
            fetched_at=fetched,
        )

    async def _poll_table(self, session: Session, index: int, pane: QueryPane) -> None:
        name = query_pane_name(index)
        rows = await session.fetch(self._queries[name], max_rows=MAX_TABLE_ROWS + 1)
        self._panes[index] = table_pane(name, pane.title, rows, self._clock())


def _guarded(emit: Emit) -> Emit:
    """``emit``, its failures logged (a failing callback must not end the polls)."""

    def guarded(poll: DbPoll) -> None:
        try:
            emit(poll)
        except Exception:
            log.exception("the database poll's emit callback failed")

    return guarded
