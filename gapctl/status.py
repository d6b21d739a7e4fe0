"""Where a round stands: progress per stage, what is overdue, what is due in the next 5 working days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gapctl.escape import plain_line
from gapctl.figures import figure
from gapctl.model import Round
from gapctl.textwidth import table

STAGES = ("self_assessment_due", "evidence_due", "collection_start", "collection_end", "preliminary",
          "appeal_deadline", "final")
STAGE_WORDS = {
    "self_assessment_due": ("自查自评截止", "self-assessment due"),
    "evidence_due": ("佐证材料截止", "evidence due"),
    "collection_start": ("数据采集开始", "data collection starts"),
    "collection_end": ("数据采集结束", "data collection ends"),
    "preliminary": ("初步结果反馈", "preliminary result"),
    "appeal_deadline": ("复核申请截止", "appeal window closes"),
    "final": ("最终结果", "final result"),
}


@dataclass
class Status:
    round: Round
    today: dt.date
    stages: list[tuple[str, dt.date, int]]  # (stage, date, working days from today; negative = past)
    counts: dict[str, int]
    overdue: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)
    due_soon: list[tuple[str, str]] = field(default_factory=list)
    unknown_calendar: list[dt.date] = field(default_factory=list)


def status(round_: Round, today: dt.date, progress: Any = None) -> Status:
    """Counts of units × indicators per stage and the deadlines around `today`."""
    from gapctl.validate import appeal_deadline
    from gapctl.workdays import WorkCalendar, load_calendar_files

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
        leaves = {i.id for i in scheme.leaves() if i.section == "main" and i.applies(unit)}
        counts["applicable"] += len(leaves)
        obs = round_.observations.get(unit.id)
        entries = obs.results if obs else []
        for source, key in (("evaluator", "observed"), ("self", "self"), ("review", "reviewed")):
            counts[key] += len({r.indicator for r in entries if r.source == source and r.indicator in leaves
                                and r.state != "pending"})
        appeals = [a for a in round_.appeals.get(unit.id, []) if a.filed <= today]
        counts["appealed"] += len(appeals)
        counts["decided"] += sum(1 for a in appeals if a.outcome and (a.decided is None or a.decided <= today))
    result = Status(round_, today, stages, counts)
    missing = counts["applicable"] - counts["observed"]
    if "collection_end" in dates and today > dates["collection_end"] and missing:
        end = dates["collection_end"]
        result.overdue.append((f"数据采集已于{end}结束，仍有{missing}项指标未评估",
                               f"{missing} indicator observation(s) missing after data collection closed on {end}"))
    if "self_assessment_due" in dates and today > dates["self_assessment_due"] and counts["self"] == 0:
        due = dates["self_assessment_due"]
        result.overdue.append((f"自查自评应于{due}前完成，尚无自评记录", f"no self-assessment recorded, due {due}"))
    undecided = counts["appealed"] - counts["decided"]
    if undecided and "final" in dates and today > dates["final"]:
        result.overdue.append((f"最终结果（{dates['final']}）已过，仍有{undecided}项复核申请未决定",
                               f"{undecided} appeal(s) undecided after the final result of {dates['final']}"))
    for name, when, days in stages:
        if 0 <= days <= 5 and when >= today:
            zh_word, en_word = STAGE_WORDS[name]
            result.due_soon.append((f"{zh_word}：{when}（{days}个工作日后）",
                                    f"{en_word} on {when} (in {days} working day(s))"))
    result.unknown_calendar = calendar.unknown_dates([today, *dates.values()])
    return result


def text_lines(s: Status, lang: str = "zh") -> list[str]:
    zh = lang == "zh"
    lines = [plain_line(f"{s.round.title} ({s.round.id}) · {'今天' if zh else 'today'} {s.today}"), ""]
    rows = [["阶段" if zh else "Stage", "日期" if zh else "Date", "工作日" if zh else "Working days"]]
    for name, when, days in s.stages:
        words = STAGE_WORDS[name][0 if zh else 1]
        rows.append([words, when.isoformat(), f"{days:+d}" if days else "0"])
    lines += table(rows, ["left", "left", "right"]) + [""]
    c = s.counts
    total = c["applicable"] or 1
    rows = [["进度" if zh else "Progress", "数量" if zh else "Count", "%"]]
    labels = {"observed": ("已评估", "observed"), "self": ("已自评", "self-assessed"),
              "reviewed": ("已复核", "reviewed")}
    for key, (zh_word, en_word) in labels.items():
        share = figure(Decimal(100 * c[key]) / total, 0)
        rows.append([zh_word if zh else en_word, f"{c[key]}/{c['applicable']}", share])
    rows.append(["复核申请（已决定）" if zh else "appeals (decided)", f"{c['appealed']} ({c['decided']})", ""])
    lines += table(rows, ["left", "right", "right"])
    for title, items in ((("逾期" if zh else "Overdue"), s.overdue),
                         (("5个工作日内到期" if zh else "Due in the next 5 working days"), s.due_soon)):
        lines += ["", f"{title}:"] + ([f"  - {item[0 if zh else 1]}" for item in items] or ["  -"])
    if s.unknown_calendar:
        lines += ["", ("以下日期超出已知的节假日数据（按周一至周五计算；可在 calendars/ 中补充）："
                       if zh else "Outside known holiday data (counted Monday–Friday; add calendars/<year>.yaml):")
                  + " " + ", ".join(d.isoformat() for d in s.unknown_calendar)]
    return lines


def json_data(s: Status) -> dict[str, Any]:
    return {"round": s.round.id, "today": s.today.isoformat(),
            "stages": [{"stage": n, "date": d.isoformat(), "working_days": w} for n, d, w in s.stages],
            "counts": s.counts, "overdue": [en for _, en in s.overdue], "due_soon": [en for _, en in s.due_soon],
            "unknown_calendar": [d.isoformat() for d in s.unknown_calendar]}
