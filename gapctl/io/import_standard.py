"""Scoring standards (评分标准) as published text → drafted clauses, caps and vetoes.

`read_standard(text, points)` reads a cell such as "未设置专栏扣3分；每缺少一项扣1分；最多扣5分；
发生失泄密事件的，实行一票否决" and drafts what the scheme language can say of it: clauses
(`per: once | each`, `max`), the row's floor, vetoes. Everything it drafts is marked `assumed`
by its caller (gapctl.io.import_scheme) with a note quoting the text, for the office to confirm;
what it cannot read is quoted as not understood. Numbers may be full-width or Chinese numerals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)  # exact (5.0 → 5); rounding= for the scan
    return value.normalize()


STANDARD_NOTE = "由导入程序从评分标准文字推断，请核对"
VETO_GRADE = "不合格"
PASS_SHARE = Decimal("0.6")  # the assumed 合格 line: 60 of 100 points
GRADES_NOTE = ("表中未给出等次；为使一票否决有等次可定，暂设合格（总分的60%即{line}分及以上）、不合格两档，"
               "请按方案的等次划分改写")

# full-width ASCII (U+FF01…FF5E) and the ideographic space folded one character for one, so that a
# position in the folded text is the same position in the published text
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_NUM = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十]{1,3}(?:点[零〇一二两三四五六七八九]{1,2})?|半)"
# where one clause ends and the next begins: ；; 。 line breaks, and numbering 1. 2、 (1) （一） ① ⑴ ⒈
_SPLIT_RE = re.compile(r"[;。\n]|(?:^|(?<=[\s,:、;。分]))\d{1,2}[.、](?!\d)"
                       r"|\(\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*\)|[\u2460-\u249b\u24f5-\u24fe\u2776-\u2793]")
_TRIM = frozenset(" \t,:、.!?")
# a cap on deductions: 最多扣2分, 扣完3分为止, 累计扣分不超过2分
_CAP_RE = re.compile(rf"(?:累计最多|最多累计|最多|最高|至多)\s*扣(?:除|减)?\s*{_NUM}\s*分(?:为止)?"
                     rf"|扣(?:完|满|至)\s*{_NUM}\s*分\s*(?:为止|即止)"
                     rf"|(?:累计)?扣分(?:累计)?(?:不超过|不得超过|不超出|最多|最高|上限为?)\s*{_NUM}\s*分")
# deductions stop at the indicator's points: 扣完为止, 本项分值扣完为止, 扣至0分为止
_FLOOR_RE = re.compile(r"扣(?:完|满|光)(?:本项|该项|此项)?(?:分值|分数)?(?:为止|即止)|扣至(?:0|零)\s*分?为止")
# a deduction of an amount: 扣3分, 再扣4分, 扣除0.5分, 扣1分/处
_AMOUNT_RE = re.compile(rf"(再)?扣(?:除|减)?\s*{_NUM}\s*分(?:\s*/\s*([处项条次个篇件份人天日期月]))?")
# a deduction of the whole indicator: 不得分, 该项得0分, 扣除本项全部分值
_ALL_RE = re.compile(r"不得分|不计分|不予计分|(?:得|记|计)\s*(?:0|零)\s*分"
                     r"|扣(?:除|减)?(?:本项|该项|此项)?全部分(?:值|数)?|扣(?:除|减)?(?:本项|该项|此项)(?:分值|分数|得分)")
_VETO_RE = re.compile(r"一票否决|单项否决")
# "通报1次扣1分" next to "通报2次扣2分" are tiers of one count, not clauses that add up
_COUNT_RE = re.compile(r"(?<![每\d.])(?:\d+|[一二两三四五六七八九十]{1,2})\s*(?:次|条|个|处|项|篇|件)")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def chinese_number(text: str) -> Decimal | None:
    """"3", "３", "0.5", "三", "十二", "二十", "半" (0.5), "零点五" -> a Decimal; None when not a number."""
    text = text.translate(_WIDTH).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return _decimal(text)
    if text == "半":
        return Decimal("0.5")
    whole, _, frac = text.partition("点")
    value = _chinese_integer(whole)
    if value is None or (frac and not all(c in _CN_DIGITS for c in frac)):
        return None
    return _decimal(f"{value}.{''.join(str(_CN_DIGITS[c]) for c in frac)}" if frac else str(value))


def _chinese_integer(text: str) -> int | None:
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    tens, sep, ones = text.partition("十")
    if not sep or len(tens) > 1 or len(ones) > 1 or (tens and tens not in _CN_DIGITS) \
            or (ones and ones not in _CN_DIGITS):
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def _shown(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class Standard:
    """One row's scoring text as drafted: clauses, vetoes, a floor, and what was made of each text."""

    clauses: list[dict[str, Any]] = field(default_factory=list)  # {id, name, deduct, per, max, when}
    vetoes: list[dict[str, Any]] = field(default_factory=list)  # {id, name}
    floor: Decimal | None = None  # the least the indicator earns (a cap on the whole row's deductions)
    notes: list[str] = field(default_factory=list)

    def note(self) -> str:
        return f"{STANDARD_NOTE}：{'；'.join(self.notes)}。"


def _trim(text: str, norm: str, start: int, end: int) -> tuple[str, str, int] | None:
    """text[start:end] without the punctuation and spaces around it: (published, folded, new start)."""
    while start < end and norm[start] in _TRIM:
        start += 1
    while end > start and norm[end - 1] in _TRIM:
        end -= 1
    return (text[start:end], norm[start:end], start) if start < end else None


def split_standard(text: str) -> list[str]:
    """A cell's text cut into its clauses at ；; 。 line breaks and numbering (1. 2、 (1) ①)."""
    norm = text.translate(_WIDTH)
    out: list[str] = []
    pos = 0
    for a, b in [*((m.start(), m.end()) for m in _SPLIT_RE.finditer(norm)), (len(norm), len(norm))]:
        piece = _trim(text, norm, pos, a)
        if piece:
            out.append(piece[0])
        pos = b
    return out


def _caps(norm: str) -> list[tuple[int, int, Decimal | None]]:
    """Caps on deductions: (start, end, N) for 最多扣N分 / 扣完N分为止, (start, end, None) for 扣完为止."""
    out: list[tuple[int, int, Decimal | None]] = []
    for m in _CAP_RE.finditer(norm):
        value = chinese_number(next(g for g in m.groups() if g))
        if value is not None:
            out.append((m.start(), m.end(), value))
    out += [(m.start(), m.end(), None) for m in _FLOOR_RE.finditer(norm)]
    return sorted(out, key=lambda c: c[0])


def _amounts(norm: str, caps: list[tuple[int, int, Decimal | None]]) -> list[tuple[re.Match[str], Decimal | None]]:
    """The deductions in a folded clause, caps left out: (match, amount), None for the whole points."""
    masked = list(norm)
    for start, end, _ in caps:
        masked[start:end] = "\0" * (end - start)
    text = "".join(masked)
    found: list[tuple[re.Match[str], Decimal | None]] = []
    for m in _AMOUNT_RE.finditer(text):
        value = chinese_number(m.group(2))
        if value is not None:
            found.append((m, value))
    found += [(m, None) for m in _ALL_RE.finditer(text)]
    return sorted(found, key=lambda f: f[0].start())


def _most(clauses: list[dict[str, Any]]) -> Decimal | None:
    """The most the clauses can take together; None when unbounded (per occurrence without max)."""
    total = Decimal(0)
    for clause in clauses:
        if clause.get("max") is not None:
            total += clause["max"]
        elif clause.get("per") == "each":
            return None
        else:
            total += clause["deduct"]
    return total


def read_standard(text: str, points: Decimal, first_veto: int = 1) -> Standard:
    """Draft clauses and vetoes from a row's 评分标准 text; vetoes are numbered from veto-<first_veto>.

    Each clause of the text (split by split_standard) is read as: 每…扣N分 / 扣N分/处 -> per: each;
    再扣N分 -> a further one-off; any other condition followed by 扣N分 -> a one-off; 不得分 / 得0分
    -> a one-off of the whole points; 最多扣N分 / 扣完N分为止 -> max on its clause (or, alone, on the
    row); 扣完为止 -> the default floor, noted; 一票否决 / 单项否决 -> a veto. Two one-offs that
    each name a count (通报1次扣1分, 通报2次扣2分) are tiers, left to the office.
    """
    entries: list[tuple[str, Any, str]] = []  # in the text's order: (clause, {…}, what), (veto, {…}, ""), (text, …, "")
    row_caps: list[tuple[str, Decimal | None]] = []
    vetoes: list[dict[str, Any]] = []
    for published in split_standard(text):
        norm = published.translate(_WIDTH)
        if _VETO_RE.search(norm):
            veto = {"id": f"veto-{first_veto + len(vetoes)}", "name": published}
            vetoes.append(veto)
            entries.append(("veto", veto, ""))
        caps = _caps(norm)
        amounts = _amounts(norm, caps)
        if not amounts:
            if caps:
                row_caps.extend((published, value) for _, _, value in caps)
            elif not _VETO_RE.search(norm):
                entries.append(("text", published, ""))
            continue
        # a clause runs to the end of its amount and of the caps that follow it
        ends = []
        for i, (match, _) in enumerate(amounts[:-1]):
            following = [e for s, e, _ in caps if match.end() <= s < amounts[i + 1][0].start()]
            ends.append(max([match.end(), *following]))
        bounds = [0, *ends, len(norm)]
        for (match, amount), start, end in zip(amounts, bounds[:-1], bounds[1:], strict=True):
            piece = _trim(published, norm, start, end)
            if piece is None:
                continue
            name, folded, offset = piece
            prefix = folded[:max(match.start() - offset, 0)]
            clause: dict[str, Any] = {"name": name}
            if amount is None:
                clause["deduct"] = points
                what = f"一次性扣除本项全部分值（{_shown(points)}分）"
            elif "每" in prefix or match.group(3):
                clause["deduct"], clause["per"] = amount, "each"
                what = f"每处扣{_shown(amount)}分"
            elif not _CJK_RE.search(prefix):
                entries.append(("text", name, ""))
                continue
            else:
                clause["deduct"] = amount
                what = f"再扣{_shown(amount)}分（一次性，另计）" if match.group(1) else f"一次性扣{_shown(amount)}分"
                if _COUNT_RE.search(prefix):
                    clause["counted"] = True
            for _, _, cap in (c for c in caps if start <= c[0] < end):
                if cap is None:
                    what += "，扣完为止（本项最低0分，即默认下限，无需另设）"
                elif clause.get("per") == "each" or cap < clause["deduct"]:
                    clause["max"] = min(cap, clause.get("max", cap))
                    what += f"，最多扣{_shown(clause['max'])}分"
            entries.append(("clause", clause, what))

    counted = [c for kind, c, _ in entries if kind == "clause" and c.pop("counted", False)]
    tiers = counted if len(counted) >= 2 else []
    out = Standard(vetoes=vetoes)
    for kind, item, what in entries:
        if any(item is c for c in tiers):
            if item is tiers[0]:
                quoted = "".join(f"“{c['name']}”" for c in tiers)
                out.notes.append(f"{quoted}疑为按次数分档扣分（可改用 deduction-tiers），未推断")
            continue
        if kind == "clause":
            clause = {"id": f"c{len(out.clauses) + 1}", **item}
            out.clauses.append(clause)
            out.notes.append(f"“{item['name']}”→{clause['id']}：{what}")
        elif kind == "veto":
            out.notes.append(f"“{item['name']}”→一票否决 {item['id']}（等次定为{VETO_GRADE}，见 vetoes）")
        else:
            out.notes.append(f"未能识别“{item}”")
    for published, cap in row_caps:
        most = _most(out.clauses)
        if cap is None or cap >= points:
            out.notes.append(f"“{published}”→本项扣完为止（最低0分，即默认下限，无需另设）")
        elif most is not None and most <= cap:
            out.notes.append(f"“{published}”→各条款合计至多扣{_shown(most)}分，无需另设")
        elif len(out.clauses) == 1:
            clause = out.clauses[0]
            clause["max"] = min(cap, clause.get("max", cap))
            out.notes.append(f"“{published}”→{clause['id']}最多扣{_shown(clause['max'])}分")
        elif out.clauses:
            out.floor = max(points - cap, out.floor or Decimal(0))
            out.notes.append(f"“{published}”→本项合计最多扣{_shown(cap)}分，即最低记{_shown(out.floor)}分（floor）")
        else:
            out.notes.append(f"未能识别“{published}”（无可限定的扣分条款）")
    if vetoes and not out.clauses and points > 0:  # a veto row: its own points go with the veto
        veto = vetoes[0]
        out.clauses.append({"id": "c1", "name": veto["name"], "deduct": points, "when": f"fact({veto['id']})"})
        out.notes.append(f"本行只有否决条件：记录 facts: {{{veto['id']}: true}} 时 c1 扣除本项全部分值"
                         f"（{_shown(points)}分）")
    return out


