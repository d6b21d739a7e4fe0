"""Words the output uses, in Chinese (the default for the shipped schemes) and English."""

from __future__ import annotations

from typing import Any

LABELS: dict[str, tuple[str, str]] = {
    "rank": ("排名", "Rank"),
    "category_rank": ("类别排名", "Rank in category"),
    "unit": ("单位", "Unit"),
    "category": ("类别", "Category"),
    "applicable": ("应得分", "Applicable"),
    "earned": ("实得分", "Earned"),
    "base": ("基础得分", "Base"),
    "bonus": ("加分", "Bonus"),
    "penalty": ("减分", "Penalty"),
    "external": ("外部扣分", "External"),
    "total": ("总得分", "Total"),
    "grade": ("等次", "Grade"),
    "flags": ("标记", "Flags"),
    "scheme": ("指标体系", "Scheme"),
    "points": ("分值", "Points"),
    "rule": ("评分规则", "Rule"),
    "observation": ("观测", "Observation"),
    "evidence": ("佐证", "Evidence"),
    "reason": ("扣分理由", "Reason"),
    "fix": ("整改要求", "To fix"),
    "lost": ("扣分", "lost"),
    "problem_list": ("问题清单（扣分点、扣分理由、整改要求）", "Problem list (where, why, what to fix)"),
    "no_problems": ("无扣分项。", "No points lost."),
    "computation": ("计分过程", "How the score was combined"),
    "example": ("示例数据，非真实评估结果", "Illustrative data, not a real assessment"),
    "pending": ("未评估", "not yet assessed"),
    "pending_note": ("尚有指标未评估，得分为临时结果",
                     "some indicators are not yet assessed; the score is provisional"),
    "performance": ("折算绩效分", "Performance points"),
    "passdown": ("传导扣分", "Passed-down deduction"),
    "components": ("综合评价构成", "Components"),
    "not_applicable": ("不适用", "not applicable"),
    "done": ("已完成", "done"),
    "not-done": ("未完成", "not done"),
    "n/a": ("不适用（观测）", "n/a (observed)"),
    "no-evidence": ("无佐证材料，按未完成计", "no evidence found, counted as not done"),
    "capped": ("封顶", "capped"),
    "units": ("个单位", "units"),
    "observer": ("观测人", "observed by"),
    "moved": ("承接不适用指标分值", "takes the points of"),
}


def label(key: str, lang: str, extra: dict[str, tuple[str, str]] | None = None) -> str:
    """The word for `key` in `lang`, from a module's own table `extra` first, then the shared one."""
    zh, en = (extra or {}).get(key) or LABELS.get(key, (key, key))
    return zh if lang == "zh" else en


def in_lang(zh: str | None, en: str | None, lang: str) -> str | None:
    """A data text in `lang`: the English variant when asked for and given, else the Chinese."""
    return zh if lang == "zh" or not en else en


def name_in(obj: Any, lang: str) -> str:
    """`obj.name`, or `obj.name_en` in English when it has one (units, indicators, categories)."""
    return in_lang(obj.name, obj.name_en, lang)
