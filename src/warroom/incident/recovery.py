"""Salvaging a damaged journal (``warroom journal recover``).

The damaged file is never written to. Recovery, holding the journal's lock so no other warroom
can use it meanwhile (or refusing at once when one has it open):

1. reads the file and its write-ahead log, and lays the log onto a private scratch copy;
2. leaves a journal that reads whole alone (a second recovery changes nothing);
3. otherwise keeps the damaged file (and its log) aside, byte for byte, as
   ``journal.sqlite3.damaged-<UTC stamp>`` (0600);
4. reads every row it can from every page of the scratch copy, page by page, skipping what is
   unreadable, without trusting the damaged B-tree (so rows on good pages come back even when the
   pages above them, the schema page or the ``incidents`` table are gone);
5. keeps an event it cannot read, or that its incident cannot replay, in a ``damaged_events``
   table of the new journal with its raw values (never deleted), so the incident folds again;
   rebuilds incident ids from their events when the ``incidents`` table is lost;
6. writes a fresh journal (same schema, application id and version; every value byte for byte,
   ``seq`` included, its sequence past every number ever handed out), checks it by opening and
   replaying it, and puts it in place atomically;
7. says what it did in a :class:`RecoveryReport`, one fact a line.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warroom.files import fsync_path
from warroom.incident import events as ev
from warroom.incident.journal import (
    _SCHEMA,
    _SQLITE_HEADER,
    APPLICATION_ID,
    RECOVER_COMMAND,
    SCHEMA_VERSION,
    Clock,
    DamagedEvent,
    Journal,
    JournalError,
    Listing,
    Problem,
    Text,
    event_from_row,
    incident_id_ok,
    incident_key,
    system_clock,
)
from warroom.incident.salvage import Row, Salvage, scan
from warroom.incident.state import Incident
from warroom.playbook import DEFAULT, Playbook
from warroom.text import clean, counted

# What a recovered journal adds to the schema: what could not be read stays, raw, out of the way.
DAMAGED_SCHEMA = """
CREATE TABLE IF NOT EXISTS damaged_events (
    id          INTEGER PRIMARY KEY,
    seq, event_id, incident_id, at, actor, kind, data,
    reason      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS damaged_incidents (
    id, day, number,
    reason      TEXT NOT NULL
);
"""


# SQLite's own lock bytes (os_unix.c): taking them all for writing is what an EXCLUSIVE lock is,
# so no other connection, reading or writing, can use the file while recovery holds them.
_PENDING_BYTE = 0x40000000
_LOCKS = ((_PENDING_BYTE, 1), (_PENDING_BYTE + 1, 1), (_PENDING_BYTE + 2, 510))
_LINES_MAX = 20  # per kind of fact in a report; the rest are counted


# -- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetAside:
    """An event kept in ``damaged_events`` instead of ``events``."""

    seq: int
    incident_id: str | None
    why: str


@dataclass(frozen=True)
class RecoveryReport:
    path: Path
    kept: Path | None  # the damaged file, copied aside; None: the journal was whole, nothing changed
    events: int  # events in the journal now
    incidents: int  # incidents in the journal now
    set_aside: tuple[SetAside, ...] = ()
    lost: tuple[tuple[int, int], ...] = ()  # ranges of sequence numbers, inclusive
    lost_by_incident: tuple[tuple[str, int], ...] = ()  # from the index, where it survived
    rebuilt: tuple[str, ...] = ()  # incident ids rebuilt from their events
    unreplayable: tuple[Problem, ...] = ()  # incidents that still cannot be replayed
    incidents_set_aside: int = 0  # malformed rows of the incidents table, kept in damaged_incidents
    log_unread: bool = False  # the write-ahead log could not be laid onto the file

    @property
    def changed(self) -> bool:
        return self.kept is not None

    @property
    def lost_count(self) -> int:
        return sum(last - first + 1 for first, last in self.lost)

    @property
    def affected(self) -> tuple[str, ...]:
        """Incidents that lost events, had some set aside, were rebuilt or still cannot be replayed."""
        ids = {i for i, _ in self.lost_by_incident} | set(self.rebuilt)
        ids |= {s.incident_id for s in self.set_aside if s.incident_id}
        ids |= {p.incident_id for p in self.unreplayable if p.incident_id}
        return tuple(sorted(ids, key=incident_key))

    def lines(self) -> list[str]:
        """What happened, one fact a line, for a terminal (every part is checked or cleaned)."""
        counts = f"{counted(self.incidents, 'incident')}, {counted(self.events, 'event')}"
        if not self.changed and not self.unreplayable and not self.lost:
            return [f"journal {self.path}: it reads whole ({counts}); nothing was changed"]
        if not self.changed:
            out = [f"journal {self.path}: nothing more can be salvaged ({counts}); nothing was changed"]
        else:
            out = [
                f"journal {self.path}: recovered into a new journal; the damaged file is kept as {self.kept}",
                f"events: {self.events} recovered, {self.lost_count} lost, {len(self.set_aside)} set aside"
                " (kept in the damaged_events table)",
                f"incidents: {self.incidents} in the journal, {len(self.affected)} affected",
            ]
        out += _capped(
            [f"{i}: rebuilt from its events (its row in the incidents table was lost)" for i in self.rebuilt]
        )
        known = sum(n for _, n in self.lost_by_incident)
        out += _capped([f"{i}: {counted(n, 'event')} lost" for i, n in self.lost_by_incident])
        if self.lost_count > known:
            ranges = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in self.lost[:10])
            more = ", ..." if len(self.lost) > 10 else ""
            out.append(
                f"lost: {counted(self.lost_count - known, 'event')} of unknown incidents (seq {ranges}{more})"
            )
        out += _capped(
            [
                f"{s.incident_id + ': ' if s.incident_id else ''}event {s.seq} set aside ({s.why})"
                for s in self.set_aside
            ]
        )
        if self.incidents_set_aside:
            rows = counted(self.incidents_set_aside, "malformed row")
            out.append(f"incidents table: {rows} kept in damaged_incidents")
        out += _capped(
            [
                f"{p.incident_id}: still cannot be replayed ({p.reason}); its events are kept"
                for p in self.unreplayable
            ]
        )
        if self.log_unread:
            out.append(
                "the write-ahead log could not be read: events since its last checkpoint are only in"
                f" {self.kept}-wal"
            )
        return out


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= _LINES_MAX:
        return lines
    return [*lines[:_LINES_MAX], f"... and {len(lines) - _LINES_MAX} more like these"]


# -- deciding what goes where ------------------------------------------------------------------


@dataclass
class _Plan:
    incidents: list[Row]  # (id, day, number), in order
    events: list[Row]  # (seq, event_id, incident_id, at, actor, kind, data), by seq
    damaged_events: list[Row]  # (seq, ..., data, reason)
    damaged_incidents: list[Row]
    last_seq: int
    set_aside: list[SetAside]
    rebuilt: list[str]
    unreplayable: list[Problem]
    lost: list[tuple[int, int]]
    lost_by_incident: list[tuple[str, int]]
    replayable: set[str]  # incidents the new journal must replay
    malformed_incidents: int  # rows of the incidents table that are not what they say


def _readable(
    found: Salvage, set_aside: list[SetAside], damaged: set[Row]
) -> dict[int, tuple[Row, ev.Event]]:
    """The events that read, by seq (the first good copy of each); the others set aside."""
    good: dict[int, tuple[Row, ev.Event]] = {}
    ids: dict[object, int] = {}  # event_id -> seq: event ids are unique
    for seq in sorted(found.events):
        failures: list[tuple[Row, DamagedEvent]] = []
        for row in found.events[seq]:
            try:
                event = event_from_row(row)
                if row[1] in ids:
                    raise DamagedEvent(seq, event.incident_id, f"its event id is event {ids[row[1]]}'s")
                good[seq] = (row, event)
                ids[row[1]] = seq
                break
            except DamagedEvent as exc:
                failures.append((row, exc))
        else:
            row, exc = failures[0]
            set_aside.append(SetAside(seq, exc.incident_id, exc.why))
            damaged.add((*row, Text(exc.reason.encode())))
    return good


def _plan(found: Salvage, playbook: Playbook) -> _Plan:
    set_aside: list[SetAside] = []
    damaged_events = set(found.damaged_events)
    good = _readable(found, set_aside, damaged_events)
    by_incident: dict[str, list[int]] = {}
    for seq, (_, event) in good.items():
        by_incident.setdefault(event.incident_id, []).append(seq)
    unreplayable: list[Problem] = []
    for incident_id, seqs in by_incident.items():
        problem, refused = _replay(incident_id, [good[s][1] for s in seqs], playbook)
        if problem is not None:
            unreplayable.append(problem)
        for event, why in refused:
            row = good.pop(event.seq)[0]
            set_aside.append(SetAside(event.seq, incident_id, why))
            damaged_events.add(
                (*row, Text(f"event {event.seq} of {incident_id} cannot be replayed ({why})".encode()))
            )
    incidents, malformed = _incident_rows(found.incidents)
    damaged_incidents = malformed | found.damaged_incidents
    known = {bytes(r[0]).decode() for r in incidents if isinstance(r[0], bytes)}
    needed = {e.incident_id for _, e in good.values()} | {s.incident_id for s in set_aside if s.incident_id}
    rebuilt = sorted(needed - known, key=incident_key)
    incidents += [(Text(i.encode()), Text(i[4:14].encode()), int(i[15:])) for i in rebuilt]
    incidents, repeated = _one_per_number(incidents)
    damaged_incidents |= repeated
    accounted = (
        set(good) | {s.seq for s in set_aside} | {r[0] for r in damaged_events if isinstance(r[0], int)}
    )
    last = max([found.last_seq, *accounted], default=0)
    lost = _gaps(sorted(accounted), last)
    lost_by: dict[str, int] = {}
    for seq, incident_id in found.index.items():
        if seq not in accounted:
            lost_by[incident_id] = lost_by.get(incident_id, 0) + 1
    numbered = {bytes(r[0]).decode() for r in incidents if isinstance(r[0], bytes)}
    replayable = (set(by_incident) & numbered) - {p.incident_id for p in unreplayable}
    return _Plan(
        incidents=incidents,
        events=[good[s][0] for s in sorted(good)],
        damaged_events=sorted(damaged_events, key=_row_order),
        damaged_incidents=sorted(damaged_incidents, key=_row_order),
        last_seq=last,
        set_aside=sorted(set_aside, key=lambda s: s.seq),
        rebuilt=rebuilt,
        unreplayable=sorted(unreplayable, key=lambda p: p.incident_id or ""),
        replayable=replayable,
        malformed_incidents=len(malformed) + len(repeated),
        lost=lost,
        lost_by_incident=sorted(lost_by.items(), key=lambda kv: incident_key(kv[0])),
    )


def _one_per_number(rows: list[Row]) -> tuple[list[Row], set[Row]]:
    """Rows in order, one per (day, number): INC-…-001 and INC-…-0001 cannot both be; the one
    warroom would have written stays."""

    def order(row: Row) -> tuple[tuple[str, int], bool]:
        incident_id = bytes(row[0]).decode()  # type: ignore[arg-type]
        day, number = incident_key(incident_id)
        return (day, number), incident_id != f"INC-{day}-{number:03d}"

    rows = sorted(rows, key=order)
    kept: dict[tuple[object, object], Row] = {}
    repeated: set[Row] = set()
    for row in rows:
        if (row[1], row[2]) in kept:
            repeated.add((*row, Text(b"its day and number repeat another incident's")))
        else:
            kept[(row[1], row[2])] = row
    return list(kept.values()), repeated


def _row_order(row: Row) -> tuple[int, str]:
    return (row[0] if isinstance(row[0], int) else -1, repr(row))


def _gaps(seqs: list[int], last: int) -> list[tuple[int, int]]:
    """Ranges of 1..last missing from sorted ``seqs`` (no sequence number is ever skipped)."""
    out = []
    expected = 1
    for seq in seqs:
        if seq > expected:
            out.append((expected, seq - 1))
        expected = max(expected, seq + 1)
    if last >= expected:
        out.append((expected, last))
    return out


def _replay(
    incident_id: str, events: list[ev.Event], playbook: Playbook
) -> tuple[Problem | None, list[tuple[ev.Event, str]]]:
    """Fold ``events``, leaving out those the incident cannot replay (they are returned, with
    why). An incident without its declaration cannot be replayed at all: its events are kept."""
    try:
        incident = Incident.declared(events[0], playbook)
    except Exception as exc:
        why = clean(str(exc), max_len=300)
        if isinstance(events[0].body, ev.Declared):
            return Problem(incident_id, f"its declaration cannot be replayed ({why})"), []
        return Problem(incident_id, "it has no readable declaration"), []
    accepted = [events[0]]
    refused: list[tuple[ev.Event, str]] = []
    for event in events[1:]:
        try:
            incident.apply(event)
            accepted.append(event)
        except Exception as exc:  # the failed apply may have changed the state: fold again
            refused.append((event, clean(str(exc), max_len=300)))
            incident = Incident.declared(accepted[0], playbook)
            for earlier in accepted[1:]:
                incident.apply(earlier)
    return None, refused


def _incident_rows(rows: set[Row]) -> tuple[list[Row], set[Row]]:
    """The rows of the incidents table that are what they say, and those that are not."""
    good: dict[str, Row] = {}
    bad: set[Row] = set()
    for row in rows:
        incident_id, day, number = row
        try:
            text = bytes(incident_id).decode("utf-8") if isinstance(incident_id, Text) else None
            ok_day = isinstance(day, Text) and bytes(day).decode("utf-8") == (text or "")[4:14]
        except UnicodeDecodeError:
            text, ok_day = None, False
        if text is None or not incident_id_ok(text):
            bad.add((*row, Text(b"malformed incident id")))
        elif not ok_day or number != incident_key(text)[1]:
            bad.add((*row, Text(b"day or number do not match the id")))
        else:
            good[text] = row
    return list(good.values()), bad


# -- writing the new journal -------------------------------------------------------------------


def _insert(db: sqlite3.Connection, table: str, columns: str, row: Row) -> None:
    """Insert values with their storage class: TEXT as TEXT, byte for byte (never re-encoded)."""
    marks = ", ".join("CAST(? AS TEXT)" if isinstance(v, Text) else "?" for v in row)
    args = [bytes(v) if isinstance(v, Text) else v for v in row]
    db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", args)


def _write(path: Path, plan: _Plan) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN")
        for statement in (_SCHEMA + DAMAGED_SCHEMA).split(";"):
            if statement.strip():
                db.execute(statement)
        for row in plan.incidents:
            _insert(db, "incidents", "id, day, number", row)
        for row in plan.events:
            _insert(db, "events", "seq, event_id, incident_id, at, actor, kind, data", row)
        for row in plan.damaged_events:
            _insert(db, "damaged_events", "seq, event_id, incident_id, at, actor, kind, data, reason", row)
        for row in plan.damaged_incidents:
            _insert(db, "damaged_incidents", "id, day, number, reason", row)
        # No sequence number is handed out twice, not even one whose event was lost.
        db.execute("DELETE FROM sqlite_sequence WHERE name = 'events'")
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)", (plan.last_seq,))
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
        if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise JournalError("the new journal cannot be switched to WAL")
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise JournalError(f"the new journal does not check out ({clean(check, max_len=200)})")
    finally:
        db.close()
    fsync_path(path)


def _verify(path: Path, plan: _Plan, playbook: Playbook) -> None:
    """The new journal opens, every incident that should replays, every event is there."""
    with Journal(path, actor="recovery") as journal:
        listing = journal.incidents(playbook)
    folded = {i.id for i in listing}
    db = sqlite3.connect(path)
    try:
        count = db.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        db.close()
    if folded != plan.replayable:
        raise JournalError("the new journal does not replay the incidents it should")
    if count != len(plan.events):
        raise JournalError(f"the new journal holds {count} events instead of {len(plan.events)}")
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if leftover.exists() and leftover.stat().st_size:
            raise JournalError("the new journal left a write-ahead log behind")
        leftover.unlink(missing_ok=True)


# -- the file, locked --------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[int]:
    """The journal's file descriptor, with every SQLite lock byte held for writing.

    POSIX locks belong to the process and any ``close`` of the file drops them all, so while this
    is held the file is read through this descriptor only."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as exc:
        raise JournalError(
            f"journal {path}: cannot be opened ({exc.strerror}); nothing was changed"
        ) from None
    try:
        for start, length in _LOCKS:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, length, start)
            except OSError:
                raise JournalError(
                    f"journal {path}: another warroom has it open; close every console and command"
                    f" using it, then run `{RECOVER_COMMAND}` again; nothing was changed"
                ) from None
        yield fd
    finally:
        os.close(fd)


def _read_fd(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks = []
    offset = 0
    while offset < size:
        chunk = os.pread(fd, min(1 << 20, size - offset), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _refusal(data: bytes) -> str | None:
    """Why ``data`` is no journal recovery should touch (another program's file), or None."""
    if data[: len(_SQLITE_HEADER)] != _SQLITE_HEADER:
        return None  # a damaged header, maybe: the pages tell (see _recover)
    app_id = int.from_bytes(data[68:72], "big") if len(data) >= 100 else 0
    if app_id not in (0, APPLICATION_ID):
        return "is an SQLite file but not a warroom journal; nothing was changed"
    version = int.from_bytes(data[60:64], "big") if len(data) >= 100 else 0
    if version > SCHEMA_VERSION:
        return f"was written by a newer warroom (schema {version}); upgrade warroom to recover it"
    return None


def _lay_log(scratch: Path, data: bytes, log: bytes) -> tuple[bytes, bool]:
    """The file with its write-ahead log laid on (SQLite's checkpoint, on a scratch copy), and
    whether the log could not be."""
    db_path = scratch / "journal.sqlite3"
    db_path.write_bytes(data)
    if not log:
        return data, False
    if not data.startswith(_SQLITE_HEADER):
        return data, True
    Path(f"{db_path}-wal").write_bytes(log)
    unread = False
    try:
        db = sqlite3.connect(db_path, isolation_level=None)
        try:
            busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            unread = busy != 0
        finally:
            db.close()
    except sqlite3.Error:
        unread = True
    return db_path.read_bytes(), unread


def _listing(scratch: Path, data: bytes, playbook: Playbook) -> Listing | None:
    """What the journal lists when warroom opens it (on a copy); None: it does not open."""
    copy = scratch / "check" / "journal.sqlite3"
    copy.parent.mkdir(mode=0o700)
    copy.write_bytes(data)
    try:
        with Journal(copy, actor="recovery") as journal:
            return journal.incidents(playbook)
    except JournalError:
        return None


def _keep(path: Path, data: bytes, log: bytes, stamp: str) -> Path:
    """Copy the damaged file (and its log) aside, private, never overwriting anything."""
    for n in range(1, 1000):
        kept = path.with_name(f"{path.name}.damaged-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            fd = os.open(kept, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if log:
            fd = os.open(f"{kept}-wal", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(log)
                fh.flush()
                os.fsync(fh.fileno())
        return kept
    raise JournalError(f"journal {path}: too many kept copies already; nothing was changed")


def _install(path: Path, new: Path) -> None:
    """Put the new journal in place: the old log goes first (kept aside already), or SQLite
    would lay it onto the new file."""
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    new.replace(path)
    fsync_path(path.parent)


def recover(path: Path, *, playbook: Playbook = DEFAULT, clock: Clock = system_clock) -> RecoveryReport:
    """Salvage the journal at ``path`` into a new one (see the module's doc); a one-line
    :class:`JournalError` when it cannot (in use, not a journal, nothing readable)."""
    path = Path(path)
    if not path.is_file():
        raise JournalError(f"journal {path}: there is no such file to recover")
    try:
        with _locked(path) as fd:
            data = _read_fd(fd)
            refusal = _refusal(data)
            if refusal:
                raise JournalError(f"journal {path}: {refusal}")
            log_path = Path(f"{path}-wal")
            log = log_path.read_bytes() if log_path.is_file() else b""
            with tempfile.TemporaryDirectory(prefix=".recover-", dir=path.parent) as tmp:
                return _recover(path, data, log, Path(tmp), playbook, clock)
    except OSError as exc:
        why = clean(exc.strerror or str(exc), max_len=200)
        raise JournalError(f"journal {path}: cannot be recovered ({why}); nothing was changed") from None


def _recover(
    path: Path, data: bytes, log: bytes, scratch: Path, playbook: Playbook, clock: Clock
) -> RecoveryReport:
    laid, log_unread = _lay_log(scratch, data, log)
    listing = None if log_unread else _listing(scratch, laid, playbook)
    if listing is not None and not listing.problems:
        return RecoveryReport(path, None, incidents=len(listing), events=sum(len(i.events) for i in listing))
    plan = _plan(scan(laid), playbook)
    if not plan.events and not plan.incidents:
        what = "an SQLite file" if data.startswith(_SQLITE_HEADER) else "a journal"
        raise JournalError(
            f"journal {path}: no incident or event could be read from it (is it {what}?);"
            " it was left untouched"
        )
    if listing is not None and not (plan.set_aside or plan.rebuilt or plan.malformed_incidents):
        # It opens, and a new file would hold the same rows: what is wrong cannot be mended here
        # (an incident whose declaration is gone), and the file is left as it is.
        return _report(path, None, plan, log_unread)
    new = scratch / "new" / path.name
    try:
        new.parent.mkdir(mode=0o700)
        _write(new, plan)
        _verify(new, plan, playbook)
        kept = _keep(path, data, log, clock().strftime("%Y%m%dT%H%M%SZ"))
    except (sqlite3.Error, OSError, JournalError) as exc:
        why = clean(str(exc), max_len=200)
        raise JournalError(f"journal {path}: recovery failed ({why}); nothing was changed") from None
    try:
        _install(path, new)
    except OSError as exc:
        raise JournalError(
            f"journal {path}: the recovered journal could not be put in place ({exc.strerror}); the"
            f" damaged file and its log are kept as {kept}; run `{RECOVER_COMMAND}` again"
        ) from None
    return _report(path, kept, plan, log_unread)


def _report(path: Path, kept: Path | None, plan: _Plan, log_unread: bool) -> RecoveryReport:
    return RecoveryReport(
        path,
        kept,
        events=len(plan.events),
        incidents=len(plan.incidents),
        set_aside=tuple(plan.set_aside),
        lost=tuple(plan.lost),
        lost_by_incident=tuple(plan.lost_by_incident),
        rebuilt=tuple(plan.rebuilt),
        unreplayable=tuple(plan.unreplayable),
        incidents_set_aside=plan.malformed_incidents,
        log_unread=log_unread,
    )
