"""What makes a report a document an office can issue: who issues it, when, under which number, and
whether its results are final.

Contract. `Issue` is the issuing office (发文机关), the date (成文日期) and the document number
(发文字号), as the user gives them to `gapctl report --office --date --number`: they belong to
the act of issuing, not to the round (the preliminary and the final 通报 of one round carry
different numbers and dates), so they are options, not round.toml keys. `standing()` says whether
the results are provisional (初步结果): validate warnings, indicators not yet assessed, or
appeals not yet decided; every page of a provisional document says so (a banner, a watermark in
print). The Word document (`word.py`), the HTML report's masthead and print layout (`html.py`) and
the PDF (`pdf.py`, the HTML printed) all take their words from here, so they agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gapctl.i18n import N_, in_lang
from gapctl.scoring.score import RoundScore


@dataclass(frozen=True)
class Issue:
    """The issuing office, date and document number; each may be missing."""

    office: str | None = None
    date: dt.date | None = None
    number: str | None = None

    def __bool__(self) -> bool:
        return bool(self.office or self.date or self.number)


@dataclass(frozen=True)
class Standing:
    """Why the results may still change: validate warnings, indicators not yet assessed, appeals
    not yet decided. None of them: the results are final."""

    warnings: int = 0
    pending: int = 0
    appeals: int = 0

    @property
    def provisional(self) -> bool:
        return bool(self.warnings or self.pending or self.appeals)

    def reasons(self, lang: str) -> list[str]:
        out = []
        if self.pending:
            out.append(in_lang("{count} indicator(s) not yet assessed", lang).format(count=self.pending))
        if self.appeals:
            out.append(in_lang("{count} appeal(s) not yet decided", lang).format(count=self.appeals))
        if self.warnings:
            out.append(in_lang("{count} validation warning(s)", lang).format(count=self.warnings))
        return out

    def banner(self, lang: str) -> str:
        """`初步结果，尚未最终确定：2项指标未评估、1项复核申请未决定。` ("" when final)."""
        if not self.provisional:
            return ""
        return in_lang("Provisional results, not final: {reasons}.", lang).format(
            reasons=in_lang(", ", lang).join(self.reasons(lang)))


def standing(scored: RoundScore, warnings: int = 0) -> Standing:
    """The round's standing: `warnings` from validate (the caller ran it), the rest from the scores."""
    pending = sum(len(s.pending) for s in scored.units)
    appeals = sum(1 for filed in scored.round.appeals.values() for appeal in filed if appeal.outcome is None)
    return Standing(warnings, pending, appeals)


def mark(lang: str) -> str:
    """The watermark of a provisional document: 初步结果."""
    return in_lang("PROVISIONAL", lang)


def example_banner(lang: str) -> str:
    return in_lang("Illustrative data, not a real assessment", lang)


MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
          N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))


def issued_on(date: dt.date, lang: str) -> str:
    """The date as a document writes it: `2025年1月20日` (no leading zeros, as GB/T 9704 asks), `20 January 2025`."""
    return in_lang("{day} {month} {year}", lang).format(day=date.day, month=in_lang(MONTHS[date.month - 1], lang),
                                                         year=date.year)


def page_of(lang: str) -> tuple[str, str, str]:
    """The page number line split around its two numbers: (`第 `, ` 页，共 `, ` 页`), so a Word field
    or a CSS counter can stand for each."""
    template = in_lang("Page {page} of {pages}", lang)
    before, _, rest = template.partition("{page}")
    middle, _, after = rest.partition("{pages}")
    return before, middle, after


def header_text(scored: RoundScore, issue: Issue, lang: str) -> str:
    """What the top of every printed page names: the office, else the round."""
    from gapctl.labels import written

    return issue.office or written(scored.round.title, scored.round.title_en, lang) or scored.round.id


def notices(scored: RoundScore, standing_: Standing, lang: str, short: bool = False) -> list[str]:
    """The lines every page carries: the example banner, the provisional banner (`short`: without
    its reasons, for a page header)."""
    out = []
    if scored.round.example:
        out.append(example_banner(lang))
    if standing_.provisional:
        out.append(in_lang("Provisional results, not final", lang) if short else standing_.banner(lang))
    return out
