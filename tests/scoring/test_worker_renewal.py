"""Forked workers are replaced by a fresh fork (sharing the parent's memory again) only in a large pool's work:
`executors.batches_per_worker` and the pools that ask it with how many files they work on."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.scoring import executors, outcomes
from tests.conftest import copy_repo, pools_renewing


def test_a_worker_is_forked_again_only_from_renewed_from_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, GAPCTL_WORKER_BATCHES is WORKER_BATCHES from RENEWED_FROM files (or when how many is not known) and
    never below; set, it applies to any pool (0: never; not a number: WORKER_BATCHES)."""
    monkeypatch.delenv("GAPCTL_WORKER_BATCHES", raising=False)
    assert executors.batches_per_worker(executors.RENEWED_FROM - 1) is None
    assert executors.batches_per_worker(executors.RENEWED_FROM) == executors.WORKER_BATCHES
    assert executors.batches_per_worker() == executors.WORKER_BATCHES
    for wanted, expected in (("1", 1), ("0", None), ("many", executors.WORKER_BATCHES)):
        monkeypatch.setenv("GAPCTL_WORKER_BATCHES", wanted)
        assert executors.batches_per_worker(10) == expected
        assert executors.batches_per_worker(executors.RENEWED_FROM) == expected


@pytest.mark.usefixtures("own_cache_home")
def test_a_cold_score_forks_its_workers_again_only_in_a_large_round(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The scoring pool of a small round keeps its workers to the end; of a round from RENEWED_FROM files (here 2)
    replaces each after WORKER_BATCHES batches; the scores are the same."""
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)  # the small round in a pool
    monkeypatch.setenv("GAPCTL_JOBS", "2")
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    monkeypatch.delenv("GAPCTL_WORKER_BATCHES", raising=False)
    asked = pools_renewing(monkeypatch)
    outputs = []
    for renewed_from, expected in ((executors.RENEWED_FROM, None), (2, executors.WORKER_BATCHES)):
        monkeypatch.setattr(executors, "RENEWED_FROM", renewed_from)
        asked.clear()
        result = CliRunner().invoke(app, ["score", "rounds/chongqing-2020", "--format", "json"])
        assert result.exit_code == 0, result.output
        assert asked == [expected]
        outputs.append(result.output)
    assert outputs[0] == outputs[1] and '"units"' in outputs[0]
