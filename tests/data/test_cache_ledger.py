"""The cache's ledger (gapctl.data.cache, `Cache.prune_due`): the first write of a run scans every entry to prune
only when the ledger says the cache may be past its limit, its last scan is a day old, or there is no ledger."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gapctl.data import cache as C

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path

ENTRY = len(C.MAGIC) + C.SIGNATURE_BYTES  # what an entry holds besides its payload


class Scans:
    """How many times `prune` scanned the cache."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = C.Cache.prune

        def spy(cache: C.Cache, now: float | None = None) -> None:
            self.count += 1
            original(cache, now)
        monkeypatch.setattr(C.Cache, "prune", spy)


def run(directory: Path, limit_mb: float, *payloads: bytes) -> C.Cache:
    """A run that writes these entries (a new Cache, as each gapctl process opens its own)."""
    cache = C.Cache(directory, b"k" * 32, limit_mb=limit_mb)
    for n, payload in enumerate(payloads):
        cache.put(C.key_of("entry", time.time_ns(), n), payload)
    return cache


def test_runs_scan_the_cache_only_when_the_ledger_says_it_may_be_full(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "cache"
    scans = Scans(monkeypatch)
    run(directory, 1, b"a" * 1000)                           # no ledger yet: scanned, then the ledger made
    assert scans.count == 1
    scanned, total, *written = (directory / C.LEDGER).read_text().split()
    assert float(scanned) <= time.time() and total == "0"    # (the scan came before the run's first entry)
    assert written == [str(ENTRY + 1000)]
    run(directory, 1, b"b" * 2000, b"c" * 3000)              # within the limit: not scanned
    assert scans.count == 1
    assert (directory / C.LEDGER).read_text().split()[2:] == [str(ENTRY + n) for n in (1000, 2000, 3000)]
    run(directory, 1, b"d" * (1024 * 1024 - 4 * ENTRY - 6000))  # the ledger at the limit then: not past it
    run(directory, 1, b"e")
    assert scans.count == 1
    run(directory, 1, b"f")                                  # past it: scanned
    assert scans.count == 2
    _, total, *written = (directory / C.LEDGER).read_text().split()
    assert written == [str(ENTRY + 1)]                       # what the run wrote after its scan
    on_disk = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file() and p.parent.parent.parent == directory)
    assert int(total) == on_disk - ENTRY - 1 <= 0.8 * 1024 * 1024  # what the scan left (pruned to 80 %)


def test_a_day_old_or_unreadable_ledger_calls_for_a_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "cache"
    run(directory, 1, b"a")
    cache = C.Cache(directory, b"k" * 32, limit_mb=1)
    assert not cache.prune_due()
    assert cache.prune_due(now=time.time() + C.DAY + 1)      # a day after the last scan
    assert cache.prune_due(now=time.time() - 3600)           # a scan from the future: the clock moved back
    (directory / C.LEDGER).write_text("nonsense\n")
    assert cache.prune_due()
    (directory / C.LEDGER).unlink()
    assert cache.prune_due()
    scans = Scans(monkeypatch)
    run(directory, 1, b"b")
    assert scans.count == 1 and not cache.prune_due()


def test_other_versions_unused_for_a_day_go_at_the_daily_scan(tmp_path: Path) -> None:
    import os

    directory = tmp_path / "cache"
    run(directory, 1, b"a")
    other = directory / "0123456789abcdef"
    (other / "ab").mkdir(parents=True)
    (other / "ab" / "cdef").write_bytes(b"x" * 100)
    day_ago = time.time() - 2 * C.DAY
    os.utime(other, (day_ago, day_ago))
    run(directory, 1, b"b")
    assert other.exists()                                    # the ledger is a minute old: no scan
    scanned, total, *written = (directory / C.LEDGER).read_text().split()
    (directory / C.LEDGER).write_text(f"{float(scanned) - C.DAY - 1} {total} {' '.join(written)}\n")
    run(directory, 1, b"c")
    assert not other.exists()
