#!/usr/bin/env python3
"""Time the cluster executor and the Parquet path at scale; print Markdown tables.

    nice python benchmarks/cluster.py cluster --units 30000 --workers 2
    nice python benchmarks/cluster.py national --provinces 31 --units 1000

`cluster`: one generated round (benchmarks/generate.py, 60 indicators) scored and exported to
Parquet cold (--no-cache) on this machine's pool, then on a `dask.distributed` LocalCluster of
`--workers` single-threaded worker processes started here (`--executor dask --scheduler …`);
the outputs of both must be byte-identical (the script checks). `national`: `--provinces`
rounds of `--units` units each, each in its own repository with its own seed (a province's
round; the scheme is shared, so units rank nationally), exported into one Parquet dataset in
one `gapctl export` run, exported again (nothing changed), then the docs/analysis.md queries
in DuckDB and `gapctl rank --from` over the whole dataset.

Every gapctl command is a child process timed from outside (bench.py's `run_child`: wall time,
peak PSS of its process tree). With the cluster, the peak also counts the cluster's processes
(the nanny and worker processes this script starts). Generated data goes under --data-dir
(bench-data/, git-ignored) and is reused.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import GENERATOR, REPO, _tree_memory_mb, ensure_round, gapctl, log, machine, run_child

TIMEOUT = 3 * 3600


def own_mb() -> float:
    """This script's own PSS (its descendants not counted)."""
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024 * 1.048576
    return 0.0


class TreeSampler(threading.Thread):
    """Peak PSS of this script's descendants: the cluster's processes and the gapctl child."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb, self.done = 0.0, threading.Event()
        self.base = own_mb()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.peak_mb = max(self.peak_mb, _tree_memory_mb(os.getpid()))


def cluster_cpu() -> float:
    """CPU seconds used so far by this script's live descendants (the cluster's processes)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            continue
    return total


def timed(cmd: list[str], with_tree: bool = False) -> tuple[float, float, float | None, float, bytes]:
    """(seconds, gapctl's peak MB, peak MB of everything this script runs or None, CPU seconds of the
    gapctl process tree and of the cluster, stdout)."""
    import resource

    sampler = TreeSampler() if with_tree else None
    if sampler:
        sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_cluster = cluster_cpu() if with_tree else 0.0
    run = run_child(cmd, TIMEOUT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the gapctl child and its reaped workers
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if with_tree:
        cpu += cluster_cpu() - before_cluster
    if sampler:
        sampler.done.set()
        sampler.join()
    if run.code not in (0,):
        raise SystemExit(f"{' '.join(cmd)} exited {run.code}:\n{run.stderr.decode()[-2000:]}")
    return run.seconds, run.rss_mb, (sampler.peak_mb - sampler.base if sampler else None), cpu, run.stdout


def tree_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fmt(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:,.1f}"


def cluster(args: argparse.Namespace) -> str:
    from distributed import LocalCluster

    round_dir = ensure_round(args.data_dir, args.units, 60, 1, "yaml")
    out = args.data_dir / "cluster-out"
    rows = []
    outputs: dict[str, list[str]] = {}

    def export_dir(label: str) -> Path:
        target = out / label
        shutil.rmtree(target, ignore_errors=True)
        return target

    log("local: score")
    s, mb, _t, cpu, stdout = timed(gapctl("score", str(round_dir), "--no-cache", "--format", "json"))
    rows.append(("gapctl score --no-cache", "local pool, 2 processes", s, cpu, mb, None))
    outputs.setdefault("score", []).append(hashlib.sha256(stdout).hexdigest())
    log(f"  {s:.1f} s")
    log("local: export --format parquet")
    s, mb, _t, cpu, _out = timed(gapctl("export", str(round_dir), "--format", "parquet", "--no-cache",
                                        "--out", str(export_dir("local"))))
    rows.append(("gapctl export --format parquet --no-cache", "local pool, 2 processes", s, cpu, mb, None))
    outputs.setdefault("export", []).append(tree_hash(out / "local"))
    log(f"  {s:.1f} s")
    t0 = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0") as lc:
        started = time.perf_counter() - t0
        address = lc.scheduler_address
        log(f"cluster at {address} ({args.workers} workers) started in {started:.1f} s: score")
        s, mb, tree, cpu, stdout = timed(gapctl("score", str(round_dir), "--no-cache", "--format", "json",
                                                "--executor", "dask", "--scheduler", address), with_tree=True)
        rows.append(("gapctl score --no-cache --executor dask", f"LocalCluster, {args.workers} workers × 1 thread",
                     s, cpu, mb, tree))
        outputs["score"].append(hashlib.sha256(stdout).hexdigest())
        log(f"  {s:.1f} s; export")
        s, mb, tree, cpu, _out = timed(gapctl("export", str(round_dir), "--format", "parquet", "--no-cache",
                                              "--out", str(export_dir("dask")), "--executor", "dask",
                                              "--scheduler", address), with_tree=True)
        rows.append(("gapctl export --format parquet --no-cache --executor dask",
                     f"LocalCluster, {args.workers} workers × 1 thread", s, cpu, mb, tree))
        outputs["export"].append(tree_hash(out / "dask"))
        log(f"  {s:.1f} s")
    same = {k: len(set(v)) == 1 for k, v in outputs.items()}
    lines = [f"`python benchmarks/cluster.py cluster --units {args.units} --workers {args.workers}` "
             f"({args.units:,} units × 60 indicators; the cluster started in {started:.1f} s, not counted):", "",
             "| what | where | seconds | CPU seconds | peak PSS, gapctl (MB) | peak PSS, gapctl + cluster (MB) |",
             "|---|---|---:|---:|---:|---:|"]
    for what, where, s, cpu, mb, tree in rows:
        lines.append(f"| {what} | {where} | {fmt(s)} | {fmt(cpu)} | {mb:,.0f} | "
                     f"{'' if tree is None else f'{tree:,.0f}'} |")
    lines += ["", f"- byte-identical with and without the cluster: score {'yes' if same['score'] else 'NO'}, "
                  f"Parquet export {'yes' if same['export'] else 'NO'}"]
    return "\n".join(lines)


def province_round(data_dir: Path, n: int, units: int) -> Path:
    """Province n's repository: a generated round with its own seed, its round named prov-NN."""
    target = data_dir / f"national-u{units}" / f"prov-{n:02d}"
    round_dir = target / "rounds" / f"prov-{n:02d}"
    if round_dir.is_dir():
        return round_dir
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run([sys.executable, str(GENERATOR), "--units", str(units), "--indicators", "60", "--seed",
                    str(100 + n), "--out", str(tmp)], check=True, capture_output=True)
    round_file = tmp / "rounds" / "bench" / "round.toml"
    round_file.write_text(re.sub(r'(?m)^id = "bench"$', f'id = "prov-{n:02d}"', round_file.read_text("utf-8")),
                          encoding="utf-8")
    (tmp / "rounds" / "bench").rename(tmp / "rounds" / f"prov-{n:02d}")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return round_dir


def size_mb(paths: list[Path]) -> float:
    return sum(f.stat().st_size for p in paths for f in p.rglob("*") if f.is_file()) / 1e6


def national(args: argparse.Namespace) -> str:
    import duckdb

    t0 = time.perf_counter()
    rounds = [province_round(args.data_dir, n, args.units) for n in range(1, args.provinces + 1)]
    log(f"{len(rounds)} rounds ready in {time.perf_counter() - t0:.0f} s")
    for r in rounds:  # a cold export: no cache
        shutil.rmtree(r.parent.parent / ".gapctl-cache", ignore_errors=True)
    out = args.data_dir / f"national-u{args.units}-parquet"
    shutil.rmtree(out, ignore_errors=True)
    total = args.provinces * args.units
    rows = []
    log("export (cold)")
    s, mb, _t, cpu, _o = timed(gapctl("export", *map(str, rounds), "--format", "parquet", "--out", str(out)))
    rows.append((f"gapctl export ({args.provinces} rounds) --format parquet, cold (fills the cache)", s, cpu, mb))
    log(f"  {s:.1f} s; again")
    s, mb, _t, cpu, written = timed(gapctl("export", *map(str, rounds), "--format", "parquet", "--out", str(out)))
    assert written.strip() == b"", "nothing changed, so nothing should be written"
    rows.append(("the same export again (nothing changed: nothing written)", s, cpu, mb))
    log(f"  {s:.1f} s; rank --from")
    s, mb, _t, cpu, _o = timed(gapctl("rank", "--from", str(out), "--format", "csv"))
    rows.append((f"gapctl rank --from (all {total:,} units ranked together)", s, cpu, mb))
    text = (REPO / "docs" / "analysis.md").read_text(encoding="utf-8")
    blocks = {m.group(1): m.group(2) for m in re.finditer(r"```sql\n-- name: (\w+)\n(.*?)```", text, re.S)}
    con = duckdb.connect()
    queries = []
    for name in ("setup", "history", "pass_rate", "weakest", "ranking"):
        sql = blocks[name].replace("'out/parquet/", f"'{out.as_posix()}/")
        t1 = time.perf_counter()
        result = None
        for statement in [s for s in sql.split(";") if s.strip()]:
            result = con.execute(statement).fetchall()
        if name == "setup":  # the doc's unit and indicator are Suizhou's: take the generated round's first ones
            con.execute("SET VARIABLE unit = (SELECT min(unit) FROM units)")
            con.execute("SET VARIABLE indicator = (SELECT min(indicator) FROM leaves WHERE section = 'main')")
        queries.append((name, time.perf_counter() - t1, len(result or [])))
    leaves = con.execute("SELECT count(*) FROM leaves").fetchone()[0]
    lines = [f"`python benchmarks/cluster.py national --provinces {args.provinces} --units {args.units}`: "
             f"{args.provinces} rounds of {args.units:,} units ({total:,} units, {leaves:,} unit × leaf rows; "
             f"{size_mb(list(rounds)):,.0f} MB of observation YAML → {size_mb([out]):,.1f} MB of Parquet):",
             "", "| what | seconds | CPU seconds | peak PSS (MB) |", "|---|---:|---:|---:|"]
    lines += [f"| {what} | {fmt(s)} | {fmt(cpu)} | {mb:,.0f} |" for what, s, cpu, mb in rows]
    lines += [f"| DuckDB: docs/analysis.md `{name}` ({n:,} rows) | {s:.2f} | | |" for name, s, n in queries]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    one = sub.add_parser("cluster", help="local pool against a LocalCluster, one round")
    one.add_argument("--units", type=int, default=30000)
    one.add_argument("--workers", type=int, default=2)
    many = sub.add_parser("national", help="many province rounds through export, DuckDB and rank --from")
    many.add_argument("--provinces", type=int, default=31)
    many.add_argument("--units", type=int, default=1000)
    for p in (one, many):
        p.add_argument("--data-dir", type=Path, default=REPO / "bench-data")
    args = ap.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    before = os.getloadavg()[0]
    report = cluster(args) if args.what == "cluster" else national(args)
    print(machine())
    print(f"Load average (1 min) {before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
          "(other work on the machine slows every row alike)")
    print()
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
