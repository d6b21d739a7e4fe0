"""`gapctl evidence add` writes only inside the round, for a unit and indicator that exist.

The audit ran `evidence add R ../../../../outside/x …`: it edited a file and copied the evidence
outside the repository, and an unknown indicator was accepted. Each refusal below prints its
reasons one line each, exits 1 and writes nothing, inside or outside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.process.evidence import EvidenceError, add

runner = CliRunner()


def snapshot(*tops: Path) -> dict[str, bytes | str]:
    """Every path under `tops` with its bytes (or its link target): what must not change."""
    out: dict[str, bytes | str] = {}
    for top in tops:
        for dirpath, dirnames, filenames in os.walk(top):
            for name in dirnames + filenames:
                path = Path(dirpath) / name
                out[str(path)] = os.readlink(path) if path.is_symlink() else \
                    path.read_bytes() if path.is_file() else "dir"
    return out


@pytest.fixture
def repo(mini_repo: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(mini_repo)
    (mini_repo / "shot.png").write_bytes(b"\x89PNG screenshot")
    return mini_repo


def refused(repo: Path, *args: str) -> list[str]:
    """The reasons `evidence add` gives (asserting exit 1, no traceback, and nothing written)."""
    outside = repo.parent / "outside"
    outside.mkdir(exist_ok=True)
    before = snapshot(repo, outside)
    result = runner.invoke(app, ["evidence", "add", *args])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert snapshot(repo, outside) == before
    lines = result.output.strip().splitlines()
    assert all(line.startswith("gapctl evidence add: ") for line in lines), lines
    return [line.removeprefix("gapctl evidence add: ") for line in lines]


@pytest.mark.parametrize("unit", ["../../../../outside/x", "../outside", "/tmp/x", "a/../../b", "a\u200b", "a\nb"])
def test_a_unit_that_is_not_an_id_never_reaches_the_file_system(repo, unit):
    (reason,) = refused(repo, "rounds/r1", unit, "1.1", "shot.png")
    assert reason.startswith("unit '") and "is not a valid id" in reason


def test_an_indicator_that_is_not_an_id_is_refused_with_the_unit(repo):
    reasons = refused(repo, "rounds/r1", "../x", "../../1.1", "shot.png")
    assert [r.split(" ", 1)[0] for r in reasons] == ["unit", "indicator"]


def test_an_unknown_indicator_is_refused(repo):
    assert refused(repo, "rounds/r1", "b", "9.9", "shot.png") == ["indicator '9.9' is not in scheme 'mini' (unit 'b')"]


def test_a_group_indicator_is_refused(repo):
    assert refused(repo, "rounds/r1", "b", "1", "shot.png") == [
        "indicator '1' of scheme 'mini' is a group; add evidence to one of its sub-indicators"]


def test_an_indicator_that_does_not_apply_to_the_unit_is_refused(repo):
    """1.2 applies only to units tagged licensing: a has the tag, b does not."""
    assert refused(repo, "rounds/r1", "b", "1.2", "shot.png") == [
        "indicator '1.2' of scheme 'mini' does not apply to unit 'b' (see its applies_to)"]
    result = runner.invoke(app, ["evidence", "add", "rounds/r1", "a", "1.2", "shot.png"])
    assert result.exit_code == 0, result.output


def test_a_unit_outside_the_unit_set_is_refused(repo):
    (repo / "rounds/r1/observations/zz.yaml").write_text("unit: zz\nresults: []\n", encoding="utf-8")
    assert refused(repo, "rounds/r1", "zz", "1.1", "shot.png") == ["unit 'zz' is not in unit set 'mini' of rounds/r1"]


def test_an_evidence_directory_linked_elsewhere_is_refused(repo):
    elsewhere = repo.parent / "outside" / "evidence"
    elsewhere.mkdir(parents=True)
    (repo / "rounds/r1/evidence").symlink_to(elsewhere, target_is_directory=True)
    (reason,) = refused(repo, "rounds/r1", "b", "1.1", "shot.png")
    assert "rounds/r1/evidence is a symbolic link" in reason


def test_a_unit_evidence_directory_linked_inside_the_round_is_refused_too(repo):
    """Writes never go through a link, even one that stays inside (gapctl.data.writes)."""
    (repo / "rounds/r1/evidence/shared").mkdir(parents=True)
    (repo / "rounds/r1/evidence/b").symlink_to("shared", target_is_directory=True)
    (reason,) = refused(repo, "rounds/r1", "b", "1.1", "shot.png")
    assert "rounds/r1/evidence/b is a symbolic link" in reason


def test_a_fifo_to_add_is_refused_without_blocking(repo):
    os.mkfifo(repo / "pipe.png")
    assert refused(repo, "rounds/r1", "b", "1.1", "pipe.png") == [
        "pipe.png: is a FIFO (named pipe), not a regular file; gapctl reads only regular files"]


def test_a_missing_file_to_add_is_refused(repo):
    assert refused(repo, "rounds/r1", "b", "1.1", "missing.png") == ["missing.png: no such file"]


def test_the_library_raises_one_error_with_every_reason(repo):
    with pytest.raises(EvidenceError) as caught:
        add(repo / "rounds/r1", "../x", "../y", repo / "missing.png")
    assert len(caught.value.lines) == 3 and str(caught.value) == "\n".join(caught.value.lines)


def test_a_valid_addition_still_works(repo):
    result = runner.invoke(app, ["evidence", "add", "rounds/r1", "b", "1.1", "shot.png", "--title", "截图"])
    assert result.exit_code == 0, result.output
    assert (repo / "rounds/r1/evidence/b/shot.png").read_bytes() == b"\x89PNG screenshot"
    assert "file: evidence/b/shot.png" in (repo / "rounds/r1/observations/b.yaml").read_text(encoding="utf-8")
