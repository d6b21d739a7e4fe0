"""Panels of assessors (专家评分): several assessors score the same indicator, their figures combine.

A scheme with `assessors: {combine: trimmed-mean, tolerance: 2, at_least: 3}` lets several
evaluators' entries stand for one indicator (each with its `observer`); the indicator earns
their mean, the mean without the highest and the lowest (`trimmed-mean`, 去掉一个最高分和一个
最低分), or the median. When the figures are further apart than `tolerance`, the indicator waits
for a review: an entry with `source: review` decides it (as a review always does), and until then
it is pending. `gapctl agreement` measures how far assessors agree; this is how they combine.
"""

from __future__ import annotations

from decimal import Decimal

from gapctl.constructs import Construct
from gapctl.model import Panel

ZERO = Decimal(0)


def combine(panel: Panel, figures: list[Decimal]) -> tuple[Decimal, bool]:
    """The counting figure of an indicator and whether the assessors are too far apart."""
    ordered = sorted(figures)
    apart = panel.tolerance is not None and ordered[-1] - ordered[0] > panel.tolerance
    if panel.combine == "trimmed-mean" and len(ordered) > 2:
        kept = ordered[1:-1]
        return sum(kept, ZERO) / len(kept), apart
    if panel.combine == "median":
        middle = len(ordered) // 2
        value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        return value, apart
    return sum(ordered, ZERO) / len(ordered), apart


def explain_text(panel: Panel, figures: list[tuple[str, Decimal]], value: Decimal, apart: bool, lang: str) -> str:
    from gapctl.formula import exact

    zh = lang == "zh"
    shown = ("、" if zh else ", ").join(f"{who} {exact(v)}" for who, v in figures)
    rule = panel.combine if panel.combine != "trimmed-mean" or len(figures) > 2 else "mean"
    how = {"mean": ("平均", "mean"), "trimmed-mean": ("去掉最高最低后平均", "mean without highest and lowest"),
           "median": ("中位数", "median")}[rule][0 if zh else 1]
    text = f"{len(figures)}位评估人：{shown} → {how} = {exact(value)}" if zh else \
        f"{len(figures)} assessors: {shown} → {how} = {exact(value)}"
    if apart:
        text += (f"（相差超过{exact(panel.tolerance)}分，待复核）" if zh else
                 f" (more than {exact(panel.tolerance)} apart: waits for a review)")
    elif len(figures) < panel.at_least:
        text += (f"（需{panel.at_least}位评估人，待评估）" if zh else
                 f" ({panel.at_least} assessors needed: pending)")
    return text


CONSTRUCT = Construct(
    name="assessors",
    keys="`assessors: {combine: mean | trimmed-mean | median, tolerance, at_least}`; several evaluator entries "
         "for one indicator, each with its `observer`",
    summary=("Several assessors score the same indicator; the counting figure is their mean, the mean without the "
             "highest and the lowest, or the median; beyond a tolerance a review's entry decides."),
    explain="each assessor's figure, how they combine, and whether a review is needed",
    example="assessors/trimmed-mean",
)
