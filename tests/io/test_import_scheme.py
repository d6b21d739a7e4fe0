"""gapctl.io.import_scheme: a published indicator table (.xlsx) becomes a scheme file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from gapctl.api import read_one
from gapctl.io.import_scheme import PLACEHOLDER_NOTE, import_scheme, parse_points, split_methods
from gapctl.io.import_standard import STANDARD_NOTE, chinese_number, read_standard, split_standard

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "import_scheme"
KEYS = ("l1", "l2", "l3", "methods", "checkpoints", "basis", "scope", "points")
HEADER = {"l1": "一级指标", "l2": "二级\n指标", "l3": "三级\n指标", "methods": "测评方式", "checkpoints": "测评要点",
          "basis": "指标依据", "scope": "评估数据\n采集范围", "points": "分值", "standard": "评分\n标准"}


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


def test_problems_in_chinese_by_default_positions_unchanged(tmp_path, monkeypatch):
    """`gapctl import-scheme` speaks Chinese unless told otherwise; the cell each problem names is the same."""
    from typer.testing import CliRunner

    from gapctl import i18n
    from gapctl.cli import app

    rows = [*(dict(r) for r in REDUCED), row("能力保障（5分）", "信息公开工作年报（5分）", "年报质量", "3")]
    rows[1]["points"] = "见细则"
    build_workbook(tmp_path / "t.xlsx", rows)
    monkeypatch.chdir(tmp_path)
    for name in ("GAPCTL_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    i18n.use(None)
    try:
        chinese = CliRunner().invoke(app, ["import-scheme", "t.xlsx", "--id", "demo"])
        english = CliRunner().invoke(app, ["--lang", "en", "import-scheme", "t.xlsx", "--id", "demo"])
    finally:
        i18n.use(None)
    assert chinese.exit_code == english.exit_code == 1
    assert "指标!H4: 无法把分值 '见细则' 读作分数" in chinese.output
    assert "指标!C9: 年报质量 已是" in chinese.output and "第 8 行的末级指标；该行已跳过" in chinese.output
    assert "未写入任何内容：2 个问题。" in chinese.output or "2 个问题" in chinese.output
    assert "指标!H4: cannot read 分值 '见细则' as points" in english.output
    places = [[line.split(": ", 1)[0] for line in out.output.splitlines() if line.startswith("指标!")]
              for out in (chinese, english)]
    assert places[0] == places[1] and len(places[0]) == 2


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


# --------------------------------------------------------------------------- 评分标准 → clauses and vetoes

def drafted(standard) -> list[tuple]:
    """Clauses as (id, deduct, per, max) for comparing."""
    return [(c["id"], c["deduct"], c.get("per"), c.get("max")) for c in standard.clauses]


@pytest.mark.parametrize(("text", "value"), [
    ("3", 3), ("３", 3), ("0.5", Decimal("0.5")), ("０．５", Decimal("0.5")), ("一", 1), ("三", 3), ("两", 2),
    ("十", 10), ("十二", 12), ("二十", 20), ("二十五", 25), ("半", Decimal("0.5")), ("零点五", Decimal("0.5")),
    ("一二", None), ("百", None), ("", None),
])
def test_chinese_number(text, value):
    assert chinese_number(text) == value


@pytest.mark.parametrize(("text", "pieces"), [
    ("未设置扣3分；每缺一项扣1分;每条扣0.5分。本项扣完为止",
     ["未设置扣3分", "每缺一项扣1分", "每条扣0.5分", "本项扣完为止"]),
    ("未设置扣3分\n每缺一项扣1分", ["未设置扣3分", "每缺一项扣1分"]),
    ("1.未设置扣3分 2.每缺一项扣0.5分", ["未设置扣3分", "每缺一项扣0.5分"]),
    ("1、未设置扣3分2、每缺一项扣1分", ["未设置扣3分", "每缺一项扣1分"]),
    ("１．未设置扣３分。２．每缺一项扣１分", ["未设置扣３分", "每缺一项扣１分"]),
    ("(1)未设置扣3分(2)每缺一项扣1分", ["未设置扣3分", "每缺一项扣1分"]),
    ("（一）未设置扣3分；（二）每缺一项扣1分", ["未设置扣3分", "每缺一项扣1分"]),
    ("①未设置扣3分②每缺一项扣1分", ["未设置扣3分", "每缺一项扣1分"]),
    ("每缺一项扣0.5分，最多扣1.5分", ["每缺一项扣0.5分，最多扣1.5分"]),
])
def test_split_standard(text, pieces):
    assert split_standard(text) == pieces


D = Decimal


@pytest.mark.parametrize(("text", "points", "clauses"), [
    # the brief's example row: one-off, per occurrence, per occurrence with a cap, 再扣, 扣完为止
    ("未设置专栏扣3分；每缺少一项扣1分；每发现一条错误信息扣0.5分，最多扣2分；"
     "存在泄露个人隐私的，再扣4分；本项扣完为止", 10,
     [("c1", 3, None, None), ("c2", 1, "each", None), ("c3", D("0.5"), "each", 2), ("c4", 4, None, None)]),
    # 每处/每条/每次/每个, and 扣N分/处
    ("每发现一处扣1分；每条扣0.5分；每次扣2分；每个扣1分；更新不及时扣1分/次", 10,
     [("c1", 1, "each", None), ("c2", D("0.5"), "each", None), ("c3", 2, "each", None), ("c4", 1, "each", None),
      ("c5", 1, "each", None)]),
    # 未…/没有…/…的，: one-off; Chinese numerals and full-width digits
    ("未公开年度报告的，扣三分；没有设置解读栏目扣２分；链接失效的，扣半分；内容不全扣一分", 10,
     [("c1", 3, None, None), ("c2", 2, None, None), ("c3", D("0.5"), None, None), ("c4", 1, None, None)]),
    # two clauses in one sentence, split at the amount
    ("未设置专栏扣3分，每缺少一项扣1分", 6, [("c1", 3, None, None), ("c2", 1, "each", None)]),
    # 扣完N分为止 on its clause; a cap goes with the clause before it
    ("未同步发布的，每次扣0.5分，扣完2分为止", 3, [("c1", D("0.5"), "each", 2)]),
    ("每处扣1分，最多扣2分，未设置扣3分", 6, [("c1", 1, "each", 2), ("c2", 3, None, None)]),
    # a cap alone on the row: on the only clause
    ("信息更新不及时，每次扣2分；最多扣3分", 6, [("c1", 2, "each", 3)]),
    # 不得分 / 得0分: the whole points, once
    ("①未建立制度不得分②制度不健全扣一分", 3, [("c1", 3, None, None), ("c2", 1, None, None)]),
    ("未按要求报送的，该项得0分", 4, [("c1", 4, None, None)]),
])
def test_read_standard_clauses(text, points, clauses):
    standard = read_standard(text, D(points))
    assert drafted(standard) == clauses
    assert standard.vetoes == [] and standard.floor is None
    note = standard.note()
    assert note.startswith(STANDARD_NOTE)
    for clause in standard.clauses:  # the note quotes each text and names the clause drafted from it
        assert f"“{clause['name']}”→{clause['id']}：" in note
    assert read_standard(text, D(points)) == standard  # deterministic


def test_read_standard_names_keep_the_published_text():
    standard = read_standard("1.未按时公开年度报告的，扣三分。2.每缺少一项内容扣１分。", D(4))
    assert [c["name"] for c in standard.clauses] == ["未按时公开年度报告的，扣三分", "每缺少一项内容扣１分"]


def test_read_standard_floor_and_caps_on_the_row():
    # 扣完为止, and a cap as large as the points: the default floor, noted, no key
    for text in ("每缺少一项扣1分；本项扣完为止", "每缺少一项扣1分，扣完为止", "每缺少一项扣1分；本项最多扣5分"):
        standard = read_standard(text, D(5))
        assert drafted(standard) == [("c1", 1, "each", None)] and standard.floor is None, text
        assert "默认下限" in standard.note(), text
    # a cap on several clauses together: the indicator's floor
    standard = read_standard("每发现一处错误扣1分；每缺少一项扣2分；累计扣分不超过3分", D(4))
    assert drafted(standard) == [("c1", 1, "each", None), ("c2", 2, "each", None)]
    assert standard.floor == 1 and "最低记1分（floor）" in standard.note()
    # one-offs that cannot reach the cap: nothing to set
    standard = read_standard("未设置扣1分；未更新扣1分；最多扣3分", D(5))
    assert drafted(standard) == [("c1", 1, None, None), ("c2", 1, None, None)] and standard.floor is None


def test_read_standard_vetoes():
    standard = read_standard("发生失泄密事件的，实行一票否决", D(5), first_veto=3)
    assert standard.vetoes == [{"id": "veto-3", "name": "发生失泄密事件的，实行一票否决"}]
    # a row that only vetoes: its points go when the veto's fact is recorded
    assert standard.clauses == [{"id": "c1", "name": "发生失泄密事件的，实行一票否决", "deduct": 5,
                                 "when": "fact(veto-3)"}]
    assert "facts: {veto-3: true}" in standard.note()

    standard = read_standard("每发现一处错误扣1分；出现泄露国家秘密的，该项不得分，并实行单项否决", D(4))
    assert [v["id"] for v in standard.vetoes] == ["veto-1"]
    assert drafted(standard) == [("c1", 1, "each", None), ("c2", 4, None, None)]
    assert "一票否决 veto-1" in standard.note()


def test_read_standard_leaves_alone_what_it_cannot_read():
    # tiers of a count are not clauses that add up
    standard = read_standard("通报1次扣1分，通报2次扣2分，通报3次扣5分", D(5))
    assert standard.clauses == [] and "deduction-tiers" in standard.note()
    standard = read_standard("以网站检索结果为准；每缺一项扣除相应分值；扣2分", D(5))
    assert standard.clauses == []
    assert standard.notes == ["未能识别“以网站检索结果为准”", "未能识别“每缺一项扣除相应分值”", "未能识别“扣2分”"]
    # what it reads is drafted; the rest is quoted
    standard = read_standard("按要求公开得满分；每缺一项扣1分", D(5))
    assert drafted(standard) == [("c1", 1, "each", None)] and "未能识别“按要求公开得满分”" in standard.note()


# the fixture table's leaves: id -> (rule kind, [(clause id, deduct, per, max)])
FIXTURE_RULES = {
    "1.1.1": ("clauses", [("c1", 3, None, None), ("c2", 1, "each", None), ("c3", D("0.5"), "each", 2),
                          ("c4", 4, None, None)]),
    "1.1.2": ("clauses", [("c1", 3, None, None), ("c2", 1, "each", None), ("c3", D("0.5"), "each", None)]),
    "1.2.1": ("clauses", [("c1", 2, None, None), ("c2", D("0.5"), "each", 2)]),
    "1.2.2": ("clauses", [("c1", 3, None, None), ("c2", 1, None, None)]),
    "2.1.1": ("clauses", [("c1", 5, None, None)]),
    "2.2.1": ("all-or-nothing", []),
    "2.2.2": ("clauses", [("c1", 1, "each", None), ("c2", 2, "each", None)]),
    "3.1": ("all-or-nothing", []),
}


def check_fixture_scheme(tmp_path: Path, text: str) -> None:
    scheme = load_scheme(tmp_path, "demo-2022", text)
    assert scheme.title == "2022年度政务公开考核评分细则" and scheme.total_points == 32
    leaf = leaves(scheme.indicators)
    assert list(leaf) == list(FIXTURE_RULES)  # the veto-only row is a veto, not an indicator
    for ident, (kind, clauses) in FIXTURE_RULES.items():
        (rule,) = leaf[ident].rules
        assert rule.kind == kind and rule.assumed, ident
        got = [(c["id"], c["deduct"], c.get("per"), c.get("max")) for c in rule.params.get("clauses") or []]
        assert got == clauses, ident
        prefix = STANDARD_NOTE if kind == "clauses" else PLACEHOLDER_NOTE
        assert rule.assumed_note.startswith(prefix), ident
    assert "扣完为止" in leaf["1.1.1"].rules[0].assumed_note
    assert "deduction-tiers" in leaf["2.2.1"].rules[0].assumed_note
    assert "以报送材料为准" in leaf["3.1"].rules[0].assumed_note
    assert leaf["2.2.2"].floor == 1 and leaf["1.1.1"].floor is None
    (veto_clause,) = leaf["2.1.1"].rules[0].params["clauses"]
    assert veto_clause["when"].text == "fact(veto-1)"
    assert [(v.id, v.when.text, v.grade, v.assumed) for v in scheme.vetoes] == [
        ("veto-1", "fact(veto-1)", "不合格", True), ("veto-2", "fact(veto-2)", "不合格", True)]
    assert scheme.vetoes[1].name == "出现重大舆情或泄露国家秘密的，单项否决"
    assert "standards!F11" in scheme.vetoes[1].assumed_note
    assert [(g.label, g.min, g.assumed) for g in scheme.grades] == [("合格", D("19.2"), True), ("不合格", 0, True)]


OBSERVATIONS = {
    # veto-1 holds: 保密审查 loses its 5 points and the unit is 不合格 whatever its points
    "a": """\
        unit: a
        facts: {veto-1: true}
        results:
          - {indicator: "1.1.1", findings: {c1: false, c2: 1, c3: 5, c4: false}, reason: 缺一项，错误信息5条}
          - {indicator: "1.1.2", result: done}
          - {indicator: "1.2.1", result: done}
          - {indicator: "1.2.2", result: done}
          - {indicator: "2.1.1", findings: {}, reason: 发生失泄密事件}
          - {indicator: "2.2.1", result: done}
          - {indicator: "2.2.2", findings: {c1: 3, c2: 2}, reason: 错误3处，缺2项}
          - {indicator: "3.1", result: done}
        """,
    "b": """\
        unit: b
        results:
          - {indicator: "1.1.1", findings: {c1: false, c2: 1, c3: 5, c4: false}, reason: 缺一项，错误信息5条}
          - {indicator: "1.1.2", result: done}
          - {indicator: "1.2.1", result: done}
          - {indicator: "1.2.2", result: done}
          - {indicator: "2.1.1", findings: {}}
          - {indicator: "2.2.1", result: done}
          - {indicator: "2.2.2", findings: {c1: 3, c2: 2}, reason: 错误3处，缺2项}
          - {indicator: "3.1", result: done}
        """,
}


def test_fixture_table_drafts_clauses_and_vetoes_that_validate(tmp_path, monkeypatch):
    """import-scheme on the CSV fixture, then validate and score a tiny round with the written scheme."""
    import json

    from typer.testing import CliRunner

    from gapctl.cli import app
    from tests.conftest import write_repo

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(app, ["import-scheme", str(FIXTURES / "standards.csv"), "--id", "demo-2022"])
    assert made.exit_code == 0, made.output
    text = (tmp_path / "schemes" / "demo-2022.yaml").read_text(encoding="utf-8")
    check_fixture_scheme(tmp_path / "check", text)

    write_repo(tmp_path, {
        "units/u.yaml": """\
            id: u
            name: 测试单位
            units:
              - {id: a, name: 区财政局, type: 区属部门}
              - {id: b, name: 区档案馆, type: 区属部门}
            """,
        "rounds/r1/round.toml": 'id = "r1"\ntitle = "测试轮次"\nunits = "u"\n[[schemes]]\nscheme = "demo-2022"\n',
        **{f"rounds/r1/observations/{unit}.yaml": obs for unit, obs in OBSERVATIONS.items()},
    })
    checked = runner.invoke(app, ["validate"])
    assert checked.exit_code == 0, checked.output
    assert "0 error(s), 0 warning(s)" in checked.output
    assert runner.invoke(app, ["fmt", "--check", "schemes"]).exit_code == 0  # written in fmt's layout

    scored = runner.invoke(app, ["score", "rounds/r1", "--format", "json"])
    assert scored.exit_code == 0, scored.output
    units = {u["unit"]: u for u in json.loads(scored.output)["units"]}
    # 1.1.1: 6 − 1 − min(5 × 0.5, 2) = 3; 2.2.2: 4 − 3 − 4 floored at 1; 2.1.1: 5 − 5 when veto-1 holds
    assert (units["a"]["earned"], units["a"]["grade"]) == ("21", "不合格")
    assert (units["b"]["earned"], units["b"]["grade"]) == ("26", "合格")


def _fixture_rows() -> list[dict]:
    """The CSV fixture's data rows as build_workbook rows, 一级/二级 repeated so that they are merged."""
    import csv

    with open(FIXTURES / "standards.csv", encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    keys = ("l1", "l2", "l3", "methods", "checkpoints", "standard", "points")
    rows: list[dict] = []
    for values in table[2:]:
        r = dict(zip(keys, values, strict=True))
        if rows and not r["l1"]:
            r["l1"] = rows[-1]["l1"]
            r["l2"] = r["l2"] or rows[-1]["l2"]
        rows.append(r)
    return rows


def test_xlsx_with_merged_cells_reads_like_the_csv(tmp_path):
    order = ("l1", "l2", "l3", "methods", "checkpoints", "standard", "points")
    book = build_workbook(tmp_path / "t.xlsx", _fixture_rows(), order=order, title="2022年度政务公开考核评分细则",
                          sheet="standards")
    text, problems = import_scheme(book, "demo-2022")
    assert problems == []
    check_fixture_scheme(tmp_path, text)
    csv_text, csv_problems = import_scheme(FIXTURES / "standards.csv", "demo-2022")
    assert csv_problems == [] and text == csv_text


def test_csv_in_gbk(tmp_path):
    """Excel in China saves CSV as GBK; the same table reads the same."""
    path = tmp_path / "standards.csv"
    path.write_bytes((FIXTURES / "standards.csv").read_text(encoding="utf-8").encode("gb18030"))
    assert import_scheme(path, "demo-2022") == import_scheme(FIXTURES / "standards.csv", "demo-2022")
    _, problems = import_scheme(path, "demo-2022", sheet="指标")
    assert problems == [f"{path}: a CSV file has no sheets; leave out --sheet"]


def test_no_standard_column_keeps_the_placeholder(tmp_path):
    """Without a 评分标准 column (or with nothing readable in it) every leaf keeps the placeholder rule."""
    rows = [dict(r, standard="以检查结果为准") for r in REDUCED]
    book = build_workbook(tmp_path / "t.xlsx", rows, order=(*KEYS, "standard"))
    text, problems = import_scheme(book, "demo")
    assert problems == []
    scheme = load_scheme(tmp_path, "demo", text)
    for ind in leaves(scheme.indicators).values():
        (rule,) = ind.rules
        assert rule.kind == "all-or-nothing" and rule.assumed
        assert rule.assumed_note == f"{PLACEHOLDER_NOTE}；评分标准：未能识别“以检查结果为准”"
    assert "vetoes" not in text and "grades" not in text
