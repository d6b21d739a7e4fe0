"""The byte scans that decide how a file is read give the answers of their plain definitions.

`fast_yaml._plain_subset` and `yaml_depth.may_be_too_deep` look in a few bytes kept from the file, or in
a translated copy, instead of searching the file once per pattern, and `fast_yaml._candidates` splits the
file once when that finds every word (they run on every file). Each is compared here with the plain
definition it replaced, over the shipped files, the test data and token soups built from the bytes each
check looks for (and the bytes around them).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapctl.data import fast_yaml
from gapctl.data.sources import MAX_DEPTH
from gapctl.data.yaml_depth import may_be_too_deep
from gapctl.problems import TOO_DEEP
from tests.data.test_fast_yaml import SHIPPED, TEST_DATA
from tests.test_fuzz import FUZZ, scaled

_CONTROLS = bytes(range(0x20)).replace(b"\n", b"") + b"\x7f\\"
_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_FORMAT = (b"\xe2\x80\xa8", b"\xe2\x80\xa9", b"\xef\xbb\xbf", b"\xef\xbf\xbe", b"\xef\xbf\xbf")
_MARKER = re.compile(rb"^(?:---|\.\.\.)", re.M)


def plain_subset(raw: bytes) -> bool:
    """The definition: no control byte or backslash, no C1 control, no format character, no token starting
    with an indicator, no merge key, no document marker at the start of a line."""
    if any(byte in _CONTROLS for byte in raw) or _C1.search(raw) or any(mark in raw for mark in _FORMAT):
        return False
    for indicator in b"&*!|>?%@`":
        mark = bytes((indicator,))
        if raw.startswith(mark) or any(before + mark in raw for before in (b" ", b"\n", b"[", b"{", b",")):
            return False
    return b"<<" not in raw and _MARKER.search(raw) is None


def too_deep(raw: bytes, limit: int) -> bool:
    """The definition: about `limit` brackets, or a line starting with that many spaces, dashes and `?`."""
    need = limit - 8 - raw.count(b"[") - raw.count(b"{")
    return need <= 0 or re.search(rb"^[ ?-]{%d,}" % need, raw, re.M) is not None


_START = frozenset(b"-+.0123456789_~")
_WORDS = frozenset(
    b"yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF null Null NULL y Y n N".split())


def candidates(raw: bytes) -> set[bytes]:
    """The definition: the words of both splits (at white space; at white space, `,[]{}` and colons) that
    start like a number or null and are not a key, and the boolean and null words; not a lone dash."""
    words = set(raw.split()) | set(raw.translate(bytes.maketrans(b",[]{}:", b"      ")).split())
    out = {w for w in words if w[0] in _START and not w.endswith(b":")} | (words & _WORDS)
    return out - {b"-"}


FILES = [path.read_bytes() for path in SHIPPED + TEST_DATA]

PIECES = [b"---", b"...", b"--", b"..", b"-", b".", b"<<", b"<", b"\xe2\x80\xa8", b"\xe2\x80\xa9", b"\xef\xbb\xbf",
          b"\xef\xbf\xbe", b"\xef\xbf\xbf", b"\xe2\x80", b"\xef\xbf", b"\xc2\x85", b"\xc2\xa0", b"\xc2", b"\xe2",
          b"\xef", b"\xbf", b"\xa8", b"\x80", b"\t", b"\r", b"\x00", b"\\", b"&", b"*", b"!", b"|", b">", b"?", b"%",
          b"@", b"`", b" ", b"\n", b"[", b"{", b",", b"x", b"1", "，".encode(), "“".encode(), "网".encode(),
          b"a: ", b"- ", b"  "]


def test_the_scans_agree_on_every_file() -> None:
    assert len(FILES) > 300
    for raw in FILES:
        assert fast_yaml._plain_subset(raw) == plain_subset(raw), raw[:200]
        assert may_be_too_deep(raw, MAX_DEPTH) == too_deep(raw, MAX_DEPTH), raw[:200]
        assert fast_yaml._candidates(raw) == candidates(raw), raw[:200]
    assert any(not plain_subset(raw) for raw in FILES) and any(plain_subset(raw) for raw in FILES)


@settings(FUZZ, max_examples=scaled(400))
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from(FILES[:200]), st.integers(0, 10**6))
def test_the_plain_subset_scan_agrees(parts: list[bytes], base: bytes, where: int) -> None:
    soup = b"".join(parts)
    assert fast_yaml._plain_subset(soup) == plain_subset(soup), soup
    at = where % (len(base) + 1)
    spliced = base[:at] + soup + base[at:]
    assert fast_yaml._plain_subset(spliced) == plain_subset(spliced), soup


@settings(FUZZ, max_examples=scaled(300))
@given(st.lists(st.sampled_from([b" ", b"  ", b"-", b"- ", b"?", b"? ", b"\n", b"\r", b"x", b"[", b"{", b"\t",
                                 b"a: "]), max_size=90), st.sampled_from([10, 12, 20, MAX_DEPTH]))
def test_the_depth_prefilter_agrees(parts: list[bytes], limit: int) -> None:
    raw = b"".join(parts)
    assert may_be_too_deep(raw, limit) == too_deep(raw, limit), raw


@settings(FUZZ, max_examples=scaled(400))
@given(st.lists(st.sampled_from([b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c", b":", b": ", b",", b"[", b"]", b"{",
                                 b"}", b"-", b"- ", b"1", b"1.10", b"2021-01-02", b"12:30", b"+", b"_", b"~", b".",
                                 b"a", b"yes", b"No", b"x:1", b"https://a", b"\xe7\xbd\x91"]), max_size=40))
def test_the_word_split_agrees(parts: list[bytes]) -> None:
    raw = b"".join(parts)
    assert fast_yaml._candidates(raw) == candidates(raw), raw


def test_a_shallow_file_with_many_brackets_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit set with `tags: [...]` on every unit has more brackets than the depth prefilter lets through:
    measured shallow, it is read by the fast path, as the libyaml path reads it; a deep one is still refused."""
    from tests.data.test_fast_yaml import Spy, both

    shallow = b"units:\n" + b"".join(b"- id: u%d\n  tags: [a, b]\n  more: {x: [1, 2]}\n" % i for i in range(80))
    deep = b"a: " + b"[" * 70 + b"]" * 70 + b"\n"
    spy = Spy(monkeypatch)
    fast, slow = both(Path("u.yaml"), shallow, monkeypatch)
    assert fast == slow and not fast[1] and spy.read == 1
    fast, slow = both(Path("d.yaml"), deep, monkeypatch)
    assert fast == slow and [code for code, _m, _at in fast[1]] == [TOO_DEEP.code]
