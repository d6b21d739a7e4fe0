"""The words output shares: column and field names as catalogue messages, a language's punctuation,
and which variant of a text written in the data to show.

Contract. Output code that takes a `lang` (score, explain, diff, report) writes its words in
English through `gapctl.i18n.in_lang`; Chinese comes from the catalogue. The names several outputs
share (总得分, 扣分理由, 整改要求 …) are declared once here, as English msgids in `LABELS` (marked
with `N_` so `./dev i18n` finds them), so that `score`, `explain`, `diff` and `report` call a
column the same. `label(key, lang)` looks one up. Punctuation that joins pieces differs by
language (：；、（）against : ; , ( )): `pair`, `aside`, `listed` and `enumerated` take it from the
catalogue too, so a line never mixes the two. Texts written in the data in both languages (a
unit's `name` and `name_en`) are not translated: `written` and `name_in` pick the variant.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gapctl.i18n import N_, in_lang

LABELS: dict[str, str] = {
    "rank": N_("Rank"),
    "category_rank": N_("Rank in category"),
    "unit": N_("Unit"),
    "category": N_("Category"),
    "applicable": N_("Applicable"),
    "earned": N_("Earned"),
    "base": N_("Base"),
    "bonus": N_("Bonus"),
    "penalty": N_("Penalty"),
    "external": N_("External"),
    "total": N_("Total"),
    "grade": N_("Grade"),
    "flags": N_("Flags"),
    "scheme": N_("Scheme"),
    "points": N_("Points"),
    "rule": N_("Rule"),
    "observation": N_("Observation"),
    "evidence": N_("Evidence"),
    "reason": N_("Reason"),
    "fix": N_("To fix"),
    "lost": N_("lost"),
    "problem_list": N_("Problem list (where, why, what to fix)"),
    "no_problems": N_("No points lost."),
    "computation": N_("How the score was combined"),
    "example": N_("Illustrative data, not a real assessment"),
    "pending": N_("not yet assessed"),
    "pending_note": N_("some indicators are not yet assessed; the score is provisional"),
    "performance": N_("Performance points"),
    "passdown": N_("Passed-down deduction"),
    "components": N_("Components"),
    "not_applicable": N_("not applicable"),
    "done": N_("done"),
    "not-done": N_("not done"),
    "n/a": N_("n/a (observed)"),
    "no-evidence": N_("no evidence found, counted as not done"),
    "capped": N_("capped"),
    "units": N_("units"),
    "observer": N_("observed by"),
    "moved": N_("takes the points of"),
}


def label(key: str, lang: str, own: dict[str, str] | None = None) -> str:
    """The word for `key` in `lang`: from the catalogue for the keys of `LABELS`.

    `own` is a module's own table of English msgids (marked with `N_`), looked up first: the words
    of one output only (agreement, followup, selfcheck), falling back to the shared ones.
    """
    if own and key in own:
        return in_lang(own[key], lang)
    text = LABELS.get(key)
    return in_lang(text, lang) if text is not None else key


def heading(title: str, example: bool, lang: str) -> list[str]:
    """The first lines of a text output: its title, the notice that the data is illustrative when it
    is (`example = true` in a round), and a blank line."""
    return [title, label("example", lang), ""] if example else [title, ""]


def pair(name: str, value: str, lang: str) -> str:
    """`扣分理由：未公开` / `Reason: not published`."""
    return in_lang("{label}: {value}", lang).format(label=name, value=value)


def aside(text: str, note: str, lang: str) -> str:
    """`排名 2（乡镇）` / `Rank 2 (towns)`: a note in brackets after a text."""
    return in_lang("{text} ({note})", lang).format(text=text, note=note)


def listed(parts: Iterable[str], lang: str) -> str:
    """Clauses one after another: `开展1次；完成50%` / `count 1; 50% done`."""
    return in_lang("; ", lang).join(parts)


def enumerated(parts: Iterable[str], lang: str) -> str:
    """Items of one kind: `网络测评、电话测评` / `web check, phone check`."""
    return in_lang(", ", lang).join(parts)


def written(zh: str | None, en: str | None, lang: str) -> str | None:
    """A text the data gives in both languages: the English variant when asked for and given, else the Chinese."""
    return zh if lang == "zh" or not en else en


def name_in(obj: Any, lang: str) -> str:
    """`obj.name`, or `obj.name_en` in English when it has one (units, indicators, categories)."""
    return written(obj.name, obj.name_en, lang)


def schemes_language(languages: Iterable[str]) -> str:
    """The language of labels when no option names one: English when every scheme (of these `language`
    fields) is written in English, else Chinese (also for none)."""
    return "en" if set(languages) == {"en"} else "zh"
