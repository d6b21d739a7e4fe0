"""How deep a YAML text nests, decided by gapctl before any parser sees it.

Contract: `too_deep_at(text, limit)` returns the 1-based (line, col) where lists and mappings
first open more than `limit` levels deep, or None. It reads the text itself, line by line and
without recursion, so the answer is the same whatever PyYAML or libyaml release is installed
(libyaml 0.2.5 refuses 1,000 levels with a syntax error of its own; older releases composed
them recursively and could overflow the C stack). It follows the YAML that gapctl reads: block
mappings and sequences (compact `- - x` included), flow collections, quoted scalars that span
lines, block scalars (`|`, `>`), comments, anchors and tags. Where it cannot tell, it errs
towards counting a level, and only a count above the limit is refused.

`may_be_too_deep(raw, limit)` is the cheap test that decides whether to scan at all: nesting
deeper than `limit` needs about that many brackets or that much leading indentation, and
both are counted in C.
"""

from __future__ import annotations

import re

_LINES = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # the line breaks libyaml counts
_FLOW_MARK = re.compile(r"""[\[\]{}"'#]""")
# a block mapping key: plain (no flow indicator, not starting with an indicator) or quoted, then ':'
_KEY = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\[\]{},&!*|>%@`](?:\S|[ \t]+(?![\s#]))*?)"""
                  r"""[ \t]*:(?=\s|$)""")
_PROPERTIES = re.compile(r"(?:[&!][^\s\[\]{},]*\s*)+")  # anchors and tags before a value
_BLOCK_SCALAR = re.compile(r"[|>][0-9+-]*\s*(?:#.*)?$")
# how far nesting can get beyond the leading run of spaces and dashes of one line (a sequence
# inside a mapping at the same indentation, a mapping in a `- ` entry), with room to spare
_SLACK = 8


# a line's leading run of spaces, dashes and question marks as a run of spaces: every other byte but the line
# break becomes `x`, so that a run is found with one substring search (a regular expression anchored at each
# line's start tried every position: a tenth of the fast path's reading time)
_LEAD = bytes.maketrans(bytes(range(256)), bytes(32 if b in b" ?-" else 10 if b == 10 else 120 for b in range(256)))


def may_be_too_deep(raw: bytes, limit: int) -> bool:
    """Whether the bytes could nest more than `limit` levels (if not, no scan is needed): about that many
    brackets, or a line starting with that many spaces, dashes and question marks."""
    brackets = (raw.count(b"[") if b"[" in raw else 0) + (raw.count(b"{") if b"{" in raw else 0)  # `in`: memchr
    need = limit - _SLACK - brackets
    if need <= 0:
        return True
    run = b" " * need
    lead = raw.translate(_LEAD)
    return lead.startswith(run) or b"\n" + run in lead


def too_deep_at(text: str, limit: int) -> tuple[int, int] | None:
    """The 1-based (line, col) of the first list or mapping nested deeper than `limit`, or None."""
    scanner = _Scanner(limit)
    for number, line in enumerate(_LINES.split(text), 1):
        col = scanner.line(line)
        if col is not None:
            return number, col + 1
    return None


class _Scanner:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.blocks: list[tuple[int, str]] = []  # open block collections: (indent, "map" | "seq")
        self.flow = 0  # open flow collections
        self.quote = ""  # the quote of a scalar that continues on the next line
        self.scalar_indent: int | None = None  # inside a block scalar: lines indented more are its text

    def line(self, line: str) -> int | None:
        """Read one line; the 0-based column where the limit was passed, if it was."""
        pos = 0
        if self.scalar_indent is not None:
            body = line.lstrip(" ")
            if not body.strip() or len(line) - len(body) > self.scalar_indent:
                return None
            self.scalar_indent = None
        if self.quote:
            pos = _quote_end(line, 0, self.quote)
            if pos < 0:
                return None
            self.quote = ""
        if self.flow == 0 and pos == 0:
            return self._block_line(line)
        return self._flow(line, pos)

    def _open(self, indent: int, kind: str) -> bool:
        """Open a block collection at `indent` unless it is open already; True if now too deep."""
        if self.blocks and self.blocks[-1] == (indent, kind):
            return False
        self.blocks.append((indent, kind))
        return len(self.blocks) + self.flow > self.limit

    def _block_line(self, line: str) -> int | None:
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            return None
        if line.startswith(("---", "...")) and line[3:4] in ("", " ", "\t"):
            self.blocks.clear()
            return None
        indent = len(line) - len(body)
        while self.blocks and self.blocks[-1][0] > indent:
            self.blocks.pop()
        pos = indent
        while True:
            char = line[pos:pos + 1]
            if char in ("-", "?") and line[pos + 1:pos + 2] in ("", " ", "\t"):
                if char == "?" and self.blocks and self.blocks[-1] == (pos, "seq"):
                    self.blocks.pop()
                if self._open(pos, "seq" if char == "-" else "map"):
                    return pos
                pos += 1
                while line[pos:pos + 1] in (" ", "\t"):
                    pos += 1
                continue
            key = _KEY.match(line, pos)
            if key:
                while self.blocks and self.blocks[-1] == (pos, "seq"):  # a mapping key ends a sequence at its indent
                    self.blocks.pop()
                if self._open(pos, "map"):
                    return pos
                pos = key.end()
                while line[pos:pos + 1] in (" ", "\t"):
                    pos += 1
            break
        return self._value(line, pos, indent)

    def _value(self, line: str, pos: int, indent: int) -> int | None:
        props = _PROPERTIES.match(line, pos)
        if props:
            pos = props.end()
        char = line[pos:pos + 1]
        if char in ("[", "{"):
            return self._flow(line, pos)
        if char in ('"', "'"):
            if _quote_end(line, pos + 1, char) < 0:
                self.quote = char
        elif char in ("|", ">") and _BLOCK_SCALAR.match(line, pos):
            self.scalar_indent = indent
        return None

    def _flow(self, line: str, pos: int) -> int | None:
        while True:
            mark = _FLOW_MARK.search(line, pos)
            if mark is None:
                return None
            char, at = mark.group(), mark.start()
            if char in "[{":
                self.flow += 1
                if len(self.blocks) + self.flow > self.limit:
                    return at
            elif char in "]}":
                self.flow = max(self.flow - 1, 0)
                if self.flow == 0:  # the rest of the line is plain text or a comment
                    return None
            elif char == "#":
                if at == 0 or line[at - 1] in " \t":
                    return None
            elif at == 0 or line[at - 1] in " \t[{,:":  # a quote that starts a scalar
                end = _quote_end(line, at + 1, char)
                if end < 0:
                    self.quote = char
                    return None
                pos = end
                continue
            pos = at + 1


def _quote_end(line: str, pos: int, quote: str) -> int:
    """The index just after the quote that closes a scalar opened before `pos`, or -1."""
    while True:
        at = line.find(quote, pos)
        if at < 0:
            return -1
        if quote == "'":
            if line[at + 1:at + 2] == "'":  # '' is a quote inside a single-quoted scalar
                pos = at + 2
                continue
            return at + 1
        backslashes = len(line[:at]) - len(line[:at].rstrip("\\"))
        if backslashes % 2 == 0:
            return at + 1
        pos = at + 1
