"""gapctl.memo.kept: how every per-process memo stores an entry without growing past its cap."""

from __future__ import annotations

from gapctl.memo import kept


def test_a_memo_keeps_entries_up_to_its_cap_then_starts_again_with_the_new_one() -> None:
    memo: dict[int, str] = {}
    for n in range(3):
        assert kept(memo, n, str(n), 3) == str(n)
    assert memo == {0: "0", 1: "1", 2: "2"}
    assert kept(memo, 3, "3", 3) == "3"
    assert memo == {3: "3"}  # emptied at its cap, then given the new entry


def test_none_is_kept_as_an_answer() -> None:
    memo: dict[str, None] = {}
    assert kept(memo, "a", None, 10) is None and memo == {"a": None}
