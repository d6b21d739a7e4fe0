"""`gapctl report` sizes its pool of workers like validate and score: GAPCTL_JOBS, else the usable cores."""

from __future__ import annotations

import concurrent.futures

import pytest

from gapctl.api import load_round, score
from gapctl.report import build
from tests.conftest import ROOT


class Pools:
    """Records the pools report starts (and runs their work here, in order)."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        pools = self

        class Pool:
            def __init__(self, max_workers: int, mp_context=None) -> None:
                pools.sizes.append(max_workers)

            def __enter__(self):
                return self

            def __exit__(self, *exc) -> None:
                return None

            def map(self, fn, items):
                return map(fn, items)
        self.Pool = Pool


@pytest.mark.parametrize(("jobs", "expected"), [("1", []), ("2", [2]), ("3", [3])])
def test_report_workers_follow_gapctl_jobs(jobs: str, expected: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    scored = score(load_round(ROOT / "rounds" / "suizhou-2021"))
    pools = Pools()
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pools.Pool)
    monkeypatch.setattr(build, "PARALLEL_FROM", 1)  # a small round, as if it were large
    monkeypatch.setenv("GAPCTL_JOBS", jobs)
    pages = build._render_html(scored, "en", None, None)
    assert pools.sizes == expected
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    assert build._render_html(scored, "en", None, None) == pages  # the same pages either way
