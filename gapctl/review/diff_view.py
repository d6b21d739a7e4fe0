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

from gapctl.escape import code, md, plain, plain_line
from gapctl.i18n import N_, in_lang
from gapctl.labels import aside, listed, pair
from gapctl.review.diff import (
    Attribution,
    IndicatorChange,
    RepositoryDiff,
    RoundDiff,
    RoundEntry,
    UnitChange,
    category_rank,
    rank,
)
from gapctl.scoring.scoreboard import fixed, total_text, two
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
    parts = [in_lang("{changed} of {units} units changed", lang).format(changed=len(changed), units=len(diff.units)),
             in_lang("{count} up", lang).format(count=up), in_lang("{count} down", lang).format(count=down),
             in_lang("{count} grade change(s)", lang).format(count=grades)]
    parts += [in_lang("{count} added", lang).format(count=added)] if added else []
    parts += [in_lang("{count} removed", lang).format(count=removed)] if removed else []
    return _clauses(parts, lang)


def _clauses(parts: list[str], lang: str) -> str:
    """`7 个评估轮次，有变化 0，新增 1` / `7 round(s), 0 changed, 1 new`."""
    text = parts[0]
    for part in parts[1:]:
        text = in_lang("{first}, {then}", lang).format(first=text, then=part)
    return text


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
            _arrow(rank(old), rank(new)) if rank(old) or rank(new) else "",
            _arrow(category_rank(old), category_rank(new)) if category_rank(old) or category_rank(new) else "",
        ])
    return rows


def _without_empty_ranks(head: list[str], rows: list[list[str]],
                         aligns: list[str] | None = None) -> tuple[list[str], list[list[str]], list[str] | None]:
    """Drop the rank columns no row fills (schemes that publish no ranking)."""
    drop = {n for n in (len(head) - 2, len(head) - 1) if not any(row[n] for row in rows)}
    keep = [n for n in range(len(head)) if n not in drop]
    return ([head[n] for n in keep], [[row[n] for n in keep] for row in rows],
            [aligns[n] for n in keep] if aligns else None)


HEAD = [N_("Unit"), N_("Total"), N_("Change"), N_("Grade"), N_("Rank"), N_("Rank in category")]


def _head(lang: str, change: bool = True) -> list[str]:
    """The summary table's header (without the change column for a round on one side only)."""
    return [in_lang(h, lang) for h in HEAD if change or h != "Change"]


def _text_table(rows: list[list[str]], aligns: list[str] | None = None) -> list[str]:
    """An aligned table of user text: every cell one line, bidi and control characters shown."""
    return table([[plain(cell) for cell in row] for row in rows], aligns)


def text_lines(diff: RoundDiff, lang: str = "zh", show_all: bool = False) -> list[str]:
    units = diff.units if show_all else diff.changed()
    lines = [plain_line(f"gapctl diff {diff.path}: {diff.old_label} → {diff.new_label}"), _summary(diff, lang)]
    if diff.scheme_notes:
        lines += ["", in_lang("Scheme differences:", lang)]
        lines += [f"  - {plain(note)}" for note in diff.scheme_notes]
    if not units:
        return lines + ["", in_lang("No score changes.", lang)]
    head, rows, aligns = _without_empty_ranks(_head(lang), unit_rows(diff, units, lang),
                                              ["left", "right", "right", "left", "left", "left"])
    lines += [""] + _text_table([head] + rows, aligns)
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
        head = [in_lang("Indicator", lang), in_lang("Points", lang), in_lang("Observation", lang)]
        head += [in_lang("Commit", lang)] if attributed else []
        lines += ["  " + line for line in _text_table([head] + rows)]
    if diff.gates:
        lines += ["", in_lang("Gates tripped:", lang)] + [f"  - {plain(g)}" for g in diff.gates]
    return lines


def member_lines(u: UnitChange, lang: str) -> list[str]:
    """`新媒体账号 某县微博 70 → 85（M1 更新 评分70 → 评分85，ab12cd3 张三）` per member that moved."""
    from gapctl.scheme.formula import exact

    out = []
    for m in u.members:
        old = exact(m.old_total) if m.old_total is not None else "—"
        new = exact(m.new_total) if m.new_total is not None else "—"
        detail = listed([f"{c.indicator} {c.name} {_arrow(c.old_observation, c.new_observation)}"
                         for c in m.indicators], lang)
        if m.by is not None:
            detail = _clauses([detail, _by(m.by)], lang) if detail else _by(m.by)
        text = f"{m.group} {m.name} {old} → {new}"
        out.append(aside(text, detail, lang) if detail else text)
    if out:
        out.insert(0, in_lang("Changes below it:", lang))
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
    lines = [f"### gapctl diff {code(diff.path)}", "",
             f"{code(diff.old_label)} → {code(diff.new_label)}: **{md(_summary(diff, lang))}**"]
    if diff.gates:
        lines += ["", _gates_heading(lang)] + [f"- {md(g)}" for g in diff.gates]
    if diff.scheme_notes:
        lines += ["", _folded(in_lang("Scheme differences", lang), len(diff.scheme_notes)), ""]
        lines += [f"- {md(n)}" for n in diff.scheme_notes] + ["", "</details>"]
    if not units:
        return "\n".join(lines + ["", in_lang("No score changes.", lang)]) + "\n"
    head, rows, _ = _without_empty_ranks(_head(lang), unit_rows(diff, units, lang))
    lines += [""] + _md_table(head, rows[:MAX_SUMMARY_ROWS], {1, 2})
    if len(rows) > MAX_SUMMARY_ROWS:
        rest = len(rows) - MAX_SUMMARY_ROWS
        other = in_lang("Other {count} units", lang).format(count=rest)
        lines += ["", f"<details><summary>{other}</summary>", ""]
        lines += _md_table(head, rows[MAX_SUMMARY_ROWS:], {1, 2}) + ["", "</details>"]
    moved = [(u, line) for u in units for line in member_lines(u, lang)[1:]]
    if moved:
        lines += ["", _folded(in_lang("Changes below units", lang), len(moved)), ""]
        lines += _md_table([in_lang("Unit", lang), in_lang("Change", lang)], [[u.name, text] for u, text in moved])
        lines += ["", "</details>"]
    changes = [(u, c) for u in units for c in u.indicators]
    if changes:
        attributed = any(c.by for _, c in changes)
        lines += ["", _folded(in_lang("Indicator changes", lang), len(changes)), ""]
        head = [in_lang("Unit", lang), in_lang("Indicator", lang), in_lang("Points", lang),
                in_lang("Observation", lang)] + ([in_lang("Commit", lang)] if attributed else [])
        lines += _md_table(head, [[u.name, f"{c.indicator} {c.name}", _points(c),
                                   _arrow(c.old_observation, c.new_observation) + (f" ({c.note})" if c.note else "")]
                                  + ([_by(c.by)] if attributed else []) for u, c in changes])
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _gates_heading(lang: str) -> str:
    return "**" + in_lang("Gates tripped — a second review is required:", lang) + "**"


def _folded(what: str, count: int) -> str:
    """The start of a folded section, titled with how many rows it holds: `指标变化 (12)`."""
    return f"<details><summary>{what} ({count})</summary>"


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
            "old_rank": rank(u.old), "new_rank": rank(u.new),
            "old_category_rank": category_rank(u.old), "new_category_rank": category_rank(u.new),
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
    parts = [in_lang("{count} round(s)", lang).format(count=len(diff.rounds)),
             in_lang("{count} changed", lang).format(count=count["changed"]),
             in_lang("{count} new", lang).format(count=count["added"]),
             in_lang("{count} removed", lang).format(count=count["removed"]),
             in_lang("{count} unchanged", lang).format(count=count["same"])]
    parts += [in_lang("{count} unreadable", lang).format(count=count["unreadable"])] if count["unreadable"] else []
    return _clauses(parts, lang)


def _no_rounds(lang: str) -> str:
    return in_lang("No rounds under rounds/ at either revision.", lang)


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
    what = in_lang("new round", lang) if entry.status == "added" else in_lang("round removed", lang)
    text = pair(what, in_lang("{count} unit(s)", lang).format(count=len(units)), lang)
    return _clauses([text, in_lang("scores {span}", lang).format(span=span)], lang) if span else text


def _side_rows(entry: RoundEntry) -> list[list[str]]:
    return [[u.unit.name, total_text(u), u.grade or "", str(rank(u) or ""),
             str(category_rank(u) or "")] for u in _ranked(entry)]


def _side_head(lang: str) -> list[str]:
    return _head(lang, change=False)


def _unreadable(entry: RoundEntry, lang: str) -> str:
    return pair(in_lang("could not be read", lang), entry.error or "", lang)


def _same_line(diff: RepositoryDiff, lang: str) -> list[str]:
    same = [e.path for e in diff.rounds if e.status == "same"]
    if not same:
        return []
    return [pair(in_lang("Rounds without score changes", lang), ", ".join(same), lang)]


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
                head, rows, aligns = _without_empty_ranks(_side_head(lang), _side_rows(entry),
                                                          ["left", "right", "left", "left", "left"])
                lines += [""] + _text_table([head] + rows, aligns)
            if entry.gates:
                lines += ["", in_lang("Gates tripped:", lang)]
                lines += [f"  - {plain(g)}" for g in entry.gates]
        elif entry.status == "unreadable":
            lines += ["", plain_line(f"gapctl diff {entry.path}"), plain(_unreadable(entry, lang))]
    same = _same_line(diff, lang)
    return lines + ([""] + [plain(line) for line in same] if same and not show_all else [])


def repository_markdown(diff: RepositoryDiff, lang: str = "zh", show_all: bool = False) -> str:
    lines = [f"### gapctl diff {code(diff.path)}", "",
             f"{code(diff.old_label)} → {code(diff.new_label)}: **"
             + md(repository_summary(diff, lang) if diff.rounds else _no_rounds(lang)) + "**"]
    for entry in diff.rounds:
        if entry.diff is not None and (entry.status == "changed" or show_all):
            lines += [""] + markdown(entry.diff, lang, show_all).rstrip("\n").split("\n")
        elif entry.status in ("added", "removed"):
            lines += ["", f"### gapctl diff {code(entry.path)}", "", f"**{md(_side_summary(entry, lang))}**"]
            if entry.gates:
                lines += ["", _gates_heading(lang)] + [f"- {md(g)}" for g in entry.gates]
            if entry.status == "added" and entry.scored and entry.scored.units:
                head, rows, _ = _without_empty_ranks(_side_head(lang), _side_rows(entry))
                lines += [""] + _md_table(head, rows, {1})
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
                              "rank": rank(u), "category_rank": category_rank(u)} for u in _ranked(entry)]
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
        return "_" + in_lang("{count} row(s) left out to keep this under {max_chars} characters; run without "
                             "--max-chars for the whole diff (in CI: the workflow run's artifact).", lang).format(
            count=left_out, max_chars=max_chars) + "_"

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
