"""Values as people type them into spreadsheet cells → values as observation files hold them.

Who calls it: `gapctl import` (gapctl.io.importer), once per cell, after gapctl.io.sheets has read
the cell within its limits. Each function returns the value, or None and the reason it cannot
be one (a `Refused`), and says what it fixed on the way (`notes`), so the importer can name the
sheet, row and column. Every value accepted here is one `gapctl validate` reads back as the
same value:

- numbers: ASCII or full-width digits, a sign, a decimal point, an exponent, a trailing %;
  finite, below 10^15 (`gapctl.data.schema.MAX_NUMBER`, as in every data file) and with at most
  `MAX_PLACES` decimal places, so that written out in full they stay short. NaN, Infinity, sNaN,
  thousands separators and 1e999999999 are refused;
- dates: date cells; 2024-12-15, 2024/12/15, 2024.12.15, 2024-1-5 and 2024年12月15日 (a time
  after the date is dropped); Excel serial numbers (45641) from 1990 to 2099 — always written back
  as YYYY-MM-DD. Day-first or month-first dates (15/12/2024), 20241215, times, and days that do
  not exist (2021-02-30) are refused, each with how to write it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gapctl.data.schema import MAX_NUMBER
from gapctl.escape import visible
from gapctl.i18n import _
from gapctl.io.sheets import number as bounded_number

FULLWIDTH = str.maketrans("０１２３４５６７８９．％－＋", "0123456789.%-+")
MAX_PLACES = 15  # decimal places: Excel shows 15 significant digits, and 1e-999999 is nobody's grade
SERIAL_FIRST, SERIAL_LAST = dt.date(1990, 1, 1), dt.date(2099, 12, 31)  # serials outside are not dates here
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_YMD = re.compile(r"(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?")
_DAY_FIRST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_UNBOUNDED = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


@dataclass(frozen=True)
class Refused:
    """Why a cell's value cannot be used: a stable code and a message for the person who typed it."""

    code: str
    message: str


def shown(value: Any, limit: int = 40) -> str:
    """A cell's value inside a message: control characters visible, one line, at most `limit` characters."""
    text = format(value, "f") if isinstance(value, Decimal) and value.is_finite() else str(value)
    text = visible(text.replace("\r", "\\r").replace("\n", "\\n"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text(value: Any) -> str:
    """A cell as text (notes, reasons, names): numbers as written, dates as YYYY-MM-DD, true/false."""
    from gapctl.scheme.rules import num

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return num(value) if value.is_finite() else str(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def number(value: Any, notes: list[str]) -> Decimal | Refused:
    """A number cell or number text; `notes` gets "full-width" when digits were converted."""
    if isinstance(value, bool):
        return Refused("not-a-number", _("{value} is not a number").format(value="TRUE" if value else "FALSE"))
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return Refused("not-a-number", _("the date or time {value} is not a number").format(value=shown(text(value))))
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, float):
        value = Decimal(repr(value)) if value == value and abs(value) != float("inf") else Decimal("NaN")
    if isinstance(value, Decimal):
        return _bounded(value, shown(value))
    raw = str(value)
    typed = raw.strip().translate(FULLWIDTH)
    if typed != raw.strip():
        notes.append("full-width")
    percent = typed.endswith("%")
    core = typed[:-1].strip() if percent else typed
    parsed = bounded_number(core)
    if parsed is None:
        hint = ""
        if _THOUSANDS.fullmatch(core):
            hint = _("; write it without thousands separators: {number}").format(number=core.replace(",", ""))
        elif re.fullmatch(r"[+-]?\d+,\d+", core):
            hint = _("; write it with a decimal point: {number}").format(number=core.replace(",", "."))
        elif _UNBOUNDED.fullmatch(core):  # a number, but with more digits or a longer exponent than any figure
            return Refused("number-bounds", _("'{value}' is too large or too long to be meant: numbers here stay "
                                              "below 10^15 with at most {places} decimal places").format(
                                                  value=shown(raw), places=MAX_PLACES))
        return Refused("not-a-number", _("'{value}' is not a number{hint}").format(value=shown(raw), hint=hint))
    result = _bounded(parsed, shown(raw))
    if isinstance(result, Decimal) and percent:
        return result / 100
    return result


def _bounded(value: Decimal, written: str) -> Decimal | Refused:
    if not value.is_finite():  # is_finite does not signal on sNaN; comparisons would
        return Refused("not-a-number", _("'{value}' is not a number{hint}").format(value=written, hint=""))
    if abs(value) >= MAX_NUMBER:
        return Refused("number-bounds", _("'{value}' is too large to be meant: numbers here stay below "
                                          "10^15").format(value=written))
    exponent = value.as_tuple().exponent
    if value and isinstance(exponent, int) and exponent < -MAX_PLACES and value.normalize().as_tuple().exponent \
            < -MAX_PLACES:
        return Refused("number-bounds", _("'{value}' has more than {places} decimal places").format(
            value=written, places=MAX_PLACES))
    return value


def whole(value: Decimal, written: Any) -> int | Refused:
    """A count: a whole number ≥ 0 (2.5 notices is a typo, not 2)."""
    if value != value.to_integral_value() or value < 0:
        return Refused("not-whole", _("'{value}' is not a count; a count is 0, 1, 2 …").format(value=shown(written)))
    return int(value)


def date(value: Any, epoch: dt.datetime, notes: list[str]) -> dt.date | Refused:
    """A date cell, or a date typed in one of the spellings above; `notes` gets "serial" for a
    serial number read as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, dt.time | dt.timedelta):
        return Refused("bad-date", _("{value} is a time, not a date; write the date as YYYY-MM-DD").format(
            value=shown(text(value))))
    if isinstance(value, bool):
        return Refused("bad-date", _("{value} is not a date; write it as YYYY-MM-DD").format(
            value="TRUE" if value else "FALSE"))
    if isinstance(value, Decimal | int | float):
        return _serial(Decimal(str(value)), epoch, notes, shown(value))
    raw = str(value)
    typed = raw.strip().translate(FULLWIDTH).translate(str.maketrans("／：", "/:"))
    for pattern in (_ISO, _YMD, _CHINESE):
        match = pattern.fullmatch(typed)
        if match:
            groups = [g for g in match.groups() if g not in ("-", "/", ".")]
            year, month, day = (int(g) for g in groups)
            try:
                return dt.date(year, month, day)
            except ValueError:
                return Refused("bad-date", _("there is no such day as {day} ('{value}')").format(
                    day=f"{year:04d}-{month:02d}-{day:02d}", value=shown(raw)))
    if typed.isdigit() and len(typed) <= 5:
        return _serial(Decimal(typed), epoch, notes, shown(raw))
    return Refused("bad-date", _("'{value}' is not a date{hint}").format(value=shown(raw), hint=_hint(typed)))


def _serial(value: Decimal, epoch: dt.datetime, notes: list[str], written: str) -> dt.date | Refused:
    """An Excel serial date number (days since the workbook's epoch), within 1990–2099."""
    if value.is_finite() and value >= 0 and abs(value) < 10**7:
        day = (epoch + dt.timedelta(days=int(value))).date()
        if SERIAL_FIRST <= day <= SERIAL_LAST:
            notes.append("serial")
            return day
    return Refused("bad-date", _("'{value}' is not a date (as an Excel serial number it is no day between {first} "
                                 "and {last}); write it as YYYY-MM-DD").format(
                                     value=written, first=SERIAL_FIRST.year, last=SERIAL_LAST.year))


def _hint(typed: str) -> str:
    if m := _DAY_FIRST.fullmatch(typed):
        first, second, year = (int(g) for g in m.groups())
        if first > 12 >= second:
            return _as(year, second, first)
        if second > 12 >= first:
            return _as(year, first, second)
        return _("; {value} could be day/month or month/day: write it as YYYY-MM-DD").format(value=typed)
    if m := _COMPACT.fullmatch(typed):
        return _as(*(int(g) for g in m.groups()))
    return _("; write it as YYYY-MM-DD")


def _as(year: int, month: int, day: int) -> str:
    try:
        return _("; write it as {day}").format(day=dt.date(year, month, day).isoformat())
    except ValueError:
        return _("; there is no such day ({day})").format(day=f"{year:04d}-{month:02d}-{day:02d}")
