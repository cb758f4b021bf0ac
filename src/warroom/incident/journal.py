"""The incident journal: an append-only SQLite event store that survives ``kill -9``.

- WAL with ``synchronous=FULL``: an event is on disk before :meth:`Journal.append` returns.
- Every event has a strictly increasing local sequence number and a globally unique id (so
  journals from several machines can later be merged without duplicates), a UTC timestamp and
  the actor who caused it.
- Incident ids are ``INC-YYYY-MM-DD-###``, numbered per UTC day inside one ``BEGIN IMMEDIATE``
  transaction, so processes sharing a state dir never hand out the same id twice.
- A file that is not a warroom journal, is damaged, or comes from a newer schema is refused with
  a one-line :class:`JournalError` and never written to.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import random
import re
import sqlite3
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from warroom.durations import iso_utc, parse_utc, utc
from warroom.files import private_dir
from warroom.incident import events as ev
from warroom.incident.state import FoldError, Incident, fold
from warroom.playbook import DEFAULT, Playbook
from warroom.text import clean

SCHEMA_VERSION = 1
INCIDENT_ID = re.compile(r"INC-\d{4}-\d{2}-\d{2}-\d{3,}")
APPLICATION_ID = 0x57524F4D  # "WROM"
JOURNAL_FILE = "journal.sqlite3"
_SQLITE_HEADER = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id      TEXT PRIMARY KEY,
    day     TEXT NOT NULL,
    number  INTEGER NOT NULL,
    UNIQUE (day, number)
);
CREATE TABLE IF NOT EXISTS events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL UNIQUE,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_incident ON events (incident_id, seq);
"""

Clock = Callable[[], datetime]
ACTOR_MAX = 100


def _clean_field(value: str, max_len: int, multiline: bool) -> str:
    return clean(value, max_len=max_len, multiline=multiline)


def system_clock() -> datetime:
    return datetime.now(UTC)


def login_name() -> str:
    try:
        return clean(getpass.getuser(), max_len=ACTOR_MAX) or "unknown"  # $USER is anyone's to set
    except Exception:  # no USER, no passwd entry (some containers)
        return "unknown"


_BUSY_TIMEOUT = 30.0  # seconds to wait for another process holding the file


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


class JournalError(Exception):
    """The journal cannot be used; the message is one line and names the file."""


class Journal:
    def __init__(self, path: Path, *, actor: str | None = None, clock: Clock = system_clock) -> None:
        self.path = Path(path)
        self.actor = clean(actor, max_len=ACTOR_MAX) or login_name()
        self.clock = clock
        self.notices: list[str] = []  # things the user should be told (a folder tightened)
        self._lock = threading.RLock()
        self._db = self._open()

    # -- opening -------------------------------------------------------------------------------
    def _fail(self, what: str) -> JournalError:
        return JournalError(f"journal {self.path}: {what}")

    def _open(self) -> sqlite3.Connection:
        try:
            # Notes and update texts are the team's business: the state dir is the user's alone
            # (one left open to others by an earlier version or by hand is tightened, and said so).
            notice = private_dir(self.path.parent)
        except OSError as exc:
            raise self._fail(f"cannot create its folder ({exc.strerror})") from None
        if notice:
            self.notices.append(notice)
        for part in (self.path, *(self.path.with_name(self.path.name + x) for x in ("-wal", "-shm"))):
            with contextlib.suppress(OSError):
                mode = stat.S_IMODE(part.stat().st_mode)
                if mode & 0o077 and part.stat().st_uid == os.geteuid():
                    part.chmod(0o600)
                    self.notices.append(f"{part} was readable by other users ({mode:o}); it is now 600")
        existed = self.path.exists() and self.path.stat().st_size > 0
        if not self.path.exists():
            with contextlib.suppress(OSError):
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        if existed:
            try:
                with self.path.open("rb") as fh:
                    header = fh.read(len(_SQLITE_HEADER))
            except OSError as exc:
                raise self._fail(f"cannot be read ({exc.strerror})") from None
            if header != _SQLITE_HEADER:
                raise self._fail("is not a warroom journal (not an SQLite file); it was left untouched")
        try:
            db = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._fail(f"cannot be opened ({exc})") from None
        # Another process may be creating or converting the same file right now: SQLite reports
        # some of those locks at once instead of waiting (switching a new file to WAL does), so
        # the opening steps are retried until the busy timeout.
        deadline = time.monotonic() + _BUSY_TIMEOUT
        while True:
            try:
                self._prepare(db, existed)
                return db
            except JournalError:
                db.close()
                raise
            except sqlite3.OperationalError as exc:
                if _is_busy(exc) and time.monotonic() < deadline:
                    _rollback(db)
                    time.sleep(random.uniform(0.002, 0.02))
                    continue
                db.close()
                if _is_busy(exc):
                    raise self._fail(f"cannot be opened ({exc})") from None
                raise self._fail(f"is damaged ({exc}); it was left untouched") from None
            except sqlite3.DatabaseError as exc:
                db.close()
                raise self._fail(f"is damaged ({exc}); it was left untouched") from None

    def _prepare(self, db: sqlite3.Connection, existed: bool) -> None:
        db.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT * 1000)}")
        if existed:
            self._check_existing(db)
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise self._fail(f"cannot be switched to WAL (journal mode {mode}); it was left untouched")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        if self._user_version(db) == 0:
            self._create(db)

    @staticmethod
    def _user_version(db: sqlite3.Connection) -> int:
        return int(db.execute("PRAGMA user_version").fetchone()[0])

    def _check_existing(self, db: sqlite3.Connection) -> None:
        # One read transaction, so a journal another process is creating right now is seen
        # either before or after its creation, never half-way (tables, but no application id).
        db.execute("BEGIN")
        try:
            app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
            version = self._user_version(db)
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            _rollback(db)
        if app_id != APPLICATION_ID and (app_id != 0 or tables):
            raise self._fail("is an SQLite file but not a warroom journal; it was left untouched")
        if version > SCHEMA_VERSION:
            raise self._fail(
                f"was written by a newer warroom (schema {version}; this version reads up to "
                f"{SCHEMA_VERSION}); upgrade warroom to open it"
            )
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            first = " ".join(str(check).split())[:200]  # quick_check lists problems over many lines
            raise self._fail(f"is damaged ({first}); it was left untouched")
        if version == SCHEMA_VERSION and not {"incidents", "events"} <= tables:
            raise self._fail("is damaged (tables missing); it was left untouched")

    def _create(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            if self._user_version(db) == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    def writable(self) -> str | None:
        """Why the journal cannot be written to (a read-only file or folder, a full disk...), or
        None. Tried for real: a row inserted and rolled back; nothing is changed."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.execute(
                        "INSERT INTO incidents (id, day, number) VALUES ('warroom-probe', 'probe', -1)"
                    )
                finally:
                    self._db.execute("ROLLBACK")
            except sqlite3.Error as exc:
                _rollback(self._db)
                return str(exc)
        return None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._fail(f"cannot be written ({exc})") from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise

    def _insert(
        self, db: sqlite3.Connection, incident_id: str, at: datetime, body: ev.Body, actor: str | None = None
    ) -> ev.Event:
        event_id = uuid.uuid4().hex
        who = clean(actor, max_len=ACTOR_MAX) if actor else self.actor
        cur = db.execute(
            "INSERT INTO events (event_id, incident_id, at, actor, kind, data) VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, incident_id, iso_utc(at), who, body.kind, ev.body_to_json(body)),
        )
        seq = cur.lastrowid
        assert seq is not None
        return ev.Event(seq, event_id, incident_id, utc(at), who, body)

    def _not_before_last(self, db: sqlite3.Connection, incident_id: str, when: datetime) -> datetime:
        """``when``, or the incident's last event's time if the clock went back (NTP, a VM
        restored, a laptop's clock fixed): the journal stays in order, no duration goes negative."""
        row = db.execute(
            "SELECT at FROM events WHERE incident_id = ? ORDER BY seq DESC LIMIT 1", (incident_id,)
        ).fetchone()
        if row is None or not isinstance(row[0], str):
            return when
        try:
            last = parse_utc(row[0])
        except ValueError:
            return when
        return max(when, last)

    def declare(
        self,
        severity: str,
        title: str,
        *,
        impact: str = "",
        lead: str = "",
        playbook: Playbook = DEFAULT,
    ) -> ev.Event:
        """Record a new incident; returns its declaration (``event.incident_id`` is the new id)."""
        playbook.severity(severity)
        at = utc(self.clock())
        day = at.strftime("%Y-%m-%d")
        channel = playbook.channel_name(severity, title, at)
        body = ev.Declared(severity=severity, title=title, impact=impact, lead=lead, channel=channel)
        try:
            with self._write() as db:
                row = db.execute("SELECT COALESCE(MAX(number), 0) FROM incidents WHERE day = ?", (day,))
                number = int(row.fetchone()[0]) + 1
                incident_id = f"INC-{day}-{number:03d}"
                db.execute(
                    "INSERT INTO incidents (id, day, number) VALUES (?, ?, ?)", (incident_id, day, number)
                )
                return self._insert(db, incident_id, at, body)
        except sqlite3.Error as exc:
            raise self._fail(f"cannot record the declaration ({exc})") from None

    def append(
        self, incident_id: str, body: ev.Body, *, at: datetime | None = None, actor: str | None = None
    ) -> ev.Event:
        """Append one event; it is durable when this returns. ``actor``: who did it, when not
        this journal's user (a status page that changed, say)."""
        when = utc(at) if at is not None else utc(self.clock())
        try:
            with self._write() as db:
                if db.execute("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)).fetchone() is None:
                    raise self._fail(f"has no incident {incident_id}")
                when = self._not_before_last(db, incident_id, when)
                return self._insert(db, incident_id, when, body, actor)
        except sqlite3.Error as exc:
            raise self._fail(f"cannot record the event ({exc})") from None

    # -- reading -------------------------------------------------------------------------------
    def _row_to_event(self, row: tuple[int, str, str, str, str, str, str]) -> ev.Event:
        seq, event_id, incident_id, at, actor, kind, data = row
        if not isinstance(incident_id, str) or not INCIDENT_ID.fullmatch(incident_id):
            # an id is printed and copied: one that is not INC-YYYY-MM-DD-### could carry anything
            raise self._fail(f"event {seq} has a malformed incident id; nothing was changed")
        if not isinstance(at, str) or not isinstance(kind, str) or not isinstance(data, str | bytes):
            raise self._fail(f"event {seq} of {incident_id} is damaged (a column has the wrong type)")
        try:
            # A journal is a file anyone with access may have edited: its text is cleaned here,
            # once, so no view (header, pick screen, timeline, report, list) can forget to.
            body = ev.body_from_json(kind, data, _clean_field)
            when = parse_utc(at)
        except (ev.EventError, ValueError) as exc:
            raise self._fail(
                f"event {seq} of {incident_id} is damaged ({exc}); nothing was changed"
            ) from None
        return ev.Event(
            seq, clean(event_id, max_len=64), incident_id, when, clean(actor, max_len=ACTOR_MAX), body
        )

    def _query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                raise self._fail(f"cannot be read ({exc})") from None

    def events(self, incident_id: str | None = None, *, after_seq: int = 0) -> list[ev.Event]:
        cols = "seq, event_id, incident_id, at, actor, kind, data"
        if incident_id is None:
            rows = self._query(f"SELECT {cols} FROM events WHERE seq > ? ORDER BY seq", (after_seq,))
        else:
            rows = self._query(
                f"SELECT {cols} FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq",
                (incident_id, after_seq),
            )
        return [self._row_to_event(r) for r in rows]

    def incident_ids(self) -> list[str]:
        ids = [r[0] for r in self._query("SELECT id FROM incidents ORDER BY day, number")]
        for incident_id in ids:
            if not isinstance(incident_id, str) or not INCIDENT_ID.fullmatch(incident_id):
                raise self._fail("holds a malformed incident id; nothing was changed")
        return ids

    def exists(self, incident_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)))

    def load(self, incident_id: str, playbook: Playbook = DEFAULT) -> Incident:
        events = self.events(incident_id)
        if not events:
            raise self._fail(f"has no incident {incident_id}")
        try:
            return fold(events, playbook)
        except (FoldError, ValueError) as exc:
            raise self._fail(f"{incident_id} cannot be replayed ({exc}); nothing was changed") from None

    def incidents(self, playbook: Playbook = DEFAULT) -> list[Incident]:
        """Every incident, folded, oldest first."""
        by_id: dict[str, list[ev.Event]] = {}
        for event in self.events():
            by_id.setdefault(event.incident_id, []).append(event)
        out = []
        for incident_id in self.incident_ids():
            evs = by_id.get(incident_id)
            if not evs:
                continue
            try:
                out.append(fold(evs, playbook))
            except (FoldError, ValueError) as exc:
                raise self._fail(f"{incident_id} cannot be replayed ({exc}); nothing was changed") from None
        return out

    def open_incidents(self, playbook: Playbook = DEFAULT) -> list[Incident]:
        return [i for i in self.incidents(playbook) if i.is_open]
