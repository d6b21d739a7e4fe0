"""Follow-up of a round's problem list (整改跟踪): did the next round find each problem fixed?

Every leaf where a unit lost points in the old round is looked up in the new round, by id or
through the new scheme's `replaces:`. It is `fixed` when no points are lost there now,
`still-failing` when some are (a recurring problem: the text output lists each with what the
old round asked to fix, its 整改要求, beside what the new round found), `no-longer-assessed`
when the indicator or the unit is gone or does not apply any more, and `pending` when the new
round has not assessed it yet.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gapctl.data.model import Indicator, Unit
from gapctl.escape import plain, plain_line
from gapctl.figures import ZERO
from gapctl.i18n import N_
from gapctl.labels import heading, label, name_in, pair
from gapctl.review.diff import match_indicators
from gapctl.scheme.rules import num
from gapctl.scoring.score import RoundScore, UnitScore, points_lost
from gapctl.scoring.scoreboard import two
from gapctl.textwidth import SpooledTable, table

STATUSES = ("fixed", "still-failing", "no-longer-assessed", "pending")
NOT_ASSESSED_STATES = ("not-applicable", "n/a")

_LABELS: dict[str, str] = {  # English; the Chinese is in the catalogue
    "title": N_("Follow-up of the problem list"),
    "indicator": N_("Indicator"),
    "name": N_("Name"),
    "new_indicator": N_("Now"),
    "old_lost": N_("Lost then"),
    "new_lost": N_("Lost now"),
    "status": N_("Status"),
    "count": N_("Count"),
    "fixed": N_("fixed"),
    "still-failing": N_("still failing"),
    "no-longer-assessed": N_("no longer assessed"),
    # not "not yet assessed" (gapctl.labels: 未评估) nor "Total" (总得分): one English text has one Chinese
    "pending": N_("not assessed yet"),
    "none": N_("No points were lost in the earlier round."),
    "recurring": N_("Still failing: what the earlier round asked to fix"),
    "new_reason": N_("Found now"),
    "fix": N_("Asked to fix then"),
    "total": N_("All"),
}


def _t(key: str, lang: str) -> str:
    """A word of this output in `lang`: this module's own, else the shared one (gapctl.labels)."""
    return label(key, lang, _LABELS)


@dataclass(slots=True)  # one a problem: at 30,000 units of the generated round, 840,000 of them
class FollowUpItem:
    """One problem of the old round's list and what the new round found."""

    unit: Unit
    indicator: Indicator          # the old round's indicator
    status: str                   # one of STATUSES
    old_points: Decimal
    old_lost: Decimal
    new_lost: Decimal | None      # None unless fixed or still failing
    successors: list[Indicator] = field(default_factory=list)  # the new round's indicator(s)
    reason: str | None = None     # the old 扣分理由
    fix: str | None = None        # the old 整改要求
    why: str | None = None        # for no-longer-assessed: unit gone / indicator gone / not applicable
    new_reason: str | None = None  # for still-failing: the new round's 扣分理由


@dataclass
class FollowUp:
    old: RoundScore
    new: RoundScore
    problems: list[FollowUpItem] | JudgedProblems  # by unit id, then the old scheme's order

    def counts(self) -> dict[str, int]:
        found = self.problems.found if isinstance(self.problems, JudgedProblems) else \
            Counter(p.status for p in self.problems)
        return {status: found.get(status, 0) for status in STATUSES}


class JudgedProblems:
    """A follow-up's problems judged one unit at a time and kept packed in a temporary file (gapctl.data.spool),
    with how many have each status: iterated as FollowUpItems, a unit's at a time, as often as the output needs
    (the counts come first, then a table's widths, its rows, the recurring ones). At 30,000 units of the generated
    round against itself its 840,000 problems held whole, and then their printed lines, took ~700 MB."""

    def __init__(self) -> None:
        from gapctl.data.spool import Spool

        self.spool = Spool()
        self.units: list[tuple[Unit, dict[str, Indicator], dict[str, Indicator]]] = []
        self.found: Counter[str] = Counter()
        self.total = 0

    def add(self, unit: Unit, old: dict[str, Indicator], new: dict[str, Indicator] | None,
            problems: list[FollowUpItem]) -> None:
        """A unit's problems (`old` and `new`: its indicators by id in each round's scheme)."""
        from gapctl import codec

        if not problems:
            return
        self.spool[len(self.units)] = codec.dumps([
            [p.indicator.id, p.status, str(p.old_points), str(p.old_lost),
             None if p.new_lost is None else str(p.new_lost), [i.id for i in p.successors], p.reason, p.fix, p.why,
             p.new_reason] for p in problems])
        self.units.append((unit, old, new or {}))
        self.found.update(p.status for p in problems)
        self.total += len(problems)

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[FollowUpItem]:
        from gapctl import codec

        for n, (unit, old, new) in enumerate(self.units):
            for ind, status, points, lost, new_lost, successors, reason, fix, why, new_reason in \
                    codec.loads(self.spool.get(n)):
                yield FollowUpItem(unit, old[ind], status, Decimal(points), Decimal(lost),
                                   None if new_lost is None else Decimal(new_lost), [new[i] for i in successors],
                                   reason, fix, why, new_reason)

    def close(self) -> None:
        self.spool.close()


@dataclass(frozen=True, slots=True)
class LeafFact:
    """What follow-up reads of one leaf of a unit: its state, points and earned points, and its entry's 扣分理由
    and 整改要求."""

    indicator: Indicator
    state: str
    points: Decimal
    earned: Decimal
    reason: str | None = None
    fix: str | None = None

    @property
    def lost(self) -> Decimal:
        return points_lost(self.indicator.section, self.points, self.earned)


def leaf_facts(score: UnitScore) -> dict[str, LeafFact]:
    """A unit's leaves as follow-up reads them, from its full score."""
    return {lid: LeafFact(leaf.indicator, leaf.state, leaf.points, leaf.earned,
                          leaf.result.reason if leaf.result else None, leaf.result.fix if leaf.result else None)
            for lid, leaf in score.leaves.items()}


@dataclasses.dataclass(frozen=True)
class FactKeeper:
    """One unit's `leaf_facts` made by the worker that scores its file (gapctl.scoring.one_pass), before ranking, as
    gapctl.codec bytes; `cache_form`: kept in the cache beside the file's outcome. `finished_rows` finishes them with
    what ranking decided (the summary's leaves). Before, each unit's files were read and scored a second time in
    both rounds, the cache warm or not."""

    def __call__(self, plan: Any, full: Any, obs: Any) -> bytes:
        from gapctl import codec

        return codec.dumps(_rows_of(leaf_facts(full)))

    def cache_form(self, plan: Any) -> tuple[str, FactKeeper]:
        return "followup1", self


def _rows_of(facts: dict[str, LeafFact]) -> list[list[Any]]:
    """Leaf facts as `FactKeeper` keeps them: [id, state, points, earned, 扣分理由, 整改要求], figures as text."""
    return [[lid, f.state, str(f.points), str(f.earned), f.reason, f.fix] for lid, f in facts.items()]


def finished_rows(blob: bytes, summary: UnitScore) -> list[list[Any]]:
    """A unit's leaf facts as `FactKeeper` made them (compressed when they went through the cache), finished as
    gapctl.scoring.details.graft finishes a unit: a leaf ranking decided (the summary keeps it) takes the summary's
    state and earned points."""
    from gapctl import codec
    from gapctl.scoring.one_pass import kept_bytes

    rows = codec.loads(kept_bytes(blob))
    for row in rows:
        ranked = summary.leaves.get(row[0])
        if ranked is not None:
            row[1], row[3] = ranked.state, str(ranked.earned)
    return rows


class Side:
    """One round of a follow-up once it is checked, cut down to what follow-up reads of it: the round (a RoundScore
    without its units), each unit with its scheme, and each unit's leaf facts (`finished_rows`) in a temporary file.
    Made before the next round is checked (`settle`), so the two rounds' summaries and sources are never held at
    once: at 30,000 units a round's are ~150 MB of the parent, which the next round's workers would fork from."""

    def __init__(self, scored: RoundScore) -> None:
        from gapctl.data.spool import Spool

        self.scored = dataclasses.replace(scored, units=[], channels={}, periods={}, problems=[])
        self.units: dict[str, tuple[Unit, Any]] = {}  # unit id → (the unit, its scheme), in the round's order
        self.facts = Spool()

    def add(self, summary: UnitScore, rows: list[list[Any]]) -> None:
        from gapctl import codec

        self.units[summary.unit.id] = (summary.unit, summary.scheme)
        self.facts[summary.unit.id] = codec.dumps(rows)

    @staticmethod
    def indicators(scheme: Any) -> dict[str, Indicator]:
        """The scheme's indicators by id, the first of each: `scheme.index`, as validation made it."""
        if scheme.index:
            return scheme.index  # type: ignore[no-any-return]
        found: dict[str, Indicator] = {}
        for ind in scheme.all_indicators():
            found.setdefault(ind.id, ind)
        return found

    def leaf_facts(self, unit_id: str, shared: dict[str, Decimal]) -> dict[str, LeafFact]:
        """The unit's leaf facts (`shared`: a figure's text → its Decimal, made once)."""
        from gapctl import codec

        indicators = self.indicators(self.units[unit_id][1])
        return {lid: LeafFact(indicators[lid], state, shared.get(points) or shared.setdefault(points, Decimal(points)),
                              shared.get(earned) or shared.setdefault(earned, Decimal(earned)), reason, fix)
                for lid, state, points, earned, reason, fix in codec.loads(self.facts.get(unit_id))}

    def close(self) -> None:
        self.facts.close()


def settle(scored: RoundScore, source: Any, kept: Mapping[Any, bytes]) -> Side:
    """The `Side` of a round checked file by file (`source`: its gapctl.scoring.details source; `kept`: each unit
    file's `FactKeeper` bytes, made as it was checked). A unit whose facts were not kept (a unit with channel
    files or built from groups, or any unit in a cluster's run) is read from its files again, by workers."""
    from gapctl.scoring import details

    side = Side(scored)
    missing = []
    for summary in scored.units:
        uid = summary.unit.id
        blob = kept.get(source.files.get(uid)) if not source.channel_files.get(uid) and not summary.scheme.groups \
            else None
        if blob is None:
            missing.append(summary)
            side.units[uid] = (summary.unit, summary.scheme)  # its place in the round's order, its facts below
        else:
            side.add(summary, finished_rows(blob, summary))
    if missing:
        read = details.each([source], details.units_of(source, order=missing), _read_rows)
        for summary, rows in zip(missing, read, strict=True):
            side.add(summary, rows)
    return side


def _read_rows(found: list[Any]) -> list[list[Any]]:
    """In a worker: a unit's leaf facts from its full score (`details.each`)."""
    return _rows_of(leaf_facts(found[0]))


def _successors(new_scheme: Any, new: dict[str, LeafFact], old_scheme: Any) -> dict[str, list[LeafFact]]:
    """Old leaf id → the new round's leaves for it, in the new scheme's order."""
    out: dict[str, list[LeafFact]] = {}
    for new_id, old_id in match_indicators(new_scheme, old_scheme).items():
        leaf = new.get(new_id)
        if leaf is not None:
            out.setdefault(old_id, []).append(leaf)
    return out


def _judge(problem: FollowUpItem, leaves: list[LeafFact]) -> None:
    problem.successors = [leaf.indicator for leaf in leaves]
    assessed = [leaf for leaf in leaves if leaf.state not in NOT_ASSESSED_STATES]
    if not leaves:
        problem.status, problem.why = "no-longer-assessed", "indicator"
    elif not assessed:
        problem.status, problem.why = "no-longer-assessed", "not-applicable"
    elif any(leaf.state == "pending" for leaf in assessed):
        problem.status = "pending"
    else:
        problem.new_lost = sum((max(leaf.lost, ZERO) for leaf in assessed), ZERO)
        problem.status = "fixed" if problem.new_lost == 0 else "still-failing"
        reasons = [leaf.reason for leaf in assessed if leaf.lost > 0 and leaf.reason]
        problem.new_reason = "; ".join(dict.fromkeys(reasons)) or None


def followup(old: RoundScore, new: RoundScore, old_source: Any = None, new_source: Any = None,
             old_kept: Mapping[Any, bytes] | None = None, new_kept: Mapping[Any, bytes] | None = None) -> FollowUp:
    """Each problem of the old round (pending leaves left out) against the new round. With the two
    rounds' gapctl.scoring.details sources (their units are summaries), each unit's leaves are those `old_kept`
    and `new_kept` hold for its files (`FactKeeper`, made as each round was checked), else read from its files
    (`settle`)."""
    if old_source is not None and new_source is not None:
        return followup_sides(settle(old, old_source, old_kept or {}), settle(new, new_source, new_kept or {}))
    new_units = new.by_unit()
    problems: list[FollowUpItem] = []
    for before in sorted(old.units, key=lambda s: s.unit.id):
        problems += unit_problems(before, new_units.get(before.unit.id))
    return FollowUp(old, new, problems)


def followup_sides(old: Side, new: Side) -> FollowUp:
    """`followup` of two settled rounds: the old round's units by id, each one's problems judged from the two
    rounds' leaf facts and packed (JudgedProblems) before the next unit's are read."""
    judged = JudgedProblems()
    shared: dict[str, Decimal] = {}
    for uid in sorted(old.units):
        unit, scheme = old.units[uid]
        now = new.units.get(uid)
        after = new.leaf_facts(uid, shared) if now is not None else None
        judged.add(unit, old.indicators(scheme), new.indicators(now[1]) if now is not None else None,
                   _problems(unit, scheme, old.leaf_facts(uid, shared), now[1] if now is not None else None, after))
    return FollowUp(old.scored, new.scored, judged)


def unit_problems(before: UnitScore, after: UnitScore | None) -> list[FollowUpItem]:
    """One unit's problems of the old round, each judged against the new round (`after`: the unit there)."""
    return _problems(before.unit, before.scheme, leaf_facts(before), after.scheme if after is not None else None,
                     leaf_facts(after) if after is not None else None)


def _problems(unit: Unit, old_scheme: Any, before: dict[str, LeafFact], new_scheme: Any,
              after: dict[str, LeafFact] | None) -> list[FollowUpItem]:
    """`unit_problems` of a unit's leaf facts in each round (`after` None: the unit is not in the new round)."""
    successors = _successors(new_scheme, after, old_scheme) if after is not None else {}
    order = {ind.id: n for n, ind in enumerate(old_scheme.all_indicators())}  # as UnitScore.lost_leaves orders them
    lost = sorted((leaf for leaf in before.values() if leaf.lost > 0 and leaf.state != "pending"),
                  key=lambda leaf: order.get(leaf.indicator.id, 0))
    problems = []
    for leaf in lost:
        problem = FollowUpItem(unit, leaf.indicator, "no-longer-assessed", leaf.points, leaf.lost, None,
                               reason=leaf.reason, fix=leaf.fix)
        if after is None:
            problem.why = "unit"
        else:
            _judge(problem, successors.get(leaf.indicator.id, []))
        problems.append(problem)
    return problems


# --- output ---------------------------------------------------------------------------

def _now(problem: FollowUpItem) -> str:
    ids = [i.id for i in problem.successors]
    return ", ".join(ids) if ids and ids != [problem.indicator.id] else ""


def text_lines(result: FollowUp, lang: str = "zh") -> list[str]:
    """Counts per status, then one row per problem (unit, indicator, lost then and now, status, 扣分理由)."""
    return list(lines(result, lang))


def lines(result: FollowUp, lang: str = "zh") -> Iterator[str]:
    """`text_lines` one line at a time: the problems' tables are made from them as they are iterated (twice each:
    the columns' widths, then the rows), never held whole."""
    old_round, new_round = result.old.round, result.new.round
    yield from heading(plain_line(f"{_t('title', lang)}: {old_round.title} ({old_round.id}) → {new_round.title} "
                                  f"({new_round.id})"), old_round.example or new_round.example, lang)
    if not result.problems:
        yield _t("none", lang)
        return
    counts = result.counts()
    rows = [[_t("status", lang), _t("count", lang)]]
    rows += [[_t(status, lang), str(counts[status])] for status in STATUSES]
    rows.append([_t("total", lang), str(len(result.problems))])
    yield from table(rows, ["left", "right"])
    yield ""

    # one pass over the problems makes both tables' rows, kept in temporary files until their widths are known
    listed, recurring = SpooledTable(), SpooledTable()
    listed.add([_t(k, lang) for k in ("unit", "indicator", "name", "new_indicator", "old_lost", "new_lost", "status",
                                      "reason")])
    recurring.add([_t(k, lang) for k in ("unit", "indicator", "name", "new_reason", "fix")])
    statuses = {status: plain(_t(status, lang)) for status in STATUSES}
    for p in result.problems:
        unit, name = plain(name_in(p.unit, lang)), plain(name_in(p.indicator, lang))
        listed.add([unit, plain(p.indicator.id), name, plain(_now(p)), plain(two(p.old_lost)),
                    plain(two(p.new_lost)) if p.new_lost is not None else "—", statuses[p.status],
                    plain(p.reason or "")])
        if p.status == "still-failing":
            recurring.add([unit, plain(p.indicator.id), name, plain(p.new_reason or ""), plain(p.fix or "—")])
    try:
        yield from listed.lines(["left", "left", "left", "left", "right", "right", "left", "left"])
        if counts["still-failing"]:
            yield ""
            yield plain_line(pair(_t("recurring", lang), "", lang).rstrip())
            yield from recurring.lines()
    finally:
        listed.close()
        recurring.close()


def json_data(result: FollowUp) -> dict[str, Any]:
    return {**_json_head(result), "problems": [_json_problem(p) for p in result.problems]}


def json_parts(result: FollowUp, provenance: Any = None) -> Iterator[str]:
    """gapctl.escape.json_document of `json_data(result)` in parts, a problem at a time."""
    from gapctl.escape import json_document_parts

    return json_document_parts(_json_head(result), "problems", map(_json_problem, result.problems), provenance)


def _json_head(result: FollowUp) -> dict[str, Any]:
    return {"old_round": result.old.round.id, "new_round": result.new.round.id, "counts": result.counts()}


def _json_problem(p: FollowUpItem) -> dict[str, Any]:
    return {"unit": p.unit.id, "name": p.unit.name, "indicator": p.indicator.id, "indicator_name": p.indicator.name,
            "new_indicators": [i.id for i in p.successors], "status": p.status, "why": p.why,
            "points": num(p.old_points), "old_lost": two(p.old_lost),
            "new_lost": two(p.new_lost) if p.new_lost is not None else None, "reason": p.reason, "fix": p.fix,
            "new_reason": p.new_reason}
