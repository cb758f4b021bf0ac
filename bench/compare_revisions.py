"""Run a benchmark under this tree and under another revision's source, alternately, side by side.

    git archive <rev> src | tar -x -C /tmp/before
    python bench/compare_revisions.py --before /tmp/before/src --runs 5 -- bench/tallies.py --keep /tmp/b

Each run is ``python <script> <args> --json <file>`` (the script writes ``{scenario: {case:
median}}``), with ``PYTHONPATH`` pointing at the other revision's ``src`` for its runs; the two
alternate, this tree first on even runs and second on odd ones. Prints, per scenario and case, the
median over the runs for each side and their ratio (``--cases`` picks the cases).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run(script: list[str], src: str | None) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="warroom-compare-") as tmp:
        out = Path(tmp) / "medians.json"
        env = dict(os.environ)
        if src:
            env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
        p = subprocess.run(
            [sys.executable, *script, "--json", str(out)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(script)} failed:\n{p.stderr[-4000:]}")
        return json.loads(out.read_text())


def main(args: argparse.Namespace) -> str:
    sides = [("this tree", None), ("before", args.before)]
    got: dict[str, list[dict[str, dict[str, float]]]] = {name: [] for name, _ in sides}
    for r in range(args.runs):
        for name, src in sides if r % 2 == 0 else reversed(sides):
            got[name].append(run(args.script, src))
            print(f"run {r + 1}/{args.runs}: {name}", file=sys.stderr)
    lines = [
        f"`{' '.join(args.script)}`, {args.runs} runs per side, alternated; medians of the runs' medians (ms).",
        "",
        "| scenario | case | this tree | before | this tree / before |",
        "|---|---|---:|---:|---:|",
    ]
    first = got["this tree"][0]
    for scenario, cases in first.items():
        for case in cases:
            if args.cases and case not in args.cases:
                continue
            now = statistics.median(run[scenario][case] for run in got["this tree"])
            before = statistics.median(run[scenario][case] for run in got["before"])
            ratio = f"{now / before:.2f}" if before else "-"
            lines.append(f"| {scenario} | {case} | {now:.2f} | {before:.2f} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--before", required=True, help="the other revision's src folder (holding warroom/)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--cases", nargs="*", help="only these cases")
    p.add_argument("script", nargs="+", help="the benchmark and its arguments (after --)")
    print(main(p.parse_args()))
