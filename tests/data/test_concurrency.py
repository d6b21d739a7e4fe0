"""Several gapctl processes on one repository at once never corrupt a file or a cache entry.

Four processes share one round and one cache: two score it (JSON and table) over and over,
one keeps `gapctl fmt` rewriting an observation file someone un-formatted, one keeps
`gapctl import` changing a note. Every score is byte-identical, every command either succeeds
or refuses with "changed while gapctl was working on it" (the optimistic check that stops
one writer from overwriting another's change), and afterwards every file parses, nothing
temporary is left and every cache entry is sound. 20 runs each (~20 s);
`GAPCTL_CONCURRENCY_RUNS=100 pytest tests/data/test_concurrency.py` runs it longer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, without_provenance

RUNS = int(os.environ.get("GAPCTL_CONCURRENCY_RUNS", "20"))

WORKER = r"""
import contextlib, io, json, os, sys
from pathlib import Path

from gapctl.cli import main

role, runs = sys.argv[1], int(sys.argv[2])
observation = Path("rounds/r1/observations/a.yaml")
results = []
for n in range(runs):
    if role == "fmt":  # someone un-formats the file (atomically, as editors save), then fmt fixes it
        text = observation.read_text(encoding="utf-8")
        tmp = observation.with_name(f".a.yaml.{os.getpid()}.tmp")
        tmp.write_text(text.replace("unit: a\n", "") + "unit: a\n", encoding="utf-8")
        os.replace(tmp, observation)
        args = ["fmt", "rounds/r1"]
    elif role == "import":
        Path(f"notes{n % 2}.csv").write_text(f"单位,指标,结果,说明\nb,1.1,完成,第{n % 2}次\n", encoding="utf-8")
        args = ["import", "rounds/r1", f"notes{n % 2}.csv", "--force"]
    elif role == "json":
        args = ["score", "rounds/r1", "--format", "json"]
    else:
        args = ["score", "rounds/r1"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
            code = 0
        except SystemExit as stop:
            code = stop.code or 0
    results.append({"code": code, "out": out.getvalue(), "err": err.getvalue()})
print(json.dumps(results))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="flock and fork")
def test_four_processes_on_one_round_and_cache(mini_repo: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # one key for the children and this check
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GAPCTL_NO_CACHE", None)
    roles = ["json", "table", "fmt", "import"]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, role, str(RUNS)], cwd=mini_repo, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for role in roles]
    results = {}
    for role, proc in zip(roles, procs, strict=True):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and "Traceback" not in err, err
        results[role] = json.loads(out)
    for role in ("json", "table"):
        runs = results[role]
        assert [r["code"] for r in runs] == [0] * RUNS, runs
        # byte-identical, every time (but for the hashes of the files as each run read them, which fmt and
        # import keep changing)
        assert len({without_provenance(r["out"]) for r in runs}) == 1, role
        assert not [r for r in runs if "Traceback" in r["err"] or "internal error" in r["err"]]
    for role in ("fmt", "import"):
        for run in results[role]:
            assert run["code"] == 0 or "changed while gapctl was working on it" in run["out"] + run["err"], run
        assert any(run["code"] == 0 for run in results[role]), results[role]
    # afterwards: files whole and valid, nothing temporary, the cache sound and complete
    env_check = {**env, "GAPCTL_NO_CACHE": "1"}
    uncached = subprocess.run([sys.executable, "-m", "gapctl", "score", "rounds/r1", "--format", "json"],
                              cwd=mini_repo, env=env_check, capture_output=True, text=True)
    assert uncached.returncode == 0, uncached.stderr
    assert without_provenance(uncached.stdout) == without_provenance(results["json"][0]["out"])
    assert '"provenance"' in uncached.stdout
    assert not [p for p in mini_repo.rglob("*") if p.name.endswith(".tmp") and p.name.startswith(".")]
    from gapctl.data import cache as C
    from gapctl.scoring import outcomes

    os.chdir(mini_repo)
    try:
        checked = outcomes.check(Path("rounds/r1"))
    finally:
        os.chdir(ROOT)
    assert not checked.report.errors
    assert checked.cache is not None and checked.cache.rejected == 0 and checked.cache.hits
    assert all(entry.read_bytes().startswith(C.MAGIC)
               for entry in (mini_repo / ".gapctl-cache").rglob("*") if entry.is_file() and len(entry.parent.name) == 2)
