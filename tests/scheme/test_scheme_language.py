"""Properties of the scheme language's constructs, over generated schemes and observations.

- no clause list ever earns more than its indicator's points, nor less than 0, while the
  indicator is bounded (the default); unbounded, the parent holds the loss;
- a veto that holds always forces its grade, whatever the points;
- a gate written with `>` and with `>=` differ exactly at the boundary;
- a leaf whose group does not apply to a unit is not reported as unobserved (W503);
- formulas: explain's arithmetic line reproduces the figure it shows.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gapctl.api import check, load_round, score
from gapctl.problems import NOT_OBSERVED
from tests.conftest import write_repo

SETTINGS = settings(deadline=None, derandomize=True, database=None, max_examples=60)
UNITS = "id: u\nname: 单位\nunits:\n  - {id: a, name: 甲, type: 部门}\n  - {id: b, name: 乙, type: 区县政府}\n"
ROUND = 'id = "r"\ntitle = "测试"\nunits = "u"\n[[schemes]]\nscheme = "s"\n'
GRADES = "grades:\n  - {label: 优秀, min: 90}\n  - {label: 合格, min: 60}\n  - {label: 不合格, min: 0}\n"


def _scored(tmp: Path, scheme: str, observations: dict[str, str]):
    files = {"schemes/s.yaml": scheme, "units/u.yaml": UNITS, "rounds/r/round.toml": ROUND}
    files.update({f"rounds/r/observations/{unit}.yaml": text for unit, text in observations.items()})
    write_repo(tmp, files)
    round_ = load_round(tmp / "rounds" / "r")
    return {s.unit.id: s for s in score(round_).units}


_amount = st.decimals(min_value=0, max_value=20, places=1)
_clause = st.tuples(st.sampled_from(["once", "each", "kind"]), _amount, st.booleans(),
                    st.integers(min_value=0, max_value=6), st.one_of(st.none(), _amount))


@SETTINGS
@given(points=st.integers(min_value=1, max_value=20), clauses=st.lists(_clause, min_size=1, max_size=5),
       bounds=st.sampled_from(["leaves", "top"]))
def test_clauses_never_leave_the_bounds_of_a_bounded_indicator(tmp_path_factory, points, clauses, bounds):
    tmp = tmp_path_factory.mktemp("clauses")
    lines, findings = [], []
    for i, (per, amount, earn, count, cap) in enumerate(clauses):
        verb = "earn" if earn else "deduct"
        value = f"{{k: {amount}}}" if per == "kind" else str(amount)
        extra = f", max: {cap}" if cap is not None else ""
        lines.append(f"            - {{id: c{i}, {verb}: {value}, per: {per}{extra}}}")
        found = {"once": "true" if count else "false", "each": str(count), "kind": f"{{k: {count}}}"}[per]
        findings.append(f"c{i}: {found}")
    scheme = (f"id: s\ntitle: 条款\nscoring: {{bounds: {bounds}}}\nindicators:\n  - id: '1'\n    name: 组\n"
              f"    points: {points}\n    children:\n      - id: '1.1'\n        name: 条款项\n"
              f"        points: {points}\n        rule:\n          kind: clauses\n          clauses:\n"
              + "\n".join(lines) + "\n")
    obs = f"unit: a\nresults:\n  - indicator: '1.1'\n    findings: {{{', '.join(findings)}}}\n    reason: 扣分\n"
    scored = _scored(tmp, scheme, {"a": obs})["a"]
    leaf, group = scored.leaves["1.1"], scored.node("1")
    if bounds == "leaves":
        assert Decimal(0) <= leaf.earned <= points
    assert Decimal(0) <= group.earned <= points  # whatever the leaf lost, its parent holds the bounds
    assert scored.total <= points


@SETTINGS
@given(leak=st.booleans(), grade=st.integers(min_value=0, max_value=100), bonus=st.booleans())
def test_a_veto_that_holds_always_forces_its_grade(tmp_path_factory, leak, grade, bonus):
    tmp = tmp_path_factory.mktemp("veto")
    scheme = ("id: s\ntitle: 否决\nindicators:\n  - id: '1'\n    name: 质量\n    points: 100\n"
              "    rule: {kind: expert-grade}\nbonus:\n  cap: 10\n  indicators:\n    - id: B\n      name: 加分\n"
              "      points: 10\n      rule: {kind: all-or-nothing}\n"
              "vetoes:\n  - {id: leak, name: 泄密, when: fact(泄密), grade: 不合格}\n" + GRADES)
    obs = (f"unit: a\nfacts: {{泄密: {'true' if leak else 'false'}}}\nresults:\n  - indicator: '1'\n"
           f"    grade: {grade}\n    reason: 扣分\n  - indicator: B\n    result: {'done' if bonus else 'not-done'}\n")
    scored = _scored(tmp, scheme, {"a": obs})["a"]
    if leak:
        assert scored.grade == "不合格" and [v.id for v in scored.vetoed] == ["leak"]
    else:
        assert not scored.vetoed
        assert scored.grade == ("优秀" if scored.total >= 90 else "合格" if scored.total >= 60 else "不合格")


@SETTINGS
@given(base=st.integers(min_value=80, max_value=90))
def test_strict_and_non_strict_gates_differ_exactly_at_the_boundary(tmp_path_factory, base):
    tmp = tmp_path_factory.mktemp("gate")
    totals = {}
    for op in (">", ">="):
        scheme = ("id: s\ntitle: 门槛\nindicators:\n  - id: '1'\n    name: 质量\n    points: 100\n"
                  f"    rule: {{kind: expert-grade}}\nbonus:\n  gate: 'base {op} 85'\n  indicators:\n"
                  "    - id: B\n      name: 加分\n      points: 3\n      rule: {kind: all-or-nothing}\n")
        obs = f"unit: a\nresults:\n  - indicator: '1'\n    grade: {base}\n    reason: 扣分\n" \
              "  - indicator: B\n    result: done\n"
        totals[op] = _scored(tmp / op.replace(">", "gt").replace("=", "e"), scheme, {"a": obs})["a"].total
    assert totals[">="] - totals[">"] == (3 if base == 85 else 0)
    assert totals[">="] == base + (3 if base >= 85 else 0)


def test_leaves_of_a_group_that_does_not_apply_are_not_unobserved(tmp_path):
    """W503 used to list leaves whose `applies_to` sits on their parent group."""
    scheme = ("id: s\ntitle: 适用\nindicators:\n  - id: '1'\n    name: 政府专属\n    points: 10\n"
              "    applies_to: {unit_types: [区县政府]}\n    children:\n      - id: '1.1'\n        name: 子项\n"
              "        points: 10\n        rule: {kind: all-or-nothing}\n  - id: '2'\n    name: 通用\n"
              "    points: 10\n    rule: {kind: all-or-nothing}\n")
    observations = {"a": "unit: a\nresults:\n  - indicator: '2'\n    result: done\n",
                    "b": "unit: b\nresults:\n  - indicator: '2'\n    result: done\n"}
    _scored(tmp_path, scheme, observations)
    problems = [p for p in check(tmp_path / "rounds" / "r").report.problems if p.kind is NOT_OBSERVED]
    assert [(p.src.stem, "1.1" in p.message) for p in problems] == [("b", True)]


def test_explain_reproduces_a_normalised_base_from_unrounded_operands(tmp_path):
    """76.0325 ÷ 85 × 100 = 89.45 → 89.5: the line shows the operands as they are, not as 76.03."""
    from gapctl.scoring.explain import computation_lines

    scheme = ("id: s\ntitle: 折算\nscoring: {normalise: applicable}\nindicators:\n  - id: '1'\n    name: 甲\n"
              "    points: 85\n    rule: {kind: expert-grade}\n  - id: '2'\n    name: 乙\n    points: 15\n"
              "    applies_to: {unit_types: [区县政府]}\n    rule: {kind: all-or-nothing}\n")
    obs = "unit: a\nresults:\n  - indicator: '1'\n    grade: 76.0325\n    reason: 扣分\n"
    scored = _scored(tmp_path, scheme, {"a": obs})["a"]
    assert scored.base == Decimal("89.5")
    base_line = next(line for line in computation_lines(scored, "zh") if line.startswith("基础得分"))
    assert "76.0325 ÷ 85 × 100 = 89.45 → 89.5" in base_line
