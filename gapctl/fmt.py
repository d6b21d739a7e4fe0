"""`gapctl fmt`: rewrite YAML data files in one canonical layout, keeping every comment and value.

The layout: 2-space mappings, sequence items as `  - key: v` under their key, no line
wrapping, keys in the order `gapctl/schema.py` declares them (unknown keys after the known
ones, `assumed`/`assumed_note` last), strings plain when YAML would read them back as the
same text and double-quoted when not, block scalars and flow collections kept as written.

ruamel.yaml's round-trip mode carries the comments. Plain scalars are typed the way gapctl's
own loader types them (PyYAML's YAML 1.1 patterns), and every number, date, bool and null is
written back with its original spelling (`0.10`, `1_000`, `yes`, `~`), so the data gapctl
reads cannot change; `format_paths` still re-reads its output and refuses to write a file
whose data would differ.

One value is written another way on purpose: the words evaluators write for a value, which
gapctl reads as an alias (gapctl.schema), are written as the English word they stand for. The
canonical form is the English word, and it stays so: `result:` 完成 → `done`, 未完成 →
`not-done`, 不适用 → `n/a`, 待评 / 待评估 / 未评估 → `pending`, 无佐证 / 无佐证材料 →
`no-evidence`; 是 → `true` and 否 → `false` where true or false is wanted (a result's `items`
and `findings`, an observation file's `facts`, keys such as `assumed` or `stop`). What gapctl
reads does not change (an alias is read as its word), so a file scores the same before and
after; the check before writing compares the data with aliases read as their words.

Only YAML files whose place says what they hold are formatted (`kind_of`). TOML files,
round.toml included, are left alone: they are out of scope for now.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.anchor import Anchor
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import CommentMark, MarkedYAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from ruamel.yaml.tag import Tag
from ruamel.yaml.tokens import CommentToken

from gapctl import schema as S
from gapctl.i18n import _
from gapctl.load import RULE_COMMON, RULE_ITEM, TIER
from gapctl.rules import REGISTRY
from gapctl.sources import YAML_SUFFIXES, decode, display_path, read_file
from gapctl.writes import Original, WriteError, recover, refusal, write_atomically

KINDS = ("scheme", "units", "observations", "external")


# --- where a file's kind comes from ---------------------------------------------------

def kind_of(path: Path) -> str | None:
    """The kind of data file `path` holds, from where it lives; None for files fmt leaves alone.

    schemes/*.yaml → scheme, units/*.yaml → units, rounds/*/observations/*.yaml →
    observations, rounds/*/external/*.yaml → external (`.yml` too). TOML files, round.toml
    and YAML anywhere else are not formatted (TOML is out of scope for now).
    """
    path = Path(os.path.abspath(path))
    if path.suffix.lower() not in YAML_SUFFIXES or path.name.startswith("."):
        return None
    parent = path.parent.name
    if parent == "schemes":
        return "scheme"
    if parent == "units":
        return "units"
    if parent in ("observations", "external") and path.parent.parent.parent.name == "rounds":
        return parent
    return None


def _files_under(directory: Path) -> list[Path]:
    """The data files fmt formats under a repository, rounds/, a round or a data directory."""
    def files(d: Path) -> list[Path]:
        return [p for p in d.iterdir() if p.is_file() or p.is_symlink()] if d.is_dir() else []

    def round_files(round_dir: Path) -> list[Path]:
        return files(round_dir / "observations") + files(round_dir / "external")

    def rounds(rounds_dir: Path) -> list[Path]:
        if not rounds_dir.is_dir():
            return []
        found: list[Path] = []
        for d in rounds_dir.iterdir():
            if d.is_symlink():  # not followed; format_paths reports it
                found.append(d)
            elif d.is_dir():
                found.extend(round_files(d))
        return found

    name = directory.resolve().name
    if name in ("schemes", "units", "observations", "external"):
        found = files(directory)
    elif name == "rounds":
        found = rounds(directory)
    elif directory.resolve().parent.name == "rounds":
        found = round_files(directory)
    else:  # a repository: only its data directories, never tests/, .git/ or .venv/
        found = files(directory / "schemes") + files(directory / "units") + rounds(directory / "rounds")
    return [p for p in found if kind_of(p) or p.is_symlink() and p.is_dir()]


# --- how keys are ordered: the shapes, mapped onto the file's tree ---------------------

@dataclass(frozen=True, eq=False)
class _Map:
    """A mapping: its known keys in canonical order, the specs of its keys' values, and its shape
    (which says where an alias may stand: gapctl.schema.canonical)."""

    keys: tuple[str, ...]
    values: dict[str, Any] = field(default_factory=dict)
    shape: S.Shape = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class _Each:
    """A list whose items all have one spec."""

    item: Any


_RULE = object()  # a rule: its keys depend on its kind


def _map(shape: S.Shape, **values: Any) -> _Map:
    return _Map(tuple(shape), values, shape)


_SELECTOR = _map(S.SELECTOR)
_TIER = _map(TIER)
_RULE_ITEM = _map(RULE_ITEM, applies_to=_SELECTOR)
_GATE = _map(S.GATE)  # a gate written as a mapping (as text it has no keys to order)
_INDICATOR = _map(S.INDICATOR, applies_to=_SELECTOR, rule=_RULE, rules=_Each(_RULE), gate=_GATE,
                  redistribute=_map(S.REDISTRIBUTE), pass_line=_map(S.PASS_LINE))
_INDICATOR.values["children"] = _Each(_INDICATOR)
_SECTION = _map(S.SECTION, indicators=_Each(_INDICATOR), gate=_GATE)

SPECS: dict[str, _Map] = {
    "scheme": _map(
        S.SCHEME, scoring=_map(S.SCORING), measures=_Each(_map(S.MEASURE)),
        indicators=_Each(_INDICATOR), bonus=_SECTION, penalty=_SECTION,
        external=_Each(_map(S.EXTERNAL)), components=_Each(_map(S.COMPONENT)),
        grades=_Each(_map(S.GRADE)), flags=_Each(_map(S.FLAG)), vetoes=_Each(_map(S.VETO)),
        ranking=_map(S.RANKING, categories=_Each(_map(S.CATEGORY))), conversion=_map(S.CONVERSION)),
    "units": _map(S.UNIT_SET, units=_Each(_map(S.UNIT))),
    # a result's `items` and the file's `measures` are keyed by ids: their order is the author's
    "observations": _map(S.OBSERVATIONS, results=_Each(_map(S.RESULT, evidence=_Each(_map(S.EVIDENCE))))),
    "external": _map(S.EXTERNAL_FILE, deductions=_Each(_map(S.DEDUCTION))),
}


def _rule_spec(rule: Any) -> _Map:
    """`kind`, the kind's parameters in declaration order, then `when`."""
    kind = REGISTRY.get(rule.get("kind")) if isinstance(rule.get("kind"), str) else None
    values = {"tiers": _Each(_TIER), "items": _Each(_RULE_ITEM), "clauses": _Each(_map(S.CLAUSE)), "when": _SELECTOR}
    if kind is None:  # an unknown kind: only `kind` moves (first); validate reports the kind
        return _Map(("kind",), values, RULE_COMMON)
    return _Map(("kind", *kind.params, *(k for k in RULE_COMMON if k != "kind")), values,
                {**RULE_COMMON, **kind.params})


def _canonical_order(keys: list[Any], order: tuple[str, ...]) -> list[Any]:
    present = set(keys)
    known = set(order) | set(S.ASSUMPTION_KEYS)
    return ([k for k in order if k in present]
            + [k for k in keys if k not in known]
            + [k for k in S.ASSUMPTION_KEYS if k in present])


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


def _put_at_top(mapping: CommentedMap, where: tuple[Any, ...], text: str) -> None:
    """Add lines before the first key of `mapping`, after any already there."""
    if where[0] == "item":  # before the `- ` of the list item holding the mapping, indented as it
        dash = " " * max(0, (mapping.lc.col or 0) - 2)
        text = "".join(dash + line.lstrip(" ") + "\n" if line.strip() else "\n" for line in _lines(text))
        entry = where[1].ca.items.setdefault(where[2], [None, None, None, None])
        tokens = entry[1]
    else:  # the file's header, or the lines between a key and its mapping's first key
        if mapping.ca.comment is None:
            mapping.ca.comment = [None, None]
        entry = mapping.ca.comment
        tokens = entry[1]
        if where[0] == "key":
            # ruamel keeps these lines in the holding entry's slot 3 too, and writes that one
            holder = where[1].ca.items.setdefault(where[2], [None, None, None, None])
            tokens = holder[3] or tokens
            if not tokens:
                tokens = [_comment("")]
            holder[3] = entry[1] = tokens
    if tokens:
        tokens[-1].value = tokens[-1].value + text
    else:
        entry[1] = [_comment(text)]


def _put_at_end(mapping: CommentedMap, where: tuple[Any, ...], last: Any, text: str) -> None:
    """Add lines after the last entry of `mapping`: after its last entry if that is safe, else
    before what follows the mapping, else just above its last key, else at its top."""
    if _put_after(mapping, last, text):
        return
    if where[0] == "item":
        seq, index = where[1], where[2]
        if index + 1 < len(seq):
            entry = seq.ca.items.setdefault(index + 1, [None, None, None, None])
            entry[1] = [_comment(text), *(entry[1] or [])]
        elif seq.ca.end and isinstance(seq.ca.end[-1], CommentToken):
            seq.ca.end[-1].value = seq.ca.end[-1].value + text
        else:
            seq.ca.end = [_comment(text)]
        return
    if where[0] == "key":
        parent_keys = list(where[1])
        index = parent_keys.index(where[2])
        if index + 1 < len(parent_keys) and _put_before(where[1], parent_keys[index + 1], text):
            return
    if len(mapping) > 1 and _put_before(mapping, last, text):
        return
    _put_at_top(mapping, where, text)


def _reorder(mapping: CommentedMap, order: tuple[str, ...], where: tuple[Any, ...], shared: bool) -> None:
    keys = list(mapping)
    wanted = _canonical_order(keys, order)
    if keys == wanted:
        return
    # flow mappings hold no comments; with a collection written twice (an anchor and its
    # alias) where lines live is unclear: keys move, their comment lines stay where they are
    comments = not (mapping.fa.flow_style() or where[0] == "flow" or shared)
    before = {k: keys[i - 1] for i, k in enumerate(keys) if i}
    after = {k: wanted[i - 1] for i, k in enumerate(wanted) if i}
    leads: dict[Any, str] = {}
    tail = ""
    if comments:
        column = mapping.lc.col or 0
        leads = {k: _cut_tail(mapping, before[k], column, False) for k in keys[1:] if after.get(k) != before[k]}
        tail = _cut_tail(mapping, keys[-1], column, True) if wanted[-1] != keys[-1] else ""
    for key in wanted:
        mapping.move_to_end(key)
    if not comments:
        return
    first = mapping.ca.items.get(wanted[0])
    if wanted[0] != keys[0] and first and first[1]:  # lines above a key that is now the first
        leads[wanted[0]] = leads.get(wanted[0], "") + "".join(_raw(t) for t in first[1])
        first[1] = None
    for key, text in leads.items():
        if not text:
            continue
        if key == wanted[0]:
            _put_at_top(mapping, where, text)
        elif not _put_before(mapping, key, text) and not _put_after(mapping, after[key], text):
            _put_at_top(mapping, where, text)
    if tail:
        _put_at_end(mapping, where, wanted[-1], tail)


def _apply(spec: Any, node: Any, where: tuple[Any, ...], shared: bool) -> None:
    if spec is _RULE:
        if not isinstance(node, CommentedMap):
            return
        spec = _rule_spec(node)
    if isinstance(spec, _Each):
        if isinstance(node, CommentedSeq):
            flow = node.fa.flow_style() or where[0] == "flow"
            for i, item in enumerate(node):
                _apply(spec.item, item, ("flow",) if flow else ("item", node, i), shared)
        return
    if isinstance(node, CommentedMap) and not getattr(node, "merge", None):
        flow = node.fa.flow_style() or where[0] == "flow"
        for key, value in node.items():
            sub = spec.values.get(key) if isinstance(key, str) else None
            if sub is not None:
                _apply(sub, value, ("flow",) if flow else ("key", node, key), shared)
        _reorder(node, spec.keys, where, shared)


def canonical_words(spec: Any, node: Any) -> None:
    """Write in place, wherever `spec` reaches, the English word for each alias evaluators write
    (完成 → done, 是 → True; gapctl.schema.canonical). Works on ruamel.yaml's documents and on plain
    data alike; a value with an anchor (written again elsewhere as `*name`) is left as it is."""
    if spec is _RULE:
        if not isinstance(node, dict):
            return
        spec = _rule_spec(node)
    if isinstance(spec, _Each):
        if isinstance(node, list):
            for item in node:
                canonical_words(spec.item, item)
        return
    if not isinstance(node, dict):
        return
    for key in list(node):
        if not isinstance(key, str):
            continue
        sub = spec.values.get(key)
        if sub is not None:
            canonical_words(sub, node[key])
            continue
        declared = spec.shape.get(key) or S.ASSUMPTION_KEYS.get(key)
        if declared is None:
            continue
        value = node[key]
        if declared.yes_no and isinstance(value, dict):
            for entry in list(value):
                _swap(value, entry, S.canonical_entry(value[entry]))
        else:
            _swap(node, key, S.canonical(declared, value))


def _swap(container: Any, key: Any, word: Any) -> None:
    """Put `word` in place of a plain text value (not one with an anchor, a ruamel.yaml subclass); an
    end-of-line comment keeps its distance from the value (`result: done  # 已核实`)."""
    old = container[key]
    if type(old) is not str or word is old:
        return
    container[key] = word
    entry = container.ca.items.get(key) if isinstance(container, CommentedMap) else None
    token = entry[2] if entry and len(entry) > 2 else None
    mark = getattr(token, "start_mark", None)
    column = getattr(mark, "column", None)
    if isinstance(token, CommentToken) and token.value.startswith("#") and isinstance(column, int):
        written = ("true" if word else "false") if isinstance(word, bool) else str(word)
        mark.column = max(0, column + len(written) - len(old))


def _has_shared_collections(node: Any) -> bool:
    """Whether one mapping or list appears twice (an anchor and its alias)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (CommentedMap, CommentedSeq)):
            if id(item) in seen:
                return True
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, CommentedMap) else item)
    return False


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


_DOCUMENT_START = re.compile(r"((?:[ \t]*(?:#[^\n]*)?\n)*)(---)[ \t]*(#[^\n]*)?(?:\n|$)")


def format_text(text: str, kind: str) -> str:
    """The canonical YAML text of a data file of `kind` (scheme, units, observations, external).

    Raises ruamel.yaml's YAMLError for text that is not YAML (format_paths reports it).
    """
    if kind not in SPECS:
        raise ValueError(f"unknown kind of file {kind!r}; expected one of {', '.join(KINDS)}")
    y = round_trip_yaml()
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    start = _DOCUMENT_START.match(text)
    if start:  # ruamel.yaml drops the comments above `---`; the canonical layout has no `---`
        text = text[: start.start(2)] + (start.group(3).lstrip() + "\n" if start.group(3) else "") \
            + text[start.end():]
    data = y.load(text)
    if data is None:
        raise ValueError(_("the file holds no data"))
    if isinstance(data, CommentedMap):
        canonical_words(SPECS[kind], data)
        _apply(SPECS[kind], data, ("root",), _has_shared_collections(data))
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue().rstrip("\n") + "\n"


# --- files ----------------------------------------------------------------------------

@dataclass
class FmtResult:
    """What a run did. `changed`: files that were not canonical (rewritten unless checking)."""

    check: bool = False
    changed: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # every file looked at
    skipped: list[Path] = field(default_factory=list)  # named, but not a kind fmt formats

    @property
    def exit_code(self) -> int:
        """1 when a file could not be handled, or (when checking) a file is not canonical."""
        return 1 if self.problems or (self.check and self.changed) else 0


def data_root(path: Path) -> Path | None:
    """The repository a data file belongs to, from where it lives (see kind_of); None if unknown.

    Writers refuse a symbolic link anywhere between the file and this directory."""
    path = Path(os.path.abspath(path))
    kind = kind_of(path)
    if kind in ("scheme", "units"):
        return path.parent.parent
    if kind in ("observations", "external"):
        return path.parents[3]
    return None


def format_paths(paths: Iterable[Path], check: bool) -> FmtResult:
    """Format files and directories (a repository, rounds/, a round, schemes/ …).

    With `check`, nothing is written. Files that cannot be read or parsed, symbolic links (the
    file, or a directory inside the repository), and files whose data formatting would change
    are reported and never written. A file keeps its line endings (CRLF or LF, as its first
    line) and its byte-order mark; see gapctl.writes for how files are written.
    """
    result = FmtResult(check=check)
    files: set[Path] = set()
    for path in map(Path, paths):
        if path.is_symlink() and path.is_dir():
            files.add(path)  # reported as a link
        elif path.is_dir():
            files.update(_files_under(path))
        elif path.is_symlink() or path.is_file():
            if kind_of(path):
                files.add(path)
            else:
                result.skipped.append(path)
        else:
            result.problems.append(_("{path}: no such file or directory").format(path=display_path(path)))
    if not check:  # first finish a batch a killed gapctl left (gapctl.writes), so that files are read whole
        for root in sorted({r for r in map(data_root, files) if r is not None}):
            recover(root)
    for path in sorted(files):
        result.files.append(path)
        _format_file(path, check, result)
    return result


def _format_file(path: Path, check: bool, result: FmtResult) -> None:
    shown = display_path(path)
    why = refusal(path, data_root(path))
    if why:
        result.problems.append(_("{why}; not formatted").format(why=why))
        return
    try:
        seen = os.lstat(path)  # before reading: a change after this is caught when writing
        raw = path.read_bytes()
    except OSError as err:
        result.problems.append(_("{path}: cannot read file: {reason}").format(path=shown, reason=err.strerror))
        return
    before = read_file(path, raw)
    if before.data is None or before.problems:  # not YAML, not UTF-8, empty, duplicate keys
        for problem in before.problems:
            result.problems.append(_("{where}: {problem}; not formatted").format(where=problem.locate(),
                                                                                  problem=problem.message))
        return
    decoded, _hint = decode(raw)
    assert decoded is not None  # read_file decoded it
    original = Original(path, raw, decoded, seen)
    text = original.lf
    try:
        new = format_text(text, kind_of(path) or "")
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        result.problems.append(_("{where}: YAML error: {problem}; not formatted").format(
            where=where, problem=err.problem or err))
        return
    except Exception as err:  # a file must never stop the others
        result.problems.append(_("{path}: cannot format ({error}); not formatted").format(
            path=shown, error=f"{type(err).__name__}: {err}"))
        return
    encoded = original.encode(new)
    after = read_file(path, encoded)
    if after.data is None or after.problems or _read_as(after.data, path) != _read_as(before.data, path):
        result.problems.append(_("{path}: formatting would change the data read from it (a gapctl fmt bug; please "
                                 "report it); not formatted").format(path=shown))
        return
    if sorted(comment_texts(new)) != sorted(comment_texts(text)):
        result.problems.append(_("{path}: formatting would lose or duplicate a comment (a gapctl fmt bug; please "
                                 "report it); not formatted").format(path=shown))
        return
    if encoded == raw:
        return
    result.changed.append(path)
    if check:
        return
    try:
        write_atomically(path, encoded, original.seen, root=data_root(path))
    except WriteError as err:
        result.problems.append(str(err))
        return
    result.written.append(path)


def _read_as(data: Any, path: Path) -> Any:
    """The data as gapctl reads it, types visible: aliases read as their words (完成 as done)."""
    spec = SPECS.get(kind_of(path) or "")
    if spec is not None:
        canonical_words(spec, data)
    return _strict(data)


# --- edits: change some data in a file, keep every byte the change does not touch ------------

def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as ruamel.yaml's indent() takes them, from the first nested
    mapping and the first block sequence of `text`; fmt's (2, 4, 2) where the file does not say."""
    mapping = sequence = offset = None
    lines = [line for line in text.split("\n") if line.strip() and not line.lstrip().startswith("#")]
    for prev, line in zip(lines, lines[1:], strict=False):
        if not re.sub(r"\s+#.*$", "", prev).rstrip().endswith(":"):
            continue
        key_col = len(prev) - len(prev.lstrip(" -"))
        col = len(line) - len(line.lstrip(" "))
        if line.lstrip(" ").startswith("- ") and offset is None:
            offset = col - key_col
            sequence = len(line) - len(line.lstrip(" -")) - key_col
        elif col > key_col and mapping is None and not line.lstrip(" ").startswith("-"):
            mapping = col - key_col
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
        text edited is a part of a file (gapctl.entry_edits) and the file as a whole tells it."""
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
