"""Bytes kept by key in a temporary file, with only each one's place in memory.

What a large round's parent holds until it needs it (the report's page tails, export's row pieces, the older
side of a diff's finished records): tens of thousands of byte strings would otherwise sit in memory at once.
A mapping as far as its users need one: `spool[key] = data`, `get`, `pop`, `in`, `len`; `places` (key →
(offset, length)) and `file` let forked workers read it by their own file descriptor."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any


class Spool:
    def __init__(self, items: Mapping[Any, bytes] | None = None) -> None:
        self.file = tempfile.TemporaryFile()
        self.places: dict[Any, tuple[int, int]] = {}
        self.end = 0
        for key, data in (items or {}).items():
            self[key] = data
        self.file.flush()

    def __setitem__(self, key: Any, data: bytes) -> None:
        self.file.seek(self.end)
        self.file.write(data)
        self.places[key] = (self.end, len(data))
        self.end += len(data)

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

    def close(self) -> None:
        self.file.close()
