"""Run many `gapctl` command lines, each in a process of its own, without paying an interpreter's start-up each.

The corpus tests send every bad input through gapctl in a separate process: only a process of its own shows
a segmentation fault (libyaml's recursive composer did that once), output that cannot be encoded, or an
exit code as the shell sees it. Starting the interpreter and importing gapctl takes ~0.2 s, longer than most
cases; a few hundred cases spent most of the suite's minute there. So a driver process (this file, run as a
script by the real interpreter) imports the entry point once, then forks one child per command line: the
child changes to its directory, takes its environment, points its stdout and stderr at files and calls
`gapctl.cli.run:main`, which is what the `gapctl` console script calls; the driver waits for it and records
its exit status, or the signal that killed it. The driver first runs one command line in a child that also
reports which modules it imported (gapctl imports most of itself lazily), and imports those before the
forks. A child that outlives its time limit is killed by SIGALRM.
`test_a_forked_run_equals_the_executables` checks that a forked run prints what the real executable prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """One command line: the arguments after `gapctl`, where, and the environment it runs in."""

    name: str
    args: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)


def run_all(runs: list[Run], out: Path, timeout: int = 120) -> dict[str, subprocess.CompletedProcess[bytes]]:
    """Every run's result (by name) as subprocess.run gives it; a run killed by a signal has -signal as its code.

    The runs are shared round-robin among one driver process per core."""
    out.mkdir(parents=True, exist_ok=True)
    drivers = max(1, os.cpu_count() or 1)
    shares = [runs[i::drivers] for i in range(drivers)]

    def drive(n: int) -> None:
        plan = out / f"plan-{n}.json"
        plan.write_text(json.dumps([{"name": r.name, "args": r.args, "cwd": str(r.cwd), "env": r.env}
                                    for r in shares[n]]), encoding="utf-8")
        subprocess.run([sys.executable, __file__, str(plan), str(out), str(timeout)], check=True,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=timeout * max(1, len(shares[n])))

    with ThreadPoolExecutor(max_workers=drivers) as pool:
        list(pool.map(drive, range(drivers)))
    results = {}
    for run in runs:
        code = int((out / f"{run.name}.status").read_text(encoding="utf-8"))
        results[run.name] = subprocess.CompletedProcess(["gapctl", *run.args], code,
                                                        (out / f"{run.name}.out").read_bytes(),
                                                        (out / f"{run.name}.err").read_bytes())
    return results


def _child(run: dict, out: Path, timeout: int, modules: Path | None = None) -> None:  # pragma: no cover - a child
    import signal
    import traceback

    signal.alarm(timeout)
    code = 1
    try:
        os.chdir(run["cwd"])
        os.environ.update(run["env"])
        for fd, suffix in ((1, "out"), (2, "err")):
            target = os.open(out / f"{run['name']}.{suffix}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        from gapctl import i18n
        from gapctl.cli.run import main

        i18n.use(None)  # the language from this run's environment, as a new process takes it
        try:
            main(run["args"])
            code = 0
        except SystemExit as stop:
            if isinstance(stop.code, int) or stop.code is None:
                code = stop.code or 0
            else:
                print(stop.code, file=sys.stderr)
        except BaseException:  # what the real executable would show: a traceback (GAPCTL_DEBUG=1)
            traceback.print_exc()
    finally:
        try:
            if modules is not None:
                modules.write_text(json.dumps(sorted(sys.modules)), encoding="utf-8")
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _drive(plan: Path, out: Path, timeout: int) -> None:
    import importlib

    import gapctl.cli.run  # noqa: F401  (imported once, before the forks)

    runs = json.loads(plan.read_text(encoding="utf-8"))
    if runs:  # a probe: the first run in a child, to learn which modules gapctl imports lazily for such a run
        modules = plan.with_suffix(".modules")
        pid = os.fork()
        if pid == 0:
            _child({**runs[0], "name": plan.stem + "-probe"}, out, timeout, modules)
        os.waitpid(pid, 0)
        for name in json.loads(modules.read_text(encoding="utf-8")) if modules.exists() else []:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - only a head start: the child imports what it still needs
                pass
    for run in runs:
        pid = os.fork()
        if pid == 0:
            _child(run, out, timeout)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        (out / f"{run['name']}.status").write_text(str(code), encoding="utf-8")


if __name__ == "__main__":
    _drive(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
