"""gapctl's code fingerprint (every cache key starts with it) is kept under the stats of the files it hashes
(gapctl.data.cache.package_fingerprint): read again only when a stat changes, never trusted when a file was
modified too recently for its stat to show a later edit."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gapctl.data import cache as C

HOUR_NS = 3600 * 10**9


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A package of three files last changed an hour ago (their stats are not racy)."""
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "a.py").write_text("A = 1\n")
    (root / "sub" / "b.py").write_text("B = 2\n")
    (root / "sub" / "zh.mo").write_bytes(b"\x00catalogue")
    (root / "notes.txt").write_text("not hashed\n")
    old = time.time_ns() - HOUR_NS
    for path in root.rglob("*"):
        os.utime(path, ns=(old, old))
    return root


class Reads:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = Path.read_bytes

        def spy(path: Path) -> bytes:
            self.count += 1
            return original(path)
        monkeypatch.setattr(Path, "read_bytes", spy)


def plain_hash(root: Path, version: str) -> str:
    """The fingerprint as it was made before it was kept: every file's path and bytes, in path order."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.mo")]):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    digest.update(version.encode())
    return digest.hexdigest()


def test_the_fingerprint_is_read_from_its_memo_until_a_file_changes(package: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    memo = tmp_path / "memo"
    expected = plain_hash(package, "1.0")
    reads = Reads(monkeypatch)
    assert C.package_fingerprint(str(package), "1.0", memo) == expected
    assert reads.count == 3                                  # hashed: .py and .mo files only
    assert C.package_fingerprint(str(package), "1.0", memo) == expected
    assert reads.count == 3                                  # from the memo: no file read
    assert C.package_fingerprint(str(package), "1.1", memo) == plain_hash(package, "1.1")  # another version
    (package / "sub" / "b.py").write_text("B = 3\n")          # same size, new bytes and stat
    old = time.time_ns() - HOUR_NS
    os.utime(package / "sub" / "b.py", ns=(old, old))
    changed = plain_hash(package, "1.0")
    assert changed != expected
    assert C.package_fingerprint(str(package), "1.0", memo) == changed
    (package / "c.py").write_text("")                        # a new file
    os.utime(package / "c.py", ns=(old, old))
    assert C.package_fingerprint(str(package), "1.0", memo) == plain_hash(package, "1.0") != changed


def test_a_recently_modified_file_is_hashed_on_every_run(package: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    memo = tmp_path / "memo"
    (package / "a.py").write_text("A = 5\n")                  # now: racy
    expected = plain_hash(package, "1.0")
    reads = Reads(monkeypatch)
    first = C.package_fingerprint(str(package), "1.0", memo)
    second = C.package_fingerprint(str(package), "1.0", memo)
    assert first == second == expected
    assert reads.count == 6                                  # hashed twice: its stat is not trusted yet
    assert not memo.exists() or not list(memo.glob("code-*"))


def test_a_memo_that_is_not_two_hashes_is_not_used(package: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    memo = tmp_path / "memo"
    expected = C.package_fingerprint(str(package), "1.0", memo)
    (kept,) = memo.glob("code-*")
    looked = kept.read_text().split()[0]
    kept.write_text(f"{looked} not-a-hash\n")
    assert C.package_fingerprint(str(package), "1.0", memo) == expected
    assert kept.read_text().split() == [looked, expected]     # written again


def test_gapctl_fingerprint_is_its_files_hash() -> None:
    from gapctl import __version__

    package = Path(C.__file__).resolve().parent.parent
    assert C.code_fingerprint() == plain_hash(package, __version__)
