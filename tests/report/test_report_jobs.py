"""`gapctl report` sizes its pool of workers like validate and score: GAPCTL_JOBS, else the usable cores."""

from __future__ import annotations

import concurrent.futures

import pytest

from gapctl.api import load_round, score
from gapctl.report import build
from tests.conftest import ROOT
from tests.report.pools import as_large


class Pools:
    """Records the pools report starts (and runs their work here, in order)."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        pools = self

        class Pool:
            def __init__(self, max_workers: int, mp_context=None) -> None:
                pools.sizes.append(max_workers)

            def __enter__(self):
                return self

            def __exit__(self, *exc) -> None:
                return None

            def map(self, fn, items):
                return map(fn, items)
        self.Pool = Pool


def run_with(monkeypatch: pytest.MonkeyPatch, jobs: str, cache: bool) -> None:
    """The next command runs with GAPCTL_JOBS=`jobs`, and with the cache or without it."""
    monkeypatch.setenv("GAPCTL_JOBS", jobs)
    if cache:
        monkeypatch.delenv("GAPCTL_NO_CACHE", raising=False)
    else:
        monkeypatch.setenv("GAPCTL_NO_CACHE", "1")


@pytest.mark.parametrize(("jobs", "expected"), [("1", []), ("2", [2]), ("3", [3])])
def test_report_workers_follow_gapctl_jobs(jobs: str, expected: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    scored = score(load_round(ROOT / "rounds" / "suizhou-2021"))
    pools = Pools()
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pools.Pool)
    monkeypatch.setattr(build, "PARALLEL_FROM", 1)  # a small round, as if it were large
    monkeypatch.setenv("GAPCTL_JOBS", jobs)
    pages = build._render_html(scored, "en", None, None)
    assert pools.sizes == expected
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    assert build._render_html(scored, "en", None, None) == pages  # the same pages either way


@pytest.mark.usefixtures("own_cache_home")
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_report_command_gives_the_same_bytes_in_a_pool_or_one_process_with_or_without_the_cache(
        fmt: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gapctl report` one process without the cache (GAPCTL_NO_CACHE=1), a pool of two filling the
    cache, a pool of two from it, one process from it: the same files, byte for byte (a round with
    --compare, whose units' pages say what was fixed)."""
    from typer.testing import CliRunner

    from gapctl.cli import app
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    as_large(monkeypatch)
    runner = CliRunner()
    runs = []
    for jobs, cache in (("1", False), ("2", True), ("2", True), ("1", True)):
        run_with(monkeypatch, jobs, cache)
        out = tmp_path / f"out-{len(runs)}"
        result = runner.invoke(app, ["--lang", "zh", "report", "rounds/suizhou-2022", "--compare",
                                     "rounds/suizhou-2021", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        runs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert (repo / ".gapctl-cache").is_dir()  # the warm runs had a cache to read
    expected = build.render(score(load_round(repo / "rounds/suizhou-2022")), fmt, "zh",
                            score(load_round(repo / "rounds/suizhou-2021")))
    assert runs[0].keys() == expected.keys()  # every page (the bytes: tests/scoring/test_details.py)
    assert all(run == runs[0] for run in runs[1:])


@pytest.mark.usefixtures("own_cache_home")
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_report_without_the_cache_reads_each_unit_file_once_and_gives_the_same_bytes(
        fmt: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the cache off, the page workers score each unit from the observations its check kept
    (gapctl.scoring.one_pass), never from its file again, and are sent their summaries pickled: the same
    files as the cached path, in a pool of two or in one process."""
    from typer.testing import CliRunner

    from gapctl.cli import app
    from gapctl.scoring import details
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    as_large(monkeypatch)
    read_again = details.observations

    def refuse(*args, **kwargs):
        raise AssertionError("a unit file read a second time")
    runner = CliRunner()
    runs = []
    for jobs, cache in (("2", False), ("1", False), ("2", True), ("1", True)):
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        if cache:
            monkeypatch.delenv("GAPCTL_NO_CACHE", raising=False)
            monkeypatch.setattr(details, "observations", read_again)
        else:
            monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
            monkeypatch.setattr(details, "observations", refuse)  # forked workers inherit it
        out = tmp_path / f"out-{len(runs)}"
        result = runner.invoke(app, ["--lang", "zh", "report", "rounds/suizhou-2022", "--format", fmt,
                                     "--out", str(out)])
        assert result.exit_code == 0, result.output
        runs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert (repo / ".gapctl-cache").is_dir()  # the last runs read the cache, and their files from disk
    expected = build.render(score(load_round(repo / "rounds/suizhou-2022")), fmt, "zh")
    assert runs[0].keys() == expected.keys()  # every page (the CLI's also end with the provenance)
    assert all(run == runs[0] for run in runs[1:])


@pytest.mark.usefixtures("own_cache_home")
def test_report_page_workers_are_forked_again_after_gapctl_worker_batches(tmp_path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The page pool replaces a worker after GAPCTL_WORKER_BATCHES batches, as the scoring pool does (a
    long-lived worker ends up with its own copy of every page of the parent's round it touched); a worker
    replaced after every batch gives the same files as workers never replaced and as one process."""
    from typer.testing import CliRunner

    from gapctl.cli import app
    from tests.conftest import copy_repo, pools_renewing

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    as_large(monkeypatch, batch=1)  # a batch a unit: several batches a worker
    asked = pools_renewing(monkeypatch)
    runner = CliRunner()
    runs = []
    for jobs, batches in (("2", "1"), ("2", "0"), ("1", "1")):
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        monkeypatch.setenv("GAPCTL_WORKER_BATCHES", batches)
        monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
        asked.clear()
        out = tmp_path / f"out-{len(runs)}"
        result = runner.invoke(app, ["report", "rounds/suizhou-2022", "--out", str(out)])
        assert result.exit_code == 0, result.output
        runs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
        if jobs == "2":
            assert asked[-1] == (1 if batches == "1" else None)  # the page pool, started after the scoring pool
    assert len(runs[0]) > 3
    assert all(run == runs[0] for run in runs[1:])


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_the_overview_and_report_html_written_in_small_parts_are_the_same_bytes(
        fmt: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The overview and report.html are written in parts of about build.PART characters, each ending with a
    line (report.html's relative links rewritten in each part), the overview's tables rendered build.TABLE_CELLS
    cells at a time: parts of a few characters, cutting the overview in hundreds of places, and tables cut
    after every row give the files the whole-round render gives."""
    from tests.scoring.test_details import file_by_file, report_files, whole

    monkeypatch.chdir(ROOT)
    path = ROOT / "rounds" / "suizhou-2022"
    expected = build.render(whole(path), fmt, "zh", whole(ROOT / "rounds" / "suizhou-2021"))
    written = []
    text_parts = build._text_parts

    def counted(text, flat=False):
        parts = list(text_parts(text, flat))
        written.append(len(parts))
        return iter(parts)
    monkeypatch.setattr(build, "PART", 40)
    monkeypatch.setattr(build, "TABLE_CELLS", 1)
    monkeypatch.setattr(build, "_text_parts", counted)
    build.write_units(file_by_file(path), fmt, tmp_path / "out", "zh", file_by_file(ROOT / "rounds" / "suizhou-2021"))
    assert sum(written) > (200 if fmt == "html" else 50)  # html: index.html and report.html, each in many parts
    assert report_files(tmp_path / "out") == {rel: text.encode("utf-8") for rel, text in expected.items()}


def test_a_report_that_fails_while_report_html_is_written_leaves_the_old_report(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """report.html is the last file, written in parts into the new directory: a run that fails half-way
    through it (here an error after its first part; a kill is the same, the journal rolls it back) leaves the
    previous report as it was, and no half-written directory beside it."""
    from tests.scoring.test_details import file_by_file, report_files

    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    source = file_by_file(ROOT / "rounds" / "shanwei-2020")
    build.write_units(source, "html", out, "en")
    before = report_files(out)
    report_html = build._report_html

    def broken(*args, **kwargs):
        parts = report_html(*args, **kwargs)
        yield next(parts)
        raise KeyboardInterrupt  # report.html's first part is written; then the run dies
    monkeypatch.setattr(build, "_report_html", broken)
    with pytest.raises(KeyboardInterrupt):
        build.write_units(source, "html", out, "zh")
    assert report_files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "xdg") == ["out"]
    monkeypatch.setattr(build, "_report_html", report_html)
    build.write_units(source, "html", out, "zh")  # and the next run writes it
    assert report_files(out) != before


@pytest.mark.parametrize("cells", [1, 5, 60_000])
def test_the_overview_html_with_its_tables_cut_in_parts_is_the_html_of_the_whole(cells: int,
                                                                                   monkeypatch: pytest.MonkeyPatch):
    """build._overview_parts renders the overview's long tables a part of their rows at a time: the same HTML as
    html.body of the whole overview, for every shipped round in both languages; and a Markdown it must not cut
    (a fence reaching over a blank line) is rendered whole."""
    from gapctl.report import html as html_render
    from gapctl.report.markdown import overview

    monkeypatch.setattr(build, "TABLE_CELLS", cells)
    rendered = []
    body = html_render.body
    monkeypatch.setattr(html_render, "body", lambda markdown, charts: rendered.append(markdown) or body(markdown,
                                                                                                       charts))
    for path in sorted(p for p in (ROOT / "rounds").iterdir() if p.is_dir()):
        scored = score(load_round(path))
        for lang in ("zh", "en"):
            page = overview(scored, lang, ".html")
            rendered.clear()
            assert "".join(build._overview_parts(page.markdown, page.charts)) == body(page.markdown, page.charts)
            assert cells > 5 or len(rendered) > 10  # cut in parts
    fenced = "# A\n\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n"
    assert "".join(build._overview_parts(fenced, {})) == body(fenced, {})


@pytest.mark.usefixtures("own_cache_home")
def test_report_provenance_from_the_checked_hashes_is_the_provenance_read_from_disk(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's provenance takes the files' hashes as checking the round found them (hashed, or trusted from
    the cache's stat index), not reading every file again: the same block as gapctl.review.provenance reading the
    files of both rounds (--compare) from disk, with the cache off, filling it and from it."""
    from typer.testing import CliRunner

    from gapctl.cli import app
    from gapctl.report.markdown import provenance_block
    from gapctl.review.provenance import of_rounds
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    rounds = [load_round(repo / "rounds/suizhou-2022"), load_round(repo / "rounds/suizhou-2021")]
    expected = "\n".join(provenance_block(of_rounds(rounds), "zh"))
    assert "rounds/suizhou-2021/observations/" in expected
    for n, cache in enumerate((False, True, True)):
        if cache:
            monkeypatch.delenv("GAPCTL_NO_CACHE", raising=False)
        else:
            monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
        result = CliRunner().invoke(app, ["--lang", "zh", "report", "rounds/suizhou-2022", "--compare",
                                          "rounds/suizhou-2021", "--format", "md", "--out", f"out-{n}"])
        assert result.exit_code == 0, result.output
        assert expected in (repo / f"out-{n}/index.md").read_text(encoding="utf-8")
