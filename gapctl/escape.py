"""Escaping of user-supplied text, one function per output context.

Names, notes, reasons, evidence and commit authors come from files anyone can edit in a pull
request; reports built from them are published on government websites and posted as PR
comments. Every renderer passes such strings through exactly one function here:

- `plain`/`plain_line`: terminal text and aligned tables (control, bidi and other invisible
  characters shown as `\\u202e`, `\\u200b`, line breaks folded, so one value is one line and cannot
  reorder its neighbours or pass for another);
- `md`: Markdown inline text and table cells (HTML, emphasis, links, `|`, line breaks,
  `@mentions` and `#123` references neutralised); `code` for ids shown as code;
- `link`/`safe_url`: links only to http(s) or to a relative path that stays inside the tree;
- `html`: HTML and SVG/XML text and attribute values;
- `csv_cell`: spreadsheet cells (no formula injection);
- `json_text`: JSON as printed (bidi and invisible characters as `\\u` escapes; values unchanged).

Invisible characters are every format character (Unicode category Cf): zero-width space,
non-joiner and joiner (U+200B–U+200D), word joiner and invisible operators (U+2060–U+2064), a
byte-order mark inside text (U+FEFF), the soft hyphen, tag characters, besides the bidi
controls. They are allowed in names and free text (a name pasted from a web page often holds
one) but never shown as nothing: `某镇\\u200b人民政府` cannot pass for `某镇人民政府` in a report.
Ids refuse them (gapctl.data.schema), since ids become file names and keys.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from gapctl.memo import kept

# Characters that reorder the text around them ("Trojan Source", CVE-2021-42574): embeddings,
# overrides and isolates, the implicit marks, and the Arabic letter mark.
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Line breaks for Python's str.splitlines, terminals and Markdown; folded to one space.
BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_BREAK_RUN = re.compile(f"[ \t]*[{BREAKS}][ \t{BREAKS}]*")
_TRAILING_BREAKS = re.compile(f"[ \t]*[{BREAKS}][ \t{BREAKS}]*$")
_SPACES = re.compile(f"[ \t{BREAKS}]+")
# Format characters (Unicode category Cf, as of Unicode 15) other than the bidi controls: they
# render as nothing, so two names that differ by one look the same (tests check the list
# against unicodedata).
_FORMAT = ("\u00ad\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200d\u2060-\u2064"
          "\u206a-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
          "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
# Shown as \\uXXXX: bidi controls, other format characters, C0 controls (ESC moves a terminal's
# cursor), DEL, C1 controls.
_INVISIBLE = re.compile(f"[{BIDI}{_FORMAT}\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
WORD_JOINER = "\u2060"  # invisible, no line break: after `@` or `#` it stops GitHub's mentions and references


def visible(text: str) -> str:
    """Bidi, format (zero-width …) and control characters as a visible `\\u202e`; tabs as spaces.
    Everything else unchanged."""
    if text.isprintable():  # fast path: bidi marks, format characters, controls and tabs are all non-printable
        return text
    return _INVISIBLE.sub(_escaped, text.replace("\t", " "))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def plain(value: Any) -> str:
    """One value in terminal text or an aligned table cell: one line, nothing invisible."""
    text = "" if value is None else str(value)
    return visible(_SPACES.sub(" ", text).strip(" "))


def plain_line(line: str) -> str:
    """A whole output line (indentation kept): line breaks inside values folded, controls shown."""
    if line.isprintable():  # fast path: line breaks are non-printable too
        return line
    return visible(_BREAK_RUN.sub(" ", _TRAILING_BREAKS.sub("", line)))


# --- Markdown ---------------------------------------------------------------------------

_MD_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_[]~#|$"})
_LIST_MARKER = re.compile(r"^(\d{0,9})([-+.)])(?= |$)")
_MENTION = re.compile(r"@(?=[A-Za-z0-9_])|#(?=\d)")


def md(value: Any) -> str:
    """Markdown inline text or a table cell that renders as the text it holds.

    No HTML (`<`, `>`, `&` as entities), no emphasis, links, code or strike-through (backslash
    escapes), no new cell (`\\|`), no new line, no list marker or heading at the start, and on
    GitHub no `@mention` or `#123` reference (a word joiner after `@`/`#`: backslashes and
    entities do not stop those, they are matched after rendering).
    """
    if type(value) is str:  # a report's pages repeat their texts: each is escaped once
        found = _MD.get(value)
        if found is None:
            found = kept(_MD, value, _md(value), 50_000)
        return found
    return _md(value)


_MD: dict[str, str] = {}


def _md(value: Any) -> str:
    text = plain(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _LIST_MARKER.sub(r"\1\\\2", text.translate(_MD_ESCAPES))
    return _MENTION.sub(lambda m: m.group() + WORD_JOINER, text)


def md_url(url: str) -> str:
    """`md` of an http(s) URL of plain ASCII (`_PLAIN_HTTP`: nothing to fold, show or make an entity of, no
    list marker at its start), not kept: a unit's evidence links are its own."""
    text = url
    for c in "_~#$*":  # what `_MD_ESCAPES` escapes of the characters such a URL can hold
        if c in text:
            text = text.replace(c, "\\" + c)
    return _MENTION.sub(_joined, text) if "@" in text or "#" in text else text


def _joined(match: re.Match[str]) -> str:
    return match.group() + WORD_JOINER


def code(value: Any) -> str:
    """An id, path or revision as inline code (where `<`, `*` and `@` are literal); text holding a
    backtick or a `|` (which would end the span or the table cell) as escaped text instead."""
    text = plain(value)
    if text and "`" not in text and "|" not in text:
        return f"`{text}`"
    return md(text)


# --- links ------------------------------------------------------------------------------

_HTTP = re.compile(r"^https?://[^/?#\\@:]", re.IGNORECASE)
_UNSAFE_URL_CHARS = re.compile(f"[\x00-\x20\x7f-\x9f\\\\{BIDI}]")


def allowed_scheme(url: str) -> bool:
    """For markdown-it's validateLink: http(s) or a relative reference, never another scheme.

    After an http(s) prefix anything goes (the destination is percent-encoded); a relative
    reference must not hold a space, backslash or control character, which browsers drop or
    rewrite (`java\tscript:`)."""
    if _HTTP.match(url):
        return True
    if _UNSAFE_URL_CHARS.search(url):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("/", "\\")) \
        and ":" not in url.split("/", 1)[0]


def safe_url(url: str | None, base: str = "", relative: bool = True) -> str | None:
    """The URL if it may be a link, else None.

    http:// and https:// with a host; or (unless `relative` is false) a relative path that,
    read from `base` (a directory inside the round or report), stays inside it: no scheme
    (`javascript:`, `data:`, `file:` …), no `//host`, no absolute path, no `..` above the top,
    no backslash, space or control character.
    """
    if not url or not allowed_scheme(url):
        return None
    if _HTTP.match(url):
        return url
    if not relative:
        return None
    path = unquote(urlsplit(url).path)  # a browser reads %2e%2e as ..
    if path.startswith("/") or _UNSAFE_URL_CHARS.search(path):
        return None
    joined = posixpath.normpath(posixpath.join(base, path)) if path else base or "."
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return url


def _destination(url: str) -> str:
    """A Markdown link destination that cannot end early or decode entities into something else."""
    safe = quote(url, safe=":/?#[]@!$&'*+,;=%-._~")
    return safe.replace("(", "%28").replace(")", "%29").replace("&", "&amp;")


_PLAIN_HTTP = re.compile(r"https?://[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9._~/?#=+,;:@!$'*%-]*)?")


def link(text: Any, url: str | None, base: str = "", relative: bool = True) -> str:
    """A Markdown link when `safe_url` allows the target; otherwise the target, as text."""
    if url and _PLAIN_HTTP.fullmatch(url):  # an http(s) URL of plain ASCII (a unit's evidence): as `safe_url`
        # allows and `_destination` writes it (nothing to quote, no parenthesis or `&`), without parsing it
        label = plain(text) if text is not None and text != url else url
        return f"[{md_url(label) if label is url else md(label or url)}]({url})"
    target = safe_url(url, base, relative)
    label = plain(text) or (url or "")
    if target is None:
        return md(url if url else label)
    return f"[{md(label)}]({_destination(target)})"


# --- HTML, SVG, CSV, JSON ---------------------------------------------------------------

def html(value: Any) -> str:
    """HTML or XML text and double- or single-quoted attribute values."""
    # html.escape(text, quote=True), written out: the `html` module (and its table of entities) is not imported by
    # every command that prints (1.4 ms of each start)
    return plain(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;").replace("'", "&#x27;")


_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: a leading `=`, `+`, `-` or `@` gets a `'`.

    Numbers (formatted by the caller) are left alone; bidi and control characters are shown.
    """
    if not isinstance(value, str):
        return value
    text = visible(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_field(text: str) -> str:
    """One CSV field (RFC 4180): quoted when it holds a comma, a quote or any line break.

    Python's csv writer with `lineterminator="\\n"` leaves a carriage return unquoted, and a
    spreadsheet starts a new row there: `a\\r=1+1` would put a formula at the start of a row.
    """
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


_BIDI_RE = re.compile(f"[{BIDI}{_FORMAT}]")


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON escapes a character beyond the BMP as its UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(dumped: str) -> str:
    """JSON text with bidi and other invisible characters written as `\\u202e`/`\\u200b` escapes: the
    same values, no reordering, nothing hidden.

    Safe on the output of json.dumps: these characters can only occur inside strings there.
    """
    return _BIDI_RE.sub(_json_escape, dumped)


def json_document(data: dict[str, Any], provenance: Any = None) -> str:
    """A JSON output of gapctl, as printed or written: an object whose first field is `version`
    (the gapctl that wrote it, so a consumer knows which release's shape and figures it reads),
    then `provenance` when given (gapctl.review.provenance: the commit, lock file and files it was computed
    from), Chinese as written, bidi and control characters as `\\u` escapes (json_text), a final newline."""
    import json

    from gapctl import __version__
    document: dict[str, Any] = {"version": __version__}
    if provenance is not None:
        document["provenance"] = provenance.data() if hasattr(provenance, "data") else provenance
    document.update(data)
    return json_text(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False, default=str)) + "\n"


def json_document_parts(data: dict[str, Any], last: str, items: Iterable[Any], provenance: Any = None
                        ) -> Iterator[str]:
    """`json_document` of `data` with `last` (its last field) the list `items` gives, in parts, an item at a time:
    the same text as json_document of the whole, without holding every item (a follow-up of 30,000 units has
    hundreds of thousands of problems). `data` must not hold `last`."""
    import json

    head = json_document({**data, last: []}, provenance)
    closing = "[]\n}\n"
    if not head.endswith(closing):  # (json.dumps always ends so: the empty list is the last field's value)
        raise ValueError(f"not a JSON document ending in {last!r}: {head[-40:]!r}")
    encode = json.JSONEncoder(ensure_ascii=False, indent=2, sort_keys=False, default=str).encode
    empty = True
    for batch in _batched(items, 256):
        # a batch of items as a list of its own: its items one level in, each line then indented by two spaces
        # more (its strings hold no line break: json.dumps writes them as \n)
        text = "  " + encode(batch)[2:-2].replace("\n", "\n  ")
        yield (head[:-len(closing)] + "[\n" if empty else ",\n") + json_text(text)
        empty = False
    yield head if empty else "\n  ]\n}\n"


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of `size` items (the last may be shorter), as itertools.batched (Python 3.12) gives tuples."""
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch
