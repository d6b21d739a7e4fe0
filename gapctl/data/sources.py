"""Bytes on disk → plain Python data, with positions found only when a problem needs one.

YAML goes through libyaml's C parser (`yaml.compose` with `CSafeLoader`) and a small
walker that turns nodes into dicts, lists and scalars: cheaper than PyYAML's own
constructor, and it sees the nodes, so duplicate keys are caught with their marks.
TOML goes through `tomllib` with `parse_float=Decimal`. Numbers become `int` or
`Decimal` (never binary floats), dates stay text until the model reads them, and mapping
keys are always text (as they are in TOML).

A file that gapctl.data.fast_yaml can vouch for (a plain subset of YAML, typed the same under YAML 1.1
and 1.2) is read by yaml-rs instead, in about 40 % of the time; any file with a problem, and any
the fast reader is not sure of, is read here the position-keeping way.

Line and column of a value are not kept on the hot path: `SourceFile.locate` re-reads the
one file that has a problem and walks to the key path.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gapctl.data import fast_yaml, yaml11
from gapctl.data.value_count import toml_values_at_least, yaml_values_over
from gapctl.data.yaml_depth import may_be_too_deep, too_deep_at
from gapctl.i18n import N_, _
from gapctl.memo import kept
from gapctl.problems import (
    DUPLICATE_KEY,
    EMPTY_FILE,
    ENCODING,
    FILE_TOO_LARGE,
    SYNTAX,
    TOO_DEEP,
    UNREADABLE,
    UNSUPPORTED_YAML,
    Location,
    Problem,
)

YAML_SUFFIXES = (".yaml", ".yml")
TOML_SUFFIXES = (".toml",)
DATA_SUFFIXES = YAML_SUFFIXES + TOML_SUFFIXES
MAX_FILE_ENV = "GAPCTL_MAX_FILE_MB"
MAX_FILE_BYTES = 20 * 1024 * 1024  # the default; a unit's observations are ~20 KB, 20 MB is surely wrong
MAX_NODES = 2_000_000  # values in one file (the default): guards memory against huge files and alias bombs
MAX_VALUES_ENV = "GAPCTL_MAX_VALUES"
MAX_DEPTH = 64  # lists and mappings nested deeper than this are refused; real files need fewer than 10
# gapctl measures nesting itself (gapctl.data.yaml_depth) before libyaml composes, which recurses in
# C once per level: old releases overflowed the stack at ~30,000 levels, 0.2.5 refuses 1,000
# with a syntax error of its own. Either way the parser never decides what is too deep.

_TAG = "tag:yaml.org,2002:"
_INT, _FLOAT, _BOOL, _NULL = _TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"
_TRUE = frozenset(("true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"))
_SPECIAL_FLOATS = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
_STR, _SEQ, _MAP, _TIMESTAMP = _TAG + "str", _TAG + "seq", _TAG + "map", _TAG + "timestamp"
_SCALAR_TAGS = frozenset((_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP))
# the line breaks libyaml counts (YAML 1.1), so that line numbers agree with its marks
_YAML_LINES = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def max_file_bytes() -> tuple[int, str]:
    """The size limit in force: GAPCTL_MAX_FILE_MB (read at each call) or 20 MB; and a note on a bad value."""
    raw = os.environ.get(MAX_FILE_ENV, "").strip()
    if not raw:
        return MAX_FILE_BYTES, ""
    try:
        megabytes = Decimal(raw)
    except InvalidOperation:
        megabytes = Decimal(0)
    if not megabytes.is_finite() or megabytes <= 0 or megabytes > 1_000_000:
        return MAX_FILE_BYTES, _("; {setting} is not a number of megabytes, so the default applies").format(
            setting=f"{MAX_FILE_ENV}={raw!r}")
    return int(megabytes * 1048576), ""


def _size(size: int) -> str:
    """A file size as people read it: 50 MB, 1.5 MB, 3.1 KB."""
    from gapctl.figures import figure

    if size < 1048576:
        return f"{figure(Decimal(size) / 1024)} KB"
    text = figure(Decimal(size) / 1048576)
    return (text[:-2] if text.endswith(".0") else text) + " MB"


def display_path(path: Path) -> str:
    """A path as users typed it: relative to the working directory when inside it. Links are not
    resolved (a file or directory that is a symbolic link is named as itself, not as what it points
    to), except to find a path given absolute through a linked directory inside the working directory.

    A directory inside the working directory is worked out once per process and working directory (this
    runs for every file read): its files are shown as its display and their names, which is what the
    lexical steps below give them."""
    try:
        cwd = os.getcwd()
        directory, _sep, name = os.fspath(path).rpartition("/")
        if directory and name not in ("", ".", "..") and os.sep == "/":
            base = _DIRECTORIES.get((cwd, directory))
            if base is not None:
                return name if base == "." else base + "/" + name
            absolute = os.path.abspath(directory)
            if os.path.commonpath([absolute, cwd]) == cwd:
                base = kept(_DIRECTORIES, (cwd, directory), os.path.relpath(absolute, cwd), 4096)
                return name if base == "." else base + "/" + name
        absolute = os.path.abspath(path)
        if os.path.commonpath([absolute, cwd]) == cwd:
            return os.path.relpath(absolute, cwd)
        return str((path.parent.resolve() / path.name).relative_to(Path(cwd).resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(path)


_DIRECTORIES: dict[tuple[str, str], str] = {}  # (working directory, a directory inside it as given) → display


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
        from gapctl.data.reads import read_bytes

        try:
            raw = read_bytes(self.path)
        except (OSError, ValueError):
            return None
        decoded, _hint = decode(raw)
        return decoded

    def locate(self, at: tuple[Any, ...], on: str = "value", offset: int | None = None) -> Location:
        """The 1-based position of key path `at` (or its nearest located ancestor); `offset`
        characters into the value's text (past an opening quote), for a fault inside a formula."""
        found = self._locate(at, on)
        if offset is not None and on == "value" and found.line > 0:
            text = self._read_text() or ""
            lines = text.split("\n")
            line = lines[found.line - 1] if found.line <= len(lines) else ""
            quoted = line[found.col - 1:found.col] in ("'", '"')
            return Location(found.path, found.line, found.col + offset + (1 if quoted else 0))
        return found

    def _locate(self, at: tuple[Any, ...], on: str = "value") -> Location:
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

    def written(self, at: tuple[Any, ...]) -> str | None:
        """The plain value at key path `at` as the file spells it (`yes` where YAML read true), for
        a message; None where it cannot be told (no position of its own, a quoted value)."""
        found = self._locate(at)
        if self._positions is None or tuple(at) not in self._positions or found.line < 1:
            return None
        text = self._read_text() or ""
        lines = text.split("\n") if self.fmt == "toml" else _YAML_LINES.split(text)
        line = lines[found.line - 1] if found.line <= len(lines) else ""
        word = re.match(r"[^\s,\]}#\"']+", line[found.col - 1:])
        return word.group(0) if word else None


@dataclass
class Parsed:
    """What reading one file gave: its data (None if unreadable) and its problems."""

    src: SourceFile
    data: Any
    problems: list[Problem]


def decode(raw: bytes) -> tuple[str | None, str | None]:
    """UTF-8 text (BOM stripped) or (None, a hint naming the encoding it looks like: in English, a
    message translates it with `_()`)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return None, N_("UTF-32 (it starts with a UTF-32 byte-order mark)")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, N_("UTF-16 (it starts with a UTF-16 byte-order mark)")
    if b"\x00" in raw:
        if raw[1::2].count(0) > len(raw) // 4:
            return None, N_("UTF-16LE without a byte-order mark")
        if raw[0::2].count(0) > len(raw) // 4:
            return None, N_("UTF-16BE without a byte-order mark")
        return None, N_("binary data (it contains NUL bytes)")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    for guess in ("gb18030",):
        try:
            raw.decode(guess)
        except UnicodeDecodeError:
            continue
        return None, N_("GBK/GB18030 (as Chinese Windows editors save by default)")
    return None, N_("an unknown 8-bit encoding")


_ICONV = {"GBK": "GB18030", "UTF-32": "UTF-32", "UTF-16LE": "UTF-16LE", "UTF-16BE": "UTF-16BE", "UTF-16": "UTF-16"}


def _encoding_problem(src: SourceFile, raw: bytes, hint: str) -> Problem:
    """Not UTF-8: where the first offending byte is, what the file looks like, and how to convert it."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    offset = 0
    if hint.startswith("binary"):
        offset = raw.index(b"\x00")
    elif not hint.startswith("UTF-"):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            offset = err.start
    line = raw.count(b"\n", 0, offset) + 1
    col = len(raw[raw.rfind(b"\n", 0, offset) + 1:offset].decode("utf-8", "replace")) + 1
    if hint.startswith("binary"):
        message = _("file is not UTF-8 text: it holds a NUL byte here (binary data, or a file cut short?)")
    else:
        name = next((v for k, v in _ICONV.items() if hint.startswith(k)), None)
        where = _("byte 0x{byte} here is not UTF-8; ").format(byte=f"{raw[offset]:02X}") \
            if offset or not hint.startswith("UTF-") else ""
        message = _("file is not UTF-8: {where}it looks like {encoding}.").format(
            where=where, encoding=_(hint) if hint else "?")
        if name:
            message += _(" Convert it, for example: iconv -f {encoding} -t UTF-8 '{path}' > tmp && mv tmp "
                         "'{path}'").format(encoding=name, path=src.display)
    return Problem(ENCODING, message, src, location=Location(src.display, line, col))


def over_limit(path: Path) -> bool:
    """Whether a file on disk is larger than the limit in force (so it need not be read at all)."""
    try:
        return path.stat().st_size > max_file_bytes()[0]
    except (OSError, ValueError):
        return False


def _too_large(src: SourceFile, size: int, max_bytes: int, note: str) -> Problem:
    return Problem(
        FILE_TOO_LARGE,
        _("file is {size}, over the limit of {limit}{note}; to read it, raise the limit with the environment "
          "variable {variable} (for example {setting})").format(
            size=_size(size), limit=_size(max_bytes), note=note, variable=MAX_FILE_ENV,
            setting=f"{MAX_FILE_ENV}={int(size / 1048576) + 1}"),
        src, location=Location(src.display))


def read_file(path: Path, text: str | bytes | None = None,
              max_bytes: int | None = None, keep_text: bool = False, root: Path | None = None) -> Parsed:
    """Read and parse one YAML or TOML file, collecting problems instead of raising.

    `text` gives the content instead of reading `path`; `keep_text` keeps it for locating
    problems later (for files that are not on disk, such as a git revision's). `max_bytes`
    defaults to the limit in force (GAPCTL_MAX_FILE_MB, read now). A file on disk is opened
    through `gapctl.data.reads` (inside `root`, default its repository; a regular file; refused
    before it is read when it is too large).
    """
    from gapctl.data import reads
    src = SourceFile(path, display_path(path))
    note = ""
    if max_bytes is None:
        max_bytes, note = max_file_bytes()
    try:
        if text is None:
            raw = reads.read_bytes(path, root, limit=max_bytes)
        else:
            raw = text if isinstance(text, bytes) else text.encode("utf-8")
    except reads.TooLarge as err:
        return Parsed(src, None, [_too_large(src, err.size, max_bytes, note)])
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        reason = err.why if isinstance(err, reads.Refused) else getattr(err, "strerror", None) or str(err)
        if isinstance(err, reads.Refused):
            src.display = err.shown  # the link as itself, not where it leads
        return Parsed(src, None, [Problem(UNREADABLE, _("cannot read file: {reason}").format(reason=reason),
                                          src, location=Location(src.display))])
    if len(raw) > max_bytes:
        return Parsed(src, None, [_too_large(src, len(raw), max_bytes, note)])
    decoded, hint = decode(raw)
    if decoded is None:
        return Parsed(src, None, [_encoding_problem(src, raw, hint or "")])
    if keep_text:
        src.text = decoded
    if not decoded.strip():
        return Parsed(src, None, [Problem(EMPTY_FILE, _("file is empty"), src,
                                          location=Location(src.display, 1, 1))])
    if src.fmt == "toml":
        return _parse_toml(src, decoded)
    measure_depth = may_be_too_deep(raw, MAX_DEPTH)
    counted = False  # a long text's values counted, and not too many
    if fast_yaml.available() and (len(decoded) <= max_values()[0] // 2 or (counted := _values_allowed(decoded))):
        if measure_depth and too_deep_at(decoded, MAX_DEPTH) is None:
            # many brackets (a unit set's `tags: [...]` on each of 3,000 units) but measured shallow: the fast
            # path may read it, and the libyaml path need not measure again
            measure_depth = False
        if not measure_depth:
            data = fast_yaml.read(raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw, decoded)
            if data is not None:  # a file with any problem is refused there, and read below with positions
                return Parsed(src, data, [])
    return _parse_yaml(src, decoded, measure_depth=measure_depth, counted=counted)


def _values_allowed(text: str) -> bool:
    """Whether a long text holds no more values than allowed (counted from libyaml's events, as `_parse_yaml`
    counts them): then the fast path may read it (a unit set of 30,000 units, 2.8 MB: 0.8 s in all, counting
    included, and 82 MB at its peak, against 3.5 s and 159 MB composed with positions). False for too many, or
    YAML that libyaml cannot read (`_parse_yaml` says why)."""
    import yaml

    try:
        return not yaml_values_over(text, max_values()[0], _composer())
    except yaml.YAMLError:
        return False


def max_values() -> tuple[int, str]:
    """The limit on values in one file: GAPCTL_MAX_VALUES (read at each call) or 2,000,000; and a note
    on a bad value."""
    raw = os.environ.get(MAX_VALUES_ENV, "").strip()
    if not raw:
        return MAX_NODES, ""
    try:
        values = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        values = 0
    if values <= 0 or values > 1_000_000_000:
        return MAX_NODES, _(" ({setting} is not a number of values, so the default applies)").format(
            setting=f"{MAX_VALUES_ENV}={raw!r}")
    return values, ""


def _too_many(src: SourceFile, limit: int, note: str, aliases: bool = False) -> Parsed:
    """More values than the limit: refused with the limit named, and how to change it."""
    if aliases:
        message = _("file expands to more than {limit} values through its YAML aliases (the limit{note}); gapctl "
                    "files hold a few thousand, so it was not read; the environment variable {variable} changes "
                    "the limit")
    else:
        message = _("file holds more than {limit} values (the limit{note}); gapctl files hold a few thousand, so "
                    "it was not read; the environment variable {variable} changes the limit")
    return Parsed(src, None, [Problem(
        FILE_TOO_LARGE, message.format(limit=f"{limit:,}", note=note, variable=MAX_VALUES_ENV),
        src, location=Location(src.display, 1, 1))])


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def _parse_toml(src: SourceFile, text: str) -> Parsed:
    limit, note = max_values()
    if len(text) > limit // 2 and toml_values_at_least(text) > limit:  # before tomllib builds them all
        return _too_many(src, limit, note)
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except RecursionError:  # tomllib recurses once per nested array or inline table
        line, col = _toml_deep_position(text)
        return Parsed(src, None, [Problem(TOO_DEEP, _too_deep_message(), src,
                                          location=Location(src.display, line, col))])
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        m = _TOML_POS.search(msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        if msg.endswith("(at end of document)"):  # the file stops short: point at its end
            line, col = _text_position(text, len(text))
            msg = msg[:-len("(at end of document)")]
        msg = _TOML_POS.sub("", msg).strip()
        if msg.startswith("Cannot overwrite a value") or msg.startswith("Cannot declare"):
            lines = text.split("\n")
            if 0 < line <= len(lines):  # tomllib points past the value; point at the key
                col = len(lines[line - 1]) - len(lines[line - 1].lstrip()) + 1
            return Parsed(src, None, [Problem(
                DUPLICATE_KEY, _("duplicate key or table: {message}").format(message=msg), src,
                location=Location(src.display, line, col))])
        return Parsed(src, None, [Problem(SYNTAX, _("TOML syntax error: {message}").format(message=msg), src,
                                          location=Location(src.display, line, col))])
    except ValueError:  # int() refuses more than 4,300 digits, and tomllib lets it through
        m = re.search(r"[0-9][0-9_]{4000,}", text)
        line, col = _text_position(text, m.start()) if m else (1, 1)
        return Parsed(src, None, [Problem(SYNTAX, _("TOML error: a number here has more than 4,300 digits, too "
                                            "long to read"), src, location=Location(src.display, line, col))])
    deep = _too_deep_path(data)
    if deep is not None:  # at the first table header or key below that path, else its nearest ancestor
        below = [pos for key, pos in toml_positions(text).items() if key[:len(deep)] == deep]
        location = Location(src.display, *min(below)[:2]) if below else None
        return Parsed(src, None, [Problem(TOO_DEEP, _too_deep_message(), src, deep, location=location)])
    return Parsed(src, data, [])


def _text_position(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _too_deep_message(alias: bool = False) -> str:
    why = _(" (a YAML alias inside the collection it names nests it forever)") if alias else ""
    return _("lists and mappings are nested more than {depth} levels deep here{why}; gapctl files need fewer "
             "than 10 levels, so the file was not read").format(depth=MAX_DEPTH, why=why)


def _too_deep_path(data: Any) -> tuple[Any, ...] | None:
    """The key path of the first list or mapping nested deeper than MAX_DEPTH (without recursing).

    Level by level first, which is cheap (2% of tomllib's time); paths only when one is too deep.
    """
    level = [data] if data.__class__ is dict or data.__class__ is list else []
    for _level in range(MAX_DEPTH):
        below = []
        for value in level:
            for v in value.values() if value.__class__ is dict else value:
                if v.__class__ is dict or v.__class__ is list:
                    below.append(v)
        if not below:
            return None
        level = below
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            return path
        if isinstance(value, dict):
            stack.extend((v, path + (k,)) for k, v in value.items() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(value) if isinstance(v, (dict, list)))
    return None


def _toml_deep_position(text: str) -> tuple[int, int]:
    """Where brackets first open MAX_DEPTH deep (strings are not told apart: an estimate)."""
    depth = 0
    for offset, char in enumerate(text):
        if char in "[{":
            depth += 1
            if depth >= MAX_DEPTH:
                return _text_position(text, offset)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return 1, 1


def _parse_yaml(src: SourceFile, text: str, measure_depth: bool = False, counted: bool = False) -> Parsed:
    """`text` parsed with positions (libyaml's events, composed); `counted`: its values were counted already and
    are not too many."""
    import yaml  # local import keeps `gapctl --help` fast

    try:
        deep = too_deep_at(text, MAX_DEPTH) if measure_depth else None
        if deep is not None:
            return Parsed(src, None, [Problem(TOO_DEEP, _too_deep_message(), src,
                                              location=Location(src.display, *deep))])
        limit, note = max_values()
        # a value takes at least ~1.5 characters ("[:,:]"): only a long text can hold too many, and
        # it is counted from libyaml's events before composing, which would hold every node at once
        if not counted and len(text) > limit // 2 and yaml_values_over(text, limit, _composer()):
            return _too_many(src, limit, note)
        node = yaml.compose(text, Loader=_composer())
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = err.problem or _("invalid YAML")
        if "maximum nesting depth" in what:  # libyaml's own limit, should gapctl's scan ever miss one
            return Parsed(src, None, [Problem(TOO_DEEP, _too_deep_message(), src,
                                              location=Location(src.display, line, col))])
        if err.context:
            what = f"{what} ({err.context})"
        lines = _YAML_LINES.split(text)
        if line > len(lines):  # libyaml's end of stream is past a last line without a line break
            line, col = len(lines), len(lines[-1]) + 1
        bad_line = lines[line - 1] if 0 < line <= len(lines) else ""
        if "\t" in bad_line[: len(bad_line) - len(bad_line.lstrip())] or "\t" in bad_line[col - 1:col]:
            what += _("; YAML indentation must use spaces, not tabs")
        return Parsed(src, None, [Problem(SYNTAX, _("YAML syntax error: {problem}").format(problem=what), src,
                                          location=Location(src.display, line, col))])
    except yaml.reader.ReaderError as err:  # a character YAML does not allow, such as a control character
        offset = err.position
        if _composer() is not yaml.SafeLoader:  # libyaml counts UTF-8 bytes, PyYAML characters
            offset = len(text.encode("utf-8")[:offset].decode("utf-8", "replace"))
        line, col = _text_position(text, offset)
        char = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "\0")
        return Parsed(src, None, [Problem(
            SYNTAX, _("YAML syntax error: {problem}: U+{code} here; delete it").format(
                problem=err.reason, code=f"{char:04X}"),
            src, location=Location(src.display, line, col))])
    except yaml.YAMLError as err:
        return Parsed(src, None, [Problem(SYNTAX, _("YAML error: {problem}").format(problem=err), src,
                                          location=Location(src.display, 1, 1))])
    if node is None:
        return Parsed(src, None, [Problem(EMPTY_FILE, _("file holds no data (only comments?)"),
                                          src, location=Location(src.display, 1, 1))])
    walker = _Walker(src, budget=limit)
    aliases = "*" in text and _ALIAS.search(text) is not None
    try:
        if aliases and _expanded_size(node, limit) > limit:
            raise _TooManyNodes  # found without expanding: walking 2,000,000 values first took seconds
        data = walker.walk_root(node)
    except _TooManyNodes:
        return _too_many(src, limit, note, aliases)
    except _TooDeep as err:
        mark = err.args[0]
        return Parsed(src, None, [Problem(TOO_DEEP, _too_deep_message(alias=err.args[1]), src,
                                          location=Location(src.display, mark.line + 1, mark.column + 1))])
    except RecursionError:  # PyYAML without libyaml composes in Python, recursively
        return Parsed(src, None, [Problem(TOO_DEEP, _too_deep_message(), src,
                                          location=Location(src.display, 1, 1))])
    if data is None and not walker.problems:  # `---` alone, or `~`: a document holding nothing
        return Parsed(src, None, [Problem(EMPTY_FILE, _("file holds no data (only comments?)"),
                                          src, location=Location(src.display, 1, 1))])
    return Parsed(src, data, walker.problems)


class _TooManyNodes(Exception):
    pass


_ALIAS = re.compile(r"(?:^|[\s\[{,:])\*[^\s,\[\]{}]", re.M)  # a YAML alias (*name), not a '*' in text


def _expanded_size(root: Any, limit: int = MAX_NODES) -> int:
    """How many values walking `root` would visit, aliases expanded, counted without expanding them.

    Each distinct node is sized once (1 + its values' sizes); an alias inside the collection it
    names counts as nothing here (the walker refuses it as too deep).
    """
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    def values(node: Any) -> list[Any]:  # what the walker descends into: no merge keys, no tagged collections
        if node.tag != _MAP and node.tag != _SEQ:
            return []
        if node.__class__ is MappingNode:
            return [value for key, value in node.value if key.__class__ is ScalarNode
                    and not (key.value == "<<" and key.tag != _STR)]
        return node.value if node.__class__ is SequenceNode else []

    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_.discard(key)
            sizes[key] = min(1 + sum(sizes.get(id(v), 0) for v in values(node)), limit + 1)
        elif key not in sizes and key not in open_:
            open_.add(key)
            stack.append((node, True))
            stack.extend((v, False) for v in values(node) if id(v) not in sizes)
    return sizes[id(root)]


class _TooDeep(Exception):
    """args: (the mark of the collection too deep, whether an alias made it so)."""


_PLAIN = "gapctl:plain"  # a plain scalar whose type the walker decides
_COMPOSER: Any = None


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
    """Type of a plain scalar by YAML 1.1's implicit patterns (as PyYAML resolves them: gapctl.data.yaml11)."""
    for tag, pattern in (yaml11.BY_FIRST or yaml11.implicit()).get(value[:1], ()):
        if pattern.match(value):
            if tag in (_INT, _FLOAT, _BOOL, _NULL):
                return _typed(tag, value)
            return value
    return value


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
                 positions: dict[tuple[Any, ...], tuple[int, int, int, int]] | None = None,
                 budget: int | None = None):
        self.src = src
        self.positions = positions
        self.problems: list[Problem] = []
        self.budget = max_values()[0] if budget is None else budget
        self.root: Any = None

    def unsupported(self, node: Any, message: str) -> None:
        if self.src is not None:
            mark = node.start_mark
            self.problems.append(Problem(UNSUPPORTED_YAML, message, self.src,
                                         location=Location(self.src.display, mark.line + 1, mark.column + 1)))

    def walk(self, node: Any, path: tuple[Any, ...] = ()) -> Any:
        from yaml.nodes import MappingNode, ScalarNode, SequenceNode

        self.budget -= 1
        if self.budget < 0:
            raise _TooManyNodes
        cls = node.__class__
        if cls is not ScalarNode:
            if len(path) >= MAX_DEPTH:
                raise _TooDeep(node.start_mark, self._cycles(path))
            if node.tag != _MAP and node.tag != _SEQ:
                self.unsupported(node, _("YAML tag '{tag}' is not supported: gapctl reads plain lists, mappings "
                                         "and values; remove the tag").format(tag=_short_tag(node.tag)))
                return None
        if cls is MappingNode:
            out: dict[str, Any] = {}
            positions = self.positions
            for key_node, value_node in node.value:
                if key_node.__class__ is not ScalarNode:
                    self.unsupported(key_node, _("a key that is a list or mapping is not supported; keys are "
                                                 "text"))
                    continue
                key = key_node.value
                if key == "<<" and key_node.tag != _STR:
                    self.unsupported(key_node, _("YAML merge keys ('<<') are not supported: write the keys "
                                                 "out in full (an alias of a whole value, *name, is fine)"))
                    continue
                sub = path + (key,)
                if positions is not None:
                    km, vm = key_node.start_mark, value_node.start_mark
                    positions.setdefault(sub, (km.line + 1, km.column + 1,
                                               vm.line + 1, vm.column + 1))
                if key in out and self.src is not None:
                    km = key_node.start_mark
                    self.problems.append(Problem(
                        DUPLICATE_KEY, _("duplicate key '{key}' in this mapping; only one value may be "
                                         "given").format(key=key), self.src,
                        location=Location(self.src.display, km.line + 1, km.column + 1)))
                    continue
                out[key] = self.walk(value_node, sub)
            return out
        if cls is SequenceNode:
            if self.positions is not None:  # items have no key: their own start is both ends
                for i, item in enumerate(node.value):
                    m = item.start_mark
                    self.positions.setdefault(path + (i,), (m.line + 1, m.column + 1, m.line + 1, m.column + 1))
            return [self.walk(item, path + (i,)) for i, item in enumerate(node.value)]
        tag = node.tag
        if tag == _PLAIN:
            return _plain(node.value)
        if tag not in _SCALAR_TAGS:
            self.unsupported(node, _("YAML tag '{tag}' is not supported: gapctl reads plain values; remove the "
                                     "tag (quote the value to make it text)").format(tag=_short_tag(tag)))
            return node.value
        return _typed(tag, node.value)

    def walk_root(self, node: Any) -> Any:
        self.root = node
        return self.walk(node)

    def _cycles(self, path: tuple[Any, ...]) -> bool:
        """Whether the way down `path` meets one node twice: an alias inside the collection it names."""
        from yaml.nodes import MappingNode

        node, seen = self.root, set()
        for step in path:
            if node is None:
                return False
            if id(node) in seen:
                return True
            seen.add(id(node))
            if node.__class__ is MappingNode:
                node = next((v for k, v in node.value if k.value == step), None)
            else:
                node = node.value[step]
        return False


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


def yaml_positions(text: str, positions: dict[tuple[Any, ...], tuple[int, int, int, int]]) -> None:
    """Fill `positions` with key path → (key line, key col, value line, value col).

    The same walker as reading, with its limits: a file that was read can be located, and
    one refused for its size or depth fills what it can before the limit stops it.
    """
    import yaml

    raw = text.encode("utf-8")
    if may_be_too_deep(raw, MAX_DEPTH) and too_deep_at(text, MAX_DEPTH) is not None:
        return  # composing it could overflow the C stack
    node = yaml.compose(text, Loader=_composer())
    if node is not None:
        _Walker(None, positions).walk_root(node)


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
    for lineno, line in enumerate(text.split("\n"), start=1):  # TOML breaks lines at \n only
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
