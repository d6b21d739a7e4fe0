"""`gapctl import` in one pass (gapctl.io.import_pass): the same output, files and problems as the round's check
followed by `importer.read`, in one process or in a pool; each edited file read once; no cycle kept."""

from __future__ import annotations

import dataclasses
import gc
import weakref
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.io import import_pass
from gapctl.scoring import outcomes
from tests.conftest import copy_repo

runner = CliRunner()
ROUND = "rounds/suizhou-2021"


def _repo(tmp_path: Path, missing: bool = True) -> Path:
    """The shipped round with a warning in a file the import edits (a lost point without 扣分理由, which the
    import must not call its own) and, with `missing`, a unit without a file (the import makes it)."""
    repo = copy_repo(tmp_path)
    xihe = repo / ROUND / "observations/xihe.yaml"
    xihe.write_text(xihe.read_text(encoding="utf-8").replace("    reason: 线上公开渠道检索功能不可用。\n", "", 1),
                    encoding="utf-8")
    if missing:
        (repo / ROUND / "observations/office.yaml").unlink()
    return repo


ROWS = ["单位,指标,结果,扣分理由,说明", "xihe,1.1,未完成,,", "office,1.1,完成,,", "econ,1.1,未完成,入口失效,",
        "econ,2.1.1,完成,,", "xihe,1.2,未完成,,检索仍不可用", "market,1.1,完成,,"]  # row 6: W504 before and after


def _import(repo: Path, monkeypatch: pytest.MonkeyPatch, *args: str, rows: list[str] = ROWS) -> tuple:
    monkeypatch.chdir(repo)
    Path("r.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    done = runner.invoke(app, ["import", ROUND, "r.csv", *args])
    files = {p.name: p.read_bytes() for p in sorted(Path(ROUND, "observations").iterdir())}
    return done.exit_code, done.output, files


def _one_after_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    """The import as before the one pass: the round checked, then `importer.read`."""
    monkeypatch.setattr(import_pass.Pass, "_prepare", lambda self, rp, paths: None)


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("force", [False, True])
def test_one_pass_says_and_writes_what_one_after_the_other_does(tmp_path, monkeypatch, jobs, force):
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)  # a pool for the shipped round's few files
    monkeypatch.setattr(import_pass, "BATCH", 3)
    monkeypatch.setenv("GAPCTL_JOBS", jobs)
    args = ["--force"] if force else []
    edited: list[str] = []
    real = import_pass._edit
    monkeypatch.setattr(import_pass, "_edit", lambda *a: edited.append(a[4]) or real(*a))
    one_pass = _import(_repo(tmp_path / "one"), monkeypatch, *args)
    if jobs == "1":  # the edits were made in the pass (a pool's workers are other processes)
        assert sorted(edited) == ["econ", "market", "xihe"]
    with monkeypatch.context() as before:
        _one_after_the_other(before)
        expected = _import(_repo(tmp_path / "two"), monkeypatch, *args)
    assert one_pass == expected
    code, output, files = one_pass
    assert code == (0 if force else 1), output
    if force:
        assert "office.yaml" in files and "检索仍不可用" in files["xihe.yaml"].decode("utf-8")
        assert "row 2:" in output and "row 6" not in output  # the W504 xihe had before is not the import's


def test_a_round_with_errors_is_refused_the_same_way(tmp_path, monkeypatch):
    """The round's errors are printed as the check prints them, nothing written, with or without the pass."""
    results = []
    for name in ("one", "two"):
        repo = _repo(tmp_path / name, missing=False)
        bad = repo / ROUND / "observations/econ.yaml"
        bad.write_text(bad.read_text(encoding="utf-8").replace("result: done", "result: maybe", 1), encoding="utf-8")
        with monkeypatch.context() as before:
            if name == "two":
                _one_after_the_other(before)
            results.append(_import(repo, monkeypatch, "--force"))
    assert results[0] == results[1]
    assert results[0][0] == 1 and "Not scored: 1 error(s)" in results[0][1]


def test_a_sheet_with_problems_is_refused_the_same_way(tmp_path, monkeypatch):
    rows = [*ROWS, "nobody,1.1,完成,,", "econ,9.9,完成,,"]
    results = []
    for name in ("one", "two"):
        with monkeypatch.context() as before:
            if name == "two":
                _one_after_the_other(before)
            results.append(_import(_repo(tmp_path / name), monkeypatch, "--force", rows=rows))
    assert results[0] == results[1]
    assert results[0][0] == 1 and "unknown unit 'nobody'" in results[0][1]


def test_the_check_in_the_pass_finds_what_outcomes_finds(tmp_path):
    """`outcome_parsed` (an edited file's check, sharing its parse with the edit) gives the outcome
    `outcomes.outcome_with` gives unscored: the same problems, unit, channel and evidence files."""
    seen = 0
    plans: list = []
    for round_dir in sorted(Path("rounds").iterdir()):
        outcomes.check(round_dir, False, run=lambda plan, only: plans.append(plan))
    for plan in plans:
        unscored = dataclasses.replace(plan, can_score=False)
        for path in plan.round.observation_paths + plan.round.channel_paths:
            data = path.read_bytes()
            want = outcomes.outcome_with(unscored, path, data)[0]
            got, parsed = import_pass.outcome_parsed(unscored, path, data)

            def shown(o):
                return ([(p.code, p.message, p.severity, p.at) for p in o.load_problems + o.check_problems],
                        o.unit, o.channel, [(e.file, e.at) for e in o.evidence_files])
            assert shown(got) == shown(want), path
            assert parsed.data is not None or got.unit is None
            seen += 1
    assert seen > 30


def test_an_entry_edit_keeps_no_cycle(tmp_path):
    """The pass edits while the cyclic collector is paused: an edited file's text, parse and lines must go
    with their EntryEdits (a cycle kept them all: 790 MB at 3,000 units)."""
    from gapctl.data.entry_edits import EntryEdits
    from gapctl.data.writes import read_original

    repo = copy_repo(tmp_path)
    path = repo / ROUND / "observations/econ.yaml"
    enabled = gc.isenabled()
    gc.disable()
    try:
        file = EntryEdits(read_original(path), "results")
        edit, entry = file.item(0, {"result"})
        edit.set(entry, "result", "not-done")
        assert file.new_bytes() != path.read_bytes()
        gone = weakref.ref(file)
        del file, edit, entry
        assert gone() is None
    finally:
        if enabled:
            gc.enable()


def test_import_leaves_the_cache_as_it_is_and_scores_the_same_after(tmp_path, monkeypatch):
    """The pass does not use the cache: `.gapctl-cache` keeps its bytes; a score after the import is the
    score of the files written (as a cold score of them gives)."""
    repo = _repo(tmp_path, missing=False)
    monkeypatch.chdir(repo)
    assert runner.invoke(app, ["score", ROUND]).exit_code == 0
    cache = {p: p.read_bytes() for p in sorted(Path(".gapctl-cache").rglob("*")) if p.is_file()}
    assert cache
    code, output, _files = _import(repo, monkeypatch, "--force")
    assert code == 0, output
    assert {p: p.read_bytes() for p in sorted(Path(".gapctl-cache").rglob("*")) if p.is_file()} == cache
    warm = runner.invoke(app, ["score", ROUND])
    cold = runner.invoke(app, ["score", ROUND, "--no-cache"])
    assert warm.exit_code == cold.exit_code == 0 and warm.stdout == cold.stdout


def _plan_shown(imported) -> tuple:
    """Everything an import plan says and would write, in plain values."""
    def issue(i):
        return (i.sheet, i.row, i.col, i.code, i.message, i.at)
    return ({p: bytes(d) for p, d in imported.files.items()},
            {p: None if s is None else (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns)
             for p, s in imported.seen.items()},
            imported.problems, imported.notes, imported.entries, [issue(i) for i in imported.issues],
            [issue(i) for i in imported.replaced], imported.root)


def _outcomes_shown(checked) -> list:
    return [(o.src.path, o.src.display, o.unit, o.channel, [(p.code, p.message, p.at) for p in o.load_problems],
             [(p.code, p.message, p.at) for p in o.check_problems], [(e.file, e.at) for e in o.evidence_files])
            for o in checked.plans[0].outcomes]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_lean_path_gives_what_the_full_path_gives(tmp_path, monkeypatch, jobs):
    """What the workers send and the parent keeps is packed small (`_light`, `_pack`: a string per file without
    problems, tuples for what an edit said, `Seen` for its stat): the round's outcomes, problems and the import's
    plan (bytes, stats, problems, notes, replaced observations) are those of the round checked as `outcomes.check`
    checks it and then `importer.read` after it; and the sheet's lookups and rows are let go before the workers
    start, and the round's units by id made before (a worker that let go of them, or made them, copied the parent's
    pages: ~70 MB a worker each at 30,000 units)."""
    from gapctl.io import importer

    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    monkeypatch.setattr(import_pass, "BATCH", 3)
    monkeypatch.setenv("GAPCTL_JOBS", jobs)
    rows = [*ROWS, "finance,1.1,未完成,,", "social,2.1.1,完成,无,已改"]
    shown = []
    for name in ("lean", "full"):
        repo = _repo(tmp_path / name)
        monkeypatch.chdir(repo)
        Path("r.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        if name == "lean":
            one = import_pass.Pass(Path("r.csv"), None, None, True, whole=None)
            started: list = []
            from gapctl.scoring import executors
            real_pool = executors.forked_pool

            def pool(workers, one=one, started=started, real_pool=real_pool, **how):
                started.append((dict(one.guessed.looked), len(one.ready[1].sheet.rows),
                                "_units" in one.ready[1].__dict__))  # import_check.units_of: made in the parent
                return real_pool(workers, **how)
            monkeypatch.setattr(executors, "forked_pool", pool)
            checked = outcomes.check(Path(ROUND), False, run=one.run)
            assert one.ready is not None
            assert started == ([({}, 1, True)] if jobs == "2" else [])
            assert one.done and all(isinstance(packed, tuple) and len(packed) == 8 for packed in one.done.values())
            light = [o for o in checked.plans[0].outcomes if not o.load_problems and not o.check_problems]
            assert any(o.load_problems == () and o.measures == {} for o in light)  # the packed ones
            plan = one.imported(checked)
            assert all(isinstance(s, importer.Seen) for s in plan.seen.values() if s is not None)
        else:
            checked = outcomes.check(Path(ROUND), False)
            plan = importer.read(checked.plans[0].round, Path("r.csv"), None, None, True,
                                 now=importer.Now.of_checked(checked), preview=False)
        data = _plan_shown(plan)
        assert data[-1] is not None and Path(data[-1]).resolve() == repo.resolve()
        shown.append((_outcomes_shown(checked), [(p.code, p.message) for p in checked.report.problems], data[:-1]))
        assert importer.write(plan)
        shown[-1] = (*shown[-1], {p.name: p.read_bytes() for p in sorted(Path(ROUND, "observations").iterdir())})
    lean, full = shown
    assert lean[0] == full[0] and lean[1] == full[1]
    files, seen = lean[2][:2]
    assert lean[2][2:] == full[2][2:] and files == full[2][0] and set(seen) == set(full[2][1]) == set(files)
    assert lean[3] == full[3]
    assert lean[2][2] == [] and len(files) == 5 and sum(s is None for s in seen.values()) == 1  # office.yaml: new
