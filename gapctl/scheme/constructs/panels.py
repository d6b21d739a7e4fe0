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

from gapctl.data.model import Panel
from gapctl.figures import ZERO
from gapctl.i18n import N_, in_lang
from gapctl.scheme.constructs import Construct


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


_HOW = {"mean": N_("mean"), "trimmed-mean": N_("mean without highest and lowest"), "median": N_("median")}


def explain_text(panel: Panel, figures: list[tuple[str, Decimal]], value: Decimal, apart: bool, lang: str) -> str:
    from gapctl.scheme.formula import exact
    from gapctl.scheme.rules import joined

    shown = joined([f"{who} {exact(v)}" for who, v in figures], lang, "、")
    rule = panel.combine if panel.combine != "trimmed-mean" or len(figures) > 2 else "mean"
    how = in_lang(_HOW[rule], lang)
    text = in_lang("{n} assessors: {figures} → {how} = {value}", lang).format(n=len(figures), figures=shown, how=how,
                                                                             value=exact(value))
    if apart:
        text += in_lang(" (more than {tolerance} apart: waits for a review)", lang).format(
            tolerance=exact(panel.tolerance))
    elif len(figures) < panel.at_least:
        text += in_lang(" ({n} assessors needed: pending)", lang).format(n=panel.at_least)
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
