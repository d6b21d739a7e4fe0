"""The shape of every kind of mapping in the data files, declared once.

A `Shape` lists the keys a mapping may have, their types and whether they are required.
`read` checks one mapping against its shape and returns converted values, reporting
unknown keys (with a "did you mean"), missing keys and wrong types as problems. The same
declarations feed the README's data-format tables and, later, JSON Schema for editors.

Evaluators write Chinese where they write by hand, so the reader takes the words they use as
aliases of the English value: `result: 完成` is `done` (RESULT_ALIASES), and 是/否 are true/false
wherever a key wants true or false and in the mappings whose values are true/false (items,
findings, facts: `F.yes_no`). Every path (YAML, TOML, import) reads through here, so all see the
same; `gapctl fmt` writes the English word (`canonical`). Messages are in the current language
(gapctl.i18n); an advice gives the whole fix at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gapctl.data.sources import SourceFile
from gapctl.i18n import N_, _
from gapctl.problems import BAD_VALUE, MISSING_KEY, UNKNOWN_KEY, WRONG_TYPE, Problem

# ids become file names; matched with fullmatch (a `$` would let a trailing newline through)
ID_REGEX = r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9_.\-\u4e00-\u9fff]*$"


class _IdPattern:
    """`ID_PATTERN`: `fullmatch` and `pattern` as re.compile(ID_REGEX) has them, its CJK ranges compiled only for a
    value outside ASCII (compiling them took ~2 ms of every process that reads an id; an ASCII value matches the
    pattern exactly when it matches its ASCII part)."""

    pattern = ID_REGEX
    _ascii = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
    _whole: re.Pattern[str] | None = None

    def fullmatch(self, value: str) -> re.Match[str] | None:
        if value.isascii():
            return self._ascii.fullmatch(value)
        if self._whole is None:
            type(self)._whole = re.compile(ID_REGEX)
        return self._whole.fullmatch(value)  # type: ignore[union-attr]


ID_PATTERN = _IdPattern()
_FULLWIDTH = str.maketrans("０１２３４５６７８９．－／：", "0123456789.-/:")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_YMD = re.compile(r"(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*[日号]?"
                  r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?", re.ASCII)  # a time after the date is dropped
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", re.ASCII)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
MAX_ID_BYTES = 200  # ids become file names (255 bytes at most) with a suffix such as .yaml or .html
MAX_NUMBER = Decimal(10) ** 15  # larger numbers are typos here, and would overflow Decimal arithmetic
# decimal places a number may have: with 15 digits before the point, sums stay exact within Decimal's
# 28 digits, where 30 decimals were rounded to 28 digits without a word
MAX_PLACES = 6
_YAML_BOOL = re.compile(r"yes|no|on|off|y|n|true|false", re.IGNORECASE)  # what YAML 1.1 reads as true/false

# The words evaluators write for a result (政务公开 offices record them in Chinese), read as the
# English word; the first word for each is the one messages show. Stable: fmt writes the English word.
RESULT_ALIASES: dict[str, str] = {
    "完成": "done", "未完成": "not-done", "不适用": "n/a", "无佐证": "no-evidence", "无佐证材料": "no-evidence",
    "待评": "pending", "待评估": "pending", "未评估": "pending",
}
YES_NO: dict[str, bool] = {"是": True, "否": False}  # wherever true or false is wanted


@dataclass(frozen=True)
class F:
    """One key of a shape: its type, whether it is required, allowed choices, meaning."""

    type: str
    required: bool = False
    doc: str = ""
    choices: tuple[str, ...] = ()
    path: bool = False  # text that names a file under the round: relative, no '..'
    aliases: tuple[tuple[str, str], ...] = ()  # words read as one of `choices`: ("完成", "done")
    yes_no: bool = False  # a mapping whose values 是/否 are read as true/false (items, findings, facts)
    direct: bool = field(default=True, init=False, repr=False, compare=False)  # nothing to check beyond the type

    def __post_init__(self) -> None:
        object.__setattr__(self, "direct", not (self.choices or self.path or self.yes_no))


Shape = dict[str, F]

# keys any mapping may carry to mark what its published source does not say (gapctl.data.assumptions)
ASSUMPTION_KEYS: Shape = {
    "assumed": F("assumption", doc="not published: true (the whole mapping, why in assumed_note), a list of this "
                 "mapping's keys, or a mapping of its keys to why each was assumed; gapctl show lists them"),
    "assumed_note": F("text", doc="why it was assumed"),
}


def canonical(spec: F, value: Any) -> Any:
    """The value an alias stands for under `spec` (完成 → done; 是 → True where a bool is wanted), else
    `value` itself. For a mapping with `yes_no`, its values (`canonical_entry`)."""
    if value.__class__ is not str:
        return value
    if spec.type in ("bool", "assumption"):  # `assumed: 是` as well as a list or mapping of keys
        return YES_NO.get(value, value)
    if spec.aliases and value not in spec.choices:
        return dict(spec.aliases).get(value, value)
    return value


def canonical_entry(value: Any) -> Any:
    """A value in a mapping declared `yes_no`: 是/否 read as true/false, anything else as it is."""
    return YES_NO.get(value, value) if value.__class__ is str else value


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return _("true/false")
    if isinstance(value, (int, Decimal)):
        return _("number {value}").format(value=value)
    if isinstance(value, str):
        return _("text '{value}'").format(value=value) if len(value) < 40 else _("text")
    if isinstance(value, dict):
        return _("a mapping")
    if isinstance(value, list):
        return _("a list")
    if value is None:
        return _("nothing (null)")
    return type(value).__name__


# type names as a message shows a required key without a doc: "a measure has no 'id' (id)"
_TYPE_WORDS = {"id": N_("id"), "text": N_("text"), "date": N_("date"), "number": N_("number"), "points": N_("points"),
               "int": N_("int"), "bool": N_("bool"), "map": N_("map"), "list": N_("list"), "any": N_("any")}


def or_list(words: list[str]) -> str:
    """`a, b or c` in the current language (`a、b 或 c`)."""
    if not words:
        return ""
    head = words[0]
    for word in words[1:-1]:
        head = _("{a}, {b}").format(a=head, b=word)
    return head if len(words) == 1 else _("{a} or {b}").format(a=head, b=words[-1])


def _choices(spec: F) -> str:
    """The choices of `spec` for a message, each with the word evaluators write for it: done (完成)."""
    first: dict[str, str] = {}
    for word, value in spec.aliases:
        first.setdefault(value, word)
    listed = or_list([_("{value} ({alias})").format(value=c, alias=first[c]) if c in first else c
                      for c in spec.choices])
    return listed.replace("） ", "）")  # no space after a full-width bracket: "（无佐证）或 pending"


def _did_you_mean(close: str) -> str:
    return _("; did you mean '{close}'?").format(close=close)


_IN_QUOTES = N_("; YAML reads yes, no, on, off, y and n (any case) as true/false: write it in quotes")


_AS_IS: dict[str, type] = {"text": str, "id": str, "map": dict, "list": list, "bool": bool,
                           "any": object}

# How `Reader.read` takes a key's value without `convert` when it can (the value is already what `convert`
# would give): a shape's plan, made once per shape and process, maps each key it may hold to its spec, a
# mode and the mode's argument, and lists its required keys.
_KEEP = 0  # the value as it is when its class is the argument (text, a mapping, a list, true/false)
_ID = 1  # text that is an id
_DATE = 2  # text a date was read from before (the argument: text → date, shared by every shape)
_INT = 3  # an int within 0 ≤ n < 10^15 (what `_to_int` gives back unchanged)
_CONVERT = 4  # always through `convert`
_ASSUMED = 5  # `assumed`
_NUMBER = 6  # a finite Decimal below 10^15 with at most MAX_PLACES digits after the point as written
_CHOICE = 7  # text that is one of the choices (the argument: them as a set)
_IDS: set[str] = set()  # text found to be an id (this process); ids recur in every file
_DATES: dict[str, dt.date] = {}  # text → the date `_to_date` read from it (this process); dates repeat
_DATES_MAX = 50_000
_MAX_INT = int(MAX_NUMBER)
_PLANS: dict[int, tuple[Shape, dict[Any, tuple[F, int, Any]], list[tuple[str, F]]]] = {}


def _mode(key: str, spec: F) -> tuple[F, int, Any]:
    if key == "assumed":
        return spec, _ASSUMED, None
    if spec.type == "text" and spec.choices and not spec.path and not spec.yes_no:
        return spec, _CHOICE, frozenset(spec.choices)
    if spec.direct:
        accepted = _AS_IS.get(spec.type)
        if spec.type == "id":
            return spec, _ID, str
        if accepted is not None:
            return spec, _KEEP, accepted
        if spec.type == "date":
            return spec, _DATE, _DATES
        if spec.type == "int":
            return spec, _INT, int
        if spec.type == "number":
            return spec, _NUMBER, Decimal
    return spec, _CONVERT, None


def _id_seen(value: str) -> bool:
    if len(_IDS) >= 50_000:
        _IDS.clear()
    _IDS.add(value)
    return True


def _plan(shape: Shape) -> tuple[Shape, dict[Any, tuple[F, int, Any]], list[tuple[str, F]]]:
    plan = _PLANS.get(id(shape))
    if plan is None or plan[0] is not shape:  # ids of dropped shapes get reused
        keys = {key: _mode(key, spec) for key, spec in ASSUMPTION_KEYS.items()}
        keys.update((key, _mode(key, spec)) for key, spec in shape.items())  # the shape's own spec first
        plan = _PLANS[id(shape)] = (shape, keys, [(k, f) for k, f in shape.items() if f.required])
    return plan


class Reader:
    """Reads mappings of one file against shapes, collecting problems as it goes.

    `what` names the mapping in messages: an English phrase marked for the catalogue
    (`N_("an indicator")`), translated only when a message needs it (reading costs nothing more),
    or text already in the current language (`_("a {kind} rule").format(...)`, `'scoring'`).
    """

    def __init__(self, src: SourceFile, problems: list[Problem]):
        self.src = src
        self.problems = problems
        # every `assumed` met, in reading order: (key path of its mapping, the key assumed or None for the
        # whole mapping, the note); gapctl.data.assumptions names them
        self.assumed: list[tuple[tuple[Any, ...], str | None, str]] = []

    def problem(self, kind: Any, message: str, at: tuple[Any, ...], on: str = "value") -> None:
        self.problems.append(Problem(kind, message, self.src, tuple(at), on))

    def read(self, shape: Shape, data: Any, at: tuple[Any, ...], what: str) -> dict[str, Any] | None:
        """Check `data` against `shape`; values of bad keys come back as None."""
        if not isinstance(data, dict):
            self.problem(WRONG_TYPE, _("{what} must be a mapping of keys to values, not {actual}").format(
                what=_(what), actual=_type_name(data)), at)
            return None
        out: dict[str, Any] = {}
        plan = _PLANS.get(id(shape))
        if plan is None or plan[0] is not shape:
            plan = _plan(shape)
        keys, required = plan[1], plan[2]
        for key, value in data.items():
            known = keys.get(key)
            if known is None:
                close = difflib.get_close_matches(key, list(shape), n=1, cutoff=0.6)
                hint = _did_you_mean(close[0]) if close else \
                    _("; known keys: {keys}").format(keys=", ".join(shape))
                self.problem(UNKNOWN_KEY, _("unknown key '{key}' in {what}{hint}").format(
                    key=key, what=_(what), hint=hint), at + (key,), on="key")
                continue
            spec, mode, arg = known
            # fast paths: most values already are what their key needs
            if mode == _KEEP:
                if value.__class__ is arg:
                    out[key] = value
                    continue
            elif mode == _ID:
                if value.__class__ is str and (value in _IDS or len(value) <= MAX_ID_BYTES // 3
                                               and ID_PATTERN.fullmatch(value) and _id_seen(value)):
                    out[key] = value
                    continue
            elif mode == _CHOICE:
                if value.__class__ is str and value in arg:
                    out[key] = value
                    continue
            elif mode == _DATE:
                if value.__class__ is str:
                    day = arg.get(value)
                    if day is None:
                        day = self.convert(spec, value, at + (key,), key, what)
                        if day is not None:
                            if len(arg) >= _DATES_MAX:
                                arg.clear()
                            arg[value] = day
                    out[key] = day
                    continue
            elif mode == _INT:
                if value.__class__ is int and 0 <= value < _MAX_INT:
                    out[key] = value
                    continue
            elif mode == _NUMBER:  # a Decimal `_number` would give back equal and written the same
                if value.__class__ is Decimal and value.is_finite() and -MAX_NUMBER < value < MAX_NUMBER \
                        and value.as_tuple()[2] >= -MAX_PLACES:
                    out[key] = value
                    continue
            elif mode == _ASSUMED:
                out[key] = self._assumed(shape, data, value, at)
                continue
            out[key] = self.convert(spec, value, at + (key,), key, what)
        for key, spec in required:
            if key not in data:
                self.problem(MISSING_KEY, _("{what} has no '{key}' ({meaning})").format(
                    what=_(what), key=key, meaning=_(spec.doc or _TYPE_WORDS.get(spec.type, spec.type))), at,
                    on="key" if at else "value")
        return out

    def _assumed(self, shape: Shape, data: dict[Any, Any], value: Any, at: tuple[Any, ...]) -> Any:
        """`assumed`: true (the whole mapping), a list of its keys, or its keys mapped to notes; each is
        recorded in `self.assumed`. The value read: True/False, or {key: note}; None when unreadable."""
        written = data.get("assumed_note")
        note = written.strip() if isinstance(written, str) else ""
        value = canonical(F("bool"), value)
        if isinstance(value, bool):
            if value:
                self.assumed.append((at, None, note))
            return value
        if isinstance(value, list) and all(isinstance(k, str) for k in value):
            value = {k: note for k in value}
        if not isinstance(value, dict):
            self.problem(WRONG_TYPE, _("'assumed' must be true or false, a list of this mapping's keys, or a mapping "
                                       "of its keys to why each was assumed, not {actual}").format(
                actual=_type_name(value)), at + ("assumed",))
            return None
        out: dict[str, str] = {}
        for key, why in value.items():
            key = str(key)
            if key not in shape and key not in data or key in ASSUMPTION_KEYS:
                close = difflib.get_close_matches(key, list(shape), n=1, cutoff=0.6)
                self.problem(BAD_VALUE, _("'assumed' names '{key}', which is not a key of this mapping{hint}").format(
                    key=key, hint=_did_you_mean(close[0]) if close else ""), at + ("assumed", key), on="key")
                continue
            why = canonical(F("bool"), why)
            if why is True or why is None:
                why = note
            elif why is False:
                continue
            elif not isinstance(why, str):
                self.problem(WRONG_TYPE, _("'assumed': the note on '{key}' must be text, not {actual}").format(
                    key=key, actual=_type_name(why)), at + ("assumed", key))
                continue
            out[key] = why.strip()
            self.assumed.append((at, key, out[key]))
        return out

    def convert(self, spec: F, value: Any, at: tuple[Any, ...], key: str, what: str) -> Any:
        kind = spec.type
        if value is None and not spec.required:
            return None
        if kind.startswith("list["):
            inner = F(kind[5:-1], choices=spec.choices, aliases=spec.aliases)
            if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool) \
                    and inner.type in ("id", "text"):
                value = [value]  # a single value where a list is expected is a list of one
            if not isinstance(value, list):
                self.problem(WRONG_TYPE, _("'{key}' must be a list, not {actual}").format(
                    key=key, actual=_type_name(value)), at)
                return None
            items = [self.convert(inner, item, at + (i,), key, what) for i, item in enumerate(value)]
            return [item for item in items if item is not None]
        if spec.choices and isinstance(value, bool) and kind == "text":  # `result: yes`: all the advice at once
            written = self.src.written(at)
            word = written if written and _YAML_BOOL.fullmatch(written) else str(value).lower()
            self.problem(WRONG_TYPE, _("'{key}' must be {choices}, not {written} (YAML reads {written} as the "
                                       "boolean {value})").format(key=key, choices=_choices(spec), written=word,
                                                                  value=str(value).lower()), at)
            return None
        converter = getattr(self, "_to_" + kind)
        result = converter(value, at, key)
        if result is not None and spec.choices and result not in spec.choices:
            if spec.aliases:
                word = dict(spec.aliases).get(result)
                if word is not None:
                    return word
            close = difflib.get_close_matches(str(result), spec.choices, n=1, cutoff=0.5)
            hint = _did_you_mean(close[0]) if close else ""
            self.problem(BAD_VALUE, _("'{key}' must be {choices}, not '{value}'{hint}").format(
                key=key, choices=_choices(spec), value=result, hint=hint), at)
            return None
        if result is not None and spec.path:
            why = path_problem(result)
            if why:
                self.problem(BAD_VALUE, _("'{key}': '{value}' must be a path under the round (like "
                                          "external/city.yaml): {why}").format(key=key, value=_shown(result),
                                                                               why=why), at)
                return None
        if spec.yes_no and result.__class__ is dict:
            return {k: canonical_entry(v) for k, v in result.items()}
        return result

    def _to_any(self, value: Any, at: tuple[Any, ...], key: str) -> Any:
        return value

    def _to_map(self, value: Any, at: tuple[Any, ...], key: str) -> Any:
        if not isinstance(value, dict):
            self.problem(WRONG_TYPE, _("'{key}' must be a mapping, not {actual}").format(
                key=key, actual=_type_name(value)), at)
            return None
        return value

    def _to_list(self, value: Any, at: tuple[Any, ...], key: str) -> Any:
        if not isinstance(value, list):
            self.problem(WRONG_TYPE, _("'{key}' must be a list, not {actual}").format(
                key=key, actual=_type_name(value)), at)
            return None
        return value

    def _to_text(self, value: Any, at: tuple[Any, ...], key: str) -> str | None:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        hint = _(_IN_QUOTES) if isinstance(value, bool) else ""
        self.problem(WRONG_TYPE, _("'{key}' must be text, not {actual}{hint}").format(
            key=key, actual=_type_name(value), hint=hint), at)
        return None

    def _to_id(self, value: Any, at: tuple[Any, ...], key: str) -> str | None:
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            self.problem(WRONG_TYPE, _("'{key}' is an id and must be text; {value} was read as a number: write it "
                                       "in quotes, \"{value}\"").format(key=key, value=value), at)
            return None
        if not isinstance(value, str):
            hint = _(_IN_QUOTES) if isinstance(value, bool) else ""
            self.problem(WRONG_TYPE, _("'{key}' must be an id (text), not {actual}{hint}").format(
                key=key, actual=_type_name(value), hint=hint), at)
            return None
        if len(value.encode("utf-8")) > MAX_ID_BYTES:
            self.problem(BAD_VALUE, _("'{key}': an id of {size} bytes is too long: ids become file names, so they "
                                      "stay within {most} bytes (66 Chinese characters)").format(
                key=key, size=len(value.encode("utf-8")), most=MAX_ID_BYTES), at)
            return None
        if not ID_PATTERN.fullmatch(value):
            self.problem(BAD_VALUE, _("'{key}': {why}").format(key=key, why=_not_an_id(value)), at)
            return None
        return value

    def _to_bool(self, value: Any, at: tuple[Any, ...], key: str) -> bool | None:
        if isinstance(value, bool):
            return value
        if value.__class__ is str and value in YES_NO:
            return YES_NO[value]
        self.problem(WRONG_TYPE, _("'{key}' must be true or false (是 or 否), not {actual}").format(
            key=key, actual=_type_name(value)), at)
        return None

    def _number(self, value: Any, at: tuple[Any, ...], key: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
            if isinstance(value, str):
                shown = value if len(value) < 40 else value[:37] + "…"
                self.problem(WRONG_TYPE, _("'{key}' must be a number, not text '{value}'{hint}").format(
                    key=key, value=shown, hint=_number_hint(value)), at)
            else:
                self.problem(WRONG_TYPE, _("'{key}' must be a number, not {actual}").format(
                    key=key, actual=_type_name(value)), at)
            return None
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            self.problem(BAD_VALUE, _("'{key}' must be a finite number, not {value}").format(key=key, value=value),
                         at)
            return None
        if abs(number) >= MAX_NUMBER:
            self.problem(BAD_VALUE, _("'{key}' is {number}, too large to be meant: numbers here stay below "
                                      "10^15").format(key=key, number=_short_number(number)), at)
            return None
        places = decimal_places(number)
        if places > MAX_PLACES:
            self.problem(BAD_VALUE, _("'{key}' is {number}, with {places} decimal places: gapctl reads at most "
                                      "{most} (more would be rounded without a word once added up); round it "
                                      "where it was computed").format(key=key, number=_short_number(number),
                                                                      places=places, most=MAX_PLACES), at)
            return None
        return number

    def _to_number(self, value: Any, at: tuple[Any, ...], key: str) -> Decimal | None:
        return self._number(value, at, key)

    def _to_points(self, value: Any, at: tuple[Any, ...], key: str) -> Decimal | None:
        number = self._number(value, at, key)
        if number is not None and (number < 0 or number > 100000):
            self.problem(BAD_VALUE, _("'{key}' must be between 0 and 100000, not {value}").format(
                key=key, value=value), at)
            return None
        return number

    def _to_int(self, value: Any, at: tuple[Any, ...], key: str) -> int | None:
        number = self._number(value, at, key)
        if number is None:
            return None
        if number != number.to_integral_value() or number < 0:
            self.problem(BAD_VALUE, _("'{key}' must be a whole number ≥ 0, not {value}").format(
                key=key, value=value), at)
            return None
        return int(number)

    def _to_date(self, value: Any, at: tuple[Any, ...], key: str) -> dt.date | None:
        """Only YYYY-MM-DD (Python's fromisoformat would also take 20210114 and 2021-W02-4)."""
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            text = value.strip()
            if _ISO_DATE.fullmatch(text):
                try:
                    return dt.date.fromisoformat(text)
                except ValueError:
                    self.problem(BAD_VALUE, _("'{key}': there is no such day as {date}").format(key=key, date=text),
                                 at)
                    return None
            shown = _shown(value) if len(value) < 40 else _shown(value[:37]) + "…"
            self.problem(BAD_VALUE, _("'{key}' must be a date written YYYY-MM-DD, not '{value}'{hint}").format(
                key=key, value=shown, hint=_date_hint(text)), at)
            return None
        hint = _date_hint(str(value)) if isinstance(value, int) and not isinstance(value, bool) else ""
        self.problem(WRONG_TYPE, _("'{key}' must be a date (YYYY-MM-DD), not {actual}{hint}").format(
            key=key, actual=_type_name(value), hint=hint), at)
        return None


def _shown(text: str) -> str:
    """Text for a message, with control and invisible characters (NUL, newline, tab, zero-width
    space, bidi controls …) made visible."""
    from gapctl.escape import visible

    return visible("".join(f"\\u{ord(c):04x}" if ord(c) < 32 or ord(c) == 127 else c for c in text))


def _id_flaw(value: str) -> str:
    if not value:
        return _("it is empty")
    for position, char in enumerate(value, start=1):
        if not re.fullmatch(r"[A-Za-z0-9_.\-\u4e00-\u9fff]", char):
            if char == " " or char == "\u3000":
                return _("it contains a space")
            if char in "/\\":
                return _("it contains '{char}'").format(char=char)
            if ord(char) < 32 or ord(char) == 127:
                return _("it contains the control character U+{code}").format(code=f"{ord(char):04X}")
            if not char.isprintable() or char.isspace():  # zero-width, bidi and other format characters
                return _("character {position} is the invisible {name}").format(position=position,
                                                                                 name=code_point(char))
            if char.translate(_FULLWIDTH) != char:
                return _("it contains the full-width '{char}'; use '{ascii}'").format(
                    char=char, ascii=char.translate(_FULLWIDTH))
            return _("it contains '{char}'").format(char=char)
    return _("it starts with '{char}'").format(char=value[0])


def _not_an_id(value: str) -> str:
    return _("'{value}' is not a valid id: {flaw}. Ids become file names: letters, digits, '.', '_', '-', "
             "starting with a letter or digit").format(value=_shown(value), flaw=_id_flaw(value))


def code_point(char: str) -> str:
    """A character named so that it can be found: U+200B ZERO WIDTH SPACE."""
    import unicodedata

    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


def id_problem(value: str) -> str:
    """Why `value` cannot be an id (empty if it can): for ids given on the command line."""
    if len(value.encode("utf-8")) > MAX_ID_BYTES:
        return _("an id of {size} bytes is too long (at most {most})").format(size=len(value.encode("utf-8")),
                                                                              most=MAX_ID_BYTES)
    if not ID_PATTERN.fullmatch(value):
        return _not_an_id(value)
    return ""


def path_problem(path: str) -> str:
    """Why `path` cannot name a file under a round (empty if it can)."""
    if "\x00" in path:
        return _("it contains a NUL character")
    parts = re.split(r"[/\\]", path)
    if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:[/\\]", path):
        return _("it is an absolute path")
    if ".." in parts:
        return _("'..' leaves the round")
    if len(path.encode("utf-8")) > 1024 or any(len(part.encode("utf-8")) > 255 for part in parts):
        return _("it is too long for a file name")
    return ""


def decimal_places(number: Decimal) -> int:
    """Decimal places as written, trailing zeros not counted (1.50 has 1; normalize() would round first)."""
    _sign, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    trailing = 0
    for digit in reversed(digits):
        if digit:
            break
        trailing += 1
    return max(0, -exponent - trailing)


def _short_number(number: Decimal) -> str:
    """A number for a message: as written, or shortened (1.000E+40, 0.1234567890123456789012…)."""
    from gapctl.figures import scientific

    text = str(number)
    if len(text) <= 24:
        return text
    return scientific(number) if abs(number) >= MAX_NUMBER else text[:24] + "…"


def _number_hint(value: str) -> str:
    """Why text that was meant as a number is text, and how to write it."""
    text = value.strip().translate(_FULLWIDTH).replace("，", ",")
    if text.endswith("%") or text.endswith("％"):
        return _("; write it without '%' (a fraction is 0…1, so 0.85 for 85%)")
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text):
        return _("; write it without thousands separators: {number}").format(number=text.replace(",", ""))
    if re.fullmatch(r"[+-]?\d+,\d+", text):
        return _("; write it with a decimal point: {number}").format(number=text.replace(",", "."))
    try:
        number = Decimal(text)
    except ArithmeticError:
        return ""
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        return ""
    if re.fullmatch(r"[+-]?\d+[eE][+-]?\d+", text):
        return _("; YAML reads {text} as text (an exponent needs a decimal point): write {number}").format(
            text=text, number=f"{number:f}")
    if text != value.strip():
        return _("; write it with ASCII digits and without quotes: {number}").format(number=text)
    return _("; write it without quotes: {number}").format(number=text)


def _date_hint(text: str) -> str:
    """How to write a date spelled another way (2021年1月14日, 2021/1/14, 14/01/2021, 20210114 …)."""
    text = text.translate(_FULLWIDTH).strip()
    parts = None
    if m := _YMD.fullmatch(text):
        parts = tuple(int(g) for g in m.groups())
    elif m := _COMPACT_DATE.fullmatch(text):
        parts = tuple(int(g) for g in m.groups())
    elif m := _DMY.fullmatch(text):
        first, second, year = (int(g) for g in m.groups())
        if first > 12 >= second:
            parts = (year, second, first)
        elif second > 12 >= first:
            parts = (year, first, second)
        elif first <= 12 and second <= 12:
            return _("; {date} could be day/month or month/day: write the date as YYYY-MM-DD").format(date=text)
    if parts is None:
        return ""
    try:
        day = dt.date(*parts)
    except ValueError:
        return _("; there is no such day ({date})").format(date=f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}")
    return _("; write it as {date}").format(date=day.isoformat())


def invalid_keys(data: Any, values: dict[str, Any]) -> frozenset[str]:
    """Keys that were given but whose value could not be read (already reported)."""
    if not isinstance(data, dict) or None not in values.values():  # most entries: every value read
        return frozenset()
    return frozenset(k for k, v in data.items() if v is not None and k in values and values[k] is None)


# --- the shapes -----------------------------------------------------------------------

SELECTOR: Shape = {
    "unit_types": F("list[text]", doc="unit types (区县政府, 市政府部门, 镇街道 …)"),
    "tags": F("list[id]", doc="unit tags, any of which selects the unit"),
    "units": F("list[id]", doc="named units"),
}

SCORING: Shape = {
    "normalise": F("text", choices=("none", "applicable"),
                   doc="none: raw sum; applicable: earned ÷ applicable × scale"),
    "scale": F("points", doc="the full score (100)"),
    "places": F("int", doc="decimal places, half-up rounding"),
    "round": F("list[text]", choices=("base", "total"), doc="where rounding applies"),
    "bounds": F("any", doc="where an indicator is held within [0, its points] (扣完为止): leaves (default), "
                "top (first level only), or a level number"),
    "base": F("text", doc="a formula for the base score, e.g. earned / applicable * 100"),
    "total": F("text", doc="a formula for the total, e.g. 0.6 * (base + bonus) + 0.4 * measure(panel)"),
    "max_total": F("points", doc="the total never exceeds this (default: no limit)"),
    "weights": F("text", choices=("share", "ratio"),
                 doc="component weights: shares adding up to 1 (default), or a ratio such as 5:3:2, normalised"),
}

INDICATOR: Shape = {
    "id": F("id", required=True, doc=N_("unique id, e.g. \"2.1.3\"")),
    "name": F("text", required=True, doc=N_("Chinese name")),
    "name_en": F("text", doc="English name"),
    "points": F("points", doc="分值"),
    "children": F("list", doc="sub-indicators"),
    "methods": F("list[text]", doc="测评方式"),
    "checkpoints": F("text", doc="测评要点"),
    "basis": F("text", doc="指标依据"),
    "scope": F("text", doc="评估数据采集范围 as published"),
    "applies_to": F("map", doc="selector: unit_types / tags / units"),
    "rule": F("map", doc="how the leaf is scored"),
    "rules": F("list", doc="rule variants with `when`"),
    "cap": F("points", doc="the most this indicator (or group) can earn"),
    "floor": F("number", doc="the least this indicator (or group) can earn"),
    "moves_to": F("id", doc="where the points go when the indicator does not apply"),
    "redistribute": F("map", doc="分值调剂: where the points go when the indicator does not apply "
                      "(to, by, mode)"),
    "bounded": F("bool", doc="held within [0, its points] (true) or not (false), whatever scoring.bounds says"),
    "gate": F("any", doc="a condition (formula) the indicator counts under; else it earns 0"),
    "pass_line": F("map", doc="合格线: below it the unit gets a grade (rate or points, grade)"),
    "replaces": F("list[id]", doc="ids of indicators of an earlier scheme this one replaces (for diff)"),
    "note": F("text"),
}

SECTION: Shape = {
    "name": F("text", doc="加分项 / 减分项"),
    "name_en": F("text"),
    "cap": F("points", doc="the most the section can add or subtract"),
    "gate": F("any", doc="a condition (formula) the section counts under (加分门槛), e.g. base > 85"),
    "indicators": F("list", required=True, doc=N_("the section's items")),
}

MEASURE: Shape = {
    "id": F("id", required=True),
    "name": F("text", required=True),
    "name_en": F("text"),
    "higher_is_better": F("bool"),
}

EXTERNAL: Shape = {
    "id": F("id", required=True),
    "name": F("text", required=True),
    "name_en": F("text"),
    "mode": F("text", choices=("subtract", "passdown"),
              doc="subtract: from the total; passdown: multiplied into the performance deduction"),
}

COMPONENT: Shape = {
    "id": F("id", required=True),
    "name": F("text", required=True),
    "name_en": F("text"),
    "weight": F("number", required=True,
                doc="share of the total, 0…1 (or a part of a ratio, with scoring.weights: ratio)"),
    "source": F("text", required=True, doc=N_("indicators, indicator:<id>, measure:<id> or group:<id>")),
}

GRADE: Shape = {
    "label": F("text", required=True, doc=N_("优秀 / 良好 / 合格 …")),
    "label_en": F("text"),
    "min": F("number", required=True, doc=N_("lowest total in the band")),
}

FLAG: Shape = {
    "id": F("id", required=True),
    "label": F("text", required=True),
    "label_en": F("text"),
    "of": F("text", choices=("base", "total"), doc="which score is compared"),
    "below": F("number", required=True, doc=N_("flag when the score is below this")),
}

CATEGORY: Shape = {
    "id": F("id", required=True),
    "name": F("text", required=True),
    "name_en": F("text"),
    "unit_types": F("list[text]"),
    "tags": F("list[id]"),
    "units": F("list[id]"),
}

RANKING: Shape = {
    "of": F("text", choices=("total", "base")),
    "categories": F("list"),
    "published": F("bool", doc="whether the scheme publishes this ranking (default true); false: categories "
                   "only for `rank` rules, no ranks shown unless asked for (score --rank)"),
}

CONVERSION: Shape = {
    "points": F("points", doc="the result counts as this many points of a larger assessment"),
    "passdown_multiplier": F("number", doc="deductions passed down are multiplied by this"),
    "label": F("text"),
    "label_en": F("text"),
}

SCHEME: Shape = {
    "id": F("id", required=True, doc=N_("equals the file name")),
    "title": F("text", required=True, doc=N_("published title")),
    "title_en": F("text"),
    "place": F("text"),
    "year": F("int"),
    "source": F("text", doc="the published document"),
    "language": F("text", choices=("zh-CN", "en")),
    "total_points": F("points"),
    "scoring": F("map"),
    "tags": F("map", doc="tag → description"),
    "measures": F("list"),
    "indicators": F("list", required=True),
    "bonus": F("map"),
    "penalty": F("map"),
    "external": F("list"),
    "components": F("list"),
    "grades": F("list"),
    "flags": F("list"),
    "ranking": F("any", doc="排名: published (units ranked, as the scheme publishes), none (no ranking published: "
                 "no ranks unless asked for, score --rank), or {of, categories, published} (分类排名); absent: none"),
    "vetoes": F("list", doc="单项否决 / 一票否决: conditions that decide the grade, total or parts"),
    "groups": F("list", doc="汇总: channels, subordinate units or periods whose scores this scheme combines"),
    "assessors": F("map", doc="several assessors score the same indicator: {combine, tolerance, at_least}"),
    "conversion": F("map"),
    "late_evidence": F("text", choices=("warn", "ignore"),
                       doc="evidence sent after stages.evidence_due: warn, or ignore it (随州: 逾期未报视为无)"),
    "note": F("text"),
}

GATE: Shape = {
    "when": F("text", required=True, doc=N_("the condition, a formula such as base > 85")),
    "name": F("text", doc="the gate as published (加分门槛)"),
    "name_en": F("text"),
}
VETO: Shape = {
    "id": F("id", required=True),
    "name": F("text", required=True, doc=N_("the veto as published, e.g. 发生严重泄密事件")),
    "name_en": F("text"),
    "when": F("text", required=True, doc=N_("the condition, e.g. fact(严重泄密) or count(泄露隐私) >= 1")),
    "grade": F("text", doc="the grade it forces (a grade band's label)"),
    "total": F("number", doc="the total it sets"),
    "zero": F("list[id]", doc="indicators (parts of the tree) or components that earn nothing"),
    "cancel": F("list[text]", choices=("bonus", "penalty"), doc="sections that do not count"),
    "stop": F("bool", doc="no total at all: the unit is not given a number"),
}
PASS_LINE: Shape = {
    "rate": F("number", doc="the least share of the part's points, 0…1 (0.7: 70%)"),
    "points": F("points", doc="the least points of the part"),
    "grade": F("text", doc="the grade below the line (default: the lowest band)"),
    "name": F("text", doc="the pass line as published"),
}
REDISTRIBUTE: Shape = {
    "to": F("any", required=True, doc=N_("indicator ids, siblings, or all (the applicable top-level indicators)")),
    "by": F("text", choices=("even", "points"), doc="even shares, or in proportion to points (default)"),
    "mode": F("text", choices=("earn", "deduct"),
              doc="earn: earned points scale with the points (default); deduct: deductions keep their size"),
}
CLAUSE: Shape = {
    "id": F("id", required=True, doc=N_("the finding it reads (observation `findings: {<id>: …}`)")),
    "name": F("text", doc="the clause as published, e.g. 每缺少一项扣1分"),
    "name_en": F("text"),
    "deduct": F("any", doc="points taken: a number, or {kind: points} with per: kind"),
    "earn": F("any", doc="points given: a number, or {kind: points} with per: kind"),
    "per": F("text", choices=("once", "each", "kind"),
             doc="once (the finding is true), each (per occurrence: a count), kind (per occurrence by kind)"),
    "finding": F("id", doc="the finding it reads, when not its id"),
    "max": F("points", doc="the most this clause can take or give"),
    "when": F("text", doc="a condition (formula) the clause applies under (再扣: an aggravating case)"),
}
GROUP: Shape = {
    "id": F("id", required=True),
    "name": F("text", required=True, doc=N_("e.g. 政务新媒体账号, 县直部门, 季度检查")),
    "name_en": F("text"),
    "of": F("text", required=True, choices=("channels", "subordinates", "periods"),
            doc="channels of the unit, its subordinate units (parent), or its scores in the round's periods"),
    "scheme": F("id", doc="the scheme that scores the members (required for channels)"),
    "types": F("list[text]", doc="channels: the channel types this group takes"),
    "select": F("map", doc="subordinates: which ones (unit_types / tags / units)"),
    "combine": F("text", choices=("mean", "min", "max", "sum", "median", "last", "weighted"),
                 doc="how the members' totals combine (default mean)"),
    "weights": F("map", doc="weighted: period round id → weight"),
    "by_type": F("bool", doc="mean of each type's mean instead of one mean over all members"),
    "sample": F("bool", doc="only the members drawn for the round count (round.toml [[samples]])"),
    "withheld": F("text", choices=("skip", "zero"),
                  doc="a member whose total a veto withheld: left out (skip, default) or counted as 0 (zero)"),
}
PANEL: Shape = {
    "combine": F("text", choices=("mean", "trimmed-mean", "median"),
                 doc="mean, trimmed-mean (the highest and the lowest dropped) or median"),
    "tolerance": F("number", doc="figures further apart than this: the review's entry counts (source: review)"),
    "at_least": F("int", doc="assessors needed for an indicator (default 2)"),
}
UNIT: Shape = {
    "id": F("id", required=True),
    "name": F("text", required=True, doc=N_("Chinese name")),
    "name_en": F("text"),
    "type": F("text", required=True, doc=N_("区县政府 / 市政府部门 / 镇街道 …")),
    "parent": F("id", doc="parent unit id"),
    "tags": F("list[id]"),
    "note": F("text"),
}

UNIT_SET: Shape = {
    "id": F("id", required=True, doc=N_("equals the file name")),
    "name": F("text", required=True),
    "name_en": F("text"),
    "types": F("list[text]", doc="allowed unit types"),
    "units": F("list", required=True),
    "note": F("text"),
}

SCHEME_ASSIGNMENT: Shape = {
    "scheme": F("id", required=True, doc=N_("scheme id")),
    "unit_types": F("list[text]", doc="unit types scored by it; absent = all"),
    "units": F("list[id]", doc="named units scored by it whatever their type (another category's rubric)"),
}
SAMPLE: Shape = {
    "group": F("id", doc="the group whose members were drawn"),
    "unit": F("id", doc="the unit whose members were drawn (absent: every unit's)"),
    "drawn": F("list[id]", doc="the members (or indicator areas) drawn"),
    "indicators": F("list[id]", doc="instead of members: the top-level indicator areas drawn"),
    "of": F("int", doc="how many there were to draw from"),
    "seed": F("text", doc="the seed of the draw"),
    "minutes": F("text", doc="the minutes of the draw (抽签记录)"),
}

PERIOD: Shape = {"start": F("date", required=True), "end": F("date", required=True)}

STAGES: Shape = {
    "self_assessment_due": F("date", doc="the end of the units' self-assessment (自查自评; 自查整改 where the "
                             "scheme has units check and fix their work before collection)"),
    "evidence_due": F("date", doc="evidence after this counts as absent"),
    "collection_start": F("date"),
    "collection_end": F("date"),
    "preliminary": F("date", doc="preliminary results are fed back from this day (初步结果反馈)"),
    "preliminary_end": F("date", doc="the last day of feedback, when it runs over several days: the appeal window "
                         "counts from it"),
    "appeal_working_days": F("int", doc="复核申请: working days to appeal, from the (last day of the) feedback"),
    "final": F("date"),
}

EXTERNAL_REF: Shape = {
    "file": F("text", doc="path under the round", path=True),
    "round": F("id", doc="another round"),
}

ROUND: Shape = {
    "id": F("id", required=True, doc=N_("equals the directory name")),
    "title": F("text", required=True),
    "title_en": F("text"),
    "example": F("bool", doc="illustrative data"),
    "units": F("id", required=True, doc=N_("unit set id")),
    "period": F("map"),
    "schemes": F("list", required=True),
    "stages": F("map"),
    "external": F("map"),
    "samples": F("list", doc="抽查: members or indicator areas drawn for this round"),
    "periods": F("list[id]", doc="rounds (月度、季度检查) whose scores this round combines"),
    "note": F("text"),
}

RESULT_STATES = ("done", "not-done", "n/a", "no-evidence", "pending")
SOURCES = ("evaluator", "self", "review", "appeal")

EVIDENCE: Shape = {
    "url": F("text"),
    "file": F("text", doc="path under the round"),
    "sha256": F("text"),
    "captured": F("date", doc="when the evaluator captured it"),
    "submitted": F("date", doc="when the unit sent it (checked against stages.evidence_due)"),
    "title": F("text"),
}

RESULT: Shape = {
    "indicator": F("id", required=True),
    "result": F("text", choices=RESULT_STATES, aliases=tuple(RESULT_ALIASES.items()),
                doc="done, not-done, n/a, no-evidence or pending (完成, 未完成, 不适用, 无佐证, 待评)"),
    "items": F("map", doc="item id → true/false (是/否)", yes_no=True),
    "count": F("int"),
    "fraction": F("number"),
    "grade": F("number"),
    "notices": F("int"),
    "note": F("text"),
    "reason": F("text", doc="扣分理由"),
    "fix": F("text", doc="整改要求"),
    "evidence": F("list"),
    "observer": F("text"),
    "observed_at": F("date"),
    "source": F("text", choices=SOURCES),
    "findings": F("map", doc="what the evaluator found, for clauses and conditions: name → true/false (是/否), "
                  "a count, or {kind: count}", yes_no=True),
}

OBSERVATIONS: Shape = {
    "unit": F("id", required=True, doc=N_("equals the file name")),
    "observer": F("text"),
    "observed_at": F("date"),
    "measures": F("map", doc="measure id → number"),
    "facts": F("map", doc="findings about the unit as a whole (for vetoes and conditions): name → value "
               "(是/否: true/false)", yes_no=True),
    "channel": F("id", doc="a channel's file (rounds/<r>/channels/<unit>/<channel>.yaml): equals the file name"),
    "name": F("text", doc="a channel's name, e.g. 微信公众号“某某发布”"),
    "type": F("text", doc="a channel's type, e.g. 网站, 微信, 微博 (which group takes it)"),
    "results": F("list", required=True),
    "note": F("text"),
}

APPEAL_OUTCOMES = ("upheld", "partly-upheld", "rejected")

DECISION: Shape = {
    "outcome": F("text", required=True, choices=APPEAL_OUTCOMES, doc=N_("upheld / partly-upheld / rejected")),
    "reviewer": F("text", doc="who decided (required)"),
    "decided": F("date"),
    "result": F("map", doc="the new result when upheld: result / items / count / fraction / grade / notices"),
    "note": F("text"),
}

APPEAL: Shape = {
    "indicator": F("id", required=True, doc=N_("the contested observation's indicator")),
    "filed": F("date", required=True, doc=N_("filing date, within the appeal window")),
    "argument": F("text", doc="the unit's argument"),
    "evidence": F("list", doc="new evidence"),
    "decision": F("map", doc="the decision, once made"),
}

APPEALS_FILE: Shape = {
    "unit": F("id", required=True, doc=N_("equals the file name")),
    "appeals": F("list", required=True),
    "note": F("text"),
}

EXTERNAL_FILE: Shape = {
    "name": F("text", required=True),
    "deductions": F("list", required=True),
    "note": F("text"),
}

DEDUCTION: Shape = {
    "unit": F("id", required=True),
    "points": F("points", required=True),
    "reason": F("text"),
}
