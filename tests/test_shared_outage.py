"""A shared war room that loses its database: consoles keep working apart and merge back.
Consoles are processes with their own journals; one reaches the database through a relay that
the test cuts and restores (the network gone, then back)."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import asyncpg
import pytest

from sharedhelpers import ConsoleProcess, Relay
from test_shared_sync import consoles, same_everywhere, shared_db

pytestmark = [pytest.mark.pg, pytest.mark.slow]

# The issue asks for 30 s apart and 60 s of 10 writers; the defaults are shorter (the suite runs
# on shared machines), long enough for many reconnection attempts and thousands of events.
OUTAGE = float(os.environ.get("WARROOM_TEST_OUTAGE_SECONDS", "10"))
WRITING = float(os.environ.get("WARROOM_TEST_WRITERS_SECONDS", "12"))


async def shared_ids(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r[0] for r in await conn.fetch("SELECT event_id FROM warroom_events ORDER BY gseq")]
    finally:
        await conn.close()


async def test_a_console_cut_off_keeps_working_and_merges_back(pg_dsn: str, tmp_path: Path) -> None:
    await shared_db(pg_dsn)
    relay = Relay(pg_dsn)
    ana = ConsoleProcess(tmp_path / "ana", relay.dsn, "ana")  # through the relay
    bob = ConsoleProcess(tmp_path / "bob", pg_dsn, "bob")
    cs = [ana, bob]
    try:
        incident_id = ana.ask("declared", op="declare", severity="P1", title="Checkout errors")["declared"]
        bob.ask("joined", op="join", id=incident_id)
        for c in cs:
            c.wait_for(lambda c=c: c.status()["online"], 10, "online")
        before, _ = ana.do("note", text="before the cut")
        bob.wait_for(lambda: before in bob.arrivals, 5, "the note from before")

        relay.cut()
        ana.wait_for(lambda: not ana.status()["online"], 15, "offline from the team")
        written = {"ana": [], "bob": []}
        started = time.monotonic()
        i = 0
        while time.monotonic() - started < OUTAGE:
            for c in cs:
                written[c.actor].append(c.do("note", text=f"{c.actor} apart {i}")[0])
                written[c.actor].append(c.do("tick", item=f"item {c.actor} {i}")[0])
            i += 1
            time.sleep(0.5)  # noqa: ASYNC251 (the consoles are other processes)
        # Both edit the same field while apart: the later edit (by event time) wins everywhere.
        written["ana"].append(ana.do("field", field="theory", value="ana's theory")[0])
        time.sleep(0.05)  # noqa: ASYNC251
        written["bob"].append(bob.do("field", field="theory", value="bob's theory")[0])
        # Offline, it counts what waits to be replayed (the header shows it).
        ana.wait_for(
            lambda: ana.status()["pending"] == len(written["ana"]), 10, "the events to replay counted"
        )
        assert not ana.status()["online"]
        assert not any(e in bob.arrivals for e in written["ana"])  # nothing crossed while cut
        assert not any(e in ana.arrivals for e in written["bob"])

        relay.restore()
        everything = {*written["ana"], *written["bob"]}
        ana.wait_for(lambda: all(e in ana.arrivals for e in written["bob"]), 20, "bob's events after the cut")
        bob.wait_for(lambda: all(e in bob.arrivals for e in written["ana"]), 20, "ana's events after the cut")
        ana.wait_for(lambda: ana.status()["online"] and ana.status()["pending"] == 0, 10, "back online")

        final = same_everywhere(cs)  # the same events, the same order, the same state
        ids = [e[0] for e in final["events"]]
        assert len(ids) == len(set(ids)) == 2 + len(everything)  # the declaration, the note before
        assert everything <= set(ids)
        on_server = await shared_ids(pg_dsn)
        assert Counter(on_server) == Counter(ids)  # nothing lost, nothing twice
        assert final["fields"]["theory"] == "bob's theory"
        theories = [line for line in final["timeline"] if line.startswith("Current theory:")]
        assert theories == ["Current theory: ana's theory", "Current theory: bob's theory"]
        offline = [s for s in ana.statuses if not s["online"] and s["reason"]]
        assert offline and "shared database" in offline[-1]["reason"]
    finally:
        for c in cs:
            c.close()
        relay.close()


async def test_ten_writers_every_event_in_every_console(pg_dsn: str, tmp_path: Path) -> None:
    await shared_db(pg_dsn)
    names = [f"w{i}" for i in range(10)]
    cs = consoles(tmp_path, pg_dsn, *names)
    try:
        incident_id = cs[0].ask("declared", op="declare", severity="P0", title="Everything")["declared"]
        for c in cs[1:]:
            c.ask("joined", op="join", id=incident_id)
        every = 0.1
        count = int(WRITING / every)
        for c in cs:
            c.send(op="do", kind="note", text=f"from {c.actor}", repeat=count, every=every, quiet=True)
        for c in cs:
            c.expect("done", timeout=WRITING * 6 + 60)
        total = 1 + count * len(cs)
        for c in cs:
            c.wait_for(lambda c=c: len(c.arrivals) >= total - 1 - count, 60, "every other writer's events")
        final = same_everywhere(cs)
        ids = [e[0] for e in final["events"]]
        assert len(ids) == len(set(ids)) == total
        assert Counter(e[2] for e in final["events"][1:]) == dict.fromkeys(names, count)
        assert Counter(await shared_ids(pg_dsn)) == Counter(ids)
        print(f"\n10 writers, {count} events each over {WRITING:.0f} s: {total} events in every console")
    finally:
        for c in cs:
            c.close()
