"""An evaluator's spreadsheet (xlsx or CSV, one row per unit × indicator) → observation files.

Everything is checked before anything is written, and a failed import leaves every file as it
was. Three gates, each naming sheet, row and column:

1. reading (gapctl.sheets): encodings, sizes, row and cell limits, merged cells, formulas
   without a saved value, cells Excel marks as errors;
2. the cells (gapctl.cells): unknown units or indicators, results, numbers and dates as people
   type them (full-width digits, 85%, 2024年12月15日, Excel serial dates …), normalised or refused;
3. the files it would write (gapctl.import_check): each is read, built and checked from its new
   bytes by the functions `gapctl validate` runs on it (`sources.read_file`,
   `load.build_observations`, `validate.check_observation_file`), and any error the file does not
   give now refuses the import. So a row `import` accepts never makes `gapctl validate` fail; its
   warnings (W504, points lost without 扣分理由) are shown as notes.

Problems print one line per root cause, repeats capped (gapctl.sheets.IssueLog). Existing
observations are only replaced with `force`. Existing files are edited in place: entries the
import does not change keep every byte (comments, key order, unknown keys, quoting, line
endings); files are written atomically and never through a symbolic link (gapctl.writes).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl import cells as C
from gapctl.i18n import _
from gapctl.model import Round
from gapctl.schema import RESULT_ALIASES
from gapctl.sheets import EXPORT_MATRIX, LIMITS, Issue, IssueLog, Limits, Sheet, column_letter
from gapctl.sources import display_path

FULLWIDTH = C.FULLWIDTH
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
FIELDS = tuple(dict.fromkeys(COLUMNS.values()))
TEXT_FIELDS = ("name", "scheme", "note", "reason", "fix", "observer")  # prose: kept as typed
# the words observation files accept (gapctl.schema), and a spreadsheet's own: 是/否, ticks and crosses
RESULT_WORDS = {**RESULT_ALIASES, "已完成": "done", "是": "done", "done": "done", "√": "done", "✓": "done",
                "未完成": "not-done", "否": "not-done", "not-done": "not-done", "×": "not-done", "✗": "not-done",
                "不适用": "n/a", "n/a": "n/a", "无佐证": "no-evidence", "no-evidence": "no-evidence",
                "待评估": "pending", "pending": "pending"}
VALUE_KEY = {"count-tiers": "count", "proportional": "fraction", "expert-grade": "grade",
             "deduction-tiers": "notices", "per-occurrence": "notices"}


@dataclass
class Imported:
    """What an import would do: new file contents by path, and the problems that stop it."""

    files: dict[Path, bytes] = field(default_factory=dict)
    seen: dict[Path, os.stat_result | None] = field(default_factory=dict)  # as read; None: a new file
    root: Path | None = None  # the repository: no symbolic link below it is written through
    problems: list[str] = field(default_factory=list)  # errors, one line per root cause: nothing is written
    notes: list[str] = field(default_factory=list)     # fixed on the way in (full-width digits, spaces)
    entries: int = 0
    conflicts: list[str] = field(default_factory=list)
    from_csv: bool = False  # every CSV cell is text: numbers in text are no news there
    issues: list[Issue] = field(default_factory=list)  # the problems as (sheet, row, column, code)
    after: Round | None = None  # the round as validated with the planned files in place
    replaced: list[Issue] = field(default_factory=list)  # observations replaced that only --force may replace


@dataclass
class Origin:
    """Where an entry came from: its row and the column of each field."""

    row: int
    cols: dict[str, int]


class Plan:
    """One import in progress: the sheet, the problems and notes met, the entries and their origins."""

    def __init__(self, round_: Round, sheet: Sheet, force: bool):
        self.round, self.sheet, self.force = round_, sheet, force
        self.problems: IssueLog = sheet.problems
        self.notes: IssueLog = sheet.notes
        self.planned: dict[str, list[dict[str, Any]]] = {}
        self.origins: dict[tuple[str, str], Origin] = {}
        self.edited: set[tuple[str, str]] = set()  # cells edited in gapctl's export since: no --force needed
        self.both_changed: set[tuple[str, str]] = set()  # … and edited there while the files changed too
        self.replaced: list[Issue] = []

    def problem(self, code: str, message: str, row: int | None = None, col: int | None = None,
                at: str | None = None) -> None:
        self.problems.add(Issue(self.sheet.name, row, col, code, message, at))

    def note(self, code: str, message: str, row: int | None = None, col: int | None = None) -> None:
        self.notes.add(Issue(self.sheet.name, row, col, code, message))

    def add(self, unit_id: str, entry: dict[str, Any], origin: Origin, edited: bool = False,
            both_changed: bool = False) -> None:
        """Plan an entry; `edited`: the cell was edited in gapctl's own export since it was made."""
        key = (unit_id, entry["indicator"])
        first = self.origins.get(key)
        if first is not None:
            self.problem("duplicate-row", _("unit '{unit}', indicator '{indicator}' again (first in row {row}); one "
                                            "row per unit and indicator").format(
                                                unit=unit_id, indicator=entry["indicator"], row=first.row),
                         origin.row, origin.cols.get("indicator"))
            return
        self.origins[key] = origin
        if edited:
            self.edited.add(key)
        if both_changed:
            self.both_changed.add(key)
        self.planned.setdefault(unit_id, []).append(entry)


def read_mapping(path: Path) -> tuple[dict[str, str] | None, list[Issue]]:
    """A `--mapping` file: YAML (or TOML) `header: field`, at the top or under `columns:`; its problems."""
    from gapctl.sources import read_file

    parsed = read_file(path)
    name = parsed.src.display

    def problem(loc: Any, message: str) -> Issue:
        return Issue(name, None, None, "mapping", message, at=str(loc))

    if parsed.data is None or parsed.problems:
        return None, [problem(p.locate(), p.message) for p in parsed.problems] or [problem(name, _("holds no mapping"))]
    data, at = parsed.data, ()
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data, at = data["columns"], ("columns",)
    if not isinstance(data, dict):
        message = (_("a mapping file maps headers to fields, one per line (扣分原因: reason); this one holds a list")
                   if isinstance(data, list) else
                   _("a mapping file maps headers to fields, one per line (扣分原因: reason); this one holds a value"))
        return None, [problem(parsed.src.locate(at), message)]
    problems, columns = [], {}
    for header, field_name in data.items():
        if not isinstance(field_name, str) or field_name not in FIELDS:
            problems.append(problem(parsed.src.locate(at + (header,)),
                                    _("'{header}' maps to {field}, which is not a field; the fields are "
                                      "{fields}").format(header=C.shown(header), field=repr(C.shown(field_name)),
                                                         fields=", ".join(FIELDS))))
        else:
            columns[str(header)] = field_name
    return (None, problems) if problems else (columns, [])


def read(round_: Round, path: Path, mapping: dict[str, str] | Path | None = None, sheet: str | None = None,
         force: bool = False, limits: Limits = LIMITS) -> Imported:
    """Plan an import into a loaded round: the observation files it would write, or its problems.

    `mapping` maps other headers to fields, or names a mapping file (read_mapping). The round is
    expected to validate without errors (`gapctl import` checks first): errors after the import
    that were not there before are the import's.
    """
    from gapctl import sheets

    if isinstance(mapping, Path):
        columns, mapping_problems = read_mapping(mapping)
        if mapping_problems:
            return Imported(problems=[f"{i.ref}: {i.message}" for i in mapping_problems], issues=mapping_problems)
        mapping = columns
    book = sheets.read(path, sheet, limits)
    out = Imported(from_csv=book.is_csv)
    plan = Plan(round_, book, force)
    for merged in book.merged:
        plan.problem("merged", _("merged cells; unmerge them and fill every row"), at=f"{book.name}!{merged}")
    if book.rows:
        _read_rows(plan, mapping or {}, out)
    elif not plan.problems:
        plan.problem("empty", _("the sheet holds no rows"))
    if not plan.problems:
        _plan_files(plan, out)
    if not plan.problems and out.files:
        from gapctl.import_check import check_plan

        out.after = check_plan(plan, out)
    out.problems = plan.problems.lines()
    out.issues = plan.problems.items()
    out.notes = plan.notes.lines()
    out.replaced = plan.replaced
    return out


def _header(plan: Plan, mapping: dict[str, str]) -> tuple[dict[int, str], dict[int, str]]:
    """(column → header text, column → field) of the sheet's first row with values."""
    columns = {**COLUMNS, **mapping}
    row, values = plan.sheet.rows[0]
    header = {i: cleaned(plan, v, row, i, translate=True) for i, v in sorted(values.items())}
    fields: dict[int, str] = {}
    for i, h in header.items():
        name = columns.get(h) or columns.get(h.lower())
        if name is None:
            continue
        if name in fields.values():
            first = next(j for j, f in fields.items() if f == name)
            plan.problem("header", _("columns {first} and {second} both read as '{field}'; keep one (or map the "
                                     "other with --mapping)").format(first=column_letter(first),
                                                                     second=column_letter(i), field=name), row, i)
            continue
        fields[i] = name
    return header, fields


def cleaned(plan: Plan, value: Any, row: int, col: int, translate: bool) -> str:
    """A cell as text, stray spaces stripped (noted); full-width digits converted where `translate`."""
    raw = C.text(value)
    stripped = raw.strip()
    if stripped != raw:
        plan.note("spaces", _("stray spaces removed"), row, col)
    if not translate:
        return stripped
    converted = stripped.translate(FULLWIDTH)
    if converted != stripped:
        plan.note("fullwidth", _("full-width characters '{typed}' read as '{read}'").format(
            typed=C.shown(stripped), read=C.shown(converted)), row, col)
    return converted


def _read_rows(plan: Plan, mapping: dict[str, str], out: Imported) -> None:
    known = len(plan.problems)
    header, fields = _header(plan, mapping)
    if len(plan.problems) > known:  # the header is wrong: the rows cannot be read
        return
    names = set(fields.values())
    if "unit" in names and "indicator" not in names:
        from gapctl.import_wide import read_wide

        read_wide(plan, header, fields, out)
    elif "unit" not in names or "indicator" not in names:
        found = ", ".join(C.shown(h, 20) for h in header.values() if h)
        plan.problem("header", _("the header needs 单位 (unit) and 指标 (indicator) columns; found: {found}").format(
            found=found), plan.sheet.rows[0][0])
    elif "result" not in names and "value" not in names:
        plan.problem("header", _("the sheet has no 结果 (result) or 数值 (value) column, so nothing to import; "
                                 "import reads the matrix ({matrix}) or one row per unit × indicator with a result "
                                 "or a value").format(matrix=EXPORT_MATRIX), plan.sheet.rows[0][0])
    else:
        _read_long(plan, fields, out)


def _read_long(plan: Plan, fields: dict[int, str], out: Imported) -> None:
    round_ = plan.round
    units = round_.unit_set.by_id() if round_.unit_set else {}
    by_name = {u.name: u for u in units.values()}
    cols = {name: i for i, name in fields.items()}
    for r, values in plan.sheet.rows[1:]:
        cells: dict[str, Any] = {}
        for i, value in values.items():
            name = fields.get(i)
            if name is None:
                continue
            if name in ("value", "observed_at") and not isinstance(value, str):
                cells[name] = value  # numbers and dates keep their type; text is cleaned
            else:
                cells[name] = cleaned(plan, value, r, i, translate=name not in TEXT_FIELDS)
        if not any(v not in (None, "") for v in cells.values()):
            continue
        unit_key = str(cells.get("unit") or "")
        unit = units.get(unit_key) or by_name.get(unit_key)
        if unit is None:
            plan.problem("unknown-unit", _("unknown unit '{unit}'").format(unit=C.shown(unit_key)), r, cols["unit"])
            continue
        scheme = round_.scheme_for(unit)
        ind_key = str(cells.get("indicator") or "")
        ind = scheme.index.get(ind_key) if scheme else None
        if ind is None or not ind.is_leaf:
            plan.problem("unknown-indicator", _("unknown indicator '{indicator}' for {unit}").format(
                indicator=C.shown(ind_key), unit=unit.name), r, cols["indicator"])
            continue
        origin = Origin(r, {name: i for name, i in cols.items() if name in cells or name == "value"})
        entry = _entry(plan, ind, unit, cells, origin, out.from_csv)
        if entry is not None:
            plan.add(unit.id, entry, origin)
    out.entries = sum(len(e) for e in plan.planned.values())


def _entry(plan: Plan, ind: Any, unit: Any, cells: dict[str, Any], origin: Origin,
           from_csv: bool) -> dict[str, Any] | None:
    r, cols = origin.row, origin.cols
    rule = ind.rule_for(unit)
    entry: dict[str, Any] = {"indicator": ind.id}
    result = cells.get("result")
    state = RESULT_WORDS.get(str(result).lower()) if result not in (None, "") else None
    if result not in (None, "") and state is None:
        plan.problem("result", _("result '{result}' is not one of 完成/未完成/不适用/无佐证/待评").format(
            result=C.shown(result)), r, cols.get("result"))
        return None
    value = cells.get("value")
    kind = rule.kind if rule else None
    if state in ("n/a", "no-evidence", "pending") or kind == "all-or-nothing" or value in (None, ""):
        if state is None:
            plan.problem("needs-value", _("a result (完成/未完成/不适用/待评) or a value is needed"), r,
                         cols.get("value", cols.get("result")))
            return None
        entry["result"] = state
    elif kind == "items":
        names = {str(i.get("name")): str(i["id"]) for i in rule.params.get("items") or []}
        ids = [str(i["id"]) for i in rule.params.get("items") or []]
        done = [x.strip() for x in C.text(value).replace("，", ",").replace("、", ",").split(",") if x.strip()]
        unknown = [x for x in done if x not in ids and x not in names]
        if unknown:
            plan.problem("unknown-item", _("unknown item(s) {items} of '{indicator}'").format(
                items=C.shown(", ".join(unknown)), indicator=ind.id), r, cols.get("value"))
            return None
        chosen = {names.get(x, x) for x in done}
        entry["items"] = {i: i in chosen for i in ids}
    else:
        number = read_number(plan, value, r, cols.get("value"), from_csv)
        if number is None:
            return None
        key = VALUE_KEY.get(kind or "", "grade")
        if key in ("count", "notices"):
            count = C.whole(number, value)
            if isinstance(count, C.Refused):
                plan.problem(count.code, count.message, r, cols.get("value"))
                return None
            entry[key] = count
        else:
            entry[key] = number
    for name in ("note", "reason", "fix", "observer"):
        if cells.get(name):
            entry[name] = str(cells[name])
    if cells.get("observed_at") not in (None, ""):
        notes: list[str] = []
        day = C.date(cells["observed_at"], plan.sheet.epoch, notes)
        if isinstance(day, C.Refused):
            plan.problem(day.code, day.message, r, cols.get("observed_at"))
            return None
        if "serial" in notes:
            plan.note("serial-date", _("Excel serial number {number} read as the date {day}").format(
                number=C.shown(cells["observed_at"]), day=day), r, cols.get("observed_at"))
        entry["observed_at"] = day
    return entry


def read_number(plan: Plan, value: Any, row: int, col: int | None, from_csv: bool) -> Decimal | None:
    notes: list[str] = []
    number = C.number(value, notes)
    if isinstance(number, C.Refused):
        plan.problem(number.code, number.message, row, col)
        return None
    if isinstance(value, str) and not from_csv:
        plan.note("text-number", _("number stored as text '{value}'").format(value=C.shown(value)), row, col)
    return number


VALUE_KEYS = ("result", "items", "count", "fraction", "grade", "notices")


def _plan_files(plan: Plan, out: Imported) -> None:
    """The new bytes of each observation file. An existing file is edited in place (gapctl.fmt.Edit):
    entries the import does not change keep every byte, comment, key order and unknown key."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from gapctl import schema as S
    from gapctl.fmt import Edit, format_text, round_trip_yaml
    from gapctl.writes import WriteError, read_original, refusal, round_root

    round_ = plan.round
    out.root = round_root(round_.directory)
    for unit_id, entries in sorted(plan.planned.items()):
        first = plan.origins[(unit_id, entries[0]["indicator"])]
        path = _observation_path(round_, unit_id)
        try:
            if path.suffix.lower() not in (".yaml", ".yml"):
                raise WriteError(_("{file} is TOML; gapctl import edits YAML observation files only: enter these "
                                   "rows there by hand, or rewrite the file as YAML").format(file=display_path(path)))
            if os.path.lexists(path):
                edit = Edit(read_original(path, out.root))
                edit.yaml.representer.add_representer(Decimal, _represent_decimal)
                data = edit.data
                results = data.get("results", CommentedSeq()) if isinstance(data, CommentedMap) else None
                if not isinstance(results, CommentedSeq):
                    raise WriteError(_("{file}: 'results' is not a list of entries; not written (fix the file "
                                       "first: gapctl validate)").format(file=display_path(path)))
                if "results" not in data:
                    edit.set(data, "results", CommentedSeq(), S.OBSERVATIONS)
                changed = _merge(plan, edit, data["results"], unit_id, entries)
                if changed:
                    out.files[path] = edit.new_bytes()
                    out.seen[path] = edit.original.seen
                continue
            why = refusal(path, out.root)
            if why:
                raise WriteError(why)
        except WriteError as err:
            plan.problem("file", str(err), first.row)
            continue
        yaml = round_trip_yaml()
        yaml.representer.add_representer(Decimal, _represent_decimal)
        data = CommentedMap([("unit", unit_id), ("results", CommentedSeq(CommentedMap(e.items()) for e in entries))])
        buffer = io.StringIO()
        yaml.dump(data, buffer)
        out.files[path] = format_text(buffer.getvalue(), "observations").encode("utf-8")
        out.seen[path] = None


def _observation_path(round_: Round, unit_id: str) -> Path:
    """The unit's observation file: the one the round has (whatever its suffix), else <unit>.yaml."""
    obs = round_.observations.get(unit_id)
    if obs is not None and obs.src is not None:
        return obs.src.path
    for suffix in (".yaml", ".yml", ".toml"):
        candidate = round_.directory / "observations" / f"{unit_id}{suffix}"
        if os.path.lexists(candidate):
            return candidate
    return round_.directory / "observations" / f"{unit_id}.yaml"


def _merge(plan: Plan, edit: Any, results: Any, unit_id: str, entries: list[dict[str, Any]]) -> bool:
    """Merge `entries` into an existing file's results; whether anything changed. An observation already
    recorded is replaced only with --force (or when gapctl's own export shows the cell edited since);
    a replaced value's old 扣分理由 and 整改要求 are marked STALE_MARK unless the sheet gives new ones."""
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
        key = (unit_id, entry["indicator"])
        origin = plan.origins[key]
        if key not in plan.edited:
            if key in plan.both_changed:
                message = _("{unit} {indicator}: edited in the sheet, and changed in the files since the export "
                            "too; use --force to take the sheet's value")
            else:
                message = _("{unit} {indicator}: already observed; use --force to replace")
            issue = Issue(plan.sheet.name, origin.row, origin.cols.get("indicator"), "conflict",
                          message.format(unit=unit_id, indicator=entry["indicator"]))
            plan.replaced.append(issue)
            if not plan.force:
                plan.problems.add(issue)
                continue
        value_changed = any(str(old.get(k)) != str(entry.get(k)) for k in VALUE_KEYS if k in old or k in entry)
        for key_ in VALUE_KEYS:
            if key_ in old and key_ not in entry:
                edit.remove(old, key_)
        for key_, value in entry.items():
            edit.set(old, key_, value, S.RESULT)
        if value_changed:
            _mark_stale(plan, edit, old, entry, unit_id, origin)
        changed = True
    return changed


STALE_MARK = "【待核实】"  # before a 扣分理由 or 整改要求 written for a value the import has changed


def _mark_stale(plan: Plan, edit: Any, old: Any, entry: dict[str, Any], unit_id: str, origin: Origin) -> None:
    """The value changed and the sheet gives no new 扣分理由 (整改要求): the old one was written for the old
    value. It stays in the file (nothing is lost), marked STALE_MARK so that the report shows it needs
    review and `gapctl import` says so."""
    from gapctl import schema as S

    marked = []
    for name in ("reason", "fix"):
        text = old.get(name)
        if name in entry or not isinstance(text, str) or not text.strip():
            continue
        if not text.startswith(STALE_MARK):
            edit.set(old, name, STALE_MARK + text, S.RESULT)
        marked.append(text.removeprefix(STALE_MARK))
    if not marked:
        return
    plan.note("stale-reason", _("{unit} {indicator}: the value changed, so what was written for the old value "
                                "(“{text}”) may no longer fit; it is kept, marked {mark}: rewrite or delete "
                                "it").format(unit=unit_id, indicator=entry["indicator"],
                                             text=C.shown(" / ".join(marked), 60), mark=STALE_MARK),
              origin.row, origin.cols.get("value", origin.cols.get("indicator")))


def preview(round_: Round, plan: Imported) -> Round:
    """The round as it would be after the import (in memory), for a score diff: the round as validated
    with the planned files in place, when the plan was checked."""
    import copy

    if plan.after is not None:
        return plan.after

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
