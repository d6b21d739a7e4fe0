"""Units detailed on the file-by-file path (gapctl.scoring.details) equal the whole-round path's.

`explain`, `report`, `export`, `diff`, `followup` and `agreement` read one unit's files at a
time and finish its score from the round's summary; every shipped round must give what
loading it whole gives, in one process and in a pool, cold and warm.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gapctl.api import check, score
from gapctl.scoring import details, outcomes
from gapctl.scoring.explain import explain_data, explain_lines
from tests.conftest import ROOT as REPO
from tests.conftest import copy_repo

ROUNDS = sorted(p.name for p in (REPO / "rounds").iterdir() if p.is_dir())


pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path


def whole(path: Path):
    result = check(path)
    return score(result.loaded.round)


def file_by_file(path: Path, use_cache: bool = False) -> details.Source:
    checked = outcomes.check(path, use_cache)
    assert not checked.report.errors
    return details.prepare(checked, outcomes.score(checked))


def explained(score_, scored, depth: int = 0) -> str:
    lines = explain_lines(score_, "zh", None, depth, scored) + explain_lines(score_, "en", None, 0, scored)
    return "\n".join(lines) + json.dumps(explain_data(score_), ensure_ascii=False, default=str)


@pytest.mark.parametrize("name", ROUNDS)
def test_every_unit_explains_as_the_whole_round_does(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    path = Path("rounds") / name
    expected = whole(path)
    source = file_by_file(path)
    around = details.DetailedRound(source)
    summaries = source.scored.by_unit()
    assert [s.unit.id for s in source.scored.units] == [s.unit.id for s in expected.units]
    for unit in expected.units:
        got = details.detail(source, summaries[unit.unit.id])
        assert explained(got, around, depth=3) == explained(unit, expected, depth=3), unit.unit.id


def test_explain_of_one_unit_parses_no_other_unit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the summary in the cache, `explain` parses the unit's own observation file and no other."""
    from typer.testing import CliRunner

    from gapctl import cli
    from gapctl.data import sources as S
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    runner = CliRunner()
    assert runner.invoke(cli.app, ["score", "rounds/shanwei-2020"]).exit_code == 0  # fills the cache
    parsed: list[str] = []
    real = S.read_file

    def counting(path, *args, **kwargs):
        parsed.append(Path(path).as_posix())
        return real(path, *args, **kwargs)
    for module in (S, outcomes, details):
        monkeypatch.setattr(module, "read_file", counting)
    first = sorted((repo / "rounds/shanwei-2020/observations").iterdir())[0]
    unit = first.stem
    result = runner.invoke(cli.app, ["--lang", "en", "explain", "rounds/shanwei-2020", unit])
    assert result.exit_code == 0, result.output
    observations = [p for p in parsed if "/observations/" in p]
    assert observations == [first.relative_to(repo).as_posix()]
    # and the text is what the whole round gives
    expected = whole(Path("rounds/shanwei-2020")).by_unit()[unit]
    assert result.output.splitlines() == explain_lines(expected, "en")


def report_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


REPORTS = [(name, fmt, "zh") for name in ROUNDS for fmt in ("html", "md")] + [("yanjiang-2021", "html", "en"),
                                                                              ("example-county-2024", "md", "en")]


@pytest.mark.parametrize(("name", "fmt", "lang"), REPORTS)
def test_reports_written_unit_by_unit_equal_the_whole_round_render(name: str, fmt: str, lang: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from gapctl.report import build

    monkeypatch.chdir(REPO)
    path = Path("rounds") / name
    previous = Path("rounds/suizhou-2021") if name == "suizhou-2022" else None  # --compare
    expected = build.render(whole(path), fmt, lang, whole(previous) if previous else None)
    count = build.write_units(file_by_file(path), fmt, tmp_path / "out", lang,
                              file_by_file(previous) if previous else None)
    got = report_files(tmp_path / "out")
    assert count == len(got)
    assert got == {rel: text.encode("utf-8") for rel, text in expected.items()}


def test_reports_and_documents_are_the_same_in_a_pool_and_warm_or_cold(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """GAPCTL_JOBS=1 against a pool of two, and a cold cache against a warm one: the same bytes."""
    from gapctl.report import build

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    path = Path("rounds/shanwei-2020")
    expected = build.render(whole(path), "html", "zh")
    expected_docx = build.document(whole(path), "docx", "zh")
    runs = []
    for jobs, cache in (("1", False), ("2", True), ("2", True), ("1", True)):  # uncached, cold, warm, warm
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        out = tmp_path / f"out-{len(runs)}"
        source = file_by_file(path, use_cache=cache)
        build.write_units(source, "html", out, "zh")
        runs.append((report_files(out), build.document_units(source, "docx", "zh")))
    assert all(files == {rel: text.encode("utf-8") for rel, text in expected.items()} for files, _ in runs)
    assert all(docx == expected_docx for _, docx in runs)


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_reports_with_provenance_and_ranks_asked_equal_the_whole_round_render(fmt: str, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from gapctl.report import build
    from gapctl.review.provenance import of_rounds

    monkeypatch.chdir(REPO)
    path = Path("rounds/example-county-2024")
    expected_scores = whole(path)
    expected_scores.ranks_asked = True
    provenance = of_rounds([expected_scores.round])
    expected = build.render(expected_scores, fmt, "zh", provenance=provenance)
    source = file_by_file(path)
    source.scored.ranks_asked = True
    build.write_units(source, fmt, tmp_path / "out", "zh", provenance=provenance)
    assert report_files(tmp_path / "out") == {rel: text.encode("utf-8") for rel, text in expected.items()}
    assert build.document_units(source, "docx", "zh", provenance=provenance) == \
        build.document(expected_scores, "docx", "zh", provenance=provenance)


def test_documents_written_unit_by_unit_equal_the_whole_round_document(monkeypatch: pytest.MonkeyPatch) -> None:
    from gapctl.report import build

    monkeypatch.chdir(REPO)
    for name in ROUNDS:
        path = Path("rounds") / name
        assert build.document_units(file_by_file(path), "docx", "zh") == build.document(whole(path), "docx", "zh")


@pytest.mark.parametrize("name", ROUNDS)
def test_exports_made_unit_by_unit_equal_the_whole_round_export(name: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from gapctl.io.export import export

    monkeypatch.chdir(REPO)
    path = Path("rounds") / name
    expected, source = whole(path), file_by_file(path)
    for fmt in ("csv", "xlsx", "datapackage"):
        export(expected, fmt, tmp_path / f"whole-{fmt}")
        export(source.scored, fmt, tmp_path / f"units-{fmt}", source=source)
        assert report_files(tmp_path / f"units-{fmt}") == report_files(tmp_path / f"whole-{fmt}"), fmt


def test_exports_are_the_same_in_a_pool_and_warm_or_cold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gapctl.io.export import export

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    path = Path("rounds/chongqing-2020")
    export(whole(path), "csv", tmp_path / "whole")
    for n, (jobs, cache) in enumerate((("1", False), ("2", True), ("2", True), ("1", True))):
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        source = file_by_file(path, use_cache=cache)
        export(source.scored, "csv", tmp_path / f"run-{n}", source=source)
        assert report_files(tmp_path / f"run-{n}") == report_files(tmp_path / "whole"), (jobs, cache)


def files_parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files read_file parses from now on (in this process), in order."""
    from gapctl.data import sources as S

    parsed: list[str] = []
    real = S.read_file

    def counting(path, *args, **kwargs):
        parsed.append(Path(path).name)
        return real(path, *args, **kwargs)
    for module in (S, outcomes, details):
        monkeypatch.setattr(module, "read_file", counting)
    return parsed


def git_repo(tmp_path: Path) -> Path:
    """The shipped rounds committed once, then edited in the working tree: an observation (shanwei),
    a measure that moves other units' rank bonuses (yanjiang), a channel file (example-county), the
    points of an indicator of a scheme (suizhou-2021's, which suizhou-2022 does not use), an
    observation file removed (chongqing) and a round added; the suizhou-2021 scheme's points no longer
    add up (a side with errors is compared whole)."""
    import subprocess

    from tests.review.test_diff import commit

    repo = copy_repo(tmp_path)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    commit(repo, "张三", "初始", 10)

    def edit(rel: str, old: str, new: str) -> None:
        path = repo / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    edit("rounds/shanwei-2020/observations/chengqu.yaml", "result: done", "result: not-done")
    edit("rounds/yanjiang-2021/observations/baohe.yaml", "mailbox-satisfaction: 0.93", "mailbox-satisfaction: 0.99")
    edit("rounds/example-county-2024/channels/county/weibo.yaml", "silent-weeks: 6", "silent-weeks: 1")
    edit("schemes/suizhou-2021.yaml", "    points: 4\n", "    points: 5\n")  # invalid now (E401): compared whole
    edit("schemes/yanjiang-2021.yaml", "    name: 机构保障", "    name: 机构保障（修订）")  # every unit re-read
    (repo / "rounds/chongqing-2020/observations/banan.yaml").unlink()
    shutil.copytree(repo / "rounds/yanjiang-2021", repo / "rounds/yanjiang-copy")
    edit("rounds/yanjiang-copy/round.toml", 'id = "yanjiang-2021"', 'id = "yanjiang-copy"')
    return repo


def diff_outputs(result, repository: bool) -> str:
    from gapctl.escape import json_document
    from gapctl.review import diff_view

    if repository:
        views = (diff_view.repository_text_lines, diff_view.repository_markdown, diff_view.repository_json)
    else:
        views = (diff_view.text_lines, diff_view.markdown, diff_view.json_data)
    out = []
    for lang in ("zh", "en"):
        out += views[0](result, lang, True) + [views[1](result, lang, True)]
    return "\n".join(out) + json_document(views[2](result, True))


def test_diffs_file_by_file_equal_the_whole_round_diffs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every round of the repository against HEAD, two revisions of a round, and two rounds: the same
    text, Markdown and JSON as loading both sides whole; in a pool (git objects read by each worker)
    and with a cold and a warm cache."""
    from gapctl.review import diff, diff_units
    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    real_side = diff_units.side
    calls: list[str] = []

    def counted(directory: Path, tree=None):
        found = real_side(directory, tree)
        calls.append("units" if found is not None else f"whole {directory}")
        return found

    def runs() -> list[str]:
        return [diff_outputs(diff.diff_repository(Path("."), "HEAD"), True),
                diff_outputs(diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD"), False),
                diff_outputs(diff.diff_rounds(Path("rounds/suizhou-2021"), Path("rounds/suizhou-2022")), False)]
    monkeypatch.setattr(diff_units, "side", lambda directory, tree=None: None)
    expected = runs()
    monkeypatch.setattr(diff_units, "side", counted)
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    for jobs in ("2", "2", "1"):  # cold, then warm, in a pool; warm in one process
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        assert runs() == expected
    whole_rounds = {Path(c.split(" ", 1)[1]).name for c in calls if c != "units"}
    assert whole_rounds == {"suizhou-2021", "suizhou-2022"}  # errors now (2022 takes deductions from 2021)
    assert calls.count("units") > 20
    assert "chengqu" in expected[1] and "baohe" in expected[0] and "county" in expected[0]


def test_a_diff_reads_only_the_files_that_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With both sides' summaries in the cache, the units whose files and scheme did not change are
    compared on their summaries: only the edited observation file is parsed again (on each side)."""
    from gapctl.review import diff
    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD")  # fills the cache for both sides
    parsed = files_parsed(monkeypatch)
    result = diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD")
    assert "chengqu" in {u.unit for u in result.changed()}
    # its outcome on each side (the two versions share one chunk entry, which holds the last one
    # written), its detail on each side, and its lines for attribution: no other observation file
    assert sorted(p for p in parsed if p.endswith(".yaml") and p != "shanwei-2020.yaml") == ["chengqu.yaml"] * 5


def test_status_followup_and_agreement_file_by_file_equal_the_whole_round(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """status counts from each file's cached outcome; followup and agreement from each unit's files
    (in a pool too): the same text and JSON as loading the rounds whole."""
    import datetime as dt

    from gapctl.escape import json_document
    from gapctl.process import agreement, followup
    from gapctl.process import status as status_mod

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)

    def shown(module, result) -> str:
        return "\n".join(module.text_lines(result, "zh") + module.text_lines(result, "en")) + \
            json_document(module.json_data(result))
    today = dt.date(2021, 10, 18)
    pairs = [("suizhou-2021", "suizhou-2022"), ("shanwei-2020", "shanwei-2020"), ("yanjiang-2021", "chongqing-2020")]
    checks = {name: check(Path("rounds") / name) for name in ROUNDS}  # the rounds loaded whole, once for both runs
    statuses = {name: shown(status_mod, status_mod.status(checks[name].loaded.round, today)) for name in ROUNDS}
    wholes = {name: score(checked.loaded.round) for name, checked in checks.items()}
    expected = {name: (statuses[name], shown(agreement, agreement.agreement(wholes[name].round, wholes[name])))
                for name in ROUNDS}
    expected_followups = [shown(followup, followup.followup(wholes[old], wholes[new])) for old, new in pairs]
    for jobs in ("1", "2"):
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        if jobs == "2":
            monkeypatch.setattr(details, "PARALLEL_FROM", 2)
            monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
        for name in ROUNDS:
            path = Path("rounds") / name
            checked = outcomes.check(path)
            got = status_mod.status(checked.loaded.round, today, counts_of=outcomes.progress_of(checked))
            assert shown(status_mod, got) == expected[name][0], name
            source = file_by_file(path, use_cache=True)
            assert shown(agreement, agreement.agreement(source.round, source.scored, source)) == expected[name][1], name
        for (old_name, new_name), followed in zip(pairs, expected_followups, strict=True):
            old, new = file_by_file(Path("rounds") / old_name), file_by_file(Path("rounds") / new_name)
            assert shown(followup, followup.followup(old.scored, new.scored, old, new)) == followed


def test_a_diff_leaves_the_working_tree_index_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The older side of a diff is read from git: its run neither trusts nor rewrites the stat index of
    the files on disk (a warm score after a diff still reads no unchanged file)."""
    from gapctl.data import cache as C
    from gapctl.data.tree import GitTree
    from gapctl.review import diff_units

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    round_dir = Path("rounds/shanwei-2020")
    outcomes.check(round_dir)
    outcomes.check(round_dir)  # the index trusts files hashed before this run's snapshot
    checked = outcomes.check(round_dir)
    before = C.StatIndex(checked.cache, str((repo / round_dir).resolve())).old
    assert len(before) >= len(checked.plans[0].round.observation_paths)
    base = GitTree(repo, "HEAD")
    try:
        assert diff_units.side((repo / round_dir).resolve(), base) is not None  # the older side, from git
    finally:
        base.close()
    assert C.StatIndex(checked.cache, str((repo / round_dir).resolve())).old == before
