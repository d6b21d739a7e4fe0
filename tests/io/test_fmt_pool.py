"""gapctl fmt in forked workers: the same output, exit code and written bytes as one process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.io import fmt as F
from gapctl.io.fmt import format_paths
from tests.conftest import write_repo

CANONICAL = 'unit: u{n}   # 单位\nresults:\n  - indicator: "1.1"\n    result: done\n'
UNCANONICAL = "results:\n  - result: 完成\n    indicator: '1.{n}'\nunit: u{n}   # 单位 {n}\n"


def many(base: Path) -> Path:
    """24 small observation files: canonical, to reformat, malformed, a link, in no useful order."""
    files: dict[str, str | bytes] = {"rounds/r1/round.toml": 'id = "r1"\n'}
    for n in range(24):
        text = CANONICAL if n % 3 == 0 else UNCANONICAL
        files[f"rounds/r1/observations/u{n:02}.yaml"] = text.format(n=n)
    files["rounds/r1/observations/u05.yaml"] = "unit: [unclosed\n"
    files["rounds/r1/observations/u07.yaml"] = b"unit: \xff\n"
    repo = write_repo(base, files)
    (repo / "rounds/r1/observations/u11.yaml").unlink()
    (repo / "rounds/r1/observations/u11.yaml").symlink_to("u10.yaml")
    return repo


@pytest.fixture
def pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory where each batch leaves the id of the process that formatted it."""
    where = tmp_path / "pids"
    where.mkdir()
    real = F._format_batch

    def batch(check: bool, paths: list[Path]) -> list[F._Done]:
        (where / str(os.getpid())).touch()
        return real(check, paths)

    monkeypatch.setattr(F, "_format_batch", batch)
    return where


def run(repo: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["fmt", *args, str(repo / "rounds")])
    return result.exit_code, result.output


@pytest.mark.parametrize("args", [("--check",), ("--check", "--format", "json"), ()])
def test_workers_say_and_write_what_one_process_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pids: Path,
                                                     args: tuple[str, ...]):
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    monkeypatch.chdir(tmp_path)  # paths shown relative to here
    monkeypatch.setattr(F, "PARALLEL_FROM", 2)
    outputs, trees = [], []
    for jobs in ("1", "2"):
        repo = many(tmp_path / f"jobs{jobs}")
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        code, out = run(repo, *args)
        outputs.append((code, out.replace(f"jobs{jobs}", "REPO")))
        trees.append({p.name: p.read_bytes() for p in sorted((repo / "rounds/r1/observations").iterdir())})
    assert outputs[0] == outputs[1]
    assert trees[0] == trees[1]
    assert len([p for p in pids.iterdir() if p.name != str(os.getpid())]) >= 2  # two workers formatted batches
    code, out = outputs[0]
    assert code == 1 and "u05.yaml" in out and "u07.yaml" in out and "u11.yaml" in out
    if not args:
        assert "13 file(s) reformatted" in out
        assert trees[0]["u01.yaml"] == 'unit: u1   # 单位 1\nresults:\n  - indicator: "1.1"\n    result: done\n' \
            .encode()
    else:
        assert trees[0]["u01.yaml"] == UNCANONICAL.format(n=1).encode()


def test_a_low_threshold_by_parameter_and_jobs_from_the_environment(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch, pids: Path):
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    repo = many(tmp_path / "repo")
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    alone = format_paths([repo], check=True, parallel_from=2)
    assert list(pids.iterdir()) == []  # formatted here, one file at a time
    monkeypatch.setenv("GAPCTL_JOBS", "2")
    pooled = format_paths([repo], check=True, parallel_from=2)
    assert (pooled.changed, pooled.problems, pooled.files) == (alone.changed, alone.problems, alone.files)
    assert len(pooled.changed) == 13 and len(pooled.problems) == 3
    assert len([p for p in pids.iterdir() if p.name != str(os.getpid())]) >= 2
