"""Reports: golden Markdown and HTML (Chinese and English), escaping, determinism, --compare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.report.build import ReportError, render, write
from tests.conftest import ROOT, write_repo

GOLDEN = ROOT / "tests" / "golden" / "report"
PAGES = ["index", "units/baohe"]
runner = CliRunner()


def scored(path: Path):
    return score(check(path).loaded.round)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_golden_report_pages(lang, fmt, request):
    files = render(scored(ROOT / "rounds/yanjiang-2021"), fmt, lang)
    for page in PAGES:
        rel = f"{page}.{fmt}"
        path = GOLDEN / lang / rel
        if request.config.getoption("--update-golden"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[rel], encoding="utf-8")
        assert files[rel] == path.read_text(encoding="utf-8"), f"run pytest --update-golden and review {path}"


def test_html_is_the_markdown_rendered():
    round_score = scored(ROOT / "rounds/yanjiang-2021")
    md_files, html_files = render(round_score, "md", "zh"), render(round_score, "html", "zh")
    assert set(html_files) - {"report.html"} == {p.replace(".md", ".html") for p in md_files if p.endswith(".md")}
    index = html_files["index.html"]
    assert "<svg" in index and "<script" not in index and "http://" not in index.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert index.count("<section") == 1 and html_files["report.html"].count("<section") == 9
    assert "示例数据，非真实评估结果" in html_files["units/baohe.html"]        # a banner on every page
    assert "@page {\n  size: A4;" in index and "counter(pages)" in index  # A4, page x of y in print


def test_same_input_same_bytes():
    one = render(scored(ROOT / "rounds/shanwei-2020"), "html", "zh")
    two = render(scored(ROOT / "rounds/shanwei-2020"), "html", "zh")
    assert one == two
    assert not re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d", one["index.html"])  # no timestamp unless --stamp


INJECTED = ('<script>document.body.setAttribute("data-pwned","1")</script> | 表格 | 断行 '
            '[点我](javascript:alert(1)) @admin *强调* <img src=x onerror=alert(1)>')


def injected_repo(root: Path) -> Path:
    from tests.conftest import MINI_OBS_B, MINI_ROUND, MINI_SCHEME, MINI_UNITS
    obs_a = f"""\
unit: a
results:
  - indicator: "1.1"
    result: not-done
    note: '{INJECTED}'
    reason: '{INJECTED}'
    fix: '{INJECTED}'
    evidence:
      - {{url: "javascript:alert(1)", title: 恶意链接}}
  - indicator: "1.2"
    result: done
  - indicator: "2"
    items: {{lead: true, plan: true}}
"""
    return write_repo(root, {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS,
                             "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": obs_a,
                             "rounds/r1/observations/b.yaml": MINI_OBS_B})


def test_user_strings_are_escaped(tmp_path):
    repo = injected_repo(tmp_path)
    round_ = check(repo / "rounds/r1").loaded.round
    files = render(score(round_), "html", "zh")
    page = files["units/a.html"]
    assert "<script" not in page and "onerror=" not in page.replace("onerror=alert(1)&gt;", "")
    assert 'href="javascript:' not in page
    assert "&lt;script&gt;" in page                         # shown as text
    md_page = render(score(round_), "md", "zh")["units/a.md"]
    problem_row = next(line for line in md_page.splitlines() if line.startswith("| 1.1 渠道覆盖（"))
    assert problem_row.count(" | ") == 4                    # the injected | did not add cells
    assert "@\u2060admin" in md_page and "@admin" not in md_page   # a word joiner: GitHub pings nobody
    assert not re.search(r"(?<!\\)\]\(javascript:", md_page)   # no link: its brackets are escaped


def test_compare_shows_last_rounds_problems_fixed_or_not():
    files = render(scored(ROOT / "rounds/suizhou-2022"), "md", "zh", scored(ROOT / "rounds/suizhou-2021"))
    page = files["units/office.md"]
    assert "| 上一轮 总得分 | 84.5 |" in page
    assert re.search(r"\| 2\.1\.9 重大会议信息公开 \| 2 \| .* \| 已整改 \|", page)
    assert re.search(r"\| 4\.2 问答解读 \| 3 \| .* \| 未整改 \|", page)


def test_cli_writes_and_refuses_a_symlink(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "rep"
    result = runner.invoke(app, ["report", "rounds/yanjiang-2021", "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file() and (out / "units/baohe.html").is_file()
    stamped = runner.invoke(app, ["report", "rounds/yanjiang-2021", "--out", str(out), "--stamp"])
    assert stamped.exit_code == 0 and "生成时间" in (out / "index.html").read_text(encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(out)
    refused = runner.invoke(app, ["report", "rounds/yanjiang-2021", "--out", str(link)])
    assert refused.exit_code == 1 and "symbolic link" in refused.output
    with pytest.raises(ReportError):
        write({"index.html": "x"}, link)


def test_report_directory_is_readable_by_others(tmp_path):
    """The staging directory comes from mkdtemp (0700); the published report must follow the umask."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        write({"index.md": "# x\n", "units/a.md": "# a\n"}, tmp_path / "out")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "out/units/a.md").stat().st_mode) == 0o644


def test_text_and_rows_rendered_once_give_the_html_markdown_it_gives(tmp_path):
    """body() renders each distinct inline text and table row once and reuses it (report.html:
    _inline_once, _table_rows_once): every page of every shipped round, hostile cells, odd tables and
    random ones render as markdown-it renders them."""
    import random

    from gapctl.report import html as html_render
    from gapctl.report.markdown import pages

    plain = html_render._parser()
    texts = []
    for round_dir in sorted((ROOT / "rounds").iterdir()):
        for lang in ("zh", "en"):
            texts += [page.markdown for page in pages(scored(round_dir), lang, ".html")]
    texts += ["| a | b |\n|---|---:|\n| " + INJECTED.replace("|", "\\|") + " | `x` |\n",
              "# " + INJECTED + "\n\n- [a](http://x) *b* **c**\n- <b>\n", "> **note**\n\ntext\\\nmore\n",
              "| a | b | c |\n|:---|:---:|---:|\n| one |\n| 1 | 2 | 3 | 4 |\n|\\|x\\\\|y|\n||\n| a |\nnot a row\n\n",
              "| h |\n|---|\n", "- item\n\n  | in | list |\n  |---|---|\n  | x | y |\n", "| a |\n|---|\n    | code |\n"]
    pick = random.Random(18)
    pieces = ["|", "\\|", "\\", " ", "a", "中", "*", "`", "[x](y)", "\t", "-", ":", "<", "&"]
    for _ in range(300):
        width = pick.randint(1, 4)
        head = "| " + " | ".join(["h"] * width) + " |"
        delimiter = "|" + "|".join(pick.choice(["---", ":---", "---:", ":---:"]) for _ in range(width)) + "|"
        rows = ["".join(pick.choice(pieces) for _ in range(pick.randint(0, 12))) for _ in range(pick.randint(0, 4))]
        texts.append(f"{head}\n{delimiter}\n" + "".join(f"|{row}|\n" for row in rows))
    for text in texts + texts:  # the second time from the memo
        assert html_render.body(text, {}) == plain.render(text), text


def test_text_without_markup_is_rendered_as_markdown_it_renders_it():
    """report.html._inline_html skips parsing text in which no inline rule can start: 30,000 random
    texts (with and without markup) give what markdown-it's renderInline gives."""
    import random

    from gapctl.report import html as html_render

    plain = html_render._parser()
    pieces = [*"abc 中文\"'#$%+-:=@^{}|()/.,;?09\t", "\\", "`", "*", "_", "[", "]", "!", "<", ">", "&", "~", "\n",
              "\r", "\x00", "http://x.y", "www.a.com", "  ", "&amp;", "\\*", "**b**", "[a](b)"]
    pick = random.Random(18)
    for _ in range(30_000):
        text = "".join(pick.choice(pieces) for _ in range(pick.randint(0, 10)))
        html_render._INLINE.pop(text, None)
        assert html_render._inline_html(text) == plain.renderInline(text), repr(text)



def test_escaped_text_and_links_are_rendered_as_markdown_it_renders_them():
    """report.html._simple_html renders what gapctl.escape.md and link write (backslash escapes, entities,
    http(s) links whose destination markdown-it keeps as written) without parsing: random texts made of
    such pieces and of near misses give what markdown-it's renderInline gives, or are left to it."""
    import random

    from gapctl.escape import link, md
    from gapctl.report import html as html_render

    plain = html_render._parser()
    pieces = [*"abc 中文\"'#$%+-:=@^{}|()/.,;?09\t", "\\", "`", "*", "_", "[", "]", "!", "<", ">", "&", "~", "\n",
              "&amp;", "&lt;", "&gt;", "&quot;", "&foo;", "&#42;", "\\*", "\\_", "\\[", "\\]", "\\\\", "\\a", "\\\"",
              "[a](b)", "[a](http://x.y/z)", "[a\\_b](https://A.b-c.cn:80/p_q/r.html?x=1&amp;y=2#f)", "](https://a.b/",
              "[https://a\\_b](https://a.b/%E4%B8%ADx%zz)", "[x](https://xn--zz.b/)", "[!](https://a/!)", "](",
              "![a](https://b/c)", "[a](https://a..b/)", "[a](https://-a.b/'*)", "[a](https://a.b/[x])", "[](https://a.b)",
              "[单位](units/a-1.html)", "[b](../index.html)", "[c](/abs)", "[d](//host/x)", "[e](a:b)",
              "[f](%E4%B8%AD.md)", "[g](a/b?c)", "[h](.%2e/x)", "[i](~x_y)",
              "[a b](https://a.b/c d)", "[a](https://a.b/c&d)", "[a](HTTPS://a.b/)", "[a\\](https://a.b/)", "[a](https://a.b)x)",
              md("政府信息 <公开> & 1. 条_款 [图] @某 #3"),
              link("佐证 1_a", "https://gov.cn/a_b/c?d=1&e=2", relative=False),
              link("x", "https://例子.cn/路径", relative=False), link("y", "https://a.b/(x)", relative=False)]
    pick = random.Random(18)
    simple = 0
    for _ in range(30_000):
        text = "".join(pick.choice(pieces) for _ in range(pick.randint(0, 8)))
        got = html_render._simple_html(text)
        if got is not None:
            simple += 1
            assert got == plain.renderInline(text), repr(text)
    assert simple > 3_000  # the fast path was taken, not only refused


def test_page_blocks_are_rendered_as_markdown_it_renders_them():
    """report.html._blocks_html renders a unit page's blocks (headings, quotes, one-line paragraphs, lists,
    tables) without markdown-it's block parser: random pages of such blocks and of near misses (blank lines
    with spaces, indentation, loose lists, lines broken inside a paragraph, tables without a delimiter row)
    render as markdown-it renders them, or are left to it."""
    import random

    from gapctl.report import html as html_render

    plain = html_render._parser()
    blocks = ["# 标题", "## Heading \\#", "### x #", "#no", "####### seven", "# ", "> **示例数据**", "> - x",
              ">no space",
              "para [a](https://a.b/c) \\* x", "*footer* text", "1. item", "2) item", "+ plus", "* star", "  indented",
              "\tTab", "- a\n- b \\- c", "- a\n-b", "- a\n  b", "- # x", "-  a", "- a\n\n- b", "line one\nline two",
              "| a | b |\n|---|---:|\n| 1 | 2 |\n| x \\| y | z |", "| a |\n|---|", "| a | b |\n|---|", "| a |\n| b |",
              "| a | b |\n|:--|--:|\n| 1 |\n| 1 | 2 | 3 |\nnot a row", "text \u3000", "---", "===", "<b>html</b>",
              "```", "    code", "[ref]: https://a.b", "a\rb", "x\x00y", "|", "| a\n|---\n| b"]
    pick = random.Random(18)
    fast = 0
    for _ in range(8_000):
        text = "".join(pick.choice(blocks) + pick.choice(["\n\n", "\n", "\n \n", "\n\n\n"])
                       for _ in range(pick.randint(1, 6)))
        got = html_render._blocks_html(text)
        if got is not None:
            fast += 1
            assert got == plain.render(text), repr(text)
    assert fast > 400


@pytest.mark.parametrize("total", ["1\n\n## x", "1\n| y |"])
def test_a_head_whose_line_holds_a_newline_has_the_html_of_its_whole_markdown(total: str,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The head's HTML is made a block at a time, where its lines say blocks end (markdown._head); a line holding a
    newline (none of the head's writers makes one) would end them elsewhere: the head is then rendered whole, as
    markdown-it renders it, not as a table with the newline in a cell."""
    from gapctl.report import html as html_render
    from gapctl.report import markdown

    round_score = scored(ROOT / "rounds" / "suizhou-2022")
    s = round_score.units[0]
    monkeypatch.setattr(markdown, "total_text", lambda unit: total)
    lines = markdown.unit_head(round_score, s, "zh", ".html")
    _title, head = markdown.head_html(round_score, s, "zh")
    assert head is not None and head == html_render._parser().render("\n".join(lines))


def test_unit_pages_made_with_their_html_render_as_markdown_it_renders_them():
    """unit_page makes an HTML page's body with its Markdown (indicator rows once per indicator and figures,
    evidence links from their URLs: gapctl.report.html.made) and body() takes it: every unit's page of every
    shipped round (vetoes, pending and n/a indicators, groups, last round's problems), in both languages, with
    hostile and ordinary evidence links and a provenance line added, is what markdown-it renders."""
    from gapctl.data.model import Evidence
    from gapctl.report import html as html_render
    from gapctl.report.markdown import unit_page

    plain = html_render._parser()
    urls = ["https://a.gov.cn/x_y/~z#1@a$b*c'd!e,f;g=h+i", "http://x.y:80/@u#9", "https://a.b/%zz",
            "https://a.b/%E4%B8%AD", "https://a.b/(x)", "https://a.b/?p=1&q=2", "HTTPS://A.B/", "https://a.b/[x]",
            "https://a.b/ 1", "javascript:x", "https://-a.b/", "https://a.b/" + INJECTED]
    made = total = 0
    for round_dir in sorted((ROOT / "rounds").iterdir()):
        round_score = scored(round_dir)
        for n, s in enumerate(round_score.units):
            if n % 2:  # every other unit with links of every kind, labelled with their URLs or not
                for k, leaf in enumerate(s.lost_leaves()):
                    if leaf.result is not None:
                        url = urls[(n + k) % len(urls)]
                        leaf.result.evidence = [Evidence(url=url, title=[None, url, "", INJECTED][k % 4]),
                                                Evidence(url=urls[k % len(urls)])][:1 + k % 2]
            for lang in ("zh", "en"):
                for previous in (None, s):
                    html_render._MADE.clear()
                    page = unit_page(round_score, s, lang, ".html", previous)
                    total += 1
                    made += bool(html_render._MADE)
                    expected = plain.render(page.markdown)
                    assert html_render.body(page.markdown, {}) == expected, (round_dir.name, s.unit.id, lang)
                    longer = page.markdown.rstrip("\n") + "\n\n*" + INJECTED + "*\n\n- x\n"
                    assert html_render.body(longer, {}) == plain.render(longer), (round_dir.name, s.unit.id, lang)
                    html_render._MADE.clear()
                    assert html_render.body(page.markdown, {}) == expected  # and without the page's HTML
    assert made == total > 100
    for known, more in [("# t\n\n- a\n", "- b\n"), ("- a\n", "  b\n"), ("x\n", "- b\n"),
                        ("| a |\n|---|\n| 1 |\n", "| 2 |\n")]:
        html_render.made(known, html_render._blocks_html(known))
        text = known.rstrip("\n") + "\n\n" + more
        assert html_render.body(text, {}) == plain.render(text), text  # a list going on past the page's end
