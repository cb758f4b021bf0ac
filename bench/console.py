"""What the console benchmarks share: the database, repository and status pages they watch, tmux,
and what a process costs (CPU, RSS) read from /proc.

- :func:`watched`: an embedded PostgreSQL holding ``error_logs`` (``--rows``, ``--window-rows`` in
  the last hour: bench/tallies.py's shape, loaded by bench/db_first_data.py's ``prepare``) and
  ``sms_delivery_log``, the demo's git repository (a deploy 40 minutes ago), and an error spike
  written while the benchmark runs (300 errors/s, a poll interval's worth every 2 s, as in
  bench/tallies.py).
- :class:`Tmux`: its own tmux server (``tmux -L bench-...``), one session per command.
- :func:`cpu_ticks`, :func:`rss_kb`: the process's CPU time (its threads and the children it waited
  for, such as ``git``) and resident memory, from ``/proc/<pid>/stat`` and ``/proc/<pid>/status``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from db_first_data import prepare  # noqa: E402  (the same data as bench/db_first_data.py)
from tallies import machine, spike_sql  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Watched:
    dsn: str
    repo: Path
    version: str
    rows: int
    window_rows: int


def spike(dsn: str, stop: threading.Event, per_poll: int = 600, every: float = 2.0) -> None:
    """Insert a poll interval's worth of errors every ``every`` seconds until ``stop`` is set."""

    async def run() -> None:
        conn = await asyncpg.connect(dsn, server_settings={"application_name": "bench-spike"})
        try:
            while not stop.is_set():
                t0 = time.perf_counter()
                await conn.execute(spike_sql(per_poll, max(1, per_poll // 100)))
                await asyncio.sleep(max(0.0, every - (time.perf_counter() - t0)))
        finally:
            await conn.close()

    asyncio.run(run())


@contextlib.contextmanager
def watched(args: argparse.Namespace, root: Path) -> Iterator[Watched]:
    """The embedded server with the data, the demo repository, and the spike running meanwhile."""
    from warroom.demo import gitrepo
    from warroom.demo.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(root / "pg")
    server.start(watchdog=False)
    stop = threading.Event()
    writer: threading.Thread | None = None
    try:
        dsn, version = asyncio.run(prepare(args, server))

        async def counts() -> tuple[int, int]:
            conn = await asyncpg.connect(dsn)
            try:
                return (
                    await conn.fetchval("SELECT count(*) FROM error_logs"),
                    await conn.fetchval(
                        "SELECT count(*) FROM error_logs WHERE occurred_at > now() - interval '1 hour'"
                    ),
                )
            finally:
                await conn.close()

        rows, window = asyncio.run(counts())
        repo = root / "repo"
        if not gitrepo.is_valid(repo):
            gitrepo.build(repo, datetime.now(UTC) - timedelta(minutes=40))
        writer = threading.Thread(target=spike, args=(dsn, stop), name="bench-spike", daemon=True)
        writer.start()
        yield Watched(dsn, repo, version, rows, window)
    finally:
        stop.set()
        if writer is not None:
            writer.join(timeout=30)
        server.release(keep=bool(getattr(args, "keep", None)))
        if not getattr(args, "keep", None):
            server.remove()


class Tmux:
    """A tmux server of our own (``-L``), so other sessions on the machine are never touched."""

    def __init__(self, socket: str, size: tuple[int, int]) -> None:
        self.socket = socket
        self.size = size

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        ).stdout

    def start(self, session: str, command: str, env: dict[str, str], cwd: Path) -> int:
        """Start ``command`` (exec'd: the pane's process is the command's) and return its pid."""
        self.run("kill-session", "-t", session)
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        shell = f"cd {shlex.quote(str(cwd))} && exec env -u WARROOM_DSN -u DATABASE_URL {prefix} {command}"
        w, h = self.size
        subprocess.run(
            [
                "tmux",
                "-L",
                self.socket,
                "new-session",
                "-d",
                "-s",
                session,
                "-x",
                str(w),
                "-y",
                str(h),
                shell,
            ],
            check=True,
        )
        return int(self.run("display-message", "-p", "-t", session, "#{pane_pid}").strip())

    def screen(self, session: str) -> str:
        return self.run("capture-pane", "-p", "-t", session)

    def stop(self, session: str, quit_key: str = "q") -> None:
        self.run("send-keys", "-t", session, quit_key)
        end = time.perf_counter() + 10
        while time.perf_counter() < end and session in self.run("list-sessions", "-F", "#{session_name}"):
            time.sleep(0.05)
        self.run("kill-session", "-t", session)

    def kill_server(self) -> None:
        self.run("kill-server")


def declare(state: Path, cwd: Path) -> None:
    """A P0 incident in ``state``, declared now (so the tallies' declaration baseline is read)."""
    state.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "warroom", "--state-dir", str(state), "declare", "-s", "P0"]
    subprocess.run([*argv, "-t", "SMS campaigns failing"], check=True, capture_output=True, cwd=cwd)


def cpu_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime of ``pid`` (clock ticks; exited threads and waited-for
    children included)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise KeyError("VmRSS")


def idle_cpu(pid: int, seconds: float) -> float:
    """Percent of one core ``pid`` used over the next ``seconds``."""
    t0, c0 = time.perf_counter(), cpu_ticks(pid)
    time.sleep(seconds)
    t1, c1 = time.perf_counter(), cpu_ticks(pid)
    return 100 * (c1 - c0) / TICK / (t1 - t0)


def describe_machine(version: str) -> str:
    m = machine()
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lscpu if line.startswith("Model name")), m["cpu"])
    textual = subprocess.run(
        [sys.executable, "-c", "import textual; print(textual.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    load = os.getloadavg()[0]
    return (
        f"Machine: {model}, {m['nproc']} cores, {m['arch']} (shared with other sessions: load average "
        f"{load:.1f} at the end); Python {m['python']}; PostgreSQL {version} (embedded, on loopback); "
        f"Textual {textual}; tmux {tmux_version()}."
    )


def tmux_version() -> str:
    return subprocess.run(["tmux", "-V"], capture_output=True, text=True, check=False).stdout.split()[-1]


def temp_root(keep: str | None) -> Path:
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="warroom-bench-"))
