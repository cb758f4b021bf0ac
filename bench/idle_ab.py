"""Idle CPU of the console from two source trees, alternated, on the same database: a change
measured against the revision before it (the machine's noise hits both alike).

The console runs as in bench/idle.py's ``warroom`` case (the 5M-row database with its error
spike, the demo's git repository, two status pages on 127.0.0.1, tmux 200x60), one process at a
time, the trees in rotating order; each is given ``--settle`` seconds after start, then its CPU
is measured over ``--measure`` seconds (``/proc/<pid>/stat``, the process and its children).

Usage: ``python bench/idle_ab.py --trees /tmp/before/src,src [--runs 5] [--keep DIR]``; a tree
is a folder holding the ``warroom`` package (``git archive REV src templates themes | tar -x -C
DIR`` gives ``DIR/src``, with the templates and themes beside it as in a checkout).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from console import Tmux, declare, idle_cpu, rss_kb, temp_root, watched  # noqa: E402
from idle import config_text  # noqa: E402


def main(args: argparse.Namespace) -> dict[str, list[float]]:
    from bytecode import compile_warroom
    from warroom.demo.standin import StatusStandIn

    trees = [str(Path(t).resolve()) for t in args.trees.split(",")]
    for tree in trees:
        compile_warroom(Path(tree) / "warroom")  # as pip installs it (bench/bytecode.py)
    root = temp_root(args.keep)
    w, h = (int(x) for x in args.size.split("x"))
    tmux = Tmux("bench-idle-ab", (w, h))
    results: dict[str, list[float]] = {t: [] for t in trees}
    try:
        with watched(args, root) as data:
            work = root / "idle-ab"
            work.mkdir(exist_ok=True)
            for i in range(args.runs * len(trees)):
                tree = trees[(i + i // len(trees)) % len(trees)]
                state = work / f"state-{i}-{time.time_ns()}"
                state.mkdir()
                declare(state, work)
                standin = StatusStandIn().start()
                try:
                    cfg = work / "ab.toml"  # not ./warroom.toml: declare (run here) would find it
                    cfg.write_text(config_text("data", data.dsn, data.repo, standin.base_url, work / "x.sql"))
                    command = f"{shlex.quote(sys.executable)} -m warroom --config {cfg} --state-dir {state}"
                    pid = tmux.start("ab", command, {"TERM": "xterm-256color", "PYTHONPATH": tree}, work)
                    time.sleep(args.settle)
                    cpu = idle_cpu(pid, args.measure)
                    results[tree].append(cpu)
                    print(f"{tree}: {cpu:.2f} % of a core, RSS {rss_kb(pid) / 1024:.1f} MB", file=sys.stderr)
                    tmux.stop("ab")
                finally:
                    standin.close()
    finally:
        tmux.kill_server()
    return results


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trees", required=True, help="two or more folders holding warroom, comma-separated")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--size", default="200x60")
    p.add_argument("--settle", type=float, default=15.0)
    p.add_argument("--measure", type=float, default=20.0)
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--window-rows", type=int, default=1_000_000)
    p.add_argument("--keep", help="keep the server and data in this folder (reused next time)")
    out = main(p.parse_args())
    for tree, values in out.items():
        print(
            f"{tree}: median {statistics.median(values):.2f} % of a core ({', '.join(f'{v:.2f}' for v in values)})"
        )
