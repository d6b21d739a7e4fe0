"""The cyclic garbage collector paused while a lot is built that is not garbage (`paused_gc`).

Loading a round, importing gapctl's commands, reading the kept class code: each builds many small objects and no
cycles to collect, and every collection on the way walks all of them again (a 3,000-unit round loaded ~1.5× slower).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc(freeze: bool = True) -> Iterator[None]:
    """Pause the collector for the block, and leave it as it was. `freeze`: what was built stays, so later
    collections need not walk it again (`gc.freeze`; printing 30,000 rows after loading them triggered collections
    that did); not for what a library user's program may hold at the time (importing gapctl)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if freeze:
                gc.freeze()
            gc.enable()


__all__ = ["paused_gc"]
