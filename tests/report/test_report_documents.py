"""Documents an office issues: the Word document (golden document.xml, same bytes twice, Chinese
fonts, header and footer), the PDF printed by Chromium (pages, text), the HTML masthead and print
layout, and the provisional mark while warnings, pending indicators or undecided appeals remain."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.report.build import document, render
from gapctl.report.document import Issue, Standing, standing
from gapctl.report.html import css_string
from gapctl.report.markdown import ranking_groups
from gapctl.report.pdf import find_chromium
from gapctl.report.word import docx_bytes
from tests.conftest import MINI_OBS_A, MINI_ROUND, MINI_SCHEME, MINI_UNITS, ROOT, write_repo

GOLDEN = ROOT / "tests" / "golden" / "report" / "zh" / "document.xml"
OFFICE, NUMBER = "某某区政务公开办公室", "某政公〔2025〕3号"
ISSUE = Issue(OFFICE, dt.date(2025, 1, 20), NUMBER)
YANJIANG = ROOT / "rounds" / "yanjiang-2021"
runner = CliRunner()


def scored(path: Path):
    return score(check(path).loaded.round)


@pytest.fixture(scope="module")
def yanjiang():
    return scored(YANJIANG)


def part(docx: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return archive.read(name).decode("utf-8")


def normalised(xml: str) -> str:
    """The XML indented, one element a line, so that a golden diff reads like a diff of the document."""
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode") + "\n"


def provisional_repo(root: Path) -> Path:
    """Unit b lacks an observation of indicator 2 (pending, and validate warns) and unit a's appeal is undecided."""
    obs_b = "unit: b\nresults:\n  - indicator: \"1.1\"\n    result: done\n"
    appeal = ("unit: a\nappeals:\n  - indicator: \"1.2\"\n    filed: 2024-03-01\n"
              "    argument: 已补充公开行政许可结果\n")
    return write_repo(root, {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS,
                             "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": MINI_OBS_A,
                             "rounds/r1/observations/b.yaml": obs_b, "rounds/r1/appeals/a.yaml": appeal})


# --- Word ----------------------------------------------------------------------------------

def test_docx_document_xml_is_golden(yanjiang, request):
    text = normalised(part(docx_bytes(yanjiang, "zh", ISSUE), "word/document.xml"))
    if request.config.getoption("--update-golden"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), f"run pytest --update-golden and review {GOLDEN}"


def test_docx_same_input_same_bytes(yanjiang):
    one, two = docx_bytes(yanjiang, "zh", ISSUE), docx_bytes(yanjiang, "zh", ISSUE)
    assert one == two
    with zipfile.ZipFile(io.BytesIO(one)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.namelist()[0] == "[Content_Types].xml"
        assert not [n for n in archive.namelist() if "thumbnail" in n]  # not the template's empty page
    core = part(one, "docProps/core.xml")
    assert "2025-01-20T00:00:00Z" in core and OFFICE in core and NUMBER in core
    assert "2000-01-01T00:00:00Z" in part(docx_bytes(yanjiang, "zh"), "docProps/core.xml")  # no --date: fixed


def test_docx_names_chinese_fonts_in_their_east_asian_slot(yanjiang):
    data = docx_bytes(yanjiang, "zh", ISSUE)
    styles = part(data, "word/styles.xml")
    defaults = styles[styles.index("<w:docDefaults>"):styles.index("</w:docDefaults>")]
    assert 'w:eastAsia="宋体"' in defaults and 'w:eastAsia="zh-CN"' in defaults
    assert 'w:eastAsia="黑体"' in styles  # headings
    fonts = part(data, "word/fontTable.xml")
    assert 'w:name="宋体"' in fonts and 'w:val="SimSun"' in fonts and 'w:charset w:val="86"' in fonts
    assert 'w:eastAsia="zh-CN"' in part(data, "word/settings.xml")  # the theme's East-Asian language


def test_docx_has_masthead_ranking_problems_header_and_page_numbers(yanjiang):
    data = docx_bytes(yanjiang, "zh", ISSUE)
    body = part(data, "word/document.xml")
    first = ranking_groups(yanjiang, "zh")[0][1][0]
    # 雁江 publishes no ranking: 得分情况, without ranks; the method section lists every assumption
    for text in (OFFICE, NUMBER, "一、得分情况", "二、问题清单及整改要求", "整改要求", first.unit.name,
                 "2025年1月20日", "示例数据，非真实评估结果", "三、计分方法和假定", "假定（非公布内容）",
                 "不公布（不列名次，除非要求：score --rank）", "指标 6 “政务协商”活动 · applies_to"):
        assert text in body, text
    assert "一、排名情况" not in body and "排名" not in body.split("三、计分方法和假定")[0]
    assert body.index("一、得分情况") < body.index(first.unit.name) < body.index("二、问题清单及整改要求") \
        < body.index("三、计分方法和假定")
    header = part(data, "word/header1.xml")
    assert OFFICE in header and NUMBER in header and "示例数据，非真实评估结果" in header
    assert "初步结果" not in header and "初步结果" not in body  # final results: no mark
    footer = part(data, "word/footer1.xml")
    assert 'w:instr=" PAGE "' in footer and 'w:instr=" NUMPAGES "' in footer and "第 " in footer
    assert '<w:tblHeader/>' in body  # a long table repeats its header row on every page


def test_docx_in_english(yanjiang):
    body = part(docx_bytes(yanjiang, "en", ISSUE), "word/document.xml")
    assert "1. Scores" in body and "2. Problem lists and what to fix" in body and "20 January 2025" in body
    assert "3. Method and assumptions" in body and "indicator 6 “政务协商”活动 · applies_to" in body


def test_docx_ranks_asked_for_are_labelled(yanjiang):
    yanjiang.ranks_asked = True
    try:
        body = part(docx_bytes(yanjiang, "zh", ISSUE), "word/document.xml")
    finally:
        yanjiang.ranks_asked = False
    assert "一、排名情况" in body and "名次系按要求由 gapctl 计算：本指标体系不公布排名。" in body
    assert "（非公布排名）" in body and "本报告中的名次系按要求计算，并非公布排名" in body
    assert "Page " in part(docx_bytes(yanjiang, "en", ISSUE), "word/footer1.xml")


# --- provisional results -------------------------------------------------------------------

def test_standing_counts_pending_indicators_undecided_appeals_and_warnings(tmp_path):
    repo = provisional_repo(tmp_path)
    checked = check(repo / "rounds/r1")
    result = score(checked.loaded.round)
    found = standing(result, len(checked.report.warnings))
    assert (found.pending, found.appeals) == (1, 1) and found.warnings >= 1 and found.provisional
    assert found.banner("zh").startswith("初步结果，尚未最终确定：1项指标未评估、1项复核申请未决定、")
    assert not standing(scored(YANJIANG)).provisional


def test_provisional_documents_say_so_on_every_page(tmp_path):
    repo = provisional_repo(tmp_path)
    checked = check(repo / "rounds/r1")
    result = score(checked.loaded.round)
    status = standing(result, len(checked.report.warnings))
    data = docx_bytes(result, "zh", ISSUE, status)
    header = part(data, "word/header1.xml")
    assert 'string="初步结果"' in header and "初步结果，尚未最终确定" in header  # watermark and banner
    assert "1项指标未评估" in part(data, "word/document.xml")
    files = render(result, "html", "zh", issue=ISSUE, standing=status)
    for name in ("index.html", "units/a.html", "units/b.html", "report.html"):
        assert '<div class="watermark" aria-hidden="true">初步结果</div>' in files[name], name
        assert "1项指标未评估" in files[name], name
    for name, text in render(result, "md", "zh", standing=status).items():
        if name.endswith(".md"):
            assert "> **初步结果，尚未最终确定：1项指标未评估" in text, name


def test_cli_marks_the_report_provisional_when_validate_warns(tmp_path, monkeypatch):
    repo = provisional_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["report", "rounds/r1", "--format", "md", "--out", str(tmp_path / "md")])
    assert result.exit_code == 0, result.output
    assert "校验警告" in (tmp_path / "md" / "index.md").read_text(encoding="utf-8")


# --- HTML and Markdown ---------------------------------------------------------------------

def test_html_masthead_closing_and_print_layout(yanjiang):
    files = render(yanjiang, "html", "zh", issue=ISSUE)
    index, unit, whole = files["index.html"], files["units/baohe.html"], files["report.html"]
    for page in (index, whole):
        assert f'<p class="office">{OFFICE}</p><p class="number">{NUMBER}</p>' in page
        assert f'<div class="closing"><p>{OFFICE}</p><p>2025年1月20日</p></div>' in page
    assert 'class="masthead"' not in unit and whole.count('class="masthead"') == 1
    assert f"@top-right {{ content: {css_string(NUMBER)}" in unit  # the number on every printed page
    assert 'counter(page) " 页\\ff0c 共 " counter(pages)' in unit
    assert "watermark" not in index.split("</style>")[1]  # final results: no watermark


def test_markdown_names_the_office_number_and_date(yanjiang):
    index = render(yanjiang, "md", "zh", issue=ISSUE)["index.md"]
    assert f"- 发文机关：{OFFICE}" in index and f"- 文号：{NUMBER}" in index and "- 成文日期：2025年1月20日" in index
    assert "发文机关" not in render(yanjiang, "md", "zh")["index.md"]


def test_office_text_cannot_leave_the_css_or_the_page(yanjiang):
    evil = 'x"; } </style><script>alert(1)</script> \u202e'
    files = render(yanjiang, "html", "zh", issue=Issue(evil, None, evil))
    for page in files.values():
        assert "<script" not in page and "</style><script" not in page
    inside = css_string(evil)[1:-1]
    assert '"' not in inside and "<" not in inside and "}" not in inside and "\u202e" not in inside


# --- the command --------------------------------------------------------------------------

def test_cli_writes_the_docx_inside_an_out_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "issued"
    out.mkdir()
    result = runner.invoke(app, ["report", "rounds/yanjiang-2021", "--format", "docx", "--out", str(out),
                                 "--office", OFFICE, "--date", "2025-01-20", "--number", NUMBER])
    assert result.exit_code == 0, result.output
    written = out / "yanjiang-2021.docx"
    from gapctl.review.provenance import of_rounds
    yanjiang = scored(YANJIANG)
    assert written.read_bytes() == docx_bytes(yanjiang, "zh", ISSUE, provenance=of_rounds([yanjiang.round]))
    assert result.output.strip() == f"wrote {written}"
    assert sorted(p.name for p in out.iterdir()) == ["yanjiang-2021.docx"]  # nothing left beside it


def test_cli_refuses_a_bad_date(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["report", "rounds/yanjiang-2021", "--format", "docx", "--date", "2025-13-01",
                                 "--out", str(tmp_path / "x.docx")])
    assert result.exit_code == 2 and not (tmp_path / "x.docx").exists()


def test_pdf_without_chromium_says_so_in_one_line_and_exits_3(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_CHROMIUM", str(tmp_path / "no-such-browser"))
    result = runner.invoke(app, ["report", "rounds/yanjiang-2021", "--format", "pdf", "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 3
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Chromium" in lines[0] and "apt-get install chromium" in lines[0]
    assert not (tmp_path / "r.pdf").exists()


def test_pdf_is_the_html_printed_by_chromium(yanjiang):
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing; ./dev test installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(document(yanjiang, "pdf", "zh", issue=ISSUE, standing=Standing(pending=2))))
    count = len(reader.pages)
    assert count >= 1 + len(yanjiang.units)  # the overview, then a page (or more) per unit
    assert [round(float(x)) for x in reader.pages[0].mediabox[2:]] == [595, 842]  # A4
    text = [page.extract_text().replace(" ", "") for page in reader.pages]
    first = ranking_groups(yanjiang, "zh")[0][1][0]
    assert first.unit.name in text[0] and OFFICE in text[0]
    assert "初步结果" in text[0] and "2项指标未评估" in text[0]
    assert all(f"第{n}页，共{count}页" in page for n, page in enumerate(text, start=1))  # every page numbered
    assert all(OFFICE in page and NUMBER.replace(" ", "") in page for page in text)  # and headed


def test_docx_holds_any_text_a_unit_wrote(tmp_path):
    """XML cannot hold control characters, and a bidi override must not reorder a printed name."""
    from tests.report.test_report import injected_repo

    repo = injected_repo(tmp_path)
    units = (repo / "units/mini.yaml").read_text(encoding="utf-8").replace("区财政局", '"区财政局\\u202e\\a"')
    (repo / "units/mini.yaml").write_text(units, encoding="utf-8")
    result = scored(repo / "rounds/r1")
    assert "\u202e" in result.by_unit()["a"].unit.name
    data = docx_bytes(result, "zh", Issue("某办\x07公室", None, None))
    body = part(data, "word/document.xml")
    assert "区财政局\\u202e\\u0007" in body and "\u202e" not in body and "\x07" not in body
    assert "&lt;script&gt;" in body and "<script" not in body  # text, never markup
    assert "某办\\u0007公室" in part(data, "word/header1.xml")
