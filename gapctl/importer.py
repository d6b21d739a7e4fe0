"""An evaluator's spreadsheet (xlsx or CSV, one row per unit × indicator) → observation files.

Everything is checked before anything is written: unknown units or indicators, merged
cells, numbers stored as text, full-width digits and stray spaces are reported with sheet,
row and column; a failed import leaves every file as it was, and existing observations are
only replaced with `force`. Existing files are edited in place: entries the import does not
change keep every byte (comments, key order, unknown keys, quoting, line endings); files are
written atomically and never through a symbolic link (gapctl.writes).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gapctl.model import Round
from gapctl.schema import RESULT_ALIASES
from gapctl.sources import display_path

FULLWIDTH = str.maketrans("０１２３４５６７８９．％－", "0123456789.%-")
COLUMNS = {  # header (Chinese or English) → field
    "单位": "unit", "unit": "unit", "评估对象": "unit", "单位编号": "unit", "单位名称": "name", "name": "name",
    "指标体系": "scheme", "scheme": "scheme",
    "指标": "indicator", "指标编号": "indicator", "indicator": "indicator",
    "结果": "result", "result": "result",
    "数值": "value", "得分依据": "value", "value": "value",
    "说明": "note", "note": "note", "扣分理由": "reason", "reason": "reason",
    "整改要求": "fix", "fix": "fix", "评估人员": "observer", "observer": "observer",
    "日期": "observed_at", "observed_at": "observed_at",
}
# the words observation files accept (gapctl.schema), and a spreadsheet's own: 是/否, ticks and crosses
RESULT_WORDS = {**RESULT_ALIASES, "已完成": "done", "是": "done", "done": "done", "√": "done", "✓": "done",
                "未完成": "not-done", "否": "not-done", "not-done": "not-done", "×": "not-done", "✗": "not-done",
                "不适用": "n/a", "n/a": "n/a", "无佐证": "no-evidence", "no-evidence": "no-evidence",
                "待评估": "pending", "pending": "pending"}


@dataclass
class Imported:
    """What an import would do: new file contents by path, and the problems that stop it."""

    files: dict[Path, bytes] = field(default_factory=dict)
    seen: dict[Path, os.stat_result | None] = field(default_factory=dict)  # as read; None: a new file
    root: Path | None = None  # the repository: no symbolic link below it is written through
    problems: list[str] = field(default_factory=list)  # errors: nothing is written
    notes: list[str] = field(default_factory=list)     # fixed on the way in (full-width digits, spaces)
    entries: int = 0
    conflicts: list[str] = field(default_factory=list)
    from_csv: bool = False  # every CSV cell is text: numbers in text are no news there


def _rows(path: Path, sheet: str | None, out: Imported) -> tuple[str, list[list[Any]]]:
    """(sheet name, rows of cell values) from a CSV or a workbook; merged cells are reported."""
    if path.suffix.lower() == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        return path.name, [list(row) for row in csv.reader(io.StringIO(text))]
    from openpyxl import load_workbook

    book = load_workbook(path, data_only=True)
    ws = book[sheet] if sheet else book.worksheets[0]
    for merged in ws.merged_cells.ranges:
        out.problems.append(f"{ws.title}!{merged.coord}: merged cells; unmerge them and fill every row")
    return ws.title, [[cell.value for cell in row] for row in ws.iter_rows()]


def _clean(value: Any, where: str, out: Imported) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped != value:
            out.notes.append(f"{where}: stray spaces removed")
        converted = stripped.translate(FULLWIDTH)
        if converted != stripped:
            out.notes.append(f"{where}: full-width characters '{stripped}' read as '{converted}'")
        return converted
    return value


def _number(value: Any, where: str, out: Imported) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    text = str(value)
    percent = text.endswith("%")
    try:
        number = Decimal(text.rstrip("%"))
    except InvalidOperation:
        out.problems.append(f"{where}: '{value}' is not a number")
        return None
    if not out.from_csv:
        out.notes.append(f"{where}: number stored as text '{value}'")
    return number / 100 if percent else number


def read(round_: Round, path: Path, mapping: dict[str, str] | None = None, sheet: str | None = None,
         force: bool = False) -> Imported:
    """Plan an import into a loaded round: the observation files it would write, or its problems."""
    out = Imported(from_csv=path.suffix.lower() == ".csv")
    try:
        title, rows = _rows(path, sheet, out)
    except (OSError, KeyError, ValueError) as err:
        out.problems.append(f"{path}: cannot read ({err})")
        return out
    if not rows:
        out.problems.append(f"{title}: empty")
        return out
    columns = {**COLUMNS, **(mapping or {})}
    header = [str(_clean(h, f"{title}!1", out) or "").strip() for h in rows[0]]
    fields = {i: columns.get(h) or columns.get(h.lower()) for i, h in enumerate(header)}
    if "unit" in fields.values() and "indicator" not in fields.values():
        return _read_wide(round_, title, header, fields, rows, force, out)
    if "unit" not in fields.values() or "indicator" not in fields.values():
        out.problems.append(f"{title}!1: the header needs 单位 (unit) and 指标 (indicator) columns; "
                            f"found: {', '.join(h for h in header if h)}")
        return out
    units = round_.unit_set.by_id() if round_.unit_set else {}
    by_name = {u.name: u for u in units.values()}
    planned: dict[str, list[dict[str, Any]]] = {}
    for r, row in enumerate(rows[1:], start=2):
        cells = {}
        for i, value in enumerate(row):
            name = fields.get(i)
            if name:
                cells[name] = _clean(value, f"{title}!{_col(i)}{r}", out)
        if not any(v not in (None, "") for v in cells.values()):
            continue
        unit_key = str(cells.get("unit") or "")
        unit = units.get(unit_key) or by_name.get(unit_key)
        if unit is None:
            out.problems.append(f"{title}!{_col(_index(fields, 'unit'))}{r}: unknown unit '{unit_key}'")
            continue
        scheme = round_.scheme_for(unit)
        ind = scheme.index.get(str(cells.get("indicator") or "")) if scheme else None
        if ind is None or not ind.is_leaf:
            out.problems.append(f"{title}!{_col(_index(fields, 'indicator'))}{r}: unknown indicator "
                                f"'{cells.get('indicator')}' for {unit.name}")
            continue
        entry = _entry(ind, unit, cells, f"{title}!{_col(_index(fields, 'value'))}{r}", out)
        if entry is not None:
            planned.setdefault(unit.id, []).append(entry)
            out.entries += 1
    if not out.problems:
        _plan_files(round_, planned, force, out)
    return out


def _read_wide(round_: Round, title: str, header: list[str], fields: dict[int, str | None],
               rows: list[list[Any]], force: bool, out: Imported) -> Imported:
    """Units as rows, indicators as columns, cells the points earned (as `gapctl export` writes the
    matrix): each cell becomes the observation value that earns those points under the unit's rule."""
    from gapctl.score import half_up, score_round

    scored = score_round(round_).by_unit()
    units = round_.unit_set.by_id() if round_.unit_set else {}
    unit_col = _index(fields, "unit")
    indicator_cols = {i: h for i, h in enumerate(header) if fields.get(i) is None and h}
    planned: dict[str, list[dict[str, Any]]] = {}
    for r, row in enumerate(rows[1:], start=2):
        unit_id = str(_clean(row[unit_col], f"{title}!{_col(unit_col)}{r}", out) or "")
        if not unit_id:
            continue
        unit = units.get(unit_id)
        if unit is None or unit_id not in scored:
            out.problems.append(f"{title}!{_col(unit_col)}{r}: unknown unit '{unit_id}'")
            continue
        score = scored[unit_id]
        for i, ind_id in indicator_cols.items():
            value = _clean(row[i] if i < len(row) else None, f"{title}!{_col(i)}{r}", out)
            if value in (None, ""):
                continue
            leaf = score.leaves.get(ind_id)
            if leaf is None:
                out.problems.append(f"{title}!{_col(i)}1: unknown indicator '{ind_id}' for {unit.name}")
                continue
            earned = _number(value, f"{title}!{_col(i)}{r}", out)
            if earned is None or leaf.rule is None or leaf.rule.kind in ("threshold", "rank"):
                continue
            if leaf.state != "pending" and half_up(earned, 2) == half_up(leaf.earned, 2):
                continue  # what is recorded already earns this (to a spreadsheet's precision): keep it
            entry = _from_points(leaf, unit, earned)
            if entry is None:
                out.problems.append(f"{title}!{_col(i)}{r}: {value} points cannot be earned on '{ind_id}' "
                                    f"({leaf.rule.kind})")
                continue
            planned.setdefault(unit_id, []).append(entry)
            out.entries += 1
    if not out.problems:
        _plan_files(round_, planned, force, out)
    return out


def _from_points(leaf: Any, unit: Any, earned: Decimal) -> dict[str, Any] | None:
    """The observation value that earns `earned` on this leaf under its rule (None if none does)."""
    import itertools

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


def _col(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _index(fields: dict[int, str | None], name: str) -> int:
    return next((i for i, f in fields.items() if f == name), 0)


def _entry(ind: Any, unit: Any, cells: dict[str, Any], where: str, out: Imported) -> dict[str, Any] | None:
    rule = ind.rule_for(unit)
    entry: dict[str, Any] = {"indicator": ind.id}
    state = RESULT_WORDS.get(str(cells.get("result") or "").lower()) if cells.get("result") else None
    if cells.get("result") and state is None:
        out.problems.append(f"{where}: result '{cells['result']}' is not one of 完成/未完成/不适用/无佐证/待评估")
        return None
    value = cells.get("value")
    kind = rule.kind if rule else None
    if state in ("n/a", "no-evidence", "pending") or kind == "all-or-nothing" or value in (None, ""):
        if state is None:
            out.problems.append(f"{where}: '{ind.id}' needs a result (完成/未完成) or a value")
            return None
        entry["result"] = state
    elif kind == "items":
        names = {str(i.get("name")): str(i["id"]) for i in rule.params.get("items") or []}
        ids = [str(i["id"]) for i in rule.params.get("items") or []]
        done = [x.strip() for x in str(value).replace("，", ",").replace("、", ",").split(",") if x.strip()]
        unknown = [x for x in done if x not in ids and x not in names]
        if unknown:
            out.problems.append(f"{where}: unknown item(s) {', '.join(unknown)} of '{ind.id}'")
            return None
        chosen = {names.get(x, x) for x in done}
        entry["items"] = {i: i in chosen for i in ids}
    else:
        number = _number(value, where, out)
        if number is None:
            return None
        key = {"count-tiers": "count", "proportional": "fraction", "expert-grade": "grade",
               "deduction-tiers": "notices", "per-occurrence": "notices"}.get(kind or "", "grade")
        entry[key] = int(number) if key in ("count", "notices") else number
    for name in ("note", "reason", "fix", "observer"):
        if cells.get(name):
            entry[name] = str(cells[name])
    if cells.get("observed_at"):
        entry["observed_at"] = str(cells["observed_at"])[:10]
    return entry


VALUE_KEYS = ("result", "items", "count", "fraction", "grade", "notices")


def _plan_files(round_: Round, planned: dict[str, list[dict[str, Any]]], force: bool, out: Imported) -> None:
    """The new bytes of each observation file. An existing file is edited in place (gapctl.fmt.Edit):
    entries the import does not change keep every byte, comment, key order and unknown key."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from gapctl import schema as S
    from gapctl.fmt import Edit, format_text, round_trip_yaml
    from gapctl.writes import WriteError, read_original, refusal, round_root

    out.root = round_root(round_.directory)
    for unit_id, entries in sorted(planned.items()):
        path = round_.directory / "observations" / f"{unit_id}.yaml"
        try:
            if os.path.lexists(path):
                edit = Edit(read_original(path, out.root))
                edit.yaml.representer.add_representer(Decimal, _represent_decimal)
                data = edit.data
                results = data.get("results", CommentedSeq()) if isinstance(data, CommentedMap) else None
                if not isinstance(results, CommentedSeq):
                    raise WriteError(f"{display_path(path)}: 'results' is not a list of entries; not written "
                                     "(fix the file first: gapctl validate)")
                if "results" not in data:
                    edit.set(data, "results", CommentedSeq(), S.OBSERVATIONS)
                changed = _merge(edit, data["results"], unit_id, entries, force, out)
                if changed:
                    out.files[path] = edit.new_bytes()
                    out.seen[path] = edit.original.seen
                continue
            why = refusal(path, out.root)
            if why:
                raise WriteError(why)
        except WriteError as err:
            out.problems.append(str(err))
            continue
        yaml = round_trip_yaml()
        yaml.representer.add_representer(Decimal, _represent_decimal)
        data = CommentedMap([("unit", unit_id), ("results", CommentedSeq(CommentedMap(e.items()) for e in entries))])
        buffer = io.StringIO()
        yaml.dump(data, buffer)
        out.files[path] = format_text(buffer.getvalue(), "observations").encode("utf-8")
        out.seen[path] = None
    if out.conflicts:
        out.problems.extend(out.conflicts)


def _merge(edit: Any, results: Any, unit_id: str, entries: list[dict[str, Any]], force: bool, out: Imported) -> bool:
    """Merge `entries` into an existing file's results; whether anything changed."""
    from ruamel.yaml.comments import CommentedMap

    from gapctl import schema as S

    existing = {str(e.get("indicator")): e for e in results
                if isinstance(e, dict) and e.get("source", "evaluator") == "evaluator"}
    changed = False
    for entry in entries:
        old = existing.get(entry["indicator"])
        if old is None:
            edit.append(results, CommentedMap(entry.items()))
            changed = True
            continue
        if all(str(old.get(k)) == str(v) for k, v in entry.items()):
            continue
        if not force:
            out.conflicts.append(f"{unit_id} {entry['indicator']}: already observed; use --force to replace")
            continue
        for key in VALUE_KEYS:
            if key in old and key not in entry:
                edit.remove(old, key)
        for key, value in entry.items():
            edit.set(old, key, value, S.RESULT)
        changed = True
    return changed


def preview(round_: Round, plan: Imported) -> Round:
    """The round as it would be after the import (in memory), for a score diff."""
    import copy

    from gapctl.load import build_observations
    from gapctl.sources import read_file

    after = copy.copy(round_)
    after.observations = dict(round_.observations)
    for path, text in plan.files.items():
        parsed = read_file(path, text, keep_text=True)
        obs = build_observations(parsed.src, parsed.data, []) if parsed.data is not None else None
        if obs is not None:
            after.observations[obs.unit] = obs
    return after


def _represent_decimal(representer: Any, value: Decimal) -> Any:
    """Decimals as written numbers: 2 stays 2, 0.25 stays 0.25 (never a binary float)."""
    from gapctl.rules import num

    tag = "tag:yaml.org,2002:int" if value == value.to_integral_value() else "tag:yaml.org,2002:float"
    return representer.represent_scalar(tag, num(value))


def write(plan: Imported) -> list[Path]:
    """Write every planned file atomically, all or none (gapctl.writes); callers only call this when the
    plan has no problems. Raises WriteError (a file changed since it was read, a symbolic link …)."""
    from gapctl.writes import Write, write_files

    return write_files([Write(path, data, plan.seen.get(path), new=plan.seen.get(path) is None)
                        for path, data in sorted(plan.files.items())], plan.root)
