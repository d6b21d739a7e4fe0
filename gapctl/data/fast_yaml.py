"""A fast first reading of YAML, held to give exactly what gapctl's own reading gives.

Contract: `read(raw, text)` returns the data `gapctl.data.sources` would build for a YAML file
(libyaml's composer and gapctl's walker: YAML 1.1 typing of plain values, numbers as `int` and
`Decimal`, keys as text) when that reading finds no problem in it; or None, "refused", whenever
it cannot be sure, and the caller reads the file the position-keeping way. It never decides that
a file has a problem: a file with one is always refused, so every problem is found, worded and
placed by the one path that keeps positions. Who calls it: `gapctl.data.sources.read_file`, for files
small enough to need no value count and shallow enough to need no depth scan.

The parser is yaml-rs (a Rust YAML 1.2 parser with wheels for Linux, macOS and Windows), six or
so times faster than composing with libyaml and walking the nodes in Python; with the checks
below, a file is read in about 40 % of the libyaml path's time (benchmarks/parsers.py). Optional:
without it (`available()` is False), or with `GAPCTL_YAML=libyaml`, every file takes the libyaml
path. How its answer is kept identical to gapctl's (tests/data/test_fast_yaml.py runs both paths over
every shipped file, every bad-input case and fuzzed files, and compares data and problems):

- Only a plain subset of YAML is read this way. A file is refused when it holds a tab, a carriage
  return, a control or format character, a backslash (escapes), a document marker or directive,
  a merge key `<<`, or a token starting with `& * ! | > ? % @` or a backquote (anchors, aliases,
  tags, block scalars, complex keys, reserved indicators): where YAML 1.1 and 1.2, or libyaml and
  yaml-rs, could read the same bytes differently, or one could refuse what the other accepts.
- Typing. yaml-rs types plain values by YAML 1.2's core schema, gapctl by YAML 1.1 (`yes` is
  true, `1.10` is Decimal("1.10") and not the float 1.1, `0o17` is text). Every word of the file
  that either could type (it starts with a digit, sign, dot, underscore or `~`, or is a YAML
  boolean or null word), split at white space and again at flow indicators and colons, is typed
  both ways, once per distinct word per process; one disagreement refuses the file. A typed
  plain value holds no white space and is set off by white space, a flow indicator or a colon,
  so every typed value of the file is such a word, and the rest of the file cannot differ in
  typing. A word that starts with a quote is quoted text, never typed (`"1.10"`); words in
  comments, and in quoted text after a space, are checked too, which only refuses more files
  than needed.
- Floats become `Decimal(repr(x))`, which the word check has shown equal to gapctl's Decimal of
  the same word. Keys must be text (a key yaml-rs types, such as `1:` or `true:`, is refused:
  gapctl keeps keys as written). A duplicate key is an error in yaml-rs: refused, so gapctl's
  walker reports it at its line.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import Any

ENV = "GAPCTL_YAML"  # "libyaml": never use the fast path (for comparisons and as an escape hatch)
_MODULE: Any = None
_TRIED = False

# Bytes that may make a file unsafe to read here; a file holding none (most) needs no other scan.
# Controls (tab and CR included), DEL and backslashes (escape sequences in double-quoted text)
# refuse a file outright; the lead bytes of C1 controls (U+0080-009F), of the YAML 1.1 line breaks
# LS and PS (U+2028/9), of byte-order marks and non-characters (U+FEFF, U+FFFE/F) are looked at
# closer, as are the indicators that start anchors, aliases, tags, block scalars, complex keys,
# directives and reserved tokens (`& * ! | > ? % @` and a backquote), `<<` (a merge key) and the
# dots and dashes of document markers.
_CONTROLS = bytes(range(0x20)).replace(b"\n", b"") + b"\x7f\\"
_INDICATORS = b"&*!|>?%@`"
_RARE = _CONTROLS + b"\xc2\xe2\xef" + _INDICATORS + b"<.-"
# Kept besides, so that each byte sequence looked for below is found in what is kept whenever it is in
# the file (the bytes between are never deleted): the rest of the format characters' bytes and the line
# break before a document marker. What is kept is a few per cent of a file; a sequence found in it (or in
# it by the deletion of the bytes between) is looked for again in the file itself.
_KEPT = _RARE + b"\x80\xa8\xa9\xbb\xbe\xbf\n"
_BORING = bytes(b for b in range(256) if b not in _KEPT)
_NOT_INDICATORS = bytes(b for b in range(256) if b not in _INDICATORS)
_AFTER = frozenset(b" \n[{,")  # the bytes an indicator starts a token after
_CONTROL = re.compile(b"[" + re.escape(_CONTROLS) + b"]")
_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_FORMAT = (b"\xe2\x80\xa8", b"\xe2\x80\xa9", b"\xef\xbb\xbf", b"\xef\xbf\xbe", b"\xef\xbf\xbf")
_MARKER = re.compile(rb"^(?:---|\.\.\.)", re.M)  # a document marker at the start of a line
_FLOW = bytes.maketrans(b",[]{}:", b"      ")  # split words again at flow indicators and colons
_START = frozenset(b"-+.0123456789_~")  # first bytes of numbers (yaml-rs reads `_1` as 1), and of null (`~`)
_WORDS = frozenset(  # YAML 1.1 and 1.2 booleans and nulls
    b"yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF null Null NULL y Y n N".split())
# Each byte as its class for a word: white space (where both splits cut) " ", a first byte of `_START` "d",
# a colon ":", another flow indicator ",", any other byte "x". A word of the first split (at white space) that
# is not a word of the second (also at flow indicators and colons) holds a flow indicator or a colon; it
# could be typed only if it starts with a `_START` byte and does not end in a colon, so it holds a flow
# indicator, or a colon followed by a byte of the word. Most files hold no such word (a colon inside a word
# is in a link, whose word starts with a letter): then the second split alone has every word to check.
_CLASSES = bytes.maketrans(bytes(range(256)), bytes(
    32 if b in b" \t\n\r\x0b\x0c" else 100 if b in _START else 58 if b == 58 else 44 if b in b",[]{}" else 120
    for b in range(256)))
_SPLIT_ONLY = re.compile(rb" d[^ ]*(?:,|:[^ ])")  # such a word, after the space put before the file
_CHECKED: dict[bytes, bool] = {}  # word → both typings agree (this process)
_CHECKED_MAX = 200_000  # words a process remembers (dates and numbers repeat across files; most words do not)


def available() -> bool:
    """Whether the fast path is in use: yaml-rs imports and GAPCTL_YAML does not say libyaml."""
    global _MODULE, _TRIED
    if os.environ.get(ENV, "").strip().lower() == "libyaml":
        return False
    if not _TRIED:
        _TRIED = True
        try:
            import yaml_rs
        except ImportError:
            _MODULE = None
        else:
            _MODULE = yaml_rs
    return _MODULE is not None


def read(raw: bytes, text: str) -> Any | None:
    """The data gapctl's YAML reading gives for `text` (UTF-8 `raw`, no byte-order mark), or None
    when refused (see the module's docstring); the caller has checked `available()`."""
    if not _plain_subset(raw):
        return None
    if not _words_agree(raw):
        return None
    try:
        data = _MODULE.load(raw, parse_datetime=False)  # the bytes: as loads(text), without encoding text again
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # a syntax error, a duplicate key (the libyaml path says where), a Rust panic
        return None
    if data is None:  # nothing but comments: the libyaml path has a problem for that
        return None
    try:
        return _typed(data)
    except _Refused:
        return None


def _plain_subset(raw: bytes) -> bool:
    """Whether the bytes stay within the subset read here (see the module's docstring).

    One pass keeps the few bytes that matter (`_KEPT`); each check looks in them first, and in the whole
    file only when they hold what it looks for (a file holding a sequence keeps it whole)."""
    rare = raw.translate(None, _BORING)
    if not rare:
        return True
    if _CONTROL.search(rare) is not None:
        return False
    if b"\xc2" in rare and _C1.search(raw) is not None:
        return False
    if (b"\xe2" in rare or b"\xef" in rare) and any(mark in raw for mark in _FORMAT if mark in rare):
        return False
    indicators = rare.translate(None, _NOT_INDICATORS)  # `&*!|>?%@` and the backquote
    if indicators:
        after = _AFTER
        for indicator in set(indicators):  # a token starting with one: at the start, or after one of ` \n[{,`
            at = raw.find(indicator)
            while at >= 0:
                if at == 0 or raw[at - 1] in after:
                    return False
                at = raw.find(indicator, at + 1)
    if b"<" in rare and b"<<" in raw:
        return False
    return not (rare.startswith((b"---", b"...")) or b"\n---" in rare or b"\n..." in rare) \
        or _MARKER.search(raw) is None


class _Refused(Exception):
    pass


def _typed(value: Any) -> Any:
    """yaml-rs's data as gapctl's walker builds it: floats as Decimal; refused if a key is not text."""
    cls = value.__class__
    if cls is dict:
        for key, item in value.items():
            if key.__class__ is not str:
                raise _Refused
            kind = item.__class__
            if kind is dict or kind is list:
                _typed(item)
            elif kind is float:
                value[key] = _decimal(item)
    elif cls is list:
        for index, item in enumerate(value):
            kind = item.__class__
            if kind is dict or kind is list:
                _typed(item)
            elif kind is float:
                value[index] = _decimal(item)
    elif cls is float:
        return _decimal(value)
    return value


def _decimal(number: float) -> Decimal:
    if number != number:
        return Decimal("NaN")
    if number in (float("inf"), float("-inf")):
        return Decimal("Infinity" if number > 0 else "-Infinity")
    return Decimal(repr(number))


def _words_agree(raw: bytes) -> bool:
    """Whether every word of the file that YAML 1.1 or 1.2 could type is typed alike by both."""
    candidates = _candidates(raw)
    unknown = [w for w in candidates if w not in _CHECKED]
    if unknown:
        _check(unknown)
    checked = _CHECKED
    return all(checked[w] for w in candidates)


def _candidates(raw: bytes) -> set[bytes]:
    """The words of the file that YAML 1.1 or 1.2 could type: of its split at white space, and of its split
    at white space, flow indicators and colons, those starting with a byte of `_START` (not a key's word,
    ending in a colon; not a sequence entry's lone dash) and the boolean and null words."""
    start = _START
    if _SPLIT_ONLY.search(b" " + raw.translate(_CLASSES)) is None:
        # every word of the first split that could be typed is a word of the second: split once
        words = set(raw.translate(_FLOW).split())
        candidates = {w for w in words if w[0] in start}
    else:
        words = set(raw.split())
        words.update(raw.translate(_FLOW).split())
        # a word ending in a colon is a key (or a syntax error): its text is a word of the second split too
        candidates = {w for w in words if w[0] in start and w[-1] != 58}  # 58: ":"
    candidates.update(words & _WORDS)
    candidates.discard(b"-")  # a sequence entry's dash (a lone `-` value is a syntax error in both)
    return candidates


def _check(words: list[bytes]) -> None:
    """Type each word both ways and remember whether they agree."""
    from gapctl.data.sources import _plain
    if len(_CHECKED) + len(words) > _CHECKED_MAX:
        _CHECKED.clear()
    texts = []
    for word in words:
        try:
            texts.append(word.decode("utf-8"))
        except UnicodeDecodeError:  # a word cut inside a character: cannot be typed; never happens in text
            texts.append("")
    typed = _yaml12(texts)
    for word, text, value in zip(words, texts, typed, strict=True):
        if not text:
            _CHECKED[word] = False
            continue
        mine = _plain(text)
        theirs = _decimal(value) if value.__class__ is float else value
        _CHECKED[word] = mine.__class__ is theirs.__class__ and repr(mine) == repr(theirs)


_NOT_A_SCALAR = object()


def _yaml12(texts: list[str]) -> list[Any]:
    """How yaml-rs types each text as a plain value: one document for all, each alone if that fails."""
    try:
        items = _MODULE.loads("".join(f"- {t}\n" for t in texts), parse_datetime=False)
        if isinstance(items, list) and len(items) == len(texts):
            return [v if v is None or isinstance(v, (str, int, float, bool)) else _NOT_A_SCALAR for v in items]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # pyo3 turns a panic into a BaseException
        pass
    out = []
    for text in texts:
        try:
            items = _MODULE.loads(f"- {text}\n", parse_datetime=False)
            value = items[0] if isinstance(items, list) and len(items) == 1 else _NOT_A_SCALAR
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            value = _NOT_A_SCALAR
        out.append(value if value is None or isinstance(value, (str, int, float, bool)) else _NOT_A_SCALAR)
    return out
