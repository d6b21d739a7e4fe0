"""`gapctl followup` in one pass: each unit's leaves as follow-up reads them made as its file is checked
(FactKeeper), finished with what ranking decided, and kept in the cache beside the file's outcome; run again it
reads and scores no unchanged file of either round, and says what it says without the cache and what the two
rounds loaded whole give."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl import api
from gapctl.cli import app
from gapctl.process.followup import followup, text_lines
from gapctl.scoring.score import score_round
from tests.conftest import copy_repo
from tests.process.test_agreement_cache import Read, once_then_from_the_cache

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path

OLD, NEW = "rounds/suizhou-2021", "rounds/suizhou-2022"  # indicators matched by id and `replaces:`


def run(*args: str, cache: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    if cache:
        monkeypatch.delenv("GAPCTL_NO_CACHE", raising=False)
    else:
        monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    result = CliRunner().invoke(app, ["followup", OLD, NEW, *args])
    assert result.exit_code == 0, result.output
    return result.output


def files(repo: Path) -> list[str]:
    return sorted(p.name for r in (OLD, NEW) for p in (repo / r / "observations").iterdir())


def test_run_again_it_reads_no_file_and_says_what_it_says_without_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    read = Read(monkeypatch)
    old, new = (score_round(api.check(repo / r).loaded.round) for r in (OLD, NEW))
    whole = "\n".join(text_lines(followup(old, new))) + "\n"
    assert once_then_from_the_cache(run, read, files(repo), monkeypatch) == whole
    assert "整改" in whole  # the rounds have problems to follow: the comparison is not of empty lists


def test_a_problem_fixed_in_an_edited_file_is_read_again_and_shown_fixed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    read = Read(monkeypatch)
    before = run("--format", "json", cache=True, monkeypatch=monkeypatch)
    read.taken()
    assert run("--format", "json", cache=True, monkeypatch=monkeypatch) == before
    assert read.taken() == []
    edited = next(p for p in sorted((repo / NEW / "observations").iterdir())
                  if "result: not-done" in p.read_text(encoding="utf-8"))
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("result: not-done", "result: done", 1), encoding="utf-8")
    after = run("--format", "json", cache=True, monkeypatch=monkeypatch)
    assert read.taken() == [edited.name]
    assert after != before
    assert after == run("--format", "json", cache=False, monkeypatch=monkeypatch)


def test_its_problems_are_judged_unit_by_unit_and_printed_as_the_whole_rounds_give_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From the rounds' sources the problems are kept packed (JudgedProblems), not held as objects, and read
    back as often as the output needs; the JSON printed a batch of problems at a time is the whole rounds'."""
    import json

    from gapctl.process.followup import JudgedProblems, json_data
    from gapctl.scoring import details, outcomes

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    whole = followup(*(score_round(api.check(repo / r).loaded.round) for r in (OLD, NEW)))
    checks = [outcomes.check(repo / r) for r in (OLD, NEW)]
    sources = [details.prepare(checked, outcomes.score(checked)) for checked in checks]
    judged = followup(sources[0].scored, sources[1].scored, *sources)
    assert isinstance(judged.problems, JudgedProblems)
    fields = [(p.unit.id, p.indicator.id, p.status, p.old_lost, p.new_lost, [i.id for i in p.successors], p.reason,
               p.fix, p.why, p.new_reason) for p in whole.problems]
    for _ in range(2):  # read back twice: the same problems each time
        assert [(p.unit.id, p.indicator.id, p.status, p.old_lost, p.new_lost, [i.id for i in p.successors],
                 p.reason, p.fix, p.why, p.new_reason) for p in judged.problems] == fields
    assert judged.counts() == whole.counts() and len(judged.problems) == len(fields) > 0
    assert text_lines(judged) == text_lines(whole) and text_lines(judged, "en") == text_lines(whole, "en")
    printed = json.loads(run("--format", "json", cache=False, monkeypatch=monkeypatch))
    assert {k: v for k, v in printed.items() if k not in ("version", "provenance")} == json_data(whole)


def test_the_earlier_rounds_summaries_are_let_go_before_the_later_round_is_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`followup` settles each round (gapctl.process.followup.Side: its units, schemes and leaf facts on disk)
    before checking the next: the two rounds' summaries are never held at once (at 30,000 units ~150 MB each)."""
    import gc
    import weakref

    from gapctl.cli import common, process

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    checked: list[weakref.ref] = []
    alive_at_second_check: list[bool] = []
    detailed = common._detailed

    def watched(path, *args, **kwargs):
        if checked:
            gc.collect()
            alive_at_second_check.append(checked[0]() is not None)
        scored, source = detailed(path, *args, **kwargs)
        checked.append(weakref.ref(source))  # (a RoundScore has slots: no weak reference to it)
        return scored, source
    monkeypatch.setattr(process, "_detailed", watched)
    whole = followup(*(score_round(api.check(repo / r).loaded.round) for r in (OLD, NEW)))
    assert run(cache=False, monkeypatch=monkeypatch) == "\n".join(text_lines(whole)) + "\n"
    assert alive_at_second_check == [False]
