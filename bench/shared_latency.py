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

With ``--screen`` the readers are consoles with a screen: the real app (``WarroomApp``, headless
``App.run_test`` at 160x48, its shared room started from ``[shared] dsn`` like ``warroom join``
then ``warroom``), and a note's arrival is the moment the first frame holding its text is
rendered for the terminal (the app's ``_display``, where a terminal console writes its frame):
event written on one console to its text on another console's screen.

Usage: ``python bench/shared_latency.py [--events 300] [--readers 2] [--load 7] [--screen] [--write]``
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
SCREEN_TITLE = "## shared_latency --screen:"
MARK = "seen{}:"  # a probe note's text: what a screen reader looks for in the frames
SCREEN_SIZE = (160, 100)  # the wide layout, tall: the timeline shows ~50 rows (at 70 events/s a
# shorter one can scroll a note past between two frames: it is then never on screen)


def screen_reader(state_dir: Path, dsn: str, incident_id: str, actor: str) -> None:
    """One reader with a screen (its own process): joins the incident, runs the console headless
    and prints ``{"seen": n, "t": wall clock}`` the first time a frame shows probe note ``n``."""
    import json
    import re
    from dataclasses import replace

    from textual._compositor import CompositorUpdate

    from warroom.config import load_settings
    from warroom.incident.journal import Journal
    from warroom.shared.room import join
    from warroom.ui.app import WarroomApp

    marks = re.compile(MARK.format(r"(\d+)"))
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings = load_settings(env={}, state_dir=state_dir, config=None, user=actor)
    settings = replace(
        settings,
        shared=replace(settings.shared, dsn=dsn),
        status=replace(settings.status, pages=()),
        bell=False,
    )
    journal = Journal(settings.journal_path, actor=actor)
    asyncio.run(join(journal, dsn, 5.0, incident_id))
    seen: set[int] = set()

    def say(obj: dict[str, object]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    class ScreenApp(WarroomApp):
        def _display(self, screen, renderable):  # type: ignore[no-untyped-def]
            if isinstance(renderable, CompositorUpdate):
                now = time.time()
                for m in marks.finditer(renderable.render_segments(self.console)):
                    n = int(m.group(1))
                    if n not in seen:
                        seen.add(n)
                        say({"seen": n, "t": now})
            super()._display(screen, renderable)

    async def main() -> None:
        app = ScreenApp(settings, journal=journal, incident_id=incident_id, watch_terminal=False, blink=False)
        async with app.run_test(size=SCREEN_SIZE) as pilot:
            while app.team.status is None or not app.team.status.online:
                await pilot.pause(0.05)
            say({"ready": True})
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, sys.stdin.readline)  # until told (or stdin closed)
        say({"bye": True})

    asyncio.run(main())


class ScreenProcess:
    """A :func:`screen_reader` in its own process: ``seen`` maps probe note numbers to when
    their text was first on its screen."""

    def __init__(self, state_dir: Path, dsn: str, incident_id: str, actor: str) -> None:
        import json
        import subprocess
        import threading

        env = dict(os.environ)
        env["PYTHONPATH"] = str(BENCH.parent / "src")
        self.actor = actor
        self.seen: dict[int, float] = {}
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--screen-reader",
                str(state_dir),
                dsn,
                incident_id,
                actor,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                msg = json.loads(line)
                if "seen" in msg:
                    self.seen[msg["seen"]] = msg["t"]
                elif "ready" in msg:
                    self.ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not self.ready.wait(60):
            self.close()
            raise RuntimeError(f"{actor}: the console was not online with the team within 60 s")

    def close(self) -> None:
        import subprocess

        if self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


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
    screens: list[ScreenProcess] = []
    missing: list[int] = []  # probe notes a screen never showed (scrolled past between frames)
    try:
        dsn, version = asyncio.run(prepare(server.dsn()))
        probe = ConsoleProcess(root / "probe", dsn, "probe")
        consoles.append(probe)
        incident_id = probe.ask("declared", op="declare", severity="P0", title="bench")["declared"]
        readers = (
            [] if a.screen else [ConsoleProcess(root / f"r{i}", dsn, f"reader{i}") for i in range(a.readers)]
        )
        load = [ConsoleProcess(root / f"l{i}", dsn, f"load{i}") for i in range(a.load)]
        consoles += readers + load
        for c in readers + load:
            c.ask("joined", op="join", id=incident_id)
        for c in consoles:
            c.wait_for(lambda c=c: c.status()["online"], 20, "online")
        if a.screen:
            screens += [
                ScreenProcess(root / f"s{i}", dsn, incident_id, f"screen{i}") for i in range(a.readers)
            ]
        for c in load:
            c.send(op="do", kind="note", text=f"load from {c.actor}", repeat=100_000, every=0.1, quiet=True)
        time.sleep(2)  # the load running
        written: list[tuple[str, float]] = []
        began = time.monotonic()
        for i in range(a.events):
            written.append(probe.do("note", text=MARK.format(i) if a.screen else f"probe {i}"))
            time.sleep(random.uniform(0.02, 0.08))
        took = time.monotonic() - began
        latencies: list[float] = []
        for r in readers:
            for event_id, _ in written:
                r.wait_for(lambda r=r, e=event_id: e in r.arrivals, 30, "every probe event")
            latencies += [(r.arrivals[e] - t) * 1000 for e, t in written]
        for sr in screens:
            deadline = time.monotonic() + 60
            while len(sr.seen) < len(written) and time.monotonic() < deadline:
                time.sleep(0.1)
            missing += [i for i in range(len(written)) if i not in sr.seen]
            latencies += [(sr.seen[i] - t) * 1000 for i, (_, t) in enumerate(written) if i in sr.seen]
        load_events = (
            sum(len(c.arrivals) for c in readers) / max(1, len(readers)) - a.events if readers else 0.0
        )
        elapsed = took
    finally:
        for sr in screens:
            sr.close()
        for c in consoles:
            if c.actor.startswith("load"):
                c.proc.kill()  # busy writing for ever: it would read "quit" only after that
            try:
                c.close()
            except BrokenPipeError:  # a killed console's stdin, flushed on close: it is gone anyway
                pass
        server.release()
        server.remove()
        shutil.rmtree(root, ignore_errors=True)
    cpu = os.cpu_count()
    load_avg = os.getloadavg()[0]
    over = sum(1 for v in latencies if v >= 1000)
    if a.screen:
        return screen_section(
            a, latencies, len(consoles) + len(screens), version, over, elapsed, len(missing)
        )
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


def screen_section(
    a: argparse.Namespace,
    latencies: list[float],
    processes: int,
    version: str,
    over: int,
    elapsed: float,
    missing: int,
) -> str:
    return "\n".join(
        [
            f"{SCREEN_TITLE} an event from one console to another console's screen, under load "
            f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
            "",
            f"Machine: {cpu_model()}, {os.cpu_count()} cores (shared with other sessions, noisy: load average "
            f"{os.getloadavg()[0]:.1f} at the end); Python {platform.python_version()}; PostgreSQL {version} "
            "(embedded, on loopback).",
            "",
            f"{processes} processes: 1 probe console writing {a.events} notes at random 20-80 ms intervals, "
            f"{a.load} consoles writing a note every 100 ms each (about {a.load * 10} events/s), and "
            f"{a.readers} consoles with a screen (the real app, headless at {SCREEN_SIZE[0]}x{SCREEN_SIZE[1]}, "
            "shared room from `[shared] dsn`). Latency: the note written (wall clock, before the "
            "writer's fsync) to the first frame of the reader's screen that holds its text (rendered "
            f"for the terminal in `_display`); the probe wrote for ~{elapsed:.0f} s.",
            "",
            "| samples | p50 | p95 | p99 | max | over 1 s | never on screen |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {len(latencies)} | {statistics.median(latencies):.1f} ms | {pct(latencies, 95):.1f} ms | "
            f"{pct(latencies, 99):.1f} ms | {max(latencies):.1f} ms | {over} | {missing} |",
            "",
            f"Command: `python bench/shared_latency.py --screen --events {a.events} --readers {a.readers} "
            f"--load {a.load}`.",
            "",
        ]
    )


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--screen-reader":
        screen_reader(Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
        sys.exit(0)
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--events", type=int, default=300)
    p.add_argument("--readers", type=int, default=2)
    p.add_argument("--load", type=int, default=7)
    p.add_argument("--screen", action="store_true", help="readers are consoles with a screen")
    p.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    args = p.parse_args()
    out = run(args)
    print(out)
    if args.write:
        write_section(out, SCREEN_TITLE if args.screen else TITLE)
