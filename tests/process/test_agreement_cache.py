"""`gapctl agreement` in one pass: each unit's pairs made as its file is checked (PairKeeper) and kept in the cache
beside the file's outcome; run again it reads and scores no unchanged file, and says what it says without the
cache and what the round loaded whole gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl import api
from gapctl.cli import app
from gapctl.process.agreement import agreement, text_lines
from gapctl.scoring import details
from tests.conftest import copy_repo
from tests.report.test_tail_cache import Scored

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path

ROUND = "rounds/shanwei-2020"  # a second evaluator re-checked six indicators of four departments


class Read(Scored):
    """The observation files scored (`outcomes.compute_with`) or read again to detail a unit (`details.read_file`)
    in this process (GAPCTL_JOBS=1)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch)
        read_file = details.read_file

        def counted(path, *args, **kwargs):
            self.paths.append(Path(path).name)
            return read_file(path, *args, **kwargs)
        monkeypatch.setattr(details, "read_file", counted)


def once_then_from_the_cache(run: Callable[..., str], read: Read, files: list[str],
                             monkeypatch: pytest.MonkeyPatch) -> str:
    """The command's text without the cache, then with it twice: every file read once in each of the first two
    runs (not a second time to detail its unit) and none in the third, the same text each time, and the same JSON
    each time; that text."""
    none = run(cache=False, monkeypatch=monkeypatch)
    assert read.taken() == files
    first = run(cache=True, monkeypatch=monkeypatch)
    assert read.taken() == files
    again = run(cache=True, monkeypatch=monkeypatch)
    assert read.taken() == []  # every outcome and every unit's kept extra from the cache
    assert again == first == none
    json_runs = [run("--format", "json", cache=c, monkeypatch=monkeypatch) for c in (False, True, True)]
    assert json_runs[0] == json_runs[1] == json_runs[2]
    return none


def run(*args: str, cache: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    if cache:
        monkeypatch.delenv("GAPCTL_NO_CACHE", raising=False)
    else:
        monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    result = CliRunner().invoke(app, ["agreement", ROUND, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_run_again_it_scores_no_file_and_says_what_it_says_without_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    scored = Read(monkeypatch)
    files = sorted(p.name for p in (repo / ROUND / "observations").iterdir())
    whole = "\n".join(text_lines(agreement(api.check(repo / ROUND).loaded.round))) + "\n"
    assert once_then_from_the_cache(run, scored, files, monkeypatch) == whole
    assert "0.6" in whole or "Kappa" in whole  # the round has pairs: the comparison is not of empty tables


def test_an_edited_file_alone_is_read_again_and_its_pairs_follow_the_edit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    scored = Read(monkeypatch)
    run(cache=True, monkeypatch=monkeypatch)
    scored.taken()
    before = run(cache=True, monkeypatch=monkeypatch)
    assert scored.taken() == []
    edited = repo / ROUND / "observations" / "djzx.yaml"
    text = edited.read_text(encoding="utf-8")
    review = '  - indicator: "1.4"\n    fraction: 1\n    note: 第二评估员复核。'
    assert review in text
    edited.write_text(text.replace(review, review.replace("fraction: 1", "fraction: 0"), 1), encoding="utf-8")
    after = run(cache=True, monkeypatch=monkeypatch)
    assert scored.taken() == [edited.name]
    assert after != before  # the reviewer now gives 1.4 nothing
    assert after == run(cache=False, monkeypatch=monkeypatch)
