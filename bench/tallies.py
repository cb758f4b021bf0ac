"""Database time per poll cycle of the error tallies: incremental against the playbook's query.

A table of 5M error rows, 1M of them in the last hour (about 300 errors/s: a realistic spike),
ids in time order. Each round inserts the next poll interval's worth of new rows (300/s x 2 s
= 600, a few of them late), then measures, side by side and in rotating order:

- ``incremental (id)``: one poll of the errors pane as the console runs it (BEGIN READ ONLY,
  snapshot, rows with id > watermark), the database time the pane reports;
- ``incremental (time)``: the same with no id column (re-read of the last 10 s by time);
- ``playbook query``: the playbook's "top 10 errors in the last hour" as written;
- ``playbook + per-minute``: that query plus the per-minute totals a non-incremental console
  would also need for its sparkline and trend;
- ``full read``: the incremental source's full read (at start, every resync_interval, after a
  reconnect), measured a few times.

The whole thing runs with an index on the time column, then again without it (dropped), in one
run. Times are client wall-clock milliseconds around each query (round trips included: a
loopback connection). At the end of each scenario the tallies are checked against the playbook's
query at the same instant.

Usage: ``python bench/tallies.py [--rows 5000000] [--window-rows 1000000] [--rounds 41]
[--keep DIR] [--write] [--json FILE]``; ``--write`` replaces this benchmark's section in
bench/RESULTS.md, ``--json`` writes the medians for bench/compare_revisions.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from warroom.settings import DatabaseSettings, ErrorSettings, Settings
from warroom.sources.postgres import PostgresSource, schema_sql
from warroom.sources.tallies import TallySnapshot

PLAYBOOK = """
SELECT error_type, error_message, COUNT(*) as count
FROM error_logs
WHERE occurred_at > NOW() - INTERVAL '1 hour'
GROUP BY error_type, error_message
ORDER BY count DESC
LIMIT 10
"""
PER_MINUTE = """
SELECT date_trunc('minute', occurred_at) AS minute, count(*)
FROM error_logs
WHERE occurred_at > NOW() - INTERVAL '1 hour'
GROUP BY 1 ORDER BY 1
"""
AT_INSTANT = """
SELECT error_type, error_message, COUNT(*) FROM error_logs
WHERE occurred_at > $1::timestamptz - interval '1 hour' GROUP BY 1, 2
"""

# (error_type, error_message): the first few dominate the spike, the rest are background noise.
PAIRS = [
    ("SmsSendTimeout", "sms-sender: Twilio request timed out after 10000 ms"),
    ("TwilioError", "Twilio 30003: Unreachable destination handset"),
    ("DatabaseError", "remaining connection slots are reserved for non-replication superuser connections"),
    ("EdgeFunctionError", "campaign-dispatch: 504 Gateway Timeout"),
    ("TwilioError", "Twilio 30005: Unknown destination handset"),
    ("TwilioError", "Twilio 30007: Message filtered (carrier violation)"),
    ("DatabaseError", "canceling statement due to statement timeout"),
    ("RateLimitError", "Twilio 20429: Too Many Requests"),
    ("ValidationError", "invalid phone number format"),
    ("AuthError", "JWT expired"),
    ("EdgeFunctionError", "sms-status-webhook: 500 Internal Server Error"),
    ("DatabaseError", "deadlock detected"),
    ("TypeError", "Cannot read properties of undefined (reading 'campaign_id')"),
    ("NetworkError", "fetch failed: ECONNRESET"),
    ("TwilioError", "Twilio 21610: Attempt to send to unsubscribed recipient"),
    ("CampaignError", "campaign is paused"),
    ("StorageError", "object not found: templates/default.json"),
    ("AuthError", "invalid API key"),
    ("EdgeFunctionError", "campaign-scheduler: worker boot error"),
    ("DatabaseError", 'duplicate key value violates unique constraint "sms_delivery_log_pkey"'),
]
SPIKE = 4  # the first SPIKE pairs carry most of the spike


def pairs_sql() -> str:
    return ", ".join(
        f"({i + 1}, '{t}', '{m.replace(chr(39), chr(39) * 2)}')" for i, (t, m) in enumerate(PAIRS)
    )


def fill_sql(n: int, start: str, span: str, spike: bool) -> str:
    """n rows spread evenly over [start, start + span), in time (and so id) order."""
    n_pairs = len(PAIRS)
    pick = (
        f"CASE WHEN random() < 0.8 THEN 1 + floor(random() * {SPIKE})::int "
        f"ELSE 1 + floor(random() * {n_pairs})::int END"
        if spike
        else f"1 + floor(power(random(), 2) * {n_pairs})::int"
    )
    return f"""
    WITH pairs(k, t, m) AS (VALUES {pairs_sql()}),
    rows AS (
        SELECT g, {start} + ({span}) * (g::float8 / {n}) AS at, {pick} AS k
        FROM generate_series(0, {n - 1}) AS g
    )
    INSERT INTO error_logs (occurred_at, error_type, error_message, source)
    SELECT rows.at, pairs.t, pairs.m, 'bench'
    FROM rows JOIN pairs USING (k)
    ORDER BY rows.g
    """


def spike_sql(n: int, late: int) -> str:
    """The rows of one poll interval: n new ones (now, minus up to 2 s) and a few late ones."""
    return f"""
    WITH pairs(k, t, m) AS (VALUES {pairs_sql()}),
    rows AS (
        SELECT g,
               CASE WHEN g < {late} THEN now() - random() * interval '50 minutes'
                    ELSE now() - random() * interval '2 seconds' END AS at,
               CASE WHEN random() < 0.8 THEN 1 + floor(random() * {SPIKE})::int
                    ELSE 1 + floor(random() * {len(PAIRS)})::int END AS k
        FROM generate_series(0, {n - 1}) AS g
    )
    INSERT INTO error_logs (occurred_at, error_type, error_message, source)
    SELECT rows.at, pairs.t, pairs.m, 'bench' FROM rows JOIN pairs USING (k)
    """


@dataclass
class Samples:
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, ms: float) -> None:
        self.values.setdefault(name, []).append(ms)

    def median(self, name: str) -> float:
        return statistics.median(self.values[name])

    def p90(self, name: str) -> float:
        v = sorted(self.values[name])
        return v[min(len(v) - 1, round(0.9 * (len(v) - 1)))]

    def n(self, name: str) -> int:
        return len(self.values.get(name, []))


async def timed(conn: asyncpg.Connection, sql: str) -> float:
    t0 = time.perf_counter()
    await conn.fetch(sql)
    return (time.perf_counter() - t0) * 1000


def source_for(dsn: str, state: Path, *, id_column: str) -> PostgresSource:
    settings = Settings(
        state_dir=state,
        database=DatabaseSettings(dsn=dsn),
        errors=ErrorSettings(id_column=id_column),
    )
    return PostgresSource(settings, declared_at=None)


async def errors_poll(source: PostgresSource) -> TallySnapshot:
    poll = await source.poll_once()
    if not isinstance(poll.errors, TallySnapshot):
        raise SystemExit(f"the errors pane failed: {poll.errors}")
    return poll.errors


async def scenario(dsn: str, state: Path, rounds: int, per_poll: int, late: int, label: str) -> Samples:
    s = Samples()
    writer = await asyncpg.connect(dsn)
    plain = await asyncpg.connect(dsn)
    by_id = source_for(dsn, state, id_column="id")
    by_time = source_for(dsn, state, id_column="")
    try:
        for src, name in ((by_id, "full read (id)"), (by_time, "full read (time)")):
            t0 = time.perf_counter()
            snap = await errors_poll(src)
            assert snap.full_read
            s.add(name, snap.db_ms)
            if src is by_id:
                s.add("full read (id), wall", (time.perf_counter() - t0) * 1000)
        cases = ["incremental (id)", "incremental (time)", "playbook query", "playbook + per-minute"]
        for r in range(rounds):
            await writer.execute(spike_sql(per_poll, late))
            order = cases[r % len(cases) :] + cases[: r % len(cases)]
            for case in order:
                if case == "incremental (id)":
                    t0 = time.perf_counter()
                    snap = await errors_poll(by_id)
                    if not snap.full_read:
                        s.add(case, snap.db_ms)
                        s.add("whole poll cycle (id), wall", (time.perf_counter() - t0) * 1000)
                elif case == "incremental (time)":
                    snap = await errors_poll(by_time)
                    if not snap.full_read:
                        s.add(case, snap.db_ms)
                elif case == "playbook query":
                    s.add(case, await timed(plain, PLAYBOOK))
                else:
                    s.add(case, await timed(plain, PLAYBOOK) + await timed(plain, PER_MINUTE))
            if r % 10 == 9:  # a full read now and then, as resync_interval does
                by_id.retry("errors")
                t0 = time.perf_counter()
                s.add("full read (id)", (await errors_poll(by_id)).db_ms)
                s.add("full read (id), wall", (time.perf_counter() - t0) * 1000)
            print(f"  {label}: round {r + 1}/{rounds}", file=sys.stderr, end="\r")
        print(file=sys.stderr)
        # The tallies against the playbook's query at the same instant. Without an id column, rows
        # arriving later than the overlap (the late ones here) are counted by the next full read.
        by_time.retry("errors")
        for src, name in ((by_id, "identical (id)"), (by_time, "identical (time, after a full read)")):
            snap = await errors_poll(src)
            ref = await plain.fetch(AT_INSTANT, snap.as_of)
            got, want = src.tallies.counts(), {(r[0], r[1]): r[2] for r in ref}
            s.values[name] = [1.0 if got == want else 0.0]
            if got != want:
                diff = {
                    k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)
                }
                print(f"  {label}: {name}: differences {diff}", file=sys.stderr)
        s.values["window rows"] = [float(snap.total)]
    finally:
        await by_id.close()
        await by_time.close()
        await writer.close()
        await plain.close()
    return s


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip(),
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "arch": subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip(),
        "cpu": cpu,
        "python": platform.python_version(),
        "asyncpg": asyncpg.__version__,
    }


async def main(args: argparse.Namespace) -> str:
    from warroom.demo.embedded import EmbeddedPostgres

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="warroom-bench-"))
    server = EmbeddedPostgres(root / "pg")
    server.start()
    try:
        admin = await asyncpg.connect(server.dsn())
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = 'bench_tallies'")
        if not exists:
            await admin.execute("CREATE DATABASE bench_tallies")
        await admin.close()
        dsn = server.dsn("bench_tallies")
        conn = await asyncpg.connect(dsn)
        version = await conn.fetchval("SHOW server_version")
        have = await conn.fetchval("SELECT to_regclass('error_logs') IS NOT NULL")
        count = await conn.fetchval("SELECT count(*) FROM error_logs") if have else 0
        in_window = (
            await conn.fetchval(
                "SELECT count(*) FROM error_logs WHERE occurred_at > now() - interval '1 hour'"
            )
            if have
            else 0
        )
        if count < args.rows or in_window < 0.9 * args.window_rows:  # missing or too old (--keep)
            await conn.execute("DROP TABLE IF EXISTS error_logs")
            await conn.execute(schema_sql())
            await conn.execute("DROP INDEX IF EXISTS error_logs_occurred_at_idx")
            old = args.rows - args.window_rows
            t0 = time.perf_counter()
            print(f"loading {old:,} old rows...", file=sys.stderr)
            await conn.execute(
                fill_sql(
                    old, "now() - interval '48 hours'", "interval '47 hours' - interval '1 minute'", False
                ),
                timeout=3600,
            )
            print(f"loading {args.window_rows:,} rows in the last hour...", file=sys.stderr)
            await conn.execute(
                fill_sql(args.window_rows, "now() - interval '1 hour'", "interval '1 hour'", True),
                timeout=3600,
            )
            await conn.execute("VACUUM ANALYZE error_logs", timeout=3600)
            print(f"loaded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        state = root / "state"
        state.mkdir(exist_ok=True)
        per_poll = round(args.rate * args.interval)
        late = max(1, per_poll // 100)
        results: dict[str, Samples] = {}
        for label, index in (("with index", True), ("without index", False)):
            if index:
                await conn.execute(
                    "CREATE INDEX IF NOT EXISTS error_logs_occurred_at_idx ON error_logs (occurred_at)",
                    timeout=3600,
                )
            else:
                await conn.execute("DROP INDEX IF EXISTS error_logs_occurred_at_idx")
            await conn.execute("ANALYZE error_logs", timeout=3600)
            table = await conn.fetchval("SELECT count(*) FROM error_logs")
            print(f"{label}: {table:,} rows in the table", file=sys.stderr)
            results[label] = await scenario(dsn, state, args.rounds, per_poll, late, label)
            results[label].values["table rows"] = [float(table)]
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('error_logs'))")
        await conn.close()
    finally:
        server.release(keep=bool(args.keep))
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        medians = {label: {name: s.median(name) for name in s.values} for label, s in results.items()}
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(medians, indent=1))
    return report(results, machine(), version, size, args, per_poll, late)


def report(
    results: dict[str, Samples],
    m: dict[str, str],
    version: str,
    size: str,
    args: argparse.Namespace,
    per_poll: int,
    late: int,
) -> str:
    w, wo = results["with index"], results["without index"]
    rows = [
        "incremental (id)",
        "incremental (time)",
        "playbook query",
        "playbook + per-minute",
        "full read (id)",
        "full read (time)",
        "whole poll cycle (id), wall",
        "full read (id), wall",
    ]
    inc = "incremental (id)"
    lines = [
        "## tallies: database time per poll of the error tallies (" + m["date"] + ")",
        "",
        f"Machine: {m['cpu']}, {m['nproc']} cores, {m['arch']} (shared, noisy); PostgreSQL {version} "
        f"(embedded, shared_buffers 64MB, on loopback); Python {m['python']}; asyncpg {m['asyncpg']}.",
        "",
        f"error_logs: {w.values['table rows'][0]:,.0f} rows ({size} with indexes), "
        f"{w.values['window rows'][0]:,.0f} in the last hour (about "
        f"{w.values['window rows'][0] / 3600:.0f} errors/s); each round adds {per_poll} rows "
        f"({args.rate:g}/s for a {args.interval:g} s poll; {late} of them late, up to 50 min old). "
        f"{args.rounds} rounds per scenario, cases interleaved in rotating order; client wall-clock "
        "ms per poll (round trips included).",
        "",
        "| case | with index: median | p90 | n | without index: median | p90 | n |"
        " median vs incremental (id), with / without |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in rows:
        if not w.n(name) or not wo.n(name):
            continue
        lines.append(
            f"| {name} | {w.median(name):.2f} | {w.p90(name):.2f} | {w.n(name)} | "
            f"{wo.median(name):.2f} | {wo.p90(name):.2f} | {wo.n(name)} | "
            f"{w.median(name) / w.median(inc):.0f}x / {wo.median(name) / wo.median(inc):.0f}x |"
        )
    ident = all(s.values[k] == [1.0] for s in (w, wo) for k in s.values if k.startswith("identical"))
    target = max(w.median(inc), wo.median(inc))
    lines += [
        "",
        "Tallies identical to the playbook's query at the same instant after each scenario (id mode "
        "as polled; time mode after its next full read, since its late rows are older than the overlap): "
        f"{'yes' if ident else 'NO'}. Target: one incremental poll under 5 ms during the spike: "
        f"median {w.median(inc):.2f} ms with the index, {wo.median(inc):.2f} ms without "
        f"({'met' if target < 5 else 'NOT met'}).",
        "",
        "Command: `/tmp/wv/bin/python bench/tallies.py --write` (defaults: 5,000,000 rows, 1,000,000 "
        "in the window, 41 rounds, 300 errors/s, 2 s polls). The incremental poll (id) is three round "
        "trips: `BEGIN READ ONLY` (the poll cycle's read-only transaction, committed at the end of "
        "the cycle), the snapshot (server clock, transaction horizon) and the rows with id above the "
        "watermark (a primary-key range scan), so it does not depend on the time index; "
        "without an id column the poll re-reads the last 10 s by time, which needs that index. "
        "The full read (at start, every 5 min, after a reconnect) aggregates the window per "
        "error and minute (exact times for the oldest minutes; the 500 largest errors one by one, "
        "the others as one group per minute), one REPEATABLE READ transaction. "
        "The whole poll cycle is `poll_once()` end to end: every pane's query (health, SMS and error "
        "rate on empty tables here) and the Python work of updating the tallies and building the "
        "snapshot; `full read (id), wall` likewise for a poll that does the full read (the Python part "
        "is the event loop's time, unavailable to the UI meanwhile).",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    path = Path(__file__).with_name("RESULTS.md")
    header = (
        "# Benchmark results\n\nEach section: the benchmark script, the date, the machine it ran on, "
        "medians (and the ratios measured side by side in the same run). Re-run a script to refresh "
        "its section.\n\n"
    )
    current = path.read_text() if path.exists() else header
    start = current.find("## tallies:")
    if start >= 0:
        end = current.find("\n## ", start + 1)
        current = current[:start] + (current[end + 1 :] if end >= 0 else "")
    path.write_text(current.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--window-rows", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=41)
    p.add_argument("--rate", type=float, default=300.0, help="new errors per second")
    p.add_argument("--interval", type=float, default=2.0, help="poll interval in seconds")
    p.add_argument("--keep", help="keep the server and data in this folder (reused next time)")
    p.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    p.add_argument("--json", help="also write each case's medians to this file (bench/compare_revisions.py)")
    a = p.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    out = asyncio.run(main(a))
    print(out)
    if a.write:
        write_section(out)
