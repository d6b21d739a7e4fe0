"""gapctl.data.spool: bytes kept by key in a temporary file, written by the parent or, once shared, by forked
workers at places a shared counter hands out."""

from __future__ import annotations

import itertools
import os

import pytest

from gapctl.data.spool import Spool


def test_a_spool_gives_back_what_it_was_given() -> None:
    spool = Spool({"a": b"first"})
    spool["b"] = b""
    spool["c"] = b"third" * 1000
    assert spool.get("a") == b"first" and spool.get("b") == b"" and spool.get("c") == b"third" * 1000
    assert "a" in spool and len(spool) == 3 and spool.get("z", b"none") == b"none"
    assert spool.pop("a") == b"first" and "a" not in spool
    spool.close()


@pytest.mark.parametrize("shared", [False, True])
def test_a_cleared_spool_holds_nothing_and_its_file_is_empty(shared: bool) -> None:
    """`clear` forgets every piece and empties the file (a file system flush would otherwise write its bytes); what
    is written next starts again at 0, also in a shared spool."""
    spool = Spool({"a": b"first", "b": b"second" * 100})
    if shared and not spool.share():
        pytest.skip("no fork")
    spool.clear()
    assert not spool.places and "a" not in spool and os.fstat(spool.file.fileno()).st_size == 0
    assert spool.write_here(b"again") == (0, 5)
    spool.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers write only where there is fork")
def test_forked_writers_and_the_parent_share_a_spool_without_overwriting_each_other() -> None:
    """Workers forked after `share` write with `write_here` and send their places; the parent adopts them under keys,
    and its own writes (before and after sharing) keep their bytes too: no two places overlap."""
    import multiprocessing

    spool = Spool({"before": b"b" * 100})
    assert spool.share()
    _SHARED[:] = [spool]  # what the forked workers write into
    context = multiprocessing.get_context("fork")
    with context.Pool(3) as pool:
        places = pool.map(_written, range(60))
    spool["after"] = b"a" * 50
    for n, place in enumerate(places):
        spool.adopt(n, place)
    assert spool.get("before") == b"b" * 100 and spool.get("after") == b"a" * 50
    assert all(spool.get(n) == _data(n) for n in range(60))
    spans = sorted(spool.places.values())
    assert all(start + length <= following for (start, length), (following, _) in itertools.pairwise(spans))
    spool.close()


_SHARED: list[Spool] = []


def _data(n: int) -> bytes:
    return bytes([n % 251]) * (1000 + n * 37)


def _written(n: int) -> tuple[int, int]:
    return _SHARED[0].write_here(_data(n))
