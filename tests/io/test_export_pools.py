"""`gapctl export`'s pools: workers forked again after every batch give the bytes one process gives, with the
cache cold, warm and off; each unit's matrix row rendered cell by cell from a memo is the row `matrix_rows` makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gapctl.io import export as E
from gapctl.scoring import details, outcomes
from tests.conftest import ROOT as REPO
from tests.scoring.test_details import ROUNDS, file_by_file, report_files

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path


@pytest.mark.parametrize("name", ROUNDS)
def test_matrix_texts_are_the_cells_of_matrix_rows(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every detailed unit, channel and period of every shipped round (twice: the second time from the memo)."""
    monkeypatch.chdir(REPO)
    source = file_by_file(Path("rounds") / name)
    scored = source.scored
    found = E.shape(scored)
    fields = E.matrix_table(scored, []).fields
    for _ in range(2):
        for summary in scored.units:
            for score in E._detailed_scores(source, scored, details.detail(source, summary)):
                assert E.matrix_texts(score, found, fields) == E._cells_text(E.matrix_rows([score], found)[0], fields)


def test_cli_export_in_pools_forked_again_every_batch_gives_one_process_bytes(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from gapctl.cli import app
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    runner = CliRunner()
    runs = [("one", {"GAPCTL_JOBS": "1", "GAPCTL_NO_CACHE": "1"}),
            ("cold", {"GAPCTL_JOBS": "2", "GAPCTL_WORKER_BATCHES": "1"}),
            ("warm", {"GAPCTL_JOBS": "2", "GAPCTL_WORKER_BATCHES": "1"}),
            ("off", {"GAPCTL_JOBS": "2", "GAPCTL_WORKER_BATCHES": "1", "GAPCTL_NO_CACHE": "1"})]
    for name in ("shanwei-2020", "example-county-2024"):  # 43 units; channels and periods
        for run, env in runs:
            result = runner.invoke(app, ["export", f"rounds/{name}", "--format", "csv", "--out",
                                         str(tmp_path / name / run)], env=env)
            assert result.exit_code == 0, result.output
        expected = report_files(tmp_path / name / "one")
        assert len(expected) >= 4
        for run, _env in runs[1:]:
            assert report_files(tmp_path / name / run) == expected, (name, run)


@pytest.mark.parametrize("name", ROUNDS)
def test_scores_csv_one_unit_at_a_time_is_csv_text_of_the_table(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The streamed exports render the scores table a unit at a time (`scores_csv`): the bytes of the whole
    table's `csv_text`, with either header."""
    monkeypatch.chdir(REPO)
    scored = file_by_file(Path("rounds") / name).scored
    table = E.scores_table(scored)
    assert table.rows
    for header in ("title", "name"):
        head = E.header_text(table, header).encode("utf-8")
        assert E.scores_csv(scored, E.scores_table(scored, rows=False), head) == \
            E.csv_text(table, header).encode("utf-8")
