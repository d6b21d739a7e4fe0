"""Unit pages whose tails (indicators and problem list) were made as their units were scored in the first pass
(gapctl.report.build.keep_tail, gapctl.scoring.one_pass) and joined to a head made from the ranked summary: the
same bytes as the whole-round render, and never another unit's tail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gapctl.io.export import PieceSpool
from gapctl.report import build
from gapctl.scoring import details, one_pass, outcomes
from tests.conftest import ROOT
from tests.report.pools import as_large
from tests.report.test_report_jobs import run_with

ROUNDS = sorted(p.name for p in (ROOT / "rounds").iterdir() if p.is_dir())

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path


def report_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def expected_files(path: Path, fmt: str, lang: str) -> dict[str, bytes]:
    from gapctl.api import check, score

    return {rel: text.encode("utf-8") for rel, text in build.render(score(check(path).loaded.round), fmt,
                                                                     lang).items()}


def tailed_report(path: Path, fmt: str, lang: str | None, out: Path, use_cache: bool = False,
                  shuffle: bool = False) -> tuple[dict[str, bytes], PieceSpool]:
    """The report as `gapctl report` writes it without --compare: the tails kept while checking, in `lang`."""
    spool = PieceSpool()
    checked, _ = one_pass.check(path, use_cache, build.keep_tail(lang, fmt != "md"), None, spool, always=True)
    assert not checked.report.errors
    if shuffle:  # every unit's file given another unit's piece
        places = list(spool.places.items())
        spool.places = {path: places[(n + 1) % len(places)][1] for n, (path, _) in enumerate(places)}
    source = details.prepare(checked, outcomes.score(checked))
    pieces = PieceSpool({key: spool.get(key) for key in spool.places})  # as they were kept: the report empties it
    build.write_units(source, fmt, out, lang or "zh", spool=spool)
    assert not spool.places and os.fstat(spool.file.fileno()).st_size == 0  # its bytes never flushed with the report
    return report_files(out), pieces


class Uses:
    """How many pages were joined from a kept tail, and how many were made again whole."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tailed = self.again = 0
        tail, detail_from, detail = build.TailPiece.tail, details.detail_from, details.detail
        uses = self

        def counted_tail(piece, *args):
            uses.tailed += 1
            return tail(piece, *args)

        def counted(fn):
            def again(*args, **kwargs):
                uses.again += 1
                return fn(*args, **kwargs)
            return again
        monkeypatch.setattr(build.TailPiece, "tail", counted_tail)
        monkeypatch.setattr(details, "detail_from", counted(detail_from))
        monkeypatch.setattr(details, "detail", counted(detail))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize("name", ROUNDS)
def test_pages_joined_from_kept_tails_equal_the_whole_round_render(name: str, fmt: str, lang: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    path = Path("rounds") / name
    uses = Uses(monkeypatch)
    got, spool = tailed_report(path, fmt, lang, tmp_path / "out")
    assert got == expected_files(path, fmt, lang)
    assert len(spool) and uses.tailed + uses.again == len(spool)
    assert uses.tailed  # the tails were used (a round's top units may be made again: their rank bonuses)


def test_bonus_rows_ranking_changed_are_made_from_the_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """yanjiang-2021 gives rank bonuses (a `rank` rule) and has bonus items: the rows of a unit's bonus items are left
    blank in its tail and made from its ranked summary, so units whose bonus ranking changed are joined from their
    tails too."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    path = Path("rounds/yanjiang-2021")
    changed = []
    fits = build.TailPiece.fits

    def seen(piece, summary, lang):
        changed.extend(key for key in piece.blank if piece.leaves[key][0] != str(summary.leaves[key].earned))
        return fits(piece, summary, lang)
    monkeypatch.setattr(build.TailPiece, "fits", seen)
    uses = Uses(monkeypatch)
    got, spool = tailed_report(path, "html", "zh", tmp_path / "out")
    assert got == expected_files(path, "html", "zh")
    assert changed and uses.tailed == len(spool) and not uses.again


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_a_unit_whose_leaves_ranking_changed_is_scored_again_from_its_kept_observations(
        fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no row left blank, the units whose rank bonus or bonus threshold ranking changed are scored again from
    the observations kept with their tail, never from their files; the others are joined from their tails."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    monkeypatch.setattr(build, "BLANK_SECTIONS", ())
    uses = Uses(monkeypatch)
    read_again = []
    observations = details.observations
    monkeypatch.setattr(details, "observations", lambda *a: read_again.append(a) or observations(*a))
    path = Path("rounds/yanjiang-2021")
    got, _ = tailed_report(path, fmt, "zh", tmp_path / "out")
    assert got == expected_files(path, fmt, "zh")
    assert uses.tailed and uses.again and not read_again


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_a_tail_is_never_taken_for_another_unit(fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces moved to other units' files (as if the spool had mixed them up) are refused, and those pages made
    again whole: the same files. Without that check the same mix-up gives other pages (this test would see it)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    path = Path("rounds/suizhou-2022")
    expected = expected_files(path, fmt, "zh")
    uses = Uses(monkeypatch)
    got, _ = tailed_report(path, fmt, "zh", tmp_path / "out", shuffle=True)
    assert got == expected
    assert not uses.tailed and uses.again
    fits = build.TailPiece.fits
    monkeypatch.setattr(build.TailPiece, "fits", lambda piece, summary, lang: fits(piece, summary, lang) or (
        piece.lang == lang and piece.unit != summary.unit.id))  # the unit's id no longer checked
    got, _ = tailed_report(path, fmt, "zh", tmp_path / "mixed", shuffle=True)
    assert got != expected


def test_a_tail_in_another_language_than_the_report_is_not_used(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    path = Path("rounds/shanwei-2020")
    spool = PieceSpool()
    checked, _ = one_pass.check(path, False, build.keep_tail("en", True), None, spool, always=True)
    source = details.prepare(checked, outcomes.score(checked))
    uses = Uses(monkeypatch)
    build.write_units(source, "html", tmp_path / "out", "zh", spool=spool)
    assert report_files(tmp_path / "out") == expected_files(path, "html", "zh")
    assert not uses.tailed and uses.again


@pytest.mark.parametrize("name", ROUNDS)
def test_the_language_guessed_before_scoring_is_the_report_s(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --lang the tails are made in the language `gapctl report` will choose from the scored units."""
    from gapctl.cli import common

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(common, "_root_lang", None)
    checked = outcomes.check(Path("rounds") / name, False)
    assert build.report_language(checked.plans[0]) == common._lang(None, outcomes.score(checked).units)


def test_report_joined_from_tails_is_the_same_in_a_pool_and_one_process_cache_on_or_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gapctl report` (which keeps the tails with the cache on too): one process or a pool of two, the cache
    off, filling it and warm, with and without --lang: the same files as the whole-round render."""
    from typer.testing import CliRunner

    from gapctl.api import check, score
    from gapctl.cli import app
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    as_large(monkeypatch)
    monkeypatch.setattr(one_pass, "BATCH", 3)
    runner = CliRunner()
    for name, lang in (("yanjiang-2021", "en"), ("shanwei-2020", None)):
        runs = []
        for jobs, cache in (("1", False), ("2", False), ("2", True), ("2", True), ("1", True)):
            run_with(monkeypatch, jobs, cache)
            out = tmp_path / f"out-{name}-{len(runs)}"
            args = ["--lang", lang] if lang else []
            result = runner.invoke(app, [*args, "report", f"rounds/{name}", "--out", str(out)])
            assert result.exit_code == 0, result.output
            runs.append(report_files(out))
        expected = build.render(score(check(repo / "rounds" / name).loaded.round), "html", lang or "zh")
        assert runs[0].keys() == expected.keys()  # every page (their bytes: the tests above; the CLI's end with
        assert all(run == runs[0] for run in runs[1:])  # the provenance)


@pytest.mark.parametrize("pool", [True, False])
@pytest.mark.parametrize("jobs", ["2", "1"])
def test_a_page_worker_that_fails_leaves_the_old_report_and_nothing_beside_it(
        jobs: str, pool: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit pages are written into the new directory by the page workers themselves (build.write_units' `into`):
    a worker that fails on a page (here the round's last unit's page refused, after the others were written)
    fails the run, and the journal rolls the new directory back: the previous report stays as it was, with no
    half-filled directory beside it, in a pool of two as in one process, and where the pages are joined in place
    (`pool` False) by this process and its helper (which makes the last pages) as by this process alone."""
    from gapctl.report.build import ReportError

    path = ROOT / "rounds" / "shanwei-2020"
    run_with(monkeypatch, jobs, False)
    as_large(monkeypatch, batch=1, page_pool=False)
    if pool:
        monkeypatch.setattr(build, "joined_only", lambda *args: False)  # the page pool, not pages joined in place
    helped, joined_halves = [], build._joined_halves
    monkeypatch.setattr(build, "_joined_halves", lambda *args: helped.append(1) or joined_halves(*args))
    out = tmp_path / "out"
    before, _spool = tailed_report(path, "html", "en", out)
    assert bool(helped) == (not pool and jobs == "2")
    last = sorted(rel for rel in before if rel.startswith("units/"))[-1]
    checked_rel, written = build._check_rel, []

    def refused(rel: str, out_dir: Path) -> None:
        if rel == last:
            raise ReportError(f"refusing to write {rel}")
        written.append(rel)  # (in the worker: only one process's own list)
        checked_rel(rel, out_dir)
    monkeypatch.setattr(build, "_check_rel", refused)
    with pytest.raises(ReportError, match="refusing"):
        tailed_report(path, "html", "zh", out)
    assert report_files(out) == before
    # (xdg: this test's cache home, where the code's fingerprint may be kept when no test before it in this process
    # worked it out)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "xdg") == ["out"]
    if jobs == "1":
        assert any(rel.startswith("units/") for rel in written)  # pages were written before the failure


def test_unit_pages_written_by_the_page_workers_are_those_the_parent_would_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages written by the workers into the new directory (a pool of two, tallies summed a batch at a time in the
    workers) give the files one process gives, and the files the parent writes when it is handed every page's
    bytes (`_report_files` without `into`, as for a PDF)."""
    path = ROOT / "rounds" / "suizhou-2022"
    as_large(monkeypatch, batch=2)
    runs = []
    for jobs in ("2", "1"):
        run_with(monkeypatch, jobs, False)
        runs.append(tailed_report(path, "html", "zh", tmp_path / f"out-{jobs}")[0])
    assert runs[0] == runs[1]
    spool = PieceSpool()
    checked, _ = one_pass.check(path, False, build.keep_tail("zh", True), None, spool, always=True)
    source = details.prepare(checked, outcomes.score(checked))
    handed = {}
    for rel, data in build._report_files(source, "html", "zh", None, None, None, None, None, spool=spool):
        handed[rel] = data if isinstance(data, bytes) else b"".join(data)
    assert handed == runs[0]


def test_removing_a_large_old_directory_from_threads_removes_all_of_it(tmp_path: Path) -> None:
    """gapctl.data.journal.remove_tree (the old report a new one replaces): files unlinked from threads when a
    directory holds many, subdirectories and links (never followed) included, nothing left."""
    from gapctl.data.journal import remove_tree

    old = tmp_path / "old"
    (old / "units" / "deeper").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept.txt").write_text("kept")
    for n in range(150):
        (old / "units" / f"u{n}.html").write_text(str(n))
    (old / "units" / "deeper" / "x").write_text("x")
    (old / "index.html").write_text("i")
    (old / "units" / "link").symlink_to(outside, target_is_directory=True)
    remove_tree(str(old))
    assert not old.exists()
    assert (outside / "kept.txt").read_text() == "kept"


@pytest.mark.parametrize("name", ROUNDS)
def test_a_lean_source_gives_the_same_pages(name: str, tmp_path: Path) -> None:
    """build.lean (what `gapctl report` lets go of once the round is ranked: every file's outcome, the summaries'
    decisions) leaves every page as it was: the files of a lean source are those of the full one."""
    path = ROOT / "rounds" / name
    full = {}
    for n, shed in enumerate((False, True)):
        spool = PieceSpool()
        checked, _ = one_pass.check(path, False, build.keep_tail("zh", True), None, spool, always=True)
        source = details.prepare(checked, outcomes.score(checked))
        if shed:
            assert source.plan.outcomes
            build.lean(source)
            assert not source.plan.outcomes and not any(s.decisions for s in source.scored.units)
        build.write_units(source, "html", tmp_path / f"out-{n}", "zh", spool=spool)
        full[shed] = report_files(tmp_path / f"out-{n}")
    assert full[True] == full[False]


def kept_tails(spool: PieceSpool) -> list:
    """Every piece's tail in `spool` (as the page phase reads it: `TailPiece.tail`, no row left blank)."""
    spool.file.flush()
    return [build._kept_piece(spool.get(key)).made[0] for key in spool.places]


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_an_html_report_keeps_its_tails_without_their_markdown(fmt: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An HTML page is made from its tail's HTML (`_joined_html`): the tail's Markdown is not kept (a third of a
    piece's bytes); a Markdown report keeps its tails' Markdown, and no HTML."""
    from gapctl.report import markdown

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    path = Path("rounds/suizhou-2022")
    got, spool = tailed_report(path, fmt, "zh", tmp_path / "out")
    assert got == expected_files(path, fmt, "zh")
    tails = kept_tails(spool)
    assert tails
    if fmt == "html":  # as UTF-8, never decoded: joined to the page's head as bytes
        assert all(isinstance(tail, markdown.HtmlTail) and tail.html.startswith(b"<h2>") for tail in tails)
    else:
        assert all(tail.markdown and tail.html is None for tail in tails)


@pytest.mark.parametrize("name", ["suizhou-2022", "yanjiang-2021"])
def test_a_page_whose_head_only_its_markdown_renders_is_made_from_its_unit_scored_again(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit whose head `_blocks_html` leaves to markdown-it (`head_html` gives None) has no Markdown tail to join
    to it: it is scored again and its page made whole (`Tailed.detailed`), the same bytes; the others joined."""
    from gapctl.report import markdown

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    head_html = markdown.head_html
    seen: list[str] = []

    def every_other(scored, s, *args):
        seen.append(s.unit.id)
        title, html = head_html(scored, s, *args)
        return title, None if len(seen) % 2 else html
    monkeypatch.setattr(markdown, "head_html", every_other)
    uses = Uses(monkeypatch)
    path = Path("rounds") / name
    got, spool = tailed_report(path, "html", "zh", tmp_path / "out")
    assert got == expected_files(path, "html", "zh")
    assert len(seen) > 2 and uses.again >= len(seen) // 2 and uses.tailed == len(spool)


def test_a_row_made_from_the_summary_that_only_markdown_renders_leaves_no_html_tail(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A tail kept as HTML alone whose blank row, made from the summary, holds a CR or NUL (`html_render.made` leaves
    such a page to markdown-it) gives no HTML: its page is made whole; a plain row is put in its place."""
    from types import SimpleNamespace

    from gapctl.report import markdown

    piece = build.TailPiece("u", "zh", {}, None, ["k"], (markdown.HtmlTail(b"<p>\x000\x00</p>"), None))
    summary = SimpleNamespace(leaves={"k": None})
    for row, html in (("| a | 1 |", markdown.HtmlTail("<p><tr>甲</tr></p>".encode())), ("| a\r | 1 |", None),
                      ("| a\x00 | 1 |", None)):
        monkeypatch.setattr(markdown, "indicator_row", lambda leaf, lang, row=row: (row, "<tr>甲</tr>"))
        tail, _tally = piece.tail(summary)
        assert tail == html
