"""Edit a YAML data file and keep every byte the edit does not touch: comments, quoting, layout.

ruamel.yaml's round-trip mode, configured to read plain scalars the way gapctl's loader types them
(PyYAML's YAML 1.1 patterns) and to write every number, date, bool and null with its original
spelling (`round_trip_yaml`); the helpers that move comment lines with the keys they belong to;
`Edit`, which changes some data of one file (set, remove, append) and writes only the difference
back onto the file's own text (`splice`), checking that the data and every comment
(`comment_texts`) read back as intended, else writing nothing.

Who calls it: gapctl.io.fmt (the canonical layout is built on the same round trip and comment
helpers), gapctl.io.importer and gapctl.process.evidence (edits of observation files). Nothing
here knows what a scheme or a rule is: that is gapctl.io.fmt's canonical order.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.anchor import Anchor
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import CommentMark
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from ruamel.yaml.tag import Tag
from ruamel.yaml.tokens import CommentToken

from gapctl.data.sources import display_path, read_file
from gapctl.data.writes import Original, WriteError
from gapctl.i18n import _

# --- comments: full-line comments travel with the key they stand before ----------------
#
# ruamel stores the comment lines between two keys at the end of the token of the last
# scalar before them (possibly deep inside the previous key's value). Moving keys with
# `move_to_end` would leave such lines where they were, above whatever key now follows.
# So before moving, the lines that stand before a key (those not indented deeper than the
# mapping's keys) are cut from the previous entry and re-attached before the key itself;
# lines after the last key stay at the end of the mapping. Comments at the top of a
# mapping (the file's header included) and end-of-line comments stay where they are.

def _comment(text: str) -> CommentToken:
    return CommentToken(text, CommentMark(0), None)


def _trailing(container: Any, key: Any) -> tuple[Any, Any, int, list[Any]]:
    """Where the lines after entry `key` live: the token slot of the last scalar in its value
    (container, key, slot) and the block collections that end with it, innermost first
    (each may hold more lines in `ca.end`)."""
    ends: list[Any] = []
    value = container[key]
    while isinstance(value, (CommentedMap, CommentedSeq)) and len(value) and not value.fa.flow_style():
        ends.append(value)
        container, key = value, next(reversed(value)) if isinstance(value, CommentedMap) else len(value) - 1
        value = container[key]
    return container, key, 2 if isinstance(container, CommentedMap) else 0, ends[::-1]


def _token(container: Any, key: Any, slot: int) -> CommentToken | None:
    entry = container.ca.items.get(key)
    token = entry[slot] if entry and len(entry) > slot else None
    return token if isinstance(token, CommentToken) else None


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _raw(token: CommentToken) -> str:
    """A token standing on lines of its own, as written: its first line's indentation is kept
    as a column, not as text."""
    value = token.value
    column = getattr(token.start_mark, "column", 0) or 0
    return value if not value or value.startswith("\n") else " " * column + value


def _set_raw(token: CommentToken, text: str) -> None:
    token.value = text
    token.start_mark = CommentMark(0)


def _is_block(value: Any) -> bool:
    return isinstance(value, (LiteralScalarString, FoldedScalarString))


def _cut_tail(container: Any, key: Any, column: int, everything: bool) -> str:
    """Cut the comment and blank lines after entry `key` (all of them, or those after the last
    line indented deeper than `column`) and return them."""
    owner, at, slot, ends = _trailing(container, key)
    pieces: list[tuple[CommentToken, str, Any]] = []  # token, the part that stays, where it sits
    token = _token(owner, at, slot)
    if token is not None:
        value = token.value
        if _is_block(owner[at]):
            head = ""  # a block scalar ends its own line: every line of the token is a full line
            _set_raw(token, _raw(token))
            value = token.value
        elif value.startswith("#"):
            head = value[: value.find("\n") + 1] if "\n" in value else value  # end-of-line comment
        else:
            head = value[:1] if value.startswith("\n") else ""
        pieces.append((token, head, (owner, at, slot)))
    for collection in ends:
        for end_token in list(getattr(collection.ca, "end", None) or []):
            if isinstance(end_token, CommentToken):
                _set_raw(end_token, _raw(end_token))
                pieces.append((end_token, "", collection))
    flat = [(i, line) for i, (tok, head, _) in enumerate(pieces) for line in _lines(tok.value[len(head):])]
    keep = 0
    if not everything:
        for j, (_piece, line) in enumerate(flat):
            if line.strip() and len(line) - len(line.lstrip(" ")) > column:
                keep = j + 1
    if keep == len(flat):
        return ""
    for i, (tok, head, place) in enumerate(pieces):
        rest = head + "".join(line + "\n" for j, (k, line) in enumerate(flat) if k == i and j < keep)
        if (rest and rest != head) or head.startswith("#"):
            tok.value = rest
        elif isinstance(place, tuple):  # nothing left but the end of the line
            place[0].ca.items[place[1]][place[2]] = None
        else:
            place.ca.end.remove(tok)
    return "".join(line + "\n" for _, line in flat[keep:])


def _aliasable(value: Any) -> bool:
    """Whether `value` carries an anchor: it may be written as an alias (`*x`) here, and
    ruamel.yaml drops or misplaces comments attached to an alias."""
    anchor = value.anchor if isinstance(value, _AsWritten) else getattr(value, Anchor.attrib, None)
    return anchor is not None and anchor.value is not None


def _put_after(container: Any, key: Any, text: str) -> bool:
    """Add lines after entry `key`, after any already there; False if there is no safe place."""
    owner, at, slot, ends = _trailing(container, key)
    for collection in reversed(ends):  # the outermost collection's end comes last
        end = getattr(collection.ca, "end", None)
        if end and isinstance(end[-1], CommentToken):
            end[-1].value = end[-1].value + text
            return True
    if _aliasable(owner[at]):
        return False
    token = _token(owner, at, slot)
    if token is not None:
        token.value = token.value + text
    else:
        entry = owner.ca.items.setdefault(at, [None, None, None, None])
        entry[slot] = _comment(text if _is_block(owner[at]) else "\n" + text)
    return True


def _put_before(mapping: CommentedMap, key: Any, text: str) -> bool:
    """Add lines just above `key` (not its first key: see _put_at_top)."""
    if _aliasable(mapping[key]):
        return False
    entry = mapping.ca.items.setdefault(key, [None, None, None, None])
    entry[1] = [_comment(text), *(entry[1] or [])]
    return True


# --- ruamel.yaml, configured to read like gapctl and write the canonical style ---------

_STR = "tag:yaml.org,2002:str"


_KEPT_AS_WRITTEN = ("null", "bool", "int", "float", "timestamp", "value")


_PYYAML_PATTERNS = pyyaml.resolver.Resolver.yaml_implicit_resolvers


class _Resolver(VersionedResolver):
    """Types plain scalars by PyYAML's YAML 1.1 patterns, as gapctl's loader does
    (ruamel.yaml alone would read `yes` as text and `010` as ten)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            candidates = _PYYAML_PATTERNS.get(value[:1] if value else "", [])
            for tag, regexp in candidates + _PYYAML_PATTERNS.get(None, []):
                if regexp.match(value):
                    return Tag(suffix=tag)
            return Tag(suffix=_STR)
        return super().resolve(kind, value, implicit)


class _AsWritten(str):
    """A plain number, date, bool or null, kept as its source text (`0.10`, `yes`, `~`)."""

    tag: str
    anchor: Anchor

    def __new__(cls, text: str, tag: str, anchor: str | None) -> _AsWritten:
        obj = super().__new__(cls, text)
        obj.tag = tag
        obj.anchor = Anchor()
        obj.anchor.value, obj.anchor.always_dump = anchor, bool(anchor)
        return obj


class _Constructor(RoundTripConstructor):
    def construct_as_written(self, node: Any) -> Any:
        if node.style is None and not node.ctag.handle:
            return _AsWritten(node.value, str(node.tag), node.anchor)
        # explicitly tagged (`!!int "7"`): ruamel.yaml's own types
        original = RoundTripConstructor.yaml_constructors.get(str(node.tag), RoundTripConstructor.construct_yaml_str)
        return original(self, node)


for _name in _KEPT_AS_WRITTEN:
    _Constructor.add_constructor("tag:yaml.org,2002:" + _name, _Constructor.construct_as_written)


class _Representer(RoundTripRepresenter):
    def represent_as_written(self, data: _AsWritten) -> Any:
        return self.represent_scalar(data.tag, str(data), anchor=data.anchor if data.anchor.value else None)


_Representer.add_representer(_AsWritten, _Representer.represent_as_written)


_NUMBER_LIKE = re.compile(r"[+-]?[0-9][0-9._:-]*")


class _Emitter(RoundTripEmitter):
    """Double quotes where ruamel.yaml would use single quotes; for text that looks like a number
    or date to a reader (`"2.1.3"`, as the README asks for ids) though YAML reads it as text; and
    for plain text libyaml (YAML 1.1) would not read back: `:a`, `?a`, `a:b` inside `[...]`."""

    keep_single_quotes = False

    def choose_scalar_style(self) -> Any:
        style = super().choose_scalar_style()
        if style == "'" and not (self.keep_single_quotes and self.event.style == "'"):
            return '"'
        value = self.event.value
        if style == "" and self.event.ctag == _STR and value and (
                _NUMBER_LIKE.fullmatch(value) or value[0] in "?:" or self.flow_level and ":" in value):
            return '"'
        return style


class _EditEmitter(_Emitter):
    """For edits: quotes stay as the file wrote them, single ones included."""

    keep_single_quotes = True


def round_trip_yaml(keep_quotes: bool = False) -> YAML:
    """ruamel.yaml reading like gapctl and writing fmt's style; `keep_quotes` (for edits that are
    not formatting) keeps each quoted string's quotes instead of writing it plain where it can be."""
    y = YAML(typ="rt")
    y.Resolver = _Resolver
    y.Constructor = _Constructor
    y.Representer = _Representer
    y.Emitter = _EditEmitter if keep_quotes else _Emitter
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    y.allow_unicode = True
    y.preserve_quotes = keep_quotes
    return y


# --- edits: change some data in a file, keep every byte the change does not touch ------------

def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as ruamel.yaml's indent() takes them, from the first nested
    mapping and the first block sequence of `text`; fmt's (2, 4, 2) where the file does not say."""
    mapping = sequence = offset = None
    lines = (line for line in text.split("\n") if line.strip() and not line.lstrip().startswith("#"))
    for prev, line in pairwise(lines):  # (lazily: the first lines usually tell)
        if not re.sub(r"\s+#.*$", "", prev).rstrip().endswith(":"):
            continue
        key_col = len(prev) - len(prev.lstrip(" -"))
        col = len(line) - len(line.lstrip(" "))
        if line.lstrip(" ").startswith("- ") and offset is None:
            offset = col - key_col
            sequence = len(line) - len(line.lstrip(" -")) - key_col
        elif col > key_col and mapping is None and not line.lstrip(" ").startswith("-"):
            mapping = col - key_col
        if mapping is not None and offset is not None:
            break  # nothing later changes them
    mapping = mapping if mapping and mapping > 0 else 2
    offset = offset if offset is not None and offset >= 0 else 2
    sequence = sequence if sequence is not None and sequence >= offset + 2 else offset + 2
    return mapping, sequence, offset


def _commented(value: Any) -> Any:
    """A new value as ruamel.yaml's round-trip types, so that comment lines can attach after it."""
    if isinstance(value, dict) and not isinstance(value, CommentedMap):
        return CommentedMap((k, _commented(v)) for k, v in value.items())
    if isinstance(value, list) and not isinstance(value, CommentedSeq):
        return CommentedSeq(_commented(v) for v in value)
    if isinstance(value, CommentedMap):
        for k, v in value.items():
            value[k] = _commented(v)
    elif isinstance(value, CommentedSeq):
        for i, v in enumerate(value):
            value[i] = _commented(v)
    return value


def _dump(y: YAML, data: Any) -> str:
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


class Edit:
    """A change to the data of one YAML file that leaves every byte it does not touch as it was.

    `data` is the file loaded by ruamel.yaml (round trip); change it with set/remove/append,
    which keep comment lines where they stand and put new keys at their documented place. Then
    `new_bytes()` dumps the document before and after the change and applies only the
    difference to the file's own text, so its layout, quoting, blank lines, unknown keys, byte-order
    mark and line endings stay; the result must read back as the changed data with every comment,
    else the whole file as ruamel.yaml writes it is tried, else nothing is written (WriteError).
    Raises WriteError for a file that cannot be parsed: it is never overwritten.
    """

    def __init__(self, original: Original, layout: tuple[int, int, int] | None = None):
        """`layout`: the indentation (mapping, sequence, offset) to write new lines with, when the
        text edited is a part of a file (gapctl.data.entry_edits) and the file as a whole tells it."""
        self.original = original
        shown = display_path(original.path)
        parsed = read_file(original.path, original.raw)
        if parsed.data is None or parsed.problems:
            first = parsed.problems[0] if parsed.problems else None
            where = f"{first.locate()}: {first.message}" if first else \
                _("{path}: holds no data").format(path=shown)
            raise WriteError(_("{where}; not written (fix the file first)").format(where=where))
        self._before = _strict(parsed.data)
        self.yaml = round_trip_yaml(keep_quotes=True)
        mapping, sequence, offset = layout or _guess_indent(original.lf)
        self.yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        try:
            self.data = self.yaml.load(original.lf)
            self._base = _dump(self.yaml, self.data)  # before any change
        except Exception as err:  # ruamel.yaml reads what libyaml read: a bug, not bad data
            raise WriteError(_("{path}: cannot edit ({error}); not written").format(
                path=shown, error=f"{type(err).__name__}: {err}")) from None
        self._dropped: Counter[str] = Counter()

    # the changes

    def set(self, mapping: CommentedMap, key: str, value: Any, order: Iterable[str] = ()) -> None:
        """Set `key`: in place if present (a mapping is updated key by key, so comments inside it
        stay), else inserted after the last present key that comes before it in `order` (at the end
        if none does), the comment lines that stood before the next key staying before that key."""
        column = mapping.lc.col or 0
        value = _commented(value)
        if key in mapping:
            old = mapping[key]
            if isinstance(old, CommentedMap) and isinstance(value, dict):
                for k in [k for k in old if k not in value]:
                    self.remove(old, k)
                for k, v in value.items():
                    self.set(old, k, v, list(value))
                return
            if old == value and type(old) is type(value):
                return
            tail = _cut_tail(mapping, key, column, True)
            mapping[key] = value
            if tail:
                _put_after(mapping, key, tail)
            return
        keys = list(mapping)
        rank = {k: i for i, k in enumerate(order)}
        earlier = [i for i, k in enumerate(keys) if key in rank and k in rank and rank[k] < rank[key]]
        pos = earlier[-1] + 1 if earlier else len(keys)
        tail = _cut_tail(mapping, keys[pos - 1], column, False) if pos else ""
        mapping.insert(pos, key, value)
        if tail and not _put_after(mapping, key, tail):
            _put_after(mapping, keys[pos - 1], tail)

    def remove(self, mapping: CommentedMap, key: str) -> None:
        """Remove `key`; the comment lines after it stay, its end-of-line comment goes with it."""
        if key not in mapping:
            return
        keys = list(mapping)
        index = keys.index(key)
        tail = _cut_tail(mapping, key, mapping.lc.col or 0, True)
        token = _token(mapping, key, 2)
        if token is not None and token.value.startswith("#"):
            self._dropped[token.value.split("\n")[0].rstrip()] += 1
        del mapping[key]
        mapping.ca.items.pop(key, None)
        if tail and not (index and _put_after(mapping, keys[index - 1], tail)) and index + 1 < len(keys):
            _put_before(mapping, keys[index + 1], tail)

    def append(self, seq: CommentedSeq, item: Any) -> None:
        """Append `item`; comment lines after the last item that are not indented into it come
        after the new one (an empty flow list `[]` becomes a block list)."""
        item = _commented(item)
        if not len(seq):
            if seq.fa.flow_style():
                seq.fa.set_block_style()
            seq.append(item)
            return
        tail = _cut_tail(seq, len(seq) - 1, seq.lc.col or 0, False)
        seq.append(item)
        if tail and not _put_after(seq, len(seq) - 1, tail):
            _put_after(seq, len(seq) - 2, tail)

    # the result

    def new_bytes(self) -> bytes:
        """The file's new bytes (see the class); WriteError if the change cannot be written losslessly."""
        shown = display_path(self.original.path)
        ours = _dump(self.yaml, self.data)
        path = self.original.path
        if self._strict_data(self._base) != self._before:
            raise WriteError(_("{path}: ruamel.yaml does not read this file as gapctl does (please report it); not "
                               "written").format(path=shown))
        wanted = self._strict_data(ours)
        comments = Counter(comment_texts(self.original.lf)) - self._dropped
        spliced = splice(self.original.text, self._base, ours, self.original.newline)
        for candidate in (self.original.encode(spliced, newlines=False), self.original.encode(ours)):
            text = candidate.decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
            if self._strict_data(candidate) == wanted and Counter(comment_texts(text)) == comments:
                return candidate
        raise WriteError(_("{path}: the change would lose or move a comment or a value (a gapctl bug; please "
                           "report it); not written").format(path=display_path(path)))

    def _strict_data(self, text: str | bytes) -> Any:
        parsed = read_file(self.original.path, text)
        return None if parsed.problems else _strict(parsed.data)


def splice(original: str, base: str, ours: str, newline: str = "\n") -> str:
    """`original` with the change that turns `base` into `ours`, every other line kept as written.

    `base` and `ours` are ruamel.yaml's dumps of a file before and after a change; `original`
    is the file as written, which may differ from `base` in layout. Lines are matched between
    base and original (a run of lines written differently pairs up line by line when both have
    as many); a change inside a run that does not pair up replaces the whole run.
    """
    lines = re.findall(r"[^\n]*\n|[^\n]+$", original)  # only LF ends a line (not U+2028, as splitlines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline  # so that a line can follow the last one
    keys = [line.removesuffix("\n").removesuffix("\r") for line in lines]
    old, new = base.removesuffix("\n").split("\n"), ours.removesuffix("\n").split("\n")
    anchors: dict[int, list[int]] = {0: [0]}  # a position in base → where it is in original
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, keys, autojunk=False).get_opcodes():
        if tag == "equal" or tag == "replace" and i2 - i1 == j2 - j1:  # as many lines, written differently
            for k in range(i2 - i1 + 1):
                anchors.setdefault(i1 + k, []).append(j1 + k)
    anchors.setdefault(len(old), []).append(len(keys))
    ops = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    spans: list[list[int]] = []
    for tag, i1, i2, _j1, _j2 in ops:
        if tag == "equal":
            continue
        while i1 not in anchors:  # widen over lines the original writes differently
            i1 -= 1
        while i2 not in anchors:
            i2 += 1
        spans.append([i1, i2])
    merged: list[list[int]] = []
    for span in sorted(spans):
        if merged and span[0] <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span[1])
        else:
            merged.append(span)

    def ours_at(p: int, end: bool) -> int:
        touching = [j2 if end else j1 for tag, i1, i2, j1, j2 in ops if tag != "equal" and (i2 if end else i1) == p]
        if touching:
            return max(touching) if end else min(touching)
        return next(j1 + p - i1 for tag, i1, i2, j1, _ in ops if tag == "equal" and i1 <= p <= i2)

    out: list[str] = []
    at = 0
    for i1, i2 in merged:
        start = max(anchors[i1]) if i1 < i2 else min(anchors[i1])
        out += lines[at:start]
        out += [line + newline for line in new[ours_at(i1, False):ours_at(i2, True)]]
        at = min(anchors[i2]) if i1 < i2 else start
    out += lines[at:]
    return "".join(out)


def comment_texts(text: str) -> list[str]:
    """Every comment of a YAML text (from `#` to the end of its line, trailing blanks dropped),
    found by libyaml's scanner: a `#` inside a value is not a comment."""
    if "#" not in text:
        return []  # (scanning a long file costs more than the edit it checks)
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    covered: dict[int, list[tuple[int, int]]] = {}
    for token in pyyaml.scan(text, Loader=getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)):
        start, end = token.start_mark, token.end_mark
        for line in range(start.line, end.line + 1):
            covered.setdefault(line, []).append((start.column if line == start.line else 0,
                                                 end.column if line == end.line else 1 << 30))
    found = []
    for number, line in enumerate(lines):
        spans = covered.get(number, [])
        for col, char in enumerate(line):
            if char == "#" and (col == 0 or line[col - 1] in " \t") \
                    and not any(a <= col < b for a, b in spans):
                found.append(line[col:].rstrip())
                break
    return found


def _strict(value: Any) -> Any:
    """Data with types made visible: `1` and `true`, `0.1` and `0.10` compare unequal."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return (type(value).__name__, str(value) if isinstance(value, Decimal) else value)
