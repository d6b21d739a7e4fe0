"""Property tests of `gapctl import` (issue #16): a row import accepts never makes `validate` fail.

Generated sheets, as CSV and as xlsx, over a small round with four rule kinds: units by id or
name (with stray spaces, full-width digits or unknown), indicators known, unknown or groups,
results in every word, values in every spelling (85%, １２, 1e2, NaN, sNaN, 1e999999999, 1,000, -5,
TRUE, …), dates in every format people type (2024/12/15, 2024年12月15日, 2024.12.15, Excel serial
numbers, date and time cells, 15/12/2024, 2021-02-30 …) and reasons with formulas, control and
bidi characters. For every sheet:

- `import` never raises; a refused sheet writes nothing and every problem names its sheet, and
  its row and column when it is about a cell;
- an accepted sheet, once written, validates without errors, and every date it wrote is the
  day the cell meant, as YYYY-MM-DD;
- with rows that are right but for their dates, exactly the dates no one can read are refused,
  each at its row and the date's column.

Deterministic (derandomize, no example database) and bounded, so the suite stays fast.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gapctl.api import check
from gapctl.io import importer
from tests.conftest import kinds_round, write_repo
from tests.workbooks import cell, row, xlsx

SETTINGS = settings(derandomize=True, database=None, max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
HEADER = ["单位", "指标", "结果", "数值", "日期", "扣分理由"]
EPOCH = dt.date(1899, 12, 30)
VALID = {"1.1": ("完成", None), "1.2": (None, "1"), "2": (None, "lead"), "3": (None, "0.5")}  # (result, value)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = write_repo(tmp_path_factory.mktemp("template"), kinds_round("导入性质"))
    assert not check(repo / "rounds/r1").report.problems
    return repo


_made = [0]


def _fresh(template: Path, tmp_path: Path) -> Path:
    _made[0] += 1
    repo = tmp_path / f"r{_made[0]}"
    shutil.copytree(template, repo)
    return repo


# --- what people type ------------------------------------------------------------------

FULLWIDTH = str.maketrans("0123456789/.-", "０１２３４５６７８９／．－")
days = st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31))


@st.composite
def dates(draw: Any, xlsx_cells: bool) -> tuple[Any, dt.date | None]:
    """(the cell as typed, the day it means or None when no one can tell)."""
    day = draw(days)
    y, m, d = day.year, day.month, day.day
    serial = (day - EPOCH).days
    readable = [
        f"{y:04d}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}/{m:02d}/{d:02d}", f"{y}.{m}.{d}", f"{y}-{m}-{d}",
        f"{y}年{m}月{d}日", f"{y}年{m:02d}月{d:02d}日", f"{y}年{m}月{d}号", f"{y}年{m}月{d}",
        f"{y}-{m:02d}-{d:02d} 10:30", f"{y}/{m}/{d} 08:00:00", f" {y}-{m:02d}-{d:02d} ", str(serial),
    ]
    choice = draw(st.integers(0, 9))
    if choice <= 4:
        text = draw(st.sampled_from(readable))
        if draw(st.booleans()):
            text = text.translate(FULLWIDTH)
        return text, day
    if choice == 5 and xlsx_cells:
        return draw(st.sampled_from([("serial", serial), ("date", serial), ("date", serial + 0.75)])), day
    if choice == 6 and xlsx_cells:
        return ("time", draw(st.sampled_from([0.5, 0.25]))), None
    bad_day = draw(st.sampled_from([(y, 2, 30), (y, 13, 1), (y, 4, 31), (y, 0, 5), (y, 6, 0)]))
    unreadable = [
        f"{bad_day[0]}-{bad_day[1]:02d}-{bad_day[2]:02d}", f"{bad_day[0]}/{bad_day[1]}/{bad_day[2]}",
        f"{bad_day[0]}年{bad_day[1]}月{bad_day[2]}日", f"{d:02d}/{m:02d}/{y}", f"{y}{m:02d}{d:02d}",
        str(y), "100", "3000000", "明天", "2024-12", "12:30", "NaN", "-45641", "45641.5.1",
    ]
    return draw(st.sampled_from(unreadable)), None


numbers_typed = st.sampled_from([
    "0.5", "1", "0", "3", "2", "85%", "１", "０．５", "1e0", "5E-1", " 0.5 ", "+1", "0.50",
    "NaN", "nan", "Infinity", "-Infinity", "sNaN", "1e999999999", "-5", "1.5", "2.5", "1,000", "0x1", "",
    "1" * 80, "1e15", "0.0000000000000001", "lead", "lead,plan", "明确分管领导、研究部署", "plan，lead", "x",
])
units_typed = st.sampled_from(["a", "b", "区财政局", "区档案馆", " a ", "ａ", "c", "", "区统计局"])
indicators_typed = st.sampled_from(["1.1", "1.2", "2", "3", "１.１", "9", "1", ""])
results_typed = st.sampled_from([None, "完成", "未完成", "不适用", "无佐证", "待评估", "done", "√", "×", "好", "TRUE"])
reasons_typed = st.sampled_from([None, "栏目未更新", "=HYPERLINK(\"http://x\",\"点\")", "+1", "第１项\t缺失",
                                 "a\x1bb", "\u202e反转", "行一\n行二", "'引号'", "x" * 300])


def _xlsx_value(ref: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        kind, number = value
        return cell(ref, number, style={"serial": None, "date": 1, "time": 2}[kind])
    if isinstance(value, bool):
        return cell(ref, int(value), kind="b")
    if isinstance(value, Decimal | int | float):
        return cell(ref, value)
    return cell(ref, value)


def _sheet_bytes(rows: list[list[Any]], as_xlsx: bool) -> bytes:
    if as_xlsx:
        body = "".join(row(r, *(_xlsx_value(f"{chr(65 + i)}{r}", v) for i, v in enumerate(values)))
                       for r, values in enumerate([HEADER, *rows], start=1))
        return xlsx(body)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for values in [HEADER, *rows]:
        writer.writerow(["" if v is None else (str(v[1]) if isinstance(v, tuple) else str(v)) for v in values])
    return buffer.getvalue().encode("utf-8")


def _written_dates(repo: Path) -> dict[tuple[str, str], dt.date]:
    round_ = check(repo / "rounds/r1").loaded.round
    return {(unit, r.indicator): r.observed_at for unit, obs in round_.observations.items()
            for r in obs.results if r.observed_at is not None}


def _run(repo: Path, rows: list[list[Any]], as_xlsx: bool) -> importer.Imported:
    name = "sheet.xlsx" if as_xlsx else "sheet.csv"
    (repo / name).write_bytes(_sheet_bytes(rows, as_xlsx))
    before = {p: p.read_bytes() for p in (repo / "rounds/r1/observations").iterdir()}
    plan = importer.read(check(repo / "rounds/r1").loaded.round, repo / name, force=True)
    after = {p: p.read_bytes() for p in (repo / "rounds/r1/observations").iterdir()}
    assert after == before  # planning writes nothing
    return plan


CELL_CODES = {"unknown-unit", "unknown-indicator", "result", "needs-value", "not-a-number", "number-bounds",
              "not-whole", "bad-date", "unknown-item", "duplicate-row", "text-number", "formula", "cell-error"}


GOOD = {  # (result, value) as typed that an indicator's rule can take
    "1.1": [("完成", None), ("未完成", None), ("不适用", None), ("done", None), ("√", None), ("×", None),
            ("无佐证", None), ("待评估", None), ("完成", "x")],
    "1.2": [(None, v) for v in ("0", "1", "3", "2.0", "１", "1e0", "+2", "5", 3, Decimal("2.0"))] + [("不适用", None)],
    "2": [(None, v) for v in ("lead", "lead,plan", "明确分管领导、研究部署", "plan，lead", "plan")]
    + [("待评估", None)],
    "3": [(None, v) for v in ("0.5", "85%", "０．５", "1", "0", "0.25 ", "1e-1", Decimal("0.5"), 0.30000000000000004)]
    + [("不适用", "0.5")],
}
GATE = {  # … that read as numbers but the rule cannot take: only the validate gate refuses them
    "1.1": [("完成", None)], "1.2": [(None, "5")], "2": [(None, "lead")],
    "3": [(None, v) for v in ("1.5", "-5", "150%", "-0.25", "1.0000001", Decimal("2"))],
}
BAD = {  # … and that are no values at all
    "1.1": [(None, None), ("好", None), (None, "1")],
    "1.2": [(None, v) for v in ("-1", "2.5", "1e999999999", "NaN", "三次", True)],
    "2": [(None, v) for v in ("lead,x", "", "1")],
    "3": [(None, v) for v in ("NaN", "sNaN", "Infinity", "1e999999999", "1/2", 1e300, True, ("date", 45641),
                              "1" * 70)],
}


@st.composite
def any_rows(draw: Any, as_xlsx: bool) -> list[list[Any]]:
    """Rows that are mostly plausible (known units and indicators once each, values the rule can take)
    and sometimes not, so that about half the sheets are accepted."""
    pairs = draw(st.permutations([(u, i) for u in ("a", "b") for i in VALID]))
    rows = []
    for unit, indicator in pairs[:draw(st.integers(1, 3))]:
        unit = draw(st.sampled_from([unit, unit, {"a": "区财政局", "b": "区档案馆"}[unit], f" {unit}"]))
        kind = draw(st.sampled_from([GOOD, GOOD, GATE, BAD]))
        result, value = draw(st.sampled_from(kind[indicator]))
        if draw(st.sampled_from([False] * 12 + [True])):
            unit, indicator, result, value = (draw(units_typed), draw(indicators_typed), draw(results_typed),
                                              draw(numbers_typed))
        if not as_xlsx and not isinstance(value, str | None):
            value = str(value[1]) if isinstance(value, tuple) else str(value)
        date = draw(dates(as_xlsx))[0] if draw(st.booleans()) else None
        rows.append([unit, indicator, result, value, date, draw(reasons_typed)])
    return rows


@pytest.mark.parametrize("as_xlsx", [False, True], ids=["csv", "xlsx"])
def test_whatever_import_accepts_validates(template: Path, tmp_path: Path, as_xlsx: bool) -> None:
    @SETTINGS
    @given(any_rows(as_xlsx))
    def check_sheet(rows: list[list[Any]]) -> None:
        repo = _fresh(template, tmp_path)
        plan = _run(repo, rows, as_xlsx)
        name = "sheet.xlsx" if as_xlsx else "sheet.csv"
        sheet_name = "评估结果" if as_xlsx else name
        if plan.problems:
            assert plan.issues, plan.problems
            for issue in plan.issues:
                assert issue.sheet == sheet_name
                if issue.code in CELL_CODES:
                    assert issue.row is not None and issue.col is not None, issue
                    assert issue.ref.startswith(f"{sheet_name}!")
            assert all(line.startswith((sheet_name, "…")) for line in plan.problems), plan.problems
            return
        importer.write(plan)
        result = check(repo / "rounds/r1")
        assert not result.report.errors, [f"{p.locate()}: {p.message}" for p in result.report.errors]
        for text in (p.read_text(encoding="utf-8") for p in (repo / "rounds/r1/observations").iterdir()):
            for line in text.splitlines():
                if line.strip().startswith("observed_at:"):
                    assert dt.date.fromisoformat(line.split(":", 1)[1].strip())

    check_sheet()


@pytest.mark.parametrize("as_xlsx", [False, True], ids=["csv", "xlsx"])
def test_dates_are_written_as_meant_or_refused_at_their_cell(template: Path, tmp_path: Path, as_xlsx: bool) -> None:
    pairs = [(u, i) for u in ("a", "b") for i in VALID]

    @SETTINGS
    @given(st.lists(st.sampled_from(range(len(pairs))), min_size=1, max_size=8, unique=True),
           st.data())
    def check_dates(chosen: list[int], data: Any) -> None:
        repo = _fresh(template, tmp_path)
        rows, meant = [], {}
        for index in chosen:
            unit, indicator = pairs[index]
            typed, day = data.draw(dates(as_xlsx))
            result, value = VALID[indicator]
            rows.append([unit, indicator, result, value, typed, "理由"])
            meant[(unit, indicator)] = day
        plan = _run(repo, rows, as_xlsx)
        refused = {(r, 4, "bad-date") for r, key in enumerate(meant, start=2) if meant[key] is None}
        assert {(i.row, i.col, i.code) for i in plan.issues} == refused, plan.problems
        if refused:
            return
        importer.write(plan)
        assert not check(repo / "rounds/r1").report.errors
        written = _written_dates(repo)
        assert {key: written.get(key) for key in meant} == meant
        for path in (repo / "rounds/r1/observations").iterdir():
            for line in path.read_text(encoding="utf-8").splitlines():
                if "observed_at:" in line:
                    assert len(line.split(":", 1)[1].strip()) == 10  # YYYY-MM-DD, nothing else

    check_dates()
