"""gapctl fmt's memo in .gapctl-cache: bytes found canonical (or, for --check, found to need reformatting) are
not formatted again; the entry is named by the bytes' hash, so an edit, another file's entry or a damaged
cache never lets a file pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.io import fmt as F
from gapctl.io.fmt import format_paths
from tests.conftest import write_repo

pytestmark = pytest.mark.usefixtures("own_cache_home")

CANONICAL = 'unit: a   # 单位\nresults:\n  - indicator: "1.1"\n    result: done\n'
UNCANONICAL = "results:\n  - result: done\n    indicator: '1.1'\nunit: b   # 单位\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo", {"rounds/r1/round.toml": 'id = "r1"\n',
                                          "rounds/r1/observations/a.yaml": CANONICAL,
                                          "rounds/r1/observations/b.yaml": UNCANONICAL})


@pytest.fixture
def formatted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files ruamel.yaml formats (the others were vouched for by the cache)."""
    seen: list[Path] = []
    real = F._format_file

    def spy(path: Path, check: bool, result: F.FmtResult):
        seen.append(path)
        return real(path, check, result)

    monkeypatch.setattr(F, "_format_file", spy)
    return seen


def run(repo: Path, *args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["fmt", *args, str(repo)], env=env or None)
    return result.exit_code, result.output


def test_the_cached_run_says_what_the_uncached_one_says_without_formatting(repo: Path, formatted: list[Path]):
    uncached = run(repo, "--check", GAPCTL_NO_CACHE="1")
    assert not (repo / ".gapctl-cache").exists() and len(formatted) == 2
    assert uncached[0] == 1 and "would reformat" in uncached[1]
    filling = run(repo, "--check")
    assert len(formatted) == 4
    formatted.clear()
    assert run(repo, "--check") == filling == uncached
    assert formatted == []  # both verdicts came from the cache
    assert run(repo, "--check", "--format", "json") == run(repo, "--check", "--format", "json", GAPCTL_NO_CACHE="1")
    formatted.clear()
    assert run(repo, "--check", "--no-cache") == uncached and len(formatted) == 2


def test_writing_formats_a_file_the_cache_only_knows_needs_it_and_skips_a_canonical_one(repo: Path,
                                                                                         formatted: list[Path]):
    format_paths([repo], check=True)  # remembers a canonical, b would change
    formatted.clear()
    result = format_paths([repo], check=False)
    assert formatted == [repo / "rounds/r1/observations/b.yaml"]
    assert result.written == [repo / "rounds/r1/observations/b.yaml"] and result.problems == []
    assert (repo / "rounds/r1/observations/b.yaml").read_text(encoding="utf-8") == \
        'unit: b   # 单位\nresults:\n  - indicator: "1.1"\n    result: done\n'


def test_a_file_edited_after_it_was_cached_is_checked_again(repo: Path, formatted: list[Path]):
    target = repo / "rounds/r1/observations/a.yaml"
    assert format_paths([repo], check=True).changed == [repo / "rounds/r1/observations/b.yaml"]
    st = target.stat()
    edited = CANONICAL.replace("result: done", "result: DONE").replace("# 单位", "#单位 ")  # same size
    edited = edited.replace('"1.1"', "'1.1'")
    assert len(edited.encode()) == st.st_size
    target.write_text(edited, encoding="utf-8")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same modification time
    formatted.clear()
    result = format_paths([repo], check=True)
    assert formatted == [target]
    assert result.changed == [target, repo / "rounds/r1/observations/b.yaml"]


def test_an_entry_vouches_only_for_the_bytes_and_kind_it_names(repo: Path, formatted: list[Path]):
    target = repo / "rounds/r1/observations/b.yaml"
    assert format_paths([repo], check=False).written == [target]
    assert format_paths([repo], check=True).exit_code == 0  # remembers b's new bytes as canonical
    target.write_text(UNCANONICAL.replace("unit: b", "unit: c"), encoding="utf-8")  # bytes never seen
    formatted.clear()
    result = format_paths([repo], check=True)
    assert result.changed == [target] and result.exit_code == 1 and formatted == [target]
    units = write_repo(repo, {"units/u.yaml": CANONICAL}) / "units/u.yaml"  # a.yaml's bytes, another kind
    formatted.clear()
    format_paths([repo], check=True)
    assert formatted == [units]


def test_a_corrupt_or_foreign_cache_is_ignored(repo: Path, formatted: list[Path]):
    format_paths([repo], check=True)
    entries = [p for p in (repo / ".gapctl-cache").rglob("*") if p.is_file() and len(p.parent.name) == 2]
    assert len(entries) == 2
    for entry in entries:  # a verdict swapped for "canonical", its signature left as it was
        entry.write_bytes(entry.read_bytes().replace(b"changed", b"canonical"))
    formatted.clear()
    result = format_paths([repo], check=True)
    assert result.changed == [repo / "rounds/r1/observations/b.yaml"] and result.exit_code == 1
    assert formatted == [repo / "rounds/r1/observations/b.yaml"]
    for entry in entries:
        entry.write_bytes(b"garbage")
    formatted.clear()
    assert format_paths([repo], check=True).changed == [repo / "rounds/r1/observations/b.yaml"]
    assert len(formatted) == 2


def test_the_read_limits_are_part_of_the_name(repo: Path, formatted: list[Path], monkeypatch: pytest.MonkeyPatch):
    format_paths([repo], check=True)
    monkeypatch.setenv("GAPCTL_MAX_FILE_MB", "0.00001")  # 10 bytes: both files are now too large
    formatted.clear()
    result = format_paths([repo], check=True)
    assert len(formatted) == 2 and len(result.problems) == 2 and result.exit_code == 1
