"""Vetoes (单项否决 / 一票否决) and pass lines (合格线): findings that decide a unit whatever its points.

A veto's condition is a formula (`fact(严重泄密)`, `count(泄露隐私) >= 1`, `score(3) < 10`). When
it holds, its effects apply, as the scheme says: `grade` forces a grade (the worst of all
vetoes that hold); `total` sets the total; `zero` makes parts earn nothing; `cancel` drops the
bonus or penalty section; `stop` withholds the total altogether, so a vetoed unit is never
silently given a meaningless number. A pass line on a part (`pass_line: {rate: 0.7}`: below 70%
of the part's points) is shorthand for a veto whose effect is a grade (default: the lowest band).

Order: vetoes that zero parts of the tree are decided as soon as the tree is known (their
conditions may read observations and indicator scores), and the tree is summed again without
those parts; vetoes that zero components (a part built from channels or subordinates, "任一账号
不合格的，新媒体部分不合格") are decided once the groups are known, before the base; all other
vetoes are decided on the figures before any veto applies. Explain and
reports list vetoes first.
"""

from __future__ import annotations

from decimal import Decimal

from gapctl.data.model import Scheme, Veto
from gapctl.i18n import N_, in_lang
from gapctl.scheme.constructs import Construct, Decision
from gapctl.scheme.constructs.gates import holds


def early(veto: Veto, scheme: Scheme) -> bool:
    """Decided while the tree is summed (it zeroes parts of the tree), not after the total."""
    components = {c.id for c in scheme.components}
    return any(part not in components for part in veto.zero)


def on_components(veto: Veto, scheme: Scheme) -> bool:
    """Decided once the unit's groups are known, before the base (it zeroes components)."""
    components = {c.id for c in scheme.components}
    return bool(veto.zero) and all(part in components for part in veto.zero)


def decide(vetoes: list[Veto], env) -> list[Decision]:
    names = env.snapshot()
    return [Decision("veto", veto.id, veto.when, holds(veto.when, env), names) for veto in vetoes]


def forced_grade(scheme: Scheme, vetoes: list[Veto], earned: str | None = None) -> str | None:
    """The worst grade any of `vetoes` forces (a pass line without one: the lowest band); a veto
    only lowers a grade, so a unit whose figures give a worse band (`earned`) keeps that."""
    labels = [g.label for g in scheme.grades]
    wanted = [v.grade or (labels[-1] if v.part and labels else None) for v in vetoes]
    wanted = [w for w in wanted if w] + ([earned] if earned and wanted else [])
    if not wanted:
        return None
    return max(wanted, key=lambda w: labels.index(w) if w in labels else len(labels))


def fixed_total(vetoes: list[Veto]) -> Decimal | None:
    totals = [v.total for v in vetoes if v.total is not None]
    return min(totals) if totals else None


_CANCELLED = {"bonus": N_("no bonus"), "penalty": N_("no penalty")}  # what `cancel: [section]` did, in words


def effects_text(veto: Veto, scheme: Scheme, lang: str) -> str:
    """What a veto that held did, in words."""
    from gapctl.scheme.formula import exact
    from gapctl.scheme.rules import joined

    out = []
    grade = veto.grade or (scheme.grades[-1].label if veto.part and scheme.grades else None)
    if grade:
        out.append(in_lang("grade set to {grade}", lang).format(grade=grade))
    if veto.total is not None:
        out.append(in_lang("total set to {total}", lang).format(total=exact(veto.total)))
    if veto.zero:
        out.append(in_lang("{parts} earn 0", lang).format(parts=joined(veto.zero, lang, "、")))
    for section in veto.cancel:
        out.append(in_lang(_CANCELLED.get(section, section), lang))
    if veto.stop:
        out.append(in_lang("no total is given", lang))
    return joined(out, lang)


CONSTRUCT = Construct(
    name="vetoes",
    keys="`vetoes: [{id, name, when, grade, total, zero, cancel, stop}]`",
    summary=("单项否决 / 一票否决: a condition (a finding, a count of a named problem, a part's score) that forces "
             "a grade whatever the points, and, as the scheme says, sets the total, zeroes parts, cancels the "
             "bonus or withholds the total."),
    explain="listed first: the veto, its condition with the figures, and what it did",
    example="vetoes/grade-and-total",
)

PASS_LINE = Construct(
    name="pass lines",
    keys="an indicator's `pass_line: {rate: 0.7}` or `{points: 21}`, optional `grade`",
    summary=("合格线: a part below its own pass line (a share of its points, or points) makes the unit 不合格 (or the "
             "grade named) whatever the total; exactly at the line passes."),
    explain="with the vetoes: the part's figure against its line",
    example="pass-lines/rate",
)
