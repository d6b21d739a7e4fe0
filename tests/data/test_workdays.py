"""Working days of China's official calendar: holidays skipped, 调休 make-up days counted."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gapctl.data.workdays import CalendarFile, WorkCalendar, load_calendar_files, package_covers

FUTURE = 2031  # beyond chinese-calendar's data (it covers 2004 up to the latest State Council notice)


def _calendars(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "calendars"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_shanwei_appeal_window_skips_national_day_and_counts_the_saturday_make_up_day():
    cal = WorkCalendar()
    published = date(2021, 9, 29)  # Wednesday: preliminary result published
    assert cal.add_working_days(published, 1) == date(2021, 9, 30)  # Thursday
    assert cal.add_working_days(published, 2) == date(2021, 10, 8)  # Friday, after 10-01..07
    assert cal.add_working_days(published, 3) == date(2021, 10, 9)  # Saturday, 调休 working day
    assert cal.working_days_between(published, date(2021, 10, 9)) == 3
    assert cal.working_days_between(published, date(2021, 10, 7)) == 1
    assert cal.is_working_day(date(2021, 9, 26))  # Sunday, make-up day for National Day
    assert not cal.is_working_day(date(2021, 10, 4))  # Monday inside the holiday
    assert cal.known(published) and cal.unknown_dates([published, date(2021, 10, 9)]) == []


def test_repository_calendar_file_defines_a_year_the_package_does_not_know(tmp_path):
    assert not package_covers(FUTURE)
    root = _calendars(tmp_path, **{str(FUTURE): f"""\
name: {FUTURE}年国务院办公厅节假日安排
years: [{FUTURE}]
holidays: [{FUTURE}-10-01, {FUTURE}-10-02, {FUTURE}-10-03, {FUTURE}-10-04, {FUTURE}-10-05,
           {FUTURE}-10-06, {FUTURE}-10-07]
workdays: [{FUTURE}-09-28, {FUTURE}-10-11]
"""})
    files, problems = load_calendar_files(root)
    assert problems == []
    assert [(f.name, f.years, len(f.holidays), len(f.workdays)) for f in files] == [
        (f"{FUTURE}年国务院办公厅节假日安排", {FUTURE}, 7, 2)]
    cal = WorkCalendar(files)
    assert cal.is_working_day(date(FUTURE, 9, 28))  # Sunday, make-up day
    assert not cal.is_working_day(date(FUTURE, 10, 3))  # Friday, holiday
    assert cal.is_working_day(date(FUTURE, 10, 11))  # Saturday, make-up day
    assert cal.add_working_days(date(FUTURE, 9, 29), 3) == date(FUTURE, 10, 9)  # 09-30, 10-08, 10-09
    assert cal.is_working_day(date(FUTURE, 3, 3)) and not cal.is_working_day(date(FUTURE, 3, 1))  # Mon / Sat
    assert cal.known(date(FUTURE, 6, 1))
    assert not cal.known(date(FUTURE + 1, 6, 1))
    assert not WorkCalendar().known(date(FUTURE, 6, 1))
    assert cal.unknown_dates([date(FUTURE + 1, 2, 2), date(FUTURE, 2, 2), date(FUTURE + 1, 2, 2)]) == [
        date(FUTURE + 1, 2, 2)]


def test_unknown_year_without_files_falls_back_to_monday_to_friday():
    cal = WorkCalendar()
    assert not cal.known(date(FUTURE, 10, 1))
    assert cal.is_working_day(date(FUTURE, 10, 1))  # a Wednesday: no notice known, so counted as work
    assert not cal.is_working_day(date(FUTURE, 10, 4))  # Saturday
    assert cal.add_working_days(date(FUTURE, 10, 3), 1) == date(FUTURE, 10, 6)  # Fri → Mon
    assert cal.unknown_dates([date(FUTURE, 10, 1), date(2021, 10, 1)]) == [date(FUTURE, 10, 1)]


def test_a_file_overrides_the_package_date_by_date(tmp_path):
    root = _calendars(tmp_path, fix="""\
name: 本地调整
holidays: [2021-09-30]
workdays: [2021-10-04]
""")
    files, problems = load_calendar_files(root)
    assert problems == []
    cal = WorkCalendar(files)
    assert cal.is_working_day(date(2021, 10, 4))  # a package holiday, declared a working day
    assert not cal.is_working_day(date(2021, 9, 30))  # a package working day, declared a holiday
    assert cal.is_working_day(date(2021, 10, 9))  # dates the file does not list still come from the package
    assert not cal.is_working_day(date(2021, 10, 5))
    assert cal.add_working_days(date(2021, 9, 29), 2) == date(2021, 10, 8)  # 10-04, 10-08


def test_a_file_that_fully_defines_a_known_year_replaces_the_package_for_that_year():
    own = CalendarFile(Path("calendars/2021.yaml"), holidays={date(2021, 10, 1)}, workdays=set(), years={2021})
    cal = WorkCalendar([own])
    assert not cal.is_working_day(date(2021, 10, 1))
    assert cal.is_working_day(date(2021, 10, 4))  # not in the file: plain Monday
    assert not cal.is_working_day(date(2021, 10, 9))  # not in the file: plain Saturday


def test_bad_calendar_files_give_messages_not_exceptions(tmp_path):
    root = _calendars(
        tmp_path,
        a_bad="""\
name: 2031年安排
years: [2031, next]
holidays: [2031-10-01, 2031-02-30, next monday]
workdays: 2031-09-28
extra: 1
""",
        b_broken="holidays: [2031-10-01\n",
        c_both="holidays: [2031-05-01]\nworkdays: [2031-05-01]\n",
        d_list="- 2031-10-01\n",
        e_empty="",
    )
    files, problems = load_calendar_files(root)
    assert [f.path.stem for f in files] == ["a_bad", "c_both"]
    bad = files[0]
    assert bad.years == {2031} and bad.holidays == {date(2031, 10, 1)} and bad.workdays == set()
    text = "\n".join(problems)
    for expected in ("a_bad.yaml:2:", "'next' is not a year",
                     "a_bad.yaml:3:", "'2031-02-30' is not a date", "'next monday' is not a date",
                     "a_bad.yaml:4:", "workdays must be a list",
                     "a_bad.yaml:5:1: unknown key 'extra'",
                     "b_broken.yaml:", "YAML syntax error",
                     "c_both.yaml:", "2031-05-01 is listed both as a holiday and as a working day",
                     "d_list.yaml:", "must be a mapping",
                     "e_empty.yaml:", "empty"):
        assert expected in text, expected
    assert len(problems) == 9
    WorkCalendar(files).is_working_day(date(2031, 5, 1))  # still usable


def test_contradicting_files_are_reported_and_the_later_one_wins(tmp_path):
    root = _calendars(tmp_path, a="holidays: [2031-05-03]\n", b="workdays: [2031-05-03]\n")
    files, problems = load_calendar_files(root)
    assert len(problems) == 1 and "2031-05-03 contradicts" in problems[0] and problems[0].endswith("b.yaml")
    assert WorkCalendar(files).is_working_day(date(2031, 5, 3))


def test_no_calendars_folder_is_fine(tmp_path):
    assert load_calendar_files(tmp_path) == ([], [])


@given(st.dates(min_value=date(2019, 1, 1), max_value=date(2028, 12, 31)), st.integers(-40, 40))
def test_counting_and_adding_agree(start, n):
    cal = _SHARED
    end = cal.add_working_days(start, n)
    assert cal.working_days_between(start, end) == n
    if n:
        assert cal.is_working_day(end)


_SHARED = WorkCalendar()


def test_importing_the_module_does_not_import_the_calendar_package():
    code = "import sys, gapctl.data.workdays; print('chinese_calendar' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
