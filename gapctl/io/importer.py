"""An evaluator's spreadsheet (xlsx or CSV, one row per unit × indicator) → observation files.

Everything is checked before anything is written, and a failed import leaves every file as it
was. Three gates, each naming sheet, row and column:

1. reading (gapctl.io.sheets): encodings, sizes, row and cell limits, merged cells, formulas
   without a saved value, cells Excel marks as errors;
2. the cells (gapctl.io.cells): unknown units or indicators, results, numbers and dates as people
   type them (full-width digits, 85%, 2024年12月15日, Excel serial dates …), normalised or refused;
3. the files it would write (gapctl.io.import_check): each is read, built and checked from its new
   bytes by the functions `gapctl validate` runs on it (`sources.read_file`,
   `load.build_observations`, `validate.check_observation_file`), and any error the file does not
   give now refuses the import. So a row `import` accepts never makes `gapctl validate` fail; its
   warnings (W504, points lost without 扣分理由) are shown as notes.

Which sheet: the one named; else the matrix of gapctl's own export workbook (gapctl.io.export); else
the only sheet — several sheets and no name is one problem naming them. A row may name a channel of
its unit (渠道: its file channels/<unit>/<channel>.yaml is edited) or a period of the round (期次:
the period's round, rounds/<period>/, is read, planned and checked like the round itself).

Problems print one line per root cause, repeats capped (gapctl.io.sheets.IssueLog). Existing
observations are only replaced with `force`, or where gapctl's own workbook shows the cell edited
since the export (gapctl.io.import_wide). When a value changes and the sheet gives no new 扣分理由
(整改要求), the old one stays in the file marked STALE_MARK (【待核实】) and a note says so.

Existing files are edited in place: entries the import does not change keep every byte (comments,
key order, unknown keys, quoting, line endings); files are written atomically and never through a
symbolic link (gapctl.data.writes).
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl.data.model import Round
from gapctl.data.schema import RESULT_ALIASES
from gapctl.data.sources import display_path
from gapctl.i18n import _
from gapctl.io import cells as C
from gapctl.io.sheets import EXPORT_MATRIX, LIMITS, Issue, IssueLog, Limits, Sheet, column_letter

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
    "渠道": "channel", "渠道编号": "channel", "channel": "channel", "渠道名称": "channel_name",
    "期次": "period", "period": "period",
}
FIELDS = tuple(dict.fromkeys(COLUMNS.values()))
TEXT_FIELDS = ("name", "scheme", "note", "reason", "fix", "observer", "channel_name")  # prose: kept as typed
# the words observation files accept (gapctl.data.schema), and a spreadsheet's own: 是/否, ticks and crosses
RESULT_WORDS = {**RESULT_ALIASES, "已完成": "done", "是": "done", "done": "done", "√": "done", "✓": "done",
                "未完成": "not-done", "否": "not-done", "not-done": "not-done", "×": "not-done", "✗": "not-done",
                "不适用": "n/a", "n/a": "n/a", "无佐证": "no-evidence", "no-evidence": "no-evidence",
                "待评估": "pending", "pending": "pending"}
VALUE_KEY = {"count-tiers": "count", "proportional": "fraction", "expert-grade": "grade",
             "deduction-tiers": "notices", "per-occurrence": "notices"}


@dataclass
class Imported:
    """What an import would do: new file contents by path, and the problems that stop it."""

    files: dict[Path, bytes | Spooled] = field(default_factory=dict)  # new bytes (or where a worker put them)
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
    periods: dict[str, tuple[Round, Round]] = field(default_factory=dict)  # period id → its round before, after
    checked: dict[Path, Any] = field(default_factory=dict, repr=False)  # each file's check, made where it was edited


@dataclass
class Now:
    """The round's observation files as they are now, as far as an import needs them: the file read for each
    unit (and each channel, `<unit>/<channel>`), and — when the round was checked file by file
    (gapctl.scoring.outcomes) — what that check found in each, so that a file's problems before the import
    need not be read again."""

    sources: dict[str, Any]  # target → the SourceFile read for it (the first of a unit's, as load keeps)
    outcomes: dict[Path, Any] | None = None  # path → its gapctl.scoring.outcomes.FileOutcome
    directory: Path | None = None  # the round's (evidence files are checked under it)
    tree: Any = None

    @classmethod
    def of_round(cls, round_: Round) -> Now:
        """From a round loaded whole."""
        sources = {unit: obs.src for unit, obs in round_.observations.items() if obs.src is not None}
        sources.update((f"{unit}/{channel}", obs.src) for unit, found in round_.channels.items()
                       for channel, obs in found.items() if obs.src is not None)
        return cls(sources)

    @classmethod
    def of_checked(cls, checked: Any) -> Now:
        """From a file-by-file check of one round (gapctl.scoring.outcomes.check, `Checked`)."""
        plan = checked.plans[0]
        sources: dict[str, Any] = {}
        outcomes: dict[Path, Any] = {}
        for outcome in plan.outcomes:  # after the merge: the first file of each unit, and every channel's
            if outcome.unit is None:
                continue
            sources[f"{outcome.unit}/{outcome.channel}" if outcome.channel else outcome.unit] = outcome.src
            outcomes[Path(outcome.src.path)] = outcome
        return cls(sources, outcomes, plan.round.directory, plan.round.tree)

    def problems(self, path: Path) -> list[Any] | None:
        """What `validate` says of the file now (its own problems, evidence files included), when the check
        kept it; else None (read it)."""
        outcome = self.outcomes.get(Path(path)) if self.outcomes is not None else None
        if outcome is None or self.directory is None:
            return None
        from gapctl.scoring.validate import check_evidence_file

        evidence = [p for ev in outcome.evidence_files for p in check_evidence_file(self.directory, ev, self.tree)]
        return [*outcome.load_problems, *outcome.check_problems, *evidence]


@dataclass
class Origin:
    """Where an entry came from: its row and the column of each field."""

    row: int
    cols: dict[str, int]


class Plan:
    """One import in progress: the sheet, the problems and notes met, the entries and their origins."""

    def __init__(self, round_: Round, sheet: Sheet, force: bool, home: str | None = None,
                 period: str | None = None, now: Now | None = None, whole: Callable[[], Round] | None = None,
                 preview: bool = True):
        self.round, self.sheet, self.force = round_, sheet, force
        self.now = now or Now.of_round(round_)  # the round's files as they are
        self.whole = whole  # the round loaded whole, when `round_` holds its definitions only (see `read`)
        self.preview = preview  # keep each file as built after the import (for a score diff)
        self.home = home or round_.id  # the round imported into (a period's rows go to the period's round)
        self.period = period           # the period these rows are of (None: the round's own)
        self.paths: set[Path] = set()  # the files this plan writes
        self.leaves: dict[str, str] | None = None  # leaf id → name a matrix column may name (None: the round's)
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
    from gapctl.data.sources import read_file

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
         force: bool = False, limits: Limits = LIMITS, now: Now | None = None,
         whole: Callable[[], Round] | None = None, preview: bool = True) -> Imported:
    """Plan an import into a loaded round: the observation files it would write, or its problems.

    `mapping` maps other headers to fields, or names a mapping file (read_mapping). The round is
    expected to validate without errors (`gapctl import` checks first): errors after the import
    that were not there before are the import's.

    `round_` may hold the round's definitions only (loaded with `observations=False` and checked
    file by file, gapctl.scoring.outcomes): then `now` (Now.of_checked) tells its files, and `whole`
    loads the round whole for the sheets that need every observation (gapctl's matrix, a 渠道 or
    期次 column). `preview`: keep the round as it would be after (`Imported.after`, for a dry run's
    score diff); without it each planned file is checked but not kept.
    """
    out, plan, plans = _prepare(round_, path, mapping, sheet, force, limits, now, whole, preview)
    if plan is None:
        return out
    if not plan.problems:  # one log for every plan: the sheet's
        for each in plans:
            _plan_files(each, out)
    return _finish(out, plan, plans)


def _prepare(round_: Round, path: Path, mapping: dict[str, str] | Path | None, sheet: str | None, force: bool,
             limits: Limits, now: Now | None, whole: Callable[[], Round] | None, preview: bool
             ) -> tuple[Imported, Plan | None, list[Plan]]:
    """`read` up to the files: the sheet read into plans (None: the mapping file has problems, told in `out`)."""
    from gapctl.io import sheets
    if isinstance(mapping, Path):
        columns, mapping_problems = read_mapping(mapping)
        if mapping_problems:
            return Imported(problems=[f"{i.ref}: {i.message}" for i in mapping_problems], issues=mapping_problems), \
                None, []
        mapping = columns
    book = sheets.read(path, sheet, limits)
    out = Imported(from_csv=book.is_csv)
    plan = Plan(round_, book, force, now=now, whole=whole, preview=preview)
    plans = [plan]
    for merged in book.merged:
        plan.problem("merged", _("merged cells; unmerge them and fill every row"), at=f"{book.name}!{merged}")
    if book.rows:
        plans = _read_rows(plan, mapping or {}, out)
    elif not plan.problems:
        plan.problem("empty", _("the sheet holds no rows"))
    return out, plan, plans


def _finish(out: Imported, plan: Plan, plans: list[Plan]) -> Imported:
    """`read` after the files are planned: each checked as validate would; what the import says."""
    if not plan.problems and out.files:
        from gapctl.io.import_check import check_plan

        for each in plans:
            after = check_plan(each, out)
            if each is plan:
                out.after = after
            elif each.paths:
                out.periods[str(each.period)] = (each.round, after)
    out.entries = sum(len(e) for each in plans for e in each.planned.values())
    out.problems = plan.problems.lines()
    out.issues = plan.problems.items()
    out.notes = plan.notes.lines()
    out.replaced = [issue for each in plans for issue in each.replaced]
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


def _read_rows(plan: Plan, mapping: dict[str, str], out: Imported) -> list[Plan]:
    """Read the rows into `plan` — and rows of the round's periods (a 期次 column) into a plan for each
    period's round; the plans."""
    known = len(plan.problems)
    header, fields = _header(plan, mapping)
    if len(plan.problems) > known:  # the header is wrong: the rows cannot be read
        return [plan]
    names = set(fields.values())
    if plan.whole is not None and ("indicator" not in names or names & {"channel", "period"}):
        plan.round = plan.whole()  # these read the round's observations themselves
        plan.now, plan.whole = Now.of_round(plan.round), None
    plans = [plan]
    if "unit" in names and "period" in names:
        plans = _by_period(plan, fields)
        leaves: dict[str, str] = {}  # a matrix's columns are the indicators of every round its rows are of
        for each in plans:
            for scheme in each.round.schemes.values():
                for leaf in scheme.leaves():
                    leaves.setdefault(leaf.id, leaf.name)
        for each in plans:
            each.leaves = leaves
    for each in plans:
        _read_body(each, header, fields, out)
    return plans


def _read_body(plan: Plan, header: dict[int, str], fields: dict[int, str], out: Imported) -> None:
    names = set(fields.values())
    if "unit" in names and "indicator" not in names:
        from gapctl.io.import_wide import read_wide

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


def _by_period(plan: Plan, fields: dict[int, str]) -> list[Plan]:
    """`plan` keeps the rows without a period; the rows of each of the round's periods go to a plan over
    that period's round (rounds/<period>/, as the round's `periods` name it), checked like any round."""
    col = next(i for i, name in fields.items() if name == "period")
    sheet = plan.sheet
    own: list[tuple[int, dict[int, Any]]] = []
    by_period: dict[str, list[tuple[int, dict[int, Any]]]] = {}
    for r, values in sheet.rows[1:]:
        period = cleaned(plan, values[col], r, col, translate=True) if col in values else ""
        (by_period.setdefault(period, []) if period else own).append((r, values))
    plan.sheet = _view(sheet, own)
    plans = [plan]
    for period, rows in by_period.items():
        if period not in plan.round.periods:
            for r, _values in rows:
                plan.problem("unknown-period", _("'{period}' is not a period of round '{round}' (its periods: "
                                                 "{periods})").format(period=C.shown(period), round=plan.round.id,
                                                                      periods=", ".join(plan.round.periods) or "—"),
                             r, col)
            continue
        period_round = _period_round(plan, period, rows[0][0], col)
        if period_round is not None:
            plans.append(Plan(period_round, _view(sheet, rows), plan.force, home=plan.round.id, period=period,
                              preview=plan.preview))
    return plans


def _view(sheet: Sheet, rows: list[tuple[int, dict[int, Any]]]) -> Sheet:
    """The sheet's header and `rows`, sharing its problems and notes."""
    return Sheet(sheet.name, [sheet.rows[0], *rows], problems=sheet.problems, notes=sheet.notes, epoch=sheet.epoch,
                 is_csv=sheet.is_csv, base=sheet.base, base_round=sheet.base_round)


def _period_round(plan: Plan, period: str, row: int, col: int) -> Round | None:
    """The round of one of the round's periods, loaded and validated; None and a problem if it has errors."""
    from gapctl.api import check

    directory = Path(plan.round.directory).parent / period
    result = check(directory)
    if result.loaded.round is None or result.report.errors:
        plan.problem("period", _("the round of period '{period}' ({directory}) does not validate; fix it first: "
                                 "gapctl validate {directory}").format(period=period,
                                                                       directory=display_path(directory)), row, col)
        return None
    return result.loaded.round


def channel_of(round_: Round, unit_id: str, key: str) -> Any:
    """A unit's channel by its id or its name (the observations of rounds/<r>/channels/<unit>/<id>.yaml)."""
    channels = round_.channels.get(unit_id, {})
    found = channels.get(key)
    if found is None:
        named = [obs for obs in channels.values() if obs.channel_name == key]
        found = named[0] if len(named) == 1 else None
    return found


def unknown_channel(plan: Plan, unit: Any, key: str, row: int, col: int | None) -> None:
    channels = sorted(plan.round.channels.get(unit.id, {}))
    plan.problem("unknown-channel", _("{unit} has no channel '{channel}' (its channels: {channels}); a channel is "
                                      "added as its own file, channels/{unit_id}/<id>.yaml").format(
                                          unit=unit.name, channel=C.shown(key), channels=", ".join(channels) or "—",
                                          unit_id=unit.id), row, col)


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
        target, scheme, scored_as = unit.id, round_.scheme_for(unit), unit
        if cells.get("channel"):
            from gapctl.scoring.score import channel_scheme, channel_unit

            obs = channel_of(round_, unit.id, str(cells["channel"]))
            found = channel_scheme(round_, unit.id, obs) if obs is not None else None
            if obs is None or found is None:
                unknown_channel(plan, unit, str(cells["channel"]), r, cols.get("channel"))
                continue
            target, scheme, scored_as = f"{unit.id}/{obs.channel}", found[0], channel_unit(unit.id, obs)
        ind_key = str(cells.get("indicator") or "")
        ind = scheme.index.get(ind_key) if scheme else None
        if ind is None or not ind.is_leaf:
            plan.problem("unknown-indicator", _("unknown indicator '{indicator}' for {unit}").format(
                indicator=C.shown(ind_key), unit=scored_as.name), r, cols["indicator"])
            continue
        origin = Origin(r, {name: i for name, i in cols.items() if name in cells or name == "value"})
        entry = _entry(plan, ind, scored_as, cells, origin, out.from_csv)
        if entry is not None:
            plan.add(target, entry, origin)


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
MERGE_KEYS = frozenset((*VALUE_KEYS, "reason", "fix"))  # what `_merge` reads of an entry, besides the sheet's fields


def _plan_files(plan: Plan, out: Imported, results: Any = None) -> None:
    """The new bytes of each observation file. An existing file is edited in place (gapctl.data.entry_edits):
    entries the import does not change keep every byte, comment, key order and unknown key. `results`: each
    unit's `_plan_one`, in unit order, when they were made already (gapctl.io.import_pass)."""
    from gapctl.data.writes import round_root

    out.root = round_root(plan.round.directory)
    if results is None:
        results = _files_planned(plan, out, sorted(plan.planned.items()))
    for path, data, seen, issues, checked in results:
        for kind, issue in issues:  # what the unit's edit said, in the order it said it
            if kind == "replaced":
                plan.replaced.append(issue)
            else:
                (plan.problems if kind == "problem" else plan.notes).add(issue)
        if data is not None:
            out.files[path] = data
            out.seen[path] = seen
            out.checked[path] = checked
            plan.paths.add(path)


PARALLEL_FROM = 200  # units: below this one process is faster than starting a pool
BATCH = 50  # units a worker edits at a time
_JOB: tuple[Plan, Path | None, list[tuple[str, list[dict[str, Any]]]], str] | None = None  # for forked workers


def _files_planned(plan: Plan, out: Imported, items: list[tuple[str, list[dict[str, Any]]]]) -> Any:
    """`_plan_one` of each unit in order: in this process, or for many units in a pool of forked workers
    (GAPCTL_JOBS) that each edit a batch of files, put their new bytes in a spool file (`Spooled`: the parent
    never holds them all) and hand back where they are and what the edit said."""
    global _JOB
    from gapctl.scoring.outcomes import jobs_wanted

    root = out.root
    workers = min(jobs_wanted(), len(items) // (PARALLEL_FROM // 2) or 1)
    if len(items) < PARALLEL_FROM or workers < 2 or not hasattr(os, "fork"):
        for unit_id, entries in items:
            yield _plan_one(plan, root, unit_id, entries)
        return
    import shutil
    import tempfile
    import weakref

    from gapctl.scoring.executors import forked_pool

    batches = [(n, min(n + BATCH, len(items))) for n in range(0, len(items), BATCH)]
    # outside the repository (the system's temporary directory): a killed import leaves the tree as it was
    spool = tempfile.mkdtemp(prefix="gapctl-import-")
    weakref.finalize(out, shutil.rmtree, spool, ignore_errors=True)  # once the import is written (or dropped)
    _JOB = (plan, root, items, spool)
    try:
        with forked_pool(workers, renewed=False) as pool:
            for results in pool.imap(_batch, batches):
                yield from results
    finally:
        _JOB = None


def _batch(span: tuple[int, int]) -> list[tuple[Any, ...]]:
    plan, root, items, spool = _JOB  # type: ignore[misc]
    done = [_plan_one(plan, root, unit_id, entries) for unit_id, entries in items[span[0]:span[1]]]
    name, offset = os.path.join(spool, str(span[0])), 0
    with open(name, "wb") as out:  # not fsynced: the writing copies it into fsynced temporary files
        for n, (path, data, seen, said, checked) in enumerate(done):
            if data is not None:
                out.write(data)
                done[n] = (path, Spooled(name, offset, len(data)), seen, said, checked)
                offset += len(data)
    return done


class Spooled:
    """A file's new bytes kept in a worker's spool file (`length` bytes from `offset`): read in chunks when
    written (gapctl.data.writes takes any iterable of bytes), whole by `bytes()`."""

    __slots__ = ("name", "offset", "length")  # one per file edited, kept until written
    CHUNK = 1 << 20

    def __init__(self, name: str, offset: int, length: int):
        self.name, self.offset, self.length = name, offset, length

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        with open(self.name, "rb") as spool:
            spool.seek(self.offset)
            left = self.length
            while left:
                chunk = spool.read(min(left, self.CHUNK))
                if not chunk:
                    raise OSError(errno.EIO, os.strerror(errno.EIO), self.name)  # cut short: nothing is written
                left -= len(chunk)
                yield chunk

    def __bytes__(self) -> bytes:
        return b"".join(self)


class Seen:
    """How a file was when read, as far as writing it needs (gapctl.data.writes compares st_dev, st_ino, st_size
    and st_mtime_ns): what an import keeps of its os.stat_result, one per file edited, until it is written."""

    __slots__ = ("st_dev", "st_ino", "st_size", "st_mtime_ns")

    def __init__(self, st_dev: int, st_ino: int, st_size: int, st_mtime_ns: int):
        self.st_dev, self.st_ino, self.st_size, self.st_mtime_ns = st_dev, st_ino, st_size, st_mtime_ns

    @classmethod
    def of(cls, st: Any) -> Seen | None:
        return None if st is None else cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class _Said:
    """Stands in for a plan's problem and note logs (`add`) and its `replaced` list (`append`) while one
    unit is edited: keeps what is said, to be told to the plan in order (here or by a worker's parent)."""

    def __init__(self, kind: str, said: list[tuple[str, Any]]):
        self.kind, self.said = kind, said

    def add(self, issue: Any) -> None:
        self.said.append((self.kind, issue))

    append = add


def _plan_one(plan: Plan, root: Path | None, unit_id: str, entries: list[dict[str, Any]], opened: Any = None,
              before: Callable[[], list[Any] | None] | None = None, old: Callable[[], Any] | None = None
              ) -> tuple[Path, bytes | None, os.stat_result | None, list[tuple[str, Any]], Any]:
    """One unit's file: (its path, its new bytes or None, how it was when read (None: a new file), what the
    edit said: ("problem" | "note" | "replaced", issue) in order, its check (gapctl.io.import_check.check_file)).
    An existing file is edited in place: entries the import does not change keep every byte, comment, key
    order and unknown key. `opened(path, root)`: reads the existing file (read_original) and gives it with its
    parse, where the caller reads it (default: read here); `before()`: what validate says of it now, if known;
    `old()`: (its data, its observations) as that check built them, if known (import_check.check_file)."""
    from gapctl.io.import_check import check_file

    with telling(plan) as said:
        path = _observation_path(plan, unit_id)
        data, seen, parsed = _new_bytes(plan, root, path, unit_id, entries, opened)
    # checked here too, where the bytes are (in a worker for a large import); used if the plan has no problems
    checked = check_file(plan, path, data, seen is not None, parsed, before() if before else None,
                         old() if old else None) if data is not None else None
    return path, data, seen, said, checked


@contextmanager
def telling(plan: Plan) -> Iterator[list[tuple[str, Any]]]:
    """While it lasts, what is said on `plan` (problems, notes, replaced observations) is kept in the list
    it gives, in order, instead: to be told to the plan later, in the order one process would tell it."""
    said: list[tuple[str, Any]] = []
    kept = plan.problems, plan.notes, plan.replaced
    plan.problems, plan.notes, plan.replaced = (  # type: ignore[assignment]
        _Said("problem", said), _Said("note", said), _Said("replaced", said))
    try:
        yield said
    finally:
        plan.problems, plan.notes, plan.replaced = kept


def _new_bytes(plan: Plan, root: Path | None, path: Path, unit_id: str, entries: list[dict[str, Any]],
               opened: Any = None) -> tuple[bytes | None, os.stat_result | None, Any]:
    """The file's new bytes (None: nothing to write, or a problem said), how it was when read (None: a new
    file), and the new bytes as read back when the edit read them (a Parsed, else None)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from gapctl.data import schema as S
    from gapctl.data.entry_edits import EntryEdits
    from gapctl.data.writes import WriteError, read_original, refusal
    from gapctl.data.yaml_edit import round_trip_yaml
    from gapctl.io.fmt import format_text

    first = plan.origins[(unit_id, entries[0]["indicator"])]
    try:
        if path.suffix.lower() not in (".yaml", ".yml"):
            raise WriteError(_("{file} is TOML; gapctl import edits YAML observation files only: enter these "
                               "rows there by hand, or rewrite the file as YAML").format(file=display_path(path)))
        if os.path.lexists(path):
            # only the entries the import changes are rewritten, each in its own lines (gapctl.data.entry_edits)
            original, parsed = opened(path, root) if opened is not None else (read_original(path, root), None)
            file = EntryEdits(original, "results", _with_decimals, parsed)
            if not isinstance(file.data, dict) or not isinstance(file.data.get("results", []), list):
                raise WriteError(_("{file}: 'results' is not a list of entries; not written (fix the file "
                                   "first: gapctl validate)").format(file=display_path(path)))
            if "results" not in file.data:
                file.whole.set(file.whole.data, "results", CommentedSeq(), S.OBSERVATIONS)
            if _merge(plan, file, unit_id, entries):
                return file.new_bytes(), file.original.seen, file.after
            return None, None, None
        why = refusal(path, root)
        if why:
            raise WriteError(why)
    except WriteError as err:
        plan.problem("file", str(err), first.row)
        return None, None, None
    yaml = round_trip_yaml()
    yaml.representer.add_representer(Decimal, _represent_decimal)
    data = CommentedMap([("unit", unit_id), ("results", CommentedSeq(CommentedMap(e.items()) for e in entries))])
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return format_text(buffer.getvalue(), "observations").encode("utf-8"), None, None


def _observation_path(plan: Plan, unit_id: str) -> Path:
    """The unit's observation file: the one the round has (whatever its suffix), else <unit>.yaml; a
    channel's (`<unit>/<channel>`), its file under channels/."""
    round_ = plan.round
    found = plan.now.sources.get(unit_id)
    if found is not None:
        return found.path
    if "/" in unit_id:
        unit, channel = unit_id.split("/", 1)
        return round_.directory / "channels" / unit / f"{channel}.yaml"
    for suffix in (".yaml", ".yml", ".toml"):
        candidate = round_.directory / "observations" / f"{unit_id}{suffix}"
        if os.path.lexists(candidate):
            return candidate
    return round_.directory / "observations" / f"{unit_id}.yaml"


def _with_decimals(edit: Any) -> None:
    edit.yaml.representer.add_representer(Decimal, _represent_decimal)


def _merge(plan: Plan, file: Any, unit_id: str, entries: list[dict[str, Any]]) -> bool:
    """Merge `entries` into an existing file's results; whether anything changed. An observation already
    recorded is replaced only with --force (or when gapctl's own export shows the cell edited since);
    a replaced value's old 扣分理由 and 整改要求 are marked STALE_MARK unless the sheet gives new ones."""
    from ruamel.yaml.comments import CommentedMap

    from gapctl.data import schema as S

    existing = {str(e.get("indicator")): i for i, e in enumerate(file.data.get("results") or [])
                if isinstance(e, dict) and e.get("source", "evaluator") == "evaluator"}
    changed = False
    for entry in entries:
        index = existing.get(entry["indicator"])
        if index is None:
            file.append(CommentedMap(entry.items()))
            changed = True
            continue
        edit, old = file.item(index, MERGE_KEYS.union(entry))
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
    from gapctl.data import schema as S
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

    from gapctl.data.sources import read_file
    from gapctl.scoring.load import build_observations

    after = copy.copy(round_)
    after.observations = dict(round_.observations)
    for path, text in plan.files.items():
        parsed = read_file(path, bytes(text), keep_text=True)
        obs = build_observations(parsed.src, parsed.data, []) if parsed.data is not None else None
        if obs is not None:
            after.observations[obs.unit] = obs
    return after


def _represent_decimal(representer: Any, value: Decimal) -> Any:
    """Decimals as written numbers: 2 stays 2, 0.25 stays 0.25 (never a binary float)."""
    from gapctl.scheme.rules import num

    tag = "tag:yaml.org,2002:int" if value == value.to_integral_value() else "tag:yaml.org,2002:float"
    return representer.represent_scalar(tag, num(value))


def write(plan: Imported) -> list[Path]:
    """Write every planned file atomically, all or none (gapctl.data.writes); callers only call this when the
    plan has no problems. Raises WriteError (a file changed since it was read, a symbolic link …)."""
    from gapctl.data.writes import Write, write_files

    return write_files([Write(path, data, plan.seen.get(path), new=plan.seen.get(path) is None)
                        for path, data in sorted(plan.files.items())], plan.root)
