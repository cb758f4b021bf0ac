"""A shared war room: consoles in their own processes, each with its own journal, on one real
PostgreSQL (the embedded server). Events written on one console reach the others within a
second; every console ends with the same events in the same order and the same state."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from conftest import ManualClock
from sharedhelpers import ConsoleProcess
from warroom.incident import events as ev
from warroom.incident.journal import Journal, JournalError
from warroom.incident.state import fold, in_order
from warroom.shared.room import SharedRoom, declare_shared, join
from warroom.shared.schema import connect, init

pytestmark = pytest.mark.pg

CROSS = 1.0  # seconds: the bound for an event to reach another console


async def shared_db(dsn: str) -> None:
    conn = await connect(dsn, 5)
    try:
        await init(conn)
    finally:
        await conn.close()


# -- the journal's side ------------------------------------------------------------------------


def test_merge_keeps_ids_times_and_actors_and_skips_what_it_has(tmp_path: Path, clock: ManualClock) -> None:
    a = Journal(tmp_path / "a.sqlite3", actor="ana", clock=clock)
    b = Journal(tmp_path / "b.sqlite3", actor="bob", clock=clock)
    d = a.declare("P1", "SMS down", incident_id="INC-2026-11-26-007")
    clock.advance(seconds=5)
    n = a.append(d.incident_id, ev.NoteAdded(text="looking at the pool"))
    added = b.merge([d, n])
    assert [(e.event_id, e.at, e.actor) for e in added] == [
        (d.event_id, d.at, "ana"),
        (n.event_id, n.at, "ana"),
    ]
    assert b.merge([d, n]) == []  # idempotent
    assert b.load(d.incident_id).notes == [(n.at, "ana", "looking at the pool")]
    assert b.incident_ids() == ["INC-2026-11-26-007"]
    # The next incident this journal declares alone does not reuse the merged number.
    assert b.declare("P3", "other").incident_id == "INC-2026-11-26-008"


def test_merge_refuses_another_incident_under_a_known_id(tmp_path: Path, clock: ManualClock) -> None:
    a = Journal(tmp_path / "a.sqlite3", actor="ana", clock=clock)
    b = Journal(tmp_path / "b.sqlite3", actor="bob", clock=clock)
    theirs = a.declare("P1", "theirs")
    b.declare("P2", "ours")  # the same id, INC-2026-11-26-001, another incident
    with pytest.raises(JournalError, match="already has another incident INC-2026-11-26-001"):
        b.merge([theirs])
    orphan = a.append(theirs.incident_id, ev.NoteAdded(text="x"))
    c = Journal(tmp_path / "c.sqlite3", actor="cy", clock=clock)
    with pytest.raises(JournalError, match="before its declaration"):
        c.merge([orphan])


def test_consoles_that_got_events_in_different_orders_fold_the_same(
    tmp_path: Path, clock: ManualClock
) -> None:
    """Last writer wins by event time on a field edited on two consoles; both edits stay in the
    timeline; the order is the same whichever console received what first."""
    a = Journal(tmp_path / "a.sqlite3", actor="ana", clock=clock)
    b = Journal(tmp_path / "b.sqlite3", actor="bob", clock=ManualClock(clock.now))
    d = a.declare("P1", "SMS down", incident_id="INC-2026-11-26-001")
    b.merge([d])
    clock.advance(seconds=10)
    a_edit = a.append(d.incident_id, ev.FieldEdited(field="theory", value="pool exhausted"))
    b_edit = b.append(
        d.incident_id, ev.FieldEdited("theory", "bad deploy"), at=clock.now + timedelta(seconds=3)
    )
    a_same = a.append(d.incident_id, ev.NoteAdded(text="same instant on a"), at=clock.now)
    b.merge([a_edit, a_same])  # b: its own edit first, then a's
    a.merge([b_edit])  # a: its own edit first, then b's
    ia, ib = a.load(d.incident_id), b.load(d.incident_id)
    assert ia.fields["theory"] == ib.fields["theory"] == "bad deploy"  # the later one, by event time
    assert [e.event_id for e in ia.events] == [e.event_id for e in ib.events]
    edits = [e.body for e in ia.events if isinstance(e.body, ev.FieldEdited)]
    assert [(x.value) for x in edits] == ["pool exhausted", "bad deploy"]  # both in the timeline
    # Events of one journal at the same instant keep the order they were written in.
    assert [e.event_id for e in in_order([a_same, a_edit])] == [a_edit.event_id, a_same.event_id]
    assert fold(in_order(reversed(ia.events))).fields == ia.fields


# -- the shared database's side ------------------------------------------------------------------


async def test_incident_ids_are_unique_across_the_team(pg_dsn: str, tmp_path: Path) -> None:
    await shared_db(pg_dsn)
    journals = [Journal(tmp_path / f"{i}.sqlite3", actor=f"r{i}") for i in range(6)]
    results = await asyncio.gather(
        *(declare_shared(j, pg_dsn, 5, "P1", f"incident {i}") for i, j in enumerate(journals))
    )
    ids = [e.incident_id for e, alone in results]
    assert all(alone == "" for _, alone in results)
    assert len(set(ids)) == 6, ids
    conn = await asyncpg.connect(pg_dsn)
    try:
        rows = await conn.fetch("SELECT id, declaration FROM warroom_incidents ORDER BY number")
    finally:
        await conn.close()
    assert sorted(r["id"] for r in rows) == sorted(ids)
    assert {r["declaration"] for r in rows} == {e.event_id for e, _ in results}


async def test_declaring_without_the_shared_database_works_alone_and_says_so(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    j = Journal(tmp_path / "j.sqlite3", actor="ana")
    event, alone = await declare_shared(j, f"postgresql://u:pw-alone@127.0.0.1:{port}/x", 2, "P0", "down")
    assert event.incident_id.endswith("-001") and j.exists(event.incident_id)
    assert alone.startswith("declared on this machine only (the shared database cannot be reached")
    assert "pw-alone" not in alone


async def test_an_id_taken_by_the_team_meanwhile_stays_local(pg_dsn: str, tmp_path: Path) -> None:
    """Declared offline as -001 while the team got -001 for another incident: refused, said."""
    await shared_db(pg_dsn)
    team = Journal(tmp_path / "team.sqlite3", actor="ana")
    await declare_shared(team, pg_dsn, 5, "P1", "the team's")
    alone = Journal(tmp_path / "alone.sqlite3", actor="bob")
    mine = alone.declare("P2", "mine")
    assert mine.incident_id == (await _ids(pg_dsn))[0]
    statuses = []
    room = SharedRoom(alone, mine.incident_id, pg_dsn, on_status=statuses.append, heartbeat=0.2)
    await asyncio.wait_for(room.run(), 10)  # it gives up on this incident, and says why
    assert not room.status.shared and not room.status.online
    assert "the team has that id for another incident" in room.status.reason


async def _ids(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r[0] for r in await conn.fetch("SELECT id FROM warroom_incidents ORDER BY id")]
    finally:
        await conn.close()


async def test_join_pulls_a_shared_incident_from_nothing_but_the_dsn(pg_dsn: str, tmp_path: Path) -> None:
    await shared_db(pg_dsn)
    a = Journal(tmp_path / "a.sqlite3", actor="ana")
    d, _ = await declare_shared(a, pg_dsn, 5, "P0", "Database completely down")
    room = SharedRoom(a, d.incident_id, pg_dsn)
    task = asyncio.create_task(room.run())
    try:
        notes = [a.append(d.incident_id, ev.NoteAdded(text=f"note {i}")) for i in range(3)]
        room.poke()
        for _ in range(100):
            if room.status.online and room.status.pending == 0 and len(await _events(pg_dsn)) == 4:
                break
            await asyncio.sleep(0.05)
        b = Journal(tmp_path / "fresh" / "b.sqlite3", actor="bob")
        added, problems = await join(b, pg_dsn, 5, d.incident_id)
        assert (added, problems) == (4, [])
        inc = b.load(d.incident_id)
        assert inc.title == "Database completely down" and inc.declared_by == "ana"
        assert [n[2] for n in inc.notes] == ["note 0", "note 1", "note 2"]
        assert [e.event_id for e in inc.events] == [d.event_id, *(n.event_id for n in notes)]
        assert await join(b, pg_dsn, 5, d.incident_id) == (0, [])  # again: nothing twice
    finally:
        room.stop()
        await asyncio.wait_for(task, 10)


async def _events(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r[0] for r in await conn.fetch("SELECT event_id FROM warroom_events ORDER BY gseq")]
    finally:
        await conn.close()


# -- consoles in their own processes ---------------------------------------------------------------


def consoles(tmp_path: Path, dsn: str, *actors: str) -> list[ConsoleProcess]:
    out = []
    try:
        for actor in actors:
            out.append(ConsoleProcess(tmp_path / actor, dsn, actor))
    except BaseException:
        for c in out:
            c.close()
        raise
    return out


def same_everywhere(cs: list[ConsoleProcess]) -> dict:
    dumps = [c.dump() for c in cs]
    for other in dumps[1:]:
        assert other == dumps[0]
    return dumps[0]


def assert_crosses(
    writer: ConsoleProcess, readers: list[ConsoleProcess], kind: str, **fields: object
) -> float:
    event_id, t = writer.do(kind, **fields)
    worst = 0.0
    for r in readers:
        r.wait_for(lambda r=r: event_id in r.arrivals, 10, f"{kind} from {writer.actor}")
        took = r.arrivals[event_id] - t
        assert took < CROSS, f"{kind} from {writer.actor} reached {r.actor} in {took:.3f} s"
        worst = max(worst, took)
    return worst


@pytest.mark.slow
@pytest.mark.parametrize("team", [2, 3])
async def test_ticks_notes_severity_and_updates_cross_within_a_second(
    pg_dsn: str, tmp_path: Path, team: int
) -> None:
    await shared_db(pg_dsn)
    names = ["ana", "bob", "cy"][:team]
    cs = consoles(tmp_path, pg_dsn, *names)
    try:
        incident_id = cs[0].ask("declared", op="declare", severity="P1", title="SMS delivery failing")[
            "declared"
        ]
        for c in cs[1:]:
            assert c.ask("joined", op="join", id=incident_id)["added"] == 1
        for c in cs:
            c.wait_for(lambda c=c: bool(c.statuses) and c.statuses[-1]["online"], 10, "online")
        worst = 0.0
        for i, writer in enumerate(cs):
            others = [c for c in cs if c is not writer]
            worst = max(
                worst,
                assert_crosses(writer, others, "tick", item=f"Check logs ({writer.actor})"),
                assert_crosses(writer, others, "note", text=f"{writer.actor} looks at the pool"),
                assert_crosses(writer, others, "severity", severity=["P0", "P1", "P2"][i], previous="P1"),
                assert_crosses(writer, others, "update", text=f"update from {writer.actor}"),
            )
        final = same_everywhere(cs)
        assert len(final["events"]) == 1 + 4 * team
        assert final["severity"] == ["P0", "P1", "P2"][team - 1]  # the last change, everywhere
        assert final["notes"] == [f"{n} looks at the pool" for n in names]
        assert final["ticks"] == sorted(f"investigation/Check logs ({n})" for n in names)
        assert {e[2] for e in final["events"]} == set(names)  # who did it, on every event
        # Presence: every console sees the whole team.
        for c in cs:
            c.wait_for(
                lambda c=c: sorted(set(c.status()["people"])) == sorted(names), 10, "the whole team present"
            )
        print(f"\n{team} consoles: the slowest event crossed in {worst * 1000:.0f} ms")
    finally:
        for c in cs:
            c.close()
