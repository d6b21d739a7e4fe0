"""A unit's tail (gapctl.report.markdown.unit_tail: its indicators table and problem list, made in the worker that
scores it) is made with memos: indicator rows by their figures' values, a problem row's cells by their texts, the
observation's words by what was observed (`_seen`), the evidence cell without lists, the unit's tally pickled with
its figures as one text. Each is checked here against the plain way of making it (the code it replaced: no memo,
markdown-it for the HTML), over every unit of every shipped round and over units whose leaves are made up to hit
every memo with equal values written apart (0 and -0, 0.5 and 0.50, 1 and True, "1" and 1)."""

from __future__ import annotations

import pickle
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gapctl.api import check, score
from gapctl.data.model import Evidence, Result
from gapctl.escape import md
from gapctl.i18n import in_lang
from gapctl.labels import aside, enumerated, name_in
from gapctl.report import html as html_render
from gapctl.report import markdown as M
from gapctl.scoring.explain import observation_text
from gapctl.scoring.scoreboard import two
from tests.conftest import ROOT

ROUNDS = sorted(p for p in (ROOT / "rounds").iterdir() if p.is_dir())
INJECTED = ('<script>x</script> | 表格 | [点我](javascript:alert(1)) @admin #3 *强调* 1. `code` \\ &amp; ~del~ '
            '<img src=x onerror=alert(1)>')


def scored_units(path: Path) -> list[Any]:
    return score(check(path).loaded.round).units


# --- the plain way (the code the memos replaced) -------------------------------------------------------------

def reference_tail(s: Any, lang: str, blank: list[str] | None = None) -> str:
    places = {key: n for n, key in enumerate(blank or [])}
    rows = []
    for key, leaf in s.leaves.items():
        if leaf.state == "not-applicable":
            continue
        if key in places:
            rows.append(f"\x00{places[key]}\x00")
            continue
        ind = leaf.indicator
        cells = [md(f"{ind.id} {name_in(ind, lang)}"), two(leaf.points) if ind.section == "main" else "",
                 two(leaf.earned), md(enumerated(ind.methods, lang))]
        rows.append("| " + " | ".join(cells) + " |")
    head = M._table([in_lang("Indicator", lang), in_lang("Points", lang), in_lang("Earned", lang),
                     in_lang("Method", lang)], [], {1, 2})[:2]
    lines = ["## " + in_lang("Indicators", lang), "", *head, *rows, "",
             "## " + in_lang("Problem list (where, why, what to fix)", lang), ""]
    problems = []
    for leaf in s.lost_leaves():
        result = leaf.result
        where = f"{leaf.indicator.id} {leaf.indicator.name}"
        if leaf.state != "pending":
            where = aside(where, observation_text(leaf, lang, with_who=False), lang)
        amount = two(leaf.lost) if leaf.state != "pending" else in_lang("not yet assessed", lang)
        problems.append([md(where), amount, md(result.reason or "" if result else ""),
                         md(result.fix or "" if result else ""), M._evidence(leaf)])
    if not problems:
        return "\n".join(lines + [in_lang("No points lost.", lang), ""])
    return "\n".join(lines + M._table([in_lang("Where", lang), in_lang("lost", lang), in_lang("Reason", lang),
                                       in_lang("To fix", lang), in_lang("Evidence", lang)], problems, {1}))


def reference_tally(s: Any, lang: str) -> tuple[Any, ...]:
    attainment: dict[Any, list[Decimal]] = {}
    names, lost = {}, {}
    for node in s.tree:
        if node.points:
            key = (s.scheme.id, node.indicator.id)
            bucket = attainment.setdefault(key, [Decimal(0), Decimal(0)])
            bucket[0] += node.earned
            bucket[1] += node.points
            names[key] = name_in(node.indicator, lang)
    for leaf in s.leaves.values():
        if leaf.indicator.section == "main" and leaf.lost > 0 and leaf.state != "pending":
            entry = lost.setdefault((s.scheme.id, leaf.indicator.id),
                                    [leaf.indicator.id, leaf.indicator.name, Decimal(0), 0])
            entry[2] += leaf.lost
            entry[3] += 1
    return written(attainment), names, written(lost)


def written(value: Any) -> Any:
    """`value` with every Decimal as its str and type: equal values written apart stay apart."""
    if isinstance(value, dict):
        return [(written(k), written(v)) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [written(v) for v in value]
    return (type(value).__name__, str(value))


def check_unit(s: Any, lang: str, plain: Any, blank: list[str] | None = None) -> None:
    expected = reference_tail(s, lang, blank)
    for html in (False, True):
        tail = M.unit_tail(s, lang, html, blank)
        assert tail.markdown == expected, (s.unit.id, lang)
        if html and tail.html is not None and "\x00" not in expected:
            assert tail.html == plain.render(expected), (s.unit.id, lang)
        if html and not blank and "\r" not in expected and "\x00" not in expected:
            assert tail.html is not None  # the fast path taken wherever a page is made with its HTML
    tally = M.Tally.of(s, lang)
    assert (written(tally.attainment), tally.names, written(tally.lost)) == reference_tally(s, lang)
    again = pickle.loads(pickle.dumps(tally, pickle.HIGHEST_PROTOCOL))
    assert (written(again.attainment), again.names, written(again.lost)) == reference_tally(s, lang)


@pytest.mark.parametrize("path", ROUNDS, ids=lambda p: p.name)
def test_tails_of_every_shipped_unit_are_made_as_the_plain_way_makes_them(path: Path) -> None:
    plain = html_render._parser()
    units = scored_units(path)
    for _ in range(2):  # the second time from the memos
        for s in units:
            bonus = [key for key, leaf in s.leaves.items()
                     if leaf.indicator.section == "bonus" and leaf.state not in ("not-applicable", "pending")]
            for lang in ("zh", "en"):
                check_unit(s, lang, plain)
                if bonus:
                    check_unit(s, lang, plain, bonus)


# --- made-up leaves ------------------------------------------------------------------------------------------

FIGURES = [Decimal(v) for v in ("0", "-0", "0.00", "-0.00", "0.5", "0.50", "1", "1.0", "1E+1", "10", "2.345",
                                "2.355", "0.005", "-0.001", "-5", "-5.0", "3", "100")]
TEXTS = ["", "未按要求公开", "未按要求公开", "a | b", "*强调* _x_", INJECTED, "1. 条款", "# 标题", "x\\|y", "换\n行",
         "&lt;", "@某 #3", "  空格  ", "\u202e反向"]
URLS = ["https://a.gov.cn/x_y/~z#1@a$b*c'd!e,f;g=h+i", "http://x.y:80/@u#9", "https://a.b/%zz", "https://a.b/%E4%B8%AD",
        "https://a.b/(x)", "https://a.b/?p=1&q=2", "HTTPS://A.B/", "https://a.b/[x]", "https://a.b/ 1", "javascript:x",
        "https://-a.b/", "https://dept-1.bench.gov.cn/gkpt/202108/t20210831_9783044.html", "https://a.b/x|y"]


def made_up_result(pick: random.Random, leaf: Any) -> Result | None:
    if pick.random() < 0.08:
        return None
    rule = leaf.rule
    ids = [str(i.get("id")) for i in (rule.params.get("items") or [])] if rule else []
    keys: list[Any] = ids + ["x", "1", 1, True, 1.0, 0, False] if ids else ["x", "1", 1, True, 1.0, 0, False, "y"]
    result = Result(indicator=leaf.indicator.id, state=pick.choice([None, "done", "not-done", "n/a", "no-evidence",
                                                                    "done", None]))
    if pick.random() < 0.4:
        result.items = {pick.choice(keys): pick.choice([True, False, 1, 0, "x", "", None])
                        for _ in range(pick.randint(0, 4))}
    if pick.random() < 0.3:
        result.count = pick.choice([0, 1, 2, True, False, Decimal("1"), Decimal("1.0"), 1.0])
    if pick.random() < 0.3:
        result.fraction = pick.choice([Decimal("0.5"), Decimal("0.50"), Decimal("-0"), Decimal("0"), 0.5, 0.1,
                                       Decimal("0.1"), Decimal("1E-1"), 1])
    if pick.random() < 0.3:
        result.grade = pick.choice([Decimal("1.5"), Decimal("1.50"), Decimal("-0"), Decimal("0"), 1.5, 2])
    if pick.random() < 0.2:
        result.notices = pick.choice([0, 1, 2, True, Decimal("2.0")])
    if pick.random() < 0.1:
        result.findings = {"a": True, "b": 2}
    result.reason = pick.choice(TEXTS + [None])
    result.fix = pick.choice(TEXTS + [None])
    evidence = []
    for _ in range(pick.choice([0, 1, 1, 1, 2])):
        url = pick.choice(URLS + [None])
        evidence.append(Evidence(url=url, title=pick.choice([None, None, url, "", INJECTED, "标题"]),
                                 file=None if url else pick.choice(["a/b.pdf", "x|y.pdf", INJECTED]),
                                 sha256=pick.choice([None, "ab" * 32])))
    result.evidence = evidence
    return result


def test_tails_of_made_up_leaves_are_made_as_the_plain_way_makes_them() -> None:
    """Leaves of shipped units given made-up states, figures and results, many times over, so every memo is hit
    by values equal to a kept one but written apart (and by results of every kind, with and without findings),
    with the tail made in both languages, with and without its HTML and blank rows."""
    plain = html_render._parser()
    pick = random.Random(18)
    units = scored_units(ROOT / "rounds/yanjiang-2021") + scored_units(ROOT / "rounds/shanwei-2020")
    for _ in range(60):
        s = pick.choice(units)
        for leaf in s.leaves.values():
            leaf.state = pick.choice(["scored", "scored", "scored", "pending", "not-applicable", "n/a", "no-evidence"])
            leaf.points = pick.choice(FIGURES)
            leaf.earned = pick.choice(FIGURES)
            leaf.result = made_up_result(pick, leaf)
        blank = [key for key in s.leaves if pick.random() < 0.2]
        for lang in ("zh", "en"):
            check_unit(s, lang, plain)
            check_unit(s, lang, plain, blank)


VARIANTS = {"count": [1, True, Decimal("1"), Decimal("1.0"), 1.0, 0, False, Decimal("-0")],
            "fraction": [Decimal("0.5"), Decimal("0.50"), 0.5, Decimal("0"), Decimal("-0"), 0, Decimal("1E-1"), 0.1],
            "grade": [Decimal("1.5"), Decimal("1.50"), 1.5, Decimal("2"), 2, Decimal("-0"), Decimal("0")],
            "notices": [1, True, Decimal("1.0"), 0, False],
            "items": [{"1": True}, {1: True}, {True: True}, {1.0: True}, {"1": 1}, {"1": "x"}, {"1": 0}, {"1": None},
                      {"a": True, "b": False}, {"b": False, "a": True}]}


def test_observations_equal_but_written_apart_are_put_in_their_own_words() -> None:
    """`_seen` keeps an observation's words by what was observed: a value equal to a kept one but of another
    type or written otherwise (1, True, 1.0; 0.5, 0.50; -0, 0; item 1 and "1") gets its own words."""
    leaves = [leaf for s in scored_units(ROOT / "rounds/yanjiang-2021") for leaf in s.leaves.values()
              if leaf.state == "scored" and leaf.result is not None][:6]
    for leaf in leaves:
        for field, values in VARIANTS.items():
            for value in values + values[::-1]:
                for state in (None, "done"):
                    leaf.result = Result(indicator=leaf.indicator.id, state=state, **{field: value})
                    for lang in ("zh", "en"):
                        assert M._seen(leaf, lang) == observation_text(leaf, lang, with_who=False), (field, value)


def test_a_tally_pickles_with_its_figures_as_written() -> None:
    """Tally.__reduce__ packs its Decimals into one text: unpickled, each is the Decimal it was, written alike
    (-0, 1E+1, 0.50); a tally holding another kind of number pickles as it is."""
    tally = M.Tally({("s", "1"): [Decimal("-0"), Decimal("1E+1")], ("s", "2"): [Decimal("0.50"), Decimal("3")]},
                    {("s", "1"): "一", ("s", "2"): "二"},
                    {("s", "1.1"): ["1.1", "名", Decimal("0.500"), 3], ("s", "1.2"): ["1.2", "名2", Decimal("NaN"), 1]})
    again = pickle.loads(pickle.dumps(tally, pickle.HIGHEST_PROTOCOL))
    assert written(again.attainment) == written(tally.attainment) and written(again.lost) == written(tally.lost)
    assert again.names == tally.names
    empty = pickle.loads(pickle.dumps(M.Tally()))
    assert (empty.attainment, empty.names, empty.lost) == ({}, {}, {})
    odd = M.Tally({("s", "1"): [1, Decimal(2)]}, {}, {})
    assert written(pickle.loads(pickle.dumps(odd)).attainment) == written(odd.attainment)
    assert odd.plain() is None  # (pickled as it is)
    plain = M.Tally.from_plain(tally.plain())  # lists and texts alone: what a cached piece holds
    assert written(plain.attainment) == written(tally.attainment) and written(plain.lost) == written(tally.lost)
    assert list(plain.names.items()) == list(tally.names.items())  # in their order: the overview lists them so


def test_a_piece_read_back_from_its_record_is_the_piece() -> None:
    """`TailPiece.record` writes the leaves' figures, an HTML tail and the tally as MessagePack's own values (lists,
    bytes, texts); `from_record` gives back tuples, the HtmlTail and the tally, written alike; a Markdown tail and a
    tally of other numbers go through the codec as they are."""
    from gapctl.report import build

    tally = M.Tally({("s", "1"): [Decimal("-0"), Decimal("1E+1")]}, {("s", "1"): "一"},
                    {("s", "1.1"): ["1.1", "名", Decimal("0.500"), 3]})
    leaves = {"B1": ("0", False, "scored", "3"), "P1": ("-0", True, "pending", "0")}
    for tail, kept in ((M.HtmlTail("<h2>指标</h2>\x000\x00".encode()), tally), (M.Tail("## x", None), tally),
                       (M.HtmlTail(b""), M.Tally({("s", "1"): [1, Decimal(2)]}, {}, {}))):
        piece = build.TailPiece.from_record(build.TailPiece("u", "zh", leaves, None, ["B1"]).record(tail, kept, None))
        again, again_tally = piece.made
        assert (piece.unit, piece.lang, piece.leaves, piece.blank, again) == ("u", "zh", leaves, ["B1"], tail)
        assert written(again_tally.attainment) == written(kept.attainment) and again_tally.names == kept.names
        assert written(again_tally.lost) == written(kept.lost)


OLD_WEB = re.compile(r"https?://[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]{1,5})?"
                     r"(?:[/?#](?:[A-Za-z0-9._~/?#=+,;:@!$'*-]|%[0-9A-Fa-f]{2})*)?")


STARTS = ["http://", "https://", "", "HTTP://", "https:/", "https://a.b/", "http://x-1.y:80/", "https://a.b?"]


def test_web_urls_are_told_as_before() -> None:
    """report.html._WEB (possessive runs, for speed) takes exactly the URLs the one-character-at-a-time pattern
    took: 100,000 random texts made of URL pieces and near misses."""
    pieces = [*"aZ09.-_~/?#=+,;:@!$'*%()[] \\|\"<>&", "%2F", "%zz", "%4", "http://", "https://", "é", "中", ":80",
              ":123456", "-a", "..", "\n"]
    pick = random.Random(18)
    taken = 0
    for _ in range(100_000):
        text = pick.choice(STARTS) + "".join(pick.choice(pieces) for _ in range(pick.randint(0, 12)))
        old = OLD_WEB.fullmatch(text) is not None
        assert html_render.web_url(text) == old, repr(text)
        taken += old
    assert taken > 5_000
