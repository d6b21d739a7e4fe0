"""Descriptors that hold a lock (`flock`), kept out of the processes this one forks.

A `flock` belongs to the open file description, and a fork shares the description with the child. A pool worker
forked while this process held a lock therefore held it too, and kept it after this process let go: the pools
fork their workers again every few batches, from a thread, at any moment (`gapctl.scoring.executors`). The next
write into the same directory then waited `gapctl.data.journal.LOCK_WAIT` for a lock no one was using and gave up
(seen: `gapctl export --format parquet`, whose parts are written while its workers run). So a lock's descriptor is
opened through `open_held`, and a forked child closes every such descriptor it inherited before it runs anything
else (`os.register_at_fork`): the lock stays with the process that took it. Opening a descriptor and noting it
are one step that a fork waits for (`_GUARD`), so that no child inherits a descriptor not yet noted.
"""

from __future__ import annotations

import os
import threading

_HELD: set[int] = set()  # this process's descriptors opened by `open_held` and not yet closed
_GUARD = threading.Lock()


def open_held(path: str | os.PathLike[str], flags: int, mode: int = 0o600) -> int:
    """os.open(path, flags, mode) for a descriptor that will hold a lock; close it with `close_held`."""
    with _GUARD:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), mode)
        _HELD.add(fd)
    return fd


def close_held(fd: int) -> None:
    """Close a descriptor from `open_held` (releasing its lock, as no child shares it)."""
    with _GUARD:
        _HELD.discard(fd)
        os.close(fd)


def _before_fork() -> None:
    _GUARD.acquire()


def _after_fork_in_parent() -> None:
    _GUARD.release()


def _after_fork_in_child() -> None:
    for fd in _HELD:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()
    _GUARD.release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)
