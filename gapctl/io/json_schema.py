"""JSON Schema for every file kind, generated from the shapes the loader checks against.

Editors with YAML language support (yaml-language-server: VS Code's YAML extension, JetBrains,
Neovim) read them to complete keys and flag errors while typing. `gapctl schema` writes them;
a test fails when the committed files drift from the code.
"""

from __future__ import annotations

import json
from typing import Any

from gapctl.data import schema as S
from gapctl.scheme.rules import REGISTRY

BASE = "https://gapctl.example/schema/"  # an identifier, never fetched
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _scalar(kind: str) -> dict[str, Any]:
    return {
        "text": {"type": "string"},
        "id": {"type": "string", "pattern": S.ID_REGEX},
        "int": {"type": "integer", "minimum": 0},
        "number": {"type": "number"},
        "points": {"type": "number", "minimum": 0, "maximum": 100000},
        "bool": {"enum": [True, False, *S.YES_NO]},  # 是/否 as gapctl reads them
        "date": {"type": "string", "pattern": DATE_PATTERN},
        "map": {"type": "object"},
        "list": {"type": "array"},
        "any": {},
    }[kind]


def _field(spec: S.F, refs: dict[str, str]) -> dict[str, Any]:
    choices = [*spec.choices, *(word for word, _value in spec.aliases)]  # 完成 as well as done
    if spec.type.startswith("list["):
        item = _scalar(spec.type[5:-1])
        if spec.choices:
            item = {**item, "enum": choices}
        out: dict[str, Any] = {"type": "array", "items": item}
    else:
        out = dict(_scalar(spec.type))
        if spec.choices:
            out["enum"] = choices
    if spec.doc:
        out["description"] = spec.doc
    return out


# `assumed`: true/false, a list of the mapping's keys, or its keys mapped to notes (gapctl checks the keys)
ASSUMED = {"description": S.ASSUMPTION_KEYS["assumed"].doc, "oneOf": [
    _scalar("bool"), {"type": "array", "items": {"type": "string"}},
    {"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, _scalar("bool")]}}]}


def _object(shape: S.Shape, refs: dict[str, Any] | None = None, title: str = "") -> dict[str, Any]:
    """A closed object: the shape's keys (and assumed/assumed_note); `refs` replaces keys by references."""
    refs = refs or {}
    properties: dict[str, Any] = {}
    for key, spec in {**shape, **S.ASSUMPTION_KEYS}.items():
        if key == "assumed":  # true/false, this mapping's keys, or its keys mapped to notes
            properties[key] = {"$ref": "#/$defs/assumed"}
        else:
            properties[key] = refs[key] if key in refs else _field(spec, refs)
        if key in refs and spec.doc:
            properties[key] = {**properties[key], "description": spec.doc}
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False,
                           "required": [k for k, f in shape.items() if f.required]}
    if title:
        out["title"] = title
    return out


def _array_of(ref: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": ref}}


def _rule() -> dict[str, Any]:
    """Rule mappings: `kind` plus the parameters of every kind (each kind's own are checked by gapctl)."""
    params: S.Shape = {}
    for kind in REGISTRY.values():
        params.update(kind.params)
    from gapctl.scoring.load import RULE_COMMON, RULE_ITEM, TIER
    refs = {"when": {"$ref": "#/$defs/selector"},
            "tiers": _array_of("#/$defs/tier"), "items": _array_of("#/$defs/rule_item"),
            "clauses": _array_of("#/$defs/clause")}
    rule = _object({**RULE_COMMON, **params}, refs, "rule")
    rule["properties"]["kind"]["enum"] = list(REGISTRY)
    rule["required"] = ["kind"]
    rule["allOf"] = [{"if": {"properties": {"kind": {"const": kind.name}}},
                      "then": {"required": [k for k, f in kind.params.items() if f.required]}}
                     for kind in REGISTRY.values() if any(f.required for f in kind.params.values())]
    amount = {"oneOf": [{"type": "number", "minimum": 0},
                        {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}}]}
    clause = _object(S.CLAUSE, {"deduct": amount, "earn": amount}, "clause")
    return {"rule": rule, "tier": _object(TIER, title="tier"), "clause": clause,
            "rule_item": _object(RULE_ITEM, {"applies_to": {"$ref": "#/$defs/selector"}}, "rule item")}


def _document(name: str, root: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{BASE}{name}.schema.json",
            **root, "$defs": {**defs, "assumed": ASSUMED}}


def schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for every kind of file."""
    selector = _object(S.SELECTOR, title="selector")
    gate = {"oneOf": [{"type": "string"}, {"$ref": "#/$defs/gate"}]}
    indicator = _object(S.INDICATOR, {"children": _array_of("#/$defs/indicator"),
                                      "applies_to": {"$ref": "#/$defs/selector"},
                                      "rule": {"$ref": "#/$defs/rule"},
                                      "rules": _array_of("#/$defs/rule"), "gate": gate,
                                      "redistribute": {"$ref": "#/$defs/redistribute"},
                                      "pass_line": {"$ref": "#/$defs/pass_line"}}, "indicator")
    scheme_defs = {"indicator": indicator, "selector": selector, **_rule(),
                   "section": _object(S.SECTION, {"indicators": _array_of("#/$defs/indicator"), "gate": gate},
                                      "section"),
                   "gate": _object(S.GATE, title="gate"),
                   "veto": _object(S.VETO, title="veto (单项否决)"),
                   "pass_line": _object(S.PASS_LINE, title="pass line (合格线)"),
                   "redistribute": _object(S.REDISTRIBUTE, {"to": {"oneOf": [
                       {"type": "string", "enum": ["siblings", "all"]},
                       {"type": "array", "items": {"type": "string"}}]}}, "redistribution (分值调剂)"),
                   "measure": _object(S.MEASURE, title="measure"),
                   "external": _object(S.EXTERNAL, title="external source"),
                   "component": _object(S.COMPONENT, title="component"),
                   "grade": _object(S.GRADE, title="grade band"),
                   "flag": _object(S.FLAG, title="flag"),
                   "category": _object(S.CATEGORY, title="ranking category"),
                   "ranking": _object(S.RANKING, {"categories": _array_of("#/$defs/category")}, "ranking"),
                   "scoring": _object(S.SCORING, title="scoring"),
                   "conversion": _object(S.CONVERSION, title="conversion")}
    scheme = _object(S.SCHEME, {
        "indicators": _array_of("#/$defs/indicator"), "scoring": {"$ref": "#/$defs/scoring"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "measures": _array_of("#/$defs/measure"), "bonus": {"$ref": "#/$defs/section"},
        "penalty": {"$ref": "#/$defs/section"}, "external": _array_of("#/$defs/external"),
        "components": _array_of("#/$defs/component"), "grades": _array_of("#/$defs/grade"),
        "flags": _array_of("#/$defs/flag"),
        "ranking": {"oneOf": [{"enum": ["published", "none"]}, {"$ref": "#/$defs/ranking"}]},
        "vetoes": _array_of("#/$defs/veto"),
        "conversion": {"$ref": "#/$defs/conversion"}}, "gapctl scheme (指标体系)")
    units = _object(S.UNIT_SET, {"units": _array_of("#/$defs/unit")}, "gapctl unit set (评估对象)")
    evidence = _object(S.EVIDENCE, title="evidence (佐证材料)")
    result = _object(S.RESULT, {"evidence": _array_of("#/$defs/evidence"),
                                "items": {"type": "object", "additionalProperties": _scalar("bool")}},
                     "observation entry")
    observations = _object(S.OBSERVATIONS, {"results": _array_of("#/$defs/result"),
                                            "measures": {"type": "object",
                                                         "additionalProperties": {"type": "number"}}},
                           "gapctl observations (观测记录)")
    decision = _object(S.DECISION, title="appeal decision")
    appeal = _object(S.APPEAL, {"evidence": _array_of("#/$defs/evidence"), "decision": {"$ref": "#/$defs/decision"}},
                     "appeal (复核申请)")
    round_ = _object(S.ROUND, {"schemes": _array_of("#/$defs/assignment"), "period": {"$ref": "#/$defs/period"},
                               "stages": {"$ref": "#/$defs/stages"},
                               "external": {"type": "object",
                                            "additionalProperties": {"$ref": "#/$defs/external_ref"}}},
                     "gapctl round (round.toml)")
    return {
        "scheme.schema.json": _document("scheme", scheme, scheme_defs),
        "units.schema.json": _document("units", units, {"unit": _object(S.UNIT, title="unit")}),
        "observations.schema.json": _document("observations", observations,
                                              {"result": result, "evidence": evidence}),
        "appeals.schema.json": _document("appeals", _object(S.APPEALS_FILE, {"appeals": _array_of("#/$defs/appeal")},
                                                            "gapctl appeals (复核申请)"),
                                         {"appeal": appeal, "decision": decision, "evidence": evidence}),
        "external.schema.json": _document("external", _object(S.EXTERNAL_FILE,
                                                              {"deductions": _array_of("#/$defs/deduction")},
                                                              "gapctl external deductions"),
                                          {"deduction": _object(S.DEDUCTION, title="deduction")}),
        "round.schema.json": _document("round", round_, {
            "assignment": _object(S.SCHEME_ASSIGNMENT, title="scheme assignment"),
            "period": _object(S.PERIOD, title="period"), "stages": _object(S.STAGES, title="stages"),
            "external_ref": _object(S.EXTERNAL_REF, title="external source")}),
    }


def render() -> dict[str, str]:
    return {name: json.dumps(doc, ensure_ascii=False, indent=2) + "\n" for name, doc in schemas().items()}


# which schema a data file uses, by where it sits in the repository
KINDS = {"schemes": "scheme", "units": "units", "observations": "observations", "appeals": "appeals",
         "external": "external"}
