"""clauses: several deduction (or earning) clauses on one indicator, summed (扣完为止 by the bounds).

One published row often reads "未设置专栏扣3分；每缺少一项扣1分；每发现一条错误信息扣0.5分；
存在泄露个人隐私的，再扣4分；本项扣完为止". Each clause reads its own finding from the observation
(`findings: {no-column: true, missing: 2, errors: {错别字: 3}, privacy: true}`):

- `per: once` (default): the amount when the finding is true (or a count above 0);
- `per: each`: the amount for each occurrence (the finding is a count);
- `per: kind`: an amount per kind of occurrence (`deduct: {错别字: 0.2, 链接失效: 0.5}`, the finding
  is `{kind: count}`);
- `max` caps what one clause takes or gives; `when` (a formula over observations, e.g.
  `fact(months-stale) > 6`) makes a clause count only when it holds (再扣: the aggravated case).

The indicator starts from its points (`start: full`, 倒扣制, the default in the indicator tree) or
from 0 (`start: zero`, 得分制, the default in bonus and penalty sections); the clauses are added.
Where the result is held within [0, points] is not the rule's business: `scoring.bounds` and the
indicator's `bounded` decide it, and explain says where a bound cut a deduction.
`per-occurrence` is shorthand for one clause (`clause_of_notices`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gapctl.data.schema import F
from gapctl.figures import ZERO
from gapctl.i18n import N_, _, in_lang
from gapctl.scheme.rules import RuleKind, joined, listed, num


@dataclass(frozen=True)
class Part:
    """What one clause did for one observation: its signed amount and the finding it read."""

    clause: dict[str, Any]
    amount: Decimal  # < 0 a deduction, > 0 points given
    finding: Any
    applies: bool  # its `when` held (or it has none)


def signed(clause: dict[str, Any]) -> tuple[int, Any]:
    if clause.get("deduct") is not None:
        return -1, clause["deduct"]
    return 1, clause.get("earn")


def per(clause: dict[str, Any]) -> str:
    return clause.get("per") or ("kind" if isinstance(signed(clause)[1], dict) else "once")


def occurrences(value: Any) -> Decimal:
    """A finding as a number of occurrences: true 1, false or nothing 0, a count itself."""
    if isinstance(value, bool):
        return Decimal(1) if value else ZERO
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, dict):
        return sum((occurrences(v) for v in value.values()), ZERO)
    return ZERO


def clause_part(clause: dict[str, Any], finding: Any, holds: bool = True) -> Part:
    sign, amount = signed(clause)
    how = per(clause)
    if not holds:
        return Part(clause, ZERO, finding, False)
    if how == "kind":
        counts = finding if isinstance(finding, dict) else {}
        value = sum((Decimal(str(amount.get(k, 0))) * occurrences(v) for k, v in counts.items()), ZERO)
    elif how == "each":
        value = Decimal(str(amount)) * occurrences(finding)
    else:
        fired = occurrences(finding) > 0 or (finding is None and clause.get("when") is not None)
        value = Decimal(str(amount)) if fired else ZERO
    if clause.get("max") is not None:
        value = min(value, Decimal(str(clause["max"])))
    return Part(clause, sign * value, finding, True)


def start_of(rule, indicator) -> Decimal:
    start = rule.params.get("start") or ("full" if indicator.section == "main" else "zero")
    return (indicator.points or ZERO) if start == "full" else ZERO


def parts(result, rule, indicator, env: Any = None) -> list[Part]:
    """Each clause's contribution for this observation (conditions evaluated against `env`)."""
    from gapctl.scheme.formula import FormulaError, evaluate, truth

    findings = result.findings or {}
    out = []
    for clause in rule.params.get("clauses") or []:
        name = clause.get("finding") or clause.get("id")
        holds = True
        condition = clause.get("when")
        if condition is not None:
            holds = False
            if condition.formula is not None and env is not None:
                try:
                    holds = truth(evaluate(condition.formula, env.for_result(result)))
                except FormulaError:
                    holds = False
        out.append(clause_part(clause, findings.get(name), holds))
    return out


def check_params(rule, indicator) -> list:
    clauses = rule.params.get("clauses") or []
    if not clauses:
        return [(_("needs a list of 'clauses', each {id, name, deduct or earn}"), ("clauses",))]
    out: list = []
    seen: set[str] = set()
    for i, clause in enumerate(clauses):
        at = ("clauses", i)
        if clause.get("id") in seen:
            out.append((_("clause id '{id}' is used twice").format(id=clause["id"]), at + ("id",)))
        seen.add(clause.get("id"))
        given = [k for k in ("deduct", "earn") if clause.get(k) is not None]
        if len(given) != 1:
            out.append((_("clause '{id}' needs one of 'deduct' or 'earn'").format(id=clause.get("id")), at))
            continue
        amount, how = clause[given[0]], per(clause)
        if how == "kind":
            if not isinstance(amount, dict) or not amount or not all(
                    isinstance(v, (int, Decimal)) and not isinstance(v, bool) and v >= 0 for v in amount.values()):
                out.append((_("clause '{id}' with per: kind needs '{key}: {{<kind>: <points>}}'").format(
                    id=clause.get("id"), key=given[0]), at + (given[0],)))
        elif isinstance(amount, bool) or not isinstance(amount, (int, Decimal)) or amount < 0:
            out.append((_("clause '{id}': '{key}' must be a number ≥ 0 (or a map of kinds with per: kind)").format(
                id=clause.get("id"), key=given[0]), at + (given[0],)))
    if rule.params.get("start") == "full" and indicator.points is None:
        out.append((_("start: full needs 'points' on the indicator"), ("start",)))
    return out


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.state in ("done", "not-done"):
        return []
    if result.findings is None:
        return [_("needs 'findings: {<clause id>: …}' with every clause's finding (or result: done when nothing "
                  "was found)")]
    out = []
    clauses = rule.params.get("clauses") or []
    for clause in clauses:
        name = clause.get("finding") or clause.get("id")
        value, how = result.findings.get(name), per(clause)
        if value is None:
            if clause.get("when") is None:
                out.append(_("finding '{finding}' ({name}) is not recorded").format(
                    finding=name, name=clause.get("name") or name))
            continue
        if how == "kind":
            amounts = signed(clause)[1] if isinstance(signed(clause)[1], dict) else {}
            if not isinstance(value, dict):
                out.append(_("finding '{finding}' must be {{<kind>: <count>}} (kinds: {kinds})").format(
                    finding=name, kinds=listed(amounts)))
                continue
            for kind, count in value.items():
                if kind not in amounts:
                    out.append(_("finding '{finding}': unknown kind '{kind}'; kinds are: {kinds}").format(
                        finding=name, kind=kind, kinds=listed(amounts)))
                elif isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    out.append(_("finding '{finding}': the count of '{kind}' must be a whole number ≥ 0").format(
                        finding=name, kind=kind))
        elif how == "each":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                out.append(_("finding '{finding}' must be a count (a whole number ≥ 0), not {value}").format(
                    finding=name, value=repr(value)))
        elif not isinstance(value, bool) and not (isinstance(value, int) and value >= 0):
            out.append(_("finding '{finding}' must be true or false, not {value}").format(finding=name,
                                                                                          value=repr(value)))
    known = {c.get("finding") or c.get("id") for c in clauses}
    for name in result.findings:
        if name not in known:
            from gapctl.problems import did_you_mean
            hint = did_you_mean(str(name), [str(k) for k in known]) or _("; clauses read: {findings}").format(
                findings=listed(known))
            out.append(_("no clause reads finding '{finding}'{hint}").format(finding=name, hint=hint))
    return out


def earned(result, rule, indicator, unit, env: Any = None) -> Decimal:
    if result.state == "done":
        return indicator.points if indicator.points is not None else ZERO
    if result.state == "not-done" and result.findings is None:
        return ZERO
    return start_of(rule, indicator) + sum((p.amount for p in parts(result, rule, indicator, env)), ZERO)


# a clause's rate in words, by its sign and how it counts (per: kind, each, once)
_RATES = {(-1, "kind"): N_("{kind} -{amount} each"), (1, "kind"): N_("{kind} +{amount} each"),
          (-1, "each"): N_("-{amount} each"), (1, "each"): N_("+{amount} each"),
          (-1, "once"): N_("-{amount}"), (1, "once"): N_("+{amount}")}


def clause_text(clause: dict[str, Any], lang: str) -> str:
    """One clause in words: its published name, else what it does."""
    name = clause.get("name") if lang == "zh" or not clause.get("name_en") else clause.get("name_en")
    sign, amount = signed(clause)
    how = per(clause)
    words = in_lang(_RATES[(sign, how)], lang)
    if how == "kind":
        rate = joined([words.format(kind=k, amount=num(v)) for k, v in amount.items()], lang)
    else:
        rate = words.format(amount=num(amount))
    if clause.get("max") is not None:
        rate += in_lang(" (at most {max})", lang).format(max=num(clause["max"]))
    if clause.get("when") is not None:
        rate += in_lang(", when {condition}", lang).format(condition=clause["when"].text)
    return in_lang("{name} ({rate})", lang).format(name=name, rate=rate) if name else rate


def describe(rule, indicator, lang) -> str:
    texts = joined([clause_text(c, lang) for c in rule.params.get("clauses") or []], lang, "；", "; ")
    start = start_of(rule, indicator)
    return in_lang("from {start}: {clauses}", lang).format(start=num(start), clauses=texts) if start else texts


KIND = RuleKind(
    name="clauses",
    summary=("Several clauses on one indicator, each reading its own finding: one-off, per occurrence, per kind "
             "of occurrence, or only when a condition holds (再扣); summed from the indicator's points (扣分制) "
             "or from 0, and held within the bounds (扣完为止)."),
    example=('- id: "2.3"\n  name: 政策解读\n  points: 8\n  rule:\n    kind: clauses\n    clauses:\n'
             '      - {id: no-column, name: 未设置解读专栏扣3分, deduct: 3}\n'
             '      - {id: missing, name: 每缺少一项扣1分, deduct: 1, per: each}\n'
             '      - {id: errors, name: 每发现一条错误信息扣0.5分, deduct: {错别字: 0.5, 链接失效: 0.5}, per: kind}\n'
             '      - {id: privacy, name: 存在泄露个人隐私的再扣4分, deduct: 4}\n'
             '# observation: {indicator: "2.3", findings: {no-column: false, missing: 2,\n'
             '#                errors: {错别字: 3}, privacy: true}}      # 8 − 2 − 1.5 − 4 = 0.5'),
    params={"clauses": F("list", required=True, doc="[{id, name, deduct or earn, per, max, when, finding}]"),
            "start": F("text", choices=("full", "zero"),
                       doc="full: from the indicator's points (default in the tree); zero: from 0")},
    value_field="findings",
    check_params=check_params,
    check_value=check_value,
    earned=earned,
    describe=describe,
    uses_points=False,
    needs_env=True,
)
