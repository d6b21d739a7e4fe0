"""The report as Markdown: the one source that the HTML is rendered from.

An overview (title, scheme, period, grade distribution, rankings per category, attainment
per top-level indicator, where most points were lost, units below a threshold, the method and
every assumption the results rest on) and one
page per unit (score card, indicators, problem list with evidence, and with a previous
round: last year's total and grade and which of last year's problems are fixed).
Every string from the data goes through `gapctl.escape.md()` (or `link()`/`code()`), so
nothing a unit wrote becomes markup, a mention or a link other than http(s). Ranks appear only
for schemes that publish a ranking, or when asked for (labelled as not published); otherwise the
tables list units in the unit set's order under "Scores".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gapctl.escape import code, link, md, md_url
from gapctl.figures import figure
from gapctl.i18n import in_lang
from gapctl.labels import aside, enumerated, name_in, pair, written
from gapctl.memo import kept
from gapctl.report import html as html_render
from gapctl.report import svg
from gapctl.report.document import Issue, Standing, issued_on, notices
from gapctl.scheme.rules import num
from gapctl.scoring.explain import observation_text
from gapctl.scoring.score import LeafScore, RoundScore, UnitScore
from gapctl.scoring.scoreboard import fixed, pending_flag, total_text
from gapctl.scoring.scoreboard import two as _two

_TWO: dict[Decimal, str] = {}


def two(value: Decimal) -> str:
    """`gapctl.scoring.scoreboard.two`, made once per distinct value: a report's pages show the same few
    figures (points, earned, lost) hundreds of thousands of times. Zero is made each time (0 and -0 are
    equal, and a key, but are not written alike); equal values of other forms (2.5, 2.50) are written alike."""
    if type(value) is not Decimal or not value:
        return _two(value)
    found = _TWO.get(value)
    if found is None:
        found = kept(_TWO, value, _two(value), 10_000)
    return found


@dataclass
class Page:
    """One Markdown page and the charts it references (name → SVG)."""

    path: str
    markdown: str
    charts: dict[str, str]
    title: str = ""  # as written in the data, for the HTML <title> (escaped there)


def _table(head: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out + [""]


def _name(score: UnitScore, lang: str) -> str:
    return name_in(score.unit, lang)


def banner(scored: RoundScore, lang: str, standing: Standing | None = None) -> list[str]:
    """What heads every page: the example banner, and whether the results are provisional."""
    lines = []
    for notice in notices(scored, standing or Standing(), lang):
        lines += [f"> **{md(notice)}**", ""]
    return lines


@dataclass
class Tally:
    """What the overview adds up over every unit's indicators: attainment per top-level indicator
    and points lost per leaf. Built unit by unit (`add`, or `of` in a worker and `merge` here, in
    the units' order), so the overview needs no unit's detail kept."""

    attainment: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)  # → [earned, points]
    names: dict[tuple[str, str], str] = field(default_factory=dict)  # top-level indicator's name in `lang`
    lost: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # → [id, name, points lost, units]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as `plain`: each unit's tally is pickled in the worker that scores it (gapctl.report.build.keep_tail)
        and again for its page."""
        plain = self.plain()
        return (_tally, (self.attainment, self.names, self.lost)) if plain is None else (Tally.from_plain, (plain,))

    def plain(self) -> list[Any] | None:
        """The tally as lists, texts and numbers alone, its figures as one text (what MessagePack writes as it is and
        a pickle holds without a class: gapctl.report.build.TailPiece.record); None where a figure is not a Decimal."""
        figures = [*(d for pair in self.attainment.values() for d in pair), *(e[2] for e in self.lost.values())]
        if any(d.__class__ is not Decimal for d in figures):
            return None
        return [[key for pair in self.attainment for key in pair], [self.names[key] for key in self.attainment],
                [part for key, entry in self.lost.items() for part in (*key, entry[0], entry[1], entry[3])],
                " ".join(map(str, figures))]

    @classmethod
    def from_plain(cls, plain: list[Any]) -> Tally:
        """The tally `plain` gave: Decimal(str(d)) is d, written alike."""
        keys, names, lost, figures = plain
        numbers = iter(map(Decimal, figures.split(" "))) if figures else iter(())
        pairs = list(zip(keys[::2], keys[1::2], strict=True))
        tally = cls({key: [next(numbers), next(numbers)] for key in pairs}, dict(zip(pairs, names, strict=True)))
        for n in range(0, len(lost), 5):
            scheme, key, ident, name, count = lost[n:n + 5]
            tally.lost[(scheme, key)] = [ident, name, next(numbers), count]
        return tally

    @classmethod
    def of(cls, s: UnitScore, lang: str) -> Tally:
        tally = cls()
        tally.add(s, lang)
        return tally

    def add(self, s: UnitScore, lang: str) -> None:
        scheme = s.scheme.id
        attainment, names, lost = self.attainment, self.names, self.lost
        for node in s.tree:
            if node.points:
                key = (scheme, node.indicator.id)
                bucket = attainment.get(key)
                if bucket is None:
                    bucket = attainment[key] = [Decimal(0), Decimal(0)]
                bucket[0] += node.earned
                bucket[1] += node.points
                names[key] = name_in(node.indicator, lang)
        for leaf in s.leaves.values():  # a main leaf's `lost` is its points less what it earned
            ind = leaf.indicator
            if ind.section == "main" and leaf.points > leaf.earned and leaf.state != "pending":
                entry = lost.get((scheme, ind.id))
                if entry is None:
                    entry = lost[(scheme, ind.id)] = [ind.id, ind.name, Decimal(0), 0]
                entry[2] += leaf.points - leaf.earned
                entry[3] += 1

    def merge(self, other: Tally) -> None:
        for key, (earned, points) in other.attainment.items():
            bucket = self.attainment.setdefault(key, [Decimal(0), Decimal(0)])
            bucket[0] += earned
            bucket[1] += points
        self.names.update(other.names)
        for key, (ident, name, points, count) in other.lost.items():
            entry = self.lost.setdefault(key, [ident, name, Decimal(0), 0])
            entry[2] += points
            entry[3] += count


def _tally(attainment: dict[Any, Any], names: dict[Any, Any], lost: dict[Any, Any]) -> Tally:
    return Tally(attainment, names, lost)


def overview(scored: RoundScore, lang: str, ext: str, stamp: str | None = None, standing: Standing | None = None,
             issue: Issue | None = None, robustness: list | None = None, tally: Tally | None = None) -> Page:
    """The first page; `issue` adds the office, number and date to its facts (the HTML shows them
    in its masthead instead); `robustness` (gapctl.scoring.robustness results, one per scheme) adds the
    section on how far ranks and grades move (gapctl.report.robustness). `tally`: what the units'
    indicators add up to, when the units of `scored` are summaries (gapctl.scoring.details); otherwise it
    is added up from them."""
    if tally is None:
        tally = Tally()
        for s in scored.units:
            tally.add(s, lang)
    round_ = scored.round
    title = written(round_.title, round_.title_en, lang)
    lines = [f"# {md(title)}", ""] + banner(scored, lang, standing)
    schemes = {s.scheme.id: s.scheme for s in scored.units}
    facts = []
    if issue is not None and issue.office:
        facts.append([in_lang("Issued by", lang), md(issue.office)])
    if issue is not None and issue.number:
        facts.append([in_lang("Document number", lang), md(issue.number)])
    if issue is not None and issue.date:
        facts.append([in_lang("Date of issue", lang), issued_on(issue.date, lang)])
    facts += [[in_lang("Period", lang), " – ".join(d.isoformat() for d in round_.period) if round_.period else "—"],
             [in_lang("Scheme", lang), "；".join(f"{md(s.title)} ({code(s.id)})" for s in schemes.values())],
             [in_lang("Units assessed", lang), str(len(scored.units))]]
    if stamp:
        facts.append([in_lang("Generated", lang), md(stamp)])
    lines += ["- " + pair(key, value, lang) for key, value in facts] + [""]
    charts: dict[str, str] = {}
    grades = [g for scheme in schemes.values() for g in scheme.grades]
    if grades:
        counts = Counter(s.grade for s in scored.units)
        order = list(dict.fromkeys(g.label for g in grades))
        bars = [(g, counts.get(g, 0)) for g in order]
        heading = in_lang("Grade distribution", lang)
        lines += [f"## {heading}", ""]
        lines += _table([in_lang("Grade", lang), in_lang("Units", lang)], [[md(g), str(n)] for g, n in bars], {1})
        charts["grades.svg"] = svg.column_chart(heading, bars)
        lines += [f"![{heading}](charts/grades.svg)", ""]
    lines += _rankings_once(scored, lang, ext)
    if robustness:
        from gapctl.report.robustness import section
        lines += section(scored, robustness, lang, charts)
    lines += _attainment(tally, lang, charts)
    lines += _most_lost(tally, lang)
    lines += _below(scored, lang)
    bins = Counter(min(int(s.total // 10), 9) for s in scored.units if s.total is not None)
    dist = [(f"{b * 10}–{b * 10 + 9 if b < 9 else 100}", bins.get(b, 0)) for b in range(10)]
    heading = in_lang("Score distribution", lang)
    charts["scores.svg"] = svg.column_chart(heading, dist)
    lines += [f"## {heading}", "", f"![{heading}](charts/scores.svg)", ""]
    lines += _method(scored, lang)
    return Page(f"index{ext}", "\n".join(lines), charts, title)


def _method(scored: RoundScore, lang: str) -> list[str]:
    """计分方法和假定: each scheme's computation and ranking, then every assumption, by file."""
    from gapctl.report.method import method

    found = method(scored, lang)
    lines = ["## " + in_lang("Method and assumptions", lang), ""]
    for scheme in found.schemes:
        lines += [f"### {md(scheme.title)}", ""]
        lines += ["- " + pair(md(label), md(text), lang) for label, text in scheme.facts] + [""]
    lines += ["### " + in_lang("Assumptions (not published)", lang), ""]
    if not found.assumptions:
        return lines + [in_lang("None: every figure is as published.", lang), ""]
    lines += [in_lang("Where the published documents are silent, these files assume what follows; the results "
                      "rest on them.", lang), ""]
    for heading, entries in found.assumptions:
        lines += [f"**{md(heading)}**", ""]
        lines += ["- " + pair(md(what), md(why), lang) for what, why in entries] + [""]
    return lines


def ranking_groups(scored: RoundScore, lang: str) -> list[tuple[str, list[UnitScore]]]:
    """The ranking tables: (heading, units in rank order) per scheme, and per category where the
    scheme ranks by category (分类排名), schemes in the round's order; a scheme whose ranks are not
    shown lists its units in the unit set's order. Headings are plain text."""
    groups: dict[tuple[str, str], list[UnitScore]] = {}
    for s in scored.units:
        category = s.category.id if s.category else ""
        groups.setdefault((s.scheme.id, category), []).append(s)
    scheme_order = [a.scheme for a in scored.round.assignments]

    def group_order(key: tuple[str, str]) -> tuple[int, int]:
        scheme = next(s.scheme for s in scored.units if s.scheme.id == key[0])
        cats = [c.id for c in scheme.ranking.categories] if scheme.ranking else []
        return (scheme_order.index(key[0]) if key[0] in scheme_order else 0,
                cats.index(key[1]) if key[1] in cats else len(cats))
    out = []
    for key in sorted(groups, key=group_order):
        members = groups[key]
        heading = members[0].scheme.title
        if members[0].category:
            heading += f" · {name_in(members[0].category, lang)}"
        ordered = scored.in_rank_order(members)
        if scored.ranks_shown(members[0].scheme):
            ordered = sorted(ordered, key=lambda s: rank_of(s) or 0)  # within a category: by category rank
        out.append((heading, ordered))
    return out


def rank_of(s: UnitScore) -> int | None:
    """The rank a ranking table shows: within the category where the scheme ranks by category."""
    return s.category_rank if s.category else s.rank


def not_published(scored: RoundScore, lang: str) -> str:
    """The label of ranks shown on request for a scheme that publishes none."""
    return in_lang("Ranks computed by gapctl on request: this scheme publishes no ranking.", lang)


_RANKED: list[Any] = []  # [scored, lang, ext, its `_rankings`]: made ahead by `rankings_ahead`


def rankings_ahead(scored: RoundScore, lang: str, ext: str) -> None:
    """Make the overview's rankings (a row per unit: most of the overview's work) now, for the next `overview` of
    the same round, language and extension to take: gapctl.report.build makes them while the page workers run,
    rather than after them with one core idle."""
    _RANKED[:] = [scored, lang, ext, _rankings(scored, lang, ext)]


def _rankings_once(scored: RoundScore, lang: str, ext: str) -> list[str]:
    if _RANKED and _RANKED[0] is scored and _RANKED[1:3] == [lang, ext]:
        lines = _RANKED[3]
        _RANKED.clear()
        return lines
    return _rankings(scored, lang, ext)


def _rankings(scored: RoundScore, lang: str, ext: str) -> list[str]:
    every = all(scored.ranks_shown(s.scheme) for s in scored.units)
    lines = ["## " + (in_lang("Ranking", lang) if every else in_lang("Scores", lang)), ""]
    for heading, members in ranking_groups(scored, lang):
        lines += [f"### {md(heading)}", ""]
        ranked = scored.ranks_shown(members[0].scheme)
        if ranked and not members[0].scheme.publishes_ranking:
            lines += [f"*{not_published(scored, lang)}*", ""]
        has_grade = any(s.grade for s in members)
        head = [in_lang("Rank", lang)] if ranked else []
        head += [in_lang("Unit", lang), in_lang("Base", lang), in_lang("Total", lang)]
        head += [in_lang("Grade", lang)] if has_grade else []
        head += [in_lang("Flags", lang)]
        rows = []
        for s in members:
            places = s.scheme.scoring.places
            row = [str(rank_of(s))] if ranked else []
            row += [link(_name(s, lang), f"units/{s.unit.id}{ext}"), fixed(s.base, places), total_text(s)]
            row += [md(s.grade or "")] if has_grade else []
            row += [md(", ".join(flag_labels(s, lang)))]
            rows.append(row)
        lines += _table(head, rows, {0, 2, 3} if ranked else {1, 2})
    return lines


def flag_labels(s: UnitScore, lang: str) -> list[str]:
    """A unit's flags as the ranking shows them: the scheme's labels, and how many indicators are pending."""
    names = {f.id: written(f.label, f.label_en, lang) for f in s.scheme.flags}
    out = [names.get(f, f) for f in s.flags]
    if s.pending:
        out.append(pending_flag(len(s.pending), lang))
    return out


def _attainment(tally: Tally, lang: str, charts: dict[str, str]) -> list[str]:
    totals, names = tally.attainment, tally.names
    if not totals:
        return []
    several = len({k[0] for k in totals}) > 1
    rows, bars = [], []
    for key, (earned, points) in totals.items():
        share = earned / points * 100
        name = f"{key[1]} {names[key]}" + (f" ({key[0]})" if several else "")
        rows.append([md(name), f"{figure(share, 1)}%"])
        bars.append((name, share))
    heading = in_lang("Average attainment per top-level indicator", lang)
    charts["attainment.svg"] = svg.bar_chart(heading, bars)
    head = [in_lang("Indicator", lang), in_lang("Average attainment", lang)]
    return [f"## {heading}", ""] + _table(head, rows, {1}) + [f"![{heading}](charts/attainment.svg)", ""]


def _most_lost(tally: Tally, lang: str, top: int = 10) -> list[str]:
    if not tally.lost:
        return []
    ranked = sorted(tally.lost.values(), key=lambda e: (-e[2], e[0]))[:top]
    rows = [[md(f"{ident} {name}"), two(points), str(count)] for ident, name, points, count in ranked]
    return ["## " + in_lang("Where most points were lost", lang), ""] + _table(
        [in_lang("Indicator", lang), in_lang("Points lost", lang), in_lang("Units losing points", lang)], rows, {1, 2})


def _below(scored: RoundScore, lang: str) -> list[str]:
    flagged = [s for s in scored.units if s.flags]
    if not any(s.scheme.flags for s in scored.units):
        return []
    lines = ["## " + in_lang("Units below a threshold", lang), ""]
    if not flagged:
        return lines + [in_lang("None", lang), ""]
    rows = [[md(_name(s, lang)), total_text(s), md(", ".join(flag_labels(s, lang)))]
            for s in sorted(flagged, key=lambda s: (s.total if s.total is not None else -1, s.unit.id))]
    return lines + _table([in_lang("Unit", lang), in_lang("Total", lang), in_lang("Flags", lang)], rows, {1})


# --- unit pages -----------------------------------------------------------------------

def unit_page(scored: RoundScore, s: UnitScore, lang: str, ext: str, previous: UnitScore | None = None,
              standing: Standing | None = None, tail: Tail | None = None) -> Page:
    """A unit's page: its head (`unit_head`: what ranking and the other units decide), its tail (`unit_tail`: the
    indicators and the problem list, the unit's own), and with `previous` which of last round's problems are fixed.
    `tail`: the tail made already from the unit's full score (gapctl.report.build.keep_tail, in the worker that
    scored it); `s` may then be the unit's summary, which holds everything the head shows."""
    html = ext == ".html"  # the page's HTML made with it, from the same cells (gapctl.report.html.made)
    lines, head = _head(scored, s, lang, ext, previous, standing, html)
    if tail is None:
        tail = unit_tail(s, lang, html)
    text = "\n".join(lines) + "\n" + tail.markdown
    parts: list[str | None] = [head, tail.html] if html else []
    if previous is not None:
        more = _fixed(previous, s, lang)
        text += "\n" + "\n".join(more)
        if html:
            parts.append(_html_of(more))
    page = Page(f"units/{s.unit.id}{ext}", text, {}, _name(s, lang))
    if html and None not in parts and "\r" not in page.markdown and "\x00" not in page.markdown:
        html_render.made(page.markdown, "".join(parts))  # type: ignore[arg-type]
    return page


def head_html(scored: RoundScore, s: UnitScore, lang: str, standing: Standing | None = None) -> tuple[str, str | None]:
    """An HTML page's title and the HTML of its head (`unit_head`) as `unit_page` makes it with the page
    (`html_render.made`), or None where it does not: the page is then rendered whole from its Markdown."""
    return _name(s, lang), _head(scored, s, lang, ".html", None, standing, True)[1]


def unit_head(scored: RoundScore, s: UnitScore, lang: str, ext: str, previous: UnitScore | None = None,
              standing: Standing | None = None) -> list[str]:
    """The lines of a unit's page before its indicators: title, banner, score card (totals, grade, ranks, flags,
    last round's total), vetoes, the members it is built from. Only what a summary holds
    (`gapctl.scoring.score.summarise`): none of its leaves, tree or observations."""
    return _head(scored, s, lang, ext, previous, standing, False)[0]


def _head(scored: RoundScore, s: UnitScore, lang: str, ext: str, previous: UnitScore | None,
          standing: Standing | None, html: bool) -> tuple[list[str], str | None]:
    """`unit_head`'s lines and, with `html`, the HTML `_html_of` makes of them (None where it makes none, or where a
    line holds a CR or NUL: `html_render.made` leaves such a page to markdown-it), made a block at a time: the
    banner's and the back link's once, the score card's table from its rows (each row's once, `_body_rows`)."""
    places = s.scheme.scoring.places
    title = f"# {md(_name(s, lang))}"
    notices = banner(scored, lang, standing)
    label = in_lang("Back to the overview", lang)
    back = f"[{label}](../index{ext}) · {md(scored.round.title)} · {md(s.scheme.title)}"
    card = [[in_lang("Base", lang), fixed(s.base, places)]]
    if s.scheme.bonus:
        card.append([in_lang("Bonus", lang), num(s.bonus)])
    if s.scheme.penalty:
        card.append([in_lang("Penalty", lang), num(s.penalty)])
    if s.externals:
        card.append([in_lang("External", lang), num(-s.external)])
    card.append(["**" + in_lang("Total", lang) + "**", f"**{total_text(s)}**"])
    if s.grade:
        card.append([in_lang("Grade", lang), md(written(s.grade, s.grade_en, lang))])
    if scored.ranks_shown(s.scheme):
        shown = f"{s.rank} / {_round_facts(scored)[0][id(s.scheme)]}"
        card.append([in_lang("Rank", lang), shown if s.scheme.publishes_ranking else
                     aside(shown, in_lang("not published", lang), lang)])
        if s.category:
            card.append([in_lang("Rank in category", lang), aside(str(s.category_rank),
                                                                  md(name_in(s.category, lang)), lang)])
    if s.performance_points is not None:
        card.append([in_lang("Performance points", lang), fixed(s.performance_points, 2)])
    if s.flags or s.pending:
        card.append([in_lang("Flags", lang), md(", ".join(flag_labels(s, lang)))])
    if previous is not None:
        shown = total_text(previous)
        if previous.grade:
            shown = aside(shown, md(written(previous.grade, previous.grade_en, lang)), lang)
        card.append([in_lang("Last round's total", lang), shown])
    heading = "## " + in_lang("Score card", lang)
    table = _table([in_lang("Item", lang), in_lang("Score", lang)], card, {1})
    rest: list[str] = []
    if s.vetoed:
        from gapctl.scheme.constructs.vetoes import effects_text
        rest += ["## " + in_lang("Vetoes", lang), ""]
        rest += ["- " + pair(md(name_in(v, lang)), md(effects_text(v, s.scheme, lang)), lang) for v in s.vetoed]
        rest.append("")
    rest += _members(scored, s, lang, ext)
    lines = [title, "", *notices, back, "", heading, "", *table, *rest]
    if not html or any(html_render.rewritten(line) for line in lines):
        return lines, None
    if any("\n" in line for line in lines):  # blocks other than the lines say: as the whole head renders
        return lines, _html_of(lines)
    parts = [html_render._blocks_html(title), _block_html(notices), _block_html([back]), _html_of([heading, ""]),
             html_render.table_block_html(table[0], table[1], table[2:-1]),
             _html_of(rest) if rest else ""]
    return lines, None if None in parts else "".join(parts)  # type: ignore[arg-type]


def _block_html(lines: list[str]) -> str | None:
    """`html_render._blocks_html` of these lines, kept (a banner, a back link: alike on every unit's page)."""
    key = tuple(lines)
    found = _BLOCKS.get(key, _UNMADE)
    if found is _UNMADE:
        found = kept(_BLOCKS, key, html_render._blocks_html("\n".join(lines)), 256)
    return found  # type: ignore[return-value]


_BLOCKS: dict[tuple[str, ...], str | None] = {}


@dataclass(frozen=True)
class Tail:
    """The end of a unit's page: its indicators table and problem list, as Markdown (lines joined, without the
    newline that joins them to the head) and, when asked for, the HTML `_blocks_html` makes of them (None when
    not asked for or when one of its blocks is left to markdown-it: then the whole page is rendered)."""

    markdown: str
    html: str | None

    def without_markdown(self, blank: int = 0) -> Tail | HtmlTail:
        """The tail as an HTML page needs it (`gapctl.report.build.TailKeeper`): its HTML alone (`HtmlTail`), when the
        page's HTML is made from it (`unit_page`: no CR, and no NUL but around the `blank` rows left blank); else as
        it is."""
        if self.html is None or "\r" in self.markdown or self.markdown.count("\x00") != 2 * blank:
            return self
        return HtmlTail(self.html.encode("utf-8"))


@dataclass(frozen=True)
class HtmlTail:
    """An HTML page's tail kept without its Markdown (`Tail.without_markdown`): its HTML as UTF-8, joined to the
    page's head and end as bytes (gapctl.report.build._page), never decoded; its blank rows as `\x00n\x00`."""

    html: bytes


def unit_tail(s: UnitScore, lang: str, html: bool, blank: list[str] | None = None) -> Tail:
    """A unit's indicators table and problem list: made from its leaves alone (their figures, states, results
    and evidence), nothing of the round's ranking or of other units. `blank`: leaves whose indicator rows are
    left as `\x00n\x00` (n: the place of the leaf's key in `blank`), to be made later (`indicator_row`).

    Made in the worker that scores the unit (gapctl.report.build.keep_tail), for every unit of a round: one walk
    of its leaves; what every unit's tail writes alike (headings, table heads) made once per language
    (`_TailWords`), an indicator row once per indicator and figures (`_indicator_row`), a problem row's cells but
    its evidence once per indicator, observation, points, reason and fix (`_problem_row`)."""
    words = _tail_words(lang)
    places = {key: n for n, key in enumerate(blank)} if blank else None
    rows_md: list[str] = []
    rows_html: list[str] = []
    lost: list[LeafScore] = []  # `_lost_leaves`: leaf.lost > 0, or pending
    memo = _rows(lang)
    for key, leaf in s.leaves.items():
        state = leaf.state
        if state == "not-applicable" or places is not None and key in places:
            if state == "pending" or leaf.lost > 0:
                lost.append(leaf)
            if state != "not-applicable":
                rows_md.append(f"\x00{places[key]}\x00")  # type: ignore[index]
                rows_html.append(f"\x00{places[key]}\x00")  # type: ignore[index]
            continue
        ind, points, earned = leaf.indicator, leaf.points, leaf.earned
        if points.__class__ is Decimal and earned.__class__ is Decimal:  # zero by its form: two(-0) is "-0"
            found = memo.get((id(ind), points or str(points), earned or str(earned)))
            if found is None or found[0] is not ind:
                found = _indicator_row_made(leaf, lang)
        else:
            found = _indicator_row_made(leaf, lang)
        rows_md.append(found[1])
        rows_html.append(found[2])
        if found[3] or state == "pending":
            lost.append(leaf)
    lines = [words.indicators, "", *words.head, *rows_md, ""]
    parts: list[str | None] = []
    if html:
        parts += [words.indicators_html, html_render.table_html(words.head_html, words.head_cells, rows_html)]
    lines += [words.problems, ""]
    if not lost:
        lines += words.none
        if html:
            parts += [words.problems_html, words.none_html]
    else:
        if len(lost) > 1:
            order = _scheme_order(s)
            lost.sort(key=lambda leaf: order.get(leaf.indicator.id, 0))
        problem_md, problem_html = [], []
        for leaf in lost:
            row_md, row_html = _problem_row(leaf, lang, words, html)
            problem_md.append(row_md)
            problem_html.append(row_html)
        lines += [*words.problem_head, *problem_md, ""]
        if html:
            parts += [words.problems_html, html_render.table_html(words.problem_head_html, words.problem_cells,
                                                                       problem_html)]
    return Tail("\n".join(lines), "".join(parts) if html and None not in parts else None)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _TailWords:
    """What every unit's tail in one language writes alike, as Markdown and as HTML (`_html_of`)."""

    indicators: str  # the indicator table's heading
    indicators_html: str | None
    head: list[str]  # its header and delimiter rows
    head_html: str | None  # their HTML (html_render._table_head)
    head_cells: int  # what a row counts for against markdown-it's MAX_AUTOCOMPLETED_CELLS
    problems: str  # the problem list's heading
    problems_html: str | None
    none: list[str]  # the problem list of a unit that lost no points
    none_html: str | None
    problem_head: list[str]
    problem_head_html: str | None
    problem_cells: int
    pending: str  # a pending leaf's points lost
    closing: str  # the HTML of a problem row from its last cell's opening tag, but for that cell's content
    trim: str  # what markdown-it strips around a cell (MD_TRIM_CHARS)


_WORDS: dict[str, _TailWords] = {}


def prepare_tail(lang: str) -> None:
    """What every unit's tail in `lang` first needs, made here (before the workers that make the tails fork, each of
    which would otherwise make it again, every ~500 units: markdown-it imported, ~25 ms, and the words)."""
    import markdown_it.rules_block.table  # noqa: F401  (`html_render.table_html`)

    _tail_words(lang)


def _tail_words(lang: str) -> _TailWords:
    found = _WORDS.get(lang)
    if found is None:
        from markdown_it.common.utils import MD_TRIM_CHARS

        indicators = "## " + in_lang("Indicators", lang)
        head = _indicator_head(lang)
        problems = "## " + in_lang("Problem list (where, why, what to fix)", lang)
        none = [in_lang("No points lost.", lang), ""]
        problem_head = _table([in_lang("Where", lang), in_lang("lost", lang), in_lang("Reason", lang),
                               in_lang("To fix", lang), in_lang("Evidence", lang)], [], {1})[:2]
        found = _WORDS[lang] = _TailWords(
            indicators, _html_of([indicators, ""]), head, html_render._table_head(head[0], head[1]),
            head[0].count("|") + 1, problems, _html_of([problems, ""]), none, _html_of(none), problem_head,
            html_render._table_head(problem_head[0], problem_head[1]), problem_head[0].count("|") + 1,
            in_lang("not yet assessed", lang), html_render._cell_openings(problem_head[1])[-1], MD_TRIM_CHARS)
    return found


_PROBLEM_ROWS: dict[tuple[str, ...], list[Any]] = {}  # → [Markdown cells but the evidence, their row's start, its HTML]


def _problem_row(leaf: LeafScore, lang: str, words: _TailWords, html: bool) -> tuple[str, str]:
    """A row of a unit's problem list (`problems`, `_problems`), as Markdown and, when `html`, as HTML (else "").
    Its first four cells (where, with the observation; points lost; reason; fix) are made once per distinct
    text; the evidence (a unit's own links) each time."""
    ind = leaf.indicator
    result = leaf.result
    if leaf.state != "pending":
        amount = two(leaf.lost)
        seen: str | None = _seen(leaf, lang)
    else:
        amount, seen = words.pending, None
    reason = result.reason or "" if result else ""
    fix = result.fix or "" if result else ""
    key = (ind.id, ind.name, lang, seen, amount, reason, fix)
    found = _PROBLEM_ROWS.get(key)
    if found is None:
        where = f"{ind.id} {ind.name}"
        if seen is not None:  # what the evaluator found, as the rule reads it
            where = aside(where, seen, lang)
        cells = [md(where), amount, md(reason), md(fix)]
        found = kept(_PROBLEM_ROWS, key, [cells, "| " + " | ".join(cells) + " | ", _UNMADE], 20_000)
    cells, start, start_html = found
    evidence, linked = _evidence_cell(leaf)
    row = start + evidence + " |"
    if not html:
        return row, ""
    delimiter = words.problem_head[1]
    if start_html is _UNMADE:  # the row's HTML up to its last cell's content, when its cells split as written
        whole = html_render.row_html(delimiter, [*cells, ""])
        end = words.closing + "</td>\n</tr>\n"
        start_html = found[2] = whole[:-len(end)] if "|" not in "".join(cells) and whole.endswith(end) else None
    if start_html is None or "|" in evidence:
        return row, html_render.row_html(delimiter, [*cells, evidence], None if linked is None else {4: linked})
    content = linked if linked is not None else html_render._inline_html(evidence.strip(words.trim))
    return row, start_html + words.closing + content + "</td>\n</tr>\n"


def _evidence_cell(leaf: LeafScore) -> tuple[str, str | None]:
    """`_evidence_both`, its HTML None rather than not known: one link (most evidence) without lists."""
    result = leaf.result
    if result is not None and len(result.evidence) == 1:
        ev = result.evidence[0]
        url = ev.url
        if url and (not ev.title or ev.title == url) and html_render.web_url(url):
            label = md_url(url)  # as `_evidence_both`
            return f"[{label}]({url})", f'<a href="{url}">{label.replace(chr(92), "")}</a>'
    evidence, known = _evidence_both(leaf)
    return evidence, known.get(4)


_SEEN: dict[tuple[Any, ...], tuple[Any, str]] = {}  # (id(rule), lang, what was observed) → the rule, its text


def _seen(leaf: LeafScore, lang: str) -> str:
    """`observation_text(leaf, lang, with_who=False)`, once per rule, language and observed value: the text is
    made from the result's state, items (their keys and whether each holds), count, fraction, grade and notices,
    and the rule's item names; a result with findings (read by the rule's clauses), a leaf that does not apply and
    items keyed other than by text (1 and True are one key) are put in words each time."""
    result = leaf.result
    if result is None or result.findings is not None or leaf.state == "not-applicable":
        return observation_text(leaf, lang, with_who=False)
    items: Any = result.items
    if items is not None:
        keys = tuple(items)
        if any(k.__class__ is not str for k in keys):
            return observation_text(leaf, lang, with_who=False)
        items = (keys, tuple(map(bool, items.values())))
    count, fraction, grade, notices = result.count, result.fraction, result.grade, result.notices
    key = (id(leaf.rule), lang, result.state, items,  # a figure by its type and how it is written
           count if count is None else (count.__class__, str(count)),
           fraction if fraction is None else (fraction.__class__, str(fraction)),
           grade if grade is None else (grade.__class__, str(grade)),
           notices if notices is None else (notices.__class__, str(notices)))
    found = _SEEN.get(key)
    if found is None or found[0] is not leaf.rule:
        found = kept(_SEEN, key, (leaf.rule, observation_text(leaf, lang, with_who=False)), 20_000)
    return found[1]


_UNMADE = object()


def _html_of(lines: list[str]) -> str | None:
    """The HTML of these whole blocks of a page (gapctl.report.html); a heading's once."""
    if len(lines) == 2 and not lines[1]:
        found = _HEADINGS.get(lines[0])
        if found is None:
            found = _HEADINGS[lines[0]] = html_render._blocks_html("\n".join(lines))
        return found
    return html_render._blocks_html("\n".join(lines))


_HEADINGS: dict[str, str | None] = {}  # a heading line → its HTML (a few per language)


_INDICATOR_HEAD: dict[str, list[str]] = {}


def _indicator_head(lang: str) -> list[str]:
    """The indicator table's header and delimiter rows, in `lang`."""
    found = _INDICATOR_HEAD.get(lang)
    if found is None:
        found = _INDICATOR_HEAD[lang] = _table([in_lang("Indicator", lang), in_lang("Points", lang),
                                                in_lang("Earned", lang), in_lang("Method", lang)], [], {1, 2})[:2]
    return found


_ROWS: dict[str, dict[tuple[int, Any, Any], tuple[Any, str, str, bool]]] = {}  # by language


def _rows(lang: str) -> dict[tuple[int, Any, Any], tuple[Any, str, str, bool]]:
    """The indicator rows made in `lang`: (id(indicator), points, earned) → the indicator, its row as Markdown and
    as HTML, and whether the leaf lost points (`LeafScore.lost > 0`: the indicator's section and the figures')."""
    found = _ROWS.get(lang)
    if found is None:
        found = _ROWS[lang] = {}
    return found


def indicator_row(leaf: LeafScore, lang: str) -> tuple[str, str]:
    """A row of a unit's indicator table, as Markdown and as HTML."""
    return _indicator_row(leaf, lang)


def _indicator_row(leaf: LeafScore, lang: str) -> tuple[str, str]:
    """A row of a unit's indicator table, as Markdown and as HTML: made once per indicator, language and
    figures (every unit of a round shares its scheme's indicators and most of their figures)."""
    points, earned = leaf.points, leaf.earned
    if points.__class__ is Decimal and earned.__class__ is Decimal:
        found = _rows(lang).get((id(leaf.indicator), points or str(points), earned or str(earned)))
        if found is not None and found[0] is leaf.indicator:
            return found[1], found[2]
    found = _indicator_row_made(leaf, lang)
    return found[1], found[2]


def _indicator_row_made(leaf: LeafScore, lang: str) -> tuple[Any, str, str, bool]:
    """`_indicator_row` made (and whether the leaf lost points), and kept when the figures are Decimals: by their
    values (`two` writes equal values alike; a leaf's `lost` is of its section and the values) but for a zero,
    by how it is written (`two` writes 0 and -0 apart)."""
    ind = leaf.indicator
    cells = [md(f"{ind.id} {name_in(ind, lang)}"), two(leaf.points) if ind.section == "main" else "",
             two(leaf.earned), md(enumerated(ind.methods, lang))]
    found = (ind, "| " + " | ".join(cells) + " |", html_render.row_html(_INDICATOR_DELIMITER, cells), leaf.lost > 0)
    points, earned = leaf.points, leaf.earned
    if points.__class__ is Decimal and earned.__class__ is Decimal:
        kept(_rows(lang), (id(ind), points or str(points), earned or str(earned)), found, 20_000)
    return found


_INDICATOR_DELIMITER = _table(["", "", "", ""], [], {1, 2})[1]  # the indicator table's, as `_indicator_head`


def _members(scored: RoundScore, s: UnitScore, lang: str, ext: str) -> list[str]:
    """The channels, subordinate units and periods the unit's score is built from, group by group."""
    from gapctl.scheme.constructs.groups import explain_text

    lines: list[str] = []
    units = _round_facts(scored)[1]
    for found in s.groups.values():
        group = found.group
        lines += [f"## {md(name_in(group, lang))}", "", md(explain_text(found, lang)), ""]
        rows = []
        for m in found.members:
            name = f"[{md(m.name)}]({m.id}{ext})" if group.of == "subordinates" and m.id in units else md(m.name)
            rows.append([name, md(m.kind), total_text_of(m), md(m.grade or ""),
                         in_lang("veto", lang) if m.vetoed else ""])
        head = [in_lang("Member", lang), in_lang("Type", lang), in_lang("Total", lang), in_lang("Grade", lang),
                in_lang("Flags", lang)]
        lines += _table(head, rows, {2}) + [""]
    if s.unit.id in {d.unit for d in scored.round.samples}:
        for sample in scored.round.samples:
            if sample.unit == s.unit.id:
                how = in_lang("seed {seed}", lang).format(seed=sample.seed) if sample.seed else (sample.minutes or "")
                lines += [in_lang("Sample: {drawn} ({count}/{of}, {how})", lang).format(
                    drawn=md(enumerated(sample.drawn, lang)), count=len(sample.drawn), of=sample.of or "?",
                    how=md(how)), ""]
    return lines


_FACTS: tuple[Any, tuple[Counter[int], set[str]]] | None = None


def _round_facts(scored: RoundScore) -> tuple[Counter[int], set[str]]:
    """Units per scheme (by id() of the scheme) and the round's unit ids, counted once per round
    rather than once per unit page (3,000 pages of a 3,000-unit round)."""
    global _FACTS
    if _FACTS is None or _FACTS[0] is not scored:
        _FACTS = (scored, (Counter(id(u.scheme) for u in scored.units), {u.unit.id for u in scored.units}))
    return _FACTS[1]


def total_text_of(m) -> str:
    from gapctl.scheme.formula import exact
    return exact(m.total) if m.total is not None else "—"


def _evidence(leaf: LeafScore) -> str:
    if leaf.result is None:
        return ""
    links = []
    for ev in leaf.result.evidence:
        if ev.url:
            links.append(link(ev.title or ev.url, ev.url, relative=False))  # evidence is on the web
        elif ev.file:
            links.append(md(ev.file) + (f" (sha256 {md(ev.sha256[:12])}…)" if ev.sha256 else ""))
    return "；".join(links)


@dataclass(frozen=True)
class Problem:
    """One row of a unit's problem list (问题清单), as plain text: 扣分点, 扣分, 扣分理由, 整改要求."""

    where: str
    lost: str
    reason: str
    fix: str
    leaf: LeafScore


def problems(s: UnitScore, lang: str) -> list[Problem]:
    """Every point the unit lost, in scheme order, with what the evaluator found beside where."""
    out = []
    for leaf in _lost_leaves(s):
        amount = two(leaf.lost) if leaf.state != "pending" else in_lang("not yet assessed", lang)
        result = leaf.result
        where = f"{leaf.indicator.id} {leaf.indicator.name}"
        if leaf.state != "pending":  # what the evaluator found, as the rule reads it
            where = aside(where, observation_text(leaf, lang, with_who=False), lang)
        out.append(Problem(where, amount, result.reason or "" if result else "", result.fix or "" if result else "",
                           leaf))
    return out


_ORDER: dict[int, tuple[Any, dict[str, int]]] = {}  # id(scheme) → it, its indicators' places (all_indicators)


def _lost_leaves(s: UnitScore) -> list[LeafScore]:
    """`s.lost_leaves()`, with the scheme's order of indicators made once per scheme rather than per page."""
    order = _scheme_order(s)
    lost = [leaf for leaf in s.leaves.values() if leaf.lost > 0 or leaf.state == "pending"]
    return sorted(lost, key=lambda leaf: order.get(leaf.indicator.id, 0))


def _scheme_order(s: UnitScore) -> dict[str, int]:
    """The places of the indicators of `s`'s scheme (all_indicators), made once per scheme."""
    found = _ORDER.get(id(s.scheme))
    if found is None or found[0] is not s.scheme:
        found = _ORDER[id(s.scheme)] = (s.scheme, {ind.id: n for n, ind in enumerate(s.scheme.all_indicators())})
    return found[1]


def _problems(s: UnitScore, lang: str) -> tuple[list[str], list[tuple[list[str], dict[int, str]]] | None]:
    """The problem list's lines, and its table's rows as cells with the HTML of those made with it (None when
    there is no table)."""
    found = problems(s, lang)
    if not found:
        return [in_lang("No points lost.", lang), ""], None
    rows, known = [], []
    for p in found:
        evidence, html = _evidence_both(p.leaf)
        rows.append([md(p.where), p.lost, md(p.reason), md(p.fix), evidence])
        known.append(html)
    return _table([in_lang("Where", lang), in_lang("lost", lang), in_lang("Reason", lang),
                   in_lang("To fix", lang), in_lang("Evidence", lang)], rows, {1}), list(zip(rows, known, strict=True))


def _evidence_both(leaf: LeafScore) -> tuple[str, dict[int, str]]:
    """`_evidence`, and its HTML (`html_render.row_html`'s `known`, column 4) when the evidence is web links
    labelled with their URLs (most evidence): made from the URLs rather than read back from the Markdown."""
    if leaf.result is None or not leaf.result.evidence:
        return _evidence(leaf), {}
    texts, links = [], []
    for ev in leaf.result.evidence:
        if not ev.url or (ev.title and ev.title != ev.url) or not html_render.web_url(ev.url):
            return _evidence(leaf), {}
        label = md_url(ev.url)  # as `link` writes it, and markdown-it reads it back: without the escapes
        texts.append(f"[{label}]({ev.url})")
        links.append(f'<a href="{ev.url}">{label.replace(chr(92), "")}</a>')
    return "；".join(texts), {4: "；".join(links)}


def _fixed(previous: UnitScore, current: UnitScore, lang: str) -> list[str]:
    old_problems = previous.lost_leaves()
    lines = ["## " + in_lang("Last round's problems", lang), ""]
    if not old_problems:
        return lines + [in_lang("None", lang), ""]
    rows = []
    for leaf in old_problems:
        now = current.leaves.get(leaf.indicator.id)
        fixed_now = now is not None and now.lost <= 0 and now.state != "pending"
        rows.append([md(f"{leaf.indicator.id} {leaf.indicator.name}"), two(leaf.lost),
                     md(leaf.result.reason if leaf.result else ""),
                     in_lang("fixed", lang) if fixed_now else in_lang("not fixed", lang)])
    return lines + _table([in_lang("Where", lang), in_lang("lost", lang), in_lang("Reason", lang),
                           in_lang("Status", lang)], rows, {1})


def pages(scored: RoundScore, lang: str, ext: str, previous: RoundScore | None = None,
          stamp: str | None = None, standing: Standing | None = None, issue: Issue | None = None,
          robustness: list | None = None) -> list[Page]:
    """Every page of the report, overview first, units in ranking order (in the unit set's order where
    ranks are not shown)."""
    before = previous.by_unit() if previous else {}
    out = [overview(scored, lang, ext, stamp, standing, issue, robustness)]
    for s in scored.in_rank_order():
        out.append(unit_page(scored, s, lang, ext, before.get(s.unit.id), standing))
    return out


# --- provenance (gapctl.review.provenance) ----------------------------------------------------

FILES_LISTED = 40  # more files than this: the count and the manifest's sha256, not every line


def provenance_block(provenance: Any, lang: str) -> list[str]:
    """The overview's last section: the commit, gapctl, the lock file, and every file used with its
    sha256 (up to FILES_LISTED; beyond, their number and the manifest's hash)."""
    from gapctl.review.provenance import HEADING, NOTE

    lines = ["## " + in_lang(HEADING, lang), ""]
    lines += ["- " + pair(md(name), code(value) if _hexlike(value) else md(value), lang)
              for name, value in provenance.lines(lang)]
    lines.append("")
    if len(provenance.files) <= FILES_LISTED:
        lines += [md(in_lang(NOTE, lang)), ""]
        lines += _table([in_lang("File", lang), "sha256"], [[code(path), code(digest)]
                                                          for path, digest in provenance.files])
    return lines


def provenance_footer(provenance: Any, lang: str) -> list[str]:
    """One line at the end of a unit's page: the commit and the manifest it was computed from."""
    commit = provenance.commit[:12] if provenance.commit else in_lang("none", lang)
    if provenance.dirty:
        commit = aside(commit, in_lang("uncommitted changes", lang), lang)
    text = in_lang("Computed by gapctl {version} from commit {commit}, files sha256 {digest}", lang).format(
        version=provenance.gapctl, commit=commit, digest=provenance.digest[:16])
    return [f"*{md(text)}*", ""]


def _hexlike(value: str) -> bool:
    head = value.split(" ", 1)[0]
    return len(head) >= 40 and all(c in "0123456789abcdef" for c in head)


# --- history across rounds (gapctl.report.trend) ----------------------------------------------

def chart_name(unit_id: str, n: int) -> str:
    """The file of a unit's history chart under charts/: its id when that is ASCII, else its place
    (`history--3.svg`: no id starts with `-`, so the two kinds never meet)."""
    import re
    return f"history-{unit_id}.svg" if re.fullmatch(r"[A-Za-z0-9_.-]+", unit_id) else f"history--{n}.svg"


def history_block(u: Any, history: Any, lang: str) -> tuple[list[str], dict[str, str]]:
    """A unit's totals, ranks and grades round by round (a table and a line chart), then the problems
    found again in its last two rounds, each with what the earlier round asked it to fix (整改要求)."""
    from gapctl.report import trend as T
    heading = in_lang("History", lang)
    rows = []
    for scored, s in zip(history.rounds, u.scores, strict=True):
        title = md(written(scored.round.title, scored.round.title_en, lang) or scored.round.id)
        if s is None:
            rows.append([title, "—", "—", ""])
            continue
        rank = T.rank_shown(s)
        rows.append([title, total_text(s), "—" if rank is None else str(rank), md(written(s.grade, s.grade_en, lang)
                                                                                   or "")])
    name = chart_name(u.unit.id, [x.unit.id for x in history.units].index(u.unit.id))
    lines = ["## " + heading, ""]
    lines += _table([in_lang("Round", lang), in_lang("Total", lang), in_lang("Rank", lang), in_lang("Grade", lang)],
                    rows, {1, 2})
    lines += [f"![{heading}](../charts/{name})", ""]
    lines += ["## " + in_lang("Recurring problems", lang), ""]
    if not u.recurring:
        return lines + [in_lang("None", lang), ""], {name: T.chart(u, history, lang)}
    rows = []
    for r in u.recurring:
        lost = in_lang(", ", lang).join(f"{md(history.rounds[n].round.id)} {two(r.chain.leaves[n].lost)}"
                                        for n in r.rounds)
        rows.append([md(f"{r.indicator.id} {name_in(r.indicator, lang)}"), lost, md(r.reason or ""),
                     md(r.fix or "—")])
    earlier = history.rounds[u.recurring[0].rounds[-2]].round.id
    lines += _table([in_lang("Where", lang), in_lang("Points lost in", lang), in_lang("Reason", lang),
                     in_lang("What {round} asked to fix", lang).format(round=md(earlier))], rows, set())
    return lines, {name: T.chart(u, history, lang)}
