"""The journal under kill -9 and under several writers at once (real processes, one state dir)."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

import warroom
from warroom.incident import events as ev
from warroom.incident.journal import Journal

pytestmark = pytest.mark.slow


def child_env() -> dict[str, str]:
    """The environment for a child that imports the very same warroom as this test."""
    env = dict(os.environ)
    src = str(Path(warroom.__file__).resolve().parents[1])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


# -- durability --------------------------------------------------------------------------------

# Appends forever; after each append returns, writes "seq event_id incident_id" to stdout. Every
# tenth event is a new declaration, so kills also land inside the id-numbering transaction.
WRITER = r"""
import sys
from pathlib import Path
from warroom.incident import events as ev
from warroom.incident.journal import Journal

path, tag = Path(sys.argv[1]), sys.argv[2]
out = sys.stdout
j = Journal(path, actor="writer-" + tag)
ids = j.incident_ids()
incident = ids[-1] if ids else None
out.write("ready\n")
out.flush()
i = 0
while True:
    if incident is None or i % 10 == 0:
        e = j.declare("P0", f"stress {tag}-{i}")
        incident = e.incident_id
    else:
        e = j.append(incident, ev.NoteAdded(text=f"{tag}-{i} " + "x" * (i % 300)))
    out.write(f"{e.seq} {e.event_id} {e.incident_id}\n")
    out.flush()
    i += 1
"""


def _acknowledged(text: str) -> list[tuple[int, str, str]]:
    """The complete lines a killed writer left (a last, cut line was never acknowledged)."""
    lines = text.split("\n")
    complete = lines[:-1]  # after the last "\n": a partial line or ""
    acked = []
    for line in complete:
        if line == "ready":
            continue
        seq, event_id, incident_id = line.split(" ")
        acked.append((int(seq), event_id, incident_id))
    return acked


def _check_journal(path: Path, acked: dict[str, tuple[int, str]]) -> int:
    """Every acknowledged event is there with its seq; the file is sound; it folds."""
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()
    with Journal(path, actor="checker") as j:
        events = j.events()
        by_id = {e.event_id: e for e in events}
        missing = [eid for eid in acked if eid not in by_id]
        assert not missing, f"{len(missing)} acknowledged event(s) lost, first {missing[0]}"
        for eid, (seq, incident_id) in acked.items():
            assert (by_id[eid].seq, by_id[eid].incident_id) == (seq, incident_id)
        seqs = [e.seq for e in events]
        assert seqs == sorted(set(seqs))
        incidents = j.incidents()
        assert sum(len(i.events) for i in incidents) == len(events)
        ids = j.incident_ids()
        assert len(ids) == len(set(ids))
    return len(events)


def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.sqlite3"
    rng = random.Random(20261126)
    acked: dict[str, tuple[int, str]] = {}
    env = child_env()
    total_before = 0
    kills_while_writing = 0
    for round_no in range(20):
        out_path = tmp_path / f"round{round_no}.out"
        with out_path.open("wb") as out:
            child = subprocess.Popen(
                [sys.executable, "-c", WRITER, str(path), str(round_no)],
                stdout=out,
                stderr=subprocess.PIPE,
                env=env,
            )
            if round_no % 4 == 3:
                # Now and then, kill it early: while starting, opening or recovering the journal.
                time.sleep(rng.uniform(0.0, 0.3))
            else:
                # Wait for its first acknowledged event (so every such round counts), then let it
                # run a random while longer.
                deadline = time.monotonic() + 30
                while out_path.read_bytes().count(b"\n") < 2:
                    assert child.poll() is None, child.stderr.read().decode()  # type: ignore[union-attr]
                    assert time.monotonic() < deadline, "the writer never acknowledged an event"
                    time.sleep(0.005)
                time.sleep(rng.uniform(0.0, 0.12))
                kills_while_writing += 1
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            stderr = child.stderr.read().decode()  # type: ignore[union-attr]
            child.stderr.close()  # type: ignore[union-attr]
        assert child.returncode == -signal.SIGKILL, stderr
        assert "Traceback" not in stderr, stderr
        got = _acknowledged(out_path.read_text())
        for seq, event_id, incident_id in got:
            assert event_id not in acked
            acked[event_id] = (seq, incident_id)
        if path.exists() and path.stat().st_size > 0:
            total = _check_journal(path, acked)
            assert total >= total_before  # nothing that was there before disappeared
            total_before = total
    assert kills_while_writing == 15
    assert len(acked) >= 15
    # After all that, the journal is still a working journal.
    with Journal(path, actor="after") as j:
        incident = j.declare("P1", "after the storm").incident_id
        j.append(incident, ev.Resolved())
        assert j.load(incident).status == "resolved"


# -- several writers -------------------------------------------------------------------------

# Waits at a barrier (a line on stdin), then opens the journal and declares ``n`` incidents with
# three notes each, alternating between two UTC days; prints what it was acknowledged as JSON.
WORKER = r"""
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from warroom.incident import events as ev
from warroom.incident.journal import Journal

path, tag, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
days = (datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC), datetime(2026, 11, 27, 0, 0, 1, tzinfo=UTC))
state = {"i": 0}
print("ready", flush=True)
sys.stdin.readline()
j = Journal(path, actor=tag, clock=lambda: days[state["i"] % 2])
acked = []
for i in range(n):
    state["i"] = i
    d = j.declare("P1", f"{tag}-{i}")
    acked.append([d.seq, d.event_id, d.incident_id, "declared"])
    for k in range(3):
        e = j.append(d.incident_id, ev.NoteAdded(text=f"{tag}-{i}-{k}"))
        acked.append([e.seq, e.event_id, e.incident_id, "note"])
j.close()
print(json.dumps(acked), flush=True)
"""


@pytest.mark.parametrize(("processes", "per_process"), [(2, 25), (8, 12)])
def test_concurrent_writers(tmp_path: Path, processes: int, per_process: int) -> None:
    path = tmp_path / "shared-state" / "journal.sqlite3"  # not there yet: they create it together
    env = child_env()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), f"w{n}", str(per_process)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for n in range(processes)
    ]
    try:
        for c in children:
            assert c.stdout is not None and c.stdout.readline() == "ready\n", c.stderr.read()  # type: ignore[union-attr]
        for c in children:  # release them together
            assert c.stdin is not None
            c.stdin.write("go\n")
            c.stdin.flush()
        results = []
        for c in children:
            out, err = c.communicate(timeout=120)
            assert c.returncode == 0, err
            assert "Traceback" not in err
            results.append(json.loads(out))
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
                c.wait()

    all_acked = [row for rows in results for row in rows]
    assert len(all_acked) == processes * per_process * 4
    # Each writer saw its own sequence numbers strictly increase.
    for rows in results:
        seqs = [r[0] for r in rows]
        assert all(a < b for a, b in itertools.pairwise(seqs))
    # No two events share a sequence number or an id.
    assert len({r[0] for r in all_acked}) == len(all_acked)
    assert len({r[1] for r in all_acked}) == len(all_acked)
    # No duplicate incident id.
    declared = [r[2] for r in all_acked if r[3] == "declared"]
    assert len(set(declared)) == len(declared) == processes * per_process
    # Per UTC day, numbered 001.. without gaps.
    by_day: dict[str, list[int]] = defaultdict(list)
    for incident_id in declared:
        day, number = incident_id[4:14], int(incident_id[15:])
        by_day[day].append(number)
    assert set(by_day) == {"2026-11-26", "2026-11-27"}
    for numbers in by_day.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    # Nothing lost, nothing extra: the journal holds exactly what was acknowledged, in seq order.
    with Journal(path, actor="checker") as j:
        events = j.events()
        assert [(e.seq, e.event_id, e.incident_id) for e in events] == sorted(
            (r[0], r[1], r[2]) for r in all_acked
        )
        incidents = j.incidents()
        assert len(incidents) == len(declared)
        assert all(len(i.events) == 4 for i in incidents)
        assert sorted(i.title for i in incidents) == sorted(
            f"w{n}-{i}" for n in range(processes) for i in range(per_process)
        )
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()


def test_threads_sharing_one_journal(tmp_path: Path) -> None:
    """The console appends from its UI thread and its workers through one Journal object."""
    with Journal(tmp_path / "journal.sqlite3", actor="ana") as j:
        incident = j.declare("P1", "x").incident_id
        seen: list[int] = []
        lock = threading.Lock()
        errors: list[BaseException] = []

        def work(tag: int) -> None:
            try:
                for k in range(25):
                    e = j.append(incident, ev.NoteAdded(text=f"{tag}-{k}"))
                    with lock:
                        seen.append(e.seq)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sorted(seen) == list(range(2, 102))
        assert len(j.load(incident).events) == 101
