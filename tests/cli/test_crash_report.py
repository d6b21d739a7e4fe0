"""Exit code 3, "could not run": a bug prints one line naming a crash report, never a traceback.

A real `gapctl` process is made to fail inside a library function (tomllib.loads, patched by a
sitecustomize module on PYTHONPATH, which Python imports before gapctl).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, gapctl_command

BOOM = """\
import tomllib


def _boom(*args, **kwargs):
    raise RuntimeError("forced by the test: TOPSECRET-content-of-a-file")


tomllib.loads = _boom
"""


def run(tmp_path: Path, cwd: Path, cache: Path, debug: bool = False,
        patch: str = BOOM) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(patch, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "GAPCTL_DEBUG"}
    env.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(cache), PYTHONIOENCODING="utf-8", GAPCTL_NO_CACHE="1")
    if debug:
        env["GAPCTL_DEBUG"] = "1"
    return subprocess.run([*gapctl_command(), "validate", "rounds/suizhou-2021"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_a_bug_prints_one_line_and_writes_a_crash_report(tmp_path):
    cache = tmp_path / "cache"
    proc = run(tmp_path, ROOT, cache)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    reports = sorted((cache / "gapctl").glob("crash-*.txt"))
    assert len(reports) == 1
    assert lines[0] == f"gapctl: internal error (RuntimeError), a bug in gapctl: the crash report is {reports[0]}"
    assert "TOPSECRET" not in proc.stderr  # the exception's message (which may quote data) stays in the report
    report = reports[0].read_text(encoding="utf-8")
    from gapctl import __version__
    assert report.startswith(f"gapctl {__version__} crashed at ")
    assert "command line: gapctl validate rounds/suizhou-2021" in report
    assert f"python: {sys.version.split()[0]}" in report
    assert "Traceback (most recent call last)" in report and "RuntimeError: forced by the test" in report
    assert oct(reports[0].stat().st_mode & 0o777) == "0o600"


def test_gapctl_debug_lets_the_traceback_through(tmp_path):
    proc = run(tmp_path, ROOT, tmp_path / "cache", debug=True)
    assert proc.returncode != 0 and "Traceback (most recent call last)" in proc.stderr
    assert "RuntimeError: forced by the test" in proc.stderr
    assert not (tmp_path / "cache/gapctl").exists() or not list((tmp_path / "cache/gapctl").glob("crash-*"))


def test_a_crash_report_is_never_written_inside_the_repository(tmp_path):
    """XDG_CACHE_HOME pointing into the repository (a CI cache step does that): the report goes to the
    system's temporary directory instead, so it cannot be committed."""
    repo = tmp_path / "repo"
    for rel in ("schemes/suizhou-2021.yaml", "units/suizhou-gxq.yaml"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes((ROOT / rel).read_bytes())
    import shutil
    shutil.copytree(ROOT / "rounds/suizhou-2021", repo / "rounds/suizhou-2021")
    proc = run(tmp_path, repo, repo / ".cache")
    assert proc.returncode == 3
    assert not list(repo.rglob("crash-*"))
    path = Path(proc.stderr.strip().rsplit(" ", 1)[-1])
    assert path.is_file() and not path.is_relative_to(repo)
    path.unlink()


@pytest.mark.parametrize(("error", "line"), [
    ("OSError(errno.ENOSPC, 'No space left on device', 'out/x.html')",
     "gapctl: could not run: no space left on the device (out/x.html); nothing else was changed"),
    ("MemoryError()", "gapctl: could not run: out of memory"),
])
def test_what_is_not_a_bug_is_said_as_such_without_a_report(tmp_path, error, line):
    patch = BOOM.replace('RuntimeError("forced by the test: TOPSECRET-content-of-a-file")', error)
    patch = "import errno\n" + patch
    proc = run(tmp_path, ROOT, tmp_path / "cache", patch=patch)
    assert proc.returncode == 3 and proc.stderr.strip() == line
    assert not list((tmp_path / "cache").rglob("crash-*"))
