"""`gapctl export`'s lean paths for large rounds: with the cache on, each unit's rows made in a pool forked
before the outcomes are read from the cache (`early_run`); with the cache off, the outcomes' bytes spooled
while the workers run and decoded once they are gone (`spooled_run`, from `SPOOL_OUTCOMES_FROM` files; a
smaller round's decoded as they come). All give the whole round's bytes, in a pool or in one process, warm or
cold; none details a unit a second time; and in a large round the pool's rows all come back before the parent
reads any outcome, which is what keeps a 30,000-unit round's process tree small."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.io import export as E
from gapctl.scoring import details, outcomes
from tests.conftest import copy_repo
from tests.scoring.test_details import report_files, whole

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path

TABLES = ("scores.csv", "matrix.csv", "problems.csv")
POOL = {"GAPCTL_JOBS": "2", "GAPCTL_WORKER_BATCHES": "1"}
RUNS = [("one-off", {"GAPCTL_JOBS": "1", "GAPCTL_NO_CACHE": "1"}),
        ("pool-off", {**POOL, "GAPCTL_NO_CACHE": "1"}),
        ("pool-off-spooled", {**POOL, "GAPCTL_NO_CACHE": "1"}),  # `_export(spooled=True)`
        ("pool-cold", POOL),
        ("pool-warm", POOL),
        ("one-warm", {"GAPCTL_JOBS": "1"})]


@pytest.fixture
def small_pools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    return repo


def _export(out: Path, name: str, fmt: str, env: dict[str, str], spooled: bool = False) -> None:
    """`spooled`: the cache-off pool decodes the outcomes after it is done, as in a large round."""
    threshold = E.SPOOL_OUTCOMES_FROM
    if spooled:
        E.SPOOL_OUTCOMES_FROM = 2
    try:
        result = CliRunner().invoke(app, ["export", f"rounds/{name}", "--format", fmt, "--out", str(out)], env=env)
    finally:
        E.SPOOL_OUTCOMES_FROM = threshold
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["shanwei-2020", "chongqing-2020", "example-county-2024"])
def test_lean_exports_give_the_whole_round_tables(name: str, tmp_path: Path, small_pools: Path) -> None:
    """CSV and Data Package, cache off / cold / warm, pool or one process: the tables of the round loaded whole
    (example-county has channels and periods: the rows are rendered from each unit's files instead)."""
    for fmt in ("csv", "datapackage"):
        E.export(whole(Path("rounds") / name), fmt, tmp_path / "whole" / fmt)
        expected = {k: v for k, v in report_files(tmp_path / "whole" / fmt).items() if Path(k).name in TABLES}
        assert len(expected) == 3
        sidecars = []
        for run, env in RUNS:
            _export(tmp_path / run / fmt, name, fmt, env, spooled=run.endswith("-spooled"))
            got = report_files(tmp_path / run / fmt)
            assert {k: v for k, v in got.items() if Path(k).name in TABLES} == expected, (name, fmt, run)
            sidecars.append({k: v for k, v in got.items() if Path(k).name not in TABLES})
        assert all(s == sidecars[0] and s for s in sidecars), (name, fmt)  # provenance.json / datapackage.json


def test_lean_exports_detail_no_unit_again(small_pools: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In one process, warm and off: every unit's rows come from the pieces made as its file was first read;
    none is detailed (read, parsed and scored) a second time."""
    detailed: list[str] = []
    real = details.detail_and_observations

    def counting(source, summary):
        detailed.append(summary.unit.id)
        return real(source, summary)
    monkeypatch.setattr(details, "detail_and_observations", counting)
    for run, env in (("off", {"GAPCTL_JOBS": "1", "GAPCTL_NO_CACHE": "1"}), ("cold", {"GAPCTL_JOBS": "1"}),
                     ("warm", {"GAPCTL_JOBS": "1"})):
        _export(tmp_path / run, "shanwei-2020", "csv", env)
        assert detailed == [], run


def _pieces_and_outcomes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """"piece" each time a unit's pieces go into the spool and "outcome" each time an outcome is decoded, in order."""
    events: list[str] = []
    real_set, real_load = E.PieceSpool.__setitem__, outcomes.load_outcome

    def put(self, path, data):
        events.append("piece")
        real_set(self, path, data)

    def load(*args, **kwargs):
        events.append("outcome")
        return real_load(*args, **kwargs)
    monkeypatch.setattr(E.PieceSpool, "__setitem__", put)
    monkeypatch.setattr(outcomes, "load_outcome", load)
    return events


@pytest.mark.parametrize("no_cache", [False, True])
def test_pool_rows_all_come_back_before_any_outcome_is_decoded(no_cache: bool, small_pools: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The order that keeps the tree small: the parent puts every unit's pieces in the spool (the pool's work)
    before it decodes a single outcome (its own growth), warm and with the cache off (in a round of
    `SPOOL_OUTCOMES_FROM` files or more)."""
    monkeypatch.setattr(E, "SPOOL_OUTCOMES_FROM", 2)
    events = _pieces_and_outcomes(monkeypatch)
    env = {**POOL, "GAPCTL_NO_CACHE": "1"} if no_cache else POOL
    if not no_cache:
        _export(tmp_path / "cold", "shanwei-2020", "csv", env)  # fills the cache
    events.clear()
    _export(tmp_path / "run", "shanwei-2020", "csv", env)
    assert events.count("piece") == 43 and events.count("outcome") >= 43, events
    assert events.index("outcome") > len(events) - events[::-1].index("piece") - 1, events


def test_a_file_edited_after_its_rows_were_made_is_exported_as_the_check_read_it(
        small_pools: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm path makes each unit's rows before the round is checked; a file edited in between is not
    exported from the rows of its older bytes (they carry the sha256 they were made from) but read again."""
    env = {"GAPCTL_JOBS": "1"}
    _export(tmp_path / "fill", "shanwei-2020", "csv", env)
    edited = small_pools / "rounds/shanwei-2020/observations/chengqu.yaml"
    text = edited.read_text(encoding="utf-8")
    assert '    fraction: 0.6\n' in text
    real = outcomes.run_plan

    def edit_then_run(plan, *args, **kwargs):
        edited.write_text(text.replace('    fraction: 0.6\n', '    fraction: 0.2\n', 1), encoding="utf-8")
        return real(plan, *args, **kwargs)
    monkeypatch.setattr(outcomes, "run_plan", edit_then_run)
    _export(tmp_path / "raced", "shanwei-2020", "csv", env)
    monkeypatch.setattr(outcomes, "run_plan", real)
    _export(tmp_path / "after", "shanwei-2020", "csv", {"GAPCTL_JOBS": "1", "GAPCTL_NO_CACHE": "1"})
    raced, after = report_files(tmp_path / "raced"), report_files(tmp_path / "after")
    assert raced["problems.csv"] != report_files(tmp_path / "fill")["problems.csv"]
    assert {k: raced[k] for k in TABLES} == {k: after[k] for k in TABLES}


def test_a_smaller_round_decodes_its_outcomes_while_the_pool_runs(small_pools: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Below `SPOOL_OUTCOMES_FROM` files, with the cache off, the parent decodes each outcome as its batch comes
    back, between the pool's pieces (as `gapctl score` does), not once the pool is done; the tables are those
    of the spooled order (`test_lean_exports_give_the_whole_round_tables`, pool-off against pool-off-spooled)."""
    events = _pieces_and_outcomes(monkeypatch)
    assert E.SPOOL_OUTCOMES_FROM > 43
    _export(tmp_path / "run", "shanwei-2020", "csv", {**POOL, "GAPCTL_NO_CACHE": "1"})
    assert events.count("piece") == 43 and events.count("outcome") >= 43, events
    assert events.index("outcome") < len(events) - events[::-1].index("piece") - 1, events
