"""Bytes kept by key in a temporary file, with only each one's place in memory.

What a large round's parent holds until it needs it (the report's page tails, export's row pieces, the older
side of a diff's finished records): tens of thousands of byte strings would otherwise sit in memory at once.
A mapping as far as its users need one: `spool[key] = data`, `get`, `pop`, `in`, `len`; `places` (key →
(offset, length)) and `file` let forked workers read it by their own file descriptor. Once `shared`, forked workers
write into it too (`write_here`: their bytes go to the file, not through a pipe to the parent), each at a place
taken from a counter in shared memory, and the parent files each under its key (`adopt`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from gapctl.data.writes import write_all


class Spool:
    def __init__(self, items: Mapping[Any, bytes] | None = None) -> None:
        self.file = tempfile.TemporaryFile()
        self.places: dict[Any, tuple[int, int]] = {}
        self.end = 0
        self.shared: Any = None  # the end of the file as a multiprocessing.Value, once `share`d
        for key, data in (items or {}).items():
            self[key] = data
        self.file.flush()

    def __setitem__(self, key: Any, data: bytes) -> None:
        self.places[key] = self.write_here(data)

    def share(self) -> bool:
        """Let processes forked from now on write into the spool (`write_here`); False where they cannot (no fork,
        no os.pwrite)."""
        if self.shared is None and hasattr(os, "fork") and hasattr(os, "pwrite"):
            import multiprocessing

            self.file.flush()
            self.shared = multiprocessing.get_context("fork").Value("q", self.end)
        return self.shared is not None

    def write_here(self, data: bytes) -> tuple[int, int]:
        """`data` written at the spool's end, in this process or (once `shared`) a forked one: its place."""
        shared = self.shared
        if shared is None:
            start = self.end
            self.end += len(data)
            self.file.seek(start)
            self.file.write(data)
            return start, len(data)
        with shared.get_lock():
            start = shared.value
            shared.value = start + len(data)
        write_all(self.file.fileno(), data, start)
        return start, len(data)

    def adopt(self, key: Any, place: tuple[int, int]) -> None:
        """The bytes a forked process wrote (`write_here`) filed under `key`."""
        self.places[key] = place

    def __len__(self) -> int:
        return len(self.places)

    def __contains__(self, key: object) -> bool:
        return key in self.places

    def get(self, key: Any, default: Any = None) -> Any:
        place = self.places.get(key)
        if place is None:
            return default
        if hasattr(os, "pread"):
            self.file.flush()
            return os.pread(self.file.fileno(), place[1], place[0])
        self.file.seek(place[0])  # (Windows)
        return self.file.read(place[1])

    def pop(self, key: Any, default: Any = None) -> Any:
        found = self.get(key, default)
        self.places.pop(key, None)
        return found

    def clear(self) -> None:
        """Forget every piece and let go of their bytes: the file emptied (a flush of the file system, which a report
        makes at its end, would otherwise write them to the disk: 45 MB at 3,000 units)."""
        self.file.flush()
        self.file.truncate(0)
        self.places.clear()
        self.end = 0
        if self.shared is not None:
            self.shared.value = 0

    def close(self) -> None:
        self.file.close()
