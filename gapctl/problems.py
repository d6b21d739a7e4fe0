"""The problem catalogue and the report that collects problems.

Bad data is not exceptional: every check yields `Problem` values that point at a file and
a key path; locations (line, column) are resolved only when a problem is printed, so the
hot path never pays for positions it does not need.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gapctl.i18n import N_, _, in_lang

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """One entry of the catalogue: a stable code, a slug, a severity and what it means."""

    code: str
    name: str
    severity: str
    title: str
    description: str
    stage: str = "validate"  # which command finds it: validate, or score

    def title_in(self, lang: str) -> str:
        return in_lang(self.title, lang)

    def description_in(self, lang: str) -> str:
        return in_lang(self.description, lang)


CATALOGUE: dict[str, ProblemKind] = {}


def _kind(code: str, name: str, severity: str, title: str, description: str,
          stage: str = "validate") -> ProblemKind:
    kind = ProblemKind(code, name, severity, title, description, stage)
    CATALOGUE[code] = kind
    return kind


# Files
SYNTAX = _kind("E101", "syntax-error", ERROR, N_("Syntax error"),
               N_("The file is not valid YAML or TOML; nothing in it could be read."))
ENCODING = _kind("E102", "not-utf8", ERROR, N_("Not UTF-8"),
                 N_("Files must be UTF-8 (a BOM is accepted). The message names the encoding the "
                 "file looks like and a command that converts it."))
EMPTY_FILE = _kind("E103", "empty-file", ERROR, N_("Empty file"),
                   N_("The file holds no data."))
DUPLICATE_KEY = _kind("E104", "duplicate-key", ERROR, N_("Duplicate key"),
                      N_("A key appears twice in one mapping; YAML parsers would silently keep "
                      "only the last value."))
FILE_TOO_LARGE = _kind("E105", "file-too-large", ERROR, N_("File too large"),
                       N_("The file is larger than the limit (20 MB unless the environment variable "
                       "`GAPCTL_MAX_FILE_MB` says otherwise), or it holds (or its YAML aliases expand to) "
                       "more than two million values (`GAPCTL_MAX_VALUES`); it was not read."))
UNREADABLE = _kind("E106", "unreadable", ERROR, N_("Unreadable file or directory"),
                   N_("The path does not exist, is not a round or repository, or cannot be read: among "
                   "others, a symbolic link leaving the repository (in CI, any link), or a FIFO, socket or "
                   "device. The message names the path, never what the file holds."))
TOO_DEEP = _kind("E107", "too-deep", ERROR, N_("Nested too deeply"),
                 N_("Lists and mappings nest more than 64 levels deep (or a YAML alias sits inside the "
                 "collection it names). gapctl files need fewer than ten levels; the file was not read."))
UNSUPPORTED_YAML = _kind("E108", "unsupported-yaml", ERROR, N_("YAML feature not supported"),
                         N_("A merge key (`<<`), a key that is a list or mapping, or a tag such as "
                         "`!!python/object` or `!secret`: gapctl reads plain lists, mappings and values. "
                         "Write the keys out; aliases of whole values (`*name`) are fine."))
BAD_CALENDAR = _kind("E109", "bad-calendar", ERROR, N_("Calendar file cannot be used"),
                    N_("A file under calendars/ (holidays and make-up working days that extend China's official "
                    "calendar) cannot be read, or an entry in it is not a date of the year it names, or two files "
                    "disagree about a day. Appeal windows count working days with it."))
# Shape
UNKNOWN_KEY = _kind("E201", "unknown-key", ERROR, N_("Unknown key"),
                    N_("A key that this kind of file does not have; usually a typo (the message "
                    "suggests the closest known key). Its value would otherwise be ignored."))
MISSING_KEY = _kind("E202", "missing-key", ERROR, N_("Missing required key"),
                    N_("A key that this kind of object must have is absent."))
WRONG_TYPE = _kind("E203", "wrong-type", ERROR, N_("Wrong type"),
                   N_("A value has the wrong type (text where a number is expected, a number "
                   "where an id is expected, …)."))
BAD_VALUE = _kind("E204", "bad-value", ERROR, N_("Invalid value"),
                  N_("A value has the right type but is not allowed: a malformed id or date, a "
                  "negative number of points, an unknown choice."))
ID_MISMATCH = _kind("E205", "id-mismatch", ERROR, N_("Id does not match file name"),
                    N_("A scheme, unit set, round or observation file must be named after the id "
                    "it declares."))
# References
DUPLICATE_ID = _kind("E301", "duplicate-id", ERROR, N_("Duplicate id"),
                     N_("Two units, indicators, rule items, observation entries or files share "
                     "one id."))
UNKNOWN_REFERENCE = _kind("E302", "unknown-reference", ERROR, N_("Unknown reference"),
                          N_("A reference to a unit, indicator, scheme, unit set, tag, measure or "
                          "item that does not exist."))
PARENT_CYCLE = _kind("E303", "parent-cycle", ERROR, N_("Cycle in unit parents"),
                     N_("Following `parent` from a unit leads back to itself."))
UNIT_WITHOUT_SCHEME = _kind("E304", "unit-without-scheme", ERROR, N_("Unit has no scheme"),
                            N_("No scheme of the round applies to the unit's type, so it cannot "
                            "be scored."))
# Scheme arithmetic and rules
POINTS_MISMATCH = _kind("E401", "points-mismatch", ERROR, N_("Points do not add up"),
                        N_("A group's points differ from the sum of its children's, or the "
                        "declared total differs from the sum of the top level."))
RULE_PARAMS = _kind("E402", "bad-rule", ERROR, N_("Rule inconsistent with its indicator"),
                    N_("A rule's parameters do not fit the indicator: items not summing to its "
                    "points, tiers above its maximum or out of order, a leaf without a rule."))
UNKNOWN_RULE_KIND = _kind("E403", "unknown-rule-kind", ERROR, N_("Unknown rule kind"),
                          N_("The rule's `kind` is not one gapctl knows; see docs/rules.md."))
BAD_FORMULA = _kind("E404", "bad-formula", ERROR, N_("Formula cannot be read"),
                    N_("A formula or condition (a gate, veto, pass line, clause's `when`, `scoring.base` or "
                    "`scoring.total`) has a syntax error, an unknown name or function, or a wrong number of "
                    "arguments. The column points inside the formula; docs/rules.md lists the language."))
FORMULA_ORDER = _kind("E405", "formula-order", ERROR, N_("Formula reads a figure not yet known"),
                      N_("A unit's figures are computed in a fixed order: observations, indicator scores, base, "
                      "deductions, bonus, total. A formula may read only what comes before the place it is "
                      "used: a gate on the bonus cannot read `total`, which includes that bonus."))
CONSTRUCT_PARAMS = _kind("E406", "bad-construct", ERROR, N_("Scoring construct inconsistent"),
                         N_("A veto, pass line, gate, redistribution or bound does not fit the scheme: a veto "
                         "without an effect, a grade that no band has, a pass line above its part's points, "
                         "points redistributed to an indicator that does not exist."))
ROLLUP = _kind("E407", "bad-rollup", ERROR, N_("Roll-up inconsistent"),
               N_("A score built from other scores does not fit the round: a channel that no group (or two) takes, a "
               "subordinate rolled up twice into one unit, a member scored by another scheme than its group says, a "
               "draw naming units outside its group or with no seed or minutes, a sampled group with no draw."))
ROLLUP_CYCLE = _kind("E408", "rollup-cycle", ERROR, N_("Scores built from each other in a cycle"),
                     N_("A round's periods lead back to the round itself; the cycle is named."))
# Observations
VALUE_DOES_NOT_FIT = _kind("E501", "value-does-not-fit", ERROR, N_("Observation does not fit its rule"),
                           N_("The recorded value is not the form the indicator's rule needs "
                           "(a count where items are expected, a grade above the maximum, …)."))
NOT_APPLICABLE = _kind("W502", "observed-not-applicable", WARNING,
                       N_("Observation for an indicator that does not apply"),
                       N_("The indicator does not apply to this unit (by type, tag or name); the "
                       "observation is ignored when scoring."))
NOT_OBSERVED = _kind("W503", "not-observed", WARNING, N_("Indicators not yet observed"),
                     N_("Applicable indicators without an observation, or marked `pending`; "
                     "`gapctl score --final` refuses to score them."))
MISSING_REASON = _kind("W504", "missing-reason", WARNING, N_("Points lost without 扣分理由"),
                       N_("Every lost point needs a `reason` (扣分理由) for the problem list."))
EVIDENCE_MISSING = _kind("E505", "evidence-missing", ERROR, N_("Evidence file missing or outside the round"),
                         N_("An evidence `file` does not exist, or its path leaves the round "
                         "directory."))
EVIDENCE_HASH = _kind("E506", "evidence-hash", ERROR, N_("Evidence file changed"),
                      N_("The sha256 recorded for an evidence file does not match the file."))
NOT_ASSESSED_FINAL = _kind("E508", "not-assessed-final", ERROR, N_("Not yet assessed (final score)"),
                           N_("`gapctl score --final` found applicable indicators still pending; a final "
                           "score needs every one observed."), stage="score")
APPEAL_OUT_OF_WINDOW = _kind("E601", "appeal-out-of-window", ERROR, N_("Appeal filed outside the window"),
                             N_("An appeal was filed before the preliminary result or after the appeal window "
                             "(stages.preliminary, or stages.preliminary_end when the feedback runs over several "
                             "days, + appeal_working_days working days of China's calendar)."))
DECISION_WITHOUT_REVIEWER = _kind("E602", "decision-without-reviewer", ERROR, N_("Appeal decision without a reviewer"),
                                  N_("Every decision on an appeal names the reviewer who made it."))
LATE_EVIDENCE = _kind("W603", "late-evidence", WARNING, N_("Evidence after the deadline"),
                      N_("Evidence submitted (or captured) after stages.evidence_due; with the scheme's "
                      "`late_evidence: ignore` it does not count (随州: 逾期未报视为无相关工作内容)."))
NO_OBSERVATIONS = _kind("W507", "no-observations", WARNING, N_("No observation file for a unit"),
                        N_("A unit of the round has no observation file yet."))


@dataclass(slots=True)
class Location:
    """A position in a file, 1-based; a problem with the whole file points at 1:1."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


class Locatable(Protocol):
    """What a problem points into: a data file that finds the line and column of a key path
    (gapctl.data.sources.SourceFile is the one there is). A protocol, so that this module, which
    every package imports, imports none of them."""

    def locate(self, at: tuple[Any, ...], on: str = "value", offset: int | None = None) -> Location: ...


@dataclass(slots=True)
class Problem:
    """One finding: what kind, where (file + key path inside it), and the message."""

    kind: ProblemKind
    message: str
    src: Locatable | None = None  # a gapctl.data.sources.SourceFile
    at: tuple[Any, ...] = ()
    on: str = "value"  # "value" or "key": which end of a mapping entry to point at
    location: Location | None = None  # set directly when known (syntax errors)
    offset: int | None = None  # characters into the value's text (a fault inside a formula)

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def severity(self) -> str:
        return self.kind.severity

    def locate(self) -> Location:
        if self.location is None:
            if self.src is None:
                self.location = Location("-")
            else:
                self.location = self.src.locate(self.at, self.on, self.offset)
        return self.location


def problem(kind: ProblemKind, message: str, src: Locatable | None = None,
            at: tuple[Any, ...] = (), on: str = "value") -> Problem:
    return Problem(kind, message, src, tuple(at), on)


@dataclass
class Report:
    """The problems found by a run, which decide the exit code."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, item: Problem) -> None:
        self.problems.append(item)

    def extend(self, items: list[Problem]) -> None:
        self.problems.extend(items)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    def sorted(self) -> list[Problem]:
        """Problems ordered by path, line, column, code: the order users read them in. Two at the
        same place with the same code keep the order they were found in (not their text's, which
        differs by language), and a repeated one is shown once."""
        def key(p: Problem) -> tuple[str, int, int, str, str]:
            loc = p.locate()
            return (loc.path, loc.line, loc.col, p.code, p.message)
        unique: dict[tuple[str, int, int, str, str], Problem] = {}
        for p in self.problems:
            unique.setdefault(key(p), p)
        return [unique[k] for k in sorted(unique, key=lambda k: k[:4])]

    def exit_code(self, strict: bool = False) -> int:
        if self.errors or (strict and self.warnings):
            return 1
        return 0


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """"; did you mean 'x'?" for the closest of `known` to a name that is not among them, or ""."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return _("; did you mean '{close}'?").format(close=close[0]) if close else ""
