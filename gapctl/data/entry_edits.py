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

Most imports change one plain value of an entry (`result: done` → `result: not-done`) and perhaps
add one line. For those `item(index, keys)` opens no ruamel.yaml at all: when the entry's lines
are plain `key: value` lines in the file's own layout (no comment, no blank line, every key the
caller may read or change a one-line scalar), each change rewrites or inserts one line, the value
written exactly as ruamel.yaml writes it (`_rendered`), and the window is read back with gapctl's
reader and must give the entry with those changes. Whatever that cannot do (a value that is not a
scalar, a first key removed …) moves the window to ruamel.yaml, the changes so far replayed.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import weakref
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from gapctl.data.sources import read_file
from gapctl.data.writes import Original, WriteError
from gapctl.memo import kept


@dataclass
class _Window:
    """Lines [start, end) of the file: one entry of the list (comment lines after it excluded)."""

    start: int
    end: int
    edit: Any = None  # a gapctl.data.yaml_edit.Edit of the entry as a document of its own, once opened
    appended: int = 0  # entries appended after it (the last window only)
    lines: Any = None  # a _Lines: the entry edited line by line, without ruamel.yaml (see the module)


class EntryEdits:
    """Edit entries of the top-level list `key` of one YAML file (see the module)."""

    def __init__(self, original: Original, key: str = "results", setup: Any = None, parsed: Any = None):
        """`parsed`: `original.raw` as gapctl.data.sources.read_file already read it (a Parsed), if it was:
        not read again (gapctl.io.importer's one pass reads a file once for its check and its edit)."""
        self.original = original
        self.key = key
        self._setup = setup or (lambda edit: None)  # e.g. a representer for Decimal, on every Edit made
        self._whole: Any = None
        self._windows: list[_Window] | None = None
        self._log: list[tuple[str, int | None, tuple[Any, ...], tuple[Any, ...]]] = []
        self._lines: list[str] = []
        self._header = ""
        self._layout: tuple[int, int, int] | None = None  # the file's indentation, for the windows' new lines
        self._dash = 0  # the column of the list's dashes
        self.after: Any = None  # the new bytes as gapctl reads them (a Parsed), when they were read back whole
        if parsed is None:
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

    def item(self, index: int, keys: Any = None) -> tuple[Any, Any]:
        """(what to change entry `index` with: set/remove/append as gapctl.data.yaml_edit.Edit has them, the entry
        as a round-trip mapping). `keys`: the only keys the caller will read or change, when it knows them;
        then the entry may be edited line by line (see the module), its values read as ruamel.yaml gives them
        (`str()` of each is the same)."""
        if self._whole is not None:
            return self._whole, self._whole.data[self.key][index]
        window = self._windows[index]
        if window.lines is not None:
            return window.lines, window.lines
        if keys is not None and window.edit is None:
            lines = self._lines_of(index, set(keys))
            if lines is not None:
                window.lines = lines
                return lines, lines
        edit = self._opened(index)
        if edit is None:  # the window does not hold the entry read there: the whole file is edited
            return self._whole, self._whole.data[self.key][index]
        return _Recorder(edit, index, self._log, self.key), edit.data[self.key][0]

    def append(self, entry: Any) -> None:
        """Add `entry` at the end of the list (after the last entry, before comments that follow it)."""
        if self._whole is None and self._windows and self._windows[-1].edit is None:
            last = self._windows[-1]  # its lines, to add the entry's after them
            if last.lines is None:
                last.lines = self._lines_of(len(self._windows) - 1, set())
            if last.lines is not None and last.lines.add(entry):
                self._log.append(("append", None, (), (copy.deepcopy(entry),)))
                last.appended += 1
                return
            if last.lines is not None:
                last.lines._move()  # on to ruamel.yaml with the last entry, and the entry added after it
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
        opened, alone = " " * dash + "- ", " " * dash + "-"
        starts = [i for i in range(head + 1, limit) if lines[i].startswith(opened) or lines[i] == alone]
        self._dash = dash
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
        whole_read = False  # whether the file put back together must be read whole to be trusted
        for index, window in enumerate(self._windows):
            if window.lines is not None and window.lines.changed:
                got = window.lines.read_back()
                if got is None:
                    return None
                entries.extend(got)
                put.append((window.start, window.end, window.lines.lines))
                continue
            if window.edit is None:
                entries.append(self._data[self.key][index])
                continue
            whole_read = True
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
        if not whole_read:
            self.after = _put_together(self.original.path, candidate, expected)
            if self.after is not None:
                return candidate
        after = read_file(self.original.path, candidate, keep_text=True)
        if after.problems or _strict(after.data) != _strict(expected):
            return None
        self.after = after
        return candidate

    def _lines_of(self, index: int, keys: set[str]) -> _Lines | None:
        """Entry `index` to edit line by line, if its lines allow it (see the module); else None."""
        from gapctl.data.yaml_edit import _guess_indent

        if self._layout is None:
            self._layout = _guess_indent(self.original.lf)
        window = self._windows[index]
        lines = self._lines[window.start:window.end]
        first = lines[0]
        column = len(first) - len(first[self._dash + 1:].lstrip(" "))  # where the entry's keys start
        if self._layout[2] != self._dash or self._layout[1] != column:
            return None  # ruamel.yaml would indent a changed line otherwise than the file does
        entry = self._data[self.key][index]
        if not isinstance(entry, dict):
            return None
        found = _Lines(self, index, list(lines), column)
        if not found.read(entry, keys):
            return None
        return found

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


def _put_together(path: Any, candidate: bytes, data: Any) -> Any:
    """What read_file gives for `candidate` (text kept), without reading it, when only entries edited line by
    line changed: each of them read back as it should in its own lines, every other line as it was, in a file
    whose layout (`_cut`) leaves an entry's lines no way to mean anything else. None when reading would be
    more than parsing: a file over a limit, or one that might nest too deep."""
    from gapctl.data.sources import MAX_DEPTH, Parsed, SourceFile, decode, display_path, max_file_bytes, max_values
    from gapctl.data.yaml_depth import may_be_too_deep

    text = decode(candidate)[0]
    if text is None or len(candidate) > max_file_bytes()[0] or len(text) > max_values()[0] // 2 \
            or may_be_too_deep(candidate, MAX_DEPTH):
        return None
    src = SourceFile(path, display_path(path))
    src.text = text
    return Parsed(src, data, [])


_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLAIN_START = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@`\s]")


class _Lines:
    """One entry of an EntryEdits, edited line by line without ruamel.yaml (see the module): it is both
    the editor and the entry (`get`, `in`), its values as ruamel.yaml would give them — plain text as
    written, quoted text without its quotes, a number, date, bool or null as written. Once a change
    cannot be made this way, the entry moves to a ruamel.yaml window (or the whole file) with the changes
    so far, and this object passes every later call on to that."""

    def __init__(self, owner: EntryEdits, index: int, lines: list[str], column: int):
        # the owner keeps its windows and they keep this: a weak reference, so that no cycle outlives the edit
        # (gapctl.io.import_pass edits while the cyclic garbage collector is paused)
        self.owner = weakref.proxy(owner)
        self.index, self.lines, self.column = index, lines, column
        self.keys: list[str] = []  # in file order
        self.values: dict[str, Any] = {}  # key → its value as ruamel.yaml gives it (see the class)
        self.kinds: dict[str, str] = {}  # key → "text" (plain, read as text), "quoted", "typed" (a plain number,
        # date, bool or null) or "set" (set here): what decides whether ruamel.yaml would rewrite it
        self.simple: set[str] = set()  # keys whose value is a one-line scalar on the key's own line
        self.expected: dict[str, Any] = {}  # the entry as gapctl should read it after the changes
        self.added: list[dict[str, Any]] = []  # entries added after it (the last only), as gapctl should read them
        self.objects: list[Any] = []  # values given that ruamel.yaml would write as an alias if given twice
        self.changed = False
        self._moved: Any = None  # (editor, entry) once the entry has moved to ruamel.yaml

    def read(self, entry: dict[str, Any], keys: set[str]) -> bool:
        """Find each key's line; whether the entry can be edited this way for `keys`."""
        from gapctl.data.yaml_edit import _KEPT_AS_WRITTEN, _PYYAML_PATTERNS

        pad = " " * self.column
        nested: str | None = None
        for i, line in enumerate(self.lines):
            if " #" in line or not line.strip() or line.lstrip().startswith("#"):
                return False  # a comment or blank line: ruamel.yaml decides where it goes
            if i == 0:
                text = line[self.column:]
            elif line.startswith(pad + " ") or line.startswith(pad + "- ") or line == pad + "-":
                if nested is None:
                    return False
                self.simple.discard(nested)  # a value continued, or a block under the key
                continue
            elif line.startswith(pad):
                text = line[self.column:]
            else:
                return False
            match = _KEY_LINE.fullmatch(text)
            if match is None or match.group(1) in self.values:
                return False
            key, value = match.group(1), match.group(2)
            nested = key
            self.keys.append(key)
            self.values[key] = None
            if not value or value != value.strip():
                continue  # a block below (or nothing): not simple
            if value[0] == '"' and len(value) > 1 and value[-1] == '"' and '"' not in value[1:-1] \
                    and "\\" not in value:
                self.values[key], self.kinds[key] = value[1:-1], "quoted"
            elif value[0] == "'" and len(value) > 1 and value[-1] == "'" and "'" not in value[1:-1]:
                self.values[key], self.kinds[key] = value[1:-1], "quoted"
            elif _PLAIN_START.match(value) and ": " not in value:
                tags = [tag for tag, pattern in _PYYAML_PATTERNS.get(value[:1], []) + _PYYAML_PATTERNS.get(None, [])
                        if pattern.match(value)]
                if tags and tags[0].rsplit(":", 1)[-1] not in _KEPT_AS_WRITTEN:
                    continue
                self.values[key], self.kinds[key] = value, "typed" if tags else "text"
            else:
                continue
            self.simple.add(key)
        if set(self.keys) != set(entry) or any(k in self.values and k not in self.simple for k in keys):
            return False
        if any(self.kinds[k] != "typed" and self.values[k] != entry[k] for k in self.simple):
            return False  # text is read here as gapctl read it, or not at all
        self.expected = dict(entry)
        return True

    # the entry

    def get(self, key: str, default: Any = None) -> Any:
        target = self._target()
        if target is not None:
            return target[1].get(key, default)
        if key in self.values and key not in self.simple:
            raise KeyError(key)  # not read here: the caller named its keys
        return self.values.get(key, default)

    def __contains__(self, key: object) -> bool:
        target = self._target()
        return key in target[1] if target is not None else key in self.values

    # the changes

    def set(self, mapping: Any, key: str, value: Any, order: Any = ()) -> None:
        target = self._target()
        if target is None and self._set(key, value, order):
            self.owner._log.append(("set", self.index, (), (key, copy.deepcopy(value), order)))
            return
        editor, entry = target or self._move()
        editor.set(entry, key, value, order)

    def remove(self, mapping: Any, key: str) -> None:
        target = self._target()
        if target is None and self._remove(key):
            self.owner._log.append(("remove", self.index, (), (key,)))
            return
        editor, entry = target or self._move()
        editor.remove(entry, key)

    def append(self, seq: Any, item: Any) -> None:
        editor, _entry = self._target() or self._move()
        editor.append(seq, item)

    def _set(self, key: str, value: Any, order: Any) -> bool:
        if key in self.values:
            old = self.values[key]
            if key not in self.simple:
                return False
            if self.kinds[key] in ("text", "set") and old == value and type(old) is type(value):
                return True  # as Edit.set: nothing to do (a quoted or typed value is no `str` in ruamel.yaml)
        if not self._once(value):
            return False
        shown = _rendered(self.owner, value)
        if shown is None:
            return False
        text, read = shown
        line = f"{key}: {text}"
        if key in self.values:
            at = self._line_of(key)
            self.lines[at] = self.lines[at][:self.column] + line
        else:  # after the last present key that comes before it in `order`, as Edit.set puts it
            rank = {k: i for i, k in enumerate(order)}
            earlier = [i for i, k in enumerate(self.keys) if key in rank and k in rank and rank[k] < rank[key]]
            pos = earlier[-1] + 1 if earlier else len(self.keys)
            at = self._line_of(self.keys[pos]) if pos < len(self.keys) else len(self.lines)
            self.lines.insert(at, " " * self.column + line)
            self.keys.insert(pos, key)
            self.simple.add(key)
        self.values[key], self.kinds[key] = value, "set"
        self.expected[key] = read
        self.changed = True
        return True

    def add(self, entry: Any) -> bool:
        """Add `entry`'s lines after this entry's (it is the list's last), as Edit.append writes them; whether
        it could be done (a value that is not a scalar, or not on one line: no)."""
        if self._target() is not None or not isinstance(entry, dict) or not entry:
            return False
        _mapping, sequence, offset = self.owner._layout
        new: list[str] = []
        read: dict[str, Any] = {}
        for key, value in entry.items():
            shown = _rendered(self.owner, value) if isinstance(key, str) and _IDENTIFIER.fullmatch(key) \
                and self._once(value) else None
            if shown is None:
                return False
            start = " " * offset + "-" + " " * (sequence - offset - 1) if not new else " " * sequence
            new.append(f"{start}{key}: {shown[0]}")
            read[key] = shown[1]
        self.lines.extend(new)
        self.added.append(read)
        self.changed = True
        return True

    def _once(self, value: Any) -> bool:
        """Whether `value` can be written as itself: ruamel.yaml writes an object given twice (a Decimal, a date;
        not text or a whole number) as an anchor and an alias."""
        if isinstance(value, (str, int, float)) or value is None:
            return True
        if any(v is value for v in self.objects):
            return False
        self.objects.append(value)
        return True

    def _remove(self, key: str) -> bool:
        if key not in self.values:
            return True
        if key not in self.simple or self.keys[0] == key:
            return False  # a block, or the key on the dash's line
        del self.lines[self._line_of(key)]
        self.keys.remove(key)
        del self.values[key]
        del self.kinds[key]
        self.simple.discard(key)
        self.expected.pop(key, None)
        self.changed = True
        return True

    def _line_of(self, key: str) -> int:
        """The line a key stands on (its value's lines follow it)."""
        for i, line in enumerate(self.lines):
            text = line[self.column:]
            match = _KEY_LINE.fullmatch(text) if text.startswith(key + ":") else None
            if match is not None and match.group(1) == key and (i == 0 or not line[:self.column].strip()):
                return i
        raise KeyError(key)

    def read_back(self) -> list[Any] | None:
        """The entry (and those added after it) as gapctl reads the new lines, if that is the entry with the
        changes made (else None)."""
        from gapctl.data.yaml_edit import _strict

        text = self.owner._header + "".join(line + "\n" for line in self.lines)
        parsed = read_file(self.owner.original.path, text)
        got = parsed.data.get(self.owner.key) if isinstance(parsed.data, dict) and len(parsed.data) == 1 else None
        if parsed.problems or not isinstance(got, list) or _strict(got) != _strict([self.expected, *self.added]):
            return None
        return got

    def _target(self) -> Any:
        """(editor, entry) where this entry is edited now, once it moved; else None."""
        if self.owner._whole is not None:
            return self.owner._whole, self.owner._whole.data[self.owner.key][self.index]
        return self._moved

    def _move(self) -> tuple[Any, Any]:
        """Edit this entry with ruamel.yaml from now on: in a window (the changes so far made again there),
        else on the whole file (where the log replays them)."""
        owner, window = self.owner, self.owner._windows[self.index]
        window.lines = None
        edit = owner._opened(self.index)  # opens the whole file, the log replayed, if the window will not do
        if owner._whole is not None:
            return self._target()
        recorder = _Recorder(edit, self.index, [], owner.key)
        for method, index, _path, args in owner._log:
            if index == self.index:
                getattr(recorder, method)(recorder.entry, *copy.deepcopy(args))
            elif method == "append" and self.added:  # entries added after this one, the last
                edit.append(edit.data[owner.key], *copy.deepcopy(args))
        self._moved = (_Recorder(edit, self.index, owner._log, owner.key), recorder.entry)
        return self._moved


_RENDERED: dict[tuple[Any, ...], tuple[str, Any] | None] = {}
_ALLOWED = "0-9A-Za-z\u0100-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
_SURELY_PLAIN = re.compile(f"[{_ALLOWED}](?: ?[{_ALLOWED}_./()\\-])*")


def _rendered(owner: EntryEdits, value: Any) -> tuple[str, Any] | None:
    """(`value` as ruamel.yaml writes it after `key: ` in this file's edits, the value gapctl reads from that),
    or None when that is more than one line or not a scalar."""
    from gapctl.data.yaml_edit import _NUMBER_LIKE, _PYYAML_PATTERNS

    if type(value) is str and len(value) <= 1000 and _SURELY_PLAIN.fullmatch(value) \
            and not _NUMBER_LIKE.fullmatch(value) and not any(
                pattern.match(value) for _tag, pattern in _PYYAML_PATTERNS.get(value[:1], [])
                + _PYYAML_PATTERNS.get(None, [])):
        return value, value  # text ruamel.yaml writes plain (tests/data/test_entry_edits.py holds it to that)
    if not isinstance(value, (str, int, Decimal, dt.date)) or isinstance(value, str) and len(value) > 1000:
        return None
    cache_key = (owner._setup, type(value), str(value) if not isinstance(value, str) else value)
    found = _RENDERED.get(cache_key, _RENDERED)  # the memo itself: not made yet (None is a made answer)
    return found if found is not _RENDERED else kept(_RENDERED, cache_key, _dumped(owner, value), 10_000)


def _dumped(owner: EntryEdits, value: Any) -> tuple[str, Any] | None:
    """_rendered by ruamel.yaml itself: the one-key document `v: value` dumped, and read back."""
    from types import SimpleNamespace

    from ruamel.yaml.comments import CommentedMap

    from gapctl.data.yaml_edit import _dump, round_trip_yaml

    holder = SimpleNamespace(yaml=round_trip_yaml(keep_quotes=True))
    owner._setup(holder)
    text = _dump(holder.yaml, CommentedMap([("v", value)]))
    if not text.startswith("v: ") or text.count("\n") != 1 or not text.endswith("\n"):
        return None
    parsed = read_file(owner.original.path, text)
    if parsed.problems or not isinstance(parsed.data, dict) or "v" not in parsed.data:
        return None
    return text[3:-1], parsed.data["v"]


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
