"""Working days of China's official calendar, for counting appeal windows (复核/申诉期限).

Public holidays are not working days and the weekend make-up days (调休, e.g. Saturday
2021-10-09) are. The `chinese-calendar` package is the primary source: it has every
State Council notice from 2004 on, 调休 included, and refuses years it has no notice for
instead of guessing. A repository extends or corrects it with calendar files kept as data
(`calendars/*.yaml`), for a year whose notice is out before the package's next release.
The package is imported lazily so `gapctl --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gapctl.i18n import _

CALENDAR_DIR = "calendars"
CALENDAR_KEYS = ("name", "years", "holidays", "workdays")
_ONE_DAY = timedelta(days=1)


@dataclass
class CalendarFile:
    """One repository calendar: `years` it fully defines, and dates it declares either way."""

    path: Path
    holidays: set[date] = field(default_factory=set)
    workdays: set[date] = field(default_factory=set)  # make-up working days (调休上班)
    years: set[int] = field(default_factory=set)
    name: str = ""
    assumptions: list[Any] = field(default_factory=list)  # `assumed` marks (gapctl.data.assumptions)


def load_calendar_files(root: Path) -> tuple[list[CalendarFile], list[str]]:
    """Read `<root>/calendars/*.yaml` in name order; bad entries become messages, never exceptions."""
    folder = Path(root) / CALENDAR_DIR
    if not folder.is_dir():
        return [], []
    files: list[CalendarFile] = []
    messages: list[str] = []
    # every entry but a directory: a link or a FIFO is refused when read (gapctl.data.reads), not skipped
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml")
                   and not p.name.startswith(".") and not p.is_dir())
    for path in paths:
        calendar, problems = _load_one(path, Path(root))
        messages.extend(problems)
        if calendar is not None:
            files.append(calendar)
    messages.extend(_conflicts(files))
    return files, messages


def _load_one(path: Path, root: Path | None = None) -> tuple[CalendarFile | None, list[str]]:
    from gapctl.data.sources import read_file

    parsed = read_file(path, root=root)
    src = parsed.src
    messages = [f"{p.locate()}: {p.message}" for p in parsed.problems]
    if parsed.data is None:
        return None, messages

    def say(at: tuple[Any, ...], message: str, on: str = "value") -> None:
        messages.append(f"{src.locate(at, on)}: {message}")

    data = parsed.data
    if not isinstance(data, dict):
        say((), _("a calendar file must be a mapping with keys {keys}").format(keys=", ".join(CALENDAR_KEYS)))
        return None, messages
    calendar = CalendarFile(path)
    if "assumed" in data:  # a calendar's dates may be assumed too (a year whose notice is not out yet)
        from gapctl.data import schema as S
        from gapctl.data.assumptions import collect

        found: list[Any] = []
        reader = S.Reader(src, found)
        reader.read({key: S.F("any") for key in CALENDAR_KEYS},
                    {k: v for k, v in data.items() if k in CALENDAR_KEYS or k in S.ASSUMPTION_KEYS}, (), "calendar")
        messages += [f"{p.locate()}: {p.message}" for p in found]
        calendar.assumptions = collect("calendar", data, reader.assumed, src)
    for key in data:
        if key not in CALENDAR_KEYS and key not in ("assumed", "assumed_note"):
            say((key,), _("unknown key {key}; expected one of: {keys}").format(
                key=repr(key), keys=", ".join(CALENDAR_KEYS)), on="key")
    name = data.get("name")
    if name is not None:
        if isinstance(name, str):
            calendar.name = name
        else:
            say(("name",), _("name must be text, such as 2026年国务院办公厅节假日安排"))
    for i, year in _items(data, "years", say):
        if isinstance(year, int) and not isinstance(year, bool) and 1949 <= year <= 2200:
            calendar.years.add(year)
        else:
            say(("years", i), _("{value} is not a year (write years: [2026])").format(value=repr(year)))
    for key in ("holidays", "workdays"):
        target = calendar.holidays if key == "holidays" else calendar.workdays
        for i, value in _items(data, key, say):
            day = _parse_date(value)
            if day is None:
                say((key, i), _("{value} is not a date (write YYYY-MM-DD, such as 2026-10-01)").format(
                    value=repr(value)))
            else:
                target.add(day)
    for day in sorted(calendar.holidays & calendar.workdays):
        say(("workdays",), _("{day} is listed both as a holiday and as a working day").format(day=day))
    return calendar, messages


def _items(data: dict[str, Any], key: str, say: Any) -> list[tuple[int, Any]]:
    """The entries of list `key`, or none (with a message) when it is not a list."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        say((key,), _("{key} must be a list, such as {key}: [{example}]").format(
            key=key, example="2026" if key == "years" else "2026-10-01"))
        return []
    return list(enumerate(value))


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _conflicts(files: list[CalendarFile]) -> list[str]:
    """Dates one file calls a holiday and another a working day: the later file wins, but say so."""
    from gapctl.data.sources import display_path

    messages = []
    for i, first in enumerate(files):
        for second in files[i + 1:]:
            for day in sorted((first.holidays & second.workdays) | (first.workdays & second.holidays)):
                messages.append(f"{display_path(second.path)}: " + _("{day} contradicts {other}; using {used}").format(
                    day=day, other=display_path(first.path), used=second.path.name))
    return messages


class WorkCalendar:
    """Is a day a working day: repository files first, then `chinese-calendar`, then Mon–Fri."""

    def __init__(self, files: Iterable[CalendarFile] = ()) -> None:
        self.files = list(files)
        self._declared: dict[date, bool] = {}
        self._file_years: set[int] = set()
        for calendar in self.files:  # later files win
            self._declared.update(dict.fromkeys(calendar.holidays, False))
            self._declared.update(dict.fromkeys(calendar.workdays, True))
            self._file_years |= calendar.years
        self._package_years: dict[int, bool] = {}
        self._cache: dict[date, bool] = {}

    def is_working_day(self, d: date) -> bool:
        d = _as_date(d)
        found = self._cache.get(d)
        if found is None:
            found = self._cache[d] = self._decide(d)
        return found

    def _decide(self, d: date) -> bool:
        declared = self._declared.get(d)
        if declared is not None:
            return declared
        if d.year not in self._file_years and self._package_knows(d.year):
            import chinese_calendar

            return bool(chinese_calendar.is_workday(d))
        return d.weekday() < 5

    def _package_knows(self, year: int) -> bool:
        known = self._package_years.get(year)
        if known is None:
            known = self._package_years[year] = package_covers(year)
        return known

    def known(self, d: date) -> bool:
        """True when a calendar file or the package has the official arrangement for d's year."""
        year = _as_date(d).year
        return year in self._file_years or self._package_knows(year)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (before it when n < 0); `start` itself never counts."""
        day, step, left = _as_date(start), (_ONE_DAY if n >= 0 else -_ONE_DAY), abs(n)
        while left:
            day += step
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after a up to and including b; negative when b is before a.

        So `working_days_between(a, add_working_days(a, n)) == n` for every n.
        """
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -sum(1 for day in _days(b, a - _ONE_DAY) if self.is_working_day(day))
        return sum(1 for day in _days(a + _ONE_DAY, b) if self.is_working_day(day))

    def unknown_dates(self, dates: Iterable[date]) -> list[date]:
        """The dates (sorted, once each) in years no calendar data covers: counted as plain Mon–Fri."""
        return sorted({d for d in map(_as_date, dates) if not self.known(d)})


def package_covers(year: int) -> bool:
    """Whether the installed `chinese-calendar` has the State Council arrangement for `year`."""
    try:
        import chinese_calendar
    except ImportError:
        return False
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY
