"""When each database pane first shows data after start, and how long health waits on a full read.

A PostgreSQL (embedded) with ``--rows`` error rows, ``--window-rows`` of them in the last hour, and
SMS deliveries; an incident declared 10 minutes ago, so the tallies' declaration baseline is read
too. Each measured run is a fresh process that starts :class:`PostgresSource.run` and records, in
seconds since ``run()`` was called, the first emitted ``DbPoll`` carrying each pane's data: health,
SMS, error rate, the tallies, the tallies with their declaration baseline. Then it watches two
scheduled full reads of the tallies (``--resync`` stands for ``[database] resync_interval``) and
records the longest time the health pane went without a new snapshot meanwhile ("health gap"; the
poll interval is the floor), and the most connections the console held at once
(client backends with ``application_name = 'warroom'``; its queries' parallel workers not counted).

Cases (each run with the built-in queries, and with ``--slow`` seconds added to every full read
of the tallies: a replaced ``error_tally`` that sleeps when ``$2`` is NULL, as on a database in
trouble):

- ``this tree``: the source as the working tree has it;
- ``--before DIR``: the source of another revision, extracted to ``DIR`` (``DIR/warroom``
  importable), e.g. ``git archive <rev> src | tar -x -C /tmp/before`` and ``--before /tmp/before/src``;
- ``two connections (emulated)``: two sources side by side on their own connections, one for the
  cheap panes (its tallies queries replaced by empty ones) and one for the tallies (its health,
  SMS and error-rate queries replaced by constant ones): what a second connection for the
  expensive reads would give, measured with this tree's code.

Runs alternate the cases in rotating order; the table gives medians of ``--runs`` runs.

Usage: ``python bench/db_first_data.py [--rows 2000000] [--window-rows 1000000] [--runs 5]
[--slow 5] [--before DIR] [--keep DIR] [--write]``; ``--write`` replaces this benchmark's section
in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from tallies import fill_sql, machine  # noqa: E402  (bench/tallies.py: the same data shape)
from warroom.settings import DatabaseSettings, ErrorSettings, Settings  # noqa: E402

FIELDS = ("health", "sms", "error_rate", "errors", "baseline")
SNAPSHOTS = {
    "health": "HealthSnapshot",
    "sms": "SmsSnapshot",
    "error_rate": "ErrorRateSnapshot",
    "errors": "TallySnapshot",
}
SLOW_WHERE = "WHERE {{time_column}} > $1::timestamptz"
# The emulation's stand-ins: the cheap source's tallies and the expensive source's other panes.
EMPTY_TALLIES = {
    "error_tally": "SELECT NULL::text AS error_type, NULL::text AS error_message, now() AS minute, "
    "0::bigint AS count, NULL::timestamptz AS first_at, NULL::timestamptz[] AS times WHERE false",
    "error_tally_ids": "SELECT NULL::bigint AS high, ARRAY[]::bigint[] AS ids",
    "error_tally_since": "SELECT 1::bigint AS id, now() AS at, ''::text AS error_type, "
    "''::text AS error_message WHERE false",
}
CONSTANT_PANES = {
    "db_health": "SELECT 100 AS max_connections, 0 AS total, 0 AS active, 0 AS waiting, 0 AS idle, "
    "0 AS idle_in_transaction",
    "sms_failures": "SELECT ''::text AS phone_number, ''::text AS error_message, 0::bigint AS count WHERE false",
    "error_rate": "SELECT now() AS minute, 0::bigint AS failed, 0::bigint AS total WHERE false",
}


# -- the measured process -------------------------------------------------------------------------------


def slow_tally_sql(seconds: float) -> str:
    """The built-in error_tally, sleeping ``seconds`` first when it is a full read ($2 NULL)."""
    from warroom.sources.postgres import sql_text

    sql = sql_text("error_tally")
    assert SLOW_WHERE in sql, "error_tally.sql changed: update the bench"
    sleep = f"(SELECT true FROM pg_sleep(CASE WHEN $2::timestamptz IS NULL THEN {seconds:g} ELSE 0 END))"
    return sql.replace(SLOW_WHERE, f"{SLOW_WHERE} AND {sleep}", 1)


def write_queries(folder: Path, queries: dict[str, str]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, sql in queries.items():
        path = folder / f"{name}.sql"
        path.write_text(sql)
        out[name] = path
    return out


async def child(args: argparse.Namespace) -> dict[str, float | None]:
    from warroom.sources.postgres import PostgresSource

    loop = asyncio.get_running_loop()
    state = Path(tempfile.mkdtemp(prefix="warroom-first-"))
    slow = write_queries(state / "slow", {"error_tally": slow_tally_sql(args.slow)}) if args.slow else {}
    declared = datetime.now(UTC) - timedelta(minutes=10)

    def source(queries: dict[str, Path]) -> PostgresSource:
        settings = Settings(
            state_dir=state,
            database=DatabaseSettings(
                dsn=args.dsn,
                poll_interval=timedelta(seconds=args.interval),
                resync_interval=timedelta(seconds=args.resync),
                queries=queries,
            ),
            errors=ErrorSettings(),
        )
        return PostgresSource(settings, declared_at=declared)

    if args.emulate_two:
        cheap = source(write_queries(state / "cheap", EMPTY_TALLIES))
        costly = source({**slow, **write_queries(state / "costly", CONSTANT_PANES)})
        roles = [(cheap, {"health", "sms", "error_rate"}), (costly, {"errors", "baseline"})]
    else:
        one = source(slow)
        roles = [(one, set(FIELDS))]

    start = loop.time()
    first: dict[str, float] = {}
    health_at: list[float] = []
    full_reads: list[float] = []
    last: dict[str, object] = {}

    def emitter(fields: set[str]):
        def emit(poll) -> None:
            t = loop.time() - start
            for name in fields & set(SNAPSHOTS):
                data = getattr(poll, name)
                if name not in first and type(data).__name__ == SNAPSHOTS[name]:
                    first[name] = t
                if type(data).__name__ == "QueryFailure":
                    print(f"{name}: {data.describe()}", file=sys.stderr)
            errors = poll.errors
            if "baseline" in fields and type(errors).__name__ == "TallySnapshot":
                if errors.baseline_total is not None and "baseline" not in first:
                    first["baseline"] = t
                if errors.full_read and errors.fetched_at != last.get("errors"):
                    full_reads.append(t)
                last["errors"] = errors.fetched_at
            health = poll.health
            if (
                "health" in fields
                and type(health).__name__ == "HealthSnapshot"
                and health.fetched_at != last.get("health")
            ):
                last["health"] = health.fetched_at
                health_at.append(t)

        return emit

    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run(emitter(fields), stop)) for s, fields in roles]
    held = 0
    watcher = await asyncpg.connect(args.dsn, server_settings={"application_name": "bench"})

    async def watch(until, within: float) -> None:
        nonlocal held
        deadline = loop.time() + within
        while not until() and loop.time() < deadline:
            n = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'warroom' AND datname = current_database() AND backend_type = 'client backend'"
            )
            held = max(held, int(n))
            await asyncio.sleep(0.05)

    try:
        await watch(lambda: all(f in first for f in FIELDS), 120)
        t_all = loop.time() - start
        # Scheduled full reads ([database] resync_interval): the health pane's longest wait meanwhile.
        await watch(lambda: False, 2 * args.resync + args.slow + args.interval)
        stamps = [t for t in health_at if t >= t_all]
        gap = max((b - a for a, b in itertools.pairwise(stamps)), default=None)
        if not any(t > t_all for t in full_reads):
            print("no scheduled full read was seen", file=sys.stderr)
            gap = None
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await watcher.close()
        shutil.rmtree(state, ignore_errors=True)
    return {**{f: first.get(f) for f in FIELDS}, "health gap": gap, "connections": float(held)}


# -- the driver ---------------------------------------------------------------------------------------


def run_child(
    args: argparse.Namespace, dsn: str, src: str | None, slow: float, emulate: bool
) -> dict[str, float | None]:
    cmd = [sys.executable, __file__, "--child", "--dsn", dsn, "--slow", str(slow)]
    cmd += ["--interval", str(args.interval), "--resync", str(args.resync)]
    cmd += ["--emulate-two"] if emulate else []
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    if p.returncode != 0:
        raise SystemExit(f"the measured run failed:\n{p.stderr}")
    return json.loads(p.stdout.splitlines()[-1])


async def prepare(args: argparse.Namespace, server: object) -> tuple[str, str]:
    admin = await asyncpg.connect(server.dsn())  # type: ignore[attr-defined]
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = 'bench_first'"):
        await admin.execute("CREATE DATABASE bench_first")
    await admin.close()
    dsn = server.dsn("bench_first")  # type: ignore[attr-defined]
    conn = await asyncpg.connect(dsn)
    from warroom.sources.postgres import schema_sql

    have = await conn.fetchval("SELECT to_regclass('error_logs') IS NOT NULL")
    count = await conn.fetchval("SELECT count(*) FROM error_logs") if have else 0
    recent = (
        await conn.fetchval("SELECT count(*) FROM error_logs WHERE occurred_at > now() - interval '1 hour'")
        if have
        else 0
    )
    if count < args.rows or recent < 0.9 * args.window_rows:
        await conn.execute("DROP TABLE IF EXISTS error_logs; DROP TABLE IF EXISTS sms_delivery_log")
        await conn.execute(schema_sql())
        old = args.rows - args.window_rows
        t0 = time.perf_counter()
        print(f"loading {args.rows:,} error rows...", file=sys.stderr)
        await conn.execute(
            fill_sql(old, "now() - interval '48 hours'", "interval '47 hours' - interval '1 minute'", False),
            timeout=3600,
        )
        await conn.execute(
            fill_sql(args.window_rows, "now() - interval '1 hour'", "interval '1 hour'", True), timeout=3600
        )
        await conn.execute(
            """
            INSERT INTO sms_delivery_log (created_at, phone_number, delivery_status, error_message)
            SELECT now() - random() * interval '1 hour', '+4477009' || lpad((g % 5000)::text, 5, '0'),
                   CASE WHEN random() < 0.05 THEN 'failed' ELSE 'delivered' END,
                   'Twilio 3000' || (g % 7)
            FROM generate_series(1, 100000) AS g
            """,
            timeout=3600,
        )
        await conn.execute("VACUUM ANALYZE", timeout=3600)
        print(f"loaded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    version = await conn.fetchval("SHOW server_version")
    await conn.close()
    return dsn, version


def main(args: argparse.Namespace) -> str:
    from warroom.demo.embedded import EmbeddedPostgres

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="warroom-bench-"))
    server = EmbeddedPostgres(root / "pg")
    server.start()
    results: dict[tuple[str, bool], list[dict[str, float | None]]] = {}
    try:
        dsn, version = asyncio.run(prepare(args, server))
        variants: list[tuple[str, str | None, bool]] = [("this tree", None, False)]
        if args.before:
            variants.append(("before", args.before, False))
        variants.append(("two connections (emulated)", None, True))
        cases = [(v, slow) for v in variants for slow in (False, True)]
        for r in range(args.runs):
            for i in range(len(cases)):
                (label, src, emulate), slow = cases[(i + r) % len(cases)]
                out = run_child(args, dsn, src, args.slow if slow else 0.0, emulate)
                results.setdefault((label, slow), []).append(out)
                print(f"run {r + 1}/{args.runs}: {label}{', slow' if slow else ''}: {out}", file=sys.stderr)
    finally:
        server.release()
        if not args.keep:
            server.remove()
            shutil.rmtree(root, ignore_errors=True)
    return report(results, machine(), version, args)


def median(values: list[float | None]) -> str:
    got = [v for v in values if v is not None]
    if not got:
        return "-"
    return f"{statistics.median(got):.2f}" + (
        "" if len(got) == len(values) else f" ({len(got)}/{len(values)})"
    )


def report(
    results: dict[tuple[str, bool], list[dict[str, float | None]]],
    m: dict[str, str],
    version: str,
    args: argparse.Namespace,
) -> str:
    lines = [
        f"## db_first_data: each database pane's first data after start ({m['date']})",
        "",
        f"Machine: {m['cpu']}, {m['nproc']} cores, {m['arch']} (shared, noisy); PostgreSQL {version} "
        f"(embedded, on loopback); Python {m['python']}; asyncpg {m['asyncpg']}.",
        "",
        f"error_logs: {args.rows:,} rows, {args.window_rows:,} in the last hour; 100,000 SMS deliveries; "
        f"an incident declared 10 min before start (so the declaration baseline is read too); poll "
        f"interval {args.interval:g} s. Seconds from `run()` to the first poll carrying each pane's "
        f"data, medians of {args.runs} runs per case, cases alternated. `slow`: every full read of the "
        f"tallies takes {args.slow:g} s more (a replaced error_tally with pg_sleep). Health gap: the "
        f"longest time without a new health snapshot over two scheduled full reads (resync_interval "
        f"{args.resync:g} s; the poll interval is the floor). Connections: the most the console held "
        "at once.",
        "",
        "| case | health | SMS | error rate | tallies | baseline | health gap | connections |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (label, slow), runs in results.items():
        cells = [median([r[f] for r in runs]) for f in (*FIELDS, "health gap")]
        conns = max((r["connections"] or 0) for r in runs)
        lines.append(f"| {label}{', slow' if slow else ''} | {' | '.join(cells)} | {conns:.0f} |")
    before = f" --before {args.before}" if args.before else ""
    lines += [
        "",
        f"Command: `python bench/db_first_data.py --rows {args.rows} --window-rows {args.window_rows} "
        f"--runs {args.runs} --slow {args.slow:g} --resync {args.resync:g}{before} --write`.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    path = BENCH / "RESULTS.md"
    current = path.read_text()
    start = current.find("## db_first_data:")
    if start >= 0:
        end = current.find("\n## ", start + 1)
        current = current[:start] + (current[end + 1 :] if end >= 0 else "")
    path.write_text(current.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--window-rows", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--slow", type=float, default=5.0, help="seconds added to each full read (slow cases)")
    p.add_argument("--interval", type=float, default=2.0, help="poll interval in seconds")
    p.add_argument("--resync", type=float, default=8.0, help="resync_interval in seconds (full reads)")
    p.add_argument("--before", help="a folder holding another revision's warroom package, to compare")
    p.add_argument("--keep", help="keep the server and data in this folder (reused next time)")
    p.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--dsn", help=argparse.SUPPRESS)
    p.add_argument("--emulate-two", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(asyncio.run(child(a))))
    else:
        out = main(a)
        print(out)
        if a.write:
            write_section(out)
