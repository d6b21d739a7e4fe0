#!/usr/bin/env python3
"""Time `gapctl robustness` on a generated round: 1,000 draws of 50 units in under 10 s on 2 cores?

    python benchmarks/robustness.py                      # 50 units, 1,000 draws, 2 workers
    python benchmarks/robustness.py --units 300 --draws 2000 --jobs 4

The round comes from generate.py (cached under --data-dir like bench.py's). Rows, each the best
of --repeat runs:
- the draws alone (gapctl.scoring.robustness.analyse on the round read and scored once), with expert
  grades moved and without;
- the whole command in a child process (`python -m gapctl robustness ROUND --format json`):
  start-up, reading, validating and scoring the round, the draws, the JSON.
GAPCTL_JOBS is set to --jobs for every row. Besides the wall time, the CPU time of every process
(this one, the workers, the child) is shown, and the load average before the first run: on a
shared machine the wall time is only as good as the cores were free, the CPU time hardly moves.
Exit 1 when a row takes 10 s or more.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from bench import ensure_round, log, machine  # noqa: E402

TARGET_SECONDS = 10.0


def cpu_seconds() -> float:
    """CPU time of this process and of its children (the workers, the child command) so far."""
    import resource
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best(repeat: int, run) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the fastest of `repeat` runs."""
    times = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), cpu_seconds()
        run()
        times.append((time.perf_counter() - start, cpu_seconds() - cpu))
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=50)
    ap.add_argument("--indicators", type=int, default=60)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2, help="GAPCTL_JOBS for every run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data-dir", type=Path, default=REPO / "bench-data")
    args = ap.parse_args(argv)

    os.environ["GAPCTL_JOBS"] = str(args.jobs)
    from decimal import Decimal

    from gapctl.api import load_round, score
    from gapctl.scoring import robustness

    round_dir = ensure_round(args.data_dir, args.units, args.indicators, args.seed, "yaml")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    log(f"timing {args.draws} draws of {args.units} units on {args.jobs} worker(s) ...")
    start, cpu = time.perf_counter(), cpu_seconds()
    scored = score(load_round(round_dir))
    rows = [("read and score the round once (one process)", (time.perf_counter() - start, cpu_seconds() - cpu))]
    for grades in (False, True):
        settings = robustness.Settings(draws=args.draws, seed=args.seed, weights=Decimal("0.2"), grades=grades)
        seconds = best(args.repeat, lambda s=settings: robustness.analyse(scored, s))
        rows.append((f"draws: weights ±20%{', expert grades ±1 step' if grades else ''}", seconds))
    command = [sys.executable, "-m", "gapctl", "robustness", str(round_dir), "--draws", str(args.draws),
               "--format", "json"]

    def child() -> None:
        subprocess.run(command, cwd=REPO, check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    rows.append(("`gapctl robustness ROUND --format json` (child process, everything)", best(args.repeat, child)))

    print(machine())
    if load is not None:
        print(f"Load average before the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"\n{args.units} units × {args.indicators} indicators, {args.draws:,} draws, GAPCTL_JOBS={args.jobs}, "
          f"best of {args.repeat}\n")
    print(f"| what | seconds | CPU seconds (all processes) | under {TARGET_SECONDS:.0f} s |")
    print("|---|---:|---:|---|")
    for what, (seconds, cpu) in rows:
        print(f"| {what} | {seconds:.2f} | {cpu:.2f} | {'yes' if seconds < TARGET_SECONDS else 'NO'} |")
    return 0 if all(seconds < TARGET_SECONDS for _, (seconds, _) in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
