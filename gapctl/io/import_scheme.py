"""Import a published indicator table (an .xlsx workbook or a .csv file) as a scheme file.

The table has one row per leaf indicator and the columns 一级指标, 二级指标, 三级指标, 测评方式,
测评要点, 指标依据, 评估数据采集范围, 评分标准 and 分值, in any order; group names are merged cells (or left
blank under the group's first row) and carry the group's points in parentheses, e.g. "公开渠道（4分）".

`import_scheme` returns the scheme as YAML text plus problem messages naming sheet, row and column
(`指标!C7: …`); `write_scheme` writes it atomically, never through a symbolic link.

Rules are drafts, every one marked `assumed` for the office to confirm. A row whose 评分标准 /
扣分标准 / 评分细则 text says plainly how points are lost gets a `clauses` rule (`read_standard`:
每…扣N分, 未…扣N分, 再扣N分, 最多扣N分, 扣完为止, 不得分), and 一票否决 / 单项否决 become scheme
`vetoes` (with two assumed grades for them to set); the `assumed_note` quotes each text and says what
was made of it. A row without such text gets a placeholder (`all-or-nothing`) to replace. Never
guesses silently: text it cannot read is quoted in the note as 未能识别, and the output depends on the
table alone.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gapctl.i18n import _
from gapctl.io.import_standard import (
    _VETO_RE,
    GRADES_NOTE,
    PASS_SHARE,
    STANDARD_NOTE,
    VETO_GRADE,
    Standard,
    read_standard,
)

__all__ = ["KNOWN_METHODS", "PLACEHOLDER_NOTE", "STANDARD_NOTE", "Standard", "import_scheme",
           "parse_points", "read_standard", "split_methods", "write_scheme"]

KNOWN_METHODS = ("网络测评", "电话测评", "线下测评", "实地测评", "专家测评", "信函测评", "材料报送",
                 "模拟办事群众", "日常考核", "查阅资料")
PLACEHOLDER_NOTE = "导入时未给出评分规则，请补充"
SCHEMA_LINE = "# yaml-language-server: $schema=../schema/scheme.schema.json"

# column key -> accepted header texts (compared with all whitespace removed)
COLUMNS: dict[str, tuple[str, ...]] = {
    "level1": ("一级指标",),
    "level2": ("二级指标",),
    "level3": ("三级指标",),
    "methods": ("测评方式", "评估方式", "考评方式"),
    "checkpoints": ("测评要点", "评估要点", "考评要点"),
    "basis": ("指标依据", "依据"),
    "scope": ("评估数据采集范围", "数据采集范围", "采集范围"),
    "points": ("分值", "分数", "标准分"),
    "standard": ("评分标准", "扣分标准", "评分细则", "扣分细则", "评分办法", "评分方法", "计分方法", "计分标准",
                 "评分规则", "考核标准", "考评标准"),
}
REQUIRED = ("level1", "level2", "points")
TOTAL_NAMES = {"合计", "总计", "总分", "合计分值"}
HEADER_SCAN_ROWS = 50
_ID_RE = re.compile(r"^[A-Za-z0-9._-]+$")
_POINTS_RE = re.compile(r"^\(?(\d+(?:\.\d+)?)分?\)?$")
_NAME_POINTS_RE = re.compile(r"[(（]\s*([0-9０-９]+(?:[.．][0-9０-９]+)?)\s*分\s*[)）]\s*$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# --------------------------------------------------------------------------- cell text

def _squash(value: Any) -> str:
    """Header text: all whitespace removed, full-width forms folded, a trailing (分) dropped."""
    text = unicodedata.normalize("NFKC", str(value)) if value is not None else ""
    text = re.sub(r"\s+", "", text)
    return re.sub(r"\(分\)$", "", text)


def _text(value: Any) -> str:
    """Multi-line text as published: lines stripped, blank lines and control characters dropped."""
    if value is None:
        return ""
    text = _CONTROL_RE.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.strip().replace("\t", " ") for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _name(value: Any) -> str:
    """An indicator name: line breaks and whitespace next to Chinese characters removed."""
    if value is None:
        return ""
    text = _CONTROL_RE.sub("", str(value))
    text = re.sub(r"\s*\n\s*", "", text.strip())
    text = re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)  # exact (5.0 → 5); rounding= for the scan
    return value.normalize()


def parse_points(value: Any) -> Decimal | None:
    """分值 as a number: 10, 10.0, "10", "10分", "（4分）", "１０分"; None when empty or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _decimal(repr(value)) if value == value else None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    match = _POINTS_RE.match(text)
    if not match:
        return None
    try:
        return _decimal(match.group(1))
    except InvalidOperation:
        return None


def split_name(value: Any) -> tuple[str, Decimal | None]:
    """"公开渠道（4分）" -> ("公开渠道", 4); "渠道覆盖" -> ("渠道覆盖", None)."""
    name = _name(value)
    match = _NAME_POINTS_RE.search(name)
    if not match:
        return name, None
    return name[:match.start()].strip(), _decimal(unicodedata.normalize("NFKC", match.group(1)))


def split_methods(value: Any) -> list[str]:
    """"网络测评电话测评" / "网络测评、电话测评" -> ["网络测评", "电话测评"]; unknown text is kept as one item."""
    out: list[str] = []
    for part in re.split(r"[、,，;；/／|\s]+", _text(value)):
        unknown = ""
        i = 0
        while i < len(part):
            known = next((m for m in KNOWN_METHODS if part.startswith(m, i)), None)
            if known is None:
                unknown += part[i]
                i += 1
                continue
            if unknown:
                out.append(unknown)
                unknown = ""
            out.append(known)
            i += len(known)
        if unknown:
            out.append(unknown)
    return list(dict.fromkeys(m for m in out if m))


# --------------------------------------------------------------------------- tree

@dataclass
class _Node:
    name: str
    cell: str                      # where the name first appears, e.g. 指标!A7
    stated: Decimal | None = None  # points given in the name, "（4分）"
    children: dict[str, _Node] = field(default_factory=dict)
    leaf: dict[str, Any] | None = None
    row: int = 0                   # the row of the leaf

    def points(self) -> Decimal:
        if self.leaf is not None:
            return self.leaf["points"]
        return sum((c.points() for c in self.children.values()), Decimal(0))


class _Problems(list):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def _grid(ws) -> tuple[list[list[Any]], set[tuple[int, int]]]:
    """The sheet's values with every merged range filled from its top-left cell, and the filled cells."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        r.extend([None] * (width - len(r)))
    filled: set[tuple[int, int]] = set()
    for merged in ws.merged_cells.ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        if top >= len(rows) or left >= width:
            continue
        value = rows[top][left]
        for r in range(top, min(merged.max_row, len(rows))):
            for c in range(left, min(merged.max_col, width)):
                rows[r][c] = value
                if (r, c) != (top, left):
                    filled.add((r, c))
    return rows, filled


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns = _header_columns(row)
        if all(k in columns for k in REQUIRED):
            return r, columns
    return None


def _header_columns(row: list[Any]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for c, value in enumerate(row):
        text = _squash(value)
        for key, names in COLUMNS.items():
            if text in names and key not in columns:
                columns[key] = c
    return columns


def _title_above(rows: list[list[Any]], header: int) -> str | None:
    for row in reversed(rows[:header]):
        values = {_name(v) for v in row if v is not None and _name(v)}
        if len(values) == 1:
            return values.pop()
    return None


def import_scheme(workbook: Path, scheme_id: str, title: str | None = None,
                  sheet: str | None = None) -> tuple[str, list[str]]:
    """Read a published indicator table and return (scheme YAML text, problem messages).

    The YAML is "" when nothing could be imported (no workbook, no sheet, no header row).
    """
    from openpyxl.utils import get_column_letter

    problems = _Problems()
    workbook = Path(workbook)
    if not _ID_RE.match(scheme_id):
        problems.add(scheme_id or "id", "a scheme id may hold only letters, digits, '.', '_' and '-'")
    candidates = _sheets(workbook, sheet, problems)
    if candidates is None:
        return "", list(problems)
    found = None
    for sheet_title, rows, filled in candidates:
        header = _find_header(rows)
        if header is not None:
            found = sheet_title, rows, filled, header
            break
    if found is None:
        where = candidates[0][0] if len(candidates) == 1 else str(workbook)
        names = "、".join(COLUMNS[k][0] for k in REQUIRED)
        problems.add(where, _("no header row found: expected a row with the columns {names} (and 三级指标, "
                              "测评方式, 测评要点, 指标依据, 评估数据采集范围) in the first {rows} rows").format(
                                  names=names, rows=HEADER_SCAN_ROWS))
        return "", list(problems)
    sheet_title, rows, filled, (header_row, columns) = found

    def cell(r: int, key: str) -> str:
        return f"{sheet_title}!{get_column_letter(columns[key] + 1)}{r + 1}"

    def value(row: list[Any], key: str) -> Any:
        return row[columns[key]] if key in columns else None

    def restated(r: int, key: str) -> bool:
        """The cell holds a value of its own (not blank, not the continuation of a merged cell)."""
        v = value(rows[r], key)
        return v is not None and str(v).strip() != "" and (r, columns[key]) not in filled

    roots: dict[str, _Node] = {}
    veto_rows: list[tuple[int, str, str]] = []  # rows that are only a veto: (row, names, 评分标准 text)
    carried: list[str] = ["", ""]
    last_path: tuple[str, ...] | None = None
    declared_total: tuple[Decimal, str] | None = None
    levels = [k for k in ("level1", "level2", "level3") if k in columns]

    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        if all(v is None or not str(v).strip() for v in row):
            continue
        if len(_header_columns(row)) >= 3:  # the header repeated after a page break
            continue
        raw = [split_name(value(row, k)) for k in levels]
        names = [n for n, _ in raw]
        if names and names[0] in TOTAL_NAMES:
            total = parse_points(value(row, "points"))
            if total is not None:
                declared_total = (total, cell(r, "points"))
            continue
        # published tables leave 一级/二级 blank under a group's first row: carry them down
        new_top = bool(names[0]) and names[0] != carried[0]
        if names[0]:
            carried[0] = names[0]
        else:
            names[0] = carried[0]
        if new_top:
            carried[1] = ""
        if len(names) > 1:
            if names[1]:
                carried[1] = names[1]
            elif not new_top:
                names[1] = carried[1]
        depth = next((i for i, n in enumerate(names) if not n), len(names))
        path = tuple(names[:depth])
        if not path:
            problems.add(cell(r, levels[0]), "row has no indicator name; skipped")
            continue
        if any(names[depth:]):
            problems.add(cell(r, levels[depth]), "indicator names leave a gap between levels; row skipped")
            continue

        points_raw = value(row, "points")
        points = parse_points(points_raw)
        leaf_stated = raw[len(path) - 1][1]
        texts = {k: _text(value(row, k)) for k in ("checkpoints", "basis", "scope", "standard")}
        methods = split_methods(value(row, "methods"))

        # a leaf continued on the next row: split over a page (no name or 分值 of its own), or a merged leaf name
        continued = last_path is not None and not any(restated(r, k) for k in (*levels, "points"))
        if path == last_path and (r, columns[levels[len(path) - 1]]) in filled:
            continued = True
        if continued:
            node = _walk(roots, last_path)
            if node is not None and node.leaf is not None:
                if points is not None and points != node.leaf["points"]:
                    problems.add(cell(r, "points"), _("{name} appears again with {points} points; row "
                                                      "ignored").format(name=path[-1], points=points))
                    continue
                for key, text in texts.items():
                    if text and text not in node.leaf[key]:
                        node.leaf[key] = f"{node.leaf[key]}\n{text}" if node.leaf[key] else text
                node.leaf["methods"] = list(dict.fromkeys([*node.leaf["methods"], *methods]))
                continue

        # a row that only says what vetoes the unit (一票否决), with no 分值: a veto, not an indicator
        if points is None and leaf_stated is None and texts["standard"] and _VETO_RE.search(texts["standard"]):
            probe = read_standard(texts["standard"], Decimal(0))
            if not probe.clauses:
                veto_rows.append((r, "/".join(path), texts["standard"]))
                continue

        # the groups above the leaf
        siblings = roots
        parent: _Node | None = None
        broken = False
        for depth, name in enumerate(path[:-1]):
            key = levels[depth]
            node = siblings.get(name)
            stated = raw[depth][1]
            if node is None:
                node = siblings[name] = _Node(name, cell(r, key), stated)
            elif stated is not None and node.stated is not None and stated != node.stated:
                problems.add(cell(r, key), _("{name} is given {points} points here but {other} at {place}").format(
                    name=name, points=stated, other=node.stated, place=node.cell))
            elif node.stated is None:
                node.stated = stated
            if node.leaf is not None:
                problems.add(cell(r, key), _("{name} is a leaf indicator (row {row}) and cannot also have "
                                             "sub-indicators; row skipped").format(name=name, row=node.row + 1))
                broken = True
                break
            parent, siblings = node, node.children
        if broken:
            continue
        name = path[-1]
        name_cell = cell(r, levels[len(path) - 1])
        if name in siblings:
            other = siblings[name]
            under = parent.name if parent else _("the top level")
            if other.children:
                message = _("{name} is already a group under {parent}; row skipped")
            else:
                message = _("{name} is already a leaf of row {row} under {parent}; row skipped")
            problems.add(name_cell, message.format(name=name, row=other.row + 1, parent=under))
            continue
        if points is None:
            if points_raw is not None and str(points_raw).strip():
                problems.add(cell(r, "points"), _("cannot read 分值 {value} as points").format(
                    value=repr(str(points_raw).strip())))
            points = leaf_stated
            if points is None:
                problems.add(cell(r, "points"), _("{name} has no 分值; 0 points written").format(name=name))
                points = Decimal(0)
        elif leaf_stated is not None and leaf_stated != points:
            problems.add(name_cell, _("{name} says {stated}分 but 分值 is {points}").format(
                name=name, stated=leaf_stated, points=points))
        node = siblings[name] = _Node(name, name_cell, None, row=r)
        node.leaf = {"points": points, "methods": methods, **texts}
        last_path = path

    if not roots:
        problems.add(sheet_title, _("no indicator rows below the header (row {row})").format(row=header_row + 1))
        return "", list(problems)

    # stated group points against their children
    def check(node: _Node) -> None:
        for child in node.children.values():
            check(child)
        if node.leaf is None and node.stated is not None and node.stated != node.points():
            problems.add(node.cell, _("{name} is given {points} points but its sub-indicators add up to "
                                      "{total}").format(name=node.name, points=node.stated, total=node.points()))

    for root in roots.values():
        check(root)
    total = sum((n.points() for n in roots.values()), Decimal(0))
    if declared_total is not None and declared_total[0] != total:
        problems.add(declared_total[1], _("合计 is {stated} but the indicators add up to {total}").format(
            stated=declared_total[0], total=total))

    if title is None:
        title = _title_above(rows, header_row) or sheet_title
    vetoes = _draft(roots, veto_rows, cell)
    return _dump(scheme_id, title, total, roots, vetoes), list(problems)


def _sheets(path: Path, sheet: str | None, problems: _Problems) -> list[tuple[str, list[list[Any]], set]] | None:
    """The candidate sheets of a workbook (or the one table of a .csv file): (title, rows, merged cells)."""
    if path.suffix.lower() == ".csv":
        if sheet is not None:
            problems.add(str(path), _("a CSV file has no sheets; leave out --sheet"))
            return None
        from gapctl.data import reads
        try:  # a regular file (never a FIFO that would block), wherever the user keeps it
            raw = reads.read_bytes(path, reads.ANYWHERE)
        except OSError as exc:  # reads.Refused is one
            problems.add(str(path), _("cannot read the table: {reason}").format(
                reason=getattr(exc, "strerror", None) or exc))
            return None
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            problems.add(str(path), _("cannot read the table: {reason}").format(
                reason=_("neither UTF-8 nor GB18030 text")))
            return None
        rows = [[v if v.strip() else None for v in r] for r in csv.reader(io.StringIO(text, newline=""))]
        width = max((len(r) for r in rows), default=0)
        return [(path.stem, [r + [None] * (width - len(r)) for r in rows], set())]

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        problems.add(str(path), _("cannot read the workbook: {reason}").format(reason=exc))
        return None
    if sheet is not None:
        if sheet not in book.sheetnames:
            problems.add(str(path), _("no sheet named {sheet}; sheets: {sheets}").format(
                sheet=repr(sheet), sheets=", ".join(book.sheetnames)))
            return None
        return [(sheet, *_grid(book[sheet]))]
    return [(ws.title, *_grid(ws)) for ws in book.worksheets]


def _draft(roots: dict[str, _Node], veto_rows: list[tuple[int, str, str]], cell) -> list[dict[str, Any]]:
    """Read every leaf's 评分标准 (in table order, so that vetoes are numbered in it) into
    leaf["draft"]; return the scheme's vetoes, each with an assumed_note naming its row."""
    items: list[tuple[int, _Node | None, str, str]] = [(r, None, names, text) for r, names, text in veto_rows]

    def walk(nodes: dict[str, _Node], names: tuple[str, ...]) -> None:
        for node in nodes.values():
            if node.leaf is not None and node.leaf["standard"]:
                items.append((node.row, node, "/".join((*names, node.name)), node.leaf["standard"]))
            walk(node.children, (*names, node.name))

    walk(roots, ())
    vetoes: list[dict[str, Any]] = []
    for r, node, names, text in sorted(items, key=lambda i: i[0]):
        points = node.leaf["points"] if node is not None else Decimal(0)
        draft = read_standard(text, points, first_veto=len(vetoes) + 1)
        if node is not None:
            node.leaf["draft"] = draft
        where = cell(r, "standard")
        for veto in draft.vetoes:
            kept = "" if node is not None else "；本行未给分值，只作否决条件导入，不列入指标树"
            vetoes.append({**veto, "when": f"fact({veto['id']})", "grade": VETO_GRADE, "note": (
                f"{STANDARD_NOTE}：{where}（{names}）的评分标准“{veto['name']}”推断为一票否决，等次定为"
                f"{VETO_GRADE}；发生时在观测中记录 facts: {{{veto['id']}: true}}{kept}。是否同时记0分、"
                f"取消加分等，请按方案补充")})
    return vetoes


def _walk(roots: dict[str, _Node], path: tuple[str, ...]) -> _Node | None:
    node = None
    siblings = roots
    for name in path:
        node = siblings.get(name)
        if node is None:
            return None
        siblings = node.children
    return node


# --------------------------------------------------------------------------- YAML

def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _dump(scheme_id: str, title: str, total: Decimal, roots: dict[str, _Node], vetoes: list[dict[str, Any]]) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

    from gapctl.io.fmt import format_text

    def text(value: str) -> Any:
        return LiteralScalarString(value) if "\n" in value else value

    def indicator(node: _Node, ident: str) -> CommentedMap:
        out = CommentedMap()
        out["id"] = DoubleQuotedScalarString(ident)
        out["name"] = node.name
        out["points"] = _number(node.points())
        if node.leaf is None:
            out["children"] = [indicator(c, f"{ident}.{i}") for i, c in enumerate(node.children.values(), 1)]
            return out
        leaf = node.leaf
        if leaf["methods"]:
            methods = CommentedSeq(leaf["methods"])
            methods.fa.set_flow_style()
            out["methods"] = methods
        for key in ("checkpoints", "basis", "scope"):
            if leaf[key]:
                out[key] = text(leaf[key])
        draft: Standard | None = leaf.get("draft")
        if draft is not None and draft.floor is not None:
            out["floor"] = _number(draft.floor)
        out["rule"] = rule(draft)
        return out

    def rule(draft: Standard | None) -> CommentedMap:
        if draft is None or not draft.clauses:
            note = PLACEHOLDER_NOTE
            if draft is not None and draft.vetoes:  # only vetoes, and no points of its own to take
                note = f"{PLACEHOLDER_NOTE}；{draft.note()}"
            elif draft is not None:
                note = f"{PLACEHOLDER_NOTE}；评分标准：{'；'.join(draft.notes)}"
            out = CommentedMap([("kind", "all-or-nothing"), ("assumed", True), ("assumed_note", note)])
            out.fa.set_flow_style()
            return out
        clauses = CommentedSeq()
        for clause in draft.clauses:
            item = CommentedMap((k, _number(v) if isinstance(v, Decimal) else v) for k, v in clause.items())
            item.fa.set_flow_style()
            clauses.append(item)
        return CommentedMap([("kind", "clauses"), ("clauses", clauses), ("assumed", True),
                             ("assumed_note", draft.note())])

    doc = CommentedMap()
    doc["id"] = scheme_id
    doc["title"] = title
    doc["total_points"] = _number(total)
    doc["indicators"] = [indicator(n, str(i)) for i, n in enumerate(roots.values(), 1)]
    if vetoes:
        grades = CommentedSeq()
        line = _number((total * PASS_SHARE).quantize(Decimal("0.1"), ROUND_HALF_UP).normalize())
        note = GRADES_NOTE.format(line=line)
        for label, least in (("合格", line), (VETO_GRADE, 0)):
            grade = CommentedMap([("label", label), ("min", least), ("assumed", True), ("assumed_note", note)])
            grade.fa.set_flow_style()
            grades.append(grade)
        doc["grades"] = grades
        doc["vetoes"] = [CommentedMap([("id", v["id"]), ("name", v["name"]), ("when", v["when"]),
                                       ("grade", v["grade"]), ("assumed", True), ("assumed_note", v["note"])])
                         for v in vetoes]

    yaml = YAML()
    yaml.allow_unicode = True
    yaml.width = 100_000
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    # in `gapctl fmt`'s layout (key order, quotes), so that formatting the new file changes nothing
    return format_text(f"{SCHEMA_LINE}\n{buffer.getvalue()}", "scheme")


def write_scheme(text: str, target: Path, force: bool = False) -> None:
    """Write an imported scheme to `target` atomically (gapctl.data.writes); an existing file is replaced
    only with `force` (a replacement, not an edit: its content is not kept). Raises WriteError."""
    from gapctl.data.writes import write_atomically
    from gapctl.io.fmt import data_root

    target = Path(target)
    write_atomically(target, text.encode("utf-8"), new=not force, root=data_root(target) or target.parent)
