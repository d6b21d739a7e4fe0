"""A lock taken by gapctl is not kept by a process forked while it was held (gapctl.data.locks)."""

from __future__ import annotations

import fcntl
import os
import time

import pytest

from gapctl.data import journal
from gapctl.data.locks import close_held, open_held

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")


def _forked_sleeper() -> int:
    """A child that lives on for a while doing nothing (as a pool worker waits for its next batch); returned once
    it runs (its at-fork hooks, which close what it must not keep, run before its first line)."""
    ready, tell = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready)
        os.write(tell, b"x")
        time.sleep(3)
        os._exit(0)
    os.close(tell)
    assert os.read(ready, 1) == b"x"
    os.close(ready)
    return pid


def _reap(pid: int) -> None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)


def test_a_directory_lock_is_free_once_let_go_though_a_child_was_forked_while_it_was_held(tmp_path):
    with journal.locked(tmp_path):
        child = _forked_sleeper()  # as a pool re-forks a worker from its thread while a batch is being written
    try:
        started = time.monotonic()
        with journal.locked(tmp_path, wait=1.0):  # before: Busy after the wait, the child holding the lock
            pass
        assert time.monotonic() - started < 0.5
    finally:
        _reap(child)


def test_a_held_descriptor_is_closed_in_the_child_so_the_lock_is_the_parents_alone(tmp_path):
    lock_file = tmp_path / ".lock"
    fd = open_held(lock_file, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    child = _forked_sleeper()
    try:
        close_held(fd)
        other = os.open(lock_file, os.O_RDWR)
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError if the child kept it
        finally:
            os.close(other)
    finally:
        _reap(child)
