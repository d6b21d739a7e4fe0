"""Per-process memos that cannot grow without bound.

Many hot paths keep what a pure function made, by its arguments, in a module-level dict (a report's pages
repeat their texts and figures; a round's files share a few directories). `kept` is how each of them stores
an entry: a memo that already holds its most entries is emptied first, which only costs recomputing them.
"""

from __future__ import annotations

from typing import Any, TypeVar

Value = TypeVar("Value")


def kept(memo: dict[Any, Any], key: Any, value: Value, most: int) -> Value:
    """`memo[key] = value`, the memo emptied first when it holds `most` entries or more; `value`."""
    if len(memo) >= most:
        memo.clear()
    memo[key] = value
    return value
