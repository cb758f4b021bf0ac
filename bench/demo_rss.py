"""Resident memory of `warroom demo` over a long session, in a real terminal (tmux).

Starts `warroom demo` (fresh state dir: embedded PostgreSQL with its error spike, the demo
repository, the stand-in status pages) in tmux at ``--size``, waits until every pane is populated
(the markers of bench/demo_start.py), then reads ``VmRSS`` (and ``VmHWM``, the peak) from
``/proc/<pid>/status`` of the console's process every ``--every`` seconds for ``--minutes``.
Growth is the last sample minus the first one taken once populated (start-up allocations
excluded); the target (issue 12) is at most 70 MB after 30 minutes, growing less than 5 MB.

    python bench/demo_rss.py [--minutes 30] [--every 60] [--size 200x60] [--json FILE] [--write]
    python bench/demo_rss.py --from-json FILE --write   (the section again, from a saved run)

Uses its own tmux server (``tmux -L bench-rss``); the state dir and the demo's embedded server
are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
MARKERS = ("errors/min", "Connections", "errors rose", "deploy", "Supabase", "Twilio", "INCIDENT DECLARED")
SOCKET = "bench-rss"  # the tmux server's socket (--socket: two runs side by side)


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=False).stdout


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def main(args: argparse.Namespace) -> dict[str, object]:
    from bytecode import compile_warroom

    compile_warroom()  # as pip installs it (bench/bytecode.py)
    w, h = (int(x) for x in args.size.split("x"))
    state = Path(tempfile.mkdtemp(prefix="warroom-rss-"))
    session = "bench-rss"
    cmd = (
        f"exec env WARROOM_STATE_DIR={shlex.quote(str(state))} TERM=xterm-256color "
        f"{shlex.quote(sys.executable)} -m warroom demo"
    )
    start = time.perf_counter()
    subprocess.run(
        ["tmux", "-L", SOCKET, "new-session", "-d", "-s", session, "-x", str(w), "-y", str(h), cmd],
        check=True,
    )
    samples: list[tuple[float, int]] = []
    try:
        pid = int(tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())
        while not all(m in tmux("capture-pane", "-p", "-t", session) for m in MARKERS):
            if time.perf_counter() - start > 120:
                raise SystemExit("the demo was not populated within 120 s")
            time.sleep(0.1)
        populated = time.perf_counter() - start
        print(f"populated after {populated:.2f} s, pid {pid}", file=sys.stderr)
        t0 = time.perf_counter()
        end = t0 + args.minutes * 60
        while True:
            now = time.perf_counter()
            samples.append((now - t0, status_kb(pid, "VmRSS")))
            print(f"  {samples[-1][0] / 60:5.1f} min: {samples[-1][1] / 1024:.1f} MB", file=sys.stderr)
            if now >= end:
                break
            time.sleep(min(args.every, max(0.0, end - time.perf_counter())))
        peak = status_kb(pid, "VmHWM")
        alive = "INCIDENT DECLARED" in tmux("capture-pane", "-p", "-t", session)
    finally:
        tmux("send-keys", "-t", session, "q")
        deadline = time.perf_counter() + 20
        while time.perf_counter() < deadline and session in tmux("list-sessions", "-F", "#{session_name}"):
            time.sleep(0.2)
        tmux("kill-server")
        shutil.rmtree(state, ignore_errors=True)
    first, last = samples[0][1], samples[-1][1]
    return {
        "date": time.strftime("%a %b %d %H:%M UTC %Y", time.gmtime()),
        "size": args.size,
        "minutes": args.minutes,
        "populated_s": populated,
        "first_mb": first / 1024,
        "last_mb": last / 1024,
        "growth_mb": (last - first) / 1024,
        "max_mb": max(kb for _, kb in samples) / 1024,
        "peak_hwm_mb": peak / 1024,
        "still_on_screen": alive,
        "samples": [(round(t, 1), round(kb / 1024, 2)) for t, kb in samples],
    }


def report(out: dict[str, object]) -> str:
    sys.path.insert(0, str(BENCH))
    from console import describe_machine

    samples: list[tuple[float, float]] = out["samples"]  # type: ignore[assignment]
    by_5 = [s for s in samples if round(s[0] / 60) % 5 == 0]
    row = " | ".join(f"{mb:.1f}" for _, mb in by_5)
    head = " | ".join(f"{t / 60:.0f}" for t, _ in by_5)
    last, growth = out["last_mb"], out["growth_mb"]
    return "\n".join(
        [
            f"## demo_rss: RSS of `warroom demo` over {out['minutes']:g} minutes ({out['date']})",
            "",
            describe_machine("as the demo embeds it"),
            "",
            f"`warroom demo` on a fresh state dir, every pane populated after {out['populated_s']:.1f} s; "
            "VmRSS of the console's process (`/proc/<pid>/status`) every minute from then on (the "
            "embedded PostgreSQL and the demo's generator are other processes, not counted).",
            "",
            f"| minute | {head} |",
            "|---|" + "---:|" * len(by_5),
            f"| RSS (MB) | {row} |",
            "",
            f"After {out['minutes']:g} minutes: {last:.1f} MB (target at most 70 MB: "
            f"{'met' if float(last) <= 70 else 'not met'}); growth since populated {growth:+.1f} MB "  # type: ignore[arg-type]
            f"(target under 5 MB: {'met' if float(growth) < 5 else 'not met'}); highest sample "  # type: ignore[arg-type]
            f"{out['max_mb']:.1f} MB, peak (VmHWM) {out['peak_hwm_mb']:.1f} MB.",
            "",
            f"Command: `python bench/demo_rss.py --minutes {out['minutes']:g} --size {out['size']} --write`.",
            "",
        ]
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--every", type=float, default=60, help="seconds between samples")
    p.add_argument("--size", default="200x60")
    p.add_argument("--socket", default=SOCKET, help="tmux socket name (to run two side by side)")
    p.add_argument("--json", help="write the result (with every sample) to this file")
    p.add_argument("--from-json", help="report a run saved with --json instead of running")
    p.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    a = p.parse_args()
    SOCKET = a.socket
    out = json.loads(Path(a.from_json).read_text()) if a.from_json else main(a)
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    text = report(out)
    print(text)
    if a.write:
        from idle import write_section

        write_section(text, "## demo_rss:")
