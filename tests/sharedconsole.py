"""A console of a shared war room without a screen, as its own process (the tests run several):
its own journal, the real sync engine (:class:`warroom.shared.room.SharedRoom`), commands on
stdin and answers on stdout, one JSON object a line.

    python tests/sharedconsole.py STATE_DIR DSN ACTOR

Commands: ``{"op": "declare", "severity": "P1", "title": ...}``, ``{"op": "open", "id": ...}``,
``{"op": "join", "id": ...}``, ``{"op": "do", "kind": "note", ...}`` (note, tick, severity,
update, field, owner, role), ``{"op": "dump"}``, ``{"op": "status"}``, ``{"op": "quit"}``. Events that arrive
from other consoles are reported as ``{"arrived": [event ids], "t": wall-clock seconds}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.incident.state import in_order
from warroom.shared.room import RoomStatus, SharedRoom, declare_shared, join


def say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def body_of(cmd: dict[str, Any]) -> ev.Body:
    kind = cmd["kind"]
    if kind == "note":
        return ev.NoteAdded(text=cmd["text"])
    if kind == "tick":
        return ev.ItemTicked(
            checklist=cmd.get("checklist", "investigation"), item=cmd["item"], text=cmd["item"]
        )
    if kind == "severity":
        return ev.SeverityChanged(severity=cmd["severity"], previous=cmd.get("previous", ""))
    if kind == "update":
        return ev.UpdateSent(audience=cmd.get("audience", "internal"), text=cmd["text"])
    if kind == "field":
        return ev.FieldEdited(field=cmd["field"], value=cmd["value"])
    if kind == "owner":
        return ev.OwnerAssigned(
            checklist=cmd.get("checklist", "investigation"), item=cmd["item"], person=cmd["person"]
        )
    if kind == "role":
        return ev.RoleAssigned(role=cmd["role"], person=cmd["person"], previous=cmd.get("previous", ""))
    raise ValueError(kind)


class Console:
    def __init__(self, state_dir: Path, dsn: str, actor: str) -> None:
        self.journal = Journal(state_dir / "journal.sqlite3", actor=actor)
        self.dsn = dsn
        self.room: SharedRoom | None = None
        self.task: asyncio.Task[None] | None = None

    def arrived(self, events: list[ev.Event]) -> None:
        say({"arrived": [e.event_id for e in events], "t": time.time()})

    def status(self, status: RoomStatus) -> None:
        say(
            {
                "status": {
                    "online": status.online,
                    "pending": status.pending,
                    "reason": status.reason,
                    "people": [p.who for p in status.people],
                }
            }
        )

    def open(self, incident_id: str) -> None:
        self.room = SharedRoom(
            self.journal,
            incident_id,
            self.dsn,
            on_events=self.arrived,
            on_status=self.status,
            connect_timeout=2.0,
            heartbeat=0.5,
            presence_timeout=3.0,
        )
        self.task = asyncio.get_running_loop().create_task(self.room.run())

    async def handle(self, cmd: dict[str, Any]) -> bool:
        op = cmd["op"]
        if op == "declare":
            event, alone = await declare_shared(self.journal, self.dsn, 2.0, cmd["severity"], cmd["title"])
            say({"declared": event.incident_id, "alone": alone})
            self.open(event.incident_id)
        elif op == "open":
            self.open(cmd["id"])
            say({"opened": cmd["id"]})
        elif op == "join":
            added, problems = await join(self.journal, self.dsn, 2.0, cmd["id"])
            self.open(cmd["id"])
            say({"joined": cmd["id"], "added": added, "problems": problems})
        elif op == "do":
            assert self.room is not None
            for _ in range(int(cmd.get("repeat", 1))):
                t = time.time()
                event = await asyncio.to_thread(self.journal.append, self.room.incident_id, body_of(cmd))
                self.room.poke()
                if not cmd.get("quiet"):
                    say({"wrote": event.event_id, "t": t})
                if cmd.get("every"):
                    await asyncio.sleep(float(cmd["every"]))
            say({"done": True})
        elif op == "dump":
            assert self.room is not None
            inc = self.journal.load(self.room.incident_id)
            events = in_order(self.journal.events(self.room.incident_id))
            say(
                {
                    "events": [[e.event_id, e.kind, e.actor] for e in events],
                    "severity": inc.severity,
                    "fields": inc.fields,
                    "ticks": sorted("/".join(k) for k in inc.ticks),
                    "notes": [n[2] for n in inc.notes],
                    "updates": [u.text for u in inc.updates],
                    "timeline": [ev.describe(e) for e in inc.events],
                    "owners": {"/".join(k): v for k, v in sorted(inc.owners.items())},
                    "roles": inc.roles,
                }
            )
        elif op == "status":
            assert self.room is not None
            s = self.room.status
            say(
                {
                    "room": {
                        "online": s.online,
                        "pending": s.pending,
                        "reason": s.reason,
                        "people": [p.who for p in s.people],
                    }
                }
            )
        elif op == "quit":
            if self.room is not None and self.task is not None:
                self.room.stop()
                await asyncio.wait_for(self.task, 10)
            say({"bye": True})
            return False
        return True


async def main() -> None:
    state_dir, dsn, actor = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    console = Console(state_dir, dsn, actor)
    loop = asyncio.get_running_loop()
    say({"ready": True})
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        try:
            if not await console.handle(json.loads(line)):
                break
        except Exception as exc:
            say({"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    Path(sys.argv[1]).mkdir(parents=True, exist_ok=True, mode=0o700)
    asyncio.run(main())
