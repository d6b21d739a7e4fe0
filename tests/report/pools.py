"""A small round reported as a large one is: what the tests of the report's forked workers set up."""

from __future__ import annotations

import pytest

from gapctl.report import build
from gapctl.scoring import details, outcomes


def as_large(monkeypatch: pytest.MonkeyPatch, batch: int | None = None, page_pool: bool = True) -> None:
    """The first pass's workers and the page phase's used as from `PARALLEL_FROM` units (here 2), `batch` units a
    page worker's batch (None: as set); `page_pool`: the pages made by the page pool, not joined in place
    (`build.joined_only`, which a plain round's report takes)."""
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    if batch is not None:
        monkeypatch.setattr(details, "BATCH", batch)
    if page_pool:
        monkeypatch.setattr(build, "joined_only", lambda *args: False)
