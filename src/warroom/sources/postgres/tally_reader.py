"""The errors pane's reads: the tallies' full read, the incremental read, the declaration baseline.

The full read (at start, every ``resync_interval``, after a reconnect, and when the window's start
would pass the region whose exact times it listed) aggregates the whole window in one REPEATABLE
READ READ ONLY transaction, with ``resync_timeout``: it is the expensive read, 0.4 s on a table
with 1M rows in the window. Between full reads each poll reads only what is new: the rows above
the id watermark (:class:`~warroom.sources.postgres.watermark.Watermark`), or without an id column
the rows of the last ``[errors] overlap`` by time: about a millisecond. The declaration baseline
(the window that ended at the declaration) is read once, after a full read.

Bounded whatever the data: the built-in queries cut every text they return in SQL (``left()``)
and group by the cut values, and the tallies track at most
:data:`~warroom.sources.tallies.MAX_KEYS` keys one by one (the rest in one "other" bucket, the
totals exact).

An id column that is not an integer (a uuid: Supabase tables often use ``gen_random_uuid()``)
cannot carry a watermark: the reader then counts by the time column, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from warroom.durations import utc
from warroom.settings import Settings
from warroom.sources.postgres.failures import ConnectionLost, QueryFailed, ShapeError
from warroom.sources.postgres.queries import Query, load_query, quote_ident, sql_text
from warroom.sources.postgres.rows import Row, as_utc, new_rows, one_row, tally_groups
from warroom.sources.postgres.session import Session
from warroom.sources.postgres.watermark import Watermark
from warroom.sources.tallies import Tallies, TallyGroup, TallySnapshot, ceil_minute
from warroom.text import clean

#: The queries of the errors pane that a team may replace.
TALLY_QUERIES = ("error_tally", "error_tally_ids", "error_tally_since")
GAP_LOOKBACK = 10_000  # ids below the watermark checked for in-flight rows after a full read
MAX_NEW_ROWS = 50_000  # more new rows than this since the last poll: do a full read instead
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
FULL_READ_WORK_MEM = "16MB"
INTEGER_TYPES = ("bigint", "integer", "smallint")
ID_TYPE_SQL = (
    "SELECT format_type(a.atttypid, NULL) AS type FROM pg_attribute a "
    "WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped"
)


class TallyReader:
    """The errors pane's state between polls and its reads (see the module docstring)."""

    def __init__(
        self, settings: Settings, declared_at: datetime | None, clock: Callable[[], datetime]
    ) -> None:
        self._db = settings.database
        self._er = settings.errors
        self._clock = clock
        self._queries = self._load()
        self._declared_at = utc(declared_at) if declared_at is not None else None
        self.tallies = Tallies(self._er.window, self._er.limit)
        self._watermark = Watermark()
        self._snapshot_sql = sql_text("snapshot")
        self._full_read_due = True
        self._full_read_at: datetime | None = None  # console clock
        self._complete = True
        self._baseline_error = ""
        self._server_offset: timedelta | None = None  # the server's clock minus the console's
        self._id_checked = False
        self._id_note = ""

    def _load(self) -> dict[str, Query]:
        return {name: load_query(name, self._db.queries.get(name), self._er) for name in TALLY_QUERIES}

    @property
    def queries(self) -> dict[str, Query]:
        return dict(self._queries)

    # -- what is due --------------------------------------------------------------------------------------
    def connected(self, server_major: int) -> None:
        """A new connection: rows may have come and gone meanwhile, so a full read is due."""
        self._snapshot_sql = sql_text("snapshot" if server_major >= 13 else "snapshot_pre13")
        self._full_read_due = True

    def reread(self) -> None:
        """Do a full read next (a retry, a lost connection)."""
        self._full_read_due = True

    def set_declared_at(self, declared_at: datetime | None) -> bool:
        """A new declaration time (declared while running): the baseline is read again. Whether it
        changed."""
        declared_at = utc(declared_at) if declared_at is not None else None
        if declared_at == self._declared_at:
            return False
        self._declared_at = declared_at
        self.tallies.clear_baseline()
        self._baseline_error = ""
        return True

    def full_read_due(self) -> bool:
        t = self.tallies
        return (
            self._full_read_due
            or not t.loaded
            or self._full_read_at is None
            or self._clock() - self._full_read_at >= self._db.resync_interval
            or t.needs_full_read(self.server_now() + 2 * self._db.poll_interval)
        )

    def baseline_due(self, after_full_read: bool) -> bool:
        """A baseline that failed is tried again after the next full read only."""
        return (
            self._declared_at is not None
            and not self.tallies.has_baseline
            and (after_full_read or not self._baseline_error)
        )

    @property
    def clock_known(self) -> bool:
        return self._server_offset is not None

    def server_now(self) -> datetime:
        """The server's clock, as of the last read that asked it (the console's until then)."""
        return self._clock() + (self._server_offset or timedelta(0))

    # -- reads --------------------------------------------------------------------------------------------
    async def check_id_column(self, session: Session) -> None:
        """The id watermark needs an integer id; with any other type, count by the time column."""
        if not self._er.id_column or self._id_checked:
            return
        try:
            table = quote_ident(self._er.table)
            row = await session.fetchrow("error_tally_ids", ID_TYPE_SQL, table, self._er.id_column)
        except (QueryFailed, ConnectionLost):
            return  # the table may not exist yet: the errors pane says so itself
        self._id_checked = True
        kind = row["type"] if row is not None else None
        if kind is not None and kind not in INTEGER_TYPES:
            self._id_note = (
                f"{self._er.table}.{self._er.id_column} is {kind}, not an integer: counting by "
                f'{self._er.time_column} (set [errors] id_column = "" to say so)'
            )
            self._er = replace(self._er, id_column="")
            self._queries = self._load()
            self._watermark = Watermark()

    async def sync_clock(self, session: Session) -> None:
        """Learn the server's clock (the error rate's minutes are the server's)."""
        row = await self._snapshot(session)
        self._server_offset = as_utc(row["now"], "snapshot", "now") - self._clock()

    async def _snapshot(self, session: Session) -> Row:
        row = await session.fetchrow("snapshot", self._snapshot_sql)
        if row is None:
            raise ShapeError("snapshot", "returned no row")
        return row

    async def incremental(self, session: Session) -> bool:
        """Count what is new since the last read; ``False`` when a full read is needed instead."""
        snap = await self._snapshot(session)
        now = as_utc(snap["now"], "snapshot", "now")
        self._server_offset = now - self._clock()
        if not self._er.id_column:
            await self._reread_tail(session, now)
            return True
        wm = self._watermark
        wm.note_xmax(snap["xmax"])
        q = self._queries["error_tally_since"]
        after = wm.high if wm.high is not None else -(2**63)
        got = new_rows(await session.fetch(q, after, wm.recheck_ids(), MAX_NEW_ROWS), q.name)
        if sum(1 for row_id, *_ in got if row_id > after) >= MAX_NEW_ROWS:
            self._full_read_due = True
            return False
        t = self.tallies
        t.advance(now)
        new, complete = wm.accept([row_id for row_id, *_ in got], xmin_before=snap["xmin"])
        for row_id, error_type, error_message, at in got:
            if row_id in new:
                new.discard(row_id)  # a query returning a row twice counts it once
                t.add(error_type, error_message, at)
        if not complete:
            self._complete = False
        return True

    async def _reread_tail(self, session: Session, now: datetime) -> None:
        """Without an id column: re-read the rows of the last ``overlap`` by time."""
        t = self.tallies
        t.advance(now)
        tail_start = now - self._er.overlap
        if t.tail_start is not None and tail_start < t.tail_start:
            tail_start = t.tail_start
        q = self._queries["error_tally"]
        rows = await session.fetch(q, tail_start, None, FAR_FUTURE, t.max_keys)
        t.replace_tail(tail_start, tally_groups(rows, FAR_FUTURE, q.name))

    async def full_read(self, session: Session) -> None:
        """Read the whole window again, in one snapshot (see the module docstring)."""
        er, db = self._er, self._db
        margin = max(timedelta(minutes=1), 3 * db.poll_interval)
        tally = self._queries["error_tally"]
        ids_q = self._queries["error_tally_ids"]
        keys = self.tallies.max_keys
        limit = db.resync_timeout
        high = None
        ids: list[int] = []
        tail_start: datetime | None = None
        tail: list[TallyGroup] = []
        # A hash aggregate (the planner takes every row for its own group and would sort).
        planner = ("enable_sort = off", f"work_mem = '{FULL_READ_WORK_MEM}'")
        async with session.snapshot(tally.name, limit, *planner):
            snap = await self._snapshot(session)
            now = as_utc(snap["now"], "snapshot", "now")
            start = now - er.window
            exact_until = ceil_minute(start + db.resync_interval + margin)
            if er.id_column:
                rows = await session.fetch(tally, start, None, exact_until, keys, limit=limit)
                groups = tally_groups(rows, exact_until, tally.name)
                row = one_row(await session.fetch(ids_q, GAP_LOOKBACK, limit=limit), ids_q.name)
                high = row.get("high")
                ids = [int(i) for i in row.get("ids") or []]
            else:
                tail_start = now - er.overlap
                rows = await session.fetch(tally, start, tail_start, exact_until, keys, limit=limit)
                groups = tally_groups(rows, exact_until, tally.name)
                rows = await session.fetch(tally, tail_start, None, FAR_FUTURE, keys, limit=limit)
                tail = tally_groups(rows, FAR_FUTURE, tally.name)
        self.tallies.load(now, groups, exact_until, tail_start=tail_start, tail=tail)
        if er.id_column:
            xmax = snap["xmax"]
            self._watermark.reset(None if high is None else int(high), ids, GAP_LOOKBACK, xmax)
        self._complete = True
        self._full_read_due = False
        self._full_read_at = self._clock()
        self._server_offset = now - self._clock()

    async def baseline(self, session: Session) -> None:
        """The counts of the window that ended at the declaration; a failure is only noted."""
        declared = self._declared_at
        assert declared is not None
        q = self._queries["error_tally"]
        try:
            rows = await session.fetch(q, declared - self._er.window, declared, None, self.tallies.max_keys)
            groups = tally_groups(rows, None, q.name)
        except QueryFailed as failed:
            self._baseline_error = f"baseline at the declaration: {failed.failure.reason}"
            return
        except ShapeError as exc:
            self._baseline_error = clean(f"baseline at the declaration: {exc.reason}", max_len=200)
            return
        self.tallies.set_baseline(declared, groups)
        self._baseline_error = ""

    # -- the pane's data -----------------------------------------------------------------------------------
    def snapshot(self, *, full_read: bool, db_ms: float, provisional: bool = False) -> TallySnapshot:
        """The errors pane's data now. ``provisional``: more of this poll is coming (the baseline),
        so the next snapshot's ``delta_poll`` still counts from the previous poll's."""
        t = self.tallies
        by_id = bool(self._er.id_column)
        notes = [self._id_note] if self._id_note else []
        if not self._complete:
            notes.append("ids may be missing until the next full read (too many gaps)")
        if not t.exact:
            notes.append("the oldest minute is approximate until the next full read")
        snap = t.snapshot(
            self._clock(),
            mode="id" if by_id else "time",
            full_read=full_read,
            watermark=self._watermark.high if by_id else None,
            pending_ids=len(self._watermark.pending) if by_id else 0,
            db_ms=round(db_ms, 3),
            baseline_error=self._baseline_error,
            notes=tuple(notes),
            provisional=provisional,
        )
        exact = t.exact and self._complete
        return snap if snap.exact == exact else replace(snap, exact=exact)
