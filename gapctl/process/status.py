"""Where a round stands: progress per stage, what is overdue, what is due in the next 5 working days.

`status` finds the facts; `text_lines` says them in the language asked for (gapctl.i18n), and
`json_data` in English, whatever the language, so that a script reads the same words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gapctl.data.model import Round
from gapctl.escape import plain_line
from gapctl.figures import figure
from gapctl.i18n import N_, in_lang
from gapctl.textwidth import table

STAGES = ("self_assessment_due", "evidence_due", "collection_start", "collection_end", "preliminary",
          "preliminary_end", "appeal_deadline", "final")
STAGE_WORDS = {
    "self_assessment_due": N_("self-assessment due"),
    "evidence_due": N_("evidence due"),
    "collection_start": N_("data collection starts"),
    "collection_end": N_("data collection ends"),
    "preliminary": N_("preliminary result"),
    "preliminary_end": N_("feedback of preliminary results ends"),
    "appeal_deadline": N_("appeal window closes"),
    "final": N_("final result"),
}
Said = tuple[str, dict[str, Any]]  # a message (English, in the catalogue) and its values


@dataclass
class Status:
    round: Round
    today: dt.date
    stages: list[tuple[str, dt.date, int]]  # (stage, date, working days from today; negative = past)
    counts: dict[str, int]
    overdue: list[Said] = field(default_factory=list)
    due_soon: list[Said] = field(default_factory=list)
    unknown_calendar: list[dt.date] = field(default_factory=list)


def status(round_: Round, today: dt.date, progress: Any = None,
           counts_of: dict[str, tuple[int, int, int]] | None = None) -> Status:
    """Counts of units × indicators per stage and the deadlines around `today`. `counts_of`: each
    unit's (observed, self-assessed, reviewed) counted file by file (gapctl.scoring.outcomes, cached), when
    the round's observations were not loaded."""
    from gapctl.data.workdays import WorkCalendar, load_calendar_files
    from gapctl.scoring.outcomes import progress_counts
    from gapctl.scoring.validate import appeal_deadline

    files, _ = load_calendar_files(round_.directory.parent.parent)
    calendar = WorkCalendar(files)
    dates: dict[str, dt.date] = {k: v for k, v in round_.stages.items() if isinstance(v, dt.date)}
    _, deadline = appeal_deadline(round_)
    if deadline is not None:
        dates["appeal_deadline"] = deadline
    stages = [(name, dates[name], calendar.working_days_between(today, dates[name]))
              for name in STAGES if name in dates]
    counts = {"units": 0, "applicable": 0, "observed": 0, "self": 0, "reviewed": 0, "appealed": 0, "decided": 0}
    units = round_.unit_set.units if round_.unit_set else []
    for unit in (progress(units) if progress else units):
        scheme = round_.scheme_for(unit)
        if scheme is None:
            continue
        counts["units"] += 1
        counts["applicable"] += sum(1 for i in scheme.leaves() if i.section == "main" and i.applies(unit))
        if counts_of is not None:
            found = counts_of.get(unit.id, (0, 0, 0))
        else:
            found = progress_counts(scheme, unit, round_.observations.get(unit.id))
        for key, value in zip(("observed", "self", "reviewed"), found, strict=True):
            counts[key] += value
        appeals = [a for a in round_.appeals.get(unit.id, []) if a.filed <= today]
        counts["appealed"] += len(appeals)
        counts["decided"] += sum(1 for a in appeals if a.outcome and (a.decided is None or a.decided <= today))
    result = Status(round_, today, stages, counts)
    missing = counts["applicable"] - counts["observed"]
    if "collection_end" in dates and today > dates["collection_end"] and missing:
        end = dates["collection_end"]
        result.overdue.append((N_("{missing} indicator observation(s) missing after data collection closed on "
                                  "{end}"), {"missing": missing, "end": end}))
    if "self_assessment_due" in dates and today > dates["self_assessment_due"] and counts["self"] == 0:
        due = dates["self_assessment_due"]
        result.overdue.append((N_("no self-assessment recorded, due {due}"), {"due": due}))
    undecided = counts["appealed"] - counts["decided"]
    if undecided and "final" in dates and today > dates["final"]:
        result.overdue.append((N_("{undecided} appeal(s) undecided after the final result of {final}"),
                               {"undecided": undecided, "final": dates["final"]}))
    for name, when, days in stages:
        if 0 <= days <= 5 and when >= today:
            result.due_soon.append((N_("{stage} on {date} (in {days} working day(s))"),
                                    {"stage": STAGE_WORDS[name], "date": when, "days": days}))
    result.unknown_calendar = calendar.unknown_dates([today, *dates.values()])
    return result


def said(item: Said, lang: str) -> str:
    """One overdue or due-soon line in `lang` (a stage's name in it too)."""
    message, values = item
    values = {k: in_lang(v, lang) if k == "stage" else v for k, v in values.items()}
    return in_lang(message, lang).format(**values)


def text_lines(s: Status, lang: str = "zh") -> list[str]:
    lines = [plain_line(in_lang("{title} ({id}) · today {today}", lang).format(
        title=s.round.title, id=s.round.id, today=s.today)), ""]
    rows = [[in_lang("Stage", lang), in_lang("Date", lang), in_lang("Working days", lang)]]
    for name, when, days in s.stages:
        rows.append([in_lang(STAGE_WORDS[name], lang), when.isoformat(), f"{days:+d}" if days else "0"])
    lines += table(rows, ["left", "left", "right"]) + [""]
    c = s.counts
    total = c["applicable"] or 1
    rows = [[in_lang("Progress", lang), in_lang("Count", lang), "%"]]
    labels = {"observed": N_("observed"), "self": N_("self-assessed"), "reviewed": N_("reviewed")}
    for key, word in labels.items():
        share = figure(Decimal(100 * c[key]) / total, 0)
        rows.append([in_lang(word, lang), f"{c[key]}/{c['applicable']}", share])
    rows.append([in_lang("appeals (decided)", lang), f"{c['appealed']} ({c['decided']})", ""])
    lines += table(rows, ["left", "right", "right"])
    for title, items in ((in_lang("Overdue:", lang), s.overdue),
                         (in_lang("Due in the next 5 working days:", lang), s.due_soon)):
        lines += ["", title] + ([f"  - {said(item, lang)}" for item in items] or ["  -"])
    if s.unknown_calendar:
        lines += ["", in_lang("Outside known holiday data (counted Monday–Friday; add calendars/<year>.yaml): "
                              "{dates}", lang).format(dates=", ".join(d.isoformat() for d in s.unknown_calendar))]
    return lines


def json_data(s: Status) -> dict[str, Any]:
    return {"round": s.round.id, "today": s.today.isoformat(),
            "stages": [{"stage": n, "date": d.isoformat(), "working_days": w} for n, d, w in s.stages],
            "counts": s.counts, "overdue": [said(item, "en") for item in s.overdue],
            "due_soon": [said(item, "en") for item in s.due_soon],
            "unknown_calendar": [d.isoformat() for d in s.unknown_calendar]}
