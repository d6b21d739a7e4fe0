"""Edits of a few entries of a long YAML list, each in a window of its own lines.

gapctl.data.yaml_edit.Edit keeps every byte a change does not touch, but it reads, dumps and compares the
whole file with ruamel.yaml: about a tenth of a second for an observation file of 60 entries,
which made importing one row per unit take minutes for a round that scores in seconds.

`EntryEdits` cuts the file at the entries of its top-level block list (`results:` of an
observation file): the lines of one entry, under a line `results:`, are a YAML document of
their own, edited by gapctl.data.yaml_edit.Edit with the same guarantees (comments stay, untouched lines
keep their bytes, the result must read back as the changed data), and put back in place of
those lines. The whole file must then read as the original data with exactly those entries
changed; where the file's layout does not allow windows (a flow list, tabs, mixed line endings)
or that check fails, the changes are made again on an Edit of the whole file, as before.
Either way the caller sees the same interface.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from gapctl.data.sources import read_file
from gapctl.data.writes import Original, WriteError


@dataclass
class _Window:
    """Lines [start, end) of the file: one entry of the list (comment lines after it excluded)."""

    start: int
    end: int
    edit: Any = None  # a gapctl.data.yaml_edit.Edit of the entry as a document of its own, once opened
    appended: int = 0  # entries appended after it (the last window only)


class EntryEdits:
    """Edit entries of the top-level list `key` of one YAML file (see the module)."""

    def __init__(self, original: Original, key: str = "results", setup: Any = None):
        self.original = original
        self.key = key
        self._setup = setup or (lambda edit: None)  # e.g. a representer for Decimal, on every Edit made
        self._whole: Any = None
        self._windows: list[_Window] | None = None
        self._log: list[tuple[str, int | None, tuple[Any, ...], tuple[Any, ...]]] = []
        self._lines: list[str] = []
        self._header = ""
        self._layout: tuple[int, int, int] | None = None  # the file's indentation, for the windows' new lines
        parsed = read_file(original.path, original.raw)
        self._data = parsed.data if not parsed.problems else None
        if self._data is not None:
            self._windows = self._cut()
        if self._windows is None:
            self._open_whole()

    # what callers use

    @property
    def data(self) -> Any:
        """The file's data as gapctl reads it (plain, not for changing)."""
        return self._data

    @property
    def whole(self) -> Any:
        """The Edit of the whole file, when the file is edited whole (else None)."""
        return self._whole

    def item(self, index: int) -> tuple[Any, Any]:
        """(what to change entry `index` with: set/remove/append as gapctl.data.yaml_edit.Edit has them, the entry
        as a round-trip mapping)."""
        if self._whole is not None:
            return self._whole, self._whole.data[self.key][index]
        edit = self._opened(index)
        if edit is None:  # the window does not hold the entry read there: the whole file is edited
            return self._whole, self._whole.data[self.key][index]
        return _Recorder(edit, index, self._log, self.key), edit.data[self.key][0]

    def append(self, entry: Any) -> None:
        """Add `entry` at the end of the list (after the last entry, before comments that follow it)."""
        if self._whole is None and not self._windows:
            self._open_whole()
        if self._whole is not None:
            self._whole.append(self._whole.data[self.key], entry)
            return
        edit = self._opened(len(self._windows) - 1)
        if edit is None:  # the whole file is edited now
            self._whole.append(self._whole.data[self.key], entry)
            return
        self._log.append(("append", None, (), (copy.deepcopy(entry),)))
        edit.append(edit.data[self.key], entry)
        self._windows[-1].appended += 1

    def new_bytes(self) -> bytes:
        """The file's new bytes; WriteError when the change cannot be written losslessly."""
        if self._whole is None:
            spliced = self._spliced()
            if spliced is not None:
                return spliced
            self._replay_whole()
        return self._whole.new_bytes()

    # windows

    def _cut(self) -> list[_Window] | None:
        """Each entry's lines, or None where windows cannot be cut.

        The lines are found by their layout: the list starts under the line `<key>:` and ends at the
        next line that starts in column 0 with anything but `-` or `#`; an entry starts at each line
        whose `-` stands in the list's column with only spaces before it (a continued value is always
        indented further). A wrong cut cannot pass unnoticed: each window must read as the entry gapctl
        read there, and the file put back together as the data with exactly the changes made.
        """
        text, crlf = self.original.lf, self.original.text.count("\r\n")
        mixed = self.original.text.count("\r") != crlf or crlf and crlf != text.count("\n")
        if mixed or "\t" in text or not isinstance(self._data, dict) \
                or not isinstance(self._data.get(self.key), list) or not self._data[self.key]:
            return None
        lines = text.split("\n")
        head = next((i for i, line in enumerate(lines) if line.startswith(self.key + ":")
                     and (not line[len(self.key) + 1:].strip() or line[len(self.key) + 1:].lstrip().startswith("#"))),
                    None)
        if head is None:
            return None
        limit = len(lines) - (1 if lines[-1] == "" else 0)
        for i in range(head + 1, limit):
            if lines[i][:1] not in ("", " ", "-", "#"):
                limit = i
                break
        dash = next((line.index("-") for line in lines[head + 1:limit] if line.lstrip().startswith("-")), None)
        if dash is None:
            return None
        pad = " " * dash
        starts = [i for i in range(head + 1, limit) if lines[i].startswith(pad) and lines[i][dash:dash + 1] == "-"
                  and lines[i][dash + 1:dash + 2] in ("", " ")]
        if len(starts) != len(self._data[self.key]) or any(
                line.strip() and not line.lstrip().startswith("#") for line in lines[head + 1:starts[0]]):
            return None
        windows = []
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else limit
            while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
                end -= 1  # comments and blank lines after an entry stay where they are
            windows.append(_Window(start, end))
        self._lines = lines
        self._header = self.key + ":\n"  # each window is read as a document holding the list with one entry
        return windows

    def _opened(self, index: int) -> Any:
        """The Edit of entry `index`'s window, opened on first use; None if its lines do not read as the
        entry gapctl read there, after the changes so far are replayed on an Edit of the whole file."""
        window = self._windows[index]
        if window.edit is None:
            window.edit = self._window_edit(index)
            if window.edit is None:
                self._replay_whole()
        return window.edit

    def _window_edit(self, index: int) -> Any:
        """An Edit of the window's lines, if they read as the entry gapctl read there (else None)."""
        from gapctl.data.yaml_edit import Edit, _guess_indent, _strict

        window = self._windows[index]
        if self._layout is None:
            self._layout = _guess_indent(self.original.lf)
        text = self._header + "".join(line + "\n" for line in self._lines[window.start:window.end])
        sub = replace(self.original, raw=text.encode("utf-8"), text=text)
        try:
            edit = Edit(sub, layout=self._layout)
        except WriteError:
            return None
        if edit._before != _strict({self.key: [self._data[self.key][index]]}):
            return None
        self._setup(edit)
        return edit

    def _spliced(self) -> bytes | None:
        """The file with each opened window's new lines in place, if it reads as it should; else None."""
        from gapctl.data.yaml_edit import _strict

        lines = list(self._lines)
        entries: list[Any] = []
        put: list[tuple[int, int, list[str]]] = []
        for index, window in enumerate(self._windows):
            if window.edit is None:
                entries.append(self._data[self.key][index])
                continue
            try:
                new = window.edit.new_bytes().decode("utf-8")
            except WriteError:
                return None
            parsed = read_file(self.original.path, new)
            got = parsed.data.get(self.key) if isinstance(parsed.data, dict) and len(parsed.data) == 1 else None
            if parsed.problems or not new.startswith(self._header) or not isinstance(got, list) \
                    or len(got) != 1 + window.appended:
                return None
            entries.extend(got)
            put.append((window.start, window.end, new[len(self._header):].removesuffix("\n").split("\n")))
        for start, end, new_lines in reversed(put):  # from the last, so that earlier line numbers hold
            lines[start:end] = new_lines
        expected = dict(self._data)
        expected[self.key] = entries
        candidate = self.original.encode("\n".join(lines))
        after = read_file(self.original.path, candidate)
        if after.problems or _strict(after.data) != _strict(expected):
            return None
        return candidate

    # the whole file

    def _open_whole(self) -> None:
        from gapctl.data.yaml_edit import Edit

        self._whole = Edit(self.original)
        self._setup(self._whole)

    def _replay_whole(self) -> None:
        """Make on an Edit of the whole file the changes made in windows (which could not be put back)."""
        self._open_whole()
        for method, index, path, args in self._log:
            if method == "append":
                self._whole.append(self._whole.data[self.key], *args)
                continue
            target = self._whole.data[self.key][index]
            for step in path:
                target = target[step]
            getattr(self._whole, "append" if method == "append_in" else method)(target, *args)


class _Recorder:
    """An entry's window Edit that also logs each change (for a replay on the whole file)."""

    def __init__(self, edit: Any, index: int, log: list, key: str):
        self.edit, self.index, self.log = edit, index, log
        self.entry = edit.data[key][0]

    def set(self, mapping: Any, key: str, value: Any, order: Any = ()) -> None:
        self.log.append(("set", self.index, _path(self.entry, mapping), (key, copy.deepcopy(value), order)))
        self.edit.set(mapping, key, value, order)

    def remove(self, mapping: Any, key: str) -> None:
        self.log.append(("remove", self.index, _path(self.entry, mapping), (key,)))
        self.edit.remove(mapping, key)

    def append(self, seq: Any, item: Any) -> None:
        self.log.append(("append_in", self.index, _path(self.entry, seq), (copy.deepcopy(item),)))
        self.edit.append(seq, item)


def _path(root: Any, target: Any) -> tuple[Any, ...]:
    """The keys and indexes from `root` to the object `target` (found by identity)."""
    if root is target:
        return ()
    children = root.items() if isinstance(root, dict) else enumerate(root) if isinstance(root, list) else ()
    for step, child in children:
        if isinstance(child, (dict, list)):
            found = _path(child, target)
            if found is not None:
                return (step, *found)
    return None  # type: ignore[return-value]
