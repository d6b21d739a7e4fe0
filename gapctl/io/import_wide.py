"""Wide sheets for `gapctl import`: units as rows, indicators as columns, each cell the points earned.

This is the matrix `gapctl export` writes (sheet 指标得分矩阵). A column's header names its
indicator by id, by the header export writes ("1.1 主动公开专栏（5分）") or by the indicator's name;
one problem names every column that is none (a wrong sheet is one line, not one per row). A cell
holds the points earned, 不适用 (not applicable, or observed n/a) or 待评 (not yet assessed), as
export writes them; an empty cell says nothing. Each changed cell becomes the observation value
that earns those points under the unit's rule (a fraction, a count, a grade, the items done …);
cells that agree with what is recorded are left alone.

gapctl's own workbook keeps the matrix as exported in a hidden sheet (gapctl.io.sheets.EXPORT_BASE).
With it, a cell edited since the export replaces the observation without `--force` (the edit is the
person's intent), a cell not edited is left alone even when the files changed since (an old
workbook never reverts newer observations), and a cell changed on both sides needs `--force`.
Everything else — reading, the problems, the validate gate — is gapctl.io.importer's.
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

from gapctl.i18n import _
from gapctl.io import cells as C
from gapctl.io.importer import RESULT_WORDS, Imported, Origin, Plan, channel_of, cleaned, read_number, unknown_channel
from gapctl.io.sheets import EXPORT_MATRIX, column_letter
from gapctl.scheme.rules import num

_POINTS_SUFFIX = re.compile(r"\s*[（(]\s*(?:[0-9.]+(?:\s*/\s*[0-9.]+)*\s*分|减分项)\s*[)）]\s*$")
_FIRST_WORD = re.compile(r"[\s\u3000]+")
UNKNOWN_SHOWN = 8  # unknown headers named in the one problem


def read_wide(plan: Plan, header: dict[int, str], fields: dict[int, str], out: Imported) -> None:
    """Units as rows, indicators as columns, cells the points earned (as `gapctl export` writes the
    matrix): each changed cell becomes the observation value that earns those points under the unit's rule."""
    from gapctl.scoring.score import score_round

    columns = indicator_columns(plan, header, fields)
    if columns is None:
        return
    round_ = plan.round
    result = score_round(round_)
    scored = {s.unit.id: s for s in result.units}
    scored.update((c.unit.id, c) for found in result.channels.values() for c in found)  # <unit>/<channel>
    units = round_.unit_set.by_id() if round_.unit_set else {}
    unit_col = next(i for i, f in fields.items() if f == "unit")
    channel_col = next((i for i, f in fields.items() if f == "channel"), None)
    base = _base(plan)
    for r, values in plan.sheet.rows[1:]:
        unit_id = cleaned(plan, values[unit_col], r, unit_col, translate=True) if unit_col in values else ""
        if not unit_id:
            continue
        unit = units.get(unit_id)
        if unit is None or unit_id not in scored:
            plan.problem("unknown-unit", _("unknown unit '{unit}'").format(unit=C.shown(unit_id)), r, unit_col)
            continue
        channel = None
        if channel_col is not None and channel_col in values:
            typed = cleaned(plan, values[channel_col], r, channel_col, translate=True)
            obs = channel_of(round_, unit_id, typed) if typed else None
            if typed and (obs is None or f"{unit_id}/{obs.channel}" not in scored):
                unknown_channel(plan, unit, typed, r, channel_col)
                continue
            channel = obs.channel if obs is not None else None
        target = f"{unit_id}/{channel}" if channel else unit_id
        score = scored[target]
        for i, ind_id in columns.items():
            cell = _cell(plan, values.get(i), r, i, out.from_csv)
            if cell is _REFUSED:
                continue
            leaf = score.leaves.get(ind_id)
            now = current(leaf)
            exported = base.get((unit_id, channel, plan.period, ind_id), _ABSENT) if base is not None else _ABSENT
            if cell is None:
                if exported not in (_ABSENT, None):
                    plan.note("emptied", _("an emptied cell changes nothing; write 待评 for not yet assessed, "
                                           "不适用 for not applicable"), r, i)
                continue
            if canonical(cell) == now:
                continue
            if exported is not _ABSENT and canonical(cell) == exported:
                plan.note("changed-since-export", _("not edited in the sheet, but the observation changed since "
                                                    "the export: kept as it is now"), r, i)
                continue
            entry = _entry(plan, leaf, score.unit, score, ind_id, cell, r, i)
            if entry is None:
                continue
            cols = {"unit": unit_col, "value": i, "indicator": i, "result": i}
            both = exported is not _ABSENT and exported != now
            plan.add(target, entry, Origin(r, cols), edited=exported is not _ABSENT and not both, both_changed=both)


def indicator_columns(plan: Plan, header: dict[int, str], fields: dict[int, str]) -> dict[int, str] | None:
    """Column → indicator id for every header that is not a field; None (and one problem naming them
    all) when some header is no indicator of the round."""
    leaves: dict[str, str] = dict(plan.leaves or {})
    for scheme in plan.round.schemes.values():
        for leaf in scheme.leaves():
            leaves.setdefault(leaf.id, leaf.name)
    by_name: dict[str, list[str]] = {}
    for leaf_id, name in leaves.items():
        by_name.setdefault(name, []).append(leaf_id)
    columns: dict[int, str] = {}
    unknown: list[tuple[int, str]] = []
    for i, text in header.items():
        if i in fields or not text:
            continue
        found = indicator_of(text, leaves, by_name)
        if found is None:
            unknown.append((i, text))
        else:
            columns[i] = found
    row = plan.sheet.rows[0][0]
    if not unknown and columns:
        return columns
    named = ", ".join(f"{column_letter(i)} '{C.shown(text, 24)}'" for i, text in unknown[:UNKNOWN_SHOWN])
    if len(unknown) > UNKNOWN_SHOWN:
        named += _(" and {count} more").format(count=len(unknown) - UNKNOWN_SHOWN)
    if not columns:
        plan.problem("unknown-indicator", _("no column of this sheet names an indicator of the round ({columns}); "
                                            "import reads the matrix (sheet {matrix}: units as rows, indicators as "
                                            "columns) or one row per unit × indicator (columns 单位, 指标, 结果, "
                                            "数值)").format(columns=named or "—", matrix=EXPORT_MATRIX),
                     row, unknown[0][0] if unknown else None)
    else:
        plan.problem("unknown-indicator", _("column(s) {columns} name no indicator of the round; write the "
                                            "indicator's id (or its name), or remove the column").format(
                                                columns=named), row, unknown[0][0])
    return None


def indicator_of(text: str, leaves: dict[str, str], by_name: dict[str, list[str]]) -> str | None:
    """The leaf a header names: its id ("1.1"), id and name with points ("1.1 主动公开专栏（5分）"),
    or a name that only one leaf has."""
    if text in leaves:
        return text
    first = _FIRST_WORD.split(text.strip(), maxsplit=1)[0]
    if first in leaves:
        return first
    ids = by_name.get(_POINTS_SUFFIX.sub("", text).strip(), [])
    return ids[0] if len(ids) == 1 else None


_ABSENT = object()   # no cell for this unit and indicator in the matrix as exported
_REFUSED = object()  # a cell that could not be read (its problem is on the plan)


def canonical(value: Any) -> Decimal | str | None:
    """A matrix cell as something to compare: points to two places, a state ("n/a", "pending", "done" …),
    or None for an empty cell; a text that is neither stays text."""
    from gapctl.scoring.score import half_up

    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return half_up(value, 2)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return half_up(Decimal(str(value)), 2)
    text = C.text(value).strip()
    word = RESULT_WORDS.get(text.lower())
    if word is not None:
        return word
    number = C.number(text, [])
    return half_up(number, 2) if isinstance(number, Decimal) else text


def current(leaf: Any) -> Decimal | str | None:
    """What export writes for this leaf now, as `canonical` reads it."""
    from gapctl.io.export import matrix_cell

    return canonical(matrix_cell(leaf))


ROW_FIELDS = ("unit", "name", "scheme", "channel", "channel_name", "period")  # the base's columns that are no cells


def _base(plan: Plan) -> dict[tuple[str, str | None, str | None, str], Any] | None:
    """(unit, channel, period, indicator) → the cell as exported, when the workbook is gapctl's export of
    the round imported into."""
    sheet = plan.sheet
    if sheet.base is None or not sheet.base.rows:
        return None
    if sheet.base_round != plan.home:
        plan.note("other-round", _("this workbook was exported from round '{exported}', not '{round}': a cell "
                                   "that differs from what is recorded replaces it only with --force").format(
                                       exported=sheet.base_round, round=plan.home))
        return None
    names = {i: str(v) for i, v in sheet.base.rows[0][1].items()}
    where = {name: i for i, name in names.items() if name in ROW_FIELDS}
    if "unit" not in where:
        return None
    out: dict[tuple[str, str | None, str | None, str], Any] = {}
    for _r, values in sheet.base.rows[1:]:
        key = [C.text(values[where[n]]) if where.get(n) in values else None for n in ("unit", "channel", "period")]
        for i, name in names.items():
            if name not in ROW_FIELDS:
                out[(str(key[0]), key[1], key[2], name)] = canonical(values.get(i))
    return out


def _cell(plan: Plan, value: Any, r: int, i: int, from_csv: bool) -> Any:
    """A cell of the sheet, canonical (see `canonical`); _REFUSED when it is no number and no word."""
    if value is None:
        return None
    if isinstance(value, str):
        value = cleaned(plan, value, r, i, translate=True)
        if value == "":
            return None
        word = RESULT_WORDS.get(value.lower())
        if word is not None:
            return word
    number = read_number(plan, value, r, i, from_csv)
    return _REFUSED if number is None else number  # exact: rounded only to compare (`canonical`)


def _entry(plan: Plan, leaf: Any, unit: Any, score: Any, ind_id: str, cell: Any, r: int,
           i: int) -> dict[str, Any] | None:
    """The observation entry a changed cell asks for, or None and a problem."""
    if leaf is None:
        plan.problem("unknown-indicator", _("'{indicator}' is not in the scheme of {unit} ({scheme}); leave the "
                                            "cell empty").format(indicator=ind_id, unit=unit.name,
                                                                 scheme=score.scheme.id), r, i)
        return None
    if leaf.state == "not-applicable":
        plan.problem("not-applicable", _("'{indicator}' does not apply to {unit} (the scheme says to whom it "
                                         "applies); leave the cell 不适用").format(indicator=ind_id,
                                                                                 unit=unit.name), r, i)
        return None
    if isinstance(cell, str):
        return {"indicator": ind_id, "result": cell}
    if leaf.rule is None or leaf.rule.kind in ("threshold", "rank"):
        plan.problem("points", _("the points of '{indicator}' follow from other figures ({kind}); change what "
                                 "they are computed from instead").format(
                                     indicator=ind_id, kind=leaf.rule.kind if leaf.rule else "—"), r, i)
        return None
    points = leaf.indicator.points if leaf.state == "n/a" else leaf.points  # n/a leaves count 0 points
    entry = _from_points(leaf, unit, cell, points)
    if entry is None:
        plan.problem("points", _("{points} points cannot be earned on '{indicator}' ({kind})").format(
            points=num(cell), indicator=ind_id, kind=leaf.rule.kind), r, i)
    return entry


def _from_points(leaf: Any, unit: Any, earned: Decimal, points: Decimal) -> dict[str, Any] | None:
    """The observation value that earns `earned` of `points` on this leaf under its rule (None if none does)."""
    ind, rule = leaf.indicator, leaf.rule
    entry: dict[str, Any] = {"indicator": ind.id}
    kind, params = rule.kind, rule.params
    if kind == "all-or-nothing":
        entry["result"] = "done" if earned == points and points else "not-done"
        return entry if earned in (0, points) else None
    if kind == "proportional":
        entry["fraction"] = (earned / points).normalize() if points else Decimal(0)
        return entry
    if kind == "expert-grade":
        entry["grade"] = earned
        return entry
    if kind == "count-tiers":
        tiers = [t for t in params.get("tiers") or [] if t["points"] == earned]
        entry["count"] = 0 if earned == 0 else (tiers[0]["at_least"] if tiers else None)
        return entry if entry["count"] is not None else None
    if kind == "deduction-tiers":
        lost = points - earned
        tiers = [t for t in params.get("tiers") or [] if t["deduct"] == lost or (earned == 0 and t["deduct"] >= points)]
        entry["notices"] = 0 if lost == 0 else (tiers[0]["at_least"] if tiers else None)
        return entry if entry["notices"] is not None else None
    if kind == "per-occurrence":
        deduct = Decimal(str(params.get("deduct") or 0))
        lost = -earned if ind.section == "penalty" or ind.points is None else points - earned
        times = lost / deduct if deduct else Decimal(0)
        if times != times.to_integral_value():
            return None
        entry["notices"] = int(times)
        return entry
    if kind == "items":
        from gapctl.scheme.rules.items import applicable_items

        items = applicable_items(rule, unit)
        possible = sum((i["points"] for i in items), Decimal(0))
        target = earned * possible / ind.points if ind.points else Decimal(0)
        for size in range(len(items) + 1):
            for chosen in itertools.combinations(items, size):
                if sum((i["points"] for i in chosen), Decimal(0)) == target:
                    done = {str(i["id"]) for i in chosen}
                    entry["items"] = {str(i["id"]): str(i["id"]) in done for i in params.get("items") or []}
                    return entry
        return None
    return None
