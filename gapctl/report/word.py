"""The report as a Word document an office can issue (python-docx): `gapctl report --format docx`.

Layout after the national standard for official documents (GB/T 9704): A4 with its margins, a
masthead with the issuing office in red and the document number above a red rule, the title,
then 一、排名情况 (a ranking table per scheme and category; 得分情况 without ranks where the scheme
publishes no ranking), 二、问题清单及整改要求 (per unit, in ranking order: 扣分点, 扣分, 扣分理由,
整改要求) and 三、计分方法和假定 (gapctl.report.method), and the office and date at the end (落款). Every page
has a header (the office or round, the number, the example and provisional banners), a footer
with 第 x 页，共 y 页 (Word fields), and while the results are provisional a 初步结果 watermark.

Fonts: Word cannot embed a font python-docx could write, so the document names fonts every
Chinese Windows and Office has, each with its East-Asian slot set (`w:eastAsia`) and listed in the
font table with the GB2312 character set, which tells Word or LibreOffice on a machine without
them to substitute a Chinese font rather than show boxes: 宋体 (SimSun) for text, 黑体 (SimHei) for
headings, Times New Roman for Latin letters and digits.

Deterministic: the same scores and options give the same bytes (fixed document dates, zip entry
times and order), so an issued document can be rebuilt and compared.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gapctl.escape import html as xml_text
from gapctl.escape import plain
from gapctl.i18n import in_lang
from gapctl.labels import name_in, pair, written
from gapctl.report.document import Issue, Standing, header_text, issued_on, mark, notices, page_of
from gapctl.report.markdown import flag_labels, not_published, problems, rank_of, ranking_groups
from gapctl.scoring.score import RoundScore, UnitScore
from gapctl.scoring.scoreboard import fixed, total_text

SONG, HEI, LATIN = "宋体", "黑体", "Times New Roman"
ALT_NAMES = {SONG: "SimSun", HEI: "SimHei"}
RED = "C00000"
TEXT_WIDTH_CM = 15.6  # A4 (21 cm) less GB/T 9704's margins, 2.8 cm left and 2.6 cm right
FIXED_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # the document's dates when no --date is given
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def docx_bytes(scored: RoundScore, lang: str = "zh", issue: Issue | None = None,
               standing: Standing | None = None, provenance: Any = None,
               unit_parts: Callable[[list[UnitScore]], Iterable[str]] | None = None) -> bytes:
    """The Word document (.docx) of the round's results; `provenance` (gapctl.review.provenance) adds an
    annex after the 落款 saying what they were computed from. `unit_parts(units)`: each unit's section
    (`unit_xml`) in the order given, when the units of `scored` are summaries (gapctl.scoring.details)."""
    from docx import Document
    from docx.oxml import parse_xml

    issue, standing = issue or Issue(), standing or Standing()
    doc = Document()
    _styles(doc, lang)
    _page(doc, scored, issue, standing, lang)
    title = written(scored.round.title, scored.round.title_en, lang) or scored.round.id
    body = _Body()
    if issue.office:  # 版头: the office in red, the number, a red rule
        body.para(issue.office, align="center", before=240, run=_Run(bold=True, color=RED, size=26, east_asia=SONG))
    if issue.office or issue.number:
        body.para(issue.number or "", align="center", after=360, border=RED, run=_Run(size=16))
    body.para(title, style="Title")
    for notice in notices(scored, standing, lang):
        body.para(notice, align="center", run=_Run(bold=True, color=RED))
    schemes = {s.scheme.id: s.scheme for s in scored.units}
    facts = [(in_lang("Period", lang), " – ".join(d.isoformat() for d in scored.round.period)
              if scored.round.period else "—"),
             (in_lang("Scheme", lang), "；".join(f"{s.title} ({s.id})" for s in schemes.values())),
             (in_lang("Units assessed", lang), str(len(scored.units)))]
    for name, value in facts:
        body.para(pair(name, value, lang))
    every = all(scored.ranks_shown(s.scheme) for s in scored.units)
    body.para(in_lang("1. Ranking", lang) if every else in_lang("1. Scores", lang), style="Heading1")
    order: list[UnitScore] = []
    for group, members in ranking_groups(scored, lang):
        body.para(group, style="Heading2")
        ranked = scored.ranks_shown(members[0].scheme)
        if ranked and not members[0].scheme.publishes_ranking:
            body.para(not_published(scored, lang))
        _ranking_table(body, members, lang, ranked)
        order += members
    body.para(in_lang("2. Problem lists and what to fix", lang), style="Heading1")
    if unit_parts is not None:
        body.parts.extend(unit_parts(order))
    else:
        for n, s in enumerate(order, start=1):
            _unit_problems(body, s, n, lang, scored.ranks_shown(s.scheme))
    _method(body, scored, lang)
    for text in (issue.office, issued_on(issue.date, lang) if issue.date else None):  # 落款
        if text:
            body.para(text, align="right", before=120)
    if provenance is not None:
        _provenance(body, provenance, lang)
    end = doc.element.body.sectPr
    for element in parse_xml(f'<w:body {W}>{"".join(body.parts)}</w:body>'):
        end.addprevious(element)
    _properties(doc, title, issue, lang)
    _drop_template_leftovers(doc)
    buffer = io.BytesIO()
    doc.save(buffer)
    return _stable_zip(buffer.getvalue())


# --- the text, as WordprocessingML ------------------------------------------------------------
# Written as XML text and parsed once: python-docx's object per paragraph and cell takes minutes
# for a round of thousands of units. Every text goes through gapctl.escape.html (XML text, with
# control and invisible characters shown, which XML could not hold).

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


@dataclass(frozen=True)
class _Run:
    bold: bool = False
    color: str | None = None
    size: float | None = None  # points
    east_asia: str | None = None

    def xml(self, text: str) -> str:
        props = ""
        if self.east_asia:
            props += (f'<w:rFonts w:ascii="{LATIN}" w:hAnsi="{LATIN}" w:cs="{LATIN}" w:eastAsia="{self.east_asia}" '
                      'w:hint="eastAsia"/>')
        props += "<w:b/>" if self.bold else ""
        props += f'<w:color w:val="{self.color}"/>' if self.color else ""
        props += f'<w:sz w:val="{int(self.size * 2)}"/>' if self.size else ""
        props = f"<w:rPr>{props}</w:rPr>" if props else ""
        return f'<w:r>{props}<w:t xml:space="preserve">{xml_text(text)}</w:t></w:r>' if text else ""


@dataclass
class _Body:
    parts: list[str] = field(default_factory=list)

    def para(self, text: str, style: str | None = None, align: str | None = None, before: int | None = None,
             after: int | None = None, border: str | None = None, run: _Run = _Run()) -> None:
        """A paragraph; `before`/`after` in twentieths of a point, `border` a colour for a rule below."""
        self.parts.append(f"<w:p>{_paragraph_properties(style, align, before, after, border)}{run.xml(text)}</w:p>")

    def table(self, head: list[str], rows: Iterable[list[str]], widths: list[float], right: set[int]) -> None:
        """A grid table: the header row repeated on every page, rows kept whole, numbers right-aligned."""
        twips = [int(width * 567) for width in widths]  # centimetres to twentieths of a point
        out = [f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{sum(twips)}" w:type="dxa"/>'
               '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/>'
               '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
               'w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>']
        out += [f'<w:gridCol w:w="{w}"/>' for w in twips] + ["</w:tblGrid>"]
        for r, values in enumerate([head, *rows]):
            out.append("<w:tr><w:trPr><w:cantSplit/>" + ("<w:tblHeader/>" if r == 0 else "") + "</w:trPr>")
            for c, value in enumerate(values):
                shade = '<w:shd w:val="clear" w:color="auto" w:fill="EEF2F6"/>' if r == 0 else ""
                align = "center" if r == 0 else ("right" if c in right else None)
                out.append(f'<w:tc><w:tcPr><w:tcW w:w="{twips[c]}" w:type="dxa"/>{shade}</w:tcPr><w:p>'
                           f"{_paragraph_properties(None, align, None, 0, None, single=True)}"
                           f"{_Run(bold=r == 0).xml(value)}</w:p></w:tc>")
            out.append("</w:tr>")
        self.parts.append("".join(out) + "</w:tbl>")


def _paragraph_properties(style: str | None, align: str | None, before: int | None, after: int | None,
                          border: str | None, single: bool = False) -> str:
    """<w:pPr>, its children in the schema's order (Word refuses a document that mixes them up)."""
    props = f'<w:pStyle w:val="{style}"/>' if style else ""
    if border:
        props += f'<w:pBdr><w:bottom w:val="single" w:sz="18" w:space="6" w:color="{border}"/></w:pBdr>'
    spacing = (f' w:before="{before}"' if before is not None else "") + \
        (f' w:after="{after}"' if after is not None else "") + (' w:line="240" w:lineRule="auto"' if single else "")
    props += f"<w:spacing{spacing}/>" if spacing else ""
    props += f'<w:jc w:val="{align}"/>' if align else ""
    return f"<w:pPr>{props}</w:pPr>" if props else ""


# --- styles and page ----------------------------------------------------------------------

def _fonts(rpr: Any, east_asia: str) -> None:
    """Latin and East-Asian fonts of a run or style: named, never the theme's (which has no Chinese)."""
    from docx.oxml.ns import qn

    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), LATIN)
    fonts.set(qn("w:hAnsi"), LATIN)
    fonts.set(qn("w:cs"), LATIN)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")


def _styles(doc: Any, lang: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    styles = doc.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr, SONG)
    language = rpr.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        rpr.append(language)
    language.set(qn("w:val"), "zh-CN" if lang == "zh" else "en-GB")
    language.set(qn("w:eastAsia"), "zh-CN")
    normal = styles["Normal"]
    normal.font.size = Pt(12)  # 小四
    _fonts(normal.element.get_or_add_rPr(), SONG)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.25
    for name, size, east_asia in (("Title", 22, HEI), ("Heading 1", 16, HEI), ("Heading 2", 14, HEI)):
        style = styles[name]
        style.font.size = Pt(size)  # 二号, 三号, 四号
        style.font.bold = name != "Title"
        style.font.color.rgb = RGBColor(0, 0, 0)
        _fonts(style.element.get_or_add_rPr(), east_asia)
        style.paragraph_format.space_before = Pt(12 if name != "Heading 2" else 8)
        style.paragraph_format.space_after = Pt(6)
    title = styles["Title"]
    title.paragraph_format.alignment = 1  # centred
    borders = title.element.get_or_add_pPr().find(qn("w:pBdr"))
    if borders is not None:  # the template underlines the title in blue
        title.element.get_or_add_pPr().remove(borders)
    table = styles["Table Grid"]
    table.font.size = Pt(10.5)  # 五号
    _font_table(doc)


def _font_table(doc: Any) -> None:
    """List 宋体 and 黑体 with their Latin names and the GB2312 character set (see the module docstring)."""
    from lxml import etree

    part = next((p for p in doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml"), None)
    if part is None:
        return
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    root = etree.fromstring(part.blob)
    for name, alt in ALT_NAMES.items():
        font = etree.SubElement(root, f"{{{w}}}font", {f"{{{w}}}name": name})
        etree.SubElement(font, f"{{{w}}}altName", {f"{{{w}}}val": alt})
        etree.SubElement(font, f"{{{w}}}charset", {f"{{{w}}}val": "86"})
        etree.SubElement(font, f"{{{w}}}family", {f"{{{w}}}val": "auto" if name == SONG else "modern"})
        etree.SubElement(font, f"{{{w}}}pitch", {f"{{{w}}}val": "variable" if name == SONG else "fixed"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page(doc: Any, scored: RoundScore, issue: Issue, standing: Standing, lang: str) -> None:
    """A4 with GB/T 9704's margins; header, footer and watermark on every page."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.shared import Cm, Pt, Twips

    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.header_distance, section.footer_distance = Cm(1.5), Cm(2.0)
    head = section.header.paragraphs[0]
    tabs = head.paragraph_format.tab_stops
    for twips in (4680, 9360):  # the template's header tabs, for a Letter page
        tabs.add_tab_stop(Twips(twips), WD_TAB_ALIGNMENT.CLEAR)
    tabs.add_tab_stop(Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT)
    _run(head, plain(header_text(scored, issue, lang)) + ("\t" + plain(issue.number) if issue.number else ""), size=9)
    for notice in notices(scored, standing, lang, short=True):
        para = section.header.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(para, notice, size=9, bold=True, color=RED)
    if standing.provisional:
        _watermark(head, mark(lang))
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    before, middle, after = page_of(lang)
    for text, code in ((before, "PAGE"), (middle, "NUMPAGES"), (after, None)):
        if text:
            _run(foot, text, size=9)
        if code:
            _field(foot, code)
    foot.paragraph_format.space_after = Pt(0)


def _watermark(paragraph: Any, text: str) -> None:
    """A diagonal, pale red word behind the text of every page (the VML shape Word itself writes)."""
    from docx.oxml import parse_xml

    shape = (
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">'
        '<w:pict><v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800" '
        'path="m@7,l@8,m@5,21600l@6,21600e"><v:path textpathok="t" o:connecttype="custom"/>'
        '<v:textpath on="t" fitshape="t"/></v:shapetype>'
        '<v:shape id="PowerPlusWaterMarkObject1" o:spid="_x0000_s1025" type="#_x0000_t136" '
        'style="position:absolute;margin-left:0;margin-top:0;width:420pt;height:105pt;rotation:315;'
        'z-index:-251657216;mso-position-horizontal:center;mso-position-horizontal-relative:margin;'
        'mso-position-vertical:center;mso-position-vertical-relative:margin" o:allowincell="f" '
        f'fillcolor="#{RED}" stroked="f"><v:fill opacity=".18"/>'
        f'<v:textpath style="font-family:&quot;{HEI}&quot;;font-size:1pt" string="{xml_text(text)}"/>'
        "</v:shape></w:pict></w:r>")
    paragraph._p.append(parse_xml(shape))


def _field(paragraph: Any, code: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in when they lay out the pages."""
    from docx.oxml import parse_xml

    paragraph._p.append(parse_xml(
        '<w:fldSimple xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        f'w:instr=" {code} "><w:r><w:rPr><w:sz w:val="18"/></w:rPr><w:t>1</w:t></w:r></w:fldSimple>'))


def _run(paragraph: Any, text: str, size: float | None = None, bold: bool = False, color: str | None = None) -> Any:
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(text)
    if size:
        run.font.size = Pt(size)
    if bold:
        run.font.bold = True
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    return run


def _properties(doc: Any, title: str, issue: Issue, lang: str) -> None:
    """The document's own properties, dated by --date (else a fixed day): no time of the run."""
    props = doc.core_properties
    when = dt.datetime.combine(issue.date, dt.time(), dt.UTC) if issue.date else FIXED_TIME
    props.title = plain(title)
    props.subject = plain(issue.number)
    props.author = plain(issue.office) or "gapctl"
    props.last_modified_by = "gapctl"
    props.comments = ""
    props.keywords = ""
    props.revision = 1
    props.created = props.modified = when
    props.last_printed = when
    props.language = "zh-CN" if lang == "zh" else "en"


def _drop_template_leftovers(doc: Any) -> None:
    """python-docx's template brings a thumbnail of an empty page (a file manager would show it for
    the report) and Japanese as the theme's East-Asian language."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn

    package = doc.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rel_id]
    theme_lang = doc.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")


def _stable_zip(data: bytes) -> bytes:
    """The package again with every entry at one fixed time and in one order: same document, same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        names = source.namelist()
        first = [n for n in names if n == "[Content_Types].xml"]  # Word reads it first
        for name in first + sorted(n for n in names if n not in first):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(name))
    return out.getvalue()


# --- tables --------------------------------------------------------------------------------

def _ranking_table(body: _Body, members: list[UnitScore], lang: str, ranked: bool = True) -> None:
    has_grade = any(s.grade for s in members)
    head = [in_lang("Rank", lang)] if ranked else []
    head += [in_lang("Unit", lang), in_lang("Base", lang), in_lang("Total", lang)]
    head += [in_lang("Grade", lang)] if has_grade else []
    head += [in_lang("Flags", lang)]
    widths = ([1.3] if ranked else []) + [0.0, 2.1, 2.1] + ([1.6] if has_grade else []) + [2.8]
    name = 1 if ranked else 0
    widths[name] = TEXT_WIDTH_CM - sum(widths)
    rows = []
    for s in members:
        row = [str(rank_of(s))] if ranked else []
        row += [name_in(s.unit, lang), fixed(s.base, s.scheme.scoring.places), total_text(s)]
        row += [written(s.grade, s.grade_en, lang) or ""] if has_grade else []
        row += [", ".join(flag_labels(s, lang))]
        rows.append(row)
    body.table(head, rows, widths, {0, 2, 3} if ranked else {1, 2})


def unit_xml(s: UnitScore, n: int, lang: str, ranked: bool = True) -> str:
    """The section of unit number `n` (its heading, figures and problem list) as WordprocessingML."""
    body = _Body()
    _unit_problems(body, s, n, lang, ranked)
    return "".join(body.parts)


def _method(body: _Body, scored: RoundScore, lang: str) -> None:
    """三、计分方法和假定: as the report's overview says it (gapctl.report.method)."""
    from gapctl.report.method import method

    found = method(scored, lang)
    body.para(in_lang("3. Method and assumptions", lang), style="Heading1")
    for scheme in found.schemes:
        body.para(scheme.title, style="Heading2")
        for label, text in scheme.facts:
            body.para(pair(label, text, lang))
    body.para(in_lang("Assumptions (not published)", lang), style="Heading2")
    if not found.assumptions:
        body.para(in_lang("None: every figure is as published.", lang))
        return
    body.para(in_lang("Where the published documents are silent, these files assume what follows; the results "
                      "rest on them.", lang))
    for heading, entries in found.assumptions:
        body.table([heading, in_lang("Why", lang)], ([what, why] for what, why in entries), [6.0, 9.6], set())


def _unit_problems(body: _Body, s: UnitScore, n: int, lang: str, ranked: bool = True) -> None:
    """A unit's heading, its total, grade and rank, its vetoes and its problem list."""
    from gapctl.scheme.constructs.vetoes import effects_text

    body.para(in_lang("({number}) {name}", lang).format(number=n, name=name_in(s.unit, lang)), style="Heading2")
    facts = [in_lang("Total", lang) + f" {total_text(s)}"]
    if s.grade:
        facts.append(in_lang("Grade", lang) + f" {written(s.grade, s.grade_en, lang)}")
    if ranked:
        facts.append(in_lang("Rank", lang) + f" {rank_of(s)}" + ("" if s.scheme.publishes_ranking else
                                                                  in_lang(" (not published)", lang)))
    line = facts[0]
    for fact in facts[1:]:
        line = in_lang("{first}, {then}", lang).format(first=line, then=fact)
    body.para(line)
    for veto in s.vetoed:
        body.para(pair(in_lang("Veto {veto}", lang).format(veto=name_in(veto, lang)),
                               effects_text(veto, s.scheme, lang), lang))
    found = problems(s, lang)
    if not found:
        body.para(in_lang("No points lost.", lang))
        return
    head = [in_lang("Where", lang), in_lang("lost", lang), in_lang("Reason", lang), in_lang("To fix", lang)]
    body.table(head, ([p.where, p.lost, p.reason, p.fix] for p in found), [4.6, 1.4, 4.8, 4.8], {1})


def _provenance(body: _Body, provenance: Any, lang: str) -> None:
    """附：数据来源: the commit, gapctl, the lock file, and every file used with its sha256 (in small type)."""
    from gapctl.report.markdown import FILES_LISTED
    from gapctl.review.provenance import HEADING, NOTE

    body.para(in_lang(HEADING, lang), style="Heading1", before=360)
    for name, value in provenance.lines(lang):
        body.para(pair(name, value, lang), run=_Run(size=9))
    if len(provenance.files) <= FILES_LISTED:
        body.para(in_lang(NOTE, lang), run=_Run(size=9))
        body.table([in_lang("File", lang), "sha256"], ([path, digest] for path, digest in provenance.files),
                   [6.0, TEXT_WIDTH_CM - 6.0], set())
