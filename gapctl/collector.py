"""The cyclic garbage collector paused while a lot is built that is not garbage (`paused_gc`).

Loading a round, importing gapctl's commands, reading the kept class code: each builds many small objects and no
cycles to collect, and every collection on the way walks all of them again (a 3,000-unit round loaded ~1.5× slower).
"""

from __future__ import annotations

import gc  # and nothing else: gapctl/__init__ pauses the collector with this before the standard library's modules


class _Paused:
    """`paused_gc`'s block (a class, not contextlib's decorator: importing contextlib, collections and functools ran
    the collections gapctl's first line pauses)."""

    __slots__ = ("freeze", "was_enabled")

    def __init__(self, freeze: bool) -> None:
        self.freeze, self.was_enabled = freeze, False

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *_exc: object) -> None:
        if self.was_enabled:
            if self.freeze:
                gc.freeze()
            gc.enable()


def paused_gc(freeze: bool = True) -> _Paused:
    """Pause the collector for the block, and leave it as it was. `freeze`: what was built stays, so later
    collections need not walk it again (`gc.freeze`; printing 30,000 rows after loading them triggered collections
    that did); not for what a library user's program may hold at the time (importing gapctl)."""
    return _Paused(freeze)


__all__ = ["paused_gc"]
