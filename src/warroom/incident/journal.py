"""The incident journal: an append-only SQLite event store that survives ``kill -9``.

- WAL with ``synchronous=FULL``: an event is on disk before :meth:`Journal.append` returns.
- Every event has a strictly increasing local sequence number, a globally unique id (journals of
  several machines merge without duplicates), a UTC timestamp and the actor who caused it.
- Incident ids are ``INC-YYYY-MM-DD-###``, numbered per UTC day inside one ``BEGIN IMMEDIATE``
  transaction, so processes sharing a state dir never hand out the same id twice.
- A file that is not a warroom journal, is damaged, or comes from a newer schema is refused with
  a one-line :class:`JournalError` and never written to; a damaged one's message names the
  recovery command (:data:`RECOVER_COMMAND`, see :mod:`warroom.incident.recovery`).
- One damaged event spoils only its own incident: :meth:`Journal.incidents` lists the incidents
  that can be replayed and, in ``.problems``, one line for each that cannot.
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from warroom.durations import iso_utc, parse_utc, utc, utc_now
from warroom.files import private_dir
from warroom.incident import events as ev
from warroom.incident.state import FoldError, Incident, fold, in_order
from warroom.playbook import DEFAULT, Playbook
from warroom.text import clean, counted

SCHEMA_VERSION = 1
INCIDENT_ID = re.compile(r"INC-\d{4}-\d{2}-\d{2}-\d{3,}")
APPLICATION_ID = 0x57524F4D  # "WROM"
JOURNAL_FILE = "journal.sqlite3"
_SQLITE_HEADER = b"SQLite format 3\x00"
RECOVER_COMMAND = "warroom journal recover"
# Said wherever the journal refuses a damaged file or event, so nobody is left without a way out.
RECOVER_HINT = f"run `{RECOVER_COMMAND}` to salvage it (the damaged file is kept aside)"
OTHER_INCIDENT_HINT = (
    f"open another incident with --incident ID, or run `{RECOVER_COMMAND}` to set the damaged events aside"
)
EVENT_COLUMNS = "seq, event_id, incident_id, at, actor, kind, data"
# An event id: this journal's are 32 hex digits; another's (a shared incident) short and plain.
EVENT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")

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


system_clock = utc_now  # the journal's default clock


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


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` (device, inode); None: none."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _is_corrupt(exc: sqlite3.Error) -> bool:
    """SQLite says the file's pages are damaged (not busy, not missing, not full)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    return "malformed" in str(exc) or "not a database" in str(exc)


class JournalError(Exception):
    """The journal cannot be used; the message is one line and names the file."""


class Text(bytes):
    """A TEXT value exactly as the file holds it (its bytes, UTF-8 expected); plain ``bytes`` is a
    BLOB. Reading rows this way, one event that is not UTF-8 spoils only itself, and a recovery
    can copy every value byte for byte with its type."""


class DamagedEvent(ValueError):
    """One journal row that is not an event: ``why`` (cleaned, one line), for a well-formed
    ``incident_id`` (None: the row names none that could be printed)."""

    def __init__(self, seq: object, incident_id: str | None, why: str) -> None:
        self.seq = seq
        self.incident_id = incident_id
        self.why = why
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """One line naming the event and its incident."""
        if self.incident_id is None:
            return f"event {self.seq} has a malformed incident id"
        return f"event {self.seq} of {self.incident_id} is damaged ({self.why})"


def incident_id_ok(value: object) -> bool:
    """An id is printed and copied: one that is not INC-YYYY-MM-DD-### could carry anything."""
    return isinstance(value, str) and INCIDENT_ID.fullmatch(value) is not None


def incident_key(incident_id: str) -> tuple[str, int]:
    """(day, number) of a well-formed id: the order incidents were declared in."""
    day, number = incident_id[4:14], incident_id[15:]
    return day, int(number)


def _text(value: object) -> object:
    """A value read with :class:`Text` as the text factory, as Python reads it by default."""
    if isinstance(value, Text):
        return bytes(value).decode("utf-8")  # UnicodeDecodeError: a damaged value
    return value


def event_from_row(row: tuple[object, ...]) -> ev.Event:
    """The event a row ``(seq, event_id, incident_id, at, actor, kind, data)`` holds, its text
    cleaned; :class:`DamagedEvent` when it holds none."""
    seq = row[0]
    named = _text_or_none(row[2])
    if named is None or not incident_id_ok(named):
        raise DamagedEvent(seq, None, "malformed incident id")
    try:
        _, event_id, incident_id, at, actor, kind, data = (_text(v) for v in row)
    except UnicodeDecodeError:
        raise DamagedEvent(seq, named, "a text is not UTF-8") from None
    if not all(isinstance(v, str) for v in (event_id, at, actor, kind)) or not isinstance(data, str | bytes):
        raise DamagedEvent(seq, named, "a column has the wrong type")
    assert isinstance(at, str) and isinstance(kind, str) and isinstance(incident_id, str)
    try:
        # A journal is a file anyone with access may have edited: its text is cleaned here,
        # once, so no view (header, pick screen, timeline, report, list) can forget to.
        body = ev.body_from_json(kind, data, _clean_field)  # type: ignore[arg-type]
        when = parse_utc(at)
    except (ev.EventError, ValueError, RecursionError) as exc:
        why = clean("nested too deeply" if isinstance(exc, RecursionError) else str(exc), max_len=300)
        raise DamagedEvent(seq, incident_id, why) from None
    who = clean(actor, max_len=ACTOR_MAX)
    return ev.Event(seq, clean(event_id, max_len=64), incident_id, when, who, body)


def _text_or_none(value: object) -> str | None:
    if isinstance(value, Text):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Problem:
    """An incident that cannot be replayed, and why (one line, cleaned)."""

    incident_id: str | None  # None: the damaged row names no well-formed incident
    reason: str

    @property
    def line(self) -> str:
        """``INC-…: cannot be opened: why`` (a row naming no incident: just why)."""
        return f"{self.incident_id} cannot be opened: {self.reason}" if self.incident_id else self.reason


class Listing(list[Incident]):
    """Incidents that fold, oldest first; ``problems``: those that do not, one line each. A list,
    so callers that only want the incidents need not change."""

    def __init__(self, incidents: Iterable[Incident] = (), problems: Iterable[Problem] = ()) -> None:
        super().__init__(incidents)
        self.problems: tuple[Problem, ...] = tuple(problems)


def _malformed_problems(ids: int, seqs: list[object]) -> list[Problem]:
    """Rows whose incident id cannot be printed: counted, never shown."""
    problems = []
    if ids:
        problems.append(Problem(None, f"the incidents table holds {counted(ids, 'malformed incident id')}"))
    if seqs:
        shown = ", ".join(str(s) for s in seqs[:5]) + (", ..." if len(seqs) > 5 else "")
        events = counted(len(seqs), "event") + (" has" if len(seqs) == 1 else " have")
        problems.append(Problem(None, f"{events} a malformed incident id (seq {shown})"))
    return problems


def _replay(events: list[ev.Event], playbook: Playbook) -> Incident | str:
    """The incident ``events`` make, or why they make none."""
    if not events:
        return "it has no events left"
    try:
        return fold(in_order(events), playbook)
    except Exception as exc:  # whatever is wrong with one incident never stops the others
        return f"it cannot be replayed ({clean(str(exc), max_len=300)})"


class Journal:
    def __init__(self, path: Path, *, actor: str | None = None, clock: Clock = system_clock) -> None:
        self.path = Path(path)
        self.actor = clean(actor, max_len=ACTOR_MAX) or login_name()
        self.clock = clock
        self.notices: list[str] = []  # things the user should be told (a folder tightened)
        self._lock = threading.RLock()
        self._last_id_ns = 0
        self._db = self._open()

    # -- opening -------------------------------------------------------------------------------
    def _fail(self, what: str) -> JournalError:
        return JournalError(f"journal {self.path}: {what}")

    def _damaged(self, why: str) -> JournalError:
        first = clean(" ".join(why.split()), max_len=200)  # quick_check lists problems over many lines
        return self._fail(f"is damaged ({first}); it was left untouched; {RECOVER_HINT}")

    def _sqlite_fail(self, what: str, exc: sqlite3.Error) -> JournalError:
        """``what`` failed: busy, full disk, or (named so) damaged pages."""
        hint = f"; the file is damaged: {RECOVER_HINT}" if _is_corrupt(exc) else ""
        return self._fail(f"{what} ({clean(str(exc), max_len=200)}){hint}")

    def _open(self) -> sqlite3.Connection:
        # A recovery puts a new file in place of the journal while it holds the old one's lock;
        # an opening that waited on that lock holds the old file: it must open the new one, or
        # what it writes would go where nobody reads it.
        for _ in range(5):
            db, opened = self._open_once()
            if _identity(self.path) == opened:
                return db
            db.close()
        raise self._fail("keeps being replaced while it is opened; try again")

    def _check_header(self) -> None:
        """Refuse a file that is not SQLite (it is left untouched): one line naming it."""
        try:
            with self.path.open("rb") as fh:
                header = fh.read(len(_SQLITE_HEADER))
        except OSError as exc:
            raise self._fail(f"cannot be read ({exc.strerror})") from None
        if header != _SQLITE_HEADER:
            raise self._fail("is not a warroom journal (not an SQLite file); it was left untouched")

    def _open_once(self) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
        """A prepared connection, and which file was at the path when it was opened."""
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
            self._check_header()
        opened = _identity(self.path)
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
                return db, opened
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
                raise self._damaged(str(exc)) from None
            except sqlite3.DatabaseError as exc:
                db.close()
                raise self._damaged(str(exc)) from None

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
            raise self._damaged(str(check))
        if version == SCHEMA_VERSION and not {"incidents", "events"} <= tables:
            raise self._damaged("tables missing")

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
                raise self._sqlite_fail("cannot be written", exc) from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise

    def _new_event_id(self) -> str:
        """32 hex digits: the wall clock's nanoseconds, never less than the last id this journal
        handed out, then 64 random bits. Events of one journal with the same time (a clock that
        went back, a test's frozen clock) sort in the order they were written (see
        :func:`warroom.incident.state.order_key`); ids stay unique across machines."""
        ns = max(time.time_ns(), self._last_id_ns + 1)
        self._last_id_ns = ns
        return f"{ns:016x}{uuid.uuid4().int & (2**64 - 1):016x}"

    def _insert(
        self, db: sqlite3.Connection, incident_id: str, at: datetime, body: ev.Body, actor: str | None = None
    ) -> ev.Event:
        event_id = self._new_event_id()
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

    def next_number(self, day: str) -> int:
        """The number the next incident declared on ``day`` would get from this journal alone."""
        [rows] = self._rows(("SELECT COALESCE(MAX(number), 0) FROM incidents WHERE day = ?", (day,)))
        value = rows[0][0]
        return (value if isinstance(value, int) else 0) + 1

    def declare(
        self,
        severity: str,
        title: str,
        *,
        impact: str = "",
        lead: str = "",
        playbook: Playbook = DEFAULT,
        incident_id: str | None = None,
    ) -> ev.Event:
        """Record a new incident; returns its declaration (``event.incident_id`` is the new id).
        ``incident_id``: the id to use (one a shared database handed out to the team), instead
        of the journal's next number for today."""
        playbook.severity(severity)
        at = utc(self.clock())
        day = at.strftime("%Y-%m-%d")
        channel = playbook.channel_name(severity, title, at)
        body = ev.Declared(severity=severity, title=title, impact=impact, lead=lead, channel=channel)
        if incident_id is not None and not incident_id_ok(incident_id):
            raise self._fail(
                f"cannot declare {clean(incident_id, max_len=40)!r}: not an INC-YYYY-MM-DD-### id"
            )
        try:
            with self._write() as db:
                if incident_id is not None:
                    day, number = incident_key(incident_id)
                    if db.execute(
                        "SELECT 1 FROM incidents WHERE id = ? OR (day = ? AND number = ?)",
                        (incident_id, day, number),
                    ).fetchone():
                        raise self._fail(f"already has an incident {incident_id}")
                    return self._declare_row(db, incident_id, at, body)
                row = db.execute("SELECT COALESCE(MAX(number), 0) FROM incidents WHERE day = ?", (day,))
                number = int(row.fetchone()[0]) + 1
                incident_id = f"INC-{day}-{number:03d}"
                return self._declare_row(db, incident_id, at, body)
        except sqlite3.Error as exc:
            raise self._sqlite_fail("cannot record the declaration", exc) from None

    def _declare_row(self, db: sqlite3.Connection, incident_id: str, at: datetime, body: ev.Body) -> ev.Event:
        day, number = incident_key(incident_id)
        db.execute("INSERT INTO incidents (id, day, number) VALUES (?, ?, ?)", (incident_id, day, number))
        return self._insert(db, incident_id, at, body)

    def merge(self, events: Iterable[ev.Event]) -> list[ev.Event]:
        """Add events written by other consoles (a shared incident), keeping their ids, times and
        actors; an event already here is skipped (ids are idempotent). Returns those added, with
        their sequence numbers in this journal. An incident this journal does not know is added
        with its declaration; one whose declaration differs from this journal's (the same id for
        another incident) is refused with a one-line :class:`JournalError`."""
        added: list[ev.Event] = []
        try:
            with self._write() as db:
                for e in events:
                    if not incident_id_ok(e.incident_id) or not EVENT_ID.fullmatch(e.event_id):
                        raise self._fail(
                            f"cannot merge event {clean(e.event_id, max_len=64)!r}: malformed id"
                        )
                    if db.execute("SELECT 1 FROM events WHERE event_id = ?", (e.event_id,)).fetchone():
                        continue
                    known = db.execute("SELECT 1 FROM incidents WHERE id = ?", (e.incident_id,)).fetchone()
                    if isinstance(e.body, ev.Declared):
                        if known:
                            raise self._fail(
                                f"already has another incident {e.incident_id}: the shared one was not merged"
                            )
                        day, number = incident_key(e.incident_id)
                        db.execute(
                            "INSERT INTO incidents (id, day, number) VALUES (?, ?, ?)",
                            (e.incident_id, day, number),
                        )
                    elif not known:
                        raise self._fail(f"cannot merge an event of {e.incident_id} before its declaration")
                    who = clean(e.actor, max_len=ACTOR_MAX) or "unknown"
                    cur = db.execute(
                        "INSERT INTO events (event_id, incident_id, at, actor, kind, data)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (e.event_id, e.incident_id, iso_utc(e.at), who, e.kind, ev.body_to_json(e.body)),
                    )
                    assert cur.lastrowid is not None
                    added.append(ev.Event(cur.lastrowid, e.event_id, e.incident_id, utc(e.at), who, e.body))
        except sqlite3.Error as exc:
            raise self._sqlite_fail("cannot merge the shared events", exc) from None
        return added

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
            raise self._sqlite_fail("cannot record the event", exc) from None

    # -- reading -------------------------------------------------------------------------------
    def _rows(self, *queries: tuple[str, tuple[object, ...]]) -> list[list[tuple]]:  # type: ignore[type-arg]
        """The rows of each query, all from one snapshot. A TEXT that is not UTF-8 makes SQLite's
        reader fail the whole query: it is then read again with TEXT as :class:`Text`, so that
        value spoils its own row only (see :func:`event_from_row`)."""
        with self._lock:
            try:
                try:
                    return self._snapshot(queries)
                except sqlite3.OperationalError as exc:
                    if "decode" not in str(exc):
                        raise
                self._db.text_factory = Text
                try:
                    return self._snapshot(queries)
                finally:
                    self._db.text_factory = str
            except sqlite3.DatabaseError as exc:
                raise self._sqlite_fail("cannot be read", exc) from None

    def _snapshot(self, queries: tuple[tuple[str, tuple[object, ...]], ...]) -> list[list[tuple]]:  # type: ignore[type-arg]
        self._db.execute("BEGIN")
        try:
            return [self._db.execute(sql, args).fetchall() for sql, args in queries]
        finally:
            _rollback(self._db)

    def _row_to_event(self, row: tuple[object, ...]) -> ev.Event:
        try:
            return event_from_row(row)
        except DamagedEvent as exc:
            raise self._fail(f"{exc.reason}; nothing was changed; {OTHER_INCIDENT_HINT}") from None

    def events(self, incident_id: str | None = None, *, after_seq: int = 0) -> list[ev.Event]:
        """Events in order; a damaged one raises a one-line :class:`JournalError` naming the way out."""
        if incident_id is None:
            query = (f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq", (after_seq,))
        else:
            query = (
                f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq",
                (incident_id, after_seq),
            )
        [rows] = self._rows(query)
        return [self._row_to_event(r) for r in rows]

    def _known_ids(self, rows: list[tuple[object, ...]]) -> tuple[list[str], int]:
        """The well-formed ids of the incidents table, and how many rows were not."""
        ids = [_text_or_none(r[0]) for r in rows]
        good = [i for i in ids if i is not None and incident_id_ok(i)]
        return good, len(ids) - len(good)

    def incident_ids(self) -> list[str]:
        """The ids of the incidents table, oldest first; a malformed one is left out (and named
        by :meth:`incidents` as a problem): it could carry anything to a terminal."""
        [rows] = self._rows(("SELECT id FROM incidents ORDER BY day, number", ()))
        return self._known_ids(rows)[0]

    def exists(self, incident_id: str) -> bool:
        [rows] = self._rows(("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)))
        return bool(rows)

    def load(self, incident_id: str, playbook: Playbook = DEFAULT) -> Incident:
        """One incident, folded. Damage in it raises a one-line :class:`JournalError` saying what
        to do (another incident, or the recovery command); other incidents do not matter."""
        events = self.events(incident_id)
        if not events:
            raise self._fail(f"has no incident {incident_id}")
        try:
            return fold(in_order(events), playbook)
        except (FoldError, ValueError) as exc:
            why = clean(str(exc), max_len=300)
            raise self._fail(
                f"{incident_id} cannot be replayed ({why}); nothing was changed; {OTHER_INCIDENT_HINT}"
            ) from None

    def incidents(self, playbook: Playbook = DEFAULT) -> Listing:
        """Every incident that can be replayed, folded, oldest first; ``.problems`` names each one
        that cannot (a damaged event, an event it cannot replay, a malformed id) in one line. One
        damaged incident never hides another; only damaged pages (the whole file) raise."""
        id_rows, event_rows = self._rows(
            ("SELECT id FROM incidents", ()),
            (f"SELECT {EVENT_COLUMNS} FROM events ORDER BY seq", ()),
        )
        known, malformed = self._known_ids(id_rows)
        by_id: dict[str, list[ev.Event]] = {i: [] for i in known}
        broken: dict[str, str] = {}
        stray: list[object] = []  # events naming no well-formed incident
        for row in event_rows:
            try:
                event = event_from_row(row)
            except DamagedEvent as exc:
                if exc.incident_id is None:
                    stray.append(exc.seq)
                else:
                    broken.setdefault(exc.incident_id, f"event {exc.seq} is damaged ({exc.why})")
                    by_id.setdefault(exc.incident_id, [])
                continue
            by_id.setdefault(event.incident_id, []).append(event)
        problems = _malformed_problems(malformed, stray)
        out = []
        for incident_id in sorted(by_id, key=incident_key):
            folded = broken.get(incident_id) or _replay(by_id[incident_id], playbook)
            if isinstance(folded, Incident) and incident_id not in known:
                folded = "it is missing from the incidents table"  # nothing could be added to it
            if isinstance(folded, Incident):
                out.append(folded)
            else:
                problems.append(Problem(incident_id, folded))
        return Listing(out, problems)

    def open_incidents(self, playbook: Playbook = DEFAULT) -> Listing:
        """The open incidents, with every incident that cannot be replayed (open or not, nobody
        can tell) in ``.problems``."""
        listing = self.incidents(playbook)
        return Listing((i for i in listing if i.is_open), listing.problems)
