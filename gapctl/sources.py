"""Bytes on disk → plain Python data, with positions found only when a problem needs one.

YAML goes through libyaml's C parser (`yaml.compose` with `CSafeLoader`) and a small
walker that turns nodes into dicts, lists and scalars: cheaper than PyYAML's own
constructor, and it sees the nodes, so duplicate keys are caught with their marks.
TOML goes through `tomllib` with `parse_float=Decimal`. Numbers become `int` or
`Decimal` (never binary floats), dates stay text until the model reads them, and mapping
keys are always text (as they are in TOML).

Line and column of a value are not kept on the hot path: `SourceFile.locate` re-reads the
one file that has a problem and walks to the key path.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gapctl.problems import (
    DUPLICATE_KEY,
    EMPTY_FILE,
    ENCODING,
    FILE_TOO_LARGE,
    SYNTAX,
    UNREADABLE,
    Location,
    Problem,
)

YAML_SUFFIXES = (".yaml", ".yml")
TOML_SUFFIXES = (".toml",)
DATA_SUFFIXES = YAML_SUFFIXES + TOML_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024  # a unit's observations are ~20 KB; 20 MB is surely wrong
MAX_NODES = 2_000_000  # guards the walker against alias bombs ("billion laughs")

_TAG = "tag:yaml.org,2002:"
_INT, _FLOAT, _BOOL, _NULL = _TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"
_TRUE = frozenset(("true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"))
_SPECIAL_FLOATS = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}


def display_path(path: Path) -> str:
    """A path as users typed it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(eq=False)
class SourceFile:
    """A data file; knows how to find the line and column of a key path inside it."""

    path: Path
    display: str
    text: str | None = None  # kept only for files read from git objects (no path on disk)
    _positions: dict[tuple[Any, ...], tuple[int, int, int, int]] | None = field(
        default=None, repr=False)

    @property
    def fmt(self) -> str:
        return "toml" if self.path.suffix.lower() in TOML_SUFFIXES else "yaml"

    @property
    def stem(self) -> str:
        return self.path.stem

    def _read_text(self) -> str | None:
        if self.text is not None:
            return self.text
        try:
            raw = self.path.read_bytes()
        except OSError:
            return None
        decoded, _ = decode(raw)
        return decoded

    def locate(self, at: tuple[Any, ...], on: str = "value") -> Location:
        """The 1-based position of key path `at` (or its nearest located ancestor)."""
        if self._positions is None:
            text = self._read_text()
            positions: dict[tuple[Any, ...], tuple[int, int, int, int]] = {}
            if text is not None:
                try:
                    if self.fmt == "toml":
                        positions = toml_positions(text)
                    else:
                        yaml_positions(text, positions)
                except Exception:  # a file with a syntax error has no positions beyond it
                    pass
            self._positions = positions
        key = tuple(at)
        while key:
            found = self._positions.get(key)
            if found:
                kl, kc, vl, vc = found
                return Location(self.display, *((kl, kc) if on == "key" else (vl, vc)))
            key = key[:-1]
        return Location(self.display, 1, 1)


@dataclass
class Parsed:
    """What reading one file gave: its data (None if unreadable) and its problems."""

    src: SourceFile
    data: Any
    problems: list[Problem]


def decode(raw: bytes) -> tuple[str | None, str | None]:
    """UTF-8 text (BOM stripped) or (None, a hint naming the encoding it looks like)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, "UTF-16 (it starts with a UTF-16 byte-order mark)"
    if b"\x00" in raw:
        if raw[1::2].count(0) > len(raw) // 4 or raw[0::2].count(0) > len(raw) // 4:
            return None, "UTF-16 without a byte-order mark"
        return None, "binary data (it contains NUL bytes)"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    for guess in ("gb18030",):
        try:
            raw.decode(guess)
        except UnicodeDecodeError:
            continue
        return None, "GBK/GB18030 (as Chinese Windows editors save by default)"
    return None, "an unknown 8-bit encoding"


def read_file(path: Path, text: str | bytes | None = None,
              max_bytes: int = MAX_FILE_BYTES, keep_text: bool = False) -> Parsed:
    """Read and parse one YAML or TOML file, collecting problems instead of raising.

    `text` gives the content instead of reading `path`; `keep_text` keeps it for locating
    problems later (for files that are not on disk, such as a git revision's).
    """
    src = SourceFile(path, display_path(path))
    try:
        raw = text if isinstance(text, bytes) else (
            text.encode("utf-8") if text is not None else path.read_bytes())
    except OSError as err:
        return Parsed(src, None, [Problem(UNREADABLE, f"cannot read file: {err.strerror}",
                                          src, location=Location(src.display))])
    if len(raw) > max_bytes:
        return Parsed(src, None, [Problem(
            FILE_TOO_LARGE,
            f"file is {len(raw) / 1048576:.1f} MB, over the limit of "
            f"{max_bytes / 1048576:.0f} MB (set GAPCTL_MAX_FILE_MB to raise it)",
            src, location=Location(src.display))])
    decoded, hint = decode(raw)
    if decoded is None:
        fmt = "GB18030" if hint and hint.startswith("GBK") else "UTF-16"
        return Parsed(src, None, [Problem(
            ENCODING,
            f"file is not UTF-8; it looks like {hint}. Convert it, for example: "
            f"iconv -f {fmt} -t UTF-8 '{src.display}' > tmp && mv tmp '{src.display}'",
            src, location=Location(src.display, 1, 1))])
    if keep_text:
        src.text = decoded
    if not decoded.strip():
        return Parsed(src, None, [Problem(EMPTY_FILE, "file is empty", src,
                                          location=Location(src.display, 1, 1))])
    if src.fmt == "toml":
        return _parse_toml(src, decoded)
    return _parse_yaml(src, decoded)


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def _parse_toml(src: SourceFile, text: str) -> Parsed:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        m = _TOML_POS.search(msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        msg = _TOML_POS.sub("", msg).strip()
        if msg.startswith("Cannot overwrite a value") or msg.startswith("Cannot declare"):
            lines = text.splitlines()
            if 0 < line <= len(lines):  # tomllib points past the value; point at the key
                col = len(lines[line - 1]) - len(lines[line - 1].lstrip()) + 1
            return Parsed(src, None, [Problem(
                DUPLICATE_KEY, f"duplicate key or table: {msg}", src,
                location=Location(src.display, line, col))])
        return Parsed(src, None, [Problem(SYNTAX, f"TOML syntax error: {msg}", src,
                                          location=Location(src.display, line, col))])
    return Parsed(src, data, [])


def _parse_yaml(src: SourceFile, text: str) -> Parsed:
    import yaml  # local import keeps `gapctl --help` fast

    try:
        node = yaml.compose(text, Loader=_composer())
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = err.problem or "invalid YAML"
        if err.context:
            what = f"{what} ({err.context})"
        lines = text.splitlines()
        bad_line = lines[line - 1] if 0 < line <= len(lines) else ""
        if "\t" in bad_line[: len(bad_line) - len(bad_line.lstrip())] or "\t" in bad_line[col - 1:col]:
            what += "; YAML indentation must use spaces, not tabs"
        return Parsed(src, None, [Problem(SYNTAX, f"YAML syntax error: {what}", src,
                                          location=Location(src.display, line, col))])
    except yaml.YAMLError as err:
        return Parsed(src, None, [Problem(SYNTAX, f"YAML error: {err}", src,
                                          location=Location(src.display, 1, 1))])
    if node is None:
        return Parsed(src, None, [Problem(EMPTY_FILE, "file holds no data (only comments?)",
                                          src, location=Location(src.display, 1, 1))])
    walker = _Walker(src)
    try:
        data = walker.walk(node)
    except _TooManyNodes:
        return Parsed(src, None, [Problem(
            FILE_TOO_LARGE,
            f"file expands to more than {MAX_NODES:,} values (YAML aliases used to "
            "multiply data?)", src, location=Location(src.display, 1, 1))])
    except RecursionError:
        return Parsed(src, None, [Problem(SYNTAX, "file is nested too deeply", src,
                                          location=Location(src.display, 1, 1))])
    return Parsed(src, data, walker.problems)


class _TooManyNodes(Exception):
    pass


_PLAIN = "gapctl:plain"  # a plain scalar whose type the walker decides
_COMPOSER: Any = None
_IMPLICIT: dict[str, list[tuple[str, Any]]] = {}


def _composer() -> Any:
    """libyaml's parser with a resolver that defers plain scalars to the walker.

    PyYAML's resolver runs a Python regex search for every scalar while composing; most
    scalars here are Chinese text, so the walker decides types itself, using the same
    YAML 1.1 patterns only for scalars that start like a number, bool or null.
    """
    global _COMPOSER
    if _COMPOSER is not None:
        return _COMPOSER
    import yaml
    from yaml.nodes import ScalarNode
    from yaml.resolver import Resolver

    _IMPLICIT.update(Resolver.yaml_implicit_resolvers)
    try:
        from yaml.cyaml import CParser as parser
    except ImportError:  # no libyaml: PyYAML's pure-Python loader, with its own resolution
        _COMPOSER = yaml.SafeLoader
        return _COMPOSER
    str_tag, seq_tag, map_tag = _TAG + "str", _TAG + "seq", _TAG + "map"

    class Composer(parser, Resolver):  # type: ignore[misc, valid-type]
        def __init__(self, stream: Any) -> None:
            parser.__init__(self, stream)
            Resolver.__init__(self)

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is ScalarNode:
                return _PLAIN if implicit[0] else str_tag
            return seq_tag if kind.__name__ == "SequenceNode" else map_tag

    _COMPOSER = Composer
    return Composer


def _plain(value: str) -> Any:
    """Type of a plain scalar by YAML 1.1's implicit patterns (as PyYAML resolves them)."""
    for tag, pattern in _IMPLICIT.get(value[:1], ()):
        if pattern.match(value):
            if tag in (_INT, _FLOAT, _BOOL, _NULL):
                return _typed(tag, value)
            return value
    return value


def _scalar(node: Any) -> Any:
    tag, value = node.tag, node.value
    if tag == _PLAIN:
        return _plain(value)
    return _typed(tag, value)


def _typed(tag: str, value: str) -> Any:
    if tag == _INT:
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            try:
                return int(value.replace("_", ""))
            except ValueError:
                return value
    if tag == _FLOAT:
        try:
            return Decimal(_SPECIAL_FLOATS.get(value.lower(), value.replace("_", "")))
        except InvalidOperation:
            return value
    if tag == _BOOL:
        return value in _TRUE
    if tag == _NULL:
        return None
    return value


class _Walker:
    """Composed YAML nodes → plain data; records duplicate keys and (optionally) positions."""

    def __init__(self, src: SourceFile | None,
                 positions: dict[tuple[Any, ...], tuple[int, int, int, int]] | None = None):
        self.src = src
        self.positions = positions
        self.problems: list[Problem] = []
        self.budget = MAX_NODES

    def walk(self, node: Any, path: tuple[Any, ...] = ()) -> Any:
        from yaml.nodes import MappingNode, SequenceNode

        self.budget -= 1
        if self.budget < 0:
            raise _TooManyNodes
        cls = node.__class__
        if cls is MappingNode:
            out: dict[str, Any] = {}
            positions = self.positions
            for key_node, value_node in node.value:
                if key_node.__class__ is not MappingNode and key_node.__class__ is not SequenceNode:
                    key = key_node.value
                else:
                    key = "?"
                sub = path + (key,)
                if positions is not None:
                    km, vm = key_node.start_mark, value_node.start_mark
                    positions.setdefault(sub, (km.line + 1, km.column + 1,
                                               vm.line + 1, vm.column + 1))
                if key in out and self.src is not None:
                    km = key_node.start_mark
                    self.problems.append(Problem(
                        DUPLICATE_KEY, f"duplicate key '{key}' in this mapping; only one "
                        "value may be given", self.src,
                        location=Location(self.src.display, km.line + 1, km.column + 1)))
                    continue
                out[key] = self.walk(value_node, sub)
            return out
        if cls is SequenceNode:
            return [self.walk(item, path + (i,)) for i, item in enumerate(node.value)]
        return _scalar(node)


def yaml_positions(text: str, positions: dict[tuple[Any, ...], tuple[int, int, int, int]]) -> None:
    """Fill `positions` with key path → (key line, key col, value line, value col)."""
    import yaml

    node = yaml.compose(text, Loader=_composer())
    if node is not None:
        _Walker(None, positions).walk(node)
        _add_sequence_items(node, (), positions)


def _add_sequence_items(node: Any, path: tuple[Any, ...],
                        positions: dict[tuple[Any, ...], tuple[int, int, int, int]]) -> None:
    """Sequence items have no key; record the item's own start as both ends."""
    from yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            _add_sequence_items(value_node, path + (key_node.value,), positions)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            m = item.start_mark
            positions.setdefault(path + (i,), (m.line + 1, m.column + 1, m.line + 1, m.column + 1))
            _add_sequence_items(item, path + (i,), positions)


# --- TOML positions -------------------------------------------------------------------

_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_PART = rf'(?:{_BARE_KEY}|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=\s*")
_PART = re.compile(_KEY_PART)


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = []
    for m in _PART.finditer(dotted):
        part = m.group(0)
        if part[0] in "\"'":
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def toml_positions(text: str) -> dict[tuple[Any, ...], tuple[int, int, int, int]]:
    """Key path → position for TOML: tables, arrays of tables and `key = value` lines.

    Values inside inline tables and multi-line arrays resolve to their enclosing key.
    """
    positions: dict[tuple[Any, ...], tuple[int, int, int, int]] = {}
    array_counts: dict[tuple[Any, ...], int] = {}
    table: tuple[Any, ...] = ()
    in_multiline: str | None = None
    bracket_depth = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        if bracket_depth > 0:
            bracket_depth += line.count("[") - line.count("]")
            continue
        header = _HEADER.match(line)
        if header:
            names = _split_key(header.group(2))
            if header.group(1) == "[[":
                array_key = _resolve_arrays(names[:-1], array_counts) + (names[-1],)
                index = array_counts.get(array_key, -1) + 1
                array_counts[array_key] = index
                resolved = array_key + (index,)
            else:
                resolved = _resolve_arrays(names, array_counts)
            col = line.index(header.group(1)) + 1
            positions.setdefault(resolved, (lineno, col, lineno, col))
            table = resolved
            continue
        assign = _ASSIGN.match(line)
        if assign:
            names = _split_key(assign.group(1))
            key_col = len(line) - len(line.lstrip()) + 1
            value_col = assign.end() + 1
            positions.setdefault(table + names, (lineno, key_col, lineno, value_col))
            rest = line[assign.end():]
            for quote in ('"""', "'''"):
                if rest.startswith(quote) and rest.count(quote) == 1:
                    in_multiline = quote
            if rest.startswith("["):
                depth = rest.count("[") - rest.count("]")
                if depth > 0:
                    bracket_depth = depth
    return positions


def _resolve_arrays(names: tuple[str, ...], array_counts: dict[tuple[Any, ...], int]) -> tuple[Any, ...]:
    """Insert the current index after every prefix that names an array of tables."""
    resolved: tuple[Any, ...] = ()
    for name in names:
        resolved = resolved + (name,)
        if resolved in array_counts:
            resolved = resolved + (array_counts[resolved],)
    return resolved
