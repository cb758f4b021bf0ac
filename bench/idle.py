"""Idle CPU, first frame, every pane's first data and RSS of the console, side by side with
pg_activity and a bare Textual app, in tmux (issue 12's targets).

One embedded PostgreSQL holds ``error_logs`` (5M rows, 1M in the last hour: bench/tallies.py's
shape) and ``sms_delivery_log``; an error spike is written while the benchmark runs (300
errors/s). Cases, each a fresh process in tmux at ``--size`` (200x60), run in rotating order,
``--runs`` times:

- ``warroom``: the console with that database, the demo's git repository and two status pages
  (bench/console.py: a fresh :class:`StatusStandIn` on 127.0.0.1 per run) polling; a P0 declared
  at the start of the benchmark, so the tallies' declaration baseline is read too;
- ``warroom, 10 s full read``: the same, with every full read of the tallies taking ``--slow``
  seconds more (error_tally replaced with bench/db_first_data.py's pg_sleep version;
  ``resync_timeout`` raised to let it finish): the cheap panes must not wait for it;
- ``pg_activity``: pg_activity (``--pg-activity``, installed in a venv of its own with
  psycopg[binary]) on the same database;
- ``bare Textual app``: an App showing one line;
- ``bare Textual app, 1 s clock``: an App that paints, once a second, what the console's clock
  changes: a header line across the screen with the elapsed time, a countdown in Textual's
  ``Digits`` inside a bordered box, and a phase line with its time (what any console showing a
  countdown to the second must paint: the floor for the console with no data source);
- ``warroom, no data source``: the console with no database, repository or status page.

For each run: seconds from launching the command to its first frame (the incident id in the
header; pg_activity's header; the bare app's line), and for the console to each pane's first data
on screen (the markers in :data:`PANES`); then, ``--settle`` seconds after every pane showed its
data, the CPU the process used over ``--measure`` seconds (``/proc/<pid>/stat``: its threads and
the children it waited for, such as ``git``; percent of one core, 10 ms ticks) and its RSS. The
SMS pane sits in a tab not shown at start: its first data is measured at the source by
bench/db_first_data.py.

Usage: ``python bench/idle.py [--runs 5] [--size 200x60] [--measure 15] [--settle 5] [--slow 10]
[--pg-activity /tmp/pgact-venv/bin/pg_activity] [--keep DIR] [--write]``
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from console import Tmux, declare, describe_machine, idle_cpu, rss_kb, temp_root, watched  # noqa: E402
from db_first_data import slow_tally_sql  # noqa: E402

BARE_APP = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("BARE-READY")

Bare().run()
"""

# What the console repaints each second with no data source: the header (T+ to the second), the
# timer's digits and the phase line, in the same layout (a 46-column bordered column at the left).
CLOCK_APP = """
import time
from textual.app import App
from textual.containers import Vertical
from textual.widgets import Digits, Static

class Clock(App):
    CSS = "#left { width: 48; height: auto; border: round $primary; } #head { dock: top; height: 1; }"

    def compose(self):
        yield Static("CLOCK-READY", id="head")
        with Vertical(id="left"):
            yield Digits("15:00", id="digits")
            yield Static("", id="phase")

    def on_mount(self):
        self.t0 = time.monotonic()
        self.set_interval(1, self.tick)

    def tick(self):
        s = int(time.monotonic() - self.t0)
        self.query_one("#head", Static).update(
            f" CLOCK-READY  P0 CRITICAL  SMS campaigns failing  Investigating  T+{s}s  DEPLOY FREEZE"
        )
        left = 900 - s
        self.query_one("#digits", Digits).update(f"{left // 60:02d}:{left % 60:02d}")
        self.query_one("#phase", Static).update(f"1 Detection  {s}s / 5min")

Clock().run()
"""
# What each pane shows once it has its data (a placeholder shows none of these).
PANES = {
    "tallies": re.compile(r"errors/min [▲▼▶]"),
    "health": re.compile(r"Connections \d+/\d+"),
    "error rate": re.compile(r"resolve at <"),
    "commits": re.compile(r"deploy: production"),
    "status pages": re.compile(r" UPSTREAM "),
}
CHEAP = ("health", "error rate", "commits", "status pages")


@dataclass
class Case:
    name: str
    command: str
    first_frame: str  # text of the first frame
    panes: tuple[str, ...] = ()
    quit_key: str = "q"
    config: str | None = None  # "data", "slow", "none": which warroom.toml


@dataclass
class Run:
    first_frame: float
    panes: dict[str, float] = field(default_factory=dict)
    cpu: float = 0.0
    rss_mb: float = 0.0


def config_text(kind: str, dsn: str, repo: Path, base_url: str, slow_sql: Path) -> str:
    if kind == "none":
        return "status_pages = []\n"
    text = (
        f'[database]\ndsn = "{dsn}"\n'
        f'[git]\nrepo = "{repo}"\n'
        f'[[status_pages]]\nname = "Supabase"\nurl = "{base_url}/supabase"\n'
        f'[[status_pages]]\nname = "Twilio"\nurl = "{base_url}/twilio"\n'
    )
    if kind == "slow":
        text = text.replace(
            "[git]", f'resync_timeout = "60s"\n[database.queries]\nerror_tally = "{slow_sql}"\n[git]', 1
        )
    return text


def one_run(tmux: Tmux, case: Case, env: dict[str, str], cwd: Path, args: argparse.Namespace) -> Run:
    session = "bench-" + re.sub(r"\W+", "-", case.name)
    start = time.perf_counter()
    pid = tmux.start(session, case.command, env, cwd)
    try:
        first: float | None = None
        seen: dict[str, float] = {}
        deadline = start + 60
        while first is None or len(seen) < len(case.panes):
            screen = tmux.screen(session)
            t = time.perf_counter() - start
            if first is None and case.first_frame in screen:
                first = t
            for name in case.panes:
                if name not in seen and PANES[name].search(screen):
                    seen[name] = t
            if time.perf_counter() > deadline:
                missing = [p for p in case.panes if p not in seen]
                raise SystemExit(
                    f"{case.name}: not shown after 60 s: {missing or case.first_frame}\n{screen}"
                )
            time.sleep(0.01)
        time.sleep(args.settle)
        cpu = idle_cpu(pid, args.measure)
        rss = rss_kb(pid) / 1024
        return Run(first, seen, cpu, rss)
    finally:
        tmux.stop(session, case.quit_key)


def main(args: argparse.Namespace) -> str:
    from bytecode import compile_warroom
    from warroom.demo.standin import StatusStandIn

    compile_warroom()  # as pip installs it (bench/bytecode.py)
    root = temp_root(args.keep)
    w, h = (int(x) for x in args.size.split("x"))
    tmux = Tmux("bench-idle", (w, h))
    py = shlex.quote(sys.executable)
    results: dict[str, list[Run]] = {}
    try:
        with watched(args, root) as data:
            work = root / "idle"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            (work / "bare.py").write_text(BARE_APP)
            (work / "clock.py").write_text(CLOCK_APP)
            slow_sql = work / "slow_error_tally.sql"
            slow_sql.write_text(slow_tally_sql(args.slow))
            states = {}
            for kind in ("data", "slow", "none"):
                state = work / f"state-{kind}"
                state.mkdir()
                states[kind] = state
                declare(state, work)
            panes = tuple(PANES)
            cases = [
                Case("warroom", "", "INC-", panes, config="data"),
                Case(f"warroom, {args.slow:g} s full read", "", "INC-", panes, config="slow"),
                Case("pg_activity", f"{shlex.quote(args.pg_activity)} {shlex.quote(data.dsn)}", "PostgreSQL"),
                Case("bare Textual app", f"{py} {work / 'bare.py'}", "BARE-READY", quit_key="C-q"),
                Case(
                    "bare Textual app, 1 s clock", f"{py} {work / 'clock.py'}", "CLOCK-READY", quit_key="C-q"
                ),
                Case("warroom, no data source", "", "INC-", config="none"),
            ]
            env = {"TERM": "xterm-256color"}
            for r in range(args.runs + 1):  # the first round warms the page cache, not counted
                for i in range(len(cases)):
                    case = cases[(i + r) % len(cases)]
                    standin = StatusStandIn().start() if case.config else None
                    try:
                        if case.config and standin is not None:
                            cfg = work / f"warroom-{case.config}.toml"
                            cfg.write_text(
                                config_text(case.config, data.dsn, data.repo, standin.base_url, slow_sql)
                            )
                            state = states[case.config]
                            case.command = f"{py} -m warroom --config {cfg} --state-dir {state}"
                        run = one_run(tmux, case, env, work, args)
                    finally:
                        if standin is not None:
                            standin.close()
                    if r > 0:
                        results.setdefault(case.name, []).append(run)
                    print(f"round {r}/{args.runs} {case.name}: {run}", file=sys.stderr)
            version, rows, window = data.version, data.rows, data.window_rows
    finally:
        tmux.kill_server()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(
            json.dumps({k: [vars(r) for r in v] for k, v in results.items()}, indent=1)
        )
    return report(results, describe_machine(version), rows, window, args)


def med(values: list[float]) -> float:
    return statistics.median(values)


def report(
    results: dict[str, list[Run]], machine: str, rows: int, window: int, args: argparse.Namespace
) -> str:
    runs = args.runs
    lines = [
        f"## idle: idle CPU, first frame, every pane's first data and RSS, in tmux ({time.strftime('%a %b %d %H:%M UTC %Y', time.gmtime())})",
        "",
        machine,
        "",
        f"error_logs: {rows:,} rows, {window:,} in the last hour at the start, an error spike written "
        f"meanwhile (300 errors/s); 100,000 SMS deliveries; the demo's git repository; two status pages "
        f"(the demo's stand-in on 127.0.0.1). tmux {args.size}. Medians of {runs} runs per case, cases "
        f"in rotating order after one warm-up round. Idle CPU: percent of one core over {args.measure:g} s, "
        f"{args.settle:g} s after every pane showed its data (`/proc/<pid>/stat`, the process and the "
        "children it waited for; 10 ms ticks, so one tick is "
        f"{100 * 0.01 / args.measure:.3f} points). RSS at the end of that window.",
        "",
        "| case | first frame (s) | idle CPU (% of a core) | min-max | RSS (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, rs in results.items():
        cpus = [r.cpu for r in rs]
        lines.append(
            f"| {name} | {med([r.first_frame for r in rs]):.2f} | {med(cpus):.2f} | "
            f"{min(cpus):.2f}-{max(cpus):.2f} | {med([r.rss_mb for r in rs]):.1f} |"
        )
    pg = med([r.cpu for r in results["pg_activity"]])
    bare = med([r.cpu for r in results["bare Textual app"]])
    wr = med([r.cpu for r in results["warroom"]])
    none = med([r.cpu for r in results["warroom, no data source"]])
    clock = med([r.cpu for r in results["bare Textual app, 1 s clock"]])
    ff_w = med([r.first_frame for r in results["warroom"]])
    ff_pg = med([r.first_frame for r in results["pg_activity"]])
    lines += [
        "",
        f"Ratios in this run: warroom / pg_activity idle CPU {wr / pg:.1f}x (target at most 3x, and at "
        f"most 1 % of a core: {wr:.2f} %); no data source minus the bare app {none - bare:+.2f} points "
        f"(target within 0.3), minus the bare app with a 1 s clock {none - clock:+.2f} points; first "
        f"frame warroom / pg_activity {ff_w / ff_pg:.2f}.",
        "",
        "Seconds from launch to each pane's first data on screen (medians; the target: every pane "
        "within 1.5 s, and health, SMS, commits and status pages within 1.5 s when the full read takes "
        f"{args.slow:g} s more):",
        "",
        "| case | " + " | ".join(PANES) + " | every pane |",
        "|---|" + "---:|" * (len(PANES) + 1),
    ]
    for name, rs in results.items():
        if not rs[0].panes:
            continue
        cells = [f"{med([r.panes[p] for r in rs]):.2f}" for p in PANES]
        every = med([max(r.panes.values()) for r in rs])
        cheap = med([max(r.panes[p] for p in CHEAP) for r in rs])
        lines.append(f"| {name} | {' | '.join(cells)} | {every:.2f} (cheap ones {cheap:.2f}) |")
    lines += [
        "",
        f"Command: `python bench/idle.py --runs {runs} --size {args.size} --measure {args.measure:g} "
        f"--settle {args.settle:g} --slow {args.slow:g} --write` (pg_activity: `python3 -m venv "
        "/tmp/pgact-venv && /tmp/pgact-venv/bin/pip install pg_activity 'psycopg[binary]'`).",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str, title: str = "## idle:") -> None:
    path = BENCH / "RESULTS.md"
    current = path.read_text()
    start = current.find(title)
    if start >= 0:
        end = current.find("\n## ", start + 1)
        current = current[:start] + (current[end + 1 :] if end >= 0 else "")
    path.write_text(current.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--size", default="200x60")
    p.add_argument("--measure", type=float, default=15.0, help="seconds of idle CPU measured")
    p.add_argument("--settle", type=float, default=5.0, help="seconds after every pane showed data")
    p.add_argument("--slow", type=float, default=10.0, help="seconds added to each full read (slow case)")
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--window-rows", type=int, default=1_000_000)
    p.add_argument("--pg-activity", default="/tmp/pgact-venv/bin/pg_activity")
    p.add_argument("--keep", help="keep the server and data in this folder (reused next time)")
    p.add_argument("--json", help="write every run's numbers to this file")
    p.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    a = p.parse_args()
    out = main(a)
    print(out)
    if a.write:
        write_section(out)
