"""Shared war room: time from an event written on one console to its arrival in another, under
load (issue 13).

Consoles are separate processes, each with its own journal and the real sync engine
(tests/sharedconsole.py: :class:`warroom.shared.room.SharedRoom` without a screen), on one
embedded PostgreSQL on loopback. One console (the probe) writes ``--events`` notes at random
intervals of 20-80 ms; ``--readers`` consoles time each note's arrival: the moment the sync
engine has merged it into their journal (fsync'd) and hands it to the console (``on_events``;
the console then folds it and repaints in the same loop, see bench/tick_latency.py for that
part). Meanwhile ``--load`` other consoles each write a note every 100 ms, so the database, the
notifications and every journal are busy. Latency = arrival time - write time (both wall clock
on this machine; the write time is taken before the journal's fsync).

Usage: ``python bench/shared_latency.py [--events 300] [--readers 2] [--load 7] [--write]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))

from idle import write_section  # noqa: E402
from sharedhelpers import ConsoleProcess  # noqa: E402

TITLE = "## shared_latency:"


async def prepare(dsn: str) -> tuple[str, str]:
    import asyncpg

    from warroom.shared.schema import connect, init

    name = f"shared_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        version = await admin.fetchval("SHOW server_version")
    finally:
        await admin.close()
    db = dsn.rsplit("/", 1)[0] + f"/{name}"
    conn = await connect(db, 5)
    try:
        await init(conn)
    finally:
        await conn.close()
    return db, str(version)


def cpu_model() -> str:
    import subprocess

    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
    found = (line.split(":", 1)[1].strip() for line in out if line.startswith("Model name"))
    return next(found, platform.machine())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(a: argparse.Namespace) -> str:
    from warroom.demo.embedded import EmbeddedPostgres

    root = Path(tempfile.mkdtemp(prefix="warroom-bench-shared-"))
    server = EmbeddedPostgres(root / "pg")
    server.start()
    consoles: list[ConsoleProcess] = []
    try:
        dsn, version = asyncio.run(prepare(server.dsn()))
        probe = ConsoleProcess(root / "probe", dsn, "probe")
        consoles.append(probe)
        incident_id = probe.ask("declared", op="declare", severity="P0", title="bench")["declared"]
        readers = [ConsoleProcess(root / f"r{i}", dsn, f"reader{i}") for i in range(a.readers)]
        load = [ConsoleProcess(root / f"l{i}", dsn, f"load{i}") for i in range(a.load)]
        consoles += readers + load
        for c in readers + load:
            c.ask("joined", op="join", id=incident_id)
        for c in consoles:
            c.wait_for(lambda c=c: c.status()["online"], 20, "online")
        for c in load:
            c.send(op="do", kind="note", text=f"load from {c.actor}", repeat=100_000, every=0.1, quiet=True)
        time.sleep(2)  # the load running
        written: list[tuple[str, float]] = []
        began = time.monotonic()
        for i in range(a.events):
            written.append(probe.do("note", text=f"probe {i}"))
            time.sleep(random.uniform(0.02, 0.08))
        took = time.monotonic() - began
        latencies: list[float] = []
        for r in readers:
            for event_id, _ in written:
                r.wait_for(lambda r=r, e=event_id: e in r.arrivals, 30, "every probe event")
            latencies += [(r.arrivals[e] - t) * 1000 for e, t in written]
        load_events = sum(len(c.arrivals) for c in readers) / max(1, len(readers)) - a.events
        elapsed = took
    finally:
        for c in consoles:
            if c.actor.startswith("load"):
                c.proc.kill()  # busy writing for ever: it would read "quit" only after that
            c.close()
        server.release()
        server.remove()
        shutil.rmtree(root, ignore_errors=True)
    cpu = os.cpu_count()
    load_avg = os.getloadavg()[0]
    over = sum(1 for v in latencies if v >= 1000)
    return "\n".join(
        [
            f"{TITLE} an event from one console to another, under load ({time.strftime('%Y-%m-%d')})",
            "",
            f"Machine: {cpu_model()}, {cpu} cores (shared with other sessions: "
            f"load average {load_avg:.1f} at the end); Python {platform.python_version()}; PostgreSQL {version} "
            "(embedded, on loopback).",
            "",
            f"{len(consoles)} console processes, each with its own journal (WAL, synchronous=FULL) and the "
            f"sync engine: 1 probe writing {a.events} notes at random 20-80 ms intervals, {a.readers} readers "
            f"timing their arrival, {a.load} consoles writing a note every 100 ms each meanwhile "
            f"(about {a.load * 10} events/s; each reader merged about {load_events:.0f} of them during the "
            f"probe's ~{elapsed:.0f} s). Arrival: merged into the reader's journal and handed to the console "
            "(`on_events`); the console's fold and repaint after that are in tick_latency.",
            "",
            "| samples | p50 | p95 | p99 | max | over 1 s |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {len(latencies)} | {statistics.median(latencies):.1f} ms | {pct(latencies, 95):.1f} ms | "
            f"{pct(latencies, 99):.1f} ms | {max(latencies):.1f} ms | {over} |",
            "",
            f"Command: `python bench/shared_latency.py --events {a.events} --readers {a.readers} --load {a.load}`.",
            "",
        ]
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--events", type=int, default=300)
    p.add_argument("--readers", type=int, default=2)
    p.add_argument("--load", type=int, default=7)
    p.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    args = p.parse_args()
    out = run(args)
    print(out)
    if args.write:
        write_section(out, TITLE)
