"""Wide sheets for `gapctl import`: units as rows, indicators as columns, each cell the points earned.

This is the matrix `gapctl export` writes (sheet 指标得分矩阵): each changed cell becomes the
observation value that earns those points under the unit's rule (a fraction, a count, a grade,
the items done …); cells that already agree with what is recorded are left alone. Everything
else — reading, the problems, the validate gate — is gapctl.importer's.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from gapctl import cells as C
from gapctl.importer import Imported, Origin, Plan, cleaned, read_number


def read_wide(plan: Plan, header: dict[int, str], fields: dict[int, str], out: Imported) -> None:
    """Units as rows, indicators as columns, cells the points earned (as `gapctl export` writes the
    matrix): each cell becomes the observation value that earns those points under the unit's rule."""
    from gapctl.score import half_up, score_round

    round_ = plan.round
    scored = score_round(round_).by_unit()
    units = round_.unit_set.by_id() if round_.unit_set else {}
    unit_col = next(i for i, f in fields.items() if f == "unit")
    indicator_cols = {i: h for i, h in header.items() if i not in fields and h}
    for r, values in plan.sheet.rows[1:]:
        unit_id = cleaned(plan, values[unit_col], r, unit_col, translate=True) if unit_col in values else ""
        if not unit_id:
            continue
        unit = units.get(unit_id)
        if unit is None or unit_id not in scored:
            plan.problem("unknown-unit", f"unknown unit '{C.shown(unit_id)}'", r, unit_col)
            continue
        score = scored[unit_id]
        for i, ind_id in indicator_cols.items():
            if i not in values:
                continue
            value = cleaned(plan, values[i], r, i, translate=True) if isinstance(values[i], str) else values[i]
            if value == "":
                continue
            leaf = score.leaves.get(ind_id)
            if leaf is None:
                plan.problem("unknown-indicator", f"unknown indicator '{C.shown(ind_id)}' for {unit.name}",
                             plan.sheet.rows[0][0], i)
                continue
            earned = read_number(plan, value, r, i, out.from_csv)
            if earned is None or leaf.rule is None or leaf.rule.kind in ("threshold", "rank"):
                continue
            if leaf.state != "pending" and half_up(earned, 2) == half_up(leaf.earned, 2):
                continue  # what is recorded already earns this (to a spreadsheet's precision): keep it
            entry = _from_points(leaf, unit, earned)
            if entry is None:
                plan.problem("points", f"{C.shown(value)} points cannot be earned on '{ind_id}' ({leaf.rule.kind})",
                             r, i)
                continue
            plan.add(unit_id, entry, Origin(r, {"unit": unit_col, "value": i, "indicator": i}))
    out.entries = sum(len(e) for e in plan.planned.values())


def _from_points(leaf: Any, unit: Any, earned: Decimal) -> dict[str, Any] | None:
    """The observation value that earns `earned` on this leaf under its rule (None if none does)."""
    ind, rule, points = leaf.indicator, leaf.rule, leaf.points
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
        from gapctl.rules.items import applicable_items

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


