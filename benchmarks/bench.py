#!/usr/bin/env python3
"""Time gapctl on synthetic rounds against a bare-parse reference; print a Markdown table.

    python benchmarks/bench.py                         # 300 and 3,000 units, YAML, K=60
    python benchmarks/bench.py --units 30000 --repeat 1
    python benchmarks/bench.py --format toml --units 300
    python benchmarks/bench.py path/to/rounds/<id>     # an existing round

Every measured command runs as a child process; its wall time is the best of --repeat
runs and its peak RSS comes from os.wait4. The reference row is the floor for any tool
that reads the same files: one Python process that reads every file gapctl would read
and parses it with yaml.CSafeLoader (tomllib for TOML), nothing else. Generated rounds
are cached under --data-dir (default bench-data/, git-ignored) and reused while the
parameters and generate.py are unchanged. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GENERATOR = HERE / "generate.py"
DATA_EXTS = (".yaml", ".yml", ".toml")
STAMP = ".bench-params.json"

# Commands timed after the reference, in this order. `always`: show an n/a row when the
# command is missing (validate is the headline figure); otherwise the row only appears
# once `python -m gapctl <cmd> --help` exits 0.
COMMANDS = [("validate", True), ("score", False)]
# timed by their own functions, each with the cache warm (as after `gapctl score`) and without it
# (GAPCTL_NO_CACHE=1): bench_units (report, explain, export, status, agreement, followup), bench_diff, bench_import,
# bench_fmt
UNIT_COMMANDS = ["report", "explain", "export", "status", "agreement", "followup"]
EXTRA_COMMANDS = UNIT_COMMANDS + ["diff", "import", "fmt"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- the reference


def files_gapctl_reads(round_dir: Path) -> list[Path]:
    """round file, its schemes and unit set, external files, every observation file."""
    round_dir = round_dir.resolve()
    repo = round_dir.parent.parent
    round_file = next((round_dir / f"round{e}" for e in (".toml", ".yaml", ".yml")
                       if (round_dir / f"round{e}").is_file()), None)
    if round_file is None:
        raise SystemExit(f"{round_dir}: no round.toml")
    meta = _parse(round_file)
    files = [round_file]

    def find(folder: str, ident: str) -> None:
        for e in DATA_EXTS:
            p = repo / folder / f"{ident}{e}"
            if p.is_file():
                files.append(p)
                return
        raise SystemExit(f"{round_file}: {folder}/{ident}.* not found")

    for s in meta.get("schemes", []):
        find("schemes", s["scheme"])
    find("units", meta["units"])
    for ext in (meta.get("external") or {}).values():
        if isinstance(ext, dict) and "file" in ext:
            files.append(round_dir / ext["file"])
    obs = round_dir / "observations"
    if obs.is_dir():
        files += sorted(p for p in obs.iterdir() if p.suffix in DATA_EXTS)
    channels = round_dir / "channels"  # channel files (and the scheme that scores them), if the round has any
    if channels.is_dir():
        files += sorted(p for p in channels.glob("*/*") if p.suffix in DATA_EXTS)
        for e in DATA_EXTS:
            if (repo / "schemes" / f"bench-channel{e}").is_file():
                files.append(repo / "schemes" / f"bench-channel{e}")
    return files


def _parse(path: Path):
    text = path.read_bytes().decode("utf-8-sig")
    if path.suffix == ".toml":
        return tomllib.loads(text)
    import yaml

    return yaml.load(text, Loader=yaml.CSafeLoader)


def reference_parse(round_dir: Path) -> dict:
    """The work of the reference row; run in a child by `bench.py --parse-only ROUND`."""
    t0 = time.perf_counter()
    files = files_gapctl_reads(round_dir)
    n_bytes = 0
    for p in files:
        n_bytes += p.stat().st_size
        _parse(p)
    return {"files": len(files), "bytes": n_bytes, "seconds": time.perf_counter() - t0}


# ----------------------------------------------------------------------------- child processes


@dataclass
class Run:
    seconds: float
    code: int
    rss_mb: float
    stdout: bytes
    stderr: bytes
    cpu: float = 0.0  # user + system seconds of the child and the workers it waited for (os.wait4)


def _tree_memory_mb(root: int) -> float:
    """Memory of a process and its descendants: the sum of their PSS (shared pages split
    between the processes sharing them, so forked workers are not counted twice)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except (OSError, ValueError):
            continue
    return total / 1024 * 1.048576  # kB -> MB


class MemorySampler(threading.Thread):
    """Samples a process tree's memory every 100 ms (Linux); `peak_mb` is the largest sum seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        if not Path("/proc/self/smaps_rollup").exists():
            return
        while not self.done.wait(0.1):
            self.peak_mb = max(self.peak_mb, _tree_memory_mb(self.pid))


def run_child(cmd: list[str], timeout: float, cwd: Path = REPO, extra_env: dict[str, str] | None = None) -> Run:
    """Run cmd; wall time, and peak memory: the larger of the sampled process tree's PSS sum and
    the child's own peak RSS (os.wait4)."""
    env = {**os.environ, **(extra_env or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # time gapctl as installed: compiled once, not at every run

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        sampler = MemorySampler(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            sampler.done.set()
        seconds = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)  # already reaped
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if seconds >= timeout and code < 0:
        stderr += f"\nkilled after the {timeout:.0f} s timeout".encode()
    return Run(seconds, code, max(usage.ru_maxrss * 1024 / 1e6, sampler.peak_mb), stdout, stderr,  # KiB
               usage.ru_utime + usage.ru_stime)


def gapctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "gapctl", *args]


def last_line(b: bytes) -> str:
    """The last line with words in it (skips the borders of rich/typer error boxes)."""
    for ln in reversed(b.decode("utf-8", "replace").splitlines()):
        ln = ln.strip().strip("│╭╮╰╯─ ").strip()
        if any(c.isalnum() for c in ln):
            return ln
    return ""


# ----------------------------------------------------------------------------- data


def generator_hash() -> str:
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:16]


def ensure_round(data_dir: Path, units: int, k: int, seed: int, fmt: str, rollups: bool = False) -> Path:
    """A generated round for these parameters, reused when its stamp matches."""
    params = {"units": units, "indicators": k, "seed": seed, "format": fmt, "generator": generator_hash(),
              "rollups": rollups}
    target = data_dir / (f"{fmt}-u{units}-k{k}-s{seed}" + ("-rollups" if rollups else ""))
    stamp = target / STAMP
    if stamp.is_file():
        try:
            old = json.loads(stamp.read_text())
        except ValueError:
            old = None
        if old and old.get("params") == params and (target / old["round"]).is_dir():
            log(f"reusing {target}")
            return target / old["round"]
    elif target.exists():
        raise SystemExit(f"{target} exists but was not made by bench.py; "
                         "remove it or pick another --data-dir")
    tmp = data_dir / f".{target.name}.tmp{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    log(f"generating {units} units x {k} indicators ({fmt}) into {target} ...")
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, str(GENERATOR), "--units", str(units), "--indicators", str(k),
         "--seed", str(seed), "--format", fmt, "--out", str(tmp)] + (["--rollups"] if rollups else []),
        capture_output=True, text=True)
    if res.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SystemExit(f"generate.py failed:\n{res.stderr}")
    round_rel = Path(res.stdout.strip().splitlines()[-1]).resolve().relative_to(tmp.resolve())
    (tmp / STAMP).write_text(json.dumps({"params": params, "round": str(round_rel)}, indent=1) + "\n")
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    log(f"  generated in {time.perf_counter() - t0:.1f} s")
    return target / round_rel


# ----------------------------------------------------------------------------- the table


@dataclass
class Row:
    what: str
    units: str
    seconds: float | None = None
    rss_mb: float | None = None
    code: int | None = None
    ratio_to: float | None = None
    note: str = ""
    cpu: float | None = None  # CPU seconds of the best run (children included)
    paired: tuple[float, float | None] | None = None  # (seconds, CPU s) of the cold score timed just before (--paired)


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rounds: list[str] = field(default_factory=list)


def best_of(cmd: list[str], repeat: int, timeout: float, extra_env: dict[str, str] | None = None,
            before: Any = None) -> tuple[Run, float]:
    """The fastest of `repeat` runs and the largest peak memory of any."""
    runs = []
    for n in range(repeat):
        if before is not None:
            before(n)
        runs.append(run_child(cmd, timeout, extra_env=extra_env))
    return min(runs, key=lambda r: r.seconds), max(r.rss_mb for r in runs)


def bench_round(round_dir: Path, repeat: int, timeout: float, cmd_help: dict, report: Report,
                paired: bool = False) -> None:
    PAIRED.clear()  # with `paired`, set by this round's score row
    files = files_gapctl_reads(round_dir)
    n_bytes = sum(p.stat().st_size for p in files)
    n_obs = sum(1 for p in files if p.parent.name == "observations" or p.parent.parent.name == "channels")
    toml = all(p.suffix == ".toml" for p in files if p.parent.name == "observations")
    label = f"{n_obs:,}"
    report.rounds.append(f"- `{round_dir}`: {n_obs:,} observation files, {len(files):,} files read, "
                         f"{n_bytes / 1e6:.1f} MB ({'TOML' if toml else 'YAML'})")

    parser = "tomllib" if toml else "yaml.CSafeLoader"
    log(f"[{label} units] reference parse x{repeat}")
    run, rss = best_of([sys.executable, str(Path(__file__).resolve()), "--parse-only", str(round_dir)],
                       repeat, timeout)
    ref = Row(f"reference: bare parse ({parser}, one process)", label)
    if run.code == 0:
        ref.seconds, ref.rss_mb, ref.code, ref.cpu = run.seconds, rss, 0, run.cpu
        inner = json.loads(last_line(run.stdout))
        report.notes.append(f"reference, {label} units: {inner['seconds']:.2f} s of the best run is parsing "
                            f"(the rest is interpreter start-up and imports)")
    else:
        ref.code = run.code
        ref.note = last_line(run.stderr)
    report.rows.append(ref)

    for name, always in COMMANDS:
        if name not in cmd_help:
            continue
        ok, help_text, err = cmd_help[name]
        if not ok and not always:
            continue
        args = [name, str(round_dir)]
        if ok and "--no-cache" in help_text:
            args.append("--no-cache")
        row = Row("gapctl " + " ".join(a for a in args if a != str(round_dir)), label, ratio_to=ref.seconds)
        report.rows.append(row)
        if not ok:
            row.note = err
            continue
        log(f"[{label} units] gapctl {name} x{repeat}")
        run, rss = best_of(gapctl(*args), repeat, timeout)
        row.code = run.code
        if run.code in (0, 1):
            row.seconds, row.rss_mb, row.cpu = run.seconds, rss, run.cpu
        else:
            row.note = last_line(run.stderr) or f"exit code {run.code}"
        if name == "score" and ok and "--no-cache" in help_text:
            if paired:
                PAIRED[:] = [gapctl(*args)]
            bench_cache(round_dir, label, repeat, timeout, ref.seconds, report)
    score_row = next((r for r in report.rows[::-1] if r.what in ("gapctl score --no-cache", "gapctl score")
                      and r.units == label), None)
    bench_units(round_dir, label, repeat, timeout, ref.seconds, cmd_help, report)
    if "diff" in cmd_help and cmd_help["diff"][0]:
        bench_diff(round_dir, label, repeat, timeout, ref.seconds, score_row, report)
    if "import" in cmd_help and cmd_help["import"][0]:
        bench_import(round_dir, label, repeat, timeout, ref.seconds, report)
    if "fmt" in cmd_help and cmd_help["fmt"][0]:  # last: it empties the round's cache
        bench_fmt(round_dir, label, repeat, timeout, ref.seconds, report)
    if score_row and score_row.seconds:
        ratios = [f"{r.what.removeprefix('gapctl ')} {r.seconds / score_row.seconds:.2f}×"
                  + (f" ({r.cpu / score_row.cpu:.2f}× its CPU time)" if r.cpu and score_row.cpu else "")
                  for r in report.rows if r.units == label and r.seconds and r.what.startswith("gapctl ")
                  and not r.what.startswith(("gapctl score", "gapctl validate"))]
        if ratios:
            report.notes.append(f"{label} units, against one cold `gapctl score --no-cache` "
                                f"({score_row.seconds:.2f} s): " + "; ".join(ratios))
    pairs = [f"{r.what.removeprefix('gapctl ')} {r.seconds / r.paired[0]:.2f}× ({r.paired[0]:.2f} s)"
             + (f", {r.cpu / r.paired[1]:.2f}× its CPU time" if r.cpu and r.paired[1] else "")
             for r in report.rows if r.units == label and r.seconds and r.paired]
    if pairs:
        report.notes.append(f"{label} units, each against a cold `gapctl score --no-cache` timed just before it "
                            "(--paired): " + "; ".join(pairs))


PAIRED: list[list[str]] = []  # with --paired: the round's cold score, timed again just before each compared row


def timed_row(report: Report, what: str, label: str, cmd: list[str], repeat: int, timeout: float,
              ref_seconds: float | None, extra_env: dict[str, str] | None = None, before: Any = None) -> Row:
    """One row: the best of `repeat` runs of `cmd` (exit 0 or 1 counts), its peak memory the largest. With
    --paired, a row compared with the cold score (not a score row) has that score timed just before it too, the
    best of as many runs: the machine's speed drifts by 20-30 % within minutes, and a ratio of two runs made
    minutes apart measures the drift as well as the command."""
    row = Row(what, label, ratio_to=ref_seconds)
    report.rows.append(row)
    if PAIRED and not what.startswith(("gapctl score", "gapctl validate")):
        log(f"[{label} units] paired cold score x{repeat}")
        score, _rss = best_of(PAIRED[0], repeat, timeout)
        if score.code == 0:
            row.paired = (score.seconds, score.cpu)
    log(f"[{label} units] {what} x{repeat}")
    run, rss = best_of(cmd, repeat, timeout, extra_env, before)
    row.code = run.code
    if run.code in (0, 1):
        row.seconds, row.rss_mb, row.cpu = run.seconds, rss, run.cpu
    else:
        row.note = last_line(run.stderr) or f"exit code {run.code}"
    return row


NO_CACHE = {"GAPCTL_NO_CACHE": "1"}


def bench_units(round_dir: Path, label: str, repeat: int, timeout: float, ref_seconds: float | None,
                cmd_help: dict, report: Report) -> None:
    """The commands that show more of a unit than its totals: with the cache as `gapctl score` left
    it (warm), and with no cache at all (every file read and scored, then each unit's read again)."""
    # written beside the generated repository, on its file system, as `report`'s default (out/<round> in the
    # working directory) would be, not in the system's temporary directory; each run into a new directory
    # (set_aside: a report creates a file a unit)
    out = round_dir.parents[1].with_name(round_dir.parents[1].name + "-out")
    set_aside(out)
    out.mkdir()
    unit = sorted((round_dir / "observations").iterdir())[0].stem
    try:
        for name in UNIT_COMMANDS:
            if name not in cmd_help or not cmd_help[name][0]:
                continue
            args = {"report": ["report", str(round_dir), "--out", str(out / "report")],
                    "explain": ["explain", str(round_dir), unit],
                    "export": ["export", str(round_dir), "--format", "csv", "--out", str(out / "export")],
                    "status": ["status", str(round_dir), "--today", "2022-01-10"],
                    "agreement": ["agreement", str(round_dir)],
                    # the round as both the earlier and the later one: every file read and scored for each side
                    "followup": ["followup", str(round_dir), str(round_dir)]}[name]
            shown = {"explain": "explain ROUND UNIT", "export": "export --format csv",
                     "followup": "followup ROUND ROUND (both sides: the round itself)"}.get(name, name)
            if name == "report":  # it keeps each unit's page piece in the cache: its first run after a score fills them
                timed_row(report, "gapctl report (cache as score left it: fills page pieces)", label, gapctl(*args),
                          1, timeout, ref_seconds)
            # each run writes a new directory: the one before set aside (it would replace and so delete it)
            fresh = (lambda n, name=name: set_aside(out / name)) if name in ("report", "export") else None
            timed_row(report, f"gapctl {shown} (warm cache)", label, gapctl(*args), repeat, timeout, ref_seconds,
                      before=fresh)
            timed_row(report, f"gapctl {shown} (no cache)", label, gapctl(*args), repeat, timeout, ref_seconds,
                      NO_CACHE, before=fresh)
    finally:
        set_aside(out)  # deleted when the bench ends, not before the next row


def bench_import(round_dir: Path, label: str, repeat: int, timeout: float, ref_seconds: float | None,
                 report: Report) -> None:
    """`gapctl import ROUND rows.csv --force`: one row per unit, each turning one all-or-nothing result
    over, into a fresh copy of the repository before each run."""
    import re

    source = round_dir.parents[1]
    scratch = source.with_name(source.name + "-import")
    rows = ["单位,指标,结果"]
    entry = re.compile(r'- indicator: "?([^"\n]+)"?\n\s+result: (done|not-done)\n')
    for path in sorted((round_dir / "observations").iterdir()):
        found = entry.search(path.read_text(encoding="utf-8"))
        if found:
            rows.append(f"{path.stem},{found.group(1)},{'未完成' if found.group(2) == 'done' else '完成'}")
    table = source.with_name(source.name + "-import.csv")
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")

    def fresh(n: int) -> None:
        set_aside(scratch)
        shutil.copytree(source, scratch, ignore=shutil.ignore_patterns(".gapctl-cache"))
        settled()
    try:
        target = scratch / round_dir.relative_to(source)
        timed_row(report, f"gapctl import ROUND rows.csv --force ({len(rows) - 1:,} rows, one a unit)", label,
                  gapctl("import", str(target), str(table), "--force"), repeat, timeout, ref_seconds, before=fresh)
    finally:
        set_aside(scratch)


def bench_cache(round_dir: Path, label: str, repeat: int, timeout: float, ref_seconds: float | None,
                report: Report) -> None:
    """`gapctl score` with the cache: filling it (cold), nothing changed, one unit file edited."""
    cache = round_dir.parents[1] / ".gapctl-cache"
    edited = sorted((round_dir / "observations").iterdir())[-1]
    original = edited.read_bytes()

    def timed(what: str, before: Any) -> None:
        row = Row(what, label, ratio_to=ref_seconds)
        report.rows.append(row)
        log(f"[{label} units] {what} x{repeat}")
        runs = []
        for n in range(repeat):
            before(n)
            runs.append(run_child(gapctl("score", str(round_dir)), timeout))
        best = min(runs, key=lambda r: r.seconds)
        row.code = best.code
        if best.code == 0:
            row.seconds, row.rss_mb, row.cpu = best.seconds, max(r.rss_mb for r in runs), best.cpu
        else:
            row.note = last_line(best.stderr) or f"exit code {best.code}"

    def edit(n: int) -> None:  # a new note each time, so the file's hash is new each time
        text = original.decode("utf-8")
        changed = text.replace("note: ", f"note: 复核修改{n}{time.time_ns()} ", 1)
        edited.write_bytes((changed if changed != text else text + f"# edit {time.time_ns()}\n").encode("utf-8"))

    try:
        timed("gapctl score (cold: fills .gapctl-cache)", lambda n: set_aside(cache))
        timed("gapctl score (warm: nothing changed)", lambda n: None)
        timed("gapctl score (warm: one unit file edited)", edit)
    finally:
        edited.write_bytes(original)


def bench_fmt(round_dir: Path, label: str, repeat: int, timeout: float, ref_seconds: float | None,
              report: Report) -> None:
    """`gapctl fmt --check ROUND` (what CI runs on every push): cold, every file formatted with ruamel.yaml (~0.1 CPU
    s a file, so once whatever --repeat says; the cache emptied first, and filled as it goes: a few ms more than
    GAPCTL_NO_CACHE=1, one run fewer than timing both), then again with nothing changed (warm: every file's
    verdict remembered, nothing formatted)."""
    cache = round_dir.parents[1] / ".gapctl-cache"
    args = gapctl("fmt", "--check", str(round_dir))
    timed_row(report, "gapctl fmt --check ROUND (cold: fills .gapctl-cache)", label, args, 1, timeout, ref_seconds,
              before=lambda n: set_aside(cache))
    timed_row(report, "gapctl fmt --check ROUND (warm: nothing changed)", label, args, repeat, timeout, ref_seconds)


def git_copy(round_dir: Path) -> Path:
    """A git repository holding a copy of the generated repository, committed once, with one
    observation changed in its working tree; the same round path under the copy."""
    source = round_dir.parents[1]
    target = source.with_name(source.name + "-git")
    rel = round_dir.relative_to(source)
    stamp = target / ".bench-git-stamp"
    wanted = (source / STAMP).read_text() if (source / STAMP).exists() else ""
    if not (stamp.exists() and stamp.read_text() == wanted):
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".gapctl-cache"))
        env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org",
               "GIT_AUTHOR_DATE": "2022-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2022-01-01T00:00:00Z"}
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
            subprocess.run(["git", *args], cwd=target, env=env, check=True, stdout=subprocess.DEVNULL)
        first = sorted((target / rel / "observations").iterdir())[0]
        text = first.read_text(encoding="utf-8")
        changed = text.replace("result: done", "result: not-done", 1)
        if changed == text:
            changed = text.replace("result: not-done", "result: done", 1)
        first.write_text(changed, encoding="utf-8")
        stamp.write_text(wanted)
        settled()
    return target / rel


def read_through(root: Path) -> None:
    """Every file under `root` (the git copy: its working tree and its objects) read once, so that the diff rows
    are timed with the copy's files in the page cache, as every other row is timed with the round's (read by the
    rows before it). The copy is made once and kept between runs: a full run writes several GB of reports and
    exports before the diff rows, which pushed the copy's files out of the cache. Its 30,000-unit diff then read
    them from the disk: 70.7 s and 98.9 CPU s, against 42.7 s and 69.8 CPU s read through first."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".gapctl-cache")]  # caches (and those set aside): not read
        for name in files:
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    while handle.read(1 << 20):
                        pass
            except OSError:
                pass


ASIDE: list[Path] = []  # what set_aside moved out of the way, deleted when the bench ends (clear_aside)


def set_aside(path: Path) -> None:
    """`path` (a report, a cache, a scratch copy that the next timed run must not find) moved out of the way by a
    rename, not deleted: the timed run that follows would pay for the deletion. On ext4 without a journal (this
    machine's file system: `dmesg` says "mounted filesystem ... without journal"), creating a file scans the inodes
    deleted in the last minute or so (the kernel's `recently_deleted`, in `find_inode_bit`): just after 3,000 files
    were deleted, each new file cost 0.45 ms of kernel time instead of 0.03 ms, and a report creates a file a unit.
    Everything set aside is deleted once every row is timed."""
    if path.exists():
        aside = path.with_name(f"{path.name}.aside-{os.getpid()}-{len(ASIDE)}")
        path.rename(aside)
        ASIDE.append(aside)


def clear_aside() -> None:
    while ASIDE:
        shutil.rmtree(ASIDE.pop(), ignore_errors=True)


def settled() -> None:
    """The files a set-up step just wrote, flushed to the disk before the next timed run: else that run waits on
    their write-back (a 30,000-unit diff right after its git copy was made: 79 s wall for 75 CPU s)."""
    if hasattr(os, "sync"):
        os.sync()


def bench_diff(round_dir: Path, label: str, repeat: int, timeout: float, ref_seconds: float | None,
               score_row: Row | None, report: Report) -> None:
    """`gapctl diff --rev HEAD` with one observation changed: both sides loaded, one file differs."""
    log(f"[{label} units] preparing a git copy for diff")
    copy = git_copy(round_dir)
    read_through(copy.parents[1])
    cache = copy.parents[1] / ".gapctl-cache"
    cmd = gapctl("diff", str(copy), "--rev", "HEAD")
    timed_row(report, "gapctl diff --rev HEAD (one observation changed; cache emptied)", label, cmd, repeat, timeout,
              ref_seconds, before=lambda n: set_aside(cache))
    timed_row(report, "gapctl diff --rev HEAD (one observation changed; warm cache)", label, cmd, repeat, timeout,
              ref_seconds)


def check_commands() -> dict:
    """{command: (help exits 0, help text, error)} from `python -m gapctl <cmd> --help`."""
    found = {}
    for name in [c for c, _ in COMMANDS] + EXTRA_COMMANDS:
        try:
            run = run_child(gapctl(name, "--help"), 120)
        except OSError as e:  # pragma: no cover - interpreter missing
            found[name] = (False, "", str(e))
            continue
        text = (run.stdout + run.stderr).decode("utf-8", "replace")
        err = last_line(run.stderr) or last_line(run.stdout) or f"exit code {run.code}"
        found[name] = (run.code == 0, text, "" if run.code == 0 else err)
    return found


def fmt_num(x: float | None, places: int) -> str:
    return "n/a" if x is None else f"{x:,.{places}f}"


def render(report: Report, repeat: int) -> str:
    out = [f"| what | units | seconds (best of {repeat}) | × reference | CPU s | peak RSS (MB) | exit |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    errors = []
    for r in report.rows:
        ratio = "n/a"
        if r.seconds is not None:
            if r.ratio_to is None and r.what.startswith("reference"):
                ratio = "1.00"
            elif r.ratio_to:
                ratio = f"{r.seconds / r.ratio_to:,.2f}"
        what = r.what
        if r.note:
            errors.append(f"{r.what} ({r.units} units): {r.note}")
            what += f" [{len(errors)}]"
        out.append(f"| {what} | {r.units} | {fmt_num(r.seconds, 2)} | {ratio} | {fmt_num(r.cpu, 2)} | "
                   f"{fmt_num(r.rss_mb, 0)} | {'n/a' if r.code is None else r.code} |")
    text = "\n".join(out) + "\n"
    if errors:
        text += "\n" + "\n".join(f"[{i}] {e}" for i, e in enumerate(errors, 1)) + "\n"
    if report.notes:
        text += "\n" + "\n".join(f"- {n}" for n in report.notes) + "\n"
    return text


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        import yaml

        yv = f"PyYAML {yaml.__version__} ({'libyaml' if yaml.__with_libyaml__ else 'no libyaml'})"
    except ImportError:
        yv = "PyYAML missing"
    try:
        load = " (load average {} {} {} at the end: other work shares the machine)".format(
            *Path("/proc/loadavg").read_text().split()[:3]) if os.getloadavg()[0] >= 1.5 else ""
    except (OSError, AttributeError):
        load = ""
    return (f"Machine: {os.cpu_count()} CPUs ({usable} usable){', ' + model if model else ''}{mem}; "
            f"{platform.system()} {platform.release()}{load}\n"
            f"Python {platform.python_version()} ({platform.python_implementation()}), {yv}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("rounds", nargs="*", type=Path, help="existing round directories to time")
    ap.add_argument("--units", nargs="+", default=None,
                    help="unit counts to generate, e.g. 300,3000 or 300 3000 (default 300,3000 "
                         "when no round is given)")
    ap.add_argument("--indicators", type=int, default=60)
    ap.add_argument("--format", choices=("yaml", "toml"), default="yaml")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs per command; the best time is shown")
    ap.add_argument("--data-dir", type=Path, default=REPO / "bench-data")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds before a run is killed")
    ap.add_argument("--commands", default="validate,score,report,explain,export,status,agreement,followup,diff,import",
                    help="which commands to time (comma-separated; default all but fmt, whose cold run formats "
                         "every file with ruamel.yaml: ~0.16 CPU s a file, 8 CPU minutes at 3,000 units)")
    ap.add_argument("--rollups", action="store_true",
                    help="also time a round of N/4 units with three channel files each and counties rolling up "
                         "their towns (N files in all), beside the round of N units without roll-ups")
    ap.add_argument("--paired", action="store_true",
                    help="time the round's cold score again just before each row compared with it, and give each "
                         "ratio to that run too (the machine's speed drifts within minutes)")
    ap.add_argument("--parse-only", type=Path, help=argparse.SUPPRESS)  # the reference child
    a = ap.parse_args(argv)

    if a.parse_only:
        print(json.dumps(reference_parse(a.parse_only)))
        return 0
    if a.repeat < 1:
        ap.error("--repeat must be at least 1")

    units_opt = a.units if a.units is not None else ([] if a.rounds else ["300,3000"])
    try:
        counts = [int(x) for u in units_opt for x in u.split(",") if x.strip()]
    except ValueError:
        ap.error("--units takes integers, e.g. 300,3000")
    rounds = [p.resolve() for p in a.rounds]
    for n in counts:
        rounds.append(ensure_round(a.data_dir.resolve(), n, a.indicators, a.seed, a.format))
        if a.rollups:
            rounds.append(ensure_round(a.data_dir.resolve(), n // 4, a.indicators, a.seed, a.format, rollups=True))

    wanted = {c.strip() for c in a.commands.split(",") if c.strip()}
    cmd_help = {name: found for name, found in check_commands().items() if name in wanted}
    report = Report()
    log(f"gapctl --help x{max(a.repeat, 5)}")
    run, rss = best_of(gapctl("--help"), max(a.repeat, 5), a.timeout)
    report.rows.append(Row("gapctl --help (start-up)", "-", run.seconds, rss, run.code, cpu=run.cpu))
    log(f"gapctl --version x{max(a.repeat, 5)}")
    run, rss = best_of(gapctl("--version"), max(a.repeat, 5), a.timeout)
    report.rows.append(Row("gapctl --version (start-up)", "-", run.seconds, rss, run.code, cpu=run.cpu))
    try:
        for rd in rounds:
            bench_round(rd, a.repeat, a.timeout, cmd_help, report, a.paired)
    finally:
        clear_aside()
    colds = {r.units: r.seconds for r in report.rows if r.what == "gapctl score --no-cache" and r.seconds}
    if "3,000" in colds and "30,000" in colds:
        ratio = colds["30,000"] / colds["3,000"]
        report.notes.append(f"30,000 units: cold `gapctl score --no-cache` took {ratio:.1f}× the 3,000-unit "
                            "time (linear would be 10×)")

    print(machine())
    print()
    print("\n".join(report.rounds))
    print()
    print(render(report, a.repeat), end="")
    skipped = [n for n, always in COMMANDS if n in cmd_help and not always and not cmd_help[n][0]]
    if skipped:
        print(f"- not timed (no `python -m gapctl <cmd> --help` yet): {', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
