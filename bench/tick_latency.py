"""Key to screen for a checklist tick, journal fsync included, while the sources poll during an
error spike (issue 12's target: p95 at most 50 ms).

The console runs on a pseudo-terminal of our own (``--size``, 200x60), not in tmux: the benchmark
writes the key (a space on the highlighted item of the P0 actions list) to the terminal and reads
what the console writes back, timestamping each read. A press is answered when the output, its
escape sequences removed, shows the list's new count (``1/8`` after a tick, ``0/8`` after the
untick that follows). That is the console's own latency: key read, the event appended to the
journal and fsync'd, the checklist re-rendered and the frame written to the terminal; what a
terminal emulator then takes to paint is the emulator's, the same for any program (tmux's
``capture-pane`` polling would add its own few milliseconds and CPU to every sample). No Pilot:
Pilot drives the app inside its own loop and skips the driver, the terminal and the frame write.

Cases, alternated press by press in two consoles running side by side:

- ``polling``: the console with the database (bench/console.py: 5M error rows, 1M in the last
  hour, an error spike written meanwhile), the demo's git repository and two status pages;
- ``no data source``: the console alone.

``--presses`` presses per case (ticks and unticks alternate), at random intervals of 0.2-0.8 s so
they land anywhere in the poll cycle.

Usage: ``python bench/tick_latency.py [--presses 200] [--size 200x60] [--keep DIR] [--write]``
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from console import declare, describe_machine, temp_root, watched  # noqa: E402
from idle import config_text, write_section  # noqa: E402

ESCAPE = re.compile(
    rb"\x1b(\[[0-9;?<>=!]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|[()][0-9A-Za-z]|[=>78DEHMc])"
)


class Terminal:
    """A process on a pseudo-terminal of ``size``; its output read and timestamped by a thread."""

    def __init__(self, argv: list[str], size: tuple[int, int], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, start_new_session=True
        )
        os.close(slave)
        self.lock = threading.Lock()
        self.text = bytearray()  # output, escape sequences removed
        self.arrived = threading.Condition(self.lock)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        pending = b""
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            data = pending + data
            cut = data.rfind(b"\x1b")
            pending, data = (data[cut:], data[:cut]) if cut >= 0 and len(data) - cut < 64 else (b"", data)
            with self.lock:
                self.text += ESCAPE.sub(b"", data)
                self.arrived.notify_all()

    def mark(self) -> int:
        with self.lock:
            return len(self.text)

    def wait_for(self, needle: bytes, since: int, timeout: float) -> float | None:
        """perf_counter() when ``needle`` first showed after offset ``since``, or None."""
        end = time.perf_counter() + timeout
        with self.lock:
            while needle not in self.text[since:]:
                left = end - time.perf_counter()
                if left <= 0:
                    return None
                self.arrived.wait(left)
            return time.perf_counter()

    def press(self, key: bytes) -> float:
        t = time.perf_counter()
        os.write(self.master, key)
        return t

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def percentile(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(p * (len(v) - 1)))]


def main(args: argparse.Namespace) -> str:
    from bytecode import compile_warroom
    from warroom.demo.standin import StatusStandIn

    compile_warroom()  # as pip installs it (bench/bytecode.py)
    root = temp_root(args.keep)
    size = tuple(int(x) for x in args.size.split("x"))
    samples: dict[str, list[float]] = {"polling": [], "no data source": []}
    terms: dict[str, Terminal] = {}
    standin = StatusStandIn().start()
    try:
        with watched(args, root) as data:
            work = root / "tick"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            env = {k: v for k, v in os.environ.items() if k not in ("WARROOM_DSN", "DATABASE_URL")}
            env["TERM"] = "xterm-256color"
            for name, kind in (("polling", "data"), ("no data source", "none")):
                state = work / f"state-{kind}"
                state.mkdir()
                declare(state, work)
                cfg = work / f"warroom-{kind}.toml"
                cfg.write_text(config_text(kind, data.dsn, data.repo, standin.base_url, work / "unused.sql"))
                argv = [sys.executable, "-m", "warroom", "--config", str(cfg), "--state-dir", str(state)]
                terms[name] = Terminal(argv, size, work, env)
            for name, term in terms.items():
                if term.wait_for(b"0/8", 0, 30) is None:
                    raise SystemExit(f"{name}: the P0 actions list did not show")
            time.sleep(args.settle)  # every pane populated, the first full read done
            rng = random.Random(12)
            ticked = dict.fromkeys(terms, False)
            for i in range(2 * args.presses):
                name = list(terms)[i % 2]
                term = terms[name]
                want = b"0/8" if ticked[name] else b"1/8"
                since = term.mark()
                t0 = term.press(b" ")
                t1 = term.wait_for(want, since, 5)
                if t1 is None:
                    raise SystemExit(f"{name}: press {i // 2} not answered within 5 s")
                ticked[name] = not ticked[name]
                samples[name].append((t1 - t0) * 1000)
                if ticked[name]:  # a tick moves the cursor to the next unticked item: back up to untick it
                    term.press(b"k")
                time.sleep(rng.uniform(0.2, 0.8))
                if i % 20 == 19:
                    print(f"  {i + 1}/{2 * args.presses}", file=sys.stderr, end="\r")
            print(file=sys.stderr)
            version, rows, window = data.version, data.rows, data.window_rows
    finally:
        for term in terms.values():
            term.close()
        standin.close()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(samples))
    return report(samples, describe_machine(version), rows, window, args)


def report(
    samples: dict[str, list[float]], machine: str, rows: int, window: int, args: argparse.Namespace
) -> str:
    lines = [
        f"## tick_latency: key to screen for a checklist tick, journal fsync included ({time.strftime('%a %b %d %H:%M UTC %Y', time.gmtime())})",
        "",
        machine,
        "",
        f"Two consoles side by side on pseudo-terminals of {args.size}, presses alternated between them: "
        f"one watching the database ({rows:,} error rows, {window:,} in the last hour at the start, an "
        "error spike of 300 errors/s written meanwhile), the demo's repository and two status pages; "
        "one with no data source. "
        f"{args.presses} presses each (space: tick, then k back to the item and space: untick, on the P0 actions list; k not timed), 0.2-0.8 s "
        "apart; milliseconds from writing the key to the terminal until the console's output shows the "
        "list's new count.",
        "",
        "| case | median | p90 | p95 | p99 | max | n |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, v in samples.items():
        lines.append(
            f"| {name} | {statistics.median(v):.1f} | {percentile(v, 0.9):.1f} | {percentile(v, 0.95):.1f} "
            f"| {percentile(v, 0.99):.1f} | {max(v):.1f} | {len(v)} |"
        )
    p95 = percentile(samples["polling"], 0.95)
    base = percentile(samples["no data source"], 0.95)
    lines += [
        "",
        f"Target: p95 at most 50 ms while the sources poll: {p95:.1f} ms ({'met' if p95 <= 50 else 'not met'}; "
        f"{p95 / base:.2f}x the console with no data source in the same run).",
        "",
        f"Command: `python bench/tick_latency.py --presses {args.presses} --size {args.size} --write`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--presses", type=int, default=200)
    p.add_argument("--size", default="200x60")
    p.add_argument("--settle", type=float, default=5.0, help="seconds after start before the first press")
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--window-rows", type=int, default=1_000_000)
    p.add_argument("--keep", help="keep the server and data in this folder (reused next time)")
    p.add_argument("--json", help="write every sample to this file")
    p.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    a = p.parse_args()
    out = main(a)
    print(out)
    if a.write:
        write_section(out, "## tick_latency:")
