#!/usr/bin/env python3
"""Generate a synthetic, deterministic assessment repository for benchmarks.

    python benchmarks/generate.py --units N --indicators K --seed S --out DIR [--format yaml|toml]

writes DIR/schemes/bench.<ext>, DIR/units/bench.<ext>, DIR/rounds/bench/round.toml and
DIR/rounds/bench/observations/<unit-id>.<ext> (one per unit), following the README's "Data format",
and prints the round directory as the last line of stdout.

The same arguments always give byte-identical files: all randomness comes from
random.Random seeded with the seed (one stream for the scheme and units, one per unit
for its observations), nothing depends on the clock, and every iteration is ordered.
Files are written by a small hand-rolled emitter (no PyYAML needed) because it is fast
and keeps the layout under control: indicator ids quoted, Chinese text unescaped.
Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
import re
import shutil
import sys
import time
from pathlib import Path

SCHEME_ID = "bench"
UNITSET_ID = "bench"
ROUND_ID = "bench"

# --------------------------------------------------------------------------------------
# Emitters: a value is a str (text), Raw (number or date, written as is), bool,
# list (of scalars -> flow list; of mappings -> block list), dict (block mapping) or
# Flow (a mapping written inline: {a: 1} / { a = 1 }).
# --------------------------------------------------------------------------------------


class Raw(str):
    """Text written verbatim: numbers and dates."""


class Flow(dict):
    """A mapping written inline."""


_YAML_PLAIN = re.compile(
    r"[A-Za-z\u3001-\u303f\u4e00-\u9fff\uff01-\uffef《“（][^\x00-\x1f\"#'\\,\[\]{}:]*\Z"
)
_YAML_RESERVED = {
    "y", "n", "yes", "no", "on", "off", "true", "false", "null",
}
_URL = re.compile(r"https?://[A-Za-z0-9._~/?=&%-]+\Z")


def _quote(s: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar and a valid TOML basic string.
    return json.dumps(s, ensure_ascii=False)


def yaml_str(s: str) -> str:
    if (
        _YAML_PLAIN.match(s)
        and not s.endswith(" ")
        and s.lower() not in _YAML_RESERVED
    ) or _URL.match(s):
        return s
    return _quote(s)


class Quoted(str):
    """Text that is always quoted (indicator ids, hashes)."""


def _yaml_scalar(v) -> str:
    if isinstance(v, Raw):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Quoted):
        return _quote(v)
    if isinstance(v, str):
        return yaml_str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Flow):
        return "{" + ", ".join(f"{k}: {_yaml_scalar(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_yaml_scalar(x) for x in v) + "]"
    raise TypeError(f"cannot emit {type(v).__name__}")


def _yaml_block(d: dict, ind: int, out: list[str]) -> None:
    pad = " " * ind
    for k, v in d.items():
        if type(v) is dict:
            if v:
                out.append(f"{pad}{k}:")
                _yaml_block(v, ind + 2, out)
            else:
                out.append(f"{pad}{k}: {{}}")
        elif type(v) is list and v and isinstance(v[0], dict):
            out.append(f"{pad}{k}:")
            for item in v:  # block sequences not indented, as PyYAML writes them
                if isinstance(item, Flow):
                    out.append(f"{pad}- {_yaml_scalar(item)}")
                    continue
                start = len(out)
                _yaml_block(item, ind + 2, out)
                out[start] = f"{pad}- {out[start][ind + 2:]}"
        else:
            out.append(f"{pad}{k}: {_yaml_scalar(v)}")


def to_yaml(doc: dict, header: str = "") -> str:
    out: list[str] = [f"# {line}" for line in header.splitlines()]
    _yaml_block(doc, 0, out)
    return "\n".join(out) + "\n"


_TOML_BARE = re.compile(r"[A-Za-z0-9_-]+\Z")


def _toml_key(k: str) -> str:
    return k if _TOML_BARE.match(k) else _quote(k)


def _toml_scalar(v) -> str:
    if isinstance(v, Raw):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return _quote(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Flow):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_scalar(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        if v and isinstance(v[0], Flow):
            return "[\n" + "".join(f"  {_toml_scalar(x)},\n" for x in v) + "]"
        return "[" + ", ".join(_toml_scalar(x) for x in v) + "]"
    raise TypeError(f"cannot emit {type(v).__name__}")


def _is_table(v) -> bool:
    return type(v) is dict


def _is_aot(v) -> bool:
    return type(v) is list and bool(v) and type(v[0]) is dict


def _toml_table(d: dict, path: str, out: list[str]) -> None:
    for k, v in d.items():
        if not (_is_table(v) or _is_aot(v)):
            out.append(f"{_toml_key(k)} = {_toml_scalar(v)}")
    for k, v in d.items():
        sub = f"{path}.{_toml_key(k)}" if path else _toml_key(k)
        if _is_table(v):
            out.append("")
            out.append(f"[{sub}]")
            _toml_table(v, sub, out)
        elif _is_aot(v):
            for item in v:
                out.append("")
                out.append(f"[[{sub}]]")
                _toml_table(item, sub, out)


def to_toml(doc: dict, header: str = "") -> str:
    out: list[str] = [f"# {line}" for line in header.splitlines()]
    _toml_table(doc, "", out)
    return "\n".join(out) + "\n"


def pts(tenths: int) -> Raw:
    """Points held as integer tenths, written as 3 or 1.5."""
    q, r = divmod(tenths, 10)
    return Raw(str(q) if r == 0 else f"{q}.{r}")


# --------------------------------------------------------------------------------------
# Catalogue: the shape of a Suizhou/Yanjiang-like scheme. 60 leaf templates.
# Leaf: (name, preferred kind, methods, checkpoints, basis key, applies key, hint points, items)
# --------------------------------------------------------------------------------------

METHODS = {
    "W": "网络测评", "P": "电话测评", "X": "线下测评", "S": "实地测评", "E": "专家测评",
    "L": "信函测评", "M": "材料报送", "Q": "模拟办事群众", "D": "日常考核", "C": "查阅资料",
}

BASIS = {
    "t20": "《中华人民共和国政府信息公开条例》第二十条，“行政机关应当依照本条例第十九条的规定，主动公开本行政机关的相关政府信息。”",
    "t24": "《中华人民共和国政府信息公开条例》第二十四条，“各级人民政府应当加强依托政府门户网站公开政府信息的工作”。",
    "t25": "《中华人民共和国政府信息公开条例》第二十五条，“各级人民政府应当在国家档案馆、公共图书馆、政务服务场所设置政府信息查阅场所”。",
    "t27": "《中华人民共和国政府信息公开条例》第二十七条至第四十五条关于依申请公开的规定。",
    "t33": "《中华人民共和国政府信息公开条例》第三十三条，“行政机关收到政府信息公开申请，能够当场答复的，应当当场予以答复”。",
    "t49": "《中华人民共和国政府信息公开条例》第四十九条、第五十条关于政府信息公开工作年度报告的规定。",
    "yd21": "《国务院办公厅关于印发2021年政务公开工作要点的通知》（国办发〔2021〕12号）。",
    "yd20": "《国务院办公厅关于印发2020年政务公开工作要点的通知》（国办发〔2020〕17号）。",
    "jdhy": "《国务院办公厅关于在政务公开工作中进一步做好政务舆情回应的通知》（国办发〔2016〕61号）。",
    "xmt": "《国务院办公厅关于推进政务新媒体健康有序发展的意见》（国办发〔2018〕123号）。",
    "wz": "《政府网站发展指引》（国办发〔2017〕47号）。",
    "jc": "《国务院办公厅关于全面推进基层政务公开标准化规范化工作的指导意见》（国办发〔2019〕54号）。",
    "ss": "中办、国办《关于全面推进政务公开工作的意见》及其实施细则（国办发〔2016〕80号）。",
}

APPLIES = {
    None: None,
    "lic": {"tags": ["licensing"]},
    "pen": {"tags": ["penalty_power"]},
    "mkt": {"tags": ["market_regulation"]},
    "fees": {"tags": ["fees"]},
    "rural": {"unit_types": ["镇街道"], "tags": ["rural"]},
    "pilot": {"tags": ["pilot"]},
    "gov": {"unit_types": ["区县政府"]},
    "town": {"unit_types": ["镇街道"]},
    "dept": {"unit_types": ["市政府部门"]},
    "govtown": {"unit_types": ["区县政府", "镇街道"]},
}

AON, ITEMS, COUNT, PROP, DED, PER, EXPERT = (
    "all-or-nothing", "items", "count-tiers", "proportional",
    "deduction-tiers", "per-occurrence", "expert-grade",
)
TREE_KINDS = (AON, ITEMS, COUNT, PROP, DED, PER, EXPERT)
VARIANT = "variant"  # 政务开放日: count tiers for towns/governments, all-or-nothing otherwise

# (top name, name_en, slug, [(sub name, name_en, [leaves])])
CATALOGUE = [
    ("公开平台", "Disclosure platforms", "gkpt", [
        ("政府网站", "Government website", [
            ("网站栏目设置", AON, "W", "评估政府信息公开专栏栏目设置是否规范、栏目链接是否有效", "wz", None, 2, None),
            ("信息更新及时性", DED, "WD", "评估网站各栏目更新情况，出现空白栏目、长期未更新栏目的按次数扣分", "wz", None, 2, None),
            ("检索功能可用性", AON, "W", "评估网站站内检索、政府公报、互动咨询等功能的可用性和实用性", "t24", None, 1, None),
            ("网站错敏信息", PER, "WD", "评估网站发布信息中的错别字、敏感信息、泄露个人隐私等问题", "wz", None, 2, None),
        ]),
        ("政务新媒体", "Government new media", [
            ("政务新媒体工作", DED, "D", "落实新媒体工作制度；被通报1次扣1分，2次扣2分，3次及以上扣全部分值", "xmt", None, 3, None),
            ("新媒体信息同步发布", PROP, "W", "评估政务新媒体与政府网站重要信息的同步发布比例", "xmt", None, 1, None),
            ("新媒体互动回复", AON, "WP", "评估政务新媒体留言互动回复的及时性和规范性", "xmt", None, 1, None),
        ]),
        ("线下公开渠道", "Offline channels", [
            ("政务公开专区建设", PROP, "S", "按建设标准完成政务公开专区（查阅点）建设得满分；未完成的按建设进度计分", "t25", None, 4, None),
            ("政府信息查阅点", ITEMS, "SX", "评估政府信息查阅点的场所标识、查阅设备、专人值守和资料配备情况", "t25", None, 2,
             [("sign", "场所标识清晰"), ("device", "配备查阅设备"), ("staff", "安排专人值守"), ("docs", "公开资料齐全")]),
            ("信息公告栏", AON, "S", "评估办事大厅、村（社区）信息公告栏的设置和更新情况", "t25", "govtown", 1, None),
        ]),
        ("咨询服务", "Enquiry service", [
            ("咨询电话畅通", COUNT, "P", "工作时间拨打公布的政务公开咨询电话三次，按接通次数计分", "ss", None, 2, None),
            ("咨询答复准确性", AON, "PQ", "以模拟办事群众身份咨询，评估答复内容的准确性和规范性", "ss", None, 1, None),
        ]),
    ]),
    ("主动公开", "Proactive disclosure", "zdgk", [
        ("基础信息公开", "Basic information", [
            ("机构职能", AON, "W", "评估机构职能、负责人信息、内设机构、办公地址等信息的公开情况", "t20", None, 1, None),
            ("权责清单", AON, "W", "评估全面、规范公开权责清单，以及清单动态调整情况", "yd20", None, 1, None),
            ("政策文件", ITEMS, "W", "评估规范性文件发布、清理结果发布、集中发布及其他文件主动公开情况", "t20", None, 4,
             [("norm", "规范性文件发布"), ("cleanup", "清理结果发布"), ("collect", "现行有效文件集中发布"), ("other", "其他文件主动公开")]),
            ("财政预决算", ITEMS, "W", "评估及时公开本部门及所属单位财政预算、决算和“三公”经费的情况", "yd21", None, 3,
             [("budget", "部门预算公开"), ("final", "部门决算公开"), ("sangong", "“三公”经费公开")]),
            ("行政事业性收费", AON, "W", "评估全面、规范公开行政事业性收费项目及其依据、标准的情况", "t20", "fees", 1, None),
            ("公务员招考", AON, "W", "评估全面公开公务员招考的职位、名额、报考条件及录用结果的情况", "t20", None, 1, None),
            ("建议提案办理结果", ITEMS, "WP", "评估公开人大代表建议、政协委员提案答复全文、办理动态和年度总体情况", "yd20", None, 2,
             [("reply", "答复全文公开"), ("progress", "办理工作动态"), ("summary", "办理总体情况")]),
        ]),
        ("决策与执行公开", "Decisions and implementation", [
            ("重大决策预公开", ITEMS, "W", "评估围绕重大决策开展草案公开、意见征集和采纳情况反馈的情况", "ss", None, 4,
             [("draft", "决策草案公开"), ("consult", "公开征求意见"), ("feedback", "意见采纳情况反馈")]),
            ("规划信息", AON, "W", "评估“十四五”规划及历史规划信息的发布情况", "yd21", None, 3, None),
            ("政府常务会议公开", AON, "W", "评估政府常务会议召开情况及会议内容的公开情况", "yd20", "gov", 2, None),
            ("政策执行与督查结果", AON, "W", "评估重大政策执行措施、实施进度和督查结果的公开情况", "ss", None, 1, None),
        ]),
        ("管理服务公开", "Administration and services", [
            ("行政许可和其他管理服务信息", AON, "WX", "评估线上、线下渠道公开的行政许可信息的一致性，以及行政许可结果双公示情况", "t20", "lic", 1, None),
            ("行政处罚强制等信息", ITEMS, "W", "评估行政处罚、行政强制的依据、条件、程序及执法结果的公开情况", "t20", "pen", 2,
             [("basis", "执法依据公开"), ("procedure", "执法程序公开"), ("result", "执法结果公开")]),
            ("市场规则标准和监管执法信息", AON, "W", "评估市场监管规则标准、“双随机、一公开”信息的公开情况", "yd21", "mkt", 2, None),
            ("政务服务事项办事指南", EXPERT, "WQ", "以模拟办事群众方式评估办事指南要素的完备性和准确性", "ss", "lic", 2, None),
        ]),
        ("重点领域公开", "Key areas", [
            ("财政资金直达基层", AON, "W", "评估财政资金直达基层专栏建设及重要政策、工作进展的公开情况", "yd21", None, 2, None),
            ("稳岗就业", AON, "W", "评估就业领域重要政策、重要活动信息的公开情况", "yd21", None, 2, None),
            ("疫情防控", AON, "W", "评估疫情防控专栏建设及权威通知公告、防疫服务信息的公开情况", "yd21", None, 2, None),
            ("乡村振兴", AON, "W", "评估巩固脱贫攻坚成果、乡村振兴重要政策和工作进展的公开情况", "yd21", "rural", 2, None),
            ("养老服务", AON, "W", "评估养老服务政策、服务机构和补贴信息的公开情况", "yd21", None, 2, None),
            ("惠民惠农资金发放", PROP, "W", "评估惠民惠农政策和资金发放信息的公开比例", "yd21", "rural", 3, None),
        ]),
        ("基层政务公开标准化", "Grassroots standardisation", [
            ("基层政务公开事项目录", ITEMS, "WC", "评估基层政务公开事项目录的编制、动态调整和标准指引落实情况", "jc", "town", 3,
             [("catalog", "目录编制公开"), ("update", "目录动态调整"), ("guide", "标准指引落实")]),
            ("村（居）务公开衔接", AON, "S", "评估政务公开与村（居）务公开的衔接情况", "jc", "town", 1, None),
            ("标准化规范化试点成效", EXPERT, "EC", "专家评估试点领域标准化规范化建设成效", "jc", "pilot", 2, None),
        ]),
    ]),
    ("依申请公开", "Disclosure on request", "ysqgk", [
        ("申请渠道", "Request channels", [
            ("申请渠道畅通", ITEMS, "WL", "评估在线申请、信函申请、当面申请等渠道的畅通情况", "t27", None, 2,
             [("online", "在线申请渠道"), ("letter", "信函申请渠道"), ("inperson", "当面申请渠道")]),
            ("信函申请测试", AON, "L", "以信函方式提交政府信息公开申请，评估受理和答复情况", "t27", None, 1, None),
        ]),
        ("答复办理", "Replies", [
            ("答复及时性", DED, "LD", "评估依申请公开答复是否在法定期限内作出，每发现超期答复按次数扣分", "t33", None, 2, None),
            ("答复形式规范性", AON, "L", "评估答复书的格式、告知要素、救济渠道等是否规范", "t27", None, 1, None),
            ("答复内容规范性", EXPERT, "E", "专家评估答复内容的针对性、准确性和法律适用情况", "t27", None, 2, None),
            ("行政复议诉讼纠错", PER, "D", "因依申请公开答复被行政复议撤销或被法院判决败诉的，每件扣分", "t27", None, 1, None),
        ]),
    ]),
    ("解读回应", "Interpretation and response", "jdhy", [
        ("政策解读", "Policy interpretation", [
            ("解读材料同步发布", PROP, "W", "评估规范性文件与解读材料同步发布的比例", "yd21", None, 3, None),
            ("政策解读质量", EXPERT, "E", "专家评估政策解读的要素完备性、针对性和通俗性", "yd21", None, 2, None),
            ("多元化解读", COUNT, "W", "评估图解、视频、问答等解读形式的运用情况，按形式数量计分", "yd21", None, 2, None),
        ]),
        ("回应关切", "Responding to concerns", [
            ("政务舆情回应", AON, "WD", "评估涉及本单位的重大政务舆情回应是否及时、准确", "jdhy", None, 2, None),
            ("市（区）长信箱办理", DED, "WD", "评估市（区）长信箱来信是否按程序、按时限办理回复，超期按次数扣分", "jdhy", None, 3, None),
            ("新闻发布会", COUNT, "WC", "评估全年举办新闻发布会的场次，按场次计分", "jdhy", "gov", 2, None),
        ]),
        ("公众参与", "Public participation", [
            ("政务开放日", VARIANT, "CS", "镇（街道）、区县政府考核“政务开放日”活动开展次数；部门考核“主要领导、分管领导进大厅”活动", "yd21", None, 4, None),
            ("政务协商活动", COUNT, "C", "每年开展“政务事项协商”活动2次得部分分值，3次及以上得满分", "jc", "town", 2, None),
            ("政民互动", AON, "W", "评估网上调查、意见征集、在线访谈等政民互动栏目的运行情况", "ss", None, 1, None),
        ]),
    ]),
    ("组织保障", "Organisation and support", "zzbz", [
        ("组织领导", "Leadership", [
            ("组织领导", ITEMS, "C", "明确分管领导、主要领导研究部署政务公开工作、领导协调解决问题", "ss", None, 4,
             [("leader", "明确分管领导"), ("deploy", "主要领导研究部署"), ("coordinate", "领导协调解决问题")]),
            ("机构保障", ITEMS, "C", "指定工作机构、设立专职工作人员、落实经费保障", "ss", None, 3,
             [("office", "指定工作机构"), ("staff", "设立专职工作人员"), ("funds", "落实经费保障")]),
        ]),
        ("制度建设", "Rules", [
            ("制度清单", ITEMS, "C", "制定主动公开、保密审查、政务开放日、发布协调等制度，每缺一项扣除相应分值", "ss", None, 5,
             [("proactive", "主动公开制度"), ("secrecy", "保密审查制度"), ("openday", "政务开放日制度"), ("coordination", "发布协调制度")]),
            ("制度落实情况", AON, "C", "落实政务信息公开审查制度（主动公开、新媒体账号信息、保密审查等）", "ss", None, 2, None),
        ]),
        ("年度报告", "Annual report", [
            ("年报按时发布", AON, "W", "评估政府信息公开工作年度报告是否在规定时间前发布", "t49", None, 1, None),
            ("年报质量", EXPERT, "E", "专家评估年度报告的格式规范性、数据准确性和内容完整性", "t49", None, 3, None),
        ]),
        ("培训与考核", "Training and appraisal", [
            ("业务培训", COUNT, "C", "评估全年组织政务公开业务培训的次数，按次数计分", "ss", None, 2, None),
            ("日常任务完成", PROP, "D", "评估政务信息公开年度报送及临时性任务的完成比例", "ss", None, 4, None),
            ("佐证材料报送", AON, "M", "评估佐证材料是否按时、按项目分类报送", "ss", None, 1, None),
        ]),
    ]),
]

GENERIC_ITEMS = [("complete", "内容完整"), ("timely", "更新及时"), ("accurate", "信息准确"), ("standard", "格式规范")]

TAGS = {
    "licensing": "提供行政许可等服务的部门",
    "penalty_power": "具有行政处罚等职权的部门",
    "market_regulation": "具有市场监管职能的部门",
    "fees": "涉及行政事业性收费的部门",
    "rural": "涉及乡村振兴工作的单位",
    "pilot": "基层政务公开标准化规范化试点单位",
}

GOV, DEPT, TOWN = "区县政府", "市政府部门", "镇街道"

DEPT_NAMES = [
    "市发展和改革委员会", "市教育局", "市科学技术局", "市工业和信息化局", "市公安局", "市民政局",
    "市司法局", "市财政局", "市人力资源和社会保障局", "市自然资源和规划局", "市生态环境局",
    "市住房和城乡建设局", "市交通运输局", "市水利局", "市农业农村局", "市商务局", "市文化和旅游局",
    "市卫生健康委员会", "市退役军人事务局", "市应急管理局", "市审计局", "市市场监督管理局",
    "市统计局", "市医疗保障局", "市林业局", "市城市管理局", "市行政审批服务局", "市信访局",
    "市地方金融监督管理局", "市机关事务管理局", "市人民防空办公室", "市乡村振兴局",
]
DEPT_TAGS = {  # realistic attributes for the named departments
    "市发展和改革委员会": ["fees"], "市教育局": ["licensing", "penalty_power", "fees"],
    "市公安局": ["licensing", "penalty_power", "fees"], "市民政局": ["licensing", "rural"],
    "市财政局": ["fees"], "市自然资源和规划局": ["licensing", "penalty_power", "fees"],
    "市生态环境局": ["licensing", "penalty_power"], "市住房和城乡建设局": ["licensing", "penalty_power", "fees"],
    "市交通运输局": ["licensing", "penalty_power"], "市水利局": ["licensing", "penalty_power", "rural"],
    "市农业农村局": ["licensing", "penalty_power", "rural"], "市商务局": ["licensing"],
    "市文化和旅游局": ["licensing", "penalty_power"], "市卫生健康委员会": ["licensing", "penalty_power", "fees"],
    "市应急管理局": ["licensing", "penalty_power"], "市市场监督管理局": ["licensing", "penalty_power", "market_regulation", "fees"],
    "市医疗保障局": ["penalty_power"], "市林业局": ["licensing", "penalty_power", "rural"],
    "市城市管理局": ["licensing", "penalty_power"], "市行政审批服务局": ["licensing", "market_regulation"],
    "市乡村振兴局": ["rural"],
}

PLACE_CHARS = "青山东湖西河南岭北江安宁永丰平和兴华阳新城金石龙泉白云长乐光明清水桃园凤凰高桥沙坪马鞍"
TOWN_CHARS = "东西南北中上下前后大小新老杨柳桥河湾坪坝岗庄店集口沟塘林溪泉峰岩湖田堡"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
CN_NUM = "一二三四五六七八九十"

COLLECTION_START = _dt.date(2022, 1, 5)
COLLECTION_DAYS = 16
EVIDENCE_DAYS = 180  # evidence captured in the half year before collection ends


def cn_num(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    return str(n)


# --------------------------------------------------------------------------------------
# Scheme
# --------------------------------------------------------------------------------------


class Leaf:
    __slots__ = (
        "id", "name", "kind", "tenths", "methods", "checkpoints", "basis", "applies",
        "items", "item_tenths", "tiers", "deduct", "step", "slug", "variant_when",
    )


def _split_largest_remainder(total: int, weights: list[float], mins: list[int]) -> list[int]:
    rest = total - sum(mins)
    if rest < 0:
        raise ValueError
    wsum = sum(weights)
    raw = [rest * w / wsum for w in weights]
    base = [int(r) for r in raw]
    left = rest - sum(base)
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return [m + b for m, b in zip(mins, base, strict=True)]


def _round_step(x: float, step: int) -> int:
    return max(step, int(x / step + 0.5) * step)


def build_scheme(k: int, rng: random.Random):
    """Return (scheme dict, list of leaves, bonus specs, penalty specs)."""
    flat = []  # (top index, sub index, leaf template)
    for ti, (_, _, _, subs) in enumerate(CATALOGUE):
        for si, (_, _, leaves) in enumerate(subs):
            for lt in leaves:
                flat.append((ti, si, lt))
    n_tpl = len(flat)
    if k <= n_tpl:
        chosen = sorted(rng.sample(range(n_tpl), k))
        picks = [(flat[i], 0) for i in chosen]
    else:
        picks = [(flat[i % n_tpl], i // n_tpl) for i in range(k)]
    # group: top -> (cycle, sub) -> leaves, in catalogue order
    tree: dict[int, dict[tuple[int, int], list]] = {}
    for (ti, si, lt), cycle in picks:
        tree.setdefault(ti, {}).setdefault((cycle, si), []).append((lt, cycle))

    leaves: list[Leaf] = []
    skeleton = []  # (top meta, [(sub meta, [leaf])])
    for t_pos, ti in enumerate(sorted(tree)):
        tname, tname_en, tslug, subs = CATALOGUE[ti]
        top_id = str(t_pos + 1)
        sub_list = []
        for s_pos, key in enumerate(sorted(tree[ti])):
            cycle, si = key
            sname, sname_en, _ = subs[si]
            if cycle:
                sname = f"{sname}（{cn_num(cycle + 1)}）"
                sname_en = f"{sname_en} ({cycle + 1})"
            sub_id = f"{top_id}.{s_pos + 1}"
            leaf_list = []
            for l_pos, (lt, lcycle) in enumerate(tree[ti][key]):
                name, kind, methods, checkpoints, basis, applies, hint, items = lt
                leaf = Leaf()
                leaf.id = f"{sub_id}.{l_pos + 1}"
                leaf.name = name if not lcycle else f"{name}（{cn_num(lcycle + 1)}）"
                leaf.kind = kind
                leaf.methods = [METHODS[c] for c in methods]
                leaf.checkpoints = checkpoints
                leaf.basis = BASIS[basis]
                leaf.applies = APPLIES[applies]
                leaf.items = items
                leaf.slug = tslug
                leaf.tenths = hint  # provisional weight
                leaf.variant_when = None
                leaf_list.append(leaf)
                leaves.append(leaf)
            sub_list.append(((sub_id, sname, sname_en), leaf_list))
        skeleton.append(((top_id, tname, tname_en), sub_list))

    # every tree rule kind must appear: turn all-or-nothing leaves into the missing kinds
    # (never the last leaf of a kind; prefer all-or-nothing leaves that apply to every unit)
    count = {kd: sum(lf.kind == kd for lf in leaves) for kd in (*TREE_KINDS, VARIANT)}
    for kd in TREE_KINDS:
        if count[kd]:
            continue
        pool = [lf for lf in leaves if lf.kind == VARIANT or count[lf.kind] > 1]
        if not pool:
            raise SystemExit(f"--indicators {k} is too small to hold every rule kind")

        def preference(lf: Leaf) -> tuple[bool, bool]:
            return lf.kind != AON, lf.applies is not None

        first = min(preference(lf) for lf in pool)
        best = [lf for lf in pool if preference(lf) == first]
        lf = best[rng.randrange(len(best))]
        count[lf.kind] -= 1
        count[kd] += 1
        lf.kind = kd

    # points: integer tenths summing to 1000, with per-kind minimums
    def mins_for(unit: int) -> list[int]:
        return [unit * (2 if lf.kind in (ITEMS, COUNT, DED, VARIANT) else 1) for lf in leaves]

    weights = [lf.tenths * rng.uniform(0.75, 1.3) for lf in leaves]
    for unit in (10, 5, 1):
        mins = mins_for(unit)
        if sum(mins) <= 1000:
            break
    else:
        raise SystemExit(f"--indicators {k} is too large: 100 points (in tenths) cannot give "
                         "every leaf its minimum")
    units_ = _split_largest_remainder(1000 // unit, weights, [m // unit for m in mins])
    tenths = [u * unit for u in units_]
    if unit == 10:
        # a few half points, as published schemes have them (moved in pairs: sums stay exact)
        for _ in range(max(1, len(leaves) // 8)):
            a, b = rng.sample(range(len(leaves)), 2)
            if tenths[a] - 5 >= mins[a]:
                tenths[a] -= 5
                tenths[b] += 5
    for lf, t in zip(leaves, tenths, strict=True):
        lf.tenths = t
        _set_rule_params(lf, rng)

    # the dict
    scheme_inds = []
    for (top_id, tname, tname_en), sub_list in skeleton:
        subs_out = []
        for (sub_id, sname, sname_en), leaf_list in sub_list:
            children = [_leaf_dict(lf) for lf in leaf_list]
            subs_out.append({
                "id": Quoted(sub_id), "name": sname, "name_en": sname_en,
                "points": pts(sum(lf.tenths for lf in leaf_list)), "children": children,
            })
        top_tenths = sum(lf.tenths for _, ll in sub_list for lf in ll)
        scheme_inds.append({
            "id": Quoted(top_id), "name": tname, "name_en": tname_en,
            "points": pts(top_tenths), "children": subs_out,
        })
    assert sum(lf.tenths for lf in leaves) == 1000

    bonus = [
        {"id": Quoted("B1"), "name": "总评分在90分以上", "points": pts(30),
         "checkpoints": "政务信息公开工作完成出色，基础得分在90分以上（含90分）加3分",
         "rule": {"kind": "threshold", "of": "base", "at_least": Raw("90")}},
        {"id": Quoted("B2"), "name": "先进经验被上级报道转发", "points": pts(50), "methods": ["材料报送"],
         "checkpoints": "政务公开工作先进经验被上级报道、转发的，加5分",
         "rule": {"kind": AON}},
        {"id": Quoted("B3"), "name": "信箱回复满意率排名前3名", "points": pts(20), "methods": ["日常考核"],
         "checkpoints": "市（区）长信箱回复满意率在同类单位中排名前3名的，加2分",
         "rule": {"kind": "rank", "measure": "mailbox_satisfaction", "top": Raw("3"), "among": "category"}},
        {"id": Quoted("B4"), "name": "承担政务公开试点任务", "points": pts(30), "methods": ["材料报送"],
         "checkpoints": "承担国家、省级政务公开试点任务并通过验收的，加3分",
         "rule": {"kind": AON}},
    ]
    penalty = [
        {"id": Quoted("P1"), "name": "被省、市通报批评", "methods": ["日常考核"],
         "checkpoints": "政务公开工作被省、市通报批评的每次扣5分，累计叠加，不计上限",
         "rule": {"kind": PER, "deduct": Raw("5")}},
        {"id": Quoted("P2"), "name": "发生错敏信息被督办", "methods": ["日常考核"],
         "checkpoints": "发布错误、敏感信息被上级督办的每次扣2分，最多扣10分",
         "rule": {"kind": PER, "deduct": Raw("2"), "cap": Raw("10")}},
    ]
    scheme = {
        "id": SCHEME_ID,
        "title": "基准测试市2021年政务公开考核评估指标体系（合成数据）",
        "place": "基准测试市",
        "year": Raw("2021"),
        "language": "zh-CN",
        "total_points": Raw("100"),
        "scoring": {"normalise": "applicable", "places": Raw("1")},
        "tags": dict(TAGS),
        "measures": [
            {"id": "mailbox_satisfaction", "name": "市（区）长信箱回复满意率", "higher_is_better": True},
            {"id": "reply_days", "name": "依申请公开平均答复天数", "higher_is_better": False},
        ],
        "indicators": scheme_inds,
        "bonus": {"name": "加分项", "cap": Raw("10"), "indicators": bonus},
        "penalty": {"name": "减分项", "indicators": penalty},
        "grades": [
            {"label": "优秀", "label_en": "excellent", "min": Raw("90")},
            {"label": "良好", "label_en": "good", "min": Raw("80")},
            {"label": "合格", "label_en": "pass", "min": Raw("60")},
            {"label": "不合格", "label_en": "fail", "min": Raw("0")},
        ],
        "flags": [
            {"id": "below-60", "label": "总得分低于60分，扣减绩效分", "label_en": "total below 60",
             "of": "total", "below": Raw("60")},
        ],
        "ranking": {"of": "total", "categories": [
            {"id": "gov", "name": "区县政府", "name_en": "district and county governments", "unit_types": [GOV]},
            {"id": "dept", "name": "市政府部门", "name_en": "city departments", "unit_types": [DEPT]},
            {"id": "town", "name": "镇街道", "name_en": "towns and streets", "unit_types": [TOWN]},
        ]},
        "conversion": {"points": Raw("4"), "label": "折算计入年度绩效考核（4分）"},
    }
    bonus_specs = [("B2", AON, 50, "先进经验被上级报道转发"), ("B4", AON, 30, "承担政务公开试点任务")]
    penalty_specs = [("P1", 50, None, "被省、市通报批评"), ("P2", 20, 100, "发生错敏信息被督办")]
    return scheme, leaves, bonus_specs, penalty_specs


def _set_rule_params(lf: Leaf, rng: random.Random) -> None:
    p = lf.tenths
    step = 5 if p % 5 == 0 else 1
    lf.step = step
    lf.items = lf.items if lf.kind == ITEMS else None
    lf.item_tenths = None
    lf.tiers = None
    lf.deduct = None
    if lf.kind == ITEMS:
        tpl = lf.items or GENERIC_ITEMS
        n = max(1, min(len(tpl), p // step))
        tpl = tpl[:n]
        # split p into n parts, each a multiple of step, at least one step
        parts = _split_largest_remainder(p // step, [1.0 + rng.random() for _ in tpl], [1] * n)
        lf.items = tpl
        lf.item_tenths = [x * step for x in parts]
    elif lf.kind in (COUNT, VARIANT):
        if p >= 3 * step and rng.random() < 0.5:
            lf.tiers = [(1, _round_step(p * 0.4, step)), (2, _round_step(p * 0.7, step)), (3, p)]
        elif p >= 2 * step:
            lf.tiers = [(1, _round_step(p * 0.7, step)), (2, p)]
        else:
            lf.tiers = [(1, p)]
        lf.tiers = _strict(lf.tiers)
        if lf.kind == VARIANT:
            lf.variant_when = [GOV, TOWN]
    elif lf.kind == DED:
        if p >= 3 * step:
            d1 = _round_step(p * 0.2, step)
            d2 = max(d1 + step, _round_step(p * 0.4, step))
            lf.tiers = _strict([(1, d1), (2, min(d2, p)), (3, p)])
        elif p >= 2 * step:
            lf.tiers = [(1, step), (2, p)]
        else:
            lf.tiers = [(1, p)]
    elif lf.kind == PER:
        lf.deduct = min(p, _round_step(p / 4, step))
    elif lf.kind == EXPERT:
        pass


def _strict(tiers):
    out = []
    for at, v in tiers:
        if not out or v > out[-1][1]:
            out.append((at, v))
    return out


def _rule_dict(lf: Leaf, kind: str) -> dict:
    r: dict = {"kind": kind}
    if kind == ITEMS:
        r["items"] = [Flow(id=i, name=n, points=pts(t)) for (i, n), t in zip(lf.items, lf.item_tenths, strict=True)]
    elif kind == COUNT:
        r["tiers"] = [Flow(at_least=Raw(str(a)), points=pts(v)) for a, v in lf.tiers]
    elif kind == DED:
        r["tiers"] = [Flow(at_least=Raw(str(a)), deduct=pts(v)) for a, v in lf.tiers]
    elif kind == PER:
        r["deduct"] = pts(lf.deduct)
    elif kind == EXPERT:
        r["step"] = pts(lf.step)
    return r


def _leaf_dict(lf: Leaf) -> dict:
    d: dict = {"id": Quoted(lf.id), "name": lf.name, "points": pts(lf.tenths), "methods": lf.methods,
               "checkpoints": lf.checkpoints, "basis": lf.basis}
    if lf.applies:
        d["scope"] = _scope_text(lf.applies)
        d["applies_to"] = Flow(lf.applies)
    if lf.kind == VARIANT:
        when = _rule_dict(lf, COUNT)
        d["rules"] = [
            {"when": Flow(unit_types=list(lf.variant_when)), **when},
            {"kind": AON},
        ]
        d["note"] = "镇（街道）、区县政府按活动开展次数计分；市政府部门按“主要领导、分管领导进大厅”活动开展情况计分"
    else:
        d["rule"] = _rule_dict(lf, lf.kind)
    return d


def _scope_text(applies: dict) -> str:
    parts = [TAGS[t] for t in applies.get("tags", [])] + list(applies.get("unit_types", []))
    return "、".join(parts)


# --------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------


def build_units(n: int, rng: random.Random) -> list[dict]:
    """Return the units in order: governments, departments, towns."""
    n_gov = max(1, n // 20) if n >= 3 else 1
    n_town = (n - n_gov) // 2 if n >= 3 else max(0, n - 2)
    n_dept = n - n_gov - n_town
    if n == 1:
        n_gov, n_dept, n_town = 1, 0, 0
    w = len(str(n))

    places = [a + b for a in PLACE_CHARS for b in PLACE_CHARS if a != b]
    rng.shuffle(places)
    units: list[dict] = []
    govs = []
    for i in range(n_gov):
        if i < len(places):
            place = places[i] + ("区" if i % 3 else "县")
        else:
            place = f"{places[i % len(places)]}第{i // len(places) + 1}区"
        uid = f"gov-{i + 1:0{w}d}"
        tags = ["pilot"] if rng.random() < 0.3 else []
        u = {"id": uid, "name": f"{place}人民政府", "type": GOV, "tags": tags}
        units.append(u)
        govs.append((uid, place))
    for i in range(n_dept):
        if i < len(DEPT_NAMES):
            name = DEPT_NAMES[i]
            tags = list(DEPT_TAGS.get(name, []))
        else:
            name = f"市第{i + 1 - len(DEPT_NAMES)}局"
            tags = sorted(t for t, p in (("licensing", 0.5), ("penalty_power", 0.45),
                                         ("market_regulation", 0.1), ("fees", 0.2), ("rural", 0.1))
                          if rng.random() < p)
        units.append({"id": f"dept-{i + 1:0{w}d}", "name": name, "type": DEPT, "tags": tags})
    town_names = [a + b for a in TOWN_CHARS for b in TOWN_CHARS if a != b]
    per_parent: dict[str, int] = {}
    for i in range(n_town):
        parent, place = govs[rng.randrange(len(govs))]
        j = per_parent.get(parent, 0)
        per_parent[parent] = j + 1
        # 7919 is prime and the pool size is not a multiple of it: distinct names per parent
        base = town_names[(j * 7919 + _stable(place)) % len(town_names)]
        if j >= len(town_names):
            base += str(j // len(town_names) + 1)
        suffix = "街道" if rng.random() < 0.4 else "镇"
        tags = []
        if rng.random() < 0.7:
            tags.append("rural")
        if rng.random() < 0.15:
            tags.append("pilot")
        units.append({"id": f"town-{i + 1:0{w}d}", "name": f"{place}{base}{suffix}", "type": TOWN,
                      "parent": parent, "tags": tags})
    return units


def _stable(place: str) -> int:
    # stable (unlike hash(), which is salted per process): names stay deterministic
    return sum(ord(c) * (i + 1) for i, c in enumerate(place))


def applies(applies_to: dict | None, unit: dict) -> bool:
    if not applies_to:
        return True
    if unit["type"] in applies_to.get("unit_types", ()):
        return True
    tags = unit.get("tags", ())
    return any(t in tags for t in applies_to.get("tags", ()))


# --------------------------------------------------------------------------------------
# Observations
# --------------------------------------------------------------------------------------

NOTE_DONE = ["{n}已按要求公开，内容完整。", "抽查{k}条{n}信息，均符合要求。", "{n}最近更新于{d}，符合要求。"]
NOTE_FAIL = ["未找到{n}相关信息。", "{n}栏目为空白栏目。", "{n}最近更新于{d}，已超时限。"]
REASON_FAIL = ["未按要求公开{n}", "{n}栏目长期未更新", "{n}佐证材料不符合要求"]
FIX = ["补充公开{n}，建立常态化更新机制。", "下一轮评估前完成{n}整改并报备。", "明确{n}责任科室和更新时限。"]
EXPERT_WEAK = ["要素不完整", "针对性不强", "表述不够通俗", "数据与正文不一致", "格式不规范"]


def _dates(start: _dt.date, days: int) -> list[str]:
    o = start.toordinal()
    return [_dt.date.fromordinal(o + i).isoformat() for i in range(days)]


COLLECT_DATES = _dates(COLLECTION_START, COLLECTION_DAYS)
EVIDENCE_DATES = _dates(COLLECTION_START - _dt.timedelta(days=EVIDENCE_DAYS - COLLECTION_DAYS), EVIDENCE_DAYS)


class ObsWriter:
    """Writes one unit's observation file; precomputes everything that does not vary."""

    def __init__(self, fmt: str, leaves: list[Leaf], bonus_specs, penalty_specs, seed: int):
        self.fmt = fmt
        self.leaves = leaves
        self.bonus_specs = bonus_specs
        self.penalty_specs = penalty_specs
        self.seed = seed
        rng = random.Random(f"{seed}:observers")
        self.observers = sorted({
            rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            for _ in range(24)
        })

    def unit_doc(self, unit: dict) -> dict:
        rng = random.Random(f"{self.seed}:{unit['id']}")
        r = rng.random
        q = 0.45 + 0.53 * r()  # this unit's diligence
        host = f"https://{unit['id']}.bench.gov.cn/"
        observer = self.observers[rng.randrange(len(self.observers))]
        obs_day = rng.randrange(COLLECTION_DAYS - 1)
        last = EVIDENCE_DAYS - COLLECTION_DAYS + obs_day + 1  # evidence dates: [0, last)
        results = []
        for lf in self.leaves:
            if not applies(lf.applies, unit):
                continue
            kind = lf.kind
            if kind == VARIANT:
                kind = COUNT if unit["type"] in lf.variant_when else AON
            e: dict = {"indicator": Quoted(lf.id)}
            n = lf.name
            lost = False
            reason = None
            if kind == AON:
                x = r()
                if x < 0.004:
                    e["result"] = "n/a"
                    e["note"] = f"本年度无{n}相关事项，不适用。"
                    results.append(self._evidence(e, rng, host, last, lf.slug))
                    continue
                if x < 0.012:
                    e["result"] = "no-evidence"
                    lost = True
                    reason = f"{n}佐证材料逾期未报"
                else:
                    ok = r() < q + 0.1
                    e["result"] = "done" if ok else "not-done"
                    lost = not ok
                if reason is None:
                    e["note"] = (NOTE_DONE if not lost else NOTE_FAIL)[rng.randrange(3)].format(
                        n=n, k=rng.randrange(3, 12), d=EVIDENCE_DATES[rng.randrange(last)])
                else:
                    e["note"] = f"截至{COLLECT_DATES[-1]}未收到佐证材料。"
                if lost and reason is None:
                    reason = REASON_FAIL[rng.randrange(3)].format(n=n)
            elif kind == ITEMS:
                flags = {i: r() < q + 0.15 for i, _ in lf.items}
                e["items"] = Flow(flags)
                missing = [name for (i, name) in lf.items if not flags[i]]
                if missing:
                    lost = True
                    e["note"] = f"{'、'.join(missing)}未见佐证材料。"
                    reason = f"{'、'.join(missing)}未落实，每缺一项扣除相应分值"
                else:
                    e["note"] = "各项均已落实，佐证材料齐全。"
            elif kind == COUNT:
                top = lf.tiers[-1][0]
                c = top + (1 if r() < 0.2 else 0) if r() < q else rng.randrange(top)
                e["count"] = Raw(str(c))
                e["note"] = f"全年开展{c}次，查阅活动方案及图片。"
                if c < top:
                    lost = True
                    reason = f"全年开展{c}次，未达到{top}次的要求"
            elif kind == PROP:
                frac = 1.0 if r() < q else round(0.3 + 0.65 * r(), 2)
                e["fraction"] = Raw(repr(frac))
                e["note"] = f"完成进度{int(frac * 100 + 0.5)}%。"
                if frac < 1.0:
                    lost = True
                    reason = "未全部完成，按完成比例计分"
            elif kind == DED or kind == PER:
                c = 0 if r() < q + 0.1 else 1 + (rng.randrange(3) if r() < 0.5 else 0)
                e["notices"] = Raw(str(c))
                if c:
                    lost = True
                    e["note"] = f"全年被通报或发现问题{c}次。"
                    reason = f"{n}问题{c}次，按规则扣分"
                else:
                    e["note"] = "未发现问题。"
            elif kind == EXPERT:
                steps = lf.tenths // lf.step
                g = min(steps, max(0, int(steps * (q + 0.25 * (r() - 0.4)) + 0.5)))
                e["grade"] = pts(g * lf.step)
                if g < steps:
                    lost = True
                    weak = EXPERT_WEAK[rng.randrange(len(EXPERT_WEAK))]
                    e["note"] = f"专家评审：{weak}。"
                    reason = f"{n}{weak}"
                else:
                    e["note"] = "专家评审：质量较好。"
            if lost:
                e["reason"] = reason
                e["fix"] = FIX[rng.randrange(3)].format(n=n)
            if r() < 0.03:
                e["source"] = "review"
                e["observer"] = self.observers[rng.randrange(len(self.observers))]
                e["observed_at"] = Raw(COLLECT_DATES[-1])
            if e.get("result") == "no-evidence":
                results.append(e)  # nothing arrived in time: no evidence to list
            else:
                results.append(self._evidence(e, rng, host, last, lf.slug))

        for bid, _, _, bname in self.bonus_specs:
            done = rng.random() < 0.1
            e = {"indicator": Quoted(bid), "result": "done" if done else "not-done",
                 "note": f"{bname}：{'已报送相关材料' if done else '未报送相关材料'}。"}
            if done:
                e = self._evidence(e, rng, host, last, "gzdt")
            results.append(e)
        for pid, _, _, pname in self.penalty_specs:
            c = 0 if rng.random() < 0.85 else 1 + (rng.randrange(2) if rng.random() < 0.3 else 0)
            e = {"indicator": Quoted(pid), "notices": Raw(str(c))}
            if c:
                e["note"] = f"{pname}{c}次。"
                e["reason"] = f"{pname}{c}次，按次扣分"
                e["fix"] = "对照通报问题逐项整改，形成整改报告。"
                e = self._evidence(e, rng, host, last, "gzdt")
            else:
                e["note"] = f"未发现{pname}情况。"
            results.append(e)

        ms = 60.0 + 39.9 * (0.5 * q + 0.5 * rng.random())
        days = 2.0 + 13.0 * rng.random()
        return {
            "unit": unit["id"],
            "observer": observer,
            "observed_at": Raw(COLLECT_DATES[obs_day]),
            "measures": {"mailbox_satisfaction": Raw(f"{ms:.1f}"), "reply_days": Raw(f"{days:.1f}")},
            "results": results,
        }

    @staticmethod
    def _evidence(e: dict, rng: random.Random, host: str, last: int, column: str) -> dict:
        ev = []
        for _ in range(2 if rng.random() < 0.06 else 1):
            d = EVIDENCE_DATES[rng.randrange(last)]
            ym = d[:4] + d[5:7]
            item = {
                "url": f"{host}{column}/{ym}/t{ym}{d[8:]}_{rng.randrange(10**6, 10**7)}.html",
                "sha256": Quoted(f"{rng.getrandbits(256):064x}"),
                "captured": Raw(d),
            }
            ev.append(item)
        e["evidence"] = ev
        return e

    def render(self, unit: dict) -> str:
        doc = self.unit_doc(unit)
        return to_yaml(doc) if self.fmt == "yaml" else to_toml(doc)


# --------------------------------------------------------------------------------------
# Round and main
# --------------------------------------------------------------------------------------


def round_doc(n_units: int) -> dict:
    return {
        "id": ROUND_ID,
        "title": f"基准测试市2021年政务公开考核评估（合成数据，{n_units}个单位）",
        "example": True,
        "units": UNITSET_ID,
        "period": {"start": Raw("2021-01-01"), "end": Raw("2021-12-31")},
        "schemes": [{"scheme": SCHEME_ID}],
        "stages": {
            "self_assessment_due": Raw("2021-12-20"),
            "collection_start": Raw(COLLECT_DATES[0]),
            "collection_end": Raw(COLLECT_DATES[-1]),
            "evidence_due": Raw(COLLECT_DATES[-1]),
            "preliminary": Raw("2022-01-28"),
            "appeal_working_days": Raw("3"),
            "final": Raw("2022-02-15"),
        },
    }


HEADER = "Synthetic benchmark data generated by benchmarks/generate.py ({args}). Not a real assessment."


def _write(path: Path, text: str) -> int:
    data = text.encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def _clean(out: Path) -> None:
    """Remove files a previous run may have left in another format or for more units."""
    for rel in ("schemes/bench", "units/bench", "rounds/bench/round"):
        for ext in (".yaml", ".yml", ".toml"):
            p = out / (rel + ext)
            if p.exists():
                p.unlink()
    obs = out / "rounds" / ROUND_ID / "observations"
    if obs.is_dir():
        for p in obs.iterdir():
            if p.suffix in (".yaml", ".yml", ".toml"):
                p.unlink()
    channels = out / "rounds" / ROUND_ID / "channels"
    if channels.is_dir():
        shutil.rmtree(channels)
    for rel in ("schemes/bench-county", "schemes/bench-channel"):
        for ext in (".yaml", ".toml"):
            if (out / (rel + ext)).exists():
                (out / (rel + ext)).unlink()


CHANNEL_TYPES = (("portal", "网站", "门户网站"), ("wechat", "微信", "微信公众号"), ("weibo", "微博", "政务微博"))


def channel_scheme() -> dict:
    """The scheme that scores each channel: eight indicators, half of them deduction clauses."""
    indicators = []
    for i in range(1, 9):
        if i % 2:
            rule = {"kind": "clauses", "clauses": [
                {"id": "stale", "name": "每有一周未更新扣2分", "deduct": Raw("2"), "per": "each"},
                {"id": "errors", "name": "每处错误扣1分", "deduct": Raw("1"), "per": "each", "max": Raw("6")}]}
        else:
            rule = {"kind": "all-or-nothing"}
        indicators.append({"id": f"C{i}", "name": f"渠道检查项{cn_num(i)}", "points": Raw("12.5"), "rule": rule})
    return {"id": "bench-channel", "title": "基准测试渠道检查（合成数据）", "total_points": Raw("100"),
            "indicators": indicators}


def channel_doc(unit: dict, key: str, kind: str, label: str, rng: random.Random) -> dict:
    results = []
    for i in range(1, 9):
        if i % 2:
            results.append({"indicator": f"C{i}", "findings": {"stale": Raw(str(rng.randrange(0, 3))),
                                                                "errors": Raw(str(rng.randrange(0, 4)))},
                            "reason": "更新不及时或有错误。"})
        else:
            results.append({"indicator": f"C{i}", "result": "done" if rng.random() < 0.85 else "not-done",
                            "reason": "未达要求。"})
    return {"unit": unit["id"], "channel": key, "name": f"{unit['name']}{label}", "type": kind, "results": results}


def with_groups(scheme: dict, scheme_id: str, county: bool) -> dict:
    """The main scheme with the channels (and, for a county, its towns) rolled up into components."""
    doc = dict(scheme, id=scheme_id)
    doc["groups"] = [{"id": "accounts", "name": "政务网站和新媒体", "of": "channels", "scheme": "bench-channel",
                      "types": [kind for _, kind, _ in CHANNEL_TYPES]}]
    components = [{"id": "own", "name": "本级", "weight": Raw("0.7" if county else "0.9"), "source": "indicators"},
                  {"id": "accounts", "name": "渠道", "weight": Raw("0.1"), "source": "group:accounts"}]
    if county:
        doc["groups"].append({"id": "towns", "name": "所辖镇街", "of": "subordinates",
                              "select": {"unit_types": [TOWN]}})
        components.append({"id": "towns", "name": "镇街", "weight": Raw("0.2"), "source": "group:towns"})
    doc["components"] = components
    return doc


def generate(n: int, k: int, seed: int, out: Path, fmt: str, quiet: bool = False, rollups: bool = False) -> Path:
    t0 = time.perf_counter()
    ext = "yaml" if fmt == "yaml" else "toml"
    rng = random.Random(seed)
    scheme, leaves, bonus_specs, penalty_specs = build_scheme(k, rng)
    units = build_units(n, rng)
    args = f"--units {n} --indicators {k} --seed {seed} --format {fmt}"
    header = HEADER.format(args=args)
    dump = to_yaml if fmt == "yaml" else to_toml

    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    round_dir = out / "rounds" / ROUND_ID
    obs_dir = round_dir / "observations"
    for d in (out / "schemes", out / "units", obs_dir):
        d.mkdir(parents=True, exist_ok=True)

    round_file = round_doc(n)
    if rollups:  # every unit runs three channels; a county rolls up its towns
        total = _write(out / "schemes" / f"{SCHEME_ID}.{ext}", dump(with_groups(scheme, SCHEME_ID, False), header))
        total += _write(out / "schemes" / f"bench-county.{ext}", dump(with_groups(scheme, "bench-county", True), header))
        total += _write(out / "schemes" / f"bench-channel.{ext}", dump(channel_scheme(), header))
        round_file["schemes"] = [{"scheme": "bench-county", "unit_types": [GOV]}, {"scheme": SCHEME_ID}]
    else:
        total = _write(out / "schemes" / f"{SCHEME_ID}.{ext}", dump(scheme, header))
    types = [t for t in (GOV, DEPT, TOWN) if any(u["type"] == t for u in units)]
    unitset = {"id": UNITSET_ID, "name": "基准测试市政务公开考核评估对象（合成数据）", "types": types, "units": units}
    total += _write(out / "units" / f"{UNITSET_ID}.{ext}", dump(unitset, header))
    total += _write(round_dir / "round.toml", to_toml(round_file, header))

    writer = ObsWriter(fmt, leaves, bonus_specs, penalty_specs, seed)
    obs_bytes = 0
    for u in units:
        obs_bytes += _write(obs_dir / f"{u['id']}.{ext}", writer.render(u))
    if rollups:
        crng = random.Random(f"{seed}:channels")
        for u in units:
            folder = round_dir / "channels" / u["id"]
            folder.mkdir(parents=True, exist_ok=True)
            for key, kind, label in CHANNEL_TYPES:
                obs_bytes += _write(folder / f"{key}.{ext}", dump(channel_doc(u, key, kind, label, crng), header))
    total += obs_bytes
    if not quiet:
        dt = time.perf_counter() - t0
        print(f"generated {n} units x {len(leaves)} indicators ({fmt}): {total / 1e6:.1f} MB, "
              f"{obs_bytes / max(1, n) / 1024:.1f} KiB per observation file, {dt:.1f} s")
    return round_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, required=True, help="number of units (N)")
    ap.add_argument("--indicators", type=int, default=60,
                    help="number of leaf indicators (K, 8 to about 750)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True, help="repository directory to write")
    ap.add_argument("--format", choices=("yaml", "toml"), default="yaml")
    ap.add_argument("--rollups", action="store_true",
                    help="three channel files per unit, and counties rolling up their towns (issue #15)")
    a = ap.parse_args(argv)
    if a.units < 1:
        ap.error("--units must be at least 1")
    if a.indicators < 8:
        ap.error("--indicators must be at least 8 (one leaf per rule kind and a tree)")
    round_dir = generate(a.units, a.indicators, a.seed, a.out, a.format, rollups=a.rollups)
    print(os.fspath(round_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
