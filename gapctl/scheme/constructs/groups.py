"""Groups (汇总): a unit's score built from other scores — its channels, subordinate units, periods.

A scheme declares `groups:`; each names what its members are (`of: channels | subordinates |
periods`), which ones (`types` of channel, `select` of subordinate units, `sample: true` for
only those drawn this round) and how their totals combine (`combine: mean | min | max | sum |
median | last | weighted`, `by_type` for the mean of each type's mean). The members are scored
first, each by its own scheme, and finished (grades, vetoes); the unit then reads the combined
figure in a component (`source: group:<id>`) or a formula (`group(id)`, `members(id)`,
`vetoed(id)`). Each member's total is put on the unit's scale before combining. A member whose
total a veto withheld does not count; a group with no member counting has no figure (the
component is pending). Explain shows the combination with every member named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gapctl.data.model import Group
from gapctl.figures import ZERO
from gapctl.i18n import N_, in_lang
from gapctl.scheme.constructs import Construct


@dataclass(slots=True)
class Member:
    """One member's figures as a group reads them."""

    id: str  # unit id, channel id (unit/channel) or period round id
    name: str
    kind: str  # its type: unit type, channel type, or "period"
    total: Decimal | None  # on the unit's scale
    vetoed: bool = False
    grade: str | None = None
    raw_total: Decimal | None = None  # as the member's own scheme gave it
    scale: Decimal = Decimal(100)
    pending: bool = False  # the member's own score is provisional


@dataclass(slots=True)
class GroupValue:
    """A group's members and what they combine to (None: no member counts)."""

    group: Group
    members: list[Member] = field(default_factory=list)
    value: Decimal | None = None

    @property
    def counted(self) -> list[Member]:
        return [m for m in self.members if m.total is not None]


def member(ident: str, name: str, kind: str, score: Any, scale: Decimal) -> Member:
    """A finished score (gapctl.scoring.score.UnitScore) as a member on a unit of scale `scale`."""
    own_scale = score.scheme.scoring.scale
    total = None if score.total is None else score.total * scale / own_scale if own_scale else score.total
    return Member(ident, name, kind, total, bool(score.vetoed), score.grade, score.total, own_scale,
                  bool(score.pending))


def combine(group: Group, members: list[Member]) -> GroupValue:
    """The members combined as the group says: `sum` adds their own totals, the other ways work
    on totals put on the unit's scale; a withheld member is left out, or counts 0 (`withheld: zero`)."""
    if group.withheld == "zero":
        members = [m if m.total is not None else Member(m.id, m.name, m.kind, ZERO, m.vetoed, m.grade, ZERO,
                                                        m.scale, m.pending) for m in members]
    found = GroupValue(group, members)
    values = [(m.raw_total if group.combine == "sum" else m.total) for m in members if m.total is not None]
    if not values:
        return found
    how = group.combine
    if group.by_type and how == "mean":
        kinds: dict[str, list[Decimal]] = {}
        for m in found.counted:
            kinds.setdefault(m.kind, []).append(m.total)  # type: ignore[arg-type]
        means = [sum(v, ZERO) / len(v) for v in kinds.values()]
        found.value = sum(means, ZERO) / len(means)
    elif how == "mean":
        found.value = sum(values, ZERO) / len(values)
    elif how == "min":
        found.value = min(values)
    elif how == "max":
        found.value = max(values)
    elif how == "sum":
        found.value = sum(values, ZERO)
    elif how == "median":
        ordered = sorted(values)
        middle = len(ordered) // 2
        found.value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    elif how == "last":
        found.value = values[-1]
    elif how == "weighted":
        pairs = [(group.weights.get(m.id, ZERO), m.total) for m in found.counted]
        whole = sum((w for w, _ in pairs), ZERO)
        found.value = sum((w * v for w, v in pairs), ZERO) / whole if whole else None
    return found


def group_values(round_: Any, score: Any, by_id: dict[str, Any], channels: dict[str, list[Any]],
                 periods: dict[str, list[Any]]) -> dict[str, GroupValue]:
    """Every group of a unit's scheme, its members found in the round and combined."""
    out: dict[str, GroupValue] = {}
    scale = score.scheme.scoring.scale
    unit = score.unit
    for group in score.scheme.groups:
        members: list[Member] = []
        if group.of == "channels":
            for channel in channels.get(unit.id, []):
                if not group.types or channel.unit.type in group.types:
                    members.append(member(channel.unit.id, channel.unit.name, channel.unit.type, channel, scale))
        elif group.of == "subordinates":
            drawn = drawn_for(round_, group, unit.id) if group.sample else None
            for other in by_id.values():
                if other.unit.parent != unit.id:
                    continue
                if group.select is not None and not group.select.matches(other.unit):
                    continue
                if drawn is not None and other.unit.id not in drawn:
                    continue
                members.append(member(other.unit.id, other.unit.name, other.unit.type, other, scale))
        elif group.of == "periods":
            for period_score in periods.get(unit.id, []):
                members.append(member(period_score.period, period_score.period_title or period_score.period,
                                      "period", period_score, scale))
        out[group.id] = combine(group, members)
    return out


def drawn_for(round_: Any, group: Group, unit_id: str) -> set[str] | None:
    """The members drawn for `unit_id` in `group` this round: its own draw, else one for every unit
    (None: no draw recorded)."""
    own = [s for s in round_.samples if s.group == group.id and s.unit == unit_id]
    shared = [s for s in round_.samples if s.group == group.id and s.unit is None]
    found = own or shared
    return set(found[0].drawn) if found else None


_WORDS = {"mean": N_("mean"), "min": N_("lowest"), "max": N_("highest"), "sum": N_("sum"), "median": N_("median"),
          "last": N_("last"), "weighted": N_("weighted mean")}


def explain_text(found: GroupValue, lang: str) -> str:
    """`账号平均 = (88 + 92 + 79) ÷ 3 = 86.333… ← 微信“某某发布” 88、微博 92、网站 79`."""
    from gapctl.scheme.formula import exact
    from gapctl.scheme.rules import joined

    group = found.group
    name = group.name if lang == "zh" or not group.name_en else group.name_en
    counted = found.counted
    how = in_lang(_WORDS[group.combine], lang) if group.combine in _WORDS else group.combine
    if group.by_type and group.combine == "mean":
        how = in_lang("mean of each type's mean", lang)
    if not counted:
        return in_lang("{name} {how}: no member counts", lang).format(name=name, how=how)
    figures = [exact(m.total) for m in counted]  # type: ignore[arg-type]
    if group.combine == "mean" and group.by_type:
        kinds: dict[str, list[str]] = {}
        for m in counted:
            kinds.setdefault(m.kind, []).append(exact(m.total))  # type: ignore[arg-type]
        means = [f"{kind} ({' + '.join(v)}) ÷ {len(v)}" for kind, v in kinds.items()]
        arithmetic = f"({' + '.join(means)}) ÷ {len(kinds)}"
    elif group.combine == "mean":
        arithmetic = f"({' + '.join(figures)}) ÷ {len(figures)}"
    elif group.combine == "sum":
        arithmetic = " + ".join(figures)
    elif group.combine == "weighted":
        arithmetic = " + ".join(f"{exact(group.weights.get(m.id, ZERO))} × {exact(m.total)}" for m in counted)
        arithmetic = f"({arithmetic}) ÷ {exact(sum((group.weights.get(m.id, ZERO) for m in counted), ZERO))}"
    else:
        arithmetic = f"{how}({', '.join(figures)})"
    shown = joined([f"{m.name} {exact(m.total) if m.total is not None else '—'}" for m in found.members], lang, "、")
    value = exact(found.value) if found.value is not None else "—"
    left_out = [m.name for m in found.members if m.total is None]
    note = ""
    if left_out:
        note = in_lang(" ({units} vetoed, not counted)", lang).format(units=joined(left_out, lang, "、"))
    head = in_lang("{name} ({how})", lang).format(name=name, how=how)
    return f"{head} = {arithmetic} = {value} ← {shown}{note}"

CONSTRUCT = Construct(
    name="groups",
    keys="`groups: [{id, name, of: channels | subordinates | periods, scheme, types, select, combine, weights, "
         "by_type, sample}]`; a component `source: group:<id>`; `group(id)`, `members(id)`, `vetoed(id)` in formulas",
    summary=("汇总: a unit's score built from other scores — the channels it runs (portal, WeChat accounts), its "
             "subordinate units (departments, towns; pooled or the mean of each type's mean), a sample drawn this "
             "round, or its own scores in the round's periods (quarters into a year) — each member scored first by "
             "its own scheme, then combined (mean, min, sum, median, last, weighted)."),
    explain="the combination with every member named and its figure; `--depth N` expands the members",
    example="groups/channels-mean",
)
