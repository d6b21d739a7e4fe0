"""`gapctl diff` output: aligned text, Markdown for a pull-request comment, JSON.

The Markdown escapes everything a unit, evaluator or commit author wrote (`gapctl.escape.md`:
`|`, `@` mentions, HTML, emphasis, links) and stays short: a summary table, then the
indicator-level changes folded in a <details> section. The text output shows bidi and control
characters and keeps every value on its line (`gapctl.escape.plain`).

A repository diff (`repository_*`) is a header, then each round as its own diff: a changed round
exactly as `gapctl diff ROUND` shows it, a new round with its units' totals, grades and ranks, a
removed or unreadable round in one line, and the unchanged rounds named in one line.
`fit_markdown` cuts any of these Markdown texts to a size (a pull-request comment's).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gapctl.diff import Attribution, IndicatorChange, RepositoryDiff, RoundDiff, RoundEntry, UnitChange
from gapctl.escape import code, md, plain, plain_line
from gapctl.labels import label
from gapctl.scoreboard import fixed, total_text, two
from gapctl.textwidth import table

MAX_SUMMARY_ROWS = 15


def _signed(value: Decimal, places: int = 1) -> str:
    text = fixed(value, places)
    return text if text.startswith("-") or value == 0 else f"+{text}"


def _total(u: UnitChange) -> str:
    old = total_text(u.old) if u.old else "—"
    new = total_text(u.new) if u.new else "—"
    return f"{old} → {new}" if old != new else new


def _arrow(old: Any, new: Any) -> str:
    old_text, new_text = ("—" if old is None else str(old)), ("—" if new is None else str(new))
    return new_text if old_text == new_text else f"{old_text} → {new_text}"


def _places(u: UnitChange) -> int:
    return (u.new or u.old).scheme.scoring.places  # type: ignore[union-attr]


def _summary(diff: RoundDiff, lang: str) -> str:
    changed = diff.changed()
    up = sum(1 for u in changed if u.delta > 0)
    down = sum(1 for u in changed if u.delta < 0)
    grades = sum(1 for u in changed if u.grade_changed)
    added = sum(1 for u in changed if u.status == "added")
    removed = sum(1 for u in changed if u.status == "removed")
    if lang == "zh":
        parts = [f"{len(changed)}/{len(diff.units)} 个单位有变化", f"上升 {up}", f"下降 {down}", f"等次变化 {grades}"]
        parts += [f"新增 {added}"] if added else []
        parts += [f"移除 {removed}"] if removed else []
        return "，".join(parts)
    parts = [f"{len(changed)} of {len(diff.units)} units changed", f"{up} up", f"{down} down",
             f"{grades} grade change(s)"]
    parts += [f"{added} added"] if added else []
    parts += [f"{removed} removed"] if removed else []
    return ", ".join(parts)


def _points(change: IndicatorChange) -> str:
    def one(earned: Decimal | None, points: Decimal | None) -> str:
        if earned is None:
            return "—"
        return f"{two(earned)}/{two(points)}" if points is not None and change.section == "main" else two(earned)
    return _arrow(one(change.old_earned, change.old_points), one(change.new_earned, change.new_points))


def _by(by: Attribution | None) -> str:
    if by is None:
        return ""
    if not by.commit:
        return f"{by.short} {by.author}"
    return f"{by.short} {by.author} {by.date} {by.subject}".strip()


def unit_rows(diff: RoundDiff, units: list[UnitChange], lang: str) -> list[list[str]]:
    rows = []
    for u in units:
        old, new = u.old, u.new
        rows.append([
            u.name, _total(u), _signed(u.delta, _places(u)) if old and new else u.status,
            _arrow(old.grade if old else None, new.grade if new else None) if (old and old.grade) or
            (new and new.grade) else "",
            _arrow(old.rank if old else None, new.rank if new else None),
            _arrow(old.category_rank if old else None, new.category_rank if new else None)
            if (old and old.category_rank) or (new and new.category_rank) else "",
        ])
    return rows


HEAD_ZH = ["单位", "总得分", "变化", "等次", "排名", "类别排名"]
HEAD_EN = ["Unit", "Total", "Change", "Grade", "Rank", "Rank in category"]


def _text_table(rows: list[list[str]], aligns: list[str] | None = None) -> list[str]:
    """An aligned table of user text: every cell one line, bidi and control characters shown."""
    return table([[plain(cell) for cell in row] for row in rows], aligns)


def text_lines(diff: RoundDiff, lang: str = "zh", show_all: bool = False) -> list[str]:
    units = diff.units if show_all else diff.changed()
    lines = [plain_line(f"gapctl diff {diff.path}: {diff.old_label} → {diff.new_label}"), _summary(diff, lang)]
    if diff.scheme_notes:
        lines += ["", "指标体系差异：" if lang == "zh" else "Scheme differences:"]
        lines += [f"  - {plain(note)}" for note in diff.scheme_notes]
    if not units:
        return lines + ["", "没有分数变化。" if lang == "zh" else "No score changes."]
    lines += [""] + _text_table([HEAD_ZH if lang == "zh" else HEAD_EN] + unit_rows(diff, units, lang),
                                ["left", "right", "right", "left", "left", "left"])
    for u in units:
        if not u.indicators and not u.members:
            continue
        lines += ["", f"{plain(u.name)} ({plain(u.unit)})  {_total(u)}  "
                  f"{_signed(u.delta, _places(u)) if u.old and u.new else ''}".rstrip()]
        lines += ["  " + plain(line) for line in member_lines(u, lang)]
        if not u.indicators:
            continue
        attributed = any(c.by for c in u.indicators)
        rows = []
        for c in u.indicators:
            rows.append([f"{c.indicator} {c.name}", _points(c), _arrow(c.old_observation, c.new_observation)
                         + (f" ({c.note})" if c.note else "")] + ([_by(c.by)] if attributed else []))
        head = ["指标" if lang == "zh" else "Indicator", label("points", lang), label("observation", lang)]
        head += ["提交" if lang == "zh" else "Commit"] if attributed else []
        lines += ["  " + line for line in _text_table([head] + rows)]
    if diff.gates:
        lines += ["", "检查未通过：" if lang == "zh" else "Gates tripped:"] + [f"  - {plain(g)}" for g in diff.gates]
    return lines


def member_lines(u: UnitChange, lang: str) -> list[str]:
    """`新媒体账号 某县微博 70 → 85（M1 更新 评分70 → 评分85，ab12cd3 张三）` per member that moved."""
    from gapctl.formula import exact

    zh = lang == "zh"
    out = []
    for m in u.members:
        old = exact(m.old_total) if m.old_total is not None else "—"
        new = exact(m.new_total) if m.new_total is not None else "—"
        detail = "；".join(f"{c.indicator} {c.name} {_arrow(c.old_observation, c.new_observation)}"
                          for c in m.indicators) if zh else \
            "; ".join(f"{c.indicator} {c.name} {_arrow(c.old_observation, c.new_observation)}" for c in m.indicators)
        if m.by is not None:
            detail += ("，" if zh and detail else ", " if detail else "") + _by(m.by)
        text = f"{m.group} {m.name} {old} → {new}"
        out.append(text + (f"（{detail}）" if zh and detail else f" ({detail})" if detail else ""))
    if out:
        out.insert(0, "下级得分变化：" if zh else "Changes below it:")
    return out


# --- Markdown for a pull-request comment ------------------------------------------------

def _md_table(head: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    out = ["| " + " | ".join(md(h) for h in head) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return out


def markdown(diff: RoundDiff, lang: str = "zh", show_all: bool = False) -> str:
    units = diff.units if show_all else diff.changed()
    zh = lang == "zh"
    lines = [f"### gapctl diff {code(diff.path)}", "",
             f"{code(diff.old_label)} → {code(diff.new_label)}: **{md(_summary(diff, lang))}**"]
    if diff.gates:
        lines += ["", "**检查未通过，需要复核：**" if zh else "**Gates tripped — a second review is required:**"]
        lines += [f"- {md(g)}" for g in diff.gates]
    if diff.scheme_notes:
        lines += ["", "<details><summary>" + ("指标体系差异" if zh else "Scheme differences")
                  + f" ({len(diff.scheme_notes)})</summary>", ""]
        lines += [f"- {md(n)}" for n in diff.scheme_notes] + ["", "</details>"]
    if not units:
        return "\n".join(lines + ["", "没有分数变化。" if zh else "No score changes."]) + "\n"
    rows = unit_rows(diff, units, lang)
    head = HEAD_ZH if zh else HEAD_EN
    lines += [""] + _md_table(head, rows[:MAX_SUMMARY_ROWS], {1, 2})
    if len(rows) > MAX_SUMMARY_ROWS:
        rest = len(rows) - MAX_SUMMARY_ROWS
        lines += ["", f"<details><summary>{'其余' if zh else 'Other'} {rest} "
                  f"{'个单位' if zh else 'units'}</summary>", ""]
        lines += _md_table(head, rows[MAX_SUMMARY_ROWS:], {1, 2}) + ["", "</details>"]
    moved = [(u, line) for u in units for line in member_lines(u, lang)[1:]]
    if moved:
        lines += ["", f"<details><summary>{'下级得分变化' if zh else 'Changes below units'} ({len(moved)})</summary>",
                  ""]
        lines += _md_table(["单位" if zh else "Unit", "变化" if zh else "Change"],
                           [[u.name, text] for u, text in moved])
        lines += ["", "</details>"]
    changes = [(u, c) for u in units for c in u.indicators]
    if changes:
        attributed = any(c.by for _, c in changes)
        lines += ["", f"<details><summary>{'指标变化' if zh else 'Indicator changes'} ({len(changes)})</summary>", ""]
        head = ["单位" if zh else "Unit", "指标" if zh else "Indicator", label("points", lang),
                label("observation", lang)] + (["提交" if zh else "Commit"] if attributed else [])
        lines += _md_table(head, [[u.name, f"{c.indicator} {c.name}", _points(c),
                                   _arrow(c.old_observation, c.new_observation) + (f" ({c.note})" if c.note else "")]
                                  + ([_by(c.by)] if attributed else []) for u, c in changes])
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


# --- JSON -------------------------------------------------------------------------------

def json_data(diff: RoundDiff, show_all: bool = False) -> dict[str, Any]:
    def attribution(by: Attribution | None) -> dict[str, str] | None:
        return None if by is None else {"commit": by.commit, "author": by.author, "date": by.date,
                                        "subject": by.subject}

    def unit(u: UnitChange) -> dict[str, Any]:
        places = _places(u)
        return {
            "unit": u.unit, "name": u.name, "status": u.status,
            "old_total": fixed(u.old.total, places) if u.old and u.old.total is not None else None,
            "new_total": fixed(u.new.total, places) if u.new and u.new.total is not None else None,
            "delta": fixed(u.delta, places),
            "old_grade": u.old.grade if u.old else None, "new_grade": u.new.grade if u.new else None,
            "old_rank": u.old.rank if u.old else None, "new_rank": u.new.rank if u.new else None,
            "old_category_rank": u.old.category_rank if u.old else None,
            "new_category_rank": u.new.category_rank if u.new else None,
            "indicators": [{
                "indicator": c.indicator, "name": c.name, "section": c.section,
                "old_points": two(c.old_points) if c.old_points is not None else None,
                "new_points": two(c.new_points) if c.new_points is not None else None,
                "old_earned": two(c.old_earned) if c.old_earned is not None else None,
                "new_earned": two(c.new_earned) if c.new_earned is not None else None,
                "delta": two(c.delta), "old_observation": c.old_observation,
                "new_observation": c.new_observation, "note": c.note, "by": attribution(c.by),
            } for c in u.indicators],
        }

    units = diff.units if show_all else diff.changed()
    return {"path": diff.path, "old": diff.old_label, "new": diff.new_label,
            "summary": _summary(diff, "en"), "scheme_notes": diff.scheme_notes,
            "gates": diff.gates, "units": [unit(u) for u in units],
            "problems": [p.message for p in diff.problems]}



# --- a whole repository -------------------------------------------------------------------

def repository_summary(diff: RepositoryDiff, lang: str) -> str:
    count = {status: sum(1 for e in diff.rounds if e.status == status)
             for status in ("changed", "added", "removed", "same", "unreadable")}
    if lang == "zh":
        parts = [f"{len(diff.rounds)} 个评估轮次", f"有变化 {count['changed']}", f"新增 {count['added']}",
                 f"移除 {count['removed']}", f"无变化 {count['same']}"]
        parts += [f"无法读取 {count['unreadable']}"] if count["unreadable"] else []
        return "，".join(parts)
    parts = [f"{len(diff.rounds)} round(s)", f"{count['changed']} changed", f"{count['added']} new",
             f"{count['removed']} removed", f"{count['same']} unchanged"]
    parts += [f"{count['unreadable']} unreadable"] if count["unreadable"] else []
    return ", ".join(parts)


def _no_rounds(lang: str) -> str:
    return "两个版本的 rounds/ 下都没有评估轮次。" if lang == "zh" else "No rounds under rounds/ at either revision."


def _ranked(entry: RoundEntry) -> list[Any]:
    scored = entry.scored
    assert scored is not None
    return sorted(scored.units, key=lambda u: (u.rank is None, u.rank or 0, u.unit.id))


def _side_summary(entry: RoundEntry, lang: str) -> str:
    """`new round: 3 units, scores 52.0–91.5` (or removed), for a round on one side only."""
    scored = entry.scored
    assert scored is not None
    units = scored.units
    totals = sorted(u.total for u in units if u.total is not None)
    places = units[0].scheme.scoring.places if units else 1
    span = (fixed(totals[0], places) if totals[0] == totals[-1]
            else f"{fixed(totals[0], places)}–{fixed(totals[-1], places)}") if totals else ""
    if lang == "zh":
        what = "新增评估轮次" if entry.status == "added" else "评估轮次已移除"
        return f"{what}：{len(units)} 个单位" + (f"，得分 {span}" if span else "")
    what = "new round" if entry.status == "added" else "round removed"
    return f"{what}: {len(units)} unit(s)" + (f", scores {span}" if span else "")


def _side_rows(entry: RoundEntry) -> list[list[str]]:
    return [[u.unit.name, total_text(u), u.grade or "", str(u.rank or ""),
             str(u.category_rank or "")] for u in _ranked(entry)]


def _side_head(lang: str) -> list[str]:
    return [h for h in (HEAD_ZH if lang == "zh" else HEAD_EN) if h not in ("变化", "Change")]


def _unreadable(entry: RoundEntry, lang: str) -> str:
    return ("无法读取：" if lang == "zh" else "could not be read: ") + (entry.error or "")


def _same_line(diff: RepositoryDiff, lang: str) -> list[str]:
    same = [e.path for e in diff.rounds if e.status == "same"]
    if not same:
        return []
    return [("没有分数变化的评估轮次：" if lang == "zh" else "Rounds without score changes: ") + ", ".join(same)]


def repository_text_lines(diff: RepositoryDiff, lang: str = "zh", show_all: bool = False) -> list[str]:
    lines = [plain_line(f"gapctl diff {diff.path}: {diff.old_label} → {diff.new_label}")]
    if not diff.rounds:
        return lines + [_no_rounds(lang)]
    lines.append(repository_summary(diff, lang))
    for entry in diff.rounds:
        if entry.diff is not None and (entry.status == "changed" or show_all):
            lines += [""] + text_lines(entry.diff, lang, show_all)
        elif entry.status in ("added", "removed"):
            lines += ["", plain_line(f"gapctl diff {entry.path}"), _side_summary(entry, lang)]
            if entry.status == "added":
                lines += [""] + _text_table([_side_head(lang)] + _side_rows(entry),
                                            ["left", "right", "left", "left", "left"])
            if entry.gates:
                lines += ["", "检查未通过：" if lang == "zh" else "Gates tripped:"]
                lines += [f"  - {plain(g)}" for g in entry.gates]
        elif entry.status == "unreadable":
            lines += ["", plain_line(f"gapctl diff {entry.path}"), plain(_unreadable(entry, lang))]
    same = _same_line(diff, lang)
    return lines + ([""] + [plain(line) for line in same] if same and not show_all else [])


GATES_MD_ZH = "**检查未通过，需要复核：**"
GATES_MD_EN = "**Gates tripped — a second review is required:**"


def repository_markdown(diff: RepositoryDiff, lang: str = "zh", show_all: bool = False) -> str:
    zh = lang == "zh"
    lines = [f"### gapctl diff {code(diff.path)}", "",
             f"{code(diff.old_label)} → {code(diff.new_label)}: **"
             + md(repository_summary(diff, lang) if diff.rounds else _no_rounds(lang)) + "**"]
    for entry in diff.rounds:
        if entry.diff is not None and (entry.status == "changed" or show_all):
            lines += [""] + markdown(entry.diff, lang, show_all).rstrip("\n").split("\n")
        elif entry.status in ("added", "removed"):
            lines += ["", f"### gapctl diff {code(entry.path)}", "", f"**{md(_side_summary(entry, lang))}**"]
            if entry.gates:
                lines += ["", GATES_MD_ZH if zh else GATES_MD_EN] + [f"- {md(g)}" for g in entry.gates]
            if entry.status == "added" and entry.scored and entry.scored.units:
                lines += [""] + _md_table(_side_head(lang), _side_rows(entry), {1})
        elif entry.status == "unreadable":
            lines += ["", f"### gapctl diff {code(entry.path)}", "", f"**{md(_unreadable(entry, lang))}**"]
    same = _same_line(diff, lang)
    if same and not show_all:
        lines += ["", md(same[0])]
    return "\n".join(lines) + "\n"


def repository_json(diff: RepositoryDiff, show_all: bool = False) -> dict[str, Any]:
    def one(entry: RoundEntry) -> dict[str, Any]:
        data: dict[str, Any] = {"path": entry.path, "status": entry.status, "gates": entry.gates}
        if entry.diff is not None:
            data.update({k: v for k, v in json_data(entry.diff, show_all).items() if k not in ("path", "gates")})
        elif entry.scored is not None:
            data["round"] = entry.scored.round.id
            data["units"] = [{"unit": u.unit.id, "name": u.unit.name,
                              "total": fixed(u.total, u.scheme.scoring.places) if u.total is not None else None,
                              "grade": u.grade,
                              "rank": u.rank, "category_rank": u.category_rank} for u in _ranked(entry)]
        else:
            data["error"] = entry.error
        return data
    return {"path": diff.path, "old": diff.old_label, "new": diff.new_label,
            "summary": repository_summary(diff, "en") if diff.rounds else _no_rounds("en"),
            "gates": diff.gates, "rounds": [one(e) for e in diff.rounds],
            "problems": [p.message for p in diff.problems]}


# --- fitting a size -----------------------------------------------------------------------

def _cuttable(line: str) -> bool:
    """Rows that can be left out: table rows after the header and list items; everything else
    (headings, summaries, <details> tags) stays so that the text keeps its shape."""
    return (line.startswith("| ") and not line.startswith("| ---")) or line.startswith("- ")


def fit_markdown(text: str, max_chars: int, lang: str = "zh") -> str:
    """`text` if it has at most `max_chars` characters; else its rows kept in order as long as
    they fit, an emptied table dropped, and a last line saying how many rows were left out."""
    if len(text) <= max_chars:
        return text
    lines = text.rstrip("\n").split("\n")
    # a table's header row is cut with its separator (the line after it), never alone
    header = {i for i, line in enumerate(lines) if i + 1 < len(lines) and lines[i + 1].startswith("|---")}
    rows = [i for i, line in enumerate(lines) if _cuttable(line) and i not in header]

    def note(left_out: int) -> str:
        if lang == "zh":
            return (f"_为使评论不超过 {max_chars} 个字符，省略了 {left_out} 行；"
                    "完整内容请去掉 --max-chars 重新运行（CI 中见工作流运行的 artifact）。_")
        return (f"_{left_out} row(s) left out to keep this under {max_chars} characters; run without "
                "--max-chars for the whole diff (in CI: the workflow run's artifact)._")

    fixed_size = sum(len(line) + 1 for i, line in enumerate(lines) if i not in rows) + len(note(len(rows))) + 2
    budget = max_chars - fixed_size
    kept: set[int] = set()
    for i in rows:
        if len(lines[i]) + 1 > budget:
            break
        kept.add(i)
        budget -= len(lines[i]) + 1
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in rows and i not in kept:
            continue
        if i in header and not (i + 2 < len(lines) and i + 2 in kept):
            continue  # a table whose every row was left out: no header either
        if line.startswith("|---") and i - 1 in header and i + 1 not in kept:
            continue
        out.append(line)
    body = "\n".join(out)
    tail = "\n\n" + note(len(rows) - len(kept)) + "\n"
    if len(body) + len(tail) > max_chars:  # the lines that are not rows are too long already
        kept_lines = out
        while kept_lines:  # whole lines off the end, every <details> still closed
            kept_lines = kept_lines[:-1]
            body = "\n".join(kept_lines)
            open_blocks = body.count("<details>") - body.count("</details>")
            body += "\n</details>" * max(open_blocks, 0)
            if len(body) + len(tail) <= max_chars:
                break
        else:
            body = ""
    return body + tail
