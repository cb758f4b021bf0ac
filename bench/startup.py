"""Time from process start until the console's header is on screen, in a real terminal (tmux).

Measured side by side with a bare Textual app that shows one line, in the same run, alternating
the two so machine noise hits both alike. Prints medians; record them in bench/RESULTS.md.

    python bench/startup.py [--runs 10] [--size 160x48]

Needs tmux. The console runs on a temporary state dir holding one declared P0 incident, with no
data sources configured (so it measures warroom itself, not a database).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_APP = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("BARE-READY")

Bare().run()
"""


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def time_to_screen(command: str, needle: str, size: tuple[int, int], env: dict[str, str]) -> float:
    session = f"bench{os.getpid()}"
    tmux("kill-session", "-t", session)
    env_prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    start = time.perf_counter()
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            str(size[0]),
            "-y",
            str(size[1]),
            f"env {env_prefix} {command}",
        ],
        check=True,
    )
    try:
        while True:
            if needle in tmux("capture-pane", "-p", "-t", session):
                return time.perf_counter() - start
            if time.perf_counter() - start > 30:
                raise RuntimeError(f"{needle!r} did not appear within 30 s")
            time.sleep(0.005)
    finally:
        tmux("kill-session", "-t", session)


def main() -> None:
    from bytecode import compile_warroom

    compile_warroom()  # as pip installs it (bench/bytecode.py)
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    state = Path(tempfile.mkdtemp(prefix="warroom-bench-"))
    env = {"WARROOM_STATE_DIR": str(state), "TERM": "xterm-256color"}
    subprocess.run(
        [sys.executable, "-m", "warroom", "declare", "-s", "P0", "-t", "bench incident"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    bare = state / "bare.py"
    bare.write_text(BARE_APP)
    py = shlex.quote(sys.executable)
    console_times, bare_times = [], []
    # one warm-up each (imports into the page cache), not counted
    time_to_screen(f"{py} -m warroom", "INC-", (w, h), env)
    time_to_screen(f"{py} {bare}", "BARE-READY", (w, h), env)
    for _ in range(args.runs):
        console_times.append(time_to_screen(f"{py} -m warroom", "INC-", (w, h), env))
        bare_times.append(time_to_screen(f"{py} {bare}", "BARE-READY", (w, h), env))
    mc, mb = statistics.median(console_times), statistics.median(bare_times)
    print(f"runs={args.runs} size={w}x{h}")
    print(f"warroom console: median {mc:.3f} s  (min {min(console_times):.3f}, max {max(console_times):.3f})")
    print(f"bare Textual app: median {mb:.3f} s  (min {min(bare_times):.3f}, max {max(bare_times):.3f})")
    print(f"difference: {mc - mb:+.3f} s  ratio {mc / mb:.2f}")
    # Which heavy modules did the console import before its first frame? (None is the goal.)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, warroom.cli, warroom.ui.app; "
            "print(','.join(m for m in ('asyncpg','git','httpx','jinja2','pyperclip') if m in sys.modules) or 'none')",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"heavy modules imported by the console before the first frame: {probe.stdout.strip()}")


if __name__ == "__main__":
    main()
