"""Each unit's page piece (its tail and tally: gapctl.report.build.TailKeeper) kept in the cache beside its file's
outcome (gapctl.scoring.one_pass._run_cached): a report run again reads and scores no unchanged file, and gives the
bytes a report without the cache gives; an edited file, another language or format, or a lost entry of pieces is
made again."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.report import build
from gapctl.scoring import one_pass, outcomes
from tests.conftest import copy_repo
from tests.report.test_report_tail import report_files

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path

ROUND = "rounds/yanjiang-2021"


class Scored:
    """The observation files read and scored in this process (GAPCTL_JOBS=1: no worker does it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        compute_with = outcomes.compute_with

        def counted(plan, path, *args, **kwargs):
            self.paths.append(Path(path).name)
            return compute_with(plan, path, *args, **kwargs)
        monkeypatch.setattr(outcomes, "compute_with", counted)
        monkeypatch.setenv("GAPCTL_JOBS", "1")

    def taken(self) -> list[str]:
        out, self.paths = sorted(self.paths), []
        return out


def report(out: Path, *args: str, cache: bool = True, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    if cache:
        monkeypatch.delenv("GAPCTL_NO_CACHE", raising=False)
    else:
        monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    result = CliRunner().invoke(app, [*args, "report", ROUND, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return report_files(out)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    found = copy_repo(tmp_path)
    monkeypatch.chdir(found)
    return found


def test_a_report_run_again_scores_no_file_and_gives_the_bytes_of_one_without_the_cache(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scored = Scored(monkeypatch)
    files = sorted(p.name for p in (repo / ROUND / "observations").iterdir())
    first = report(tmp_path / "first", monkeypatch=monkeypatch)
    assert scored.taken() == files  # every file scored once, its piece kept
    again = report(tmp_path / "again", monkeypatch=monkeypatch)
    assert scored.taken() == []  # every outcome and every piece from the cache
    assert again == first == report(tmp_path / "none", cache=False, monkeypatch=monkeypatch)


def test_an_edited_file_alone_is_scored_again_and_its_page_shows_the_edit_after_a_score_cached_its_outcome(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scored = Scored(monkeypatch)
    before = report(tmp_path / "before", monkeypatch=monkeypatch)
    scored.taken()
    edited = repo / ROUND / "observations" / "approval.yaml"
    text = edited.read_text(encoding="utf-8")
    assert "lead-deploy: true" in text
    edited.write_text(text.replace("lead-deploy: true", "lead-deploy: false", 1), encoding="utf-8")
    result = CliRunner().invoke(app, ["score", ROUND])  # the file's new outcome cached, its piece not (yet)
    assert result.exit_code == 0, result.output
    assert scored.taken() == ["approval.yaml"]
    after = report(tmp_path / "after", monkeypatch=monkeypatch)
    assert scored.taken() == ["approval.yaml"]  # the piece kept is the old file's: made again
    assert after["units/approval.html"] != before["units/approval.html"]
    assert after == report(tmp_path / "none", cache=False, monkeypatch=monkeypatch)


@pytest.mark.parametrize("args", [("--lang", "en"), ("--format", "md")], ids=["language", "format"])
def test_pieces_made_in_another_language_or_format_are_not_taken(
        args: tuple[str, ...], repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scored = Scored(monkeypatch)
    report(tmp_path / "zh", monkeypatch=monkeypatch)
    files = scored.taken()
    lang, fmt = (list(args[:2]), []) if args[0] == "--lang" else ([], list(args))
    other = CliRunner().invoke(app, [*lang, "report", ROUND, *fmt, "--out", str(tmp_path / "other")])
    assert other.exit_code == 0, other.output
    assert scored.taken() == files  # its own pieces made: every file scored again
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    none = CliRunner().invoke(app, [*lang, "report", ROUND, *fmt, "--out", str(tmp_path / "none")])
    assert none.exit_code == 0, none.output
    assert report_files(tmp_path / "other") == report_files(tmp_path / "none")


def test_outcome_entries_a_score_left_whole_are_not_written_again_when_the_pieces_are_first_made(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A report's first run after a score scores every file for its piece, but a chunk whose outcome entry holds
    every member under the key it has now is not written again (the same bytes); a chunk with an edited file is. The
    reports are those without the cache, and a report run again reads everything from it."""
    result = CliRunner().invoke(app, ["score", ROUND])  # every outcome cached, no piece
    assert result.exit_code == 0, result.output
    stored: list[list[int]] = []
    store_chunk = outcomes.store_chunk
    monkeypatch.setattr(outcomes, "store_chunk", lambda plan, chunk, *args: stored.append(list(chunk)) or
                        store_chunk(plan, chunk, *args))
    scored = Scored(monkeypatch)
    files = sorted(p.name for p in (repo / ROUND / "observations").iterdir())
    first = report(tmp_path / "first", monkeypatch=monkeypatch)
    assert scored.taken() == files and stored == []
    assert report(tmp_path / "again", monkeypatch=monkeypatch) == first
    assert scored.taken() == []
    edited = repo / ROUND / "observations" / "approval.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("lead-deploy: true", "lead-deploy: false", 1),
                      encoding="utf-8")
    after = report(tmp_path / "after", monkeypatch=monkeypatch)
    assert scored.taken() == ["approval.yaml"] and len(stored) == 1  # its chunk's entry, with its new outcome
    assert after == report(tmp_path / "none", cache=False, monkeypatch=monkeypatch) != first


def test_a_file_whose_piece_is_lost_is_scored_again_though_its_outcome_is_kept(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scored = Scored(monkeypatch)
    first = report(tmp_path / "first", monkeypatch=monkeypatch)
    files = scored.taken()
    checked = outcomes.check(ROUND)  # the outcomes from the cache: every file's key known
    plan = checked.plans[0]
    assert scored.taken() == []
    tag = build.keep_tail(None, True).cache_form(plan)[0]
    lost = 0
    for chunk in outcomes.chunks_of(outcomes.round_paths(plan)):
        entry = plan.cache.path(one_pass.extras_key(plan, chunk, tag))
        assert entry.is_file()
        entry.write_bytes(entry.read_bytes()[:-1])  # its signature no longer holds: refused
        lost += 1
    assert lost
    assert report(tmp_path / "again", monkeypatch=monkeypatch) == first
    assert scored.taken() == files


def test_no_piece_read_from_the_cache_is_unpickled(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache keeps each piece as gapctl.codec's MessagePack (`TailPiece.record`), as it keeps outcomes: a forged
    entry can give wrong figures, never run code. A report from the cache, in one process, calls no pickle.loads."""
    import pickle

    scored = Scored(monkeypatch)
    first = report(tmp_path / "first", monkeypatch=monkeypatch)
    scored.taken()

    def refused(*args, **kwargs):
        raise AssertionError("pickle.loads called")
    monkeypatch.setattr(pickle, "loads", refused)
    assert report(tmp_path / "again", monkeypatch=monkeypatch) == first
    assert scored.taken() == []


def test_pieces_travel_compressed_and_come_back_as_made() -> None:
    piece = b"\x80\x05" + "省级政务公开".encode() * 100
    packed = one_pass._packing(lambda plan, full, obs: piece)(None, None, None)
    assert packed[:1] == one_pass.PACKED and len(packed) < len(piece)
    assert one_pass.unpacked(packed) == piece == zlib.decompress(packed)
    assert one_pass.unpacked(piece) is None  # an extra kept as made (the cache off)
    assert one_pass._packing(lambda plan, full, obs: None)(None, None, None) is None
