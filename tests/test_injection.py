"""Hostile text in every output: a copy of the Yanjiang round with injection strings in every
field a unit, evaluator, scheme author or committer writes, rendered in every format.

Each format is checked for what matters in its context: HTML shows the payloads as text and
has no script, handler or link other than http(s) and relative; Markdown (report and PR
comment) stays inert even under a renderer that passes raw HTML and any link through, keeps
its tables' columns and pings nobody; terminal text, tables and CSV show bidi and control
characters instead of obeying them and keep one value on one line; JSON keeps every value as
written. Headless Chromium then opens the HTML reports and finds that nothing ran.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import tomllib
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import yaml
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.escape import BIDI, code, csv_cell, html, link, md, plain, plain_line, safe_url
from gapctl.report.build import ReportError, render, write
from gapctl.review.diff import diff_rounds
from gapctl.scoring.explain import explain_data, explain_lines
from gapctl.textwidth import width
from tests.conftest import ROOT
from tests.report.test_browser import chromium

runner = CliRunner()

PWN = "document.documentElement.setAttribute('data-pwned','1');document.title='PWNED'"
PAYLOADS = [
    f"<script>{PWN}</script>",
    f"<img src=x onerror=\"{PWN}\">",
    f"\"><svg onload=\"{PWN}\">",
    f"'><iframe src=\"javascript:{PWN}\"></iframe>",
    f"[点我](javascript:{PWN})",
    f"<a href=\"javascript:{PWN}\">链接</a>",
    f"![x](x \"y\") <javascript:{PWN}>",
    "a | b | c",
    "`代码` ``x`` \\|",
    "@everyone @org/team 见 #1",
    "\u202e反转 RLO\u202c \u2066隔离\u2069 \u200f标记\u200e \u061c",
    "第一行\n第二行\r\n| 断行 |\u2028行分隔",
    "{{ 7*7 }} ${7*7} {% raw %}",
    "<!-- 注释开始",
    "*强调* _斜体_ ~~删除~~ # 标题",
    "- 列表项",
    "> 引用",
    "1. 编号",
    "&lt;script&gt; &amp; &#60;b&#62;",
    "\x1b[2J\x1b[31m红色\x1b[0m\x07",
    "=HYPERLINK(\"http://evil.example/\",\"点击\")",
    "javascript:alert(1)",
]
# evidence urls: links only for http(s); everything else shown as text
BAD_URLS = [
    f"javascript:{PWN}", f"JaVaScRiPt:{PWN}", f" javascript:{PWN}", f"java\tscript:{PWN}",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "file:///etc/passwd",
    "//evil.example/x", "/etc/passwd", "../../../secret.txt", "%2e%2e/%2e%2e/secret", "\\\\evil\\share",
]
ODD_URL = "https://www.example.gov.cn/a b?q=<script>&x=\")onload=alert(1)|[y](z)&lt;"
HOSTILE_CHARS = BIDI + "".join(chr(c) for c in range(32) if chr(c) not in "\n") + "\x7f"


# --- the round ------------------------------------------------------------------------

def _payload(n: int) -> str:
    return PAYLOADS[n % len(PAYLOADS)]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dump(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000), encoding="utf-8")


def hostile_round(base: Path, text: Any = _payload, bad_urls: bool = False) -> Path:
    """A copy of rounds/yanjiang-2021 (scheme, units, observations) with `text(n)` in every free-text field.

    With `bad_urls`, evidence urls are javascript:, data:, //host, ../ … (invalid data: the CLI
    refuses it, so it is rendered through the library, the way a caller skipping validation would).
    """
    for rel in ("schemes/yanjiang-2021.yaml", "units/yanjiang.yaml"):
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, base / rel)
    round_dir = base / "rounds/yanjiang-2021"
    shutil.copytree(ROOT / "rounds/yanjiang-2021", round_dir)
    counter = iter(range(10_000))

    def hostile(original: str) -> str:
        return f"{original} {text(next(counter))}"

    units = _yaml(base / "units/yanjiang.yaml")
    for unit in units["units"]:
        unit["name"], unit["name_en"] = hostile(unit["name"]), hostile(unit.get("name_en", "x"))
    _dump(base / "units/yanjiang.yaml", units)

    scheme = _yaml(base / "schemes/yanjiang-2021.yaml")
    scheme["title"] = hostile(scheme["title"])

    def walk(indicators: list[dict]) -> None:
        for ind in indicators:
            ind["name"], ind["name_en"] = hostile(ind["name"]), hostile(ind["name"])
            for item in (ind.get("rule") or {}).get("items") or []:
                item["name"] = hostile(item["name"])
            walk(ind.get("children") or [])
    walk(scheme["indicators"])
    for section in ("bonus", "penalty"):
        scheme[section]["name"] = hostile(scheme[section]["name"])
        walk(scheme[section]["indicators"])
    scheme["grades"] = [{"label": hostile("优秀"), "label_en": hostile("Excellent"), "min": 90},
                        {"label": hostile("良好"), "label_en": hostile("Good"), "min": 75},
                        {"label": hostile("一般"), "min": 0}]
    scheme["flags"] = [{"id": "low", "label": hostile("低于80分"), "label_en": hostile("below 80"), "below": 80}]
    scheme["ranking"] = {"of": "total", "categories": [
        {"id": "town", "name": hostile("镇街道"), "name_en": hostile("towns"), "unit_types": ["镇街道"]},
        {"id": "dept", "name": hostile("区级部门"), "unit_types": ["区级部门"]}]}
    _dump(base / "schemes/yanjiang-2021.yaml", scheme)

    round_toml = tomllib.loads((round_dir / "round.toml").read_text(encoding="utf-8"))
    round_toml["title"], round_toml["title_en"] = hostile(round_toml["title"]), hostile("Yanjiang")
    (round_dir / "round.toml").write_text(tomli_w.dumps(round_toml), encoding="utf-8")

    for path in sorted((round_dir / "observations").glob("*.yaml")):
        obs = _yaml(path)
        obs["observer"] = hostile("检查组")
        for n, result in enumerate(obs["results"]):
            for key in ("note", "reason", "fix"):
                if key in result or key == "note":
                    result[key] = hostile(result.get(key, ""))
            if n % 3 == 0:
                result["observer"] = hostile("观察员")
            for m, ev in enumerate(result.get("evidence") or []):
                ev["title"] = hostile(ev.get("title", ""))
                if bad_urls:
                    ev["url"] = BAD_URLS[(n + m) % len(BAD_URLS)]
                elif (n + m) % 4 == 0:
                    ev["url"] = ODD_URL
        _dump(path, obs)
    (round_dir / "appeals").mkdir()
    _dump(round_dir / "appeals/baohe.yaml", {"unit": "baohe", "appeals": [
        {"indicator": "4", "filed": dt.date(2022, 1, 20), "argument": hostile("申请"),
         "evidence": [{"url": "https://www.example.gov.cn/appeal", "title": hostile("证据")}],
         "decision": {"outcome": "upheld", "reviewer": hostile("复核组"), "decided": dt.date(2022, 1, 24),
                      "result": {"result": "done"}, "note": hostile("决定")}}]})
    return round_dir


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("injection")
    return {"hostile": hostile_round(base / "hostile"),
            "clean": hostile_round(base / "clean", lambda n: f"文本{n}"),
            "bad_urls": hostile_round(base / "bad", bad_urls=True)}


# --- what each context must look like -------------------------------------------------

SAFE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "section", "h1", "h2", "h3", "h4", "p",
             "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "strong", "em", "blockquote",
             "figure", "svg", "text", "rect", "line", "code", "br"}
SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*:")
CONTROL = re.compile(f"[{BIDI}\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def live_target(url: str) -> bool:
    """What a browser would follow without asking: http(s), or a path relative to the page."""
    if re.match(r"^https?://[^/\\]", url, re.I):
        return True
    return not SCHEME.match(url) and not url.startswith(("/", "\\")) and "\\" not in url


class Audit(HTMLParser):
    """Tags, attributes, links, text and table shapes of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.targets: list[str] = []
        self.pwned = False
        self.text: list[str] = []
        self.tables: list[list[int]] = []     # per table: cells per row
        self._in_title = False
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append(f"{tag} {name}")
            if name.lower() in ("href", "src", "action", "formaction", "xlink:href", "data", "poster"):
                self.targets.append(value or "")
            if name == "data-pwned":
                self.pwned = True
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append(0)
        elif tag in ("td", "th") and self.tables:
            self.tables[-1][-1] += 1
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_title:
            self.title += data


def audit(doc: str, extra_tags: frozenset[str] = frozenset()) -> Audit:
    """The checks every HTML page (or Markdown rendered permissively) must pass; returns the audit."""
    found = Audit()
    found.feed(doc)
    found.close()
    assert found.tags <= SAFE_TAGS | extra_tags, found.tags - SAFE_TAGS - extra_tags
    assert not found.handlers and not found.pwned
    assert all(live_target(t) for t in found.targets), [t for t in found.targets if not live_target(t)]
    assert not CONTROL.search(doc), repr(CONTROL.search(doc))
    for shape in found.tables:
        assert len(set(shape)) == 1, f"a table row gained or lost cells: {shape}"
    return found


def permissive(markdown: str) -> str:
    """Markdown rendered the way a careless host might: raw HTML passed through, any link allowed."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser.validateLink = lambda url: True
    return parser.render(markdown)


def table_shapes(markdown: str) -> list[list[int]]:
    """Cells per row of every Markdown table, counted in the source: renderers pad or cut rows silently."""
    shapes: list[list[int]] = []
    previous = False
    for line in markdown.splitlines():
        is_row = line.startswith("|")
        if is_row:
            unescaped = re.sub(r"\\.", "", line)              # drop backslash pairs (\\, \|, …)
            if not previous:
                shapes.append([])
            shapes[-1].append(unescaped.count("|") - 1)
        previous = is_row
    return shapes


def assert_markdown(text: str, extra_tags: frozenset[str] = frozenset()) -> Audit:
    """Inert Markdown: nothing but our own markup even when raw HTML and any link are allowed, no pings."""
    for shape in table_shapes(text):
        assert len(set(shape)) == 1, f"a table row gained or lost cells: {shape}"
    assert not re.search(r"@[A-Za-z0-9_]", text), "an @mention would ping someone"
    assert not re.search(r"#\d", text), "a #123 reference would link an issue"
    assert "<script>document" not in text
    return audit(permissive(text), extra_tags | {"img"})


def assert_plain(text: str, clean: str | None = None) -> None:
    """Terminal text: nothing invisible or moving, each value on its line (as many lines as clean text)."""
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    assert "\\u202e" in text
    if clean is not None:
        assert len(text.splitlines()) == len(clean.splitlines())
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if "--" in line and set(line) <= {"-", " "} and n:            # a table's underline
            columns = width(line)
            rows = [lines[n - 1]] + list(itertools.takewhile(bool, lines[n + 1:]))
            assert all(width(row) <= columns for row in rows), "a cell pushed its row out of the table"


def strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in strings(v)]
    return []


def assert_json(text: str) -> Any:
    """JSON keeps every value as written: the payloads come back exactly."""
    data = json.loads(text)
    values = "\n".join(strings(data))
    assert PAYLOADS[10] in values or PAYLOADS[0] in values
    return data


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


# --- the escaping functions -----------------------------------------------------------

@pytest.mark.parametrize("url, relative, base, expected", [
    ("https://a.example/x?y=1&z=(2)", True, "", True),
    ("HTTP://A.EXAMPLE/", True, "", True),
    ("units/a.html", True, "", True),
    ("../index.html", True, "units", True),
    ("a/../b.html", True, "", True),
    ("units/a.html", False, "", False),
    ("../index.html", True, "", False),
    ("a/../../x", True, "", False),
    ("%2e%2e/x", True, "", False),
    ("/etc/passwd", True, "", False),
    ("//evil.example/x", True, "", False),
    ("https:///x", True, "", False),
    ("https:evil.example", True, "", False),
    ("javascript:alert(1)", True, "", False),
    ("JaVaScRiPt:alert(1)", True, "", False),
    (" javascript:alert(1)", True, "", False),
    ("java\tscript:alert(1)", True, "", False),
    ("java\nscript:alert(1)", True, "", False),
    ("data:text/html,x", True, "", False),
    ("vbscript:x", True, "", False),
    ("file:///etc/passwd", True, "", False),
    ("x:y/z", True, "", False),
    ("a\\b", True, "", False),
    ("https://a.example/\u202e \n", True, "", True),     # percent-encoded in the link
    ("", True, "", False),
])
def test_links_only_to_http_or_inside_the_tree(url, relative, base, expected):
    assert (safe_url(url, base, relative) is not None) is expected
    rendered = link("t", url, base, relative)
    assert rendered.startswith("[t](") is expected
    assert not re.search(f"[{BIDI}\n\t ]", rendered.partition("](")[2])


def test_link_destination_cannot_break_out():
    rendered = link("标题 [x]", 'https://a.example/p a?q=")x<y>|`&lt;')
    assert rendered == "[标题 \\[x\\]](https://a.example/p%20a?q=%22%29x%3Cy%3E%7C%60&amp;lt;)"
    assert link("t", "javascript:alert(1)") == "javascript:alert(1)"           # text, not a link


def test_markdown_text():
    assert md("a|b @admin @org/team #12 <script>alert(1)</script> *x*") == \
        "a\\|b @\u2060admin @\u2060org/team \\#\u206012 &lt;script&gt;alert(1)&lt;/script&gt; \\*x\\*"
    assert md("- x") == "\\- x" and md("1. x") == "1\\. x" and md("1.1 x") == "1.1 x" and md("-2.0") == "-2.0"
    assert md("a\nb\r\n\tc\u2028d") == "a b c d"
    assert md("\u202e") == "\\\\u202e"                  # shows \u202e
    assert md("[a](javascript:x) ![b](c) `d` ~~e~~ $f$ &amp;") == \
        "\\[a\\](javascript:x) !\\[b\\](c) \\`d\\` \\~\\~e\\~\\~ \\$f\\$ &amp;amp;"
    assert code("rounds/a → rounds/b") == "`rounds/a → rounds/b`" and code("a`b|c") == "a\\`b\\|c"


def test_plain_html_csv():
    assert plain("a\u202eb\nc\x1b[2J\td") == "a\\u202eb c\\u001b[2J d"
    assert plain_line("    说明：a\nb\n") == "    说明：a b"
    assert html('"><svg onload=x>\u2066') == "&quot;&gt;&lt;svg onload=x&gt;\\u2066"
    assert [csv_cell(v) for v in ("=1+1", "+1", "-1", "@x", "a\u202e", 3)] == ["'=1+1", "'+1", "'-1", "'@x",
                                                                               "a\\u202e", 3]


def test_report_files_stay_inside_the_report(tmp_path):
    for rel in ("../x.html", "units/../../x.html", "/tmp/x.html", "units\\..\\x.html", "c:x.html"):
        with pytest.raises(ReportError):
            write({rel: "x"}, tmp_path / "out")
    assert not (tmp_path / "x.html").exists()


# --- every format ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_markdown(rounds, lang):
    for name in ("hostile", "bad_urls"):
        files = render(score(check(rounds[name]).loaded.round), "md", lang)
        shown = ""
        for path, text in files.items():
            if path.endswith(".md"):
                shown += "".join(assert_markdown(text).text)
            else:                                   # charts/*.svg: labels are XML text
                assert path.endswith(".svg") and "<script" not in text and not CONTROL.search(text)
                audit(text, frozenset({"svg"}))
        assert "<script>document" in shown and "\\u202e" in shown      # the payloads are there, as text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_html(rounds, lang):
    for name in ("hostile", "bad_urls"):
        files = render(score(check(rounds[name]).loaded.round), "html", lang)
        shown = "".join(audit(files["report.html"]).text)         # every page in one
        assert "<script>document" in shown and "\\u202e" in shown   # the payloads are there, as text
        for doc in files.values():
            audit(doc)
        index = audit(files["index.html"])
        assert sum(1 for t in index.targets if t.startswith("units/")) == 8      # every unit still linked
        unit = files["units/baohe.html"]
        assert 'href="javascript' not in unit.lower() and "href=\"data:" not in unit


def test_report_is_deterministic(rounds):
    scored = score(check(rounds["hostile"]).loaded.round)
    assert render(scored, "html", "zh") == render(scored, "html", "zh")


def test_score_formats(rounds, monkeypatch):
    monkeypatch.chdir(rounds["hostile"].parent.parent)
    clean = run("score", str(rounds["clean"]))
    assert_plain(run("score", "rounds/yanjiang-2021"), clean)
    assert_plain(run("score", "rounds/yanjiang-2021", "--by-category", "--lang", "en"),
                 run("score", str(rounds["clean"]), "--by-category", "--lang", "en"))
    data = assert_json(run("score", "rounds/yanjiang-2021", "--format", "json"))
    written = {u["id"]: u["name"] for u in _yaml(rounds["hostile"].parent.parent / "units/yanjiang.yaml")["units"]}
    assert {u["unit"]: u["name"] for u in data["units"]} == written       # as written: line breaks, bidi and all
    table = list(csv.reader(io.StringIO(run("score", "rounds/yanjiang-2021", "--format", "csv"))))
    assert len({len(row) for row in table}) == 1 and len(table) == 9
    text = "\n".join(",".join(row) for row in table)
    assert not re.search(f"[{BIDI}\x1b\x07]", text)
    names = [row[table[0].index("name")] for row in table[1:]]
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names)


def test_explain_formats(rounds, monkeypatch):
    monkeypatch.chdir(rounds["hostile"].parent.parent)
    for unit in ("baohe", "finance", "lianhua"):
        for lang in ("zh", "en"):
            assert_plain(run("explain", "rounds/yanjiang-2021", unit, "--lang", lang),
                         run("explain", str(rounds["clean"]), unit, "--lang", lang))
        assert_json(run("explain", "rounds/yanjiang-2021", unit, "--format", "json"))
    scored = score(check(rounds["bad_urls"]).loaded.round)                 # invalid data, via the library
    for unit in scored.units:
        assert_plain("\n".join(explain_lines(unit, "zh")))
        assert any(u["url"] in BAD_URLS for i in explain_data(unit)["indicators"] for u in i["evidence"])


def test_diff_formats_between_rounds(rounds, monkeypatch):
    monkeypatch.chdir(rounds["hostile"].parent.parent.parent)
    old, new = (str(rounds[n].relative_to(Path.cwd())) for n in ("clean", "hostile"))
    for args in ([old, new], [new, old]):
        md_text = run("diff", *args, "--format", "md", "--all")
        assert_markdown(md_text, frozenset({"details", "summary"}))
        assert "<details>" in md_text                  # our own markup survives
        assert_plain(run("diff", *args, "--all"))
        assert_json(run("diff", *args, "--format", "json", "--all"))
    # gates quote unit names: still inert
    gated = runner.invoke(app, ["diff", old, new, "--format", "md", "--fail-on-grade-change"])
    assert gated.exit_code == 1
    assert_markdown(gated.output, frozenset({"details", "summary"}))
    assert diff_rounds(Path(old), Path(new)).gates == []


def git(repo: Path, *args: str, author: str = "评估员") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.org",
           "GIT_AUTHOR_DATE": "2022-01-10T10:00:00+08:00", "GIT_COMMITTER_DATE": "2022-01-10T10:00:00+08:00"}
    subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)


def test_diff_formats_between_revisions_with_hostile_commits(tmp_path, monkeypatch):
    """The PR comment: committers' names and subjects are user text too."""
    repo = tmp_path / "repo"
    hostile_round(repo, lambda n: f"文本{n}")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "初始")
    shutil.rmtree(repo / "rounds")
    for rel in ("schemes", "units"):
        shutil.rmtree(repo / rel)
    hostile_round(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", " ".join(PAYLOADS[:12]), author="@everyone \u202e评估员 [x](javascript:1)")
    monkeypatch.chdir(repo)
    md_text = run("diff", "rounds/yanjiang-2021", "--rev", "HEAD~1..HEAD", "--format", "md")
    found = assert_markdown(md_text, frozenset({"details", "summary"}))
    assert "everyone" in "".join(found.text)
    assert_plain(run("diff", "rounds/yanjiang-2021", "--rev", "HEAD~1..HEAD"))
    data = assert_json(run("diff", "rounds/yanjiang-2021", "--rev", "HEAD~1..HEAD", "--format", "json"))
    assert any("@everyone" in s for s in strings(data))


def test_followup_and_status_text(rounds, monkeypatch):
    monkeypatch.chdir(rounds["hostile"].parent.parent.parent)
    old, new = (str(rounds[n].relative_to(Path.cwd())) for n in ("clean", "hostile"))
    for args in ([old, new], [new, old]):
        assert_plain(run("followup", *args), run("followup", old, old))
    assert_json(run("followup", new, old, "--format", "json"))            # the problems are the old round's
    assert_plain(run("status", new, "--today", "2022-01-12"), run("status", old, "--today", "2022-01-12"))


def test_robustness_text_json_and_report_section(rounds, monkeypatch):
    """Unit names and scheme titles in the robustness table, its sentences, the report's chart and section."""
    from gapctl.scoring import robustness
    monkeypatch.chdir(rounds["hostile"].parent.parent.parent)
    old, new = (str(rounds[n].relative_to(Path.cwd())) for n in ("clean", "hostile"))
    for lang in ("zh", "en"):
        assert_plain(run("robustness", new, "--draws", "30", "--lang", lang),
                     run("robustness", old, "--draws", "30", "--lang", lang))
    assert_json(run("robustness", new, "--draws", "30", "--format", "json"))
    scored = score(check(rounds["hostile"]).loaded.round)
    results = [robustness.analyse(scored, robustness.Settings(draws=30, seed=2, grades=True))]
    assert any(not u.robust() for u in results[0].units)  # there are sentences to check
    for lang in ("zh", "en"):
        files = render(scored, "md", lang, robustness=results)
        assert_markdown(files["index.md"])
        chart = files["charts/robustness-1.svg"]
        assert "<script" not in chart and not CONTROL.search(chart)
        audit(chart, frozenset({"svg", "circle"}))
        audit(render(scored, "html", lang, robustness=results)["index.html"], frozenset({"circle"}))


def test_verify_text_and_json(rounds, tmp_path, monkeypatch):
    """A published table that names the hostile units (as written) and misprints every total."""
    monkeypatch.chdir(rounds["hostile"].parent.parent)
    units = json.loads(run("score", "rounds/yanjiang-2021", "--format", "json"))["units"]
    table = tmp_path / "通报.csv"
    with table.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["单位名称", "总分", "等次"]] + [[u["name"], "1.0", u["grade"]] for u in units])
    result = runner.invoke(app, ["verify", "rounds/yanjiang-2021", str(table)])
    assert result.exit_code == 1
    assert_plain(result.output)
    assert result.output.count("总得分公布为 1.0") == len(units)  # every row matched its unit, name and all
    data = assert_json(runner.invoke(app, ["verify", "rounds/yanjiang-2021", str(table), "-f", "json"]).output)
    assert [m["unit"] for m in data["mismatches"]] == [u["unit"] for u in units]


def test_json_output_has_no_raw_bidi(rounds, monkeypatch):
    monkeypatch.chdir(rounds["hostile"].parent.parent)
    out = run("score", "rounds/yanjiang-2021", "--format", "json")
    assert not re.search(f"[{BIDI}]", out)


# --- a real browser -------------------------------------------------------------------

class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.pwned = False
        self.scripts = 0
        self.sections = 0
        self.title = ""
        self._title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.pwned |= any(name == "data-pwned" for name, _ in attrs)
        self.scripts += tag == "script"
        self.sections += tag == "section"
        self._title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._title = False

    def handle_data(self, data: str) -> None:
        if self._title:
            self.title += data


def _opened(tmp_path: Path, page: Path) -> _Dom:
    """The page's DOM after Chromium ran it for 3 s of virtual time (so onerror and onload had their chance)."""
    proc = chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", page.as_uri())
    dom = _Dom()
    dom.feed(proc.stdout)
    assert "</html>" in proc.stdout, proc.stderr[-2000:]         # it did open the page
    return dom


def test_nothing_runs_in_chromium(rounds, tmp_path):
    pages: list[Path] = []
    for name in ("hostile", "bad_urls"):
        scored = score(check(rounds[name]).loaded.round)
        for lang in ("zh", "en"):
            out = tmp_path / f"{name}-{lang}"
            write(render(scored, "html", lang), out)
            pages += [out / "report.html", out / "index.html"]
        # the Markdown under a renderer that passes raw HTML through: still nothing to run
        md_out = tmp_path / f"{name}-md"
        for rel, text in render(scored, "md", "zh").items():
            if rel.endswith(".md"):
                target = md_out / rel.replace(".md", ".html")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head>"
                                  f"<body><section>{permissive(text)}</section></body></html>", encoding="utf-8")
        pages += [md_out / "index.html", md_out / "units/baohe.html"]
    comment = runner.invoke(app, ["diff", str(rounds["clean"]), str(rounds["hostile"]), "--format", "md", "--all"])
    pr = tmp_path / "pr-comment.html"
    pr.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head><body><section>"
                  f"{permissive(comment.output)}</section></body></html>", encoding="utf-8")
    pages.append(pr)
    # the probe works: the same payload unescaped does run
    probe = tmp_path / "probe.html"
    probe.write_text(f"<!DOCTYPE html><html><head><title>t</title></head><body><section>{PAYLOADS[1]}"
                     f"</section></body></html>", encoding="utf-8")
    # one Chromium a page, four at a time (each mostly waits on its own start-up); a profile directory each
    def opened(i: int, page: Path) -> _Dom:
        (tmp_path / f"browser-{i}").mkdir()
        return _opened(tmp_path / f"browser-{i}", page)

    with ThreadPoolExecutor(4) as pool:
        doms = list(pool.map(opened, *zip(*enumerate([probe, *pages]), strict=True)))
    assert doms[0].pwned
    for page, dom in zip(pages, doms[1:], strict=True):
        assert not dom.pwned and dom.scripts == 0 and dom.title != "PWNED", page
        assert dom.sections >= 1, page


def test_score_csv_quotes_a_bare_carriage_return(tmp_path, monkeypatch):
    """A spreadsheet starts a row at a bare CR: `甲\\r=1+1` unquoted would put a formula at a row's start."""
    hostile = hostile_round(tmp_path, text=lambda n: "甲\r=1+1")
    monkeypatch.chdir(hostile.parent.parent)
    out = run("score", "rounds/yanjiang-2021", "--format", "csv")
    table = list(csv.reader(io.StringIO(out, newline="")))
    assert len(table) == 9 and len({len(row) for row in table}) == 1
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in table for cell in row[3:5])
    assert "\r" in out and all(row[table[0].index("name")].endswith(" 甲\r=1+1") for row in table[1:])


def test_html_escaping_is_the_standard_librarys() -> None:
    """gapctl.escape.html writes html.escape(…, quote=True) out (the module is not imported at every start): the
    same text for random strings of the characters it replaces, entities, control characters and CJK."""
    import html as standard
    import random

    from gapctl.escape import html, plain

    chance = random.Random(18)
    alphabet = ["&", "<", ">", '"', "'", "a", "区", "&amp;", "&#x27;", "\x00", "\n", "\u202e"]
    for _ in range(5000):
        text = "".join(chance.choice(alphabet) for _ in range(chance.randint(0, 8)))
        assert html(text) == standard.escape(plain(text), quote=True)
