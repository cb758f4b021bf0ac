"""The incident journal: appending, replaying, incident ids, and refusing files it must not touch."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import ManualClock
from warroom.incident import events as ev
from warroom.incident.journal import (
    APPLICATION_ID,
    OTHER_INCIDENT_HINT,
    RECOVER_COMMAND,
    RECOVER_HINT,
    SCHEMA_VERSION,
    Journal,
    JournalError,
    Problem,
)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def jpath(state_dir: Path) -> Path:
    return state_dir / "journal.sqlite3"


# -- writing and reading -------------------------------------------------------------------------


def test_declare_and_append_round_trip(jpath: Path, clock: ManualClock) -> None:
    with Journal(jpath, actor="ana", clock=clock) as j:
        d = j.declare("P0", "Database completely down", impact="everyone", lead="ana")
        assert d.incident_id == "INC-2026-11-26-001"
        assert d.seq == 1 and d.actor == "ana" and d.at == clock.now
        assert isinstance(d.body, ev.Declared)
        assert d.body.channel == "#incident-2026-11-26-14-00"
        clock.advance(minutes=3)
        n = j.append(d.incident_id, ev.NoteAdded(text='pg is down — «quotes» "and" \\ back'))
        u = j.append(
            d.incident_id, ev.UpdateSent(audience="internal", text="x"), at=clock.now + timedelta(seconds=1)
        )
        assert (n.seq, u.seq) == (2, 3)
        assert u.at == clock.now + timedelta(seconds=1)
    # Reopen: everything comes back exactly.
    with Journal(jpath, actor="bo", clock=clock) as j:
        got = j.events()
        assert [e.seq for e in got] == [1, 2, 3]
        assert [e.event_id for e in got] == [d.event_id, n.event_id, u.event_id]
        assert got[0] == d and got[1] == n and got[2] == u
        assert all(e.at.tzinfo == UTC for e in got)
        assert j.events(after_seq=2) == [u]
        assert j.events(d.incident_id, after_seq=1) == [n, u]
        inc = j.load(d.incident_id)
        assert inc.severity == "P0" and inc.title == "Database completely down"
        assert inc.fields["impact"] == "everyone"
        assert inc.next_update_due("internal") == u.at + timedelta(minutes=15)
        assert j.incident_ids() == [d.incident_id]
        assert j.exists(d.incident_id) and not j.exists("INC-2026-11-26-002")


def test_event_ids_are_globally_unique_hex(jpath: Path, clock: ManualClock) -> None:
    with Journal(jpath, actor="ana", clock=clock) as j:
        d = j.declare("P2", "slow queries")
        ids = {j.append(d.incident_id, ev.NoteAdded(text=str(i))).event_id for i in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_timestamps_are_stored_as_utc_text(jpath: Path) -> None:
    from zoneinfo import ZoneInfo

    berlin = datetime(2026, 11, 27, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 23:30 UTC the day before
    with Journal(jpath, actor="ana", clock=lambda: berlin) as j:
        d = j.declare("P1", "x")
    assert d.incident_id == "INC-2026-11-26-001"  # numbered by the UTC day
    db = sqlite3.connect(jpath)
    (at,) = db.execute("SELECT at FROM events").fetchone()
    db.close()
    assert at == "2026-11-26T23:30:00.000000Z"


def test_actor_defaults_to_login_name(jpath: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "oncall-7")
    with Journal(jpath) as j:
        assert j.actor == "oncall-7"
        assert j.declare("P3", "typo").actor == "oncall-7"

    def broken() -> str:
        raise OSError("no passwd entry")

    monkeypatch.setattr(getpass, "getuser", broken)
    with Journal(jpath) as j:
        assert j.actor == "unknown"


def test_append_to_unknown_incident_is_refused(jpath: Path, clock: ManualClock) -> None:
    with Journal(jpath, actor="ana", clock=clock) as j:
        with pytest.raises(JournalError) as exc:
            j.append("INC-2026-11-26-009", ev.NoteAdded(text="x"))
        assert str(exc.value) == f"journal {jpath}: has no incident INC-2026-11-26-009"
        with pytest.raises(JournalError, match="has no incident INC-2026-11-26-009"):
            j.load("INC-2026-11-26-009")
        assert j.events() == []


def test_declare_unknown_severity(jpath: Path, clock: ManualClock) -> None:
    with Journal(jpath, actor="ana", clock=clock) as j:
        with pytest.raises(ValueError, match="unknown severity 'P5'"):
            j.declare("P5", "x")
        assert j.incident_ids() == []


def test_incidents_and_open_incidents(jpath: Path, clock: ManualClock) -> None:
    with Journal(jpath, actor="ana", clock=clock) as j:
        a = j.declare("P1", "a").incident_id
        b = j.declare("P2", "b").incident_id
        j.append(a, ev.Resolved())
        incs = j.incidents()
        assert [i.id for i in incs] == [a, b]
        assert [i.id for i in j.open_incidents()] == [b]


def test_file_settings(jpath: Path, clock: ManualClock) -> None:
    with Journal(jpath, actor="ana", clock=clock) as j:
        j.declare("P1", "x")
        assert j._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert j._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    db = sqlite3.connect(jpath)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_state_dir_is_created(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "a" / "b" / "journal.sqlite3"
    with Journal(path, actor="ana", clock=clock) as j:
        j.declare("P3", "x")
    assert path.is_file()


def test_an_empty_file_becomes_a_journal(jpath: Path, clock: ManualClock) -> None:
    jpath.touch()
    with Journal(jpath, actor="ana", clock=clock) as j:
        assert j.declare("P3", "x").incident_id == "INC-2026-11-26-001"


# -- incident ids --------------------------------------------------------------------------------


def test_ids_across_days_and_restarts(jpath: Path) -> None:
    clock = ManualClock(datetime(2026, 12, 31, 23, 58, 0, tzinfo=UTC))
    with Journal(jpath, actor="ana", clock=clock) as j:
        assert j.declare("P1", "a").incident_id == "INC-2026-12-31-001"
        clock.set(datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
        assert j.declare("P2", "b").incident_id == "INC-2026-12-31-002"
        clock.set(datetime(2027, 1, 1, 0, 1, tzinfo=UTC))
        assert j.declare("P0", "c").incident_id == "INC-2027-01-01-001"
    # A restart continues the numbering of each day.
    with Journal(jpath, actor="bo", clock=clock) as j:
        assert j.declare("P1", "d").incident_id == "INC-2027-01-01-002"
        clock.set(datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC))  # a machine with a late clock
        assert j.declare("P3", "e").incident_id == "INC-2026-12-31-003"
        assert j.incident_ids() == [
            "INC-2026-12-31-001",
            "INC-2026-12-31-002",
            "INC-2026-12-31-003",
            "INC-2027-01-01-001",
            "INC-2027-01-01-002",
        ]


def test_ids_go_past_999(jpath: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    with Journal(jpath, actor="ana", clock=clock) as j:
        ids = [j.declare("P3", f"n{i}").incident_id for i in range(1000)]
    assert ids[0] == "INC-2026-11-26-001"
    assert ids[998] == "INC-2026-11-26-999"
    assert ids[999] == "INC-2026-11-26-1000"
    assert len(set(ids)) == 1000


# -- refusals ----------------------------------------------------------------------------------


def _good_journal(path: Path) -> str:
    clock = ManualClock()
    with Journal(path, actor="ana", clock=clock) as j:
        incident = j.declare("P1", "x").incident_id
        for i in range(40):
            j.append(incident, ev.NoteAdded(text=f"note {i} " + "x" * 200))
    return incident


def _refused(path: Path) -> str:
    """Open ``path`` and read everything: the one-line message, with the bytes unchanged (a file
    that is damaged as a whole is refused; damage to one incident is not, see below)."""
    before = sha(path)
    with pytest.raises(JournalError) as exc, Journal(path, actor="ana") as j:
        j.incidents()
    assert sha(path) == before
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(f"journal {path}: ")
    return message.removeprefix(f"journal {path}: ")


def test_newer_schema_is_refused(jpath: Path) -> None:
    _good_journal(jpath)
    db = sqlite3.connect(jpath)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    assert _refused(jpath) == (
        f"was written by a newer warroom (schema {SCHEMA_VERSION + 1}; this version reads up to "
        f"{SCHEMA_VERSION}); upgrade warroom to open it"
    )


def test_garbage_bytes_are_refused(jpath: Path) -> None:
    refusal = "is not a warroom journal (not an SQLite file); it was left untouched"
    jpath.write_bytes(os.urandom(8192))
    assert _refused(jpath) == refusal
    jpath.write_bytes(b"hello")
    assert _refused(jpath) == refusal


@pytest.mark.parametrize("keep", [0.5, 0.1, 0.02])
def test_truncated_file_is_refused(jpath: Path, keep: float) -> None:
    _good_journal(jpath)
    data = jpath.read_bytes()
    assert len(data) > 8 * 4096
    jpath.write_bytes(data[: int(len(data) * keep)])
    assert (
        _refused(jpath)
        == f"is damaged (database disk image is malformed); it was left untouched; {RECOVER_HINT}"
    )


def test_damaged_page_is_refused(jpath: Path) -> None:
    _good_journal(jpath)
    data = bytearray(jpath.read_bytes())
    # Page 2 is a b-tree page: scribble over its header.
    data[4096 : 4096 + 12] = b"\xff" * 12
    jpath.write_bytes(bytes(data))
    message = _refused(jpath)
    assert message.startswith("is damaged (") and message.endswith(f"; {RECOVER_HINT}")
    assert f"run `{RECOVER_COMMAND}` to salvage it" in message


def test_foreign_sqlite_file_is_refused(jpath: Path) -> None:
    db = sqlite3.connect(jpath)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO customers (name) VALUES ('ada')")
    db.commit()
    db.close()
    assert _refused(jpath) == "is an SQLite file but not a warroom journal; it was left untouched"
    # Another application's id, even with no tables.
    other = jpath.with_name("other.sqlite3")
    db = sqlite3.connect(other)
    db.execute("PRAGMA application_id = 1234")
    db.execute("CREATE TABLE t (x)")
    db.execute("DROP TABLE t")
    db.commit()
    db.close()
    assert _refused(other) == "is an SQLite file but not a warroom journal; it was left untouched"


def test_missing_tables_are_refused(jpath: Path) -> None:
    _good_journal(jpath)
    db = sqlite3.connect(jpath)
    db.execute("DROP TABLE events")
    db.commit()
    db.close()
    assert _refused(jpath) == f"is damaged (tables missing); it was left untouched; {RECOVER_HINT}"


def test_damage_found_after_opening_names_the_recovery_command(jpath: Path) -> None:
    """A page damaged while the journal is open shows when it is next read (after another
    process wrote, so SQLite reads the file again): one line naming the recovery command."""
    incident = _good_journal(jpath)
    with Journal(jpath, actor="ana") as j:
        data = jpath.read_bytes()
        pages = [data[n : n + 4096] for n in range(0, len(data), 4096)]
        leaf = next(n for n, page in enumerate(pages) if page[0] == 0x0D and b"note 1 " in page)
        with jpath.open("r+b") as fh:
            fh.seek(leaf * 4096)
            fh.write(b"\xff" * 12)
        other = sqlite3.connect(jpath)
        other.execute(
            "INSERT INTO events (event_id, incident_id, at, actor, kind, data) VALUES"
            " ('e1', ?, '2026-11-26T14:30:00.000000Z', 'bo', 'note_added', '{\"text\": \"hi\"}')",
            (incident,),
        )
        other.commit()
        other.close()
        with pytest.raises(JournalError) as exc:
            j.incidents()
    assert str(exc.value) == (
        f"journal {jpath}: cannot be read (database disk image is malformed); the file is damaged: {RECOVER_HINT}"
    )


def _two_incidents(path: Path) -> tuple[str, str]:
    """A (41 events) then B (declared after A's notes)."""
    a = _good_journal(path)
    with Journal(path, actor="bo", clock=ManualClock()) as j:
        b = j.declare("P0", "the other one").incident_id
    return a, b


def _insert_event(
    path: Path, incident: str, kind: str, data: str, at: str = "2026-11-26T14:30:00.000000Z"
) -> None:
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO events (event_id, incident_id, at, actor, kind, data) VALUES (?, ?, ?, 'x', ?, ?)",
        ("f" * 32, incident, at, kind, data),
    )
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        (
            "data",
            "{not json",
            "note_added event data is not JSON (Expecting property name enclosed in double quotes)",
        ),
        ("data", "[1, 2]", "note_added event data is not an object"),
        ("data", "{}", "note_added event lacks field 'text'"),
        ("data", '{"text": 5}', "note_added event field 'text' should be str"),
        pytest.param("data", "[" * 100_000 + "]" * 100_000, "nested too deeply", id="data-nested-too-deeply"),
        ("kind", "teleported", "unknown event kind 'teleported'"),
        ("at", "yesterday", "Invalid isoformat string: 'yesterday'"),
        ("at", b"\x00", "a column has the wrong type"),
        ("data", "bytes", "a text is not UTF-8"),
    ],
)
def test_a_damaged_event_spoils_its_incident_only(
    jpath: Path, column: str, value: str | bytes, why: str
) -> None:
    a, b = _two_incidents(jpath)
    row: dict[str, str | bytes] = {
        "kind": "note_added",
        "data": '{"text": "ok"}',
        "at": "2026-11-26T14:30:00.000000Z",
    }
    row[column] = value
    _insert_event(jpath, a, str(row["kind"]), row["data"], row["at"])  # type: ignore[arg-type]
    if value == "bytes":  # a TEXT value that is not UTF-8: SQLite's reader refuses the whole query
        db = sqlite3.connect(jpath)
        db.execute("UPDATE events SET data = CAST(x'7b22ff' AS TEXT) WHERE seq = 43")
        db.commit()
        db.close()
    before = sha(jpath)
    with Journal(jpath, actor="ana") as j:
        listing = j.incidents()
        assert [i.id for i in listing] == [b]
        assert listing.problems == (Problem(a, f"event 43 is damaged ({why})"),)
        assert listing.problems[0].line == f"{a} cannot be opened: event 43 is damaged ({why})"
        opened = j.open_incidents()
        assert [i.id for i in opened] == [b] and opened.problems == listing.problems
        assert j.load(b).title == "the other one"
        assert j.incident_ids() == [a, b]
        # Opening the damaged one says what to do instead, in one line.
        with pytest.raises(JournalError) as exc:
            j.load(a)
        assert str(exc.value) == (
            f"journal {jpath}: event 43 of {a} is damaged ({why}); nothing was changed; {OTHER_INCIDENT_HINT}"
        )
        assert "--incident ID" in OTHER_INCIDENT_HINT and f"`{RECOVER_COMMAND}`" in OTHER_INCIDENT_HINT
        # Writing to the other incidents goes on.
        j.append(b, ev.NoteAdded(text="still writing"))
    assert sha(jpath) != before  # (it was written to: the journal is not refused as a whole)


def test_an_unreplayable_incident_spoils_itself_only(jpath: Path) -> None:
    a, b = _two_incidents(jpath)
    _insert_event(jpath, a, "severity_changed", '{"severity":"P9","previous":"P1"}')
    why = "unknown severity 'P9' (expected one of P0, P1, P2, P3)"
    with Journal(jpath, actor="ana") as j:
        listing = j.incidents()
        assert [i.id for i in listing] == [b]
        assert listing.problems == (Problem(a, f"it cannot be replayed ({why})"),)
        with pytest.raises(JournalError) as exc:
            j.load(a)
    assert str(exc.value) == (
        f"journal {jpath}: {a} cannot be replayed ({why}); nothing was changed; {OTHER_INCIDENT_HINT}"
    )


def test_incidents_missing_from_a_table_or_without_events_are_named(jpath: Path) -> None:
    a, b = _two_incidents(jpath)
    db = sqlite3.connect(jpath)
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("DELETE FROM incidents WHERE id = ?", (a,))
    db.execute("INSERT INTO incidents (id, day, number) VALUES ('INC-2026-11-26-003', '2026-11-26', 3)")
    db.commit()
    db.close()
    with Journal(jpath, actor="ana") as j:
        listing = j.incidents()
    assert [i.id for i in listing] == [b]
    assert listing.problems == (
        Problem(a, "it is missing from the incidents table"),
        Problem("INC-2026-11-26-003", "it has no events left"),
    )


def test_folder_in_place_of_the_file(jpath: Path) -> None:
    jpath.mkdir()
    with pytest.raises(JournalError) as exc:
        Journal(jpath, actor="ana")
    assert str(exc.value) == f"journal {jpath}: cannot be read (Is a directory)"


def test_state_dir_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    path = blocker / "state" / "journal.sqlite3"
    with pytest.raises(JournalError) as exc:
        Journal(path, actor="ana")
    assert str(exc.value) == f"journal {path}: cannot create its folder (Not a directory)"


def test_a_refused_file_stays_refused_and_is_never_replaced(jpath: Path) -> None:
    jpath.write_bytes(b"not a journal at all" * 100)
    before = sha(jpath)
    for _ in range(3):
        with pytest.raises(JournalError):
            Journal(jpath, actor="ana")
    assert sha(jpath) == before
    assert sorted(p.name for p in jpath.parent.iterdir()) == ["journal.sqlite3"]


def test_a_malformed_incident_id_is_never_shown_and_the_file_left_alone(tmp_path: Path) -> None:
    """Ids are printed and copied; one smuggling an escape sequence must never reach a terminal."""
    import hashlib
    import sqlite3

    path = tmp_path / "journal.sqlite3"
    j = Journal(path, actor="alice")
    j.declare("P1", "ok")
    j.close()
    db = sqlite3.connect(path)
    bad = "INC-2026-11-26-002\x1b]52;c;ZWNobyBwd25lZA==\x07"
    db.execute("INSERT INTO incidents (id, day, number) VALUES (?, '2026-11-26', 2)", (bad,))
    db.execute(
        "INSERT INTO events (event_id, incident_id, at, actor, kind, data) VALUES"
        " ('x', ?, '2026-11-26T14:00:00.000000Z', 'eve', 'note_added', '{\"text\": \"hi\"}')",
        (bad,),
    )
    db.commit()
    db.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    j = Journal(path, actor="alice")
    listing = j.incidents()  # the good incident is there; the bad id is counted, never shown
    assert [i.title for i in listing] == ["ok"]
    assert [p.line for p in listing.problems] == [
        "the incidents table holds 1 malformed incident id",
        "1 event has a malformed incident id (seq 2)",
    ]
    assert j.incident_ids() == [listing[0].id]
    with pytest.raises(JournalError) as err:
        j.events()
    assert (
        str(err.value)
        == f"journal {path}: event 2 has a malformed incident id; nothing was changed; {OTHER_INCIDENT_HINT}"
    )
    j.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_new_journal_is_private_to_its_user(tmp_path: Path) -> None:
    state = tmp_path / "state"
    Journal(state / "journal.sqlite3", actor="alice").close()
    assert (state.stat().st_mode & 0o777) == 0o700
    assert ((state / "journal.sqlite3").stat().st_mode & 0o777) == 0o600


def test_a_clock_that_goes_back_never_reorders_the_journal(tmp_path: Path) -> None:
    """NTP steps the clock back 10 minutes mid-incident: events keep their order in time, and no
    duration goes negative (the header would say T+-9:58, the report reorder its timeline)."""
    from datetime import UTC, datetime, timedelta

    from conftest import ManualClock
    from warroom.incident import events as ev

    clock = ManualClock(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))
    journal = Journal(tmp_path / "journal.sqlite3", actor="alice", clock=clock)
    incident_id = journal.declare("P0", "DB down").incident_id
    clock.advance(minutes=2)
    journal.append(incident_id, ev.NoteAdded("first"))
    clock.advance(minutes=-10)  # the clock is stepped back
    journal.append(incident_id, ev.NoteAdded("second"))
    incident = journal.load(incident_id)
    times = [e.at for e in incident.events]
    assert times == sorted(times)
    assert [e.body.text for e in incident.events if isinstance(e.body, ev.NoteAdded)] == ["first", "second"]
    assert incident.elapsed(clock()) == timedelta(0)
