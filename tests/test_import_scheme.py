"""gapctl.import_scheme: a published indicator table (.xlsx) becomes a scheme file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from gapctl.api import read_one
from gapctl.import_scheme import PLACEHOLDER_NOTE, import_scheme, parse_points, split_methods

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("l1", "l2", "l3", "methods", "checkpoints", "basis", "scope", "points")
HEADER = {"l1": "一级指标", "l2": "二级\n指标", "l3": "三级\n指标", "methods": "测评方式", "checkpoints": "测评要点",
          "basis": "指标依据", "scope": "评估数据\n采集范围", "points": "分值"}


def build_workbook(path: Path, rows: list[dict], *, order: tuple[str, ...] = KEYS, title: str | None = "测试指标",
                   merge: bool = True, blank_groups: tuple[str, ...] = (), header: bool = True,
                   repeat_header_before: int | None = None, sheet: str = "指标") -> Path:
    """Lay `rows` out like the published Suizhou table.

    Each row is a dict with KEYS; 一级/二级 names are written once per run of equal names and the run is merged
    (or left blank below its first row when the group's 一级 name is in `blank_groups`, or when merge is False).
    `repeat_header_before` repeats the header row before that data row (a page break in the published table).
    """
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    width = len(order)
    col = {k: order.index(k) + 1 for k in order}
    r = 1
    if title:
        ws.cell(r, 1, title)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
    if header:
        for k in order:
            ws.cell(r, col[k], HEADER[k])
        r += 1
    placed: list[int] = []
    for i, row in enumerate(rows):
        if repeat_header_before == i:
            for k in order:
                ws.cell(r, col[k], HEADER[k].replace("\n", ""))
            r += 1
        placed.append(r)
        for k in order:
            value = row.get(k)
            if value is not None and value != "" and k not in ("l1", "l2"):
                ws.cell(r, col[k], value)
        r += 1

    def runs(level: str):
        start = 0
        for i in range(1, len(rows) + 1):
            same = i < len(rows) and rows[i][level] == rows[start][level] and (
                level == "l1" or rows[i]["l1"] == rows[start]["l1"]) and placed[i] == placed[i - 1] + 1
            if not same:
                yield start, i - 1
                start = i

    for level in ("l1", "l2"):
        for first, last in runs(level):
            if not rows[first][level]:
                continue
            ws.cell(placed[first], col[level], rows[first][level])
            if last > first and merge and rows[first]["l1"] not in blank_groups:
                ws.merge_cells(start_row=placed[first], start_column=col[level],
                               end_row=placed[last], end_column=col[level])
    wb.save(path)
    return path


def row(l1, l2, l3, points, methods="网络测评", checkpoints="评估情况", basis="《条例》", scope="区属各部门"):
    return dict(l1=l1, l2=l2, l3=l3, points=points, methods=methods, checkpoints=checkpoints, basis=basis,
                scope=scope)


REDUCED = [
    row("公开渠道\n（4分）", "渠道覆盖(2分)", "", "2分", methods="网络测评电话测评",
        basis="《条例》第二十四条\n第二十五条，“设置政府信息查阅场所”"),
    row("公开渠道\n（4分）", "渠道功能\n（2分）", "", 2, basis=""),
    row("主动公开(6分)", "基础信息\n公开\n（6分)", "政策文件\n（4分)", "４分", methods="网络测评、线下测评"),
    row("主动公开(6分)", "基础信息\n公开\n（6分)", "权责清单 (2分）", 2.0, methods="网络测评、问卷调查",
        scope="具有行政处罚等职权的部门"),
    row("能力保障（5分）", "信息公开工作年报（5分）", "年报格式（2分）", "（2分）"),
    row("能力保障（5分）", "信息公开工作年报（5分）", "年报质量（3分）", "3", methods="专家测评"),
]


def write_scheme(tmp_path: Path, scheme_id: str, text: str) -> Path:
    path = tmp_path / "repo" / "schemes" / f"{scheme_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_scheme(tmp_path: Path, scheme_id: str, text: str):
    kind, scheme, problems = read_one(write_scheme(tmp_path, scheme_id, text))
    errors = [f"{p.code} {p.message}" for p in problems if p.severity == "error"]
    assert kind == "scheme" and scheme is not None and errors == []
    return scheme


def flat(indicators) -> list[tuple[str, str, Decimal]]:
    out = []
    for ind in indicators:
        out.append((ind.id, ind.name, Decimal(ind.points)))
        out.extend(flat(ind.children))
    return out


def leaves(indicators) -> dict:
    out = {}
    for ind in indicators:
        if ind.children:
            out.update(leaves(ind.children))
        else:
            out[ind.id] = ind
    return out


def test_parse_points_and_methods():
    assert parse_points("10分") == 10
    assert parse_points("（4分）") == 4
    assert parse_points("１０分") == 10
    assert parse_points(2.0) == 2 and str(parse_points(2.0)) == "2"
    assert parse_points(0.5) == Decimal("0.5")
    assert parse_points(" 8 ") == 8
    assert parse_points("") is None and parse_points(None) is None and parse_points("见细则") is None
    assert split_methods("网络测评电话测评") == ["网络测评", "电话测评"]
    assert split_methods("网络测评、电话测评\n信函测评") == ["网络测评", "电话测评", "信函测评"]
    assert split_methods("模拟办事群众查阅资料") == ["模拟办事群众", "查阅资料"]
    assert split_methods("问卷调查") == ["问卷调查"]
    assert split_methods("网络测评问卷调查") == ["网络测评", "问卷调查"]
    assert split_methods(None) == []


@pytest.mark.parametrize("order", [KEYS, ("points", "l3", "scope", "l1", "methods", "l2", "basis", "checkpoints")])
def test_reduced_table(tmp_path, order):
    book = build_workbook(tmp_path / "t.xlsx", REDUCED, order=order, blank_groups=("能力保障（5分）",))
    text, problems = import_scheme(book, "demo-2021")
    assert problems == []
    lines = text.splitlines()
    assert lines[0] == "# yaml-language-server: $schema=../schema/scheme.schema.json"
    assert lines[1:4] == ["id: demo-2021", "title: 测试指标", "total_points: 15"]
    assert '  - id: "1"' in lines and '          - id: "2.1.2"' in lines
    assert "        basis: |-" in lines and "公开渠道" in text and "\\u" not in text
    assert "        methods: [网络测评, 电话测评]" in lines

    scheme = load_scheme(tmp_path, "demo-2021", text)
    assert scheme.title == "测试指标" and scheme.total_points == 15
    assert flat(scheme.indicators) == [
        ("1", "公开渠道", 4), ("1.1", "渠道覆盖", 2), ("1.2", "渠道功能", 2),
        ("2", "主动公开", 6), ("2.1", "基础信息公开", 6), ("2.1.1", "政策文件", 4), ("2.1.2", "权责清单", 2),
        ("3", "能力保障", 5), ("3.1", "信息公开工作年报", 5), ("3.1.1", "年报格式", 2), ("3.1.2", "年报质量", 3),
    ]
    leaf = leaves(scheme.indicators)
    assert set(leaf) == {"1.1", "1.2", "2.1.1", "2.1.2", "3.1.1", "3.1.2"}
    assert leaf["1.1"].methods == ("网络测评", "电话测评")
    assert leaf["2.1.1"].methods == ("网络测评", "线下测评")
    assert leaf["2.1.2"].methods == ("网络测评", "问卷调查")
    assert leaf["3.1.2"].methods == ("专家测评",)
    assert leaf["1.1"].basis == "《条例》第二十四条\n第二十五条，“设置政府信息查阅场所”"
    assert leaf["1.2"].basis is None
    assert leaf["2.1.2"].scope == "具有行政处罚等职权的部门"
    assert leaf["1.1"].scope == "区属各部门" and leaf["1.1"].checkpoints == "评估情况"
    for ind in leaf.values():
        (rule,) = ind.rules
        assert rule.kind == "all-or-nothing"
    assert text.count(f"assumed_note: {PLACEHOLDER_NOTE}") == 6


def test_title_option_and_sheet_choice(tmp_path):
    book = build_workbook(tmp_path / "t.xlsx", REDUCED, title=None, merge=False, sheet="附件")
    text, problems = import_scheme(book, "demo", title="随州测试", sheet="附件")
    assert problems == []
    scheme = load_scheme(tmp_path, "demo", text)
    assert scheme.title == "随州测试" and len(flat(scheme.indicators)) == 11

    text, problems = import_scheme(book, "demo", sheet="Sheet9")
    assert text == "" and "no sheet named 'Sheet9'" in problems[0]


def test_group_points_disagree_with_children(tmp_path):
    rows = [dict(r) for r in REDUCED]
    rows[2]["l1"] = rows[3]["l1"] = "主动公开(60分)"
    rows[4]["l3"] = "年报格式（3分）"  # the leaf's name says 3, its 分值 says 2
    book = build_workbook(tmp_path / "t.xlsx", rows)
    text, problems = import_scheme(book, "demo")
    # title row 1, header row 2, data from row 3: 主动公开 starts at row 5 in column A
    assert any(p.startswith("指标!A5: 主动公开 is given 60 points") and "add up to 6" in p for p in problems)
    assert any(p.startswith("指标!C7: 年报格式 says 3分 but 分值 is 2") for p in problems)
    assert len(problems) == 2
    assert text  # the scheme is still written, with the children's sum
    scheme = load_scheme(tmp_path, "demo", text)
    assert [i.points for i in scheme.indicators] == [4, 6, 5]


def test_unreadable_points_and_duplicates(tmp_path):
    rows = [*(dict(r) for r in REDUCED), row("能力保障（5分）", "信息公开工作年报（5分）", "年报质量", "3")]
    rows[1]["points"] = "见细则"
    book = build_workbook(tmp_path / "t.xlsx", rows)
    _, problems = import_scheme(book, "demo")
    assert any(p.startswith("指标!H4: cannot read 分值 '见细则'") for p in problems)
    assert any(p.startswith("指标!C9: 年报质量 is already a leaf of row 8") for p in problems)


def test_no_header_row(tmp_path):
    book = build_workbook(tmp_path / "t.xlsx", REDUCED, header=False)
    text, problems = import_scheme(book, "demo")
    assert text == ""
    assert len(problems) == 1 and problems[0].startswith("指标: no header row found")
    assert "一级指标" in problems[0] and "分值" in problems[0]


def test_not_a_workbook(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_text("not a workbook", encoding="utf-8")
    text, problems = import_scheme(path, "demo")
    assert text == "" and "cannot read the workbook" in problems[0]


def _suizhou_rows(scheme) -> list[dict]:
    rows: list[dict] = []

    def label(ind, i):
        if ind.children:
            return f"{ind.name}\n（{ind.points}分）" if i % 2 else f"{ind.name}({ind.points}分)"
        return ind.name

    def walk(ind, names, i):
        names = [*names, label(ind, i)]
        if ind.children:
            for j, child in enumerate(ind.children):
                walk(child, names, i + j)
            return
        n = len(rows)
        points = (f"{ind.points}分", int(ind.points), str(int(ind.points)).translate(
            str.maketrans("0123456789", "０１２３４５６７８９")))[n % 3]
        methods = ("".join, "、".join)[n % 2](ind.methods)
        rows.append(dict(l1=names[0], l2=names[1], l3=names[2] if len(names) > 2 else "", points=points,
                         methods=methods, checkpoints=ind.checkpoints or "", basis=ind.basis or "",
                         scope=ind.scope or ""))

    for i, top in enumerate(scheme.indicators):
        walk(top, [], i)
    return rows


def test_full_suizhou_table(tmp_path):
    _, shipped, shipped_problems = read_one(ROOT / "schemes" / "suizhou-2021.yaml")
    assert not [p for p in shipped_problems if p.severity == "error"]
    rows = _suizhou_rows(shipped)
    book = build_workbook(tmp_path / "suizhou.xlsx", rows, title=shipped.title, repeat_header_before=4)
    text, problems = import_scheme(book, "suizhou-2021")
    assert problems == []
    scheme = load_scheme(tmp_path, "suizhou-2021", text)
    assert scheme.title == shipped.title
    assert scheme.total_points == shipped.total_points == 100
    assert flat(scheme.indicators) == flat(shipped.indicators)
    got, want = leaves(scheme.indicators), leaves(shipped.indicators)
    assert list(got) == list(want)
    for ident, ind in want.items():
        assert got[ident].methods == ind.methods, ident
        assert got[ident].scope == ind.scope, ident
        assert got[ident].checkpoints == ind.checkpoints, ident
        assert got[ident].basis == ind.basis, ident


def test_row_split_over_a_page(tmp_path):
    """A leaf's text continued below a repeated header, with no name or 分值 of its own, joins that leaf."""
    rest = dict(l1="", l2="", l3="", points=None, methods="", checkpoints="续：其他文件主动公开情况", basis="",
                scope="")
    rows = [*REDUCED[:3], rest, *REDUCED[3:]]
    book = build_workbook(tmp_path / "t.xlsx", rows, repeat_header_before=3)
    text, problems = import_scheme(book, "demo")
    assert problems == []
    scheme = load_scheme(tmp_path, "demo", text)
    assert leaves(scheme.indicators)["2.1.1"].checkpoints == "评估情况\n续：其他文件主动公开情况"
    assert [i.id for i in leaves(scheme.indicators).values()] == ["1.1", "1.2", "2.1.1", "2.1.2", "3.1.1", "3.1.2"]


def test_total_row_checked(tmp_path):
    rows = [*REDUCED, row("合计", "", "", "16分", methods="", checkpoints="", basis="", scope="")]
    book = build_workbook(tmp_path / "t.xlsx", rows)
    text, problems = import_scheme(book, "demo")
    assert problems == ["指标!H9: 合计 is 16 but the indicators add up to 15"]
    assert "total_points: 15" in text


def test_cli_import_scheme_writes_once(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from gapctl.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    workbook = tmp_path / "table.xlsx"
    build_workbook(workbook, REDUCED)
    made = runner.invoke(app, ["import-scheme", str(workbook), "--id", "demo-2021"])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "schemes/demo-2021.yaml").is_file()
    again = runner.invoke(app, ["import-scheme", str(workbook), "--id", "demo-2021"])
    assert again.exit_code == 1 and "use --force" in again.output
