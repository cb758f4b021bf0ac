"""The sync engine of a shared war room: one console's journal and the team's shared database.

The local journal is the source of truth on this machine: every action is written there first
(the console never waits for the network), then pushed. Events of other consoles arrive by
LISTEN/NOTIFY, are merged into the local journal (their ids, times and actors kept) and handed
to ``on_events``. Every console folds an incident in :func:`warroom.incident.state.order_key`
order (declaration, then event time, then event id), so consoles that received the same events
in different orders show the same state.

When the shared database goes away, the console keeps working on its journal; ``on_status``
says it is offline, since when and why. When it is back, the console pushes what the database
lacks and pulls what it missed (event ids are idempotent: ``ON CONFLICT DO NOTHING`` there, a
skip in the journal), then follows again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warroom.durations import iso_utc, utc, utc_now
from warroom.incident import events as ev
from warroom.incident.journal import DamagedEvent, Journal, JournalError, event_from_row, incident_key
from warroom.shared.schema import CHANNEL, SharedError, check, connect, why
from warroom.text import clean

Clock = Callable[[], datetime]
_BATCH = 500  # events per push or pull round trip
_IDLE = 1.0  # seconds between looks at the local journal when nothing wakes the engine
_RETRY = (0.2, 0.5, 1.0, 2.0)  # seconds between reconnection attempts (the last one repeats)


@dataclass(frozen=True)
class Presence:
    """A console that has the incident open: who, and when it last said so."""

    who: str
    console: str
    seen: datetime


@dataclass(frozen=True)
class RoomStatus:
    """Where this console stands with the team."""

    online: bool
    since: datetime  # online or offline since
    reason: str = ""  # why offline (one line, secrets masked); why the incident is not shared
    pending: int = 0  # events written here that the team has not got yet
    people: tuple[Presence, ...] = ()
    shared: bool = True  # False: this incident cannot be shared (its id is another incident's)

    def line(self, when: Callable[[datetime], str], roles: Mapping[str, str] | None = None) -> str:
        """One line for the header: ``team: ana (lead), bob (comms)`` (who is here, with the
        roles they hold) or ``OFFLINE from the team since 14:03, 4 events to replay``; ``when``
        formats a time."""
        if not self.shared:
            return f"not shared: {self.reason}"
        if not self.online and self.reason == "connecting":
            return "team: connecting…"
        if self.online:
            held: dict[str, list[str]] = {}
            for role, who in (roles or {}).items():
                held.setdefault(who, []).append(role)
            here = dict.fromkeys(p.who for p in self.people)
            names = ", ".join(f"{w} ({', '.join(held[w])})" if w in held else w for w in here)
            return f"team: {names}" if names else "team: online"
        waiting = (
            f", {self.pending} event{'s' if self.pending != 1 else ''} to replay" if self.pending else ""
        )
        return f"OFFLINE from the team since {when(self.since)}{waiting}"


class NotShared(SharedError):
    """This incident cannot be shared (its id is another incident's in the shared database)."""


def console_id() -> str:
    """This console: host, process and a random part (two consoles of one user differ)."""
    host = clean(socket.gethostname(), max_len=40) or "host"
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _row_of(e: ev.Event) -> tuple[str, str, str, str, str, str]:
    return (e.event_id, e.incident_id, iso_utc(e.at), e.actor, e.kind, ev.body_to_json(e.body))


def events_of_rows(rows: Iterable[Any]) -> tuple[list[ev.Event], list[str]]:
    """The events shared rows hold (their text cleaned, as the journal reads its own), and one
    line for each row that holds none (the shared database is anyone's to write)."""
    out, problems = [], []
    for r in rows:
        try:
            out.append(
                event_from_row(
                    (r["gseq"], r["event_id"], r["incident_id"], r["at"], r["actor"], r["kind"], r["data"])
                )
            )
        except DamagedEvent as exc:
            problems.append(f"shared {exc.reason}; it was left out")
    return out, problems


_SELECT = "SELECT gseq, event_id, incident_id, at, actor, kind, data FROM warroom_events"


async def claim_incident_id(conn: Any, day: str, local_next: int, who: str) -> str:
    """An incident id for a new incident, unique across the team: the day's next number in the
    shared database (never below this journal's own next one), recorded in one transaction."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"warroom-day:{day}")
        top = await conn.fetchval(
            "SELECT COALESCE(max(number), 0) FROM warroom_incidents WHERE day = $1", day
        )
        number = max(int(top) + 1, local_next)
        incident_id = f"INC-{day}-{number:03d}"
        await conn.execute(
            "INSERT INTO warroom_incidents (id, day, number, claimed_by) VALUES ($1, $2, $3, $4)",
            incident_id,
            day,
            number,
            who,
        )
    return incident_id


async def declare_shared(
    journal: Journal, dsn: str, wait: float, severity: str, title: str, **fields: Any
) -> tuple[ev.Event, str]:
    """Declare an incident with an id the shared database hands out, then push the declaration.
    When the database cannot be reached, the incident is declared on this journal alone (its id
    may be taken by the team meanwhile: it is then refused when pushed, and stays local); the
    second value says so ("" when shared)."""
    try:
        conn = await connect(dsn, wait)
    except Exception as exc:
        event = journal.declare(severity, title, **fields)
        return event, f"declared on this machine only ({why(exc)})"
    try:
        await check(conn)
        day = utc(journal.clock()).strftime("%Y-%m-%d")  # as the journal will name the id
        incident_id = await claim_incident_id(conn, day, journal.next_number(day), journal.actor)
        event = journal.declare(severity, title, incident_id=incident_id, **fields)
        await push(conn, [event])
        return event, ""
    except (SharedError, OSError, TimeoutError) as exc:
        event = journal.declare(severity, title, **fields)
        return event, f"declared on this machine only ({why(exc)})"
    except Exception as exc:
        if type(exc).__module__.startswith("asyncpg"):
            event = journal.declare(severity, title, **fields)
            return event, f"declared on this machine only ({why(exc)})"
        raise
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


async def push(conn: Any, events: list[ev.Event]) -> None:
    """Insert events (all of one incident) into the shared database; those already there are
    skipped. A declaration claims its incident id, or raises :class:`NotShared` when the team
    has that id for another incident."""
    if not events:
        return
    incident_id = events[0].incident_id
    async with conn.transaction():
        # Pushes of one incident go one after the other: gseq order is commit order.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", incident_id)
        for e in events:
            if isinstance(e.body, ev.Declared):
                day, number = incident_key(incident_id)
                owner = await conn.fetchval(
                    "INSERT INTO warroom_incidents (id, day, number, claimed_by, declaration)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET declaration ="
                    " COALESCE(warroom_incidents.declaration, EXCLUDED.declaration) RETURNING declaration",
                    incident_id,
                    day,
                    number,
                    e.actor,
                    e.event_id,
                )
                if owner != e.event_id:
                    raise NotShared(
                        f"{incident_id} was declared offline and the team has that id for another "
                        "incident; it stays on this machine"
                    )
        known = await conn.fetchval("SELECT 1 FROM warroom_incidents WHERE id = $1", incident_id)
        if not known:
            raise NotShared(f"{incident_id} is not in the shared database (its declaration was not pushed)")
        await conn.executemany(
            "INSERT INTO warroom_events (event_id, incident_id, at, actor, kind, data)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
            [_row_of(e) for e in events],
        )


async def fetch_incident(conn: Any, incident_id: str) -> tuple[list[ev.Event], list[str]]:
    """Every event of a shared incident, in the order they reached the database."""
    rows = await conn.fetch(f"{_SELECT} WHERE incident_id = $1 ORDER BY gseq", incident_id)
    return events_of_rows(rows)


async def join(journal: Journal, dsn: str, wait: float, incident_id: str) -> tuple[int, list[str]]:
    """Pull a shared incident into this journal (``warroom join``): how many events were added,
    and one line per shared row that was left out. :class:`SharedError` when it cannot."""
    try:
        conn = await connect(dsn, wait)
    except Exception as exc:
        raise SharedError(why(exc)) from None
    try:
        await check(conn)
        events, problems = await fetch_incident(conn, incident_id)
    except SharedError:
        raise
    except Exception as exc:
        raise SharedError(why(exc)) from None
    finally:
        with contextlib.suppress(Exception):
            await conn.close()
    if not events:
        raise SharedError(f"the shared database has no incident {incident_id}")
    added = await asyncio.to_thread(journal.merge, [e for e in events if isinstance(e.body, ev.Declared)])
    added += await asyncio.to_thread(
        journal.merge, [e for e in events if not isinstance(e.body, ev.Declared)]
    )
    return len(added), problems


@dataclass
class _Pending:
    """What this console has written that the shared database has not got (as far as it knows)."""

    on_server: set[str] = field(default_factory=set)
    local_seq: int = 0  # the journal's events up to here were looked at


class SharedRoom:
    """Keeps one incident of a local journal in step with the shared database. Run :meth:`run`
    as a task (it never returns until cancelled or :meth:`stop`); call :meth:`poke` after
    writing to the journal so the event goes out at once (otherwise within a second).

    ``on_events(events)``: events of other consoles just merged into the journal (their journal
    sequence numbers set). ``on_status(status)``: whenever the status changes.
    """

    def __init__(
        self,
        journal: Journal,
        incident_id: str,
        dsn: str,
        *,
        on_events: Callable[[list[ev.Event]], None] = lambda events: None,
        on_status: Callable[[RoomStatus], None] = lambda status: None,
        connect_timeout: float = 5.0,
        heartbeat: float = 5.0,
        presence_timeout: float = 20.0,
        clock: Clock = utc_now,
        console: str | None = None,
    ) -> None:
        self.journal = journal
        self.incident_id = incident_id
        self._dsn = dsn
        self.on_events = on_events
        self.on_status = on_status
        self.connect_timeout = connect_timeout
        self.heartbeat = heartbeat
        self.presence_timeout = presence_timeout
        self.clock = clock
        self.console = console or console_id()
        self.status = RoomStatus(online=False, since=clock(), reason="connecting")
        self.problems: list[str] = []  # shared rows left out (damaged), one line each
        self._conn: Any = None
        self._wake = asyncio.Event()
        self._stopped = False
        self._cursor = 0  # the highest gseq of this incident merged here
        self._pending = _Pending()
        self._last_beat = 0.0
        self._people: tuple[Presence, ...] = ()

    # -- the outside ------------------------------------------------------------------------------
    def poke(self) -> None:
        """Something was written to the journal: push it now."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run(self) -> None:
        attempt = 0
        while not self._stopped:
            try:
                await self._connect()
                await self._reconcile()
                attempt = 0
                self._set_status(online=True)
                await self._follow()
            except asyncio.CancelledError:
                await self._drop()
                raise
            except NotShared as exc:
                await self._drop()
                self._set_status(online=False, reason=str(exc), shared=False)
                return
            except Exception as exc:  # the database went away, refused, timed out...
                await self._drop()
                if self._stopped:
                    break
                self._set_status(online=False, reason=why(exc))
            await self._drop()
            if self._stopped:
                break
            delay = _RETRY[min(attempt, len(_RETRY) - 1)]
            attempt += 1
            await self._sleep_offline(delay)
        await self._drop()

    # -- the connection ---------------------------------------------------------------------------
    async def _connect(self) -> None:
        conn = await connect(self._dsn, self.connect_timeout)
        self._conn = conn
        await check(conn)
        await conn.add_listener(CHANNEL, self._notified)
        conn.add_termination_listener(lambda _c: self._wake.set())

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == self.incident_id:
            self._wake.set()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(timeout=1), 2)
            with contextlib.suppress(Exception):
                conn.terminate()

    async def _sleep_offline(self, delay: float) -> None:
        """While offline: keep counting what waits to be replayed, then try again."""
        with contextlib.suppress(JournalError):
            self._set_status(online=False, reason=self.status.reason, pending=await self._count_pending())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)
        self._wake.clear()

    # -- syncing ----------------------------------------------------------------------------------
    async def _reconcile(self) -> None:
        """After (re)connecting: push every local event the database lacks, pull every shared
        event the journal lacks."""
        conn = self._conn
        rows = await conn.fetch(
            "SELECT event_id, gseq FROM warroom_events WHERE incident_id = $1", self.incident_id
        )
        self._pending = _Pending(on_server={r["event_id"] for r in rows})
        top = max((r["gseq"] for r in rows), default=0)
        await self._push_new()
        local = {e.event_id for e in await asyncio.to_thread(self.journal.events, self.incident_id)}
        missing = [i for i in self._pending.on_server if i not in local]
        for start in range(0, len(missing), _BATCH):
            chunk = missing[start : start + _BATCH]
            found = await conn.fetch(f"{_SELECT} WHERE event_id = ANY($1::text[])", chunk)
            await self._merge(found)
        self._cursor = max(self._cursor, top)
        await self._pull_new()

    async def _follow(self) -> None:
        while not self._stopped:
            self._wake.clear()
            conn = self._conn
            if conn is None or conn.is_closed():
                raise SharedError("the connection to the shared database was lost")
            await self._push_new()
            await self._pull_new()
            loop = asyncio.get_running_loop()
            if loop.time() - self._last_beat >= self.heartbeat:
                self._last_beat = loop.time()
                await self._beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(_IDLE, self.heartbeat))

    async def _local_new(self) -> list[ev.Event]:
        p = self._pending
        new = await asyncio.to_thread(self.journal.events, self.incident_id, after_seq=p.local_seq)
        return new

    async def _count_pending(self) -> int:
        p = self._pending
        new = await asyncio.to_thread(self.journal.events, self.incident_id, after_seq=p.local_seq)
        return sum(1 for e in new if e.event_id not in p.on_server)

    async def _push_new(self) -> None:
        new = await self._local_new()
        p = self._pending
        out = [e for e in new if e.event_id not in p.on_server]
        # The declaration first (it claims the incident), then in the journal's order.
        out.sort(key=lambda e: not isinstance(e.body, ev.Declared))
        for start in range(0, len(out), _BATCH):
            chunk = out[start : start + _BATCH]
            await push(self._conn, chunk)
            p.on_server.update(e.event_id for e in chunk)
        if new:
            p.local_seq = max(p.local_seq, max(e.seq for e in new))
        if out and self.status.pending:
            self._set_status(online=True)

    async def _pull_new(self) -> None:
        while True:
            rows = await self._conn.fetch(
                f"{_SELECT} WHERE incident_id = $1 AND gseq > $2 ORDER BY gseq LIMIT {_BATCH}",
                self.incident_id,
                self._cursor,
            )
            if not rows:
                return
            self._cursor = max(self._cursor, rows[-1]["gseq"])
            await self._merge(rows)
            if len(rows) < _BATCH:
                return

    async def _merge(self, rows: list[Any]) -> None:
        events, problems = events_of_rows(rows)
        self.problems += problems
        p = self._pending
        p.on_server.update(r["event_id"] for r in rows)
        fresh = [e for e in events if e.incident_id == self.incident_id]
        fresh.sort(key=lambda e: not isinstance(e.body, ev.Declared))  # a journal needs it first
        if not fresh:
            return
        try:
            added = await asyncio.to_thread(self.journal.merge, fresh)
        except JournalError as exc:
            raise NotShared(str(exc)) from None
        if added:
            # What was merged is on the server already: never pushed back.
            self.on_events(added)

    async def _beat(self) -> None:
        """Say this console is here; read who else is (gone after ``presence_timeout``)."""
        conn = self._conn
        await conn.execute(
            "INSERT INTO warroom_presence (incident_id, console, who, seen) VALUES ($1, $2, $3, now())"
            " ON CONFLICT (incident_id, console) DO UPDATE SET who = EXCLUDED.who, seen = EXCLUDED.seen",
            self.incident_id,
            self.console,
            self.journal.actor,
        )
        # The server's clock for both ends: consoles' clocks may disagree.
        rows = await conn.fetch(
            "SELECT who, console, seen FROM warroom_presence WHERE incident_id = $1"
            " AND seen > now() - make_interval(secs => $2) ORDER BY who, console",
            self.incident_id,
            float(self.presence_timeout),
        )
        people = tuple(
            Presence(clean(r["who"], max_len=60), clean(r["console"], max_len=80), r["seen"]) for r in rows
        )
        if people != self._people:
            self._people = people
            self._set_status(online=True)

    # -- status -----------------------------------------------------------------------------------
    def _set_status(self, *, online: bool, reason: str = "", pending: int = 0, shared: bool = True) -> None:
        old = self.status
        since = old.since if old.online == online and old.shared == shared else self.clock()
        if not online and old.reason == "connecting":
            since = old.since  # offline since the console started
        people = self._people if online else ()
        status = RoomStatus(online, since, reason, pending, people, shared)
        if status != old:
            self.status = status
            self.on_status(status)
