"""`--executor dask`: the per-file work on a dask.distributed cluster gives byte-identical output, and
the public per-file API (gapctl.scoring.pipeline) pickles; without dask, one line and exit 3."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.escape import json_document
from gapctl.scoring import executors, pipeline
from gapctl.scoring.scoreboard import json_data
from tests.conftest import MINI_OBS_A, MINI_OBS_B, MINI_ROUND, MINI_SCHEME, MINI_UNITS, ROOT, write_repo

runner = CliRunner()
SHIPPED = ["suizhou-2021", "chongqing-2020", "yanjiang-2021"]  # one scheme; two schemes; a rank bonus


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """One worker process (so every task and the plan really travel pickled), two threads."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address
    executors.close()


@pytest.fixture(autouse=True)
def _local_afterwards() -> Iterator[None]:
    yield
    executors.close()  # the CLI's choice lasts for the process; tests share one


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/generate.py"), "--units", "60", "--indicators",
                           "24", "--seed", "3", "--out", str(out)], capture_output=True, text=True, check=True,
                          timeout=120)
    return Path(proc.stdout.strip().splitlines()[-1])


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def both(scheduler: str, *args: str, code: int = 0) -> tuple[str, str]:
    here = invoke(*args, code=code)
    there = invoke(*args, "--executor", "dask", "--scheduler", scheduler, code=code)
    return here, there


def ran_on_cluster() -> set[str]:
    """The functions the cluster has run tasks of (its scheduler's task prefixes)."""
    chosen = executors.chosen()
    assert chosen is not None, "the last command ran here, not on the cluster"
    return set(chosen.client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes)))


def files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_score_and_validate_are_byte_identical_on_the_cluster(scheduler: str, generated: Path) -> None:
    for round_dir in [generated, *(ROOT / "rounds" / r for r in SHIPPED)]:
        for fmt in ("json", "table", "csv"):
            here, there = both(scheduler, "score", str(round_dir), "--no-cache", "--format", fmt)
            assert here == there and here, (round_dir.name, fmt)
        here, there = both(scheduler, "validate", str(round_dir), "--no-cache", "--format", "json")
        assert here == there
    assert "outcome_batch" in ran_on_cluster()


def test_problems_come_back_the_same(scheduler: str, tmp_path: Path) -> None:
    repo = write_repo(tmp_path, {
        "schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS, "rounds/r1/round.toml": MINI_ROUND,
        "rounds/r1/observations/a.yaml": MINI_OBS_A.replace("result: done", "result: yes"),
        "rounds/r1/observations/b.yaml": MINI_OBS_B.replace('"1.1"', '"9.9"') + "unknown_key: 1\n",
    })
    for fmt in ("text", "json", "sarif"):
        here, there = both(scheduler, "validate", str(repo / "rounds/r1"), "--no-cache", "--format", fmt, code=1)
        assert here == there and "9.9" in here


def test_the_cluster_fills_the_cache_the_local_run_reads(scheduler: str, generated: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAPCTL_CACHE_DIR", str(tmp_path / "cache"))
    there = invoke("score", str(generated), "--format", "json", "--executor", "dask", "--scheduler", scheduler)
    executors.close()
    from gapctl.scoring import outcomes
    checked = outcomes.check(generated)
    assert checked.plans[0].computed == 0  # every outcome the cluster computed was stored under the right key
    assert invoke("score", str(generated), "--format", "json") == there


def test_parquet_export_is_byte_identical_on_the_cluster(scheduler: str, generated: Path, tmp_path: Path) -> None:
    rounds = [str(generated), str(ROOT / "rounds/yanjiang-2021")]
    invoke("export", *rounds, "--format", "parquet", "--no-cache", "--out", str(tmp_path / "here"))
    invoke("export", *rounds, "--format", "parquet", "--no-cache", "--out", str(tmp_path / "there"),
           "--executor", "dask", "--scheduler", scheduler)
    assert "leaf_job" in ran_on_cluster()  # dask names a prefix without the leading underscore
    assert files(tmp_path / "here") == files(tmp_path / "there")
    assert len([p for p in files(tmp_path / "here") if p.startswith("leaves/round=bench/")]) >= 3


def test_the_per_file_api_pickles_and_gives_what_score_prints(tmp_path: Path) -> None:
    round_dir = ROOT / "rounds" / "yanjiang-2021"
    plan = pipeline.plan(round_dir)
    elsewhere = pickle.loads(pickle.dumps(plan))  # what another machine receives
    assert elsewhere.round_plan.cache is None and elsewhere.round_plan.outcomes == []
    payloads = [pipeline.outcome(elsewhere, path, path.read_bytes()) for path in pipeline.files(plan)]
    assert payloads == [pipeline.outcome(plan, path, path.read_bytes()) for path in pipeline.files(plan)]
    ranked = pipeline.rank(plan, payloads)
    assert ranked.report.problems == [] and ranked.scores is not None
    printed = invoke("score", str(round_dir), "--format", "json", "--no-cache")
    provenance = json.loads(printed)["provenance"]  # what the files were (the command's own addition)
    assert json_document(json_data(ranked.scores, ranked.scores.units), provenance) == printed


def test_without_dask_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    result = runner.invoke(app, ["score", str(ROOT / "rounds/suizhou-2021"), "--executor", "dask",
                                 "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines() == [
        "gapctl: could not run: --executor dask needs dask.distributed, which is not installed: "
        "pip install 'gapctl[cluster]'"]
    assert result.stdout == ""


def test_no_scheduler_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    result = runner.invoke(app, ["validate", str(ROOT / "rounds/suizhou-2021"), "--executor", "dask"])
    assert result.exit_code == 2
    assert "--scheduler" in result.stderr


def test_an_unreachable_scheduler_is_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executors, "CONNECT_SECONDS", 1)
    result = runner.invoke(app, ["export", str(ROOT / "rounds/suizhou-2021"), "--format", "parquet",
                                 "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gapctl: could not run: cannot reach the Dask scheduler at "
                                                   "tcp://127.0.0.1:9")


def test_a_pool_whose_terminate_never_returns_is_given_up_on_after_the_wait() -> None:
    """CPython's Pool.terminate can wait forever on a lock a killed worker held (executors._ended): the command
    goes on after END_WAIT, its workers killed by then."""
    import threading
    import time

    from gapctl.scoring import executors

    class Stuck:
        ended = threading.Event()

        def terminate(self) -> None:
            self.ended.set()
            threading.Event().wait()  # never set: a terminate that hangs

    stuck = Stuck()
    started = time.monotonic()
    executors._ended(stuck, wait=0.2)
    assert stuck.ended.is_set() and time.monotonic() - started < 5


def test_a_pool_ended_by_an_error_leaves_no_worker() -> None:
    """The error goes on up, and the pool's workers are gone when the `with` block is left."""
    import multiprocessing

    import pytest

    from gapctl.scoring import executors

    with pytest.raises(ZeroDivisionError):
        with executors.forked_pool(2) as pool:
            workers = list(pool._pool)
            list(pool.imap_unordered(_one_over, [1, 2, 0, 4] * 20))
    assert workers and not any(p.is_alive() for p in workers)
    assert not [p for p in multiprocessing.active_children() if p in workers]


def _one_over(n: int) -> float:
    return 1 / n
