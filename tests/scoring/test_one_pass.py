"""One pass with the cache off (gapctl.scoring.one_pass): the check `outcomes.check` makes, and each unit's
rows for `export` made while checking, give the same bytes as the two-pass and whole-round paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from gapctl import codec
from gapctl.io import export as E
from gapctl.scoring import details, one_pass, outcomes
from tests.conftest import ROOT as REPO
from tests.scoring.test_details import file_by_file, report_files, whole

ROUNDS = sorted(p.name for p in (REPO / "rounds").iterdir() if p.is_dir())

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path


def dumped(checked: outcomes.Checked) -> list:
    """What a check gives, comparable: every outcome as its cache entry, and the problems."""
    out = []
    for plan in checked.plans:
        out += [outcomes.dump_outcome(plan, o) for o in plan.outcomes]
    return out + [(p.code, p.message, p.severity, str(p.locate())) for p in checked.report.sorted()]


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("name", ROUNDS)
def test_one_pass_checks_as_outcomes_does(name: str, jobs: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("GAPCTL_JOBS", jobs)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)  # a pool for every round
    path = Path("rounds") / name
    expected = outcomes.check(path, False)
    got, extras = one_pass.check(path, False, E.pieces)
    assert dumped(got) == dumped(expected)
    assert [p.computed for p in got.plans] == [p.computed for p in expected.plans]
    if not expected.report.errors:
        assert codec.dumps([u.total for u in outcomes.score(got).units]) == \
            codec.dumps([u.total for u in outcomes.score(expected).units])
        assert extras  # every unit file's pieces came back


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_extras_kept_in_a_spool_are_written_there_by_the_workers(jobs: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a spool for the extras (`PieceSpool`), a pool's workers write each file's extra into it themselves and
    send only its place (`one_pass.Written`): the same bytes by path as in a dict, none sent through the pool."""
    from gapctl.data.spool import Spool

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("GAPCTL_JOBS", jobs)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)  # a pool for every round
    adopted = []
    adopt = Spool.adopt
    monkeypatch.setattr(Spool, "adopt", lambda spool, key, place: adopted.append(key) or adopt(spool, key, place))
    path = Path("rounds/chongqing-2020")
    _, expected = one_pass.check(path, False, E.pieces)
    _, spooled = one_pass.check(path, False, E.pieces, extras=E.PieceSpool())
    assert expected and {key: spooled.get(key) for key in spooled.places} == expected
    assert sorted(adopted) == (sorted(expected) if jobs == "2" else [])


def test_with_the_cache_on_it_is_outcomes_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    got, extras = one_pass.check(Path("rounds/shanwei-2020"), True, E.pieces)
    assert extras == {} and got.cache is not None


def one_pass_export(path: Path, fmt: str, out: Path, spool: bool = False) -> bool:
    """Export as `gapctl export --no-cache` does; whether the rows were finished from the pieces (and
    then no observation file was read again)."""
    import pytest as _pytest

    checked, pieces = one_pass.check(path, False, E.pieces, extras=E.PieceSpool() if spool else None)
    source = details.prepare(checked, outcomes.score(checked))
    used = E._finished(source.scored, source, pieces, E.shape(source.scored),
                       E.matrix_table(source.scored, []).fields, E.problems_table(source.scored, []).fields) is not None
    with _pytest.MonkeyPatch.context() as patch:
        if used:
            def read_again(*args: object) -> None:
                raise AssertionError("an observation file read again")
            patch.setattr(details, "observations", read_again)
        E.export(source.scored, fmt, out, source=source, pieces=pieces)
    return used


@pytest.mark.parametrize("name", ROUNDS)
def test_exports_in_one_pass_equal_the_whole_round_export(name: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    path = Path("rounds") / name
    scored = whole(path)
    for fmt in ("csv", "datapackage"):
        E.export(scored, fmt, tmp_path / f"whole-{fmt}")
        used = one_pass_export(path, fmt, tmp_path / f"one-{fmt}")
        assert report_files(tmp_path / f"one-{fmt}") == report_files(tmp_path / f"whole-{fmt}"), fmt
        has_members = bool(scored.channels) or bool(scored.periods)
        assert used == (not has_members), "the pieces are used unless the round has channels or periods"


def test_one_pass_exports_are_the_same_in_a_pool_and_one_process(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """yanjiang-2021 has rank bonuses, which ranking decides after the workers made the rows."""
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    path = Path("rounds/yanjiang-2021")
    source = file_by_file(path, use_cache=True)
    E.export(source.scored, "csv", tmp_path / "two-pass", source=source)
    for jobs in ("1", "2"):
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        assert one_pass_export(path, "csv", tmp_path / f"one-{jobs}", spool=jobs == "2")
        assert report_files(tmp_path / f"one-{jobs}") == report_files(tmp_path / "two-pass"), jobs


def test_a_leaf_ranking_decides_is_finished_from_the_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pieces leave open what ranking decides: with the summary's figure changed, the exported
    cell follows the summary (as `details.graft` would), not the worker's figure before ranking."""
    from decimal import Decimal

    monkeypatch.chdir(REPO)
    path = Path("rounds/yanjiang-2021")
    checked, pieces = one_pass.check(path, False, E.pieces)
    source = details.prepare(checked, outcomes.score(checked))
    unit = next(u for u in source.scored.units if any(
        leaf.rule is not None and leaf.rule.kind == "rank" for leaf in u.leaves.values()))
    key, leaf = next((k, v) for k, v in unit.leaves.items() if v.rule is not None and v.rule.kind == "rank")
    leaf.earned = Decimal("0.77")
    E.export(source.scored, "csv", tmp_path / "one", source=source, pieces=pieces)
    E.export(source.scored, "csv", tmp_path / "two", source=source)
    assert report_files(tmp_path / "one") == report_files(tmp_path / "two")
    assert "0.77" in (tmp_path / "one" / "matrix.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("fmt", ["csv", "datapackage"])
def test_cli_export_with_and_without_the_cache_gives_the_same_bytes(fmt: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`gapctl export` warm, with --no-cache (one pass) and with GAPCTL_NO_CACHE=1, in a pool: the same files."""
    from typer.testing import CliRunner

    from gapctl.cli import app
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    monkeypatch.setenv("GAPCTL_JOBS", "2")
    runner = CliRunner()
    runs = [("cold", [], {}), ("warm", [], {}), ("no-cache", ["--no-cache"], {}),
            ("env", [], {"GAPCTL_NO_CACHE": "1"})]
    for name, options, env in runs:
        result = runner.invoke(app, ["export", "rounds/yanjiang-2021", "--format", fmt, "--out",
                                     str(tmp_path / name), *options], env=env)
        assert result.exit_code == 0, result.output
    expected = report_files(tmp_path / "cold")
    assert len(expected) >= 4
    for name, _options, _env in runs[1:]:
        assert report_files(tmp_path / name) == expected, name


def test_a_cell_is_rendered_as_csv_text_renders_it() -> None:
    """`_cell`'s short paths give what neutralised + csv_field give, hostile text included."""
    from decimal import Decimal

    from gapctl.escape import csv_field

    values = ["", "a", "甲,乙", 'say "hi"', "line\nbreak", "=1+1", " =1+1", "\u3000＝1", "\t1", "\r=1", "-5", "+", "@x",
              " plain", "１０", Decimal("-5"), Decimal("0.50"), Decimal("1E+1"), 3, -2, None, True]
    for value in values:
        for kind in ("string", "number", "integer"):
            assert E._cell(value, kind) == csv_field(E._text(E.neutralised(value, kind))), (value, kind)
