"""War-room roles (incident lead, comms, ops/driver, scribe) assigned and handed over as events,
shared with the team like every other event; the header line names who holds what."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import ManualClock
from test_shared_schema import cli_env, warroom_cli
from test_shared_sync import shared_db
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.shared.room import Presence, RoomStatus, SharedRoom, declare_shared, join


def test_roles_are_assigned_and_handed_over(tmp_path: Path, clock: ManualClock) -> None:
    j = Journal(tmp_path / "j.sqlite3", actor="ana", clock=clock)
    d = j.declare("P1", "SMS down", lead="ana")
    j.append(d.incident_id, ev.RoleAssigned(role="comms", person="bob"))
    j.append(d.incident_id, ev.RoleAssigned(role="lead", person="cy", previous="ana"))
    j.append(d.incident_id, ev.RoleAssigned(role="scribe", person="dee"))
    j.append(d.incident_id, ev.RoleAssigned(role="scribe", person="", previous="dee"))
    inc = j.load(d.incident_id)
    assert inc.roles == {"lead": "cy", "comms": "bob"}
    assert inc.lead == "cy"  # the lead role is the incident's lead field
    lines = [ev.describe(e) for e in inc.events[1:]]
    assert lines == [
        "Comms: bob",
        "Incident lead: cy (handed over from ana)",
        "Scribe: dee",
        "Scribe: nobody now (dee stepped down)",
    ]
    j.append(d.incident_id, ev.FieldEdited(field="lead", value="ana"))  # the edit form's lead field
    assert j.load(d.incident_id).roles["lead"] == "ana"


def test_the_header_line_names_the_roles_of_who_is_here() -> None:
    at = datetime(2026, 12, 1, 14, 3, tzinfo=UTC)
    people = (Presence("ana", "a:1", at), Presence("bob", "b:2", at))
    online = RoomStatus(True, at, people=people)
    assert (
        online.line(str, {"lead": "ana", "scribe": "ana", "comms": "bob"})
        == "team: ana (lead, scribe), bob (comms)"
    )
    offline = RoomStatus(False, at, reason="gone", pending=4)
    assert (
        offline.line(lambda t: t.strftime("%H:%M")) == "OFFLINE from the team since 14:03, 4 events to replay"
    )
    assert RoomStatus(False, at, reason="connecting").line(str) == "team: connecting…"


def test_role_on_the_command_line(tmp_path: Path) -> None:
    env = cli_env(tmp_path, None)
    incident_id = warroom_cli(env, "declare", "-s", "P1", "-t", "x").stdout.strip()
    p = warroom_cli(env, "--user", "ana", "role", "comms", "bob")
    assert (p.returncode, p.stdout.strip()) == (0, f"{incident_id}: Comms: bob")
    p = warroom_cli(env, "role", "comms", "cy")
    assert p.stdout.strip() == f"{incident_id}: Comms: cy (handed over from bob)"
    bad = warroom_cli(env, "role", "boss", "cy")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "boss" in bad.stderr


@pytest.mark.pg
async def test_a_hand_over_reaches_the_team(pg_dsn: str, tmp_path: Path) -> None:
    await shared_db(pg_dsn)
    a = Journal(tmp_path / "a.sqlite3", actor="ana")
    b = Journal(tmp_path / "b.sqlite3", actor="bob")
    d, _ = await declare_shared(a, pg_dsn, 5, "P0", "down", lead="ana")
    await join(b, pg_dsn, 5, d.incident_id)
    got: list[ev.Event] = []
    rooms = [SharedRoom(a, d.incident_id, pg_dsn), SharedRoom(b, d.incident_id, pg_dsn, on_events=got.extend)]
    tasks = [asyncio.create_task(r.run()) for r in rooms]
    try:
        for _ in range(200):
            if all(r.status.online for r in rooms):
                break
            await asyncio.sleep(0.05)
        a.append(d.incident_id, ev.RoleAssigned(role="lead", person="bob", previous="ana"))
        rooms[0].poke()
        for _ in range(250):
            if got:
                break
            await asyncio.sleep(0.02)
        assert got, "the hand-over did not arrive within 5 s"
        inc = b.load(d.incident_id)
        assert inc.roles == {"lead": "bob"} and inc.lead == "bob"
        assert got[0].actor == "ana"  # who handed it over
    finally:
        for r in rooms:
            r.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
