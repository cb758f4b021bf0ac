"""Time from `warroom demo` start until every pane is populated, in a real terminal (tmux).

"Populated" means the screen shows, at once: the error tallies (errors/min), database health
(Connections), the deploy correlation (errors rose ... after deploy), the commits table (a deploy
mark), both status pages, and the template preview. Two cases, 5 runs each (medians):

- fresh: a new state dir (initdb, schema, an hour of seeded history, the demo repository);
- reuse: the same state dir again (the embedded server and data are reused).

As root, the first run on a machine also copies the PostgreSQL binaries for the ``pgserver``
account into /var/lib/warroom-demo (about 32 MB, 0.1-0.2 s, once); the state dirs are removed at
the end (their clusters there go with the next fresh start).

    python bench/demo_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MARKERS = ("errors/min", "Connections", "errors rose", "deploy", "Supabase", "Twilio", "INCIDENT DECLARED")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def one_run(state: Path, session: str) -> float:
    tmux("kill-session", "-t", session)
    cmd = f"env WARROOM_STATE_DIR={shlex.quote(str(state))} TERM=xterm-256color {shlex.quote(sys.executable)} -m warroom demo"
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "48", cmd], check=True)
    try:
        while True:
            screen = tmux("capture-pane", "-p", "-t", session)
            if all(m in screen for m in MARKERS):
                return time.perf_counter() - start
            if time.perf_counter() - start > 60:
                missing = [m for m in MARKERS if m not in screen]
                raise RuntimeError(f"not populated after 60 s; missing {missing}")
            time.sleep(0.02)
    finally:
        tmux("send-keys", "-t", session, "q")
        end = time.perf_counter() + 20
        while time.perf_counter() < end and session in tmux("list-sessions", "-F", "#{session_name}"):
            time.sleep(0.1)
        tmux("kill-session", "-t", session)


def main() -> None:
    from bytecode import compile_warroom

    compile_warroom()  # as pip installs it (bench/bytecode.py)
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    fresh, reuse = [], []
    for i in range(args.runs):
        state = Path(tempfile.mkdtemp(prefix="warroom-demo-bench-"))
        try:
            fresh.append(one_run(state, f"demobench{i}"))
            reuse.append(one_run(state, f"demobench{i}r"))
        finally:
            shutil.rmtree(state, ignore_errors=True)
    print(f"runs={args.runs} terminal=160x48")
    print(
        f"fresh state dir: median {statistics.median(fresh):.2f} s (min {min(fresh):.2f}, max {max(fresh):.2f})"
    )
    print(
        f"reused demo:     median {statistics.median(reuse):.2f} s (min {min(reuse):.2f}, max {max(reuse):.2f})"
    )


if __name__ == "__main__":
    main()
