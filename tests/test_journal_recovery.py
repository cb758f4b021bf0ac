"""Recovering a damaged journal: real SQLite files, damaged the way disks and people damage them
(pages overwritten, the file cut short, the header or a table's page scribbled over, rows edited
by hand), then salvaged with :func:`warroom.incident.recovery.recover`."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import warroom
from conftest import ManualClock
from warroom.incident import events as ev
from warroom.incident.journal import RECOVER_COMMAND, Journal, JournalError
from warroom.incident.recovery import RecoveryReport, recover
from warroom.text import counted

PAGE = 4096
STAMP = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
Row = tuple[object, ...]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(warroom.__file__).resolve().parents[1])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def build(path: Path) -> list[str]:
    """Four incidents, 400 notes spread over them (about 50 pages), one note too big for a page."""
    clock = ManualClock()
    with Journal(path, actor="ana", clock=clock) as j:
        ids = [j.declare("P1", f"incident {k}").incident_id for k in range(4)]
        for i in range(400):
            clock.advance(seconds=1)
            j.append(ids[i % 4], ev.NoteAdded(text=f"note {i} " + "x" * 150))
        j.append(ids[0], ev.NoteAdded(text="a long paste " + "y" * 20_000))
    return ids


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[str]]:
    path = tmp_path_factory.mktemp("pristine") / "journal.sqlite3"
    ids = build(path)
    assert not Path(f"{path}-wal").exists()
    return path.read_bytes(), ids


@pytest.fixture
def jpath(state_dir: Path, pristine: tuple[bytes, list[str]]) -> Path:
    path = state_dir / "journal.sqlite3"
    path.write_bytes(pristine[0])
    path.chmod(0o600)
    return path


def rows(path: Path, table: str = "events") -> list[Row]:
    """Every row, each value with its storage class and exact bytes."""
    cols = {
        "events": "seq, event_id, incident_id, at, actor, kind, data",
        "damaged_events": "seq, event_id, incident_id, at, actor, kind, data, reason",
        "incidents": "id, day, number",
    }[table]
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.text_factory = bytes
    try:
        typed = ", ".join(f"typeof({c}), {c}" for c in cols.split(", "))
        return [tuple(r) for r in db.execute(f"SELECT {typed} FROM {table} ORDER BY rowid")]
    finally:
        db.close()


def event_id(row: Row) -> bytes:
    return row[3]  # type: ignore[return-value]  # (typeof(seq), seq, typeof(event_id), event_id, ...)


def pages(data: bytes) -> Iterator[tuple[int, bytes]]:
    for n in range(len(data) // PAGE):
        yield n + 1, data[n * PAGE : (n + 1) * PAGE]


def events_pages(data: bytes, ref: list[Row]) -> dict[int, set[bytes]]:
    """Leaf pages of the events table (found by the event ids they hold), and those ids."""
    out: dict[int, set[bytes]] = {}
    for number, page in pages(data):
        if page[0] == 0x0D:
            ids = {event_id(r) for r in ref if event_id(r) in page}
            if ids:
                out[number] = ids
    return out


def damage(path: Path, offset: int, new: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + len(new)] = new
    path.write_bytes(bytes(data))


def one_line(text: str) -> str:
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    return text


def recovered(path: Path, damaged: bytes, last_seq: int = 405) -> RecoveryReport:
    """Recover, and check what every recovery must do: the damaged bytes kept aside, private,
    unchanged; a private new journal that opens, replays and takes new events; a second
    recovery that changes nothing."""
    report = recover(path, clock=lambda: STAMP)
    assert report.changed
    assert report.kept == path.with_name("journal.sqlite3.damaged-20261127T093000Z")
    assert report.kept.read_bytes() == damaged
    assert (report.kept.stat().st_mode & 0o777) == 0o600
    assert (path.stat().st_mode & 0o777) == 0o600
    for line in report.lines():
        one_line(line)
    with Journal(path, actor="bo") as j:
        listing = j.incidents()
        assert listing.problems == ()
        event = j.append(listing[-1].id, ev.NoteAdded(text="after the recovery"))
        assert event.seq == last_seq + 1  # no number handed out before, not even a lost one
    before = sha(path)
    again = recover(path, clock=lambda: STAMP)
    assert not again.changed and again.kept is None
    assert one_line(again.lines()[0]).endswith("nothing was changed")
    assert sha(path) == before
    return report


# -- damaged pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["random page", "page header", "zeroed page"])
def test_a_damaged_events_page_loses_its_rows_only(jpath: Path, how: str) -> None:
    ref = rows(jpath)
    data = jpath.read_bytes()
    leaves = events_pages(data, ref)
    assert len(leaves) > 20
    victim = sorted(leaves)[len(leaves) // 2]  # a page in the middle of the file
    offset = (victim - 1) * PAGE
    new = {
        "random page": random.Random(victim).randbytes(PAGE),
        "page header": b"\xff" * 12,
        "zeroed page": bytes(PAGE),
    }[how]
    damage(jpath, offset, new)
    damaged = jpath.read_bytes()
    with pytest.raises(JournalError) as err:
        Journal(jpath, actor="ana")
    assert RECOVER_COMMAND in one_line(str(err.value))
    assert jpath.read_bytes() == damaged  # refusing it did not touch it

    report = recovered(jpath, damaged)

    lost_ids = leaves[victim]
    expected = [r for r in ref if event_id(r) not in lost_ids]
    now = rows(jpath)[: len(expected)]  # the event appended by recovered() comes last
    assert now == expected  # byte for byte, typed, seq included: the overflowing note too
    assert report.events == len(expected)
    assert report.lost_count == len(lost_ids) and report.set_aside == ()
    lost_seqs = {r[1] for r in ref if event_id(r) in lost_ids}
    assert {s for a, b in report.lost for s in range(a, b + 1)} == lost_seqs
    # The index survived: the report says which incidents lost how many events.
    by_incident: dict[str, int] = {}
    for r in ref:
        if event_id(r) in lost_ids:
            by_incident[r[5].decode()] = by_incident.get(r[5].decode(), 0) + 1  # type: ignore[union-attr]
    assert dict(report.lost_by_incident) == by_incident
    assert set(report.affected) == set(by_incident)
    lines = report.lines()
    assert (
        lines[1]
        == f"events: {len(expected)} recovered, {len(lost_ids)} lost, 0 set aside (kept in the damaged_events table)"
    )
    assert any(line.endswith((" event lost", " events lost")) for line in lines)


def test_a_partly_overwritten_page_gives_back_what_it_still_holds(jpath: Path) -> None:
    """Bytes scribbled over the middle of a page: rows the scribble missed come back; a row it
    hit is lost or set aside with its raw bytes, never passed off as an event."""
    ref = rows(jpath)
    leaves = events_pages(jpath.read_bytes(), ref)
    victim = sorted(leaves)[len(leaves) // 3]
    damage(jpath, (victim - 1) * PAGE + 1500, random.Random(7).randbytes(700))
    damaged = jpath.read_bytes()
    report = recover(jpath, clock=lambda: STAMP)
    assert report.changed and report.kept is not None and report.kept.read_bytes() == damaged
    now = {event_id(r): r for r in rows(jpath)}
    for r in ref:
        if event_id(r) not in leaves[victim]:
            assert now[event_id(r)] == r
    assert all(now[k] == r for r in ref if (k := event_id(r)) in now)
    missing = len(ref) - len(now)
    assert missing == report.lost_count + len(report.set_aside) <= len(leaves[victim])
    assert len(rows(jpath, "damaged_events")) == len(report.set_aside)
    with Journal(jpath, actor="bo") as j:
        assert j.incidents().problems == ()


@pytest.mark.parametrize("keep", [0.6, 0.25])
def test_a_journal_cut_short(jpath: Path, keep: float) -> None:
    ref = rows(jpath)
    data = jpath.read_bytes()
    cut = int(len(data) * keep) + 123  # not on a page boundary either
    jpath.write_bytes(data[:cut])
    damaged = jpath.read_bytes()
    leaves = events_pages(data[: cut // PAGE * PAGE], ref)
    whole = set().union(*leaves.values())
    report = recovered(jpath, damaged)
    now = {event_id(r): r for r in rows(jpath)}
    small = {event_id(r) for r in ref if len(r[-1]) < 1000}  # type: ignore[arg-type]
    assert whole & small <= set(now)  # every row on a page that is still there
    assert all(now[k] == r for r in ref if (k := event_id(r)) in now)  # and nothing else
    assert report.lost_count == len(ref) - report.events > 0


def test_a_zeroed_page_count_in_the_header(jpath: Path) -> None:
    """SQLite falls back on the file's size: the journal still reads whole, and recovery says so."""
    damage(jpath, 28, bytes(4))
    before = sha(jpath)
    report = recover(jpath, clock=lambda: STAMP)
    assert not report.changed and report.events == 405 and report.incidents == 4
    assert sha(jpath) == before
    assert sorted(p.name for p in jpath.parent.iterdir()) == ["journal.sqlite3"]


def test_the_incidents_page_damaged_rebuilds_ids_from_events(
    jpath: Path, pristine: tuple[bytes, list[str]]
) -> None:
    ref = rows(jpath)
    db = sqlite3.connect(jpath)
    [root] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'incidents'").fetchone()
    db.close()
    damage(jpath, (root - 1) * PAGE, b"\xff" * PAGE)
    report = recovered(jpath, jpath.read_bytes())
    ids = pristine[1]
    assert report.rebuilt == tuple(ids) and report.lost_count == 0
    assert rows(jpath)[: len(ref)] == ref
    assert [r[1].decode() for r in rows(jpath, "incidents")] == ids  # type: ignore[union-attr]
    assert any(
        line == f"{ids[0]}: rebuilt from its events (its row in the incidents table was lost)"
        for line in report.lines()
    )
    with Journal(jpath, actor="bo", clock=ManualClock()) as j:
        assert j.declare("P2", "the next one").incident_id == "INC-2026-11-26-005"


@pytest.mark.parametrize("where", ["schema page", "file header"])
def test_a_damaged_first_page(jpath: Path, where: str) -> None:
    """Without the schema (or the header naming the file SQLite) nothing can be read through
    SQLite: every row is still found on its page."""
    ref = rows(jpath)
    if where == "schema page":
        damage(jpath, 100, bytes(PAGE - 100))
    else:
        damage(jpath, 0, bytes(100))
    with pytest.raises(JournalError) as err:
        Journal(jpath, actor="ana")
    expected = RECOVER_COMMAND if where == "schema page" else "not an SQLite file"
    assert expected in one_line(str(err.value))
    report = recovered(jpath, jpath.read_bytes())
    assert rows(jpath)[: len(ref)] == ref
    assert report.lost_count == 0 and report.rebuilt == () and report.incidents == 4


@pytest.mark.parametrize(
    ("offset", "value"),
    [(16, b"\x04\x00"), (16, b"\x00\x00"), (16, b"\x00\x01"), (20, b"\x40")],
    ids=["page size 1024", "page size 0", "page size 65536", "reserved bytes"],
)
def test_a_damaged_page_size_in_the_header(jpath: Path, offset: int, value: bytes) -> None:
    """The header's page size (or reserved bytes) scribbled over: the pages are read at the size
    warroom writes them, and every row comes back."""
    ref = rows(jpath)
    damage(jpath, offset, value)
    with pytest.raises(JournalError):
        Journal(jpath, actor="ana")
    report = recovered(jpath, jpath.read_bytes())
    assert rows(jpath)[: len(ref)] == ref
    assert report.lost_count == 0 and report.incidents == 4


def test_events_only_in_the_write_ahead_log_are_recovered(
    jpath: Path, pristine: tuple[bytes, list[str]]
) -> None:
    """A process killed with events still in the log: they are laid onto the damaged file's
    copy; the log is kept aside with it, and never laid onto the new journal."""
    incident = pristine[1][2]
    code = (
        "import os, sys\n"
        "from warroom.incident.journal import Journal\n"
        "from warroom.incident import events as ev\n"
        "j = Journal(sys.argv[1], actor='cy')\n"
        "for i in range(30):\n"
        "    j.append(sys.argv[2], ev.NoteAdded(text=f'only in the log {i}'))\n"
        "os.kill(os.getpid(), 9)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(jpath), incident], env=child_env(), timeout=60)
    log = Path(f"{jpath}-wal")
    assert log.stat().st_size > 0
    ref = rows(jpath)  # through SQLite, so with the log (read-only: the log is left as it is)
    assert len(ref) == 435
    log_bytes = log.read_bytes()
    leaves = events_pages(jpath.read_bytes(), ref)
    victim = sorted(leaves)[2]  # an early page, which the log does not hold a newer copy of
    damage(jpath, (victim - 1) * PAGE, b"\x00" * PAGE)
    damaged = jpath.read_bytes()
    report = recover(jpath, clock=lambda: STAMP)
    assert report.kept is not None and report.kept.read_bytes() == damaged
    assert Path(f"{report.kept}-wal").read_bytes() == log_bytes
    assert not log.exists()
    now = rows(jpath)
    texts = [r[13] for r in now]
    assert sum(b"only in the log" in t for t in texts) == 30  # type: ignore[operator]
    assert [r for r in ref if event_id(r) not in leaves[victim]] == now
    assert report.lost_count == len(leaves[victim]) and not report.log_unread


# -- damaged events ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        (
            "data = '{not json'",
            "note_added event data is not JSON (Expecting property name enclosed in double quotes)",
        ),
        ("kind = 'teleported'", "unknown event kind 'teleported'"),
        ("data = '{\"text\": 5}'", "note_added event field 'text' should be str"),
        ("at = x'31'", "a column has the wrong type"),
        ("at = 'yesterday'", "Invalid isoformat string: 'yesterday'"),
        ("data = CAST(x'7b22ff' AS TEXT)", "a text is not UTF-8"),
    ],
)
def test_a_damaged_event_is_set_aside_and_its_incident_folds_again(
    jpath: Path, pristine: tuple[bytes, list[str]], sql: str, why: str
) -> None:
    ids = pristine[1]
    ref = rows(jpath)
    db = sqlite3.connect(jpath)
    db.execute(f"UPDATE events SET {sql} WHERE seq = 100")  # a note of ids[3]
    db.commit()
    db.close()
    [edited] = [r for r in rows(jpath) if r[1] == 100]
    with Journal(jpath, actor="ana") as j:
        listing = j.incidents()
        assert [i.id for i in listing] == ids[:3]  # the others are all there
        [problem] = listing.problems
        assert problem.incident_id == ids[3]
        assert one_line(problem.line) == f"{ids[3]} cannot be opened: event 100 is damaged ({why})"
        with pytest.raises(JournalError) as err:
            j.load(ids[3])
        assert f"event 100 of {ids[3]} is damaged ({why})" in one_line(str(err.value))
        assert "--incident ID" in str(err.value) and RECOVER_COMMAND in str(err.value)
    report = recovered(jpath, jpath.read_bytes())
    assert [(s.seq, s.incident_id, s.why) for s in report.set_aside] == [(100, ids[3], why)]
    assert report.lost_count == 0 and report.affected == (ids[3],)
    assert f"{ids[3]}: event 100 set aside ({why})" in report.lines()
    # The row is kept, every value with its type and bytes, and why.
    [kept] = rows(jpath, "damaged_events")
    assert kept[:-2] == edited
    assert kept[-1] == f"event 100 of {ids[3]} is damaged ({why})".encode()
    assert rows(jpath)[: len(ref) - 1] == [r for r in ref if r[1] != 100]


def test_an_event_its_incident_cannot_replay_is_set_aside(
    jpath: Path, pristine: tuple[bytes, list[str]]
) -> None:
    ids = pristine[1]
    db = sqlite3.connect(jpath)
    db.execute(
        'UPDATE events SET kind = \'severity_changed\', data = \'{"severity":"P9","previous":"P1"}\''
        " WHERE seq = 101"
    )
    db.commit()
    db.close()
    with Journal(jpath, actor="ana") as j:
        [problem] = j.incidents().problems
        assert problem.incident_id == ids[0] and problem.reason.startswith(
            "it cannot be replayed (unknown severity 'P9'"
        )
    report = recovered(jpath, jpath.read_bytes())
    [aside] = report.set_aside
    assert (aside.seq, aside.incident_id) == (101, ids[0]) and aside.why.startswith("unknown severity 'P9'")
    with Journal(jpath, actor="ana") as j:
        assert j.load(ids[0]).severity == "P1"


def test_an_event_with_a_malformed_incident_id_is_set_aside_unprinted(
    jpath: Path, pristine: tuple[bytes, list[str]]
) -> None:
    hostile = "INC-2026-11-26-002\x1b]52;c;ZWNobyBwd25lZA==\x07"
    db = sqlite3.connect(jpath)
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("UPDATE events SET incident_id = ? WHERE seq = 102", (hostile,))
    db.execute("INSERT INTO incidents (id, day, number) VALUES (?, '2026-11-26', 99)", (hostile,))
    db.commit()
    db.close()
    with Journal(jpath, actor="ana") as j:
        listing = j.incidents()
        assert [i.id for i in listing] == pristine[1]  # event 102 was one of INC-...-002's notes
        assert [one_line(p.line) for p in listing.problems] == [
            "the incidents table holds 1 malformed incident id",
            "1 event has a malformed incident id (seq 102)",
        ]
    report = recovered(jpath, jpath.read_bytes())
    assert [(s.seq, s.incident_id) for s in report.set_aside] == [(102, None)]
    assert report.incidents_set_aside == 1
    assert "event 102 set aside (malformed incident id)" in report.lines()
    [kept] = rows(jpath, "damaged_events")
    assert kept[5] == hostile.encode()  # kept as it was, never shown


# -- refusals ----------------------------------------------------------------------------------


def test_a_journal_another_process_has_open_is_left_alone(jpath: Path) -> None:
    code = (
        "import sys, time\n"
        "from warroom.incident.journal import Journal\n"
        "j = Journal(sys.argv[1], actor='cy')\n"
        "j.incident_ids()\n"
        "print('open', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(jpath)],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "open"
        before = sha(jpath)
        with pytest.raises(JournalError) as err:
            recover(jpath, clock=lambda: STAMP)
        assert one_line(str(err.value)) == (
            f"journal {jpath}: another warroom has it open; close every console and command using it,"
            f" then run `{RECOVER_COMMAND}` again; nothing was changed"
        )
        assert sha(jpath) == before
        assert not list(jpath.parent.glob("*damaged*"))
    finally:
        child.communicate("\n", timeout=30)


def test_an_opening_that_waited_for_a_recovery_opens_the_new_journal(state_dir: Path) -> None:
    """A warroom that starts while a recovery holds the journal waits for it, then must use the
    journal put in place, not the old file it was about to read (its writes would be lost)."""
    path, new = state_dir / "journal.sqlite3", state_dir / "new.sqlite3"
    with Journal(path, actor="ana", clock=ManualClock()) as j:
        j.declare("P1", "the damaged one")
    with Journal(new, actor="ana", clock=ManualClock()) as j:
        j.declare("P1", "recovered")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from warroom.incident.recovery import _locked\n"
        "with _locked(Path(sys.argv[1])):\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.readline()\n"
        "    Path(sys.argv[2]).replace(sys.argv[1])\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(path), str(new)],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []

    def open_it() -> None:
        with Journal(path, actor="bo") as j:
            seen.extend(i.title for i in j.incidents())

    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        opener = threading.Thread(target=open_it)
        opener.start()
        time.sleep(0.5)
        assert opener.is_alive()  # waiting for the lock
    finally:
        child.communicate("\n", timeout=30)
    opener.join(timeout=30)
    assert seen == ["recovered"]


def test_what_is_not_a_journal_is_refused(state_dir: Path) -> None:
    path = state_dir / "journal.sqlite3"
    with pytest.raises(JournalError) as err:
        recover(path)
    assert one_line(str(err.value)) == f"journal {path}: there is no such file to recover"
    path.write_bytes(random.Random(3).randbytes(20 * PAGE))
    before = sha(path)
    with pytest.raises(JournalError) as err:
        recover(path)
    assert one_line(str(err.value)) == (
        f"journal {path}: no incident or event could be read from it (is it a journal?); it was left untouched"
    )
    assert sha(path) == before
    path.unlink()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("PRAGMA application_id = 1234")
    db.commit()
    db.close()
    with pytest.raises(JournalError) as err:
        recover(path)
    assert (
        str(err.value) == f"journal {path}: is an SQLite file but not a warroom journal; nothing was changed"
    )
    assert sorted(p.name for p in state_dir.iterdir()) == ["journal.sqlite3"]


def test_incidents_whose_declarations_are_lost_keep_their_events(
    jpath: Path, pristine: tuple[bytes, list[str]]
) -> None:
    """The first events page holds the four declarations: without them nothing can be replayed,
    but every other event is kept; a second recovery has nothing more to do and says so."""
    ids = pristine[1]
    ref = rows(jpath)
    leaves = events_pages(jpath.read_bytes(), ref)
    first = min(leaves)
    assert {event_id(r) for r in ref[:4]} <= leaves[first]
    damage(jpath, (first - 1) * PAGE, bytes(PAGE))
    report = recover(jpath, clock=lambda: STAMP)
    assert report.changed
    assert [(p.incident_id, p.reason) for p in report.unreplayable] == [
        (i, "it has no readable declaration") for i in ids
    ]
    assert (
        f"{ids[0]}: still cannot be replayed (it has no readable declaration); its events are kept"
        in report.lines()
    )
    assert rows(jpath) == [r for r in ref if event_id(r) not in leaves[first]]
    with Journal(jpath, actor="bo") as j:
        listing = j.incidents()
        assert list(listing) == [] and [p.incident_id for p in listing.problems] == ids
    before = sha(jpath)
    again = recover(jpath, clock=lambda: STAMP)
    assert not again.changed and len(again.unreplayable) == 4
    assert again.lines()[0] == (
        f"journal {jpath}: nothing more can be salvaged (4 incidents, {counted(again.events, 'event')}); nothing was changed"
    )
    assert sha(jpath) == before
    assert len(list(jpath.parent.glob("*.damaged-*"))) == 1


def test_a_long_report_is_cut_to_a_screen() -> None:
    ids = tuple(f"INC-2026-11-26-{n:03d}" for n in range(1, 31))
    report = RecoveryReport(Path("j"), Path("j.damaged"), events=0, incidents=30, rebuilt=ids)
    lines = report.lines()
    assert sum(line.endswith("(its row in the incidents table was lost)") for line in lines) == 20
    assert "... and 10 more like these" in lines


def test_rows_that_cannot_both_stay_are_kept_aside(state_dir: Path) -> None:
    """A file built without the journal's unique constraints (by hand, by another tool) holding
    two events with one event id and two ids for one incident number: a recovery (here for a
    damaged event) keeps the first of each and sets the other aside instead of failing."""
    from warroom.incident.journal import _SCHEMA, APPLICATION_ID, SCHEMA_VERSION

    path = state_dir / "journal.sqlite3"
    db = sqlite3.connect(path)
    loose = _SCHEMA.replace("event_id    TEXT NOT NULL UNIQUE", "event_id    TEXT NOT NULL")
    loose = loose.replace(",\n    UNIQUE (day, number)", "")
    assert loose != _SCHEMA and "UNIQUE" not in loose
    db.executescript(loose)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    declared = '{"severity": "P1", "title": "t", "impact": "", "lead": "", "channel": "c"}'
    for incident, number in (("INC-2026-11-26-001", 1), ("INC-2026-11-26-0001", 1)):
        db.execute("INSERT INTO incidents VALUES (?, '2026-11-26', ?)", (incident, number))
    for event_id, incident, kind, data in [
        ("a" * 32, "INC-2026-11-26-001", "declared", declared),
        ("b" * 32, "INC-2026-11-26-001", "note_added", '{"text": "one"}'),
        ("b" * 32, "INC-2026-11-26-001", "note_added", '{"text": "the same id again"}'),
        ("c" * 32, "INC-2026-11-26-001", "note_added", "{not json"),
        ("d" * 32, "INC-2026-11-26-0001", "declared", declared),
    ]:
        db.execute(
            "INSERT INTO events (event_id, incident_id, at, actor, kind, data)"
            " VALUES (?, ?, '2026-11-26T14:00:00.000000Z', 'ana', ?, ?)",
            (event_id, incident, kind, data),
        )
    db.commit()
    db.close()
    report = recover(path, clock=lambda: STAMP)
    assert report.changed
    assert [(s.seq, s.why) for s in report.set_aside] == [
        (3, "its event id is event 2's"),
        (4, "note_added event data is not JSON (Expecting property name enclosed in double quotes)"),
    ]
    assert report.incidents_set_aside == 1
    with Journal(path, actor="bo") as j:
        listing = j.incidents()
        assert [(i.id, len(i.events)) for i in listing] == [("INC-2026-11-26-001", 2)]
        assert [p.line for p in listing.problems] == [
            "INC-2026-11-26-0001 cannot be opened: it is missing from the incidents table"
        ]


@pytest.mark.parametrize("seed", range(8))
def test_random_damage_never_breaks_recovery_nor_invents_events(
    state_dir: Path, pristine: tuple[bytes, list[str]], seed: int
) -> None:
    """Scribbles of random sizes at random places (the header included): recovery either says
    one line why it cannot, or gives back a journal that opens, whose every event is one that
    was written, byte for byte."""
    path = state_dir / "journal.sqlite3"
    data = bytearray(pristine[0])
    rng = random.Random(seed)
    touched: set[int] = set()
    for _ in range(rng.randint(1, 6)):
        at = rng.choice([rng.randrange(len(data)), rng.randrange(100)])  # the header, often
        size = min(rng.choice([1, 8, 100, PAGE, 3 * PAGE]), len(data) - at)
        data[at : at + size] = rng.randbytes(size)
        touched |= set(range(at // PAGE + 1, (at + size - 1) // PAGE + 2))
    if seed % 4 == 3:
        data = data[: rng.randrange(PAGE, len(data))]
        touched |= set(range(len(data) // PAGE + 1, len(pristine[0]) // PAGE + 1))
    path.write_bytes(bytes(data))
    path.chmod(0o600)
    ref = rows_of(pristine[0], state_dir)
    missed = set().union(*(ids for n, ids in events_pages(pristine[0], ref).items() if n not in touched))
    # rows on pages the damage missed (and not spilling onto other pages)
    intact = [r for r in ref if event_id(r) in missed and len(r[13]) < 1000]  # type: ignore[arg-type]
    try:
        report = recover(path, clock=lambda: STAMP)
    except JournalError as exc:
        one_line(str(exc))
        assert path.read_bytes() == bytes(data)
        assert not intact or 1 in touched  # nothing readable, or nothing told what it is
        return
    for line in report.lines():
        one_line(line)
    now = {event_id(r): r for r in rows(path)}
    for r in intact:
        assert now[event_id(r)] == r
    with Journal(path, actor="bo") as j:
        j.incidents()


def rows_of(data: bytes, where: Path) -> list[Row]:
    path = where / "reference.sqlite3"
    path.write_bytes(data)
    try:
        return rows(path)
    finally:
        path.unlink()
