"""The report's page phase: pages written with one os.open each, the overview's rankings made before the page
workers fork for large rounds, tables cut in small parts, cells counted without markdown-it's escapedSplit: the same
bytes as before every one of these."""

from __future__ import annotations

import pytest

from gapctl.report import build
from tests.report.pools import as_large


def report_bytes(out) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.usefixtures("own_cache_home")
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_rankings_made_before_the_page_workers_fork_give_the_same_report(fmt: str, tmp_path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """From build.RANKINGS_FIRST units the overview's rankings are made before the pool of page workers forks (not
    while it runs): the same files, byte for byte, in a pool of two (cache on and off) and in one process."""
    from typer.testing import CliRunner

    from gapctl.cli import app
    from gapctl.report import markdown
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    as_large(monkeypatch)
    made = []
    ahead = markdown.rankings_ahead

    def counted(*args) -> None:
        made.append(1)
        ahead(*args)
    monkeypatch.setattr(markdown, "rankings_ahead", counted)
    runner = CliRunner()
    runs = []
    for first, jobs, cache in ((10_000, "2", True), (1, "2", True), (1, "2", False), (1, "1", True)):
        monkeypatch.setattr(build, "RANKINGS_FIRST", first)
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        if cache:
            monkeypatch.delenv("GAPCTL_NO_CACHE", raising=False)
        else:
            monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
        out = tmp_path / f"out-{len(runs)}"
        made.clear()
        result = runner.invoke(app, ["--lang", "zh", "report", "rounds/suizhou-2022", "--format", fmt,
                                     "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert made == [1]  # the rankings made ahead once, before or while the pages are made
        runs.append(report_bytes(out))
    assert len(runs[0]) > 3
    assert all(run == runs[0] for run in runs[1:])


def test_a_long_table_with_escaped_pipes_cut_in_parts_is_the_html_of_the_whole(monkeypatch: pytest.MonkeyPatch):
    """Cells are counted with str.split where a line has no backslash, with markdown-it's escapedSplit where it has
    one (an escaped pipe is no border): rows short of cells, and cells holding `\\|`, cut or not, the same HTML."""
    from gapctl.report import html as html_render

    rows = []
    for n in range(400):
        if n % 7 == 0:
            rows.append(f"| {n} | a \\| b |")  # two cells, one holding a pipe
        elif n % 5 == 0:
            rows.append(f"| {n} |")  # short of cells
        else:
            rows.append(f"| {n} | name {n} | {n}.5 |")
    markdown = "# T\n\n| a | b | c |\n|---|---|---:|\n" + "\n".join(rows) + "\n\ntext\n"
    for cells in (3, 30, 3_000):
        monkeypatch.setattr(build, "TABLE_CELLS", cells)
        assert "".join(build._overview_parts(markdown, {})) == html_render.body(markdown, {})


@pytest.mark.parametrize("after", [[], ["## Provenance", "", "- a: b"], ["| x | y |", "|---|---|", "| 1 | 2 |"],
                                   ["", "", "| x |", "|---|"], ["text", "", "| x | y |", "|---|---|", "| 1 | 2 |"]])
@pytest.mark.parametrize("ends", ["\n", "\n\n\n", "", "\n\ntext\n"])
def test_the_overview_s_html_with_lines_after_it_is_that_of_the_whole_text(after: list[str], ends: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`_overview_parts(markdown, charts, after=lines)` joined, which reads blocks and table parts from `markdown` by
    place and never makes the whole text, is the HTML of the text `_with_provenance` makes (`markdown.rstrip("\\n")`, a
    blank line, the lines): long tables first, in the middle and last (then cut with the lines after them, where a
    table of theirs may start a new block), the lines ending the text in any way, and not cut at all."""
    from gapctl.report import html as html_render

    rows = "\n".join(f"| {n} | 单位 {n} | {n}.5 |" for n in range(300))
    table = "| a | b | c |\n|---|---|---:|\n" + rows
    for markdown in (f"# T\n\n{table}\n\nmiddle\n\n{table}{ends}", f"# T\n\ntext{ends}", f"{table}{ends}",
                     f"# T\n\n{table}\nline right after\n\n| short |\n|---|\n| 1 |{ends}"):
        whole = markdown.rstrip("\n") + "\n\n" + "\n".join(after)
        for cells in (3, 30, 3_000):
            monkeypatch.setattr(build, "TABLE_CELLS", cells)
            got = "".join(build._overview_parts(markdown, {}, after=after))
            assert got == html_render.body(whole, {}), (cells, markdown)
            assert "".join(build._overview_parts(markdown, {})) == html_render.body(markdown, {})


def test_a_unit_page_is_written_as_a_new_file_and_never_outside_the_report(tmp_path) -> None:
    """`_write_new` writes the whole bytes into a new file and refuses one that exists (O_EXCL, as open(..., "xb"));
    `_check_rel`'s quick accept of a plain relative path leaves every other path to the full check."""
    path = tmp_path / "page.html"
    data = b"<p>" + "页".encode() * 100_000 + b"</p>\n"
    build._write_new(str(path), data)
    assert path.read_bytes() == data
    with pytest.raises(FileExistsError):
        build._write_new(str(path), b"again")
    assert path.read_bytes() == data
    for rel in ("units/a.html", "units/a.b-c_d.md", "charts/x.svg", "units/县.html"):
        build._check_rel(rel, tmp_path)
    for rel in ("", ".", "../x.html", "units/../../x.html", "/etc/x", "units//x.html", "a\\b.html", "c:x.html",
                "units/..", "./units/x.html"):
        if rel in ("units//x.html", "./units/x.html"):  # normalised to a plain path inside the report: allowed
            build._check_rel(rel, tmp_path)
            continue
        with pytest.raises(build.ReportError):
            build._check_rel(rel, tmp_path)


@pytest.mark.usefixtures("own_cache_home")
def test_page_workers_sent_their_summaries_or_reading_them_in_place_give_the_same_report(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below build.PACK_FROM units the page workers read each batch's summaries in the memory they share with the
    parent; from it they are sent them (`_packed`): the same files, byte for byte."""
    from typer.testing import CliRunner

    from gapctl.cli import app
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    as_large(monkeypatch)
    monkeypatch.setenv("GAPCTL_JOBS", "2")
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    sent = []
    packed = build._packed

    def counted(*args):
        sent.append(1)
        return packed(*args)
    monkeypatch.setattr(build, "_packed", counted)
    runs = []
    for pack_from in (10_000, 1):
        monkeypatch.setattr(build, "PACK_FROM", pack_from)
        sent.clear()
        out = tmp_path / f"out-{pack_from}"
        result = CliRunner().invoke(app, ["report", "rounds/suizhou-2022", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert bool(sent) == (pack_from == 1)
        runs.append(report_bytes(out))
    assert len(runs[0]) > 3 and runs[0] == runs[1]


def test_pages_are_joined_in_this_process_unless_ranking_can_change_a_tail() -> None:
    """`build.joined_only`: one round with its tails made, and no leaf whose figures ranking can change in a tail
    (a rank rule among the main indicators or any section but the bonus items, whose rows are made from the
    summary; a threshold rule or a gate among the penalty items); never with --compare or without tails."""
    from types import SimpleNamespace as NS

    def source(*leaves) -> NS:
        return NS(round=NS(schemes={"s": NS(leaves=lambda: list(leaves))}))

    def leaf(section: str, *kinds: str, gate: object = None) -> NS:
        return NS(section=section, rules=[NS(kind=kind) for kind in kinds], gate=gate)

    plain = [leaf("main", "all-or-nothing"), leaf("main", "ratio", gate=object()), leaf("bonus", "rank"),
             leaf("bonus", "threshold", gate=object()), leaf("penalty", "per-occurrence")]
    assert build.joined_only([source(*plain)], "zh")
    assert not build.joined_only([source(*plain)], None)  # no tails made
    assert not build.joined_only([source(*plain), source(*plain)], "zh")  # --compare
    for changing in (leaf("main", "all-or-nothing", "rank"), leaf("penalty", "rank"), leaf("penalty", "threshold"),
                     leaf("penalty", "per-occurrence", gate=object())):
        assert not build.joined_only([source(*plain, changing)], "zh"), changing


@pytest.mark.usefixtures("own_cache_home")
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_pages_joined_in_place_are_those_of_the_page_pool(fmt: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A round whose tails ranking leaves alone has its pages joined in place even when it is large (GAPCTL_JOBS=2,
    no batch packed for a page worker): by this process and one forked helper (`_joined_halves`), whichever share
    the helper takes (none, some, all), or by this process alone (GAPCTL_JOBS=1, or from HELPER_BELOW units): the
    same files as the page pool gives."""
    from typer.testing import CliRunner

    from gapctl.cli import app
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    as_large(monkeypatch, page_pool=False)
    monkeypatch.setattr(build, "PACK_FROM", 1)  # the page pool, when used, packs its batches
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    sent, halves = [], []
    packed, joined_halves = build._packed, build._joined_halves
    monkeypatch.setattr(build, "_packed", lambda *args: sent.append(1) or packed(*args))
    monkeypatch.setattr(build, "_joined_halves", lambda *args: halves.append(1) or joined_halves(*args))
    joined_only = build.joined_only
    runs = []
    for pool, jobs, share, below in ((True, "2", 50, 10_000), (False, "2", 50, 10_000), (False, "2", 0, 10_000),
                                     (False, "2", 100, 10_000), (False, "1", 50, 10_000), (False, "2", 50, 2)):
        monkeypatch.setattr(build, "joined_only", (lambda *args: False) if pool else joined_only)
        monkeypatch.setattr(build, "HELPER_SHARE", share)
        monkeypatch.setattr(build, "HELPER_BELOW", below)  # 2: as if the round were too large for the helper
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        sent.clear()
        halves.clear()
        out = tmp_path / f"out-{len(runs)}"
        result = CliRunner().invoke(app, ["report", "rounds/suizhou-2022", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert bool(sent) == pool
        assert bool(halves) == (not pool and jobs == "2" and below > 2)
        runs.append(report_bytes(out))
    assert len(runs[0]) > 3
    assert all(run == runs[0] for run in runs[1:])


@pytest.mark.usefixtures("own_cache_home")
@pytest.mark.parametrize("share", [0, 45, 100])
def test_progress_of_pages_joined_with_a_helper_rises_to_the_total(share: int, tmp_path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With a helper making part of the pages (`_joined_halves`), the progress counts this process's pages at the
    pace of both and ends at the total: never past it, never back."""
    from gapctl.io.export import PieceSpool
    from gapctl.scoring import details, one_pass, outcomes
    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT)
    as_large(monkeypatch, page_pool=False)
    monkeypatch.setattr(build, "HELPER_SHARE", share)
    monkeypatch.setattr(build, "PROGRESS_EVERY", 5)
    monkeypatch.setenv("GAPCTL_JOBS", "2")
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    spool = PieceSpool()
    checked, _ = one_pass.check("rounds/chongqing-2020", False, build.keep_tail("zh", True), None, spool, always=True)
    source = details.prepare(checked, outcomes.score(checked))
    seen: list[tuple[int, int]] = []
    helped, joined_halves = [], build._joined_halves
    monkeypatch.setattr(build, "_joined_halves", lambda *args: helped.append(1) or joined_halves(*args))
    build.write_units(source, "html", tmp_path / "out", "zh", spool=spool, progress=lambda n, t: seen.append((n, t)))
    total = len(source.scored.units)
    assert helped and seen[-1] == (total, total) and len(seen) >= (1 if share == 100 else 5)
    assert all(t == total and 0 < n <= total for n, t in seen)
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)
    if share == 45:  # this process's 30 pages of 54 counted as the 54 both make
        assert max(n for n, _ in seen[:-1]) > total - total * share // 100
